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

  it('StatusChangeRequest refuses a reason a display name would refuse, one of white space only, and one not well-formed (a lone surrogate)', () => {
    // s31q: these passed before (only C0/C1 were refused): a bidi override reorders the rest of a `tenants show` history line
    // and of any consumer's rendering of the event, U+2028 breaks lines in JS-based viewers, "   " says nothing
    const cases = { blank: '   ', tabs: ' \u00a0 ', rlo: 'approved \u202Eyb ecnanif', isolate: 'a\u2066b', lineSeparator: 'a\u2028b', paragraph: 'a\u2029b', loneSurrogate: 'ticket \ud800', trailingHigh: 'x\udbff' };
    for (const [name, reason] of Object.entries(cases)) {
      const parsed = StatusChangeRequest.safeParse({ reason });
      expect([name, parsed.success, parsed.error?.issues[0].path]).toEqual([name, false, ['reason']]);
    }
    // what stays accepted: text in any script, emoji (a surrogate pair), a 500-character reason
    for (const reason of ['Zahlung offen — Ticket 4411', '請求書未払い', 'ok 👍', 'x'.repeat(500), ' padded ']) expect(StatusChangeRequest.safeParse({ reason }).success).toBe(true);
  });
});
