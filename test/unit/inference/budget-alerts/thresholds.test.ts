import { describe, expect, it } from 'vitest';
import {
  crossedThresholds, markerId, periodEnd, thresholdDetail, thresholdsReached, watchedBudgets,
} from '../../../../lambdas/inference/budget-alerts/thresholds.js';
import { storedSubjectId } from '../../../../lambdas/inference/stores/dynamodb-store.js';

const T = [50, 80, 100];

describe('budget thresholds: which a usage reaches and which a step crosses', () => {
  it.each([
    // before, after, limit, crossed
    [0, 499, 1000, []],
    [0, 500, 1000, [50]], // exactly 50% reaches it
    [499, 500, 1000, [50]],
    [500, 799, 1000, []], // 50 was reached before
    [790, 800, 1000, [80]],
    [0, 1000, 1000, [50, 80, 100]], // one step past several thresholds
    [600, 1200, 1000, [80, 100]], // past the limit (a settle larger than its reservation)
    [900, 800, 1000, []], // usage went down (a released reservation)
    [0, 800, 0, []], // a limit of 0: nothing can be spent, no alert
    [0, 800, -5, []],
  ])('%d → %d of %d crosses %j', (before, after, limit, crossed) => {
    expect(crossedThresholds(before, after, limit, T)).toEqual(crossed);
  });

  it('compares without float drift: 80% of a USD 0.3 budget is reached at 0.24', () => {
    expect(thresholdsReached(0.24, 0.3, T)).toEqual([50, 80]);
    expect(thresholdsReached(0.1 + 0.2, 0.3, T)).toEqual([50, 80, 100]); // 0.30000000000000004
  });

  it('USD budgets compare in integer nano-dollars: 80% of USD 0.11 is reached at exactly USD 0.088 (0.088 × 100 = 8.799999999999999 in floats)', () => {
    // Four 20-token embeddings (USD 0.0000004 each) of a USD 0.000002 budget are 80%, not 100% (micro-dollars rounded 0.0000016 to 0.000002).
    expect(thresholdsReached(0.0000016, 0.000002, T, 'USD')).toEqual([50, 80]);
    expect(crossedThresholds(0.0000012, 0.0000016, 0.000002, T, 'USD')).toEqual([80]);
    // A USD 9M budget: 9e15 nano-dollars, times 100 past 2^53; compared exactly all the same.
    expect(thresholdsReached(7_200_000, 9_000_000, T, 'USD')).toEqual([50, 80]);
    expect(thresholdsReached(7_199_999.999999, 9_000_000, T, 'USD')).toEqual([50]);
    expect(thresholdsReached(0.088, 0.11, T, 'USD')).toEqual([50, 80]);
    expect(crossedThresholds(0.087999, 0.088, 0.11, T, 'USD')).toEqual([80]);
    expect(crossedThresholds(0, 0.087999, 0.11, T, 'USD')).toEqual([50]); // one micro-dollar short
    expect(crossedThresholds(0, 0.087999999, 0.11, T, 'USD')).toEqual([50]); // one nano-dollar short
    expect(crossedThresholds(0.088, 0.11, 0.11, T, 'USD')).toEqual([100]);
  });

  it('a tier with other thresholds, or none', () => {
    expect(crossedThresholds(0, 950, 1000, [25, 90, 95])).toEqual([25, 90, 95]);
    expect(crossedThresholds(0, 950, 1000, [])).toEqual([]);
  });
});

describe('watched budgets', () => {
  it('the tenant\'s three and the key\'s two, leaving out absent and 0 limits', () => {
    const budgets = watchedBudgets({ dayTokens: 1000, monthTokens: undefined, monthCostUsd: 25 }, { kind: 'key', id: 'key_0123456789abcdef', limits: { tokensPerDay: 0 as never, monthlyCostUsd: 5, requestsPerMinute: 3 } });
    expect(budgets).toEqual([
      { scope: 'tenant', id: 'day-tokens', name: 'daily token budget', unit: 'tokens', period: 'day', limit: 1000 },
      { scope: 'tenant', id: 'month-cost', name: 'monthly cost budget', unit: 'USD', period: 'month', limit: 25 },
      { scope: 'key', subjectId: 'key_0123456789abcdef', id: 'month-cost', name: 'monthly cost budget', unit: 'USD', period: 'month', limit: 5 },
    ]);
  });

  it('no budget at all: nothing to watch', () => {
    expect(watchedBudgets({}, { kind: 'user', id: 'u-1' })).toEqual([]);
  });
});

