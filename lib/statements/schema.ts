import { z } from 'zod';
import { TenantId } from '../tenant-record.js';

/**
 * Tenant statements (issue 16, item 3): one month of a tenant's spend, joining the gateway's
 * tokens and cost, fine-tuning GPU hours and the tenant's AWS infrastructure cost from Cost
 * Explorer. One source of truth for the admin API (`GET /admin/tenants/{id}/usage?month=`), the
 * monthly job (statements bucket, `Tenant Usage Reported`), the CLI and the tests.
 *
 * Money: US dollars. Every amount is rounded half away from zero to 6 decimal places
 * (micro-dollars) once, per line, from the exact sum it stands for (the gateway's store counts in
 * nano-dollars: a line of a million USD 0.0000004 embeddings is 0.4, not 0); every total is the sum
 * of its rounded lines, computed in integer micro-dollars, so a total always equals the sum of
 * what the statement shows. The gateway's total is the sum of its lines by model; its lines by day
 * cut the same usage by day, each rounded on its own, so they may add up to less or more than the
 * total by under half a micro-dollar a line.
 */

/** A calendar month, `YYYY-MM` (UTC). */
export const StatementMonth = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month as YYYY-MM (e.g. 2026-11)');

/** Why a month cannot have a statement (yet): undefined when it can. `now` decides "future". */
export function monthProblem(month: string, now = new Date()): string | undefined {
  if (!StatementMonth.safeParse(month).success) return `month = "${month}": must be a month as YYYY-MM (e.g. 2026-11)`;
  if (month > now.toISOString().slice(0, 7)) return `month = "${month}": is in the future (this month is ${now.toISOString().slice(0, 7)}, UTC)`;
  if (month < '2000-01') return `month = "${month}": is before 2000-01`;
  return undefined;
}

/** The month's first day and the next month's first day (exclusive end), `YYYY-MM-DD`, UTC. */
export function monthBounds(month: string): { start: string; end: string } {
  const [y, m] = month.split('-').map(Number);
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
  return { start: `${month}-01`, end: `${next}-01` };
}

