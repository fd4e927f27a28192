import { budgetAlertsOf } from '../../../lib/config/budget-alerts-config.js';
import type { PipelineRequest } from '../pipeline.js';
// Subject ids as the DynamoDB store keeps them in item ids (long ones by their SHA-256), so markers stay within DynamoDB's key size.
import { storedSubjectId as storedId } from '../stores/stored-subject-id.js';
import type { GatewayStore, Reservation, Subject, UsageRead, UsageSummary } from '../stores/gateway-store.js';
import { roundUsdToNano } from '../stores/model-usage.js';
import type { AlertMarkers } from './markers.js';
import { BUDGET_THRESHOLD_EVENT, crossedThresholds, markerId, periodEnd, periodOf, thresholdDetail, thresholdsReached, watchedBudgets, type BudgetThresholdDetail, type WatchedBudget } from './thresholds.js';
import { entryLogger, serviceLogger, type LogEntry } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/** Puts one event on the platform bus (lambdas/shared/events.ts emitLifecycleEvent), or wherever `tessera serve` writes its events. */
export type EmitEvent = (detailType: string, detail: Record<string, unknown>) => Promise<void>;

/** What a reservation was made for, kept from `watch` until its settle. */
interface Watched {
  tenantId: string;
  tier: string;
  thresholds: readonly number[];
  budgets: WatchedBudget[];
  /** Whether a budget of `budgets` is the tenant's, whether one is the subject's: which usage to read. */
  tenantBudget: boolean;
  subjectBudget: boolean;
  subject?: Pick<Subject, 'kind' | 'id'>;
}

/** A tenant policy's thresholds and own budgets, worked out once per policy object (a new one when the tenant changes). */
interface TenantWatch { thresholds: readonly number[]; budgets: WatchedBudget[] }

/** The marker id of a budget's period without the percent (`seen`'s key), kept with the budget object it was made for. */
interface SeenKey { tenantId: string; period: string; key: string }

export interface BudgetAlertsOptions {
  /** The gateway's store: usage is read from it after each settle (`usage`). */
  store: Pick<GatewayStore, 'usage'>;
  /** The once-only markers (DynamoDB items in AWS; memory or files under `tessera serve`). */
  markers: AlertMarkers;
  emit: EmitEvent;
  /** Clock of the events' `at`. @default the system clock */
  now?: () => Date;
  /** Budget periods whose handled usage this process remembers (each a few dozen bytes); the oldest is forgotten first. @default 10000 */
  memory?: number;
  /** Where a failure is told (it never reaches the caller). @default the gateway's Powertools logger (shared/service-logger.ts) */
  log?: (entry: LogEntry) => void;
}

/**
 * Tenant budget alerts. The pipeline hands each reservation to `watch` (with the tenant's tier,
 * budgets and the request's user or key) and calls `afterSettle` once it is settled, without
 * waiting: the answer is not held up; a request the store refuses for a budget is checked the
 * same way (`afterRefusal`). `afterSettle` reads the settled usage (one `usage` read of
 * the tenant, one of the user or key, each only when it has a watched budget), and for every
 * threshold of the tier (`budgetAlerts.thresholdsPercent`) that a budget has reached and that this
 * process has not yet seen handled for the period, claims the threshold's marker
 * (thresholds.ts markerId) and, only if this claim won, puts a `Tenant Budget Threshold Reached`
 * event. So each threshold of each budget gives one event per period (day or month), whatever the
 * number of concurrent requests and Lambdas: the marker is the only judge.
 *
 * An event that cannot be sent is not lost silently: the marker is released (the next request that
 * sees the threshold reached claims it and tries again) and the failure is logged. If the process
 * dies between the claim and the send, that event is lost (documented); `idle()` lets the Lambda
 * finish the work before its invocation ends so that a frozen environment does not hold it.
 *
 * Each process remembers, per budget and period, the usage up to which every reached threshold is
 * handled (bounded, `memory`), and only looks at the thresholds crossed since (`crossedThresholds`):
 * once a threshold is passed, a Lambda spends at most one conditional write on it per period.
 */
export class BudgetAlerts {
  private readonly watched = new WeakMap<Reservation, Watched>();
  /** Per budget and period (its marker id without the percent): the usage up to which every reached threshold is handled here. */
  private readonly seen = new Map<string, number>();
  private readonly tenantWatch = new WeakMap<Pick<PipelineRequest, 'policy'>['policy'], TenantWatch>();
  private readonly seenKeys = new WeakMap<WatchedBudget, SeenKey>();
  /** Noon (UTC) of the day the last check read usage at. */
  private noon = { day: '', at: new Date(0) };
  /** Checks started and not finished, and what `idle` waits on while there are any. */
  private running = 0;
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly now: () => Date;
  private readonly memory: number;
  private readonly log: (entry: LogEntry) => void;