describe('marker keys', () => {
  const day = { scope: 'tenant' as const, id: 'day-tokens' as const, limit: 100000 };
  it('one per tenant, scope, subject, budget, period and threshold, under the tenant\'s usage prefix', () => {
    expect(markerId('acme', day, '2026-12-01', 80)).toBe('usage#acme#alert#tenant#day-tokens#2026-12-01#100000#80');
    expect(markerId('acme', { scope: 'key', subjectId: 'key_0123456789abcdef', id: 'month-cost', limit: 25 }, '2026-12', 100)).toBe('usage#acme#alert#key#key_0123456789abcdef#month-cost#2026-12#25#100');
    expect(markerId('acme', { scope: 'user', subjectId: '3f1c-sub', id: 'day-tokens', limit: 5000 }, '2026-12-01', 50)).toBe('usage#acme#alert#user#3f1c-sub#day-tokens#2026-12-01#5000#50');
  });

  it('differ whenever any part differs, and a tenant id that is another\'s prefix stays apart', () => {
    const ids = new Set([
      markerId('acme', day, '2026-12-01', 80), markerId('acme', day, '2026-12-01', 50), markerId('acme', day, '2026-12-02', 80),
      markerId('acme-2', day, '2026-12-01', 80), markerId('acme', { scope: 'user', subjectId: 'tenant', id: 'day-tokens', limit: 100000 }, '2026-12-01', 80),
      markerId('acme', { scope: 'key', subjectId: 'tenant', id: 'day-tokens', limit: 100000 }, '2026-12-01', 80),
      markerId('acme', { ...day, limit: 200000 }, '2026-12-01', 80), // the budget raised within its period
    ]);
    expect(ids.size).toBe(7);
    for (const id of ids) expect(id.startsWith('usage#acme#') || id.startsWith('usage#acme-2#')).toBe(true);
  });

  it('a subject id over 256 characters is kept by its SHA-256, as the store keeps it', () => {
    const long = 'x'.repeat(300);
    const id = markerId('acme', { scope: 'user', subjectId: long, id: 'day-tokens', limit: 5000 }, '2026-12-01', 80, storedSubjectId);
    expect(id).toBe(`usage#acme#alert#user#${storedSubjectId(long)}#day-tokens#2026-12-01#5000#80`);
    expect(id.length).toBeLessThan(120);
  });
});

describe('periods and the event detail', () => {
  it('a day ends at the next midnight UTC, a month at the first of the next (December into January)', () => {
    expect(periodEnd('2026-12-31').toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(periodEnd('2026-12').toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(periodEnd('2028-02').toISOString()).toBe('2028-03-01T00:00:00.000Z');
  });

  it('names tenant, tier, whose budget, the threshold, the limit and usage, and the period', () => {
    const [key] = watchedBudgets({}, { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 5 } });
    expect(thresholdDetail('acme', 'starter', key!, 80, 4.0000000004, '2026-12', new Date('2026-12-14T09:30:00Z'))).toEqual({
      tenantId: 'acme', tier: 'starter', scope: 'key', subjectId: 'key_0123456789abcdef', keyId: 'key_0123456789abcdef',
      budgetId: 'month-cost', budget: 'monthly cost budget', unit: 'USD', thresholdPercent: 80, limit: 5, used: 4, usedPercent: 80,
      period: 'month', periodId: '2026-12', periodEndsAt: '2027-01-01T00:00:00.000Z', at: '2026-12-14T09:30:00.000Z',
    });
  });
});
