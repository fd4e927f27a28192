import type { FineTuningJob } from '../../lib/fine-tuning.js';
import {
  fromMicros, monthBounds, RECONCILIATION_THRESHOLD_PERCENT, ROUNDING, roundUsd, toMicros, type ReconciliationFlag, type TenantStatement,
} from '../../lib/statements/schema.js';
import { TRAINING_PRICES, type TrainingPriceTable } from '../../lib/statements/training-prices.js';
import { TIER_UNRECORDED_NOTE, tiersInMonth } from '../../lib/statements/tenant-months.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import type { ModelDayUsage } from '../inference/stores/gateway-store.js';
import { fromNanos, toNanos, withCacheCounters } from '../inference/stores/model-usage.js';

/** One user's or key's month at the gateway (the `month` of GatewayStore.usageBy's subjects). */
export interface SubjectMonth {
  id: string;
  month: { tokens: number; costUsd: number; requests: number };
}

/** The tenant's infrastructure cost for the month, as Cost Explorer answered (cost-explorer.ts). */
export interface InfrastructureCost {
  costUsd: number;
  estimated: boolean;
  source: TenantStatement['infrastructure']['source'];
}

/** Everything a statement is built from; the builder does no I/O. */
export interface StatementInputs {
  /** The tenant's record: its `executions` (history) give the tier(s) of the month (tenant-months.ts tiersInMonth); without them, its `tier`. */
  tenant: Pick<TenantRecord, 'tenantId' | 'name' | 'tier' | 'isolation' | 'accountId'> & Partial<Pick<TenantRecord, 'executions' | 'createdAt'>>;
  /** `YYYY-MM`, validated by the caller (monthProblem). */
  month: string;
  /** When the statement is made: the end of a running job's hours, and `generatedAt`. */
  asOf: Date;
  /** The gateway's usage by model and day of the month (GatewayStore.modelUsage). */
  modelUsage: readonly ModelDayUsage[];
  users: { subjects: readonly SubjectMonth[]; incomplete: boolean };
  keys: { subjects: readonly SubjectMonth[]; incomplete: boolean };
  /** The tenant's fine-tuning jobs (any month; those without hours in this month are left out). */
  jobs: readonly FineTuningJob[];
  infrastructure: InfrastructureCost;
  /** @default TRAINING_PRICES */
  prices?: TrainingPriceTable;
}

