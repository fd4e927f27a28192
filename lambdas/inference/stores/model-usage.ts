import type { ModelDayUsage, SettledUsage } from './gateway-store.js';

/** Costs are summed in micro-dollars (integers, added exactly) by every store, so all return the same `costUsd`. */
export const MICRO = 1_000_000;

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
 * What one settled request adds to its model-day row, costs in micro-dollars: one request, its
 * prompt and completion tokens and cost; when the provider reported the usage, one reported
 * request, its total tokens and the gateway's own count of the same request.
 */
export function ledgerDelta(usage: SettledUsage, costUsd: number) {
  const reported = usage.reported;
  return {
    requests: 1,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    costMicros: Math.round(costUsd * MICRO),
    reportedRequests: reported ? 1 : 0,
    reportedTokens: reported ? usage.promptTokens + usage.completionTokens : 0,
    estimatedTokens: reported ? usage.estimatedTokens : 0,
  };
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
