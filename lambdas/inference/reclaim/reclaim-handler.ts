import { serviceLogger } from '../../shared/service-logger.js';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { isTenantId, offboardedAt, type TenantRecord } from '../../../lib/tenant-record.js';
import { requireEnv } from '../../shared/environment.js';
import { listTenants, type UnreadableTenant } from '../../shared/registry.js';
import { unscopedDocumentClient } from '../../shared/tenant-credentials.js';
import { LONGEST_INVOCATION_MS, RECLAIM_ENV, RECLAIM_METRICS, RECLAIM_SERVICE, SETTLED_AFTER_MS } from './environment.js';
import { ReservationReclaim, type ReclaimOutcome } from './reservation-reclaim.js';

export const logger = serviceLogger(RECLAIM_SERVICE);
export const metrics = new Metrics({ namespace: RECLAIM_METRICS.namespace, serviceName: RECLAIM_SERVICE });

/**
 * What invokes the reclaim: the daily EventBridge schedule's event (its `time` is the minute it was
 * scheduled for, the same in every retry of it), or `{ "day": "YYYY-MM-DD" }` to reclaim one day by hand.
 */
export interface ReclaimEvent { time?: string; day?: string }

const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `day` is `YYYY-MM-DD` and a day of the calendar (no 2026-13-01, no 2026-02-30). */
const isDay = (day: string) => {
  if (!DAY.test(day)) return false;
  const at = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(at) && new Date(at).toISOString().slice(0, 10) === day;
};

/**
 * The UTC day a run reclaims: `event.day`, else the day before `event.time`, else (no event, or
 * `{}`) the day before `now`. Refused when the day is not over by SETTLED_AFTER_MS yet (its
 * reservations may still be settled), and an event that is not an object, or that names
 * other fields but neither `day` nor `time` (`"2026-11-23"`, `{"date": …}`: a hand-made run that
 * would otherwise reclaim the day before now, not the day meant).
 * @throws RangeError naming `day` or `time` and its value when it is not a day or an ISO time, or is too recent; naming the event when it has neither
 */
export function reclaimDayOf(event: ReclaimEvent | undefined, now: Date): string {
  if (event !== undefined && event !== null && (typeof event !== 'object' || Array.isArray(event))) {
    throw new RangeError(`event ${JSON.stringify(event)} is not an object: send {"day": "YYYY-MM-DD"}`);
  }
  if (event && event.day === undefined && event.time === undefined && Object.keys(event).length) {
    throw new RangeError(`event names neither "day" nor "time" (its fields: ${Object.keys(event).map((k) => JSON.stringify(k)).join(', ')}): send {"day": "YYYY-MM-DD"}`);
  }
  let day: string;
  if (event?.day !== undefined) {
    if (typeof event.day !== 'string' || !isDay(event.day)) {
      throw new RangeError(`day ${JSON.stringify(event.day)} is not a UTC day (YYYY-MM-DD)`);
    }
    day = event.day;
  } else {
    const at = event?.time === undefined ? now.getTime() : typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN;
    if (Number.isNaN(at)) throw new RangeError(`time ${JSON.stringify(event?.time)} is not an ISO 8601 time`);
    day = new Date(at - DAY_MS).toISOString().slice(0, 10);
  }
  const settledBy = Date.parse(`${day}T00:00:00Z`) + DAY_MS + SETTLED_AFTER_MS;
  if (now.getTime() < settledBy) {
    throw new RangeError(`day ${JSON.stringify(day)} is not over by ${SETTLED_AFTER_MS / 60_000} minutes yet (the router's longest invocation, ${LONGEST_INVOCATION_MS / 60_000} minutes, and as much again for clocks and retries): its reservations may still be settled until ${new Date(settledBy).toISOString()}`);
  }
  return day;
}

/**
 * Tenants that may have had traffic on `day`: all but those created after the day and those whose
 * offboarding ended before it began (offboardedAt). An offboarding that ended on the day or later may
 * have followed traffic that day: its lost reservations would otherwise stay on the users' and keys'
 * month items, which the tenant's last monthly statement lists.
 */
export const reclaimable = (t: TenantRecord, day: string) => {
  const start = Date.parse(`${day}T00:00:00Z`);
  if (!(Date.parse(t.createdAt) < start + DAY_MS)) return false;
  // As instants: the strings mix '…00:00:00.500Z' (toISOString) and '…00:00:00Z'.
  return t.status !== 'OFFBOARDED' || !(Date.parse(offboardedAt(t)) < start);
};

