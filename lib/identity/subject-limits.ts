import { z } from 'zod';

/**
 * Limits of one user or one key, on top of the tenant's (same store, same transaction).
 * Each is optional: absent means only the tenant's limit applies.
 */
export const SubjectLimits = z.strictObject({
  requestsPerMinute: z.number().int().positive().optional(),
  /** Tokens per UTC minute (OpenAI's TPM), counted as the tier's `tokensPerMinute` is (docs/gateway.md "Tokens per minute"). */
  tokensPerMinute: z.number().int().positive().optional(),
  tokensPerDay: z.number().int().positive().optional(),
  monthlyCostUsd: z.number().positive().optional(),
});
export type SubjectLimits = z.infer<typeof SubjectLimits>;

/**
 * The smallest cost budget a request may set, in USD: one nano-dollar, the unit the usage stores count
 * cost in (lambdas/inference/stores/model-usage.ts NANO). A smaller budget rounds to 0 there and
 * refuses every priced request, and no threshold of it is ever alerted. Checked where budgets are
 * written (CostBudgetUsd), not where records are read: a record stored before the check stays readable.
 */
export const MIN_COST_BUDGET_USD = 0.000000001;

/**
 * The largest cost budget a request may set, in USD: the stores count cost in integer nano-dollars,
 * exact in a JS number up to 2^53 - 1 (USD 9,007,199.25); a larger budget could not be compared
 * exactly (the AWS SDK refuses to send such a number in a condition).
 */
export const MAX_COST_BUDGET_USD = 9_000_000;

/** A cost budget as a request sets it (USD, {@link MIN_COST_BUDGET_USD} to {@link MAX_COST_BUDGET_USD}). */
export const CostBudgetUsd = z.number()
  .min(MIN_COST_BUDGET_USD, `must be at least ${MIN_COST_BUDGET_USD.toFixed(9)} (one nano-dollar): budgets are counted in nano-dollars, and a smaller one rounds to 0, which refuses every priced request`)
  .max(MAX_COST_BUDGET_USD, `must be at most ${MAX_COST_BUDGET_USD} (USD): budgets are counted in integer nano-dollars, exact up to 2^53 - 1 (about USD 9.007M)`);

/**
 * SubjectLimits as a request writes them: `monthlyCostUsd` at least {@link MIN_COST_BUDGET_USD}, and `tokensPerMinute` at
 * most `tokensPerDay` when both are set (as a tier's are: a minute cannot use more tokens than its day), an issue at
 * `tokensPerMinute` otherwise. Checked where limits are written, not where records are read.
 */
export const SubjectLimitsRequest = SubjectLimits.extend({ monthlyCostUsd: CostBudgetUsd.optional() }).superRefine((l, ctx) => {
  if (l.tokensPerMinute !== undefined && l.tokensPerDay !== undefined && l.tokensPerMinute > l.tokensPerDay) {
    ctx.addIssue({ code: 'custom', path: ['tokensPerMinute'], input: l.tokensPerMinute, message: `must be at most tokensPerDay (${l.tokensPerDay}): a minute cannot use more tokens than its day` });
  }
});
