import { describe, expect, it } from 'vitest';
import { MAX_REASON_BYTES } from '../../../lambdas/lifecycle/catch-reason.js';
import { boundLeftBehind, MAX_LEFT_BEHIND, MAX_LEFT_BEHIND_BYTES, MAX_LEFT_BEHIND_ID_BYTES, MAX_LEFT_BEHIND_REASON_BYTES, recordedFailureReason } from '../../../lambdas/lifecycle/failure-bounds.js';

const ADVICE = 'DR stack tessera-acme-dr (us-west-2) is UPDATE_ROLLBACK_FAILED: aws cloudformation continue-update-rollback --stack-name tessera-acme-dr --region us-west-2';
const resources = (n: number) => Array.from({ length: n }, (_, i) => ({
  stack: 'tessera-acme', logicalId: `Logs${String(i).padStart(3, '0')}`, type: 'AWS::Logs::LogGroup', physicalId: `/tessera/acme/${'p'.repeat(60)}/${i}`, status: 'DELETE_SKIPPED', reason: `retained: ${'r'.repeat(200)}`,
}));

/**
 * The registry's failure reason is bounded (2,000 characters, as history reasons): with the left-behind list before the
 * notes, 25 listed resources filled the bound and cut the notes (the continue-update-rollback advice), which nothing
 * else in the registry keeps, while the list itself is kept whole in `failure.leftBehind`.
 */
describe('recordedFailureReason', () => {
  it('keeps the notes whole when the left-behind list fills the bound: the list is what is cut', () => {
    const reason = recordedFailureReason('StackFailed: stack tessera-acme is UPDATE_ROLLBACK_COMPLETE', [ADVICE], boundLeftBehind(resources(40) as never));
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(reason).toMatch(/^StackFailed: stack tessera-acme is UPDATE_ROLLBACK_COMPLETE; DR stack tessera-acme-dr/);
    expect(reason).toContain(ADVICE);
    expect(reason).toContain('left behind: Logs000');
  });

  it('says the error, the notes and what was left behind in that order when all fit', () => {
    expect(recordedFailureReason('StackFailed: x', ['a note'], boundLeftBehind(resources(1) as never))).toMatch(/^StackFailed: x; a note; left behind: Logs000 \(AWS::Logs::LogGroup\)/);
    expect(recordedFailureReason('StackFailed: x', [], boundLeftBehind([]))).toBe('StackFailed: x');
  });
});

describe('boundLeftBehind', () => {
  it('clips each resource\'s reason to MAX_LEFT_BEHIND_REASON_BYTES UTF-8 bytes (500 CJK characters were 1,500 bytes), on a character boundary', () => {
    const cjk = { ...resources(1)[0], reason: '削除をスキップ'.repeat(100) };
    const emoji = { ...resources(1)[0], logicalId: 'Logs001', reason: `a${'🔒'.repeat(400)}` };
    const ascii = { ...resources(1)[0], logicalId: 'Logs002', reason: 'r'.repeat(MAX_LEFT_BEHIND_REASON_BYTES) };
    const { leftBehind } = boundLeftBehind([cjk, emoji, ascii] as never);
    for (const r of leftBehind.slice(0, 2)) {
      expect(Buffer.byteLength(r.reason!)).toBeLessThanOrEqual(MAX_LEFT_BEHIND_REASON_BYTES);
      expect(r.reason).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
      expect(r.reason).toMatch(/ … \(\d+ characters; the rest is in the execution's history\)$/);
    }
    // within the bound: kept as it is
    expect(leftBehind[2].reason).toBe(ascii.reason);
  });
});

describe('boundLeftBehind: names and the list in bytes', () => {
  it('clips each name past MAX_LEFT_BEHIND_ID_BYTES (a resource type handler\'s 16 KB physical id) and keeps the list within MAX_LEFT_BEHIND_BYTES, counting the rest', () => {
    const long = Array.from({ length: 30 }, (_, i) => ({ ...resources(1)[0], logicalId: `Custom${i}`, physicalId: `${i}|${'識別子'.repeat(5_500)}` }));
    const { leftBehind, omitted } = boundLeftBehind(long as never);
    expect(leftBehind.length).toBeGreaterThan(0);
    expect(leftBehind.length + omitted).toBe(30);
    expect(leftBehind.map((r) => r.logicalId)).toEqual(long.slice(0, leftBehind.length).map((r) => r.logicalId));
    for (const r of leftBehind) {
      expect(Buffer.byteLength(r.physicalId!)).toBeLessThanOrEqual(MAX_LEFT_BEHIND_ID_BYTES);
      expect(r.physicalId).toMatch(new RegExp(` … \\(${long[0].physicalId.length + (r.logicalId.length - 7)} characters; the rest is in the stack's events\\)$`));
    }
    expect(Buffer.byteLength(JSON.stringify(leftBehind))).toBeLessThanOrEqual(MAX_LEFT_BEHIND_BYTES);
  });

  it('keeps ordinary names whole and 25 resources of them', () => {
    const { leftBehind, omitted } = boundLeftBehind(resources(40) as never);
    expect(leftBehind).toHaveLength(MAX_LEFT_BEHIND);
    expect(omitted).toBe(15);
    expect(leftBehind[3]).toEqual(resources(4)[3]);
  });

  it('always keeps the first resource, every name at its bound', () => {
    const huge = { stack: 's'.repeat(9_000), logicalId: 'L'.repeat(9_000), type: 'T'.repeat(9_000), physicalId: 'p'.repeat(9_000), status: 'DELETE_FAILED', reason: 'r'.repeat(9_000) };
    const { leftBehind, omitted } = boundLeftBehind([huge, huge] as never);
    expect(leftBehind.length).toBeGreaterThanOrEqual(1);
    expect(leftBehind.length + omitted).toBe(2);
    for (const name of ['stack', 'logicalId', 'type', 'physicalId'] as const) expect(Buffer.byteLength(leftBehind[0][name]!)).toBeLessThanOrEqual(MAX_LEFT_BEHIND_ID_BYTES);
  });
});