export interface ReclaimHandlerDeps {
  /** @default the system clock */
  now?: () => Date;
  /**
   * Every tenant of the registry; a record it cannot read (registry.ts listTenants: edited by hand into a shape the schema
   * refuses) told to `unreadable` and left out of the list.
   */
  tenants: (unreadable: (tenant: UnreadableTenant) => void) => Promise<TenantRecord[]>;
  /** The reclaim (its `onRelease` and `onSkip` are set here, to log). */
  reclaim: (hooks: Pick<ConstructorParameters<typeof ReservationReclaim>[0], 'onRelease' | 'onSkip'>) => ReservationReclaim;
}

/**
 * The reclaim's run: the day (reclaimDayOf), the tenants (reclaimable), ReservationReclaim.reclaimDay;
 * one log line per released item (`reservation released`) and per skipped one, one per tenant whose
 * subjects are not all listed, a summary line, and the run's metrics (RECLAIM_METRICS).
 * @throws Error naming the failed tenants after the others were done (Lambda retries the event; the releases are conditional, so a retry releases nothing twice)
 */
export function createReclaimHandler(deps: ReclaimHandlerDeps): (event: ReclaimEvent | undefined) => Promise<ReclaimOutcome> {
  return async (event) => {
    const day = reclaimDayOf(event, (deps.now ?? (() => new Date()))());
    // A tenant whose registry record cannot be read is reclaimed too (its id is all the reclaim needs; a day before it
    // existed holds nothing to release): left out, its lost reservations of the day stayed held on its users' and keys'
    // month items for good, as each run reclaims its own day only.
    // Only an id of the tenant id form: a hand-edited key of another shape names no usage items of its own.
    const unreadable: string[] = [];
    const listed = (await deps.tenants((u) => { if (isTenantId(u.tenantId)) unreadable.push(u.tenantId); })).filter((t) => reclaimable(t, day)).map((t) => t.tenantId);
    for (const tenantId of unreadable) logger.warn('registry record unreadable: its reservations reclaimed by its id alone', { day, tenantId });
    const tenants = [...new Set([...listed, ...unreadable])].sort();
    const reclaim = deps.reclaim({
      onRelease: (r) => logger.info('reservation released', { day, ...r }),
      onSkip: (s) => logger.warn('reservation not released', { day, ...s }),
    });
    const outcome = await reclaim.reclaimDay(tenants, day);
    for (const tenantId of outcome.unlisted) {
      logger.warn('subjects past the month item\'s set: their day items were not looked at', { day, tenantId });
    }
    const own = outcome.released.filter((r) => r.scope === 'tenant');
    const tokens = own.reduce((n, r) => n + r.tokens, 0);
    const nanos = own.reduce((n, r) => n + r.nanos, 0);
    metrics.addMetric(RECLAIM_METRICS.tokens, MetricUnit.Count, tokens);
    metrics.addMetric(RECLAIM_METRICS.nanos, MetricUnit.Count, nanos);
    metrics.addMetric(RECLAIM_METRICS.items, MetricUnit.Count, outcome.released.length);
    metrics.addMetric(RECLAIM_METRICS.skipped, MetricUnit.Count, outcome.skipped.length);
    metrics.addMetric(RECLAIM_METRICS.failedTenants, MetricUnit.Count, outcome.failed.length);
    metrics.publishStoredMetrics();
    logger.info('reservation reclaim', {
      day, tenants: outcome.tenants, releasedItems: outcome.released.length, reclaimedTokens: tokens, reclaimedNanos: nanos,
      skipped: outcome.skipped.length, unlisted: outcome.unlisted.length, failed: outcome.failed.length,
    });
    if (outcome.failed.length) throw new Error(`reservation reclaim of ${day} failed for ${outcome.failed.map((f) => `${f.tenantId} (${f.error})`).join('; ')}`);
    return outcome;
  };
}

/**
 * The Lambda: the registry and usage table of its environment (RECLAIM_ENV), read and written with
 * its own role, as the monthly statements job reads usage across tenants. The gateway's `docFor`
 * (a session of the tenant-data role, in the platform account) reaches the same table: every
 * tenant's usage items are in the platform's usage table, whatever its tier.
 */
const run = createReclaimHandler({
  tenants: (unreadable) => listTenants({}, { unreadable }),
  reclaim: (hooks) => new ReservationReclaim({ usageTable: requireEnv(RECLAIM_ENV.usageTable), docFor: unscopedDocumentClient(), ...hooks }),
});
const wrapped = middy(async (event: ReclaimEvent | undefined, _context: Context) => run(event)).use(injectLambdaContext(logger, { resetKeys: true }));

export const handler = (event: ReclaimEvent | undefined, context?: Context) => wrapped(event, context ?? ({} as Context));
