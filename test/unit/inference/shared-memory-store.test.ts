import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { BudgetExhaustedError } from '../../../lambdas/inference/stores/gateway-store.js';
import { SharedMemoryStore } from '../../../lambdas/inference/stores/shared-memory-store.js';

const now = new Date('2026-11-23T10:15:30Z');
const tenants = [localTenant('other', 'enterprise'), localTenant('t', 'enterprise')];
const store = () => new SharedMemoryStore(SharedMemoryStore.allocate(tenants.length), tenants);

describe('the store shared by serve\'s worker threads: the embedded store\'s semantics', () => {
  it('counts requests per minute, hour and day and refuses past the first limit, counting nothing', async () => {
    const s = store();
    const limits = { minute: 2, hour: 3, day: 1000 };
    expect(await s.countRequest('t', limits, now)).toEqual({ ok: true, counts: { minute: 1, hour: 1, day: 1 } });
    expect(await s.countRequest('t', limits, now)).toEqual({ ok: true, counts: { minute: 2, hour: 2, day: 2 } });
    expect(await s.countRequest('t', limits, now)).toEqual({ ok: false, window: 'minute', limit: 2, scope: 'tenant' });
    expect(await s.countRequest('t', limits, new Date('2026-11-23T10:16:00Z'))).toEqual({ ok: true, counts: { minute: 1, hour: 3, day: 3 } });
    expect(await s.countRequest('t', limits, new Date('2026-11-23T10:17:00Z'))).toEqual({ ok: false, window: 'hour', limit: 3, scope: 'tenant' });
    expect(await s.countRequest('other', limits, now)).toEqual({ ok: true, counts: { minute: 1, hour: 1, day: 1 } });
  });

  it('reserves against day, month and cost budgets all or nothing, and settles to the real usage', async () => {
    const s = store();
    const limits = { dayTokens: 100, monthTokens: 150, monthCostUsd: 1 };
    const r = await s.reserve('t', 80, 0.5, limits, now);
    expect(r.committed).toEqual({ day: 80, month: 80 }); // the tokens counted on the day and the month with it
    await expect(s.reserve('t', 30, 0.1, limits, now)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 100));
    await s.settle(r, 40, 0.2);
    expect(await s.usage('t', now)).toMatchObject({ day: { tokens: 40, costUsd: 0.2, requests: 1 }, month: { tokens: 40 } });
    await expect(s.reserve('t', 10, 0.81, limits, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 1));
    expect((await s.usage('other', now)).day.tokens).toBe(0);
  });

  it('starts a new day, and settles a reservation of the day before into that day', async () => {
    const s = store();
    const r = await s.reserve('t', 50, 0, {}, now);
    const tomorrow = new Date('2026-11-24T00:00:01Z');
    await s.reserve('t', 10, 0, {}, tomorrow);
    await s.settle(r, 20, 0);
    expect((await s.usage('t', now)).day.tokens).toBe(20);
    expect((await s.usage('t', tomorrow)).day.tokens).toBe(10);
    expect((await s.usage('t', tomorrow)).month.tokens).toBe(30);
  });

  it('is exact across threads: 4 threads racing 100 reservations each against a budget for 37 admit exactly 37', async () => {
    const buffer = SharedMemoryStore.allocate(tenants.length);
    const run = () => new Promise<number>((resolve, reject) => {
      const w = new Worker(new URL('../../support/shared-store-worker.ts', import.meta.url), {
        workerData: { buffer, tenants, attempts: 100, tokens: 10, limits: { monthTokens: 370 }, at: now.toISOString() }, execArgv: ['--import', 'tsx'],
      });
      w.once('message', resolve);
      w.once('error', reject);
    });
    const admitted = await Promise.all([run(), run(), run(), run()]);
    expect(admitted.reduce((a, b) => a + b, 0)).toBe(37);
    expect((await new SharedMemoryStore(buffer, tenants).usage('t', now)).month).toMatchObject({ tokens: 370, requests: 37 });
  });
});
