import type { BudgetLimits, BudgetName, Subject } from '../stores/gateway-store.js';
import type { SubjectLimits } from '../../../lib/identity/subject-limits.js';
import { roundUsdToNano, toNanos } from '../stores/model-usage.js';

/** Detail type of the event put on the platform bus (source `tessera.lifecycle`) when a budget reaches a threshold. */
export const BUDGET_THRESHOLD_EVENT = 'Tenant Budget Threshold Reached';

/** Whose budget: the tenant's own, or one of its users' or keys'. */
export type BudgetScope = 'tenant' | Subject['kind'];

/**
 * One budget that alerts can watch: whose it is, what it counts (tokens or USD), over which period
 * (`day`: UTC day, `month`: UTC calendar month), and its limit.
 */
export interface WatchedBudget {
  scope: BudgetScope;
  /** The user's `sub` or the key's usage key id; absent for the tenant's own budgets. */
  subjectId?: string;
  /** Short id used in marker keys: `day-tokens`, `month-tokens`, `month-cost`. */
  id: 'day-tokens' | 'month-tokens' | 'month-cost';
  /** The name the 429s use (gateway-store.ts BudgetName). */
  name: BudgetName;
  unit: 'tokens' | 'USD';
  period: 'day' | 'month';
  limit: number;
}

/**
 * The budgets of a tenant (tier `limits.tokensPerDay` as `dayTokens`, the tenant policy's
 * `monthTokens` and `monthCostUsd`) and of the request's user or key (`tokensPerDay`,
 * `monthlyCostUsd`), leaving out the absent ones and those of 0 or less (nothing can be spent
 * against them, so there is nothing to warn about).
 */
export function watchedBudgets(tenant: BudgetLimits, subject?: Pick<Subject, 'kind' | 'id'> & { limits?: SubjectLimits }): WatchedBudget[] {
  const all: Array<WatchedBudget | undefined> = [
    budget('tenant', undefined, 'day-tokens', tenant.dayTokens),
    budget('tenant', undefined, 'month-tokens', tenant.monthTokens),
    budget('tenant', undefined, 'month-cost', tenant.monthCostUsd),
  ];
  if (subject) all.push(budget(subject.kind, subject.id, 'day-tokens', subject.limits?.tokensPerDay), budget(subject.kind, subject.id, 'month-cost', subject.limits?.monthlyCostUsd));
  return all.filter((b): b is WatchedBudget => b !== undefined);
}

const SHAPES = {
  'day-tokens': { name: 'daily token budget', unit: 'tokens', period: 'day' },
  'month-tokens': { name: 'monthly token budget', unit: 'tokens', period: 'month' },
  'month-cost': { name: 'monthly cost budget', unit: 'USD', period: 'month' },
} as const;

function budget(scope: BudgetScope, subjectId: string | undefined, id: WatchedBudget['id'], limit: number | undefined): WatchedBudget | undefined {
  if (limit === undefined || !(limit > 0)) return undefined;
  return { scope, ...(subjectId !== undefined ? { subjectId } : {}), id, ...SHAPES[id], limit };
}

/**
 * Whether `used` reaches `percent` of `limit`: `used × 100 >= limit × percent`. USD compare in
 * integer nano-dollars (the unit the gateway's stores count cost in, model-usage.ts toNanos):
 * numbers while the products are exact (below 2^53: amounts up to about USD 90,000), BigInts past
 * that (a USD 9M budget is 9e15 nano-dollars; BigInts always: 287 ms for 1e6 crossedThresholds, 42 ms so). In floats,
 * 80% of a USD 0.11 budget (`0.11 × 80` = 8.8) was not reached by usage of exactly USD 0.088
 * (`0.088 × 100` = 8.799999999999999). Tokens compare as they are.
 */
function reaches(used: number, limit: number, percent: number, unit: WatchedBudget['unit']): boolean {
  if (unit !== 'USD') return used * 100 >= limit * percent;
  const u = toNanos(used);
  const l = toNanos(limit);
  if (Math.max(u, l) * 100 <= Number.MAX_SAFE_INTEGER) return u * 100 >= l * percent;
  return BigInt(u) * 100n >= BigInt(l) * BigInt(percent);
}

/**
 * The thresholds (percent of `limit`) that `used` has reached: `used >= limit × p / 100`, in the
 * order given, compared in integers (`reaches`: tokens, or nano-dollars for `USD`; percents are
 * whole). None when the limit is 0 or less.
 */
export function thresholdsReached(used: number, limit: number, thresholdsPercent: readonly number[], unit: WatchedBudget['unit'] = 'tokens'): number[] {
  if (!(limit > 0)) return [];
  return thresholdsPercent.filter((p) => reaches(used, limit, p, unit));
}

/**
 * The thresholds a usage moving from `before` to `after` crosses: reached at `after` and not at
 * `before` (several at once when one step passes more than one). None when usage went down, the
 * limit is 0 or less, or no threshold lies in between. Compared in integers as thresholdsReached.
 */
