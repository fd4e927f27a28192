import { describe, expect, it } from 'vitest';
import { LifecycleExecution, requestedBy, StatusChangeRequest } from '../../../lib/tenant-record.js';

describe('the history entry\'s actor and requestReason (lib/tenant-record.ts LifecycleExecution)', () => {
  it('an entry recorded before them (no actor, no requestReason) still parses, and its event carries neither', () => {
    const old = { kind: 'suspend', requestId: 'cli-1', executionArn: 'arn:s', startedAt: 't', endedAt: 't', status: 'SUCCEEDED' };
    expect(LifecycleExecution.parse(old)).toEqual(old);
    expect(requestedBy({ executions: [LifecycleExecution.parse(old)] }, 'arn:s')).toEqual({});
  });

  it('keeps both, apart from the failure reason; requestedBy gives the entry of the execution asked for', () => {
    const entry = LifecycleExecution.parse({ kind: 'offboard', requestId: 'ops-off-1', executionArn: 'arn:o', startedAt: 't', status: 'FAILED', reason: 'ExportIncomplete: …', actor: 'admin:arn:aws:iam::111111111111:user/ops', requestReason: 'contract ended' });
    expect(entry).toMatchObject({ reason: 'ExportIncomplete: …', actor: 'admin:arn:aws:iam::111111111111:user/ops', requestReason: 'contract ended' });
    expect(requestedBy({ executions: [entry] }, 'arn:o')).toEqual({ actor: 'admin:arn:aws:iam::111111111111:user/ops', reason: 'contract ended' });
    expect(requestedBy({ executions: [entry] }, 'arn:other')).toEqual({});
  });

  it('StatusChangeRequest: none or a reason of 1-500 characters without control characters; nothing else', () => {
    expect(StatusChangeRequest.safeParse({}).success).toBe(true);
    expect(StatusChangeRequest.safeParse({ reason: 'invoice unpaid' }).success).toBe(true);
    for (const bad of [{ reason: '' }, { reason: 'a\u0007b' }, { reason: 'x'.repeat(501) }, { actor: 'admin:me' }]) expect(StatusChangeRequest.safeParse(bad).success).toBe(false);
  });
});
