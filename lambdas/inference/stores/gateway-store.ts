import type { SubjectLimits } from '../../../lib/identity/subject-limits.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';

/**
 * What the gateway keeps between requests: tenant records (read), request counters and budgets.
 * One interface, two implementations with one semantics: in memory (`tessera serve`, no AWS) and
 * DynamoDB (Lambda; conditional writes make it exact across concurrent invocations).
 */
export interface BudgetLimits {
  /** Tokens per day (tier) and per month (tenant policy). */
  dayTokens?: number;
  monthTokens?: number;
  monthCostUsd?: number;
}

/** Whose limit ran out: the tenant's, the calling user's or the calling key's. */
export type LimitScope = 'tenant' | 'user' | 'key';

/**
 * Who inside the tenant a request counts for: a user (JWT `sub`) or an API key (`key_…`). Its
 * usage is kept beside the tenant's, and its limits (when any) checked in the same transaction.
 */
export interface Subject {
  kind: 'user' | 'key';
  id: string;
  limits?: SubjectLimits;
}

export interface Reservation {
  readonly tenantId: string;
  /** The user or key the reservation also counts for. */
  readonly subject?: { kind: Subject['kind']; id: string };
  readonly day: string;
  readonly month: string;
  readonly tokens: number;
  readonly costUsd: number;
}

export interface UsageSummary {
  day: { tokens: number; costUsd: number; requests: number };
  month: { tokens: number; costUsd: number; requests: number };
}

export class BudgetExhaustedError extends Error {
  constructor(readonly budget: 'daily token budget' | 'monthly token budget' | 'monthly cost budget', readonly limit: number, readonly scope: LimitScope = 'tenant') {
    super(`${scope} ${budget} exhausted`);
  }
}

export interface GatewayStore {
  getTenant(tenantId: string): Promise<TenantRecord | undefined>;
  /** Counts a request in the current minute/hour/day windows; false (and nothing counted) past a limit. */
  countRequest(tenantId: string, limits: { minute: number; hour: number; day: number }, now: Date): Promise<{ ok: true } | { ok: false; window: 'minute' | 'hour' | 'day'; limit: number }>;
  /** Reserves tokens and cost against every budget, all or nothing; throws BudgetExhaustedError naming the budget. */
  reserve(tenantId: string, tokens: number, costUsd: number, limits: BudgetLimits, now: Date): Promise<Reservation>;
  /** Replaces a reservation by what was actually used (which may be less, or, if the estimate was short, more). */
  settle(reservation: Reservation, tokens: number, costUsd: number): Promise<void>;
  usage(tenantId: string, now: Date): Promise<UsageSummary>;
}

export const periods = (now: Date) => {
  const iso = now.toISOString();
  return { day: iso.slice(0, 10), month: iso.slice(0, 7) };
};
export const windows = (now: Date) => {
  const iso = now.toISOString();
  return { minute: iso.slice(0, 16), hour: iso.slice(0, 13), day: iso.slice(0, 10) };
};