  constructor(private readonly options: BudgetAlertsOptions) {
    this.now = options.now ?? (() => new Date());
    this.memory = options.memory ?? 10_000;
    this.log = options.log ?? entryLogger(logger);
  }

  /** Remembers what `reservation` was made for (the request's tenant, tier, budgets and subject); nothing when the tier has no thresholds or no budget applies. */
  watch(reservation: Reservation, r: Pick<PipelineRequest, 'caller' | 'policy'>, subject?: Subject): void {
    const w = this.watchedOf(r, subject);
    if (w) this.watched.set(reservation, w);
  }

  /**
   * Checks the budgets of a request the store refused (429 `budget_exceeded`), as `afterSettle` does
   * after a settle, without waiting; never throws (failures are logged), tracked by `idle`. Only a
   * settle ran the check, and no request settles against an exhausted budget: a budget lowered below
   * what its period had already used (a tier's `tokensPerDay`, a tenant's or key's budget changed
   * within the period) refused every request and never sent its thresholds, 100% included. Judged on
   * settled usage as after a settle, so a request refused for its own size (its reservation did not
   * fit) sends nothing the usage has not reached. Costs the usage reads of a check per refused request (with
   * `read`, the same reads as the 429's headers: no read of its own),
   * none once this process has handled the last threshold of every budget of the request this period.
   * @param now when the request was refused: its UTC day and month are the periods checked
   * @param read the refused request's usage reads for the periods of `now` (the pipeline's, shared with
   *   the 429's `x-ratelimit-*` headers, so each item is read once per refusal) @default - the store's own reads
   */
  afterRefusal(r: Pick<PipelineRequest, 'caller' | 'policy'>, subject: Subject | undefined, now: Date, read?: UsageRead): Promise<void> {
    const w = this.watchedOf(r, subject);
    if (!w) return Promise.resolve();
    const iso = now.toISOString();
    const periods = { day: iso.slice(0, 10), month: iso.slice(0, 7) };
    // Every threshold of every budget already handled here this period: nothing to read (a client that keeps sending into a 429).
    const top = w.thresholds.at(-1)!;
    if (w.budgets.every((b) => thresholdsReached(this.seen.get(this.seenKey(w.tenantId, b, periodOf(b, periods))) ?? 0, b.limit, [top], b.unit).length > 0)) return Promise.resolve();
    this.running += 1;
    return this.check(w, periods, read).then(() => this.finished(), (e) => {
      this.finished();
      this.log({ level: 'ERROR', message: 'budget alert check failed', tenantId: w.tenantId, error: (e as Error).message });
    });
  }

  /** What a request counts against (its tenant, tier, budgets and subject); undefined when the tier has no thresholds or no budget applies. */
  private watchedOf(r: Pick<PipelineRequest, 'caller' | 'policy'>, subject?: Subject): Watched | undefined {
    let tenant = this.tenantWatch.get(r.policy);
    if (!tenant) this.tenantWatch.set(r.policy, (tenant = { thresholds: budgetAlertsOf(r.policy.tier).thresholdsPercent, budgets: watchedBudgets(r.policy.limits) }));
    const { thresholds } = tenant;
    // The subject's own budgets (a user's or key's `tokensPerDay`, `monthlyCostUsd`) after the tenant's, as watchedBudgets lists them.
    const own = subject?.limits ? watchedBudgets({}, subject) : undefined;
    const budgets = own?.length ? [...tenant.budgets, ...own] : tenant.budgets;
    if (!thresholds.length || !budgets.length) return undefined;
    return {
      tenantId: r.caller.tenantId, tier: r.caller.tenant.tier, thresholds, budgets,
      tenantBudget: tenant.budgets.length > 0, subjectBudget: own !== undefined && own.length > 0,
      subject: subject && { kind: subject.kind, id: subject.id },
    };
  }

  /**
   * Checks the budgets `reservation` counted against, after its settle, and sends the events of
   * the thresholds reached. Never throws (failures are logged); the promise is also tracked by `idle`.
   * @param settledTokens what the settle recorded: 0 (a released reservation) checks nothing
   */
  afterSettle(reservation: Reservation, settledTokens?: number): Promise<void> {
    const w = this.watched.get(reservation);
    this.watched.delete(reservation);
    if (!w || settledTokens === 0) return Promise.resolve();
    this.running += 1;
    return this.check(w, reservation).then(() => this.finished(), (e) => {
      this.finished();
      this.log({ level: 'ERROR', message: 'budget alert check failed', tenantId: w.tenantId, error: (e as Error).message });
    });
  }

