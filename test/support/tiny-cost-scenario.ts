import { expect } from 'vitest';
import type { ModelEntry } from '../../lib/config/schema.js';
import { costOf } from '../../lambdas/inference/pipeline.js';
import { BudgetExhaustedError, type BudgetLimits, type GatewayStore, type Subject } from '../../lambdas/inference/stores/gateway-store.js';

// Requests cheaper than a micro-dollar (the stores' unit before nano-dollars), one scenario every
// GatewayStore must answer alike: MemoryStore and SharedMemoryStore
// (test/unit/inference/stores-model-usage.test.ts) and DynamoDbStore on moto
// (test/integration/usage-ledger-dynamodb.test.ts). In micro-dollars each request counted 0: the
// ledger and the budgets saw nothing, and a cost budget never refused.

const EMBED = 'openai/text-embedding-3-small';
/** text-embedding-3-small as the default catalog prices it (lib/config/default-config.ts): USD 0.00002 per 1,000 input tokens. */
const SMALL = { id: EMBED, inputPricePer1k: 0.00002, outputPricePer1k: 0 } as ModelEntry;
/** One 20-token input: USD 0.0000004 (4.0000000000000003e-7 in floats), priced as the pipeline prices it. */
export const TINY_USD = costOf(SMALL, 20, 0);

/**
 * `n` embedding requests of 20 tokens each on tenant `t`, reserved and settled as the pipeline
 * does (reserve the price, settle the usage), until a budget refuses one.
 * @returns how many were admitted, and the refusal that stopped them (undefined: none)
 */
async function embed(s: GatewayStore, n: number, now: Date, limits: BudgetLimits = {}, subject?: Subject): Promise<{ admitted: number; refusal?: BudgetExhaustedError }> {
  for (let i = 0; i < n; i++) {
    let r;
    try {
      r = await s.reserve('t', 20, TINY_USD, limits, now, subject);
    } catch (e) {
      if (e instanceof BudgetExhaustedError) return { admitted: i, refusal: e };
      throw e;
    }
    await s.settle(r, 20, TINY_USD, { model: EMBED, promptTokens: 20, completionTokens: 0, reported: true, estimatedTokens: 20 });
  }
  return { admitted: n };
}

/** 100 requests of USD 0.0000004 count USD 0.00004 in the ledger and the month (micro-dollars: 0). */
export async function expectTinyRequestsCounted(s: GatewayStore): Promise<void> {
  const now = new Date('2026-12-02T12:00:00Z');
  expect(TINY_USD).toBe(4.0000000000000003e-7);
  expect(await embed(s, 100, now)).toEqual({ admitted: 100 });
  expect(await s.modelUsage('t', '2026-12')).toEqual([
    { day: '2026-12-02', model: EMBED, requests: 100, promptTokens: 2000, completionTokens: 0, costUsd: 0.00004, reportedRequests: 100, reportedTokens: 2000, estimatedTokens: 2000 },
  ]);
  const usage = await s.usage('t', now);
  expect(usage.month).toEqual({ tokens: 2000, costUsd: 0.00004, requests: 100 });
  expect(usage.held?.month).toEqual({ tokens: 0, costUsd: 0 });
}

/**
 * A cost budget of USD 0.000002, the tenant's and then a key's: five requests of USD 0.0000004 use
 * it exactly, the sixth is refused (micro-dollars: never refused; floats: the fifth refused, as
 * 5 × 4.0000000000000003e-7 passes 0.000002).
 */
export async function expectTinyBudgetsRefuse(s: GatewayStore): Promise<void> {
  const january = new Date('2027-01-15T08:00:00Z');
  const tenant = await embed(s, 10, january, { monthCostUsd: 0.000002 });
  expect(tenant).toEqual({ admitted: 5, refusal: new BudgetExhaustedError('monthly cost budget', 0.000002, 'tenant') });
  expect((await s.usage('t', january)).month).toEqual({ tokens: 100, costUsd: 0.000002, requests: 5 });
  const february = new Date('2027-02-15T08:00:00Z');
  const key: Subject = { kind: 'key', id: 'key_00000000000000aa', limits: { monthlyCostUsd: 0.000002 } };
  const own = await embed(s, 10, february, { monthCostUsd: 1 }, key);
  expect(own).toEqual({ admitted: 5, refusal: new BudgetExhaustedError('monthly cost budget', 0.000002, 'key') });
  expect((await s.usage('t', february, key)).month).toEqual({ tokens: 100, costUsd: 0.000002, requests: 5 });
  expect(await s.modelUsage('t', '2027-02')).toMatchObject([{ requests: 5, costUsd: 0.000002 }]);
}
