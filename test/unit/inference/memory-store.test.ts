import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError } from '../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

const now = new Date('2026-11-23T10:15:30Z');

describe('embedded store semantics (shared with the DynamoDB store)', () => {
  it('counts requests per minute, hour and day and refuses past the first limit, counting nothing; an admission says each window\'s count with it', async () => {
    const s = new MemoryStore();
    const limits = { minute: 2, hour: 100, day: 1000 };
    expect(await s.countRequest('t', limits, now)).toEqual({ ok: true, counts: { minute: 1, hour: 1, day: 1 } });
    expect(await s.countRequest('t', limits, now)).toEqual({ ok: true, counts: { minute: 2, hour: 2, day: 2 } });
    expect(await s.countRequest('t', limits, now)).toEqual({ ok: false, window: 'minute', limit: 2, scope: 'tenant' });
    expect(await s.countRequest('t', limits, new Date('2026-11-23T10:16:00Z'))).toEqual({ ok: true, counts: { minute: 1, hour: 3, day: 3 } });
  });

  it('reserves against day, month and cost budgets all or nothing, and settles to the real usage', async () => {
    const s = new MemoryStore();
    const limits = { dayTokens: 100, monthTokens: 150, monthCostUsd: 1 };
    const r = await s.reserve('t', 80, 0.5, limits, now);
    expect(r.committed).toEqual({ day: 80, month: 80 }); // the tokens counted on the day and the month with it
    await expect(s.reserve('t', 30, 0.1, limits, now)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 100));
    await s.settle(r, 40, 0.2);
    expect(await s.usage('t', now)).toMatchObject({ day: { tokens: 40, costUsd: 0.2 }, month: { tokens: 40 } });
    await expect(s.reserve('t', 10, 0.81, limits, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 1));
    expect((await s.usage('t', now)).day.tokens).toBe(40);
  });
});