  /** Resolves when every check started so far has finished (the Lambda awaits it before its invocation ends). */
  async idle(): Promise<void> {
    if (this.running === 0) return;
    if (!this.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => { resolve = r; });
      this.drained = { promise, resolve };
    }
    await this.drained.promise;
  }

  /** One check less running; the last one wakes `idle`. */
  private finished(): void {
    this.running -= 1;
    if (this.running === 0 && this.drained) {
      this.drained.resolve();
      this.drained = undefined;
    }
  }

  /**
   * Reads the usage of `w`'s budgets in the periods of `reservation` (a settled one's, or a refused request's day and month) and handles the thresholds reached.
   * @param read reads of those periods' usage @default - the store's, at noon of the reservation's day
   */
  private async check(w: Watched, reservation: Pick<Reservation, 'day' | 'month'>, read?: UsageRead): Promise<void> {
    // The settle added to the reservation's day and month, read at noon of that day.
    if (this.noon.day !== reservation.day) this.noon = { day: reservation.day, at: new Date(`${reservation.day}T12:00:00Z`) };
    const { at } = this.noon;
    const usage: UsageRead = read ?? ((s) => this.options.store.usage(w.tenantId, at, s));
    const needSubject = w.subject !== undefined && w.subjectBudget;
    let tenant: UsageSummary | undefined;
    let subject: UsageSummary | undefined;
    if (w.tenantBudget && needSubject) [tenant, subject] = await Promise.all([usage(), usage(w.subject)]);
    else if (w.tenantBudget) tenant = await usage();
    else if (needSubject) subject = await usage(w.subject);
    for (const b of w.budgets) {
      const usage = b.scope === 'tenant' ? tenant : subject;
      if (!usage) continue;
      const period = periodOf(b, reservation);
      const used = usedOf(usage, b);
      const key = this.seenKey(w.tenantId, b, period);
      const before = this.seen.get(key) ?? 0;
      let all = true;
      for (const percent of crossedThresholds(before, used, b.limit, w.thresholds, b.unit)) {
        all = (await this.once(w, b, percent, used, period, markerId(w.tenantId, b, period, percent, storedId))) && all;
      }
      if (all && used > before) this.remember(key, used);
    }
  }

  /**
   * Claims the marker and, when this claim won, sends the event (releasing the marker if it cannot).
   * @returns true when the threshold is handled (sent now, or claimed by another request earlier)
   */
  private async once(w: Watched, b: WatchedBudget, percent: number, used: number, period: string, id: string): Promise<boolean> {
    // Kept one day past the period, so a late settle of the period's last requests still finds it.
    const claimed = await this.options.markers.claim(w.tenantId, id, new Date(periodEnd(period).getTime() + 86_400_000));
    if (claimed) {
      const detail: BudgetThresholdDetail = thresholdDetail(w.tenantId, w.tier, b, percent, used, period, this.now());
      try {
        await this.options.emit(BUDGET_THRESHOLD_EVENT, detail as unknown as Record<string, unknown>);
      } catch (e) {
        this.log({ level: 'ERROR', message: 'budget threshold event not sent; its marker is released so that the next request retries', marker: id, detail, error: (e as Error).message });
        await this.options.markers.release(w.tenantId, id).catch((re) => this.log({ level: 'ERROR', message: 'budget alert marker not released: this threshold\'s event is lost for the period', marker: id, error: (re as Error).message }));
        return false;
      }
    }
    return true;
  }

  /** markerId of `b`'s period without the percent, made once per budget object and period. */
  private seenKey(tenantId: string, b: WatchedBudget, period: string): string {
    const kept = this.seenKeys.get(b);
    if (kept && kept.tenantId === tenantId && kept.period === period) return kept.key;
    const key = markerId(tenantId, b, period, 0, storedId);
    this.seenKeys.set(b, { tenantId, period, key });
    return key;
  }

  private remember(key: string, used: number): void {
    this.seen.delete(key);
    if (this.seen.size >= this.memory) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, used);
  }
}

/**
 * The budget's settled usage: its counter less what reservations in flight hold (UsageSummary.held).
 * A request reserves its whole possible output (the model's maximum without max_tokens), so a
 * burst of concurrent requests holds far more than it will use; judged on the counter, the first
 * settle of such a burst sent thresholds that settled usage never reached, and claimed their markers.
 */
const usedOf = (u: UsageSummary, b: WatchedBudget) => {
  const window = b.period === 'day' ? u.day : u.month;
  const held = u.held?.[b.period];
  const used = b.unit === 'USD' ? window.costUsd - (held?.costUsd ?? 0) : window.tokens - (held?.tokens ?? 0);
  return b.unit === 'USD' ? Math.max(0, roundUsdToNano(used)) : Math.max(0, used);
};