/** The month before `now`'s (UTC): what the monthly job reports. */
export function previousMonth(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

/** USD → integer micro-dollars, rounding half away from zero. */
export const toMicros = (usd: number): number => Math.sign(usd) * Math.round(Math.abs(usd) * 1e6);
/** Integer micro-dollars → USD (a number with at most 6 decimals). */
export const fromMicros = (micros: number): number => micros / 1e6;
/** USD rounded to micro-dollars (the statement's stated rounding). */
export const roundUsd = (usd: number): number => fromMicros(toMicros(usd));

const Usd = z.number();
const Count = z.number().int().nonnegative();

const TokenLine = { requests: Count, promptTokens: Count, completionTokens: Count, totalTokens: Count, costUsd: Usd };

/**
 * A model's month. `cachedTokens` and `cacheWriteTokens`: of its `promptTokens`, those the provider read from and wrote to
 * its prompt cache, which `costUsd` priced at the catalog's `cachedInputPricePer1k` and `cacheWritePricePer1k`; absent when
 * none (and in statements built before they were counted).
 */
export const ModelLine = z.object({ model: z.string(), ...TokenLine, reportedRequests: Count, reportedTokens: Count, estimatedTokens: Count, cachedTokens: Count.optional(), cacheWriteTokens: Count.optional() });
export const DayLine = z.object({ day: z.string(), ...TokenLine });
/** A user's (JWT `sub`) or API key's month, from the gateway's subject counters. */
export const SubjectLine = z.object({ id: z.string(), tokens: Count, costUsd: Usd, requests: Count });

/**
 * A model whose gateway estimate and provider report differ by more than the threshold:
 * `deviationPercent = (estimatedTokens - reportedTokens) / reportedTokens × 100`, rounded to 2 decimals.
 */
export const ReconciliationFlag = z.object({
  model: z.string(),
  reportedRequests: Count,
  estimatedTokens: Count,
  reportedTokens: Count,
  deviationPercent: z.number(),
  thresholdPercent: z.number(),
  message: z.string(),
});
export type ReconciliationFlag = z.infer<typeof ReconciliationFlag>;

export const TrainingJobLine = z.object({
  jobId: z.string(),
  model: z.string(),
  instanceType: z.string(),
  /** GPUs of one instance of the type (the price table's). */
  gpusPerInstance: Count,
  spot: z.boolean(),
  status: z.string(),
  /** ISO times of the part of the job inside the month. */
  from: z.string(),
  to: z.string(),
  /** Instance-hours inside the month, rounded to 4 decimals (0.36 s). */
  instanceHours: z.number(),
  gpuHours: z.number(),
  usdPerHour: Usd,
  costUsd: Usd,
});

export const InfrastructureSource = z.object({
  /** How the cost was attributed: the tenant's cost-allocation tag (vpc mode), or its linked account (account mode). */
  groupBy: z.enum(['tag', 'linked-account']),
  /** `tessera:tenant-id` or the account id. */
  key: z.string(),
  value: z.string(),
});

export const TenantStatement = z.object({
  tenantId: TenantId,
  tenantName: z.string(),
  /**
   * The tier the tenant had at the end of the month (of `generatedAt` in the running month), from its registry history, not
   * its tier today; `tiers` names each tier of the month with its period when it changed (lib/statements/tenant-months.ts).
   */
  tier: z.string(),
  /**
   * Every tier the tenant had in the month, in order, each with its period (`from` inclusive, `to` exclusive, ISO 8601): one
   * entry when it did not change. The month is not split by tier: its figures are the month's (Cost Explorer's monthly
   * cost, the gateway's month counters per user and key). Absent on statements made before the field existed (2026-12-05).
   */
  tiers: z.array(z.object({ tier: z.string(), from: z.string(), to: z.string() })).optional(),
  isolation: z.enum(['account', 'vpc']),
  accountId: z.string().optional(),
  month: StatementMonth,
  /** `start` inclusive, `end` exclusive (Cost Explorer's own convention), UTC days. */
  period: z.object({ start: z.string(), end: z.string() }),
  generatedAt: z.string(),
  currency: z.literal('USD'),
  rounding: z.string(),
  gateway: z.object({
    requests: Count, promptTokens: Count, completionTokens: Count, totalTokens: Count, costUsd: Usd,
    byModel: z.array(ModelLine),
    byDay: z.array(DayLine),
    byUser: z.array(SubjectLine),
    byKey: z.array(SubjectLine),
    /** Some users or keys could not be listed (the store's month item reached 400 KB); their usage is in the totals. */
    subjectsIncomplete: z.boolean(),
  }),
  fineTuning: z.object({
    jobs: z.array(TrainingJobLine),
    instanceHours: z.number(),
    gpuHours: z.number(),
    costUsd: Usd,
    /** The dated price table the jobs were priced with. */
    prices: z.object({ region: z.string(), date: z.string(), source: z.string() }),
    /** How instance-hours were measured. */
    basis: z.string(),
    /**
     * Where fine-tuning's cost is in the total: inside `infrastructure` (Cost Explorer bills the tenant's tagged
     * training jobs and endpoints, or its account's). `costUsd` above is an estimate shown for the reader, never added.
     */
    includedIn: z.literal('infrastructure'),
  }),
  infrastructure: z.object({
    costUsd: Usd,
    metric: z.literal('UnblendedCost'),
    source: InfrastructureSource,
    /** true while Cost Explorer marks the month's figures as estimated (the current month, and until AWS finalises it). */
    estimated: z.boolean(),
  }),
  /** gateway.costUsd + infrastructure.costUsd (fine-tuning is inside infrastructure: `fineTuning.includedIn`). */
  totalUsd: Usd,
  reconciliation: z.object({ thresholdPercent: z.number(), flags: z.array(ReconciliationFlag) }),
  /** Things the reader must know (unpriced instance types, …). */
  notes: z.array(z.string()),
});
export type TenantStatement = z.infer<typeof TenantStatement>;

/** The rounding rule, as the statement states it. */
export const ROUNDING = 'USD, each line rounded half away from zero to 6 decimals (micro-dollars) from its exact sum (the gateway counts nano-dollars); totals are sums of the rounded lines (the gateway\'s of its lines by model; its lines by day may add up to under half a micro-dollar a line more or less)';

/** Share of difference between estimated and provider-reported tokens past which a model is flagged. */
export const RECONCILIATION_THRESHOLD_PERCENT = 10;
