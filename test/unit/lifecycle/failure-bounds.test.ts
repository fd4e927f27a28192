import { describe, expect, it } from 'vitest';
import { MAX_REASON_CHARS } from '../../../lambdas/lifecycle/catch-reason.js';
import { boundLeftBehind, recordedFailureReason } from '../../../lambdas/lifecycle/failure-bounds.js';

const ADVICE = 'DR stack tessera-acme-dr (us-west-2) is UPDATE_ROLLBACK_FAILED: aws cloudformation continue-update-rollback --stack-name tessera-acme-dr --region us-west-2';
const resources = (n: number) => Array.from({ length: n }, (_, i) => ({
  stackName: 'tessera-acme', logicalId: `Logs${String(i).padStart(3, '0')}`, type: 'AWS::Logs::LogGroup', physicalId: `/tessera/acme/${'p'.repeat(60)}/${i}`, status: 'DELETE_SKIPPED', reason: `retained: ${'r'.repeat(200)}`,
}));

/**
 * The registry's failure reason is bounded (2,000 characters, as history reasons): with the left-behind list before the
 * notes, 25 listed resources filled the bound and cut the notes (the continue-update-rollback advice), which nothing
 * else in the registry keeps, while the list itself is kept whole in `failure.leftBehind`.
 */
describe('recordedFailureReason', () => {
  it('keeps the notes whole when the left-behind list fills the bound: the list is what is cut', () => {
    const reason = recordedFailureReason('StackFailed: stack tessera-acme is UPDATE_ROLLBACK_COMPLETE', [ADVICE], boundLeftBehind(resources(40) as never));
    expect(reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(reason).toMatch(/^StackFailed: stack tessera-acme is UPDATE_ROLLBACK_COMPLETE; DR stack tessera-acme-dr/);
    expect(reason).toContain(ADVICE);
    expect(reason).toContain('left behind: Logs000');
  });

  it('says the error, the notes and what was left behind in that order when all fit', () => {
    expect(recordedFailureReason('StackFailed: x', ['a note'], boundLeftBehind(resources(1) as never))).toMatch(/^StackFailed: x; a note; left behind: Logs000 \(AWS::Logs::LogGroup\)/);
    expect(recordedFailureReason('StackFailed: x', [], boundLeftBehind([]))).toBe('StackFailed: x');
  });
});
