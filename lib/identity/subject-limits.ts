import { z } from 'zod';

/**
 * Limits of one user or one key, on top of the tenant's (same store, same transaction).
 * Each is optional: absent means only the tenant's limit applies.
 */
export const SubjectLimits = z.strictObject({
  requestsPerMinute: z.number().int().positive().optional(),
  tokensPerDay: z.number().int().positive().optional(),
  monthlyCostUsd: z.number().positive().optional(),
});
export type SubjectLimits = z.infer<typeof SubjectLimits>;

/**
 * The smallest cost budget a request may set, in USD: one micro-dollar, the unit the usage stores count
 * cost in (lambdas/inference/stores/model-usage.ts MICRO). A smaller budget rounds to 0 there and
 * refuses every priced request, and no threshold of it is ever alerted. Checked where budgets are
 * written (CostBudgetUsd), not where records are read: a record stored before the check stays readable.
 */
export const MIN_COST_BUDGET_USD = 0.000001;

/** A cost budget as a request sets it (USD, at least {@link MIN_COST_BUDGET_USD}). */
export const CostBudgetUsd = z.number().min(MIN_COST_BUDGET_USD, `must be at least ${MIN_COST_BUDGET_USD} (one micro-dollar): budgets are counted in micro-dollars, and a smaller one rounds to 0, which refuses every priced request`);

/** SubjectLimits as a request writes them: `monthlyCostUsd` at least {@link MIN_COST_BUDGET_USD}. */
export const SubjectLimitsRequest = SubjectLimits.extend({ monthlyCostUsd: CostBudgetUsd.optional() });
