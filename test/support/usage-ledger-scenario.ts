import { expect } from 'vitest';
import type { GatewayStore, ModelDayUsage } from '../../lambdas/inference/stores/gateway-store.js';

// The usage ledger by model and day (issue 16, item 3), one scenario every GatewayStore must
// answer alike: MemoryStore and SharedMemoryStore (test/unit/inference/stores-model-usage.test.ts)
// and DynamoDbStore on moto (test/integration/usage-ledger-dynamodb.test.ts).

export const LEDGER_TENANT = 't';
const MINI = 'openai/gpt-4o-mini';
const HAIKU = 'bedrock/anthropic.claude-3-haiku';
const day23 = new Date('2026-11-23T10:15:30Z');
const day24 = new Date('2026-11-24T00:00:00Z');
const october = new Date('2026-10-31T23:59:59Z');

/**
 * Settles, on tenant `t` unless said: on 23 November, gpt-4o-mini reported (100 + 20 tokens, the
 * gateway counted 118) and estimated (50 + 10), haiku answering for gpt-4o-mini as the fallback
 * (reported 200 + 40, counted 250), a released reservation (nothing produced: not in the ledger);
 * on 24 November gpt-4o-mini reported (10 + 5, counted 14); on 31 October gpt-4o-mini (another
 * month); and tenant `other`'s gpt-4o-mini.
 */
export async function settleLedgerScenario(s: GatewayStore): Promise<void> {
  const settle = async (tenant: string, now: Date, model: string, prompt: number, completion: number, costUsd: number, reported: boolean, estimatedTokens: number) => {
    // Reserved at the requested model's prices, settled at the answering model's: the ledger keeps the settle.
    const r = await s.reserve(tenant, 500, 0.01, {}, now, { kind: 'key', id: 'key_00000000000000aa' });
    await s.settle(r, prompt + completion, costUsd, { model, promptTokens: prompt, completionTokens: completion, reported, estimatedTokens });
  };
  await settle(LEDGER_TENANT, day23, MINI, 100, 20, 0.0012, true, 118);
  await settle(LEDGER_TENANT, day23, MINI, 50, 10, 0.0006, false, 60);
  await settle(LEDGER_TENANT, day23, HAIKU, 200, 40, 0.0021, true, 250);
  const released = await s.reserve(LEDGER_TENANT, 500, 0.01, {}, day23);
  await s.settle(released, 0, 0);
  await settle(LEDGER_TENANT, day24, MINI, 10, 5, 0.000015, true, 14);
  await settle(LEDGER_TENANT, october, MINI, 7, 3, 0.00001, true, 9);
  await settle('other', day23, MINI, 1000, 1000, 1, true, 2000);
}

/** The November ledger of tenant `t` after settleLedgerScenario, added up by hand; sorted by day, then model (`bedrock/…` before `openai/…`). */
export const NOVEMBER: ModelDayUsage[] = [
  { day: '2026-11-23', model: HAIKU, requests: 1, promptTokens: 200, completionTokens: 40, costUsd: 0.0021, reportedRequests: 1, reportedTokens: 240, estimatedTokens: 250 },
  // 100 + 50 prompt, 20 + 10 completion, 0.0012 + 0.0006 USD; only the first was reported: 120 tokens, 118 counted.
  { day: '2026-11-23', model: MINI, requests: 2, promptTokens: 150, completionTokens: 30, costUsd: 0.0018, reportedRequests: 1, reportedTokens: 120, estimatedTokens: 118 },
  { day: '2026-11-24', model: MINI, requests: 1, promptTokens: 10, completionTokens: 5, costUsd: 0.000015, reportedRequests: 1, reportedTokens: 15, estimatedTokens: 14 },
];

/** What every store must answer after settleLedgerScenario. */
export async function expectLedgerScenario(s: GatewayStore): Promise<void> {
  expect(await s.modelUsage(LEDGER_TENANT, '2026-11')).toEqual(NOVEMBER);
  expect(await s.modelUsage(LEDGER_TENANT, '2026-10')).toEqual([
    { day: '2026-10-31', model: MINI, requests: 1, promptTokens: 7, completionTokens: 3, costUsd: 0.00001, reportedRequests: 1, reportedTokens: 10, estimatedTokens: 9 },
  ]);
  expect(await s.modelUsage(LEDGER_TENANT, '2026-12')).toEqual([]);
  expect((await s.modelUsage('other', '2026-11')).map((r) => [r.day, r.model, r.requests, r.costUsd])).toEqual([['2026-11-23', MINI, 1, 1]]);
  // The ledger adds up to the tenant's month totals (the released reservation counted a request there, no tokens).
  const month = (await s.usage(LEDGER_TENANT, day23)).month;
  expect(month.tokens).toBe(NOVEMBER.reduce((n, r) => n + r.promptTokens + r.completionTokens, 0));
  expect(month.costUsd).toBeCloseTo(NOVEMBER.reduce((n, r) => n + r.costUsd, 0), 9);
  await expect(s.modelUsage(LEDGER_TENANT, '2026-13')).rejects.toThrow(/month must be YYYY-MM .*"2026-13"/);
}

/** `n` concurrent settles of one model-day (each 3 + 2 tokens, 0.000001 USD, reported, counted 6): the ledger must hold exactly `n`. */
export async function concurrentSettles(s: GatewayStore, n: number, tenant = LEDGER_TENANT): Promise<ModelDayUsage[]> {
  const now = new Date('2026-12-02T12:00:00Z');
  const reservations = await Promise.all(Array.from({ length: n }, () => s.reserve(tenant, 10, 0.00001, {}, now)));
  await Promise.all(reservations.map((r) => s.settle(r, 5, 0.000001, { model: MINI, promptTokens: 3, completionTokens: 2, reported: true, estimatedTokens: 6 })));
  return s.modelUsage(tenant, '2026-12');
}

export const concurrentExpected = (n: number): ModelDayUsage[] => [
  { day: '2026-12-02', model: MINI, requests: n, promptTokens: 3 * n, completionTokens: 2 * n, costUsd: n / 1_000_000, reportedRequests: n, reportedTokens: 5 * n, estimatedTokens: 6 * n },
];
