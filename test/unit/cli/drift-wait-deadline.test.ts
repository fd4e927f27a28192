import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AdminClient } from '../../../lib/cli/admin-client.js';
import { followUntilEnd } from '../../../lib/cli/execution-watch.js';
import { waitForDrift } from '../../../lib/cli/tenants-drift-command.js';

/**
 * `tessera tenants drift --detect --wait --interval N --timeout M` gave up once the next poll was due after the bound
 * (`now + N > deadline`, checked after each poll): with M < N after the first poll, and otherwise at the poll before the
 * bound, never polling at it, so a check recorded between that poll and the bound was reported as missing. The last poll
 * is now made at the bound (followUntilEnd's `deadline`). The clock is vitest's fake one: no real waiting, and the times
 * below are the fake clock's, not measured.
 */
const ARN = 'arn:aws:states:us-east-1:222222222222:execution:tessera-drift:drift-acme-20261205T0700';
const T0 = Date.parse('2026-12-05T07:00:01.000Z');
const started = { executionArn: ARN, startDate: new Date(T0).toISOString(), tenantId: 'acme' };
const notYet = { tenantId: 'acme', status: 'ACTIVE', drift: { status: 'IN_SYNC', checkedAt: '2026-12-04T07:00:00.000Z', resources: [] } };

/** An admin API whose tenant drift is recorded (a check after the start) from `checkedAfterMs` on; the times of its polls (ms from T0). */
function fakeApi(checkedAfterMs = Infinity) {
  const polls: number[] = [];
  const api = {
    call: async (_method: string, path: string) => {
      const at = Date.now() - T0;
      if (path === '/admin/drift') return { execution: { executionArn: ARN, status: 'RUNNING', startDate: started.startDate } };
      polls.push(at);
      return at >= checkedAfterMs ? { ...notYet, drift: { ...notYet.drift, checkedAt: new Date(T0 + at).toISOString() } } : notYet;
    },
  } as unknown as AdminClient;
  return { api, polls };
}

beforeEach(() => vi.useFakeTimers({ now: T0, toFake: ['Date', 'setTimeout', 'clearTimeout'] }));
afterEach(() => vi.useRealTimers());

/** Runs `wait` to its end on the fake clock; its result or its error. */
async function settle<R>(wait: Promise<R>): Promise<{ result?: R; error?: Error }> {
  const out = wait.then((result) => ({ result }), (error: Error) => ({ error }));
  await vi.runAllTimersAsync();
  return out;
}

describe('tenants drift --detect --wait: the last poll is at --timeout', () => {
  it('--timeout under --interval: polls at the start and at the bound, then gives up (it gave up after the first poll)', async () => {
    const { api, polls } = fakeApi();
    const { error } = await settle(waitForDrift(api, started, { intervalMs: 5_000, timeoutMs: 3_000 }));
    expect(polls).toEqual([0, 3_000]);
    expect(error?.message).toContain('has recorded no result for tenant acme within --timeout 3 s; its execution is still RUNNING');
  });

  it('a bound between two polls: the last wait is cut to end at it (polls 0, 2, 4, 5 s; it stopped at 4 s)', async () => {
    const { api, polls } = fakeApi();
    const { error } = await settle(waitForDrift(api, started, { intervalMs: 2_000, timeoutMs: 5_000 }));
    expect(polls).toEqual([0, 2_000, 4_000, 5_000]);
    expect(error?.message).toContain('within --timeout 5 s');
  });

  it('a check recorded by the bound is the result, read at the bound: it was reported as missing', async () => {
    const { api, polls } = fakeApi(4_500);
    const { result, error } = await settle(waitForDrift(api, started, { intervalMs: 2_000, timeoutMs: 5_000 }));
    expect(error).toBeUndefined();
    expect(polls).toEqual([0, 2_000, 4_000, 5_000]);
    expect(result).toMatchObject({ tenant: { tenantId: 'acme', drift: { checkedAt: new Date(T0 + 5_000).toISOString() } }, unchecked: [] });
  });

  it('a bound that is a whole number of intervals: no extra poll, none after it', async () => {
    const { api, polls } = fakeApi();
    await settle(waitForDrift(api, started, { intervalMs: 2_000, timeoutMs: 4_000 }));
    expect(polls).toEqual([0, 2_000, 4_000]);
  });
});

describe('followUntilEnd without a deadline (tenants watch, upgrade --watch)', () => {
  it('waits the whole interval between polls until the execution ends', async () => {
    const polls: number[] = [];
    const ended = await settle(followUntilEnd<number, string>({
      what: 'tenant acme', goesOn: () => 'it goes on', intervalMs: 2_000,
      poll: async () => { polls.push(Date.now() - T0); return polls.length; },
      answered: (n) => (n === 4 ? 'ended' : undefined),
    }));
    expect(ended.result).toBe('ended');
    expect(polls).toEqual([0, 2_000, 4_000, 6_000]);
  });
});