export function crossedThresholds(before: number, after: number, limit: number, thresholdsPercent: readonly number[], unit: WatchedBudget['unit'] = 'tokens'): number[] {
  const crossed: number[] = [];
  if (!(limit > 0)) return crossed;
  // thresholdsReached(after) less thresholdsReached(before), without building either (checked after every settle).
  for (const p of thresholdsPercent) if (reaches(after, limit, p, unit) && !reaches(before, limit, p, unit)) crossed.push(p);
  return crossed;
}

/** The budget's current period: `2026-12-01` (day) or `2026-12` (month), as the usage items name them. */
export function periodOf(b: Pick<WatchedBudget, 'period'>, periods: { day: string; month: string }): string {
  return b.period === 'day' ? periods.day : periods.month;
}

/** When a period (`YYYY-MM-DD` or `YYYY-MM`, UTC) ends: the first instant of the next one. */
export function periodEnd(period: string): Date {
  if (period.length === 10) return new Date(Date.parse(`${period}T00:00:00Z`) + 86_400_000);
  const [y, m] = period.split('-').map(Number);
  return new Date(Date.UTC(y!, m!, 1));
}

/**
 * The marker of one threshold of one budget in one period, an item id of the gateway's usage
 * table under the tenant's own prefix (`usage#<tenant>#`, which the tenant-data role's
 * `dynamodb:LeadingKeys` admits; `alert#` starts with a letter, so it is no tenant period, and it
 * is no subject kind): `usage#acme#alert#tenant#day-tokens#2026-12-01#100000#80`,
 * `usage#acme#alert#key#key_0123456789abcdef#month-cost#2026-12#25#100`. The limit is part of it:
 * a budget raised (or lowered) within its period is a new budget whose thresholds alert again,
 * so reaching the new 100% is never silent. The subject id is the store's (`storedId`: SHA-256 of
 * ids over 256 characters); budget id, period, limit and percent sit at fixed places from the end,
 * so a subject id holding `#` cannot make two markers equal.
 */
export function markerId(tenantId: string, b: Pick<WatchedBudget, 'scope' | 'subjectId' | 'id' | 'limit'>, period: string, percent: number, storedId: (id: string) => string = (id) => id): string {
  const whose = b.scope === 'tenant' ? 'tenant' : `${b.scope}#${storedId(b.subjectId!)}`;
  return `usage#${tenantId}#alert#${whose}#${b.id}#${period}#${b.limit}#${percent}`;
}

/**
 * The detail of a `Tenant Budget Threshold Reached` event. Like the other lifecycle events
 * (lambdas/identity/identity-events.ts, SBT's detail with `tenantId` first), it names the tenant
 * and its tier; then whose budget (`scope`, and `subjectId` with `userId` or `keyId` for a user's
 * or key's), which budget, the threshold, the limit, the usage seen when it was reached, and the
 * period.
 */
export interface BudgetThresholdDetail {
  tenantId: string;
  tier: string;
  scope: BudgetScope;
  subjectId?: string;
  userId?: string;
  keyId?: string;
  /** `day-tokens`, `month-tokens` or `month-cost`. */
  budgetId: WatchedBudget['id'];
  budget: BudgetName;
  unit: WatchedBudget['unit'];
  /** The threshold reached, percent of the limit (tier `budgetAlerts.thresholdsPercent`). */
  thresholdPercent: number;
  /** The budget's limit, in `unit`. */
  limit: number;
  /** The usage (tokens, or USD) read after the settle that reached the threshold; may be past it when requests ran concurrently. */
  used: number;
  /** `used` as percent of `limit`, to two decimals. */
  usedPercent: number;
  /** `day` or `month` (UTC). */
  period: WatchedBudget['period'];
  /** `2026-12-01` or `2026-12`. */
  periodId: string;
  /** ISO-8601 instant the period ends (the budget resets). */
  periodEndsAt: string;
  /** ISO-8601 instant the threshold was seen reached. */
  at: string;
}

/** The event detail for threshold `percent` of `b`, reached at `used` in `period`. */
export function thresholdDetail(tenantId: string, tier: string, b: WatchedBudget, percent: number, used: number, period: string, at: Date): BudgetThresholdDetail {
  const who = b.scope === 'tenant' ? {} : { subjectId: b.subjectId, ...(b.scope === 'user' ? { userId: b.subjectId } : { keyId: b.subjectId }) };
  return {
    tenantId, tier, scope: b.scope, ...who, budgetId: b.id, budget: b.name, unit: b.unit, thresholdPercent: percent, limit: b.limit,
    used: b.unit === 'USD' ? roundUsdToNano(used) : used, usedPercent: Math.round((used / b.limit) * 10_000) / 100,
    period: b.period, periodId: period, periodEndsAt: periodEnd(period).toISOString(), at: at.toISOString(),
  };
}