/** How the statement measures training hours (`fineTuning.basis`). */
export const TRAINING_BASIS = 'wall-clock of training: from its start (SageMaker\'s TrainingStartTime, or when the job was seen running; its creation for older records) to its end (TrainingEndTime, or when it was seen ending; now while running), at most the job\'s max runtime, clipped to the month';

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
const byKey = <T>(key: (t: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** Statuses in which a training job's instance runs until now (queued and validating jobs have none yet). */
const RUNNING: readonly string[] = ['running'];

/**
 * SageMaker's ceiling of MaxRuntimeInSeconds, 28 days (and the config's `training.maxRuntimeHours` maximum, 672):
 * the cap of a job recorded before its own `maxRuntimeSeconds` was kept.
 */
export const MAX_TRAINING_RUNTIME_SECONDS = 672 * 3600;

/** The event the training events handler writes when it first sees a job running (training-events.ts). */
const TRAINING_STARTED_EVENT = /^Training started\b/;
/** The event a completed training gets (training-events.ts TRAINING_COMPLETED). */
const TRAINING_COMPLETED_EVENT = 'Training completed';

/**
 * The wall-clock span (epoch ms) of a job's training, as far as its record knows it, or undefined when it has
 * none (queued, validating, or ended before it began: no start on a record with an end or `maxRuntimeSeconds`, and no "Training completed"):
 * - start: `trainingStartedAt` (SageMaker's TrainingStartTime, or when the job was seen running), else the
 *   "Training started" event's time, else `createdAt` (records from before either was kept);
 * - end: `trainingEndedAt` (TrainingEndTime, or when the training was seen ending: a deployment after it is
 *   not training), else `finishedAt`, else, while `running`, `asOf`;
 * - at most the job's max runtime (`maxRuntimeSeconds`, the StoppingCondition; SageMaker's 28 days for older
 *   records) after its start: a job left `running` by a lost state event is not billed to the month's end.
 */
export function trainingSpan(job: FineTuningJob, asOf: Date): { start: number; end: number } | undefined {
  const seen = job.trainingStartedAt ?? job.events.filter((e) => TRAINING_STARTED_EVENT.test(e.message)).map((e) => e.created_at).sort((a, b) => a - b)[0];
  // No start on a record that would have one had training begun (a recorded end, or `maxRuntimeSeconds`: kept since
  // starts are, the training events handler recording TrainingStartTime, or when it saw the job running, whenever it
  // did): the job stopped, failed (its files refused, CreateTrainingJob refused) or was cancelled before its training
  // began, unless it completed (an out-of-order Completed without TrainingStartTime: from its creation, an upper bound).
  if (seen === undefined && (job.trainingEndedAt !== undefined || job.maxRuntimeSeconds !== undefined) && !job.events.some((e) => e.message === TRAINING_COMPLETED_EVENT)) return undefined;
  const started = seen ?? job.createdAt;
  const ended = job.trainingEndedAt ?? job.finishedAt ?? (RUNNING.includes(job.status) ? Math.floor(asOf.getTime() / 1000) : undefined);
  if (ended === undefined) return undefined;
  const start = started * 1000;
  const end = Math.min(ended * 1000, start + (job.maxRuntimeSeconds ?? MAX_TRAINING_RUNTIME_SECONDS) * 1000);
  return end > start ? { start, end } : undefined;
}

/**
 * Builds the month's statement of one tenant (lib/statements/schema.ts TenantStatement).
 *
 * - Tier: the tier(s) the tenant had in the month, from its history (tenant-months.ts tiersInMonth): `tier` the one at
 *   the month's end, `tiers` each with its period. Not split: the figures are the month's.
 * - Gateway: tokens and cost by model and by day (summed from the model-day usage), by user and
 *   by key (the subjects' month counters, which count every admitted request: when their requests
 *   outnumber the ledger's, a note says how many produced no usage).
 * - Fine-tuning: each job's instance-hours inside the month, over its training's own span
 *   (trainingSpan: start to end as recorded, a running job to `asOf`, at most its max runtime),
 *   clipped to the month; one instance per job (the training request's InstanceCount); GPU-hours =
 *   instance-hours × the type's GPUs; cost = instance-hours (rounded to 4 decimals) × the dated
 *   on-demand price. An upper bound of the billed time where the start or end is when it was seen.
 *   An estimate, not added to the total: the training jobs are tagged `tessera:tenant-id` (vpc mode)
 *   or run in the tenant's account (account mode), so Cost Explorer's infrastructure figure already
 *   holds what AWS billed for them (`fineTuning.includedIn: 'infrastructure'`).
 * - Infrastructure: Cost Explorer's UnblendedCost for the tenant's tag or linked account.
 * - Total: gateway + infrastructure (fine-tuning counted once, inside infrastructure).
 * - Reconciliation: a model is flagged when, over the requests whose provider reported usage,
 *   the gateway's estimate differs from the report by more than 10%.
 * Rounding: lib/statements/schema.ts ROUNDING.
 */
export function buildStatement(input: StatementInputs): TenantStatement {
  const prices = input.prices ?? TRAINING_PRICES;
  const { start, end } = monthBounds(input.month);
  const notes: string[] = [];
  // The tier(s) the tenant had in the month, not its tier today (a past month of a tenant that moved since).
  const tiers = tiersInMonth({ tier: input.tenant.tier, executions: input.tenant.executions ?? [], createdAt: input.tenant.createdAt }, input.month, input.asOf);
  if (tiers.unrecorded) notes.push(TIER_UNRECORDED_NOTE);

  // Gateway, by model and by day.
  const days = input.modelUsage.filter((u) => u.day.startsWith(`${input.month}-`));
  const group = (key: (u: ModelDayUsage) => string) => {
    const out = new Map<string, ModelDayUsage[]>();
    for (const u of days) out.set(key(u), [...(out.get(key(u)) ?? []), u]);
    return [...out.entries()].sort(byKey(([k]) => k));
  };
  // A line's cost: the model-day rows' exact sum (integer nano-dollars, as the ledger counts them), rounded once (ROUNDING).
  const tokens = (us: ModelDayUsage[]) => {
    const promptTokens = sum(us.map((u) => u.promptTokens));
    const completionTokens = sum(us.map((u) => u.completionTokens));
    return { requests: sum(us.map((u) => u.requests)), promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, costUsd: roundUsd(fromNanos(sum(us.map((u) => toNanos(u.costUsd))))) };
  };
  // A model's prompt-cache reads and writes (part of its promptTokens, priced in its costUsd at the cache prices): kept when non-zero.
  const byModel = group((u) => u.model).map(([model, us]) => withCacheCounters({
    model, ...tokens(us),
    reportedRequests: sum(us.map((u) => u.reportedRequests)), reportedTokens: sum(us.map((u) => u.reportedTokens)), estimatedTokens: sum(us.map((u) => u.estimatedTokens)),
  }, { cachedTokens: sum(us.map((u) => u.cachedTokens ?? 0)), cacheWriteTokens: sum(us.map((u) => u.cacheWriteTokens ?? 0)) }));
  const byDay = group((u) => u.day).map(([day, us]) => ({ day, ...tokens(us) }));
  // The gateway's total: the sum of its rounded lines by model (its lines by day, each rounded on its own, may add up to a few micro-dollars more or less).
  const total = { ...tokens(days), costUsd: fromMicros(sum(byModel.map((m) => toMicros(m.costUsd)))) };
  const subjects = (list: readonly SubjectMonth[]) => [...list].sort(byKey((s) => s.id))
    .map((s) => ({ id: s.id, tokens: s.month.tokens, costUsd: roundUsd(s.month.costUsd), requests: s.month.requests }));
  const subjectRequests = sum([...input.users.subjects, ...input.keys.subjects].map((s) => s.month.requests));
  if (!input.users.incomplete && !input.keys.incomplete && subjectRequests !== total.requests) {
    notes.push(`users and keys made ${subjectRequests} requests; ${total.requests} produced usage by model (the others were refused, failed upstream or released their reservation)`);
  }

  // Fine-tuning.
  const monthStart = Date.parse(`${start}T00:00:00Z`);
  const monthEnd = Math.min(Date.parse(`${end}T00:00:00Z`), input.asOf.getTime());
  const jobs = [...input.jobs].sort(byKey((j) => j.id)).flatMap((job) => {
    const span = trainingSpan(job, input.asOf);
    if (!span) return [];
    const from = Math.max(span.start, monthStart);
    const to = Math.min(span.end, monthEnd);
    if (to <= from) return [];
    const price = prices.instances[job.instanceType];
    if (!price) notes.push(`fine-tuning job ${job.id}: no ${prices.region} price for ${job.instanceType} in the ${prices.date} table; counted at $0`);
    const instanceHours = round4((to - from) / 3_600_000);
    return [{
      jobId: job.id, model: job.model, instanceType: job.instanceType, gpusPerInstance: price?.gpus ?? 0, spot: job.spot, status: job.status,
      from: new Date(from).toISOString(), to: new Date(to).toISOString(),
      instanceHours, gpuHours: round4(instanceHours * (price?.gpus ?? 0)), usdPerHour: price?.usdPerHour ?? 0, costUsd: roundUsd(instanceHours * (price?.usdPerHour ?? 0)),
    }];
  });
  if (jobs.some((j) => j.spot)) notes.push('managed spot training jobs are priced at on-demand rates (an upper bound)');
  const fineTuningMicros = sum(jobs.map((j) => toMicros(j.costUsd)));

  // Infrastructure and total.
  const infrastructureUsd = roundUsd(input.infrastructure.costUsd);
  if (input.infrastructure.estimated) notes.push('infrastructure cost is Cost Explorer\'s estimate: the month is not finalised yet');
  // Fine-tuning is not added: SageMaker bills its training jobs (and a fine-tuned model's endpoint) to the
  // tenant's `tessera:tenant-id` tag or its own account (sagemaker-requests.ts tags both), so Cost Explorer's
  // figure holds them already. The jobs' hours and their estimate are shown as a part of it.
  const totalMicros = toMicros(total.costUsd) + toMicros(infrastructureUsd);

  return {
    tenantId: input.tenant.tenantId, tenantName: input.tenant.name, tier: tiers.tier, tiers: tiers.tiers, isolation: input.tenant.isolation,
    ...(input.tenant.accountId ? { accountId: input.tenant.accountId } : {}),
    month: input.month, period: { start, end }, generatedAt: input.asOf.toISOString(), currency: 'USD', rounding: ROUNDING,
    gateway: { ...total, byModel, byDay, byUser: subjects(input.users.subjects), byKey: subjects(input.keys.subjects), subjectsIncomplete: input.users.incomplete || input.keys.incomplete },
    fineTuning: {
      jobs, instanceHours: round4(sum(jobs.map((j) => j.instanceHours))), gpuHours: round4(sum(jobs.map((j) => j.gpuHours))), costUsd: fromMicros(fineTuningMicros),
      prices: { region: prices.region, date: prices.date, source: prices.source },
      basis: TRAINING_BASIS,
      includedIn: 'infrastructure',
    },
    infrastructure: { costUsd: infrastructureUsd, metric: 'UnblendedCost', source: input.infrastructure.source, estimated: input.infrastructure.estimated },
    totalUsd: fromMicros(totalMicros),
    reconciliation: { thresholdPercent: RECONCILIATION_THRESHOLD_PERCENT, flags: byModel.flatMap((m) => reconcile(m)) },
    notes,
  };
}

/** The flag of one model's month, when its estimate and the providers' report differ by more than the threshold. */
export function reconcile(m: { model: string; reportedRequests: number; reportedTokens: number; estimatedTokens: number }, thresholdPercent = RECONCILIATION_THRESHOLD_PERCENT): ReconciliationFlag[] {
  if (m.reportedRequests === 0 || (m.reportedTokens === 0 && m.estimatedTokens === 0)) return [];
  const deviation = m.reportedTokens === 0 ? 100 : ((m.estimatedTokens - m.reportedTokens) / m.reportedTokens) * 100;
  if (Math.abs(deviation) <= thresholdPercent) return [];
  const deviationPercent = Math.round(deviation * 100) / 100;
  return [{
    model: m.model, reportedRequests: m.reportedRequests, estimatedTokens: m.estimatedTokens, reportedTokens: m.reportedTokens, deviationPercent, thresholdPercent,
    message: `${m.model}: estimated ${m.estimatedTokens} tokens, providers reported ${m.reportedTokens} over ${m.reportedRequests} requests (${deviationPercent > 0 ? '+' : ''}${deviationPercent}%, more than ${thresholdPercent}%)`,
  }];
}
