import type { ModelDayUsage, SettledUsage } from './gateway-store.js';

/**
 * Costs are counted in nano-dollars (1e-9 USD, integers, added exactly) by every store, so all
 * return the same `costUsd`. Why nano-dollars: the catalog prices models in USD per 1,000 tokens,
 * and a non-zero price is at least 0.000001 (lib/config/schema.ts MIN_PRICE_PER_1K: one nano-dollar a
 * token), so every priced request of at least one token counts at least one nano-dollar, and a
 * price of the catalog's resolution (0.000001 per 1,000, i.e. USD 0.001 per 1M tokens) counts
 * exactly; other prices are off by at most half a nano-dollar a request (text-embedding-3-small,
 * USD 0.00002 per 1,000: 20 nano-dollars a token, exact). Micro-dollars (the unit before) made a
 * 20-token embedding (USD 0.0000004) cost 0. Bound: JS integers are exact to 2^53 - 1, i.e.
 * USD 9,007,199 per counter in nano-dollars; DynamoDB itself keeps 38 digits. A cost budget is at
 * most USD 9,000,000 where it is written (lib/identity/subject-limits.ts MAX_COST_BUDGET_USD), and a
 * budget's condition is capped at 2^53 - 1 (dynamodb-store.ts budgetCheck): the AWS SDK refuses to
 * write a larger number (util-dynamodb: "greater than Number.MAX_SAFE_INTEGER"). A counter past it
 * (a month of more than USD 9M, without a budget) is read as a BigInt, which the stores turn into
 * the nearest number: within a few nano-dollars (measured: "50000000000000000" unmarshalls to 50000000000000000n).
 */
export const NANO = 1_000_000_000;
/**
 * Nano-dollars in one micro-dollar: items written before nano-dollars count cost in micro-dollars
 * (`costMicros`, `heldMicros`); readers add those in times this (legacyNanos).
 */
export const NANOS_PER_MICRO = 1_000;
/** USD → integer nano-dollars (rounded to the nearest; a cost is never below 0). */
export const toNanos = (usd: number): number => Math.round(usd * NANO);
/** Integer nano-dollars → USD. */
export const fromNanos = (nanos: number): number => nanos / NANO;
/**
 * USD rounded to the nano-dollar (9 decimals), the unit the stores count in, as answers show it: no
 * float tail (`0.000123`, not `0.00012300000000000001`), and a 20-token embedding's USD 0.0000004 stays
 * 4e-7 (JSON's notation), where micro-dollars made it 0. `-0` is 0.
 */
export const roundUsdToNano = (usd: number): number => fromNanos(toNanos(usd)) || 0;
/**
 * An item's cost in nano-dollars from its nano-dollar attribute and its micro-dollar attribute of
 * before (either may be absent: 0), e.g. `costNanos` and `costMicros`.
 */
export const legacyNanos = (item: Record<string, unknown> | undefined, nanos: string, micros: string): number =>
  Number(item?.[nanos] ?? 0) + Number(item?.[micros] ?? 0) * NANOS_PER_MICRO;

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * Checks a ledger month.
 * @throws RangeError naming `month` and its value when it is not `YYYY-MM`
 */
export function checkMonth(month: string): void {
  if (typeof month !== 'string' || !MONTH.test(month)) throw new RangeError(`month must be YYYY-MM (e.g. 2026-11), got ${JSON.stringify(month)}`);
}

/** A ledger row with nothing counted yet. */
export const emptyModelDay = (day: string, model: string): ModelDayUsage => ({
  day, model, requests: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, reportedRequests: 0, reportedTokens: 0, estimatedTokens: 0,
});

/**
 * What one settled request adds to its model-day row, costs in nano-dollars: one request, its
 * prompt and completion tokens and cost; when the provider reported the usage, one reported
 * request, its total tokens and the gateway's own count of the same request; the prompt's cache
 * reads and writes (0 when none: part of the prompt tokens, not added to them).
 */
export function ledgerDelta(usage: SettledUsage, costUsd: number) {
  const reported = usage.reported;
  return {
    requests: 1,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    costNanos: toNanos(costUsd),
    reportedRequests: reported ? 1 : 0,
    reportedTokens: reported ? usage.promptTokens + usage.completionTokens : 0,
    estimatedTokens: reported ? usage.estimatedTokens : 0,
    cachedTokens: usage.cachedTokens ?? 0,
    cacheWriteTokens: usage.cacheWriteTokens ?? 0,
  };
}

/** The ledger row's prompt-cache counters, kept on a row only when non-zero (ModelDayUsage: absent is 0, as in rows of before). */
export const CACHE_COUNTERS = ['cachedTokens', 'cacheWriteTokens'] as const;

/**
 * A ledger row with its cache counters added when non-zero (a row without cache tokens keeps the shape it had before
 * they were counted).
 */
export function withCacheCounters<T extends object>(row: T, counts: { cachedTokens?: number; cacheWriteTokens?: number }): T & { cachedTokens?: number; cacheWriteTokens?: number } {
  const out: T & { cachedTokens?: number; cacheWriteTokens?: number } = { ...row };
  for (const k of CACHE_COUNTERS) if ((counts[k] ?? 0) > 0) out[k] = counts[k];
  return out;
}

/** Sorts ledger rows by day, then model (the order `modelUsage` returns). */
export const byDayThenModel = (a: ModelDayUsage, b: ModelDayUsage) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.model < b.model ? -1 : a.model > b.model ? 1 : 0);

/**
 * The usage table's index of the ledger (constructs/inference-api.ts adds it; tests create it
 * alike): partition `ledgerMonth` = `usage#<tenant>#model#<YYYY-MM>`, sort `ledgerDay` =
 * `<YYYY-MM-DD>#<model>`. Only ledger items carry these attributes (a sparse index), so a
 * tenant's month is one Query of one partition. The partition starts `usage#<tenant>#`, the
 * tenant-data role's `dynamodb:LeadingKeys` pattern, which IAM applies to an index's partition key.
 */
export const MODEL_USAGE_INDEX = { name: 'model-usage', partitionKey: 'ledgerMonth', sortKey: 'ledgerDay' } as const;
