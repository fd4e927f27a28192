import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { statementCsv } from '../../lib/statements/csv.js';
import { monthBounds, monthProblem, previousMonth, type TenantStatement } from '../../lib/statements/schema.js';
import { STATEMENTS_EVENT_SOURCE, statementKeys, TENANT_USAGE_REPORTED, usageReported, type EarlierReports, type TenantUsageReported } from '../../lib/statements/usage-event.js';
import { monthBeforeTenant } from '../../lib/statements/tenant-months.js';
import { offboardedAt, type TenantRecord } from '../../lib/tenant-record.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { isTransientError } from '../shared/errors.js';
import { rejectedEntryError } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { listTenants, type UnreadableTenant } from '../shared/registry.js';
import { STATEMENTS_BUCKET_ENV } from './environment.js';
import { lambdaStatementSources } from './lambda-sources.js';
import { tenantStatement, type StatementSources } from './statement-sources.js';


/** S3 user metadata of a statement object: its figures' hash and revision (idempotent re-runs). */
const HASH_META = 'statement-sha256';
const REVISION_META = 'statement-revision';
const TOTAL_META = 'statement-total-usd';
/** Whether the stored revision's figures were estimated (`true`/`false`; absent on objects written before it was recorded). */
const ESTIMATED_META = 'statement-estimated';
/** The latest revision (so far) whose figures were final, and its total: what a consumer that bills final figures only has billed. */
const FINAL_REVISION_META = 'statement-final-revision';
const FINAL_TOTAL_META = 'statement-final-total-usd';

/**
 * The month's earlier reports, from the stored JSON's metadata: the previous revision's total and
 * whether it was estimated, and the latest final report. An object without `statement-estimated`
 * (written before it was recorded) counts as final, as consumers were told then.
 */
function earlierReports(stored: Record<string, string> | undefined): EarlierReports & { revision: number } {
  if (!stored) return { revision: 0 };
  const revision = Number(stored[REVISION_META] ?? 0);
  const previousTotalUsd = stored[TOTAL_META] !== undefined ? Number(stored[TOTAL_META]) : undefined;
  const previousEstimated = stored[ESTIMATED_META] === undefined ? undefined : stored[ESTIMATED_META] === 'true';
  const previousFinal = previousEstimated !== true && previousTotalUsd !== undefined ? { revision, meterValue: previousTotalUsd }
    : stored[FINAL_REVISION_META] !== undefined && stored[FINAL_TOTAL_META] !== undefined ? { revision: Number(stored[FINAL_REVISION_META]), meterValue: Number(stored[FINAL_TOTAL_META]) }
      : undefined;
  return { revision, previousTotalUsd, previousEstimated, previousFinal };
}

/** Hex SHA-256 of the statement's figures (everything but `generatedAt`). */
export const statementHash = (s: TenantStatement) => createHash('sha256').update(JSON.stringify({ ...s, generatedAt: undefined })).digest('hex');

/**
 * Tenants with a statement for `month`: all in the registry but those offboarded before it began
 * and those created after it ended (a tenant onboarded on 2 November has no October: without this
 * the 3rd's run sent it a $0 statement and a revision-1 `Tenant Usage Reported`).
 */
export const reportable = (t: TenantRecord, month: string) => {
  const { start } = monthBounds(month);
  // The on-demand statement refuses such a month with the same rule (usage-routes.ts).
  if (monthBeforeTenant(t, month)) return false;
  // As instants: the strings mix '…00:00:00.500Z' (toISOString) and '…00:00:00Z', and '.' sorts before 'Z'.
  return !(t.status === 'OFFBOARDED' && Date.parse(offboardedAt(t)) < Date.parse(`${start}T00:00:00Z`));
};

export interface MonthlyOutcome {
  month: string;
  reported: string[];
  unchanged: string[];
  failed: Array<{ tenantId: string; error: string }>;
}

export interface MonthlyDeps {
  sources: StatementSources;
  s3: S3Client;
  events: EventBridgeClient;
  bucket: string;
  eventBus: string;
  /**
   * Every tenant of the registry; a record it cannot read (registry.ts listTenants: edited by hand into a shape the schema
   * refuses) told to `unreadable` and left out of the list.
   */
  tenants: (unreadable: (tenant: UnreadableTenant) => void) => Promise<TenantRecord[]>;
  /**
   * Milliseconds before the second put of an event whose entry EventBridge rejected as transient (doubled before the
   * third, with full jitter). @default 250
   */
  eventRetryDelayMs?: number;
}

/** Puts of one event whose entry EventBridge rejected as transient (ThrottlingException, InternalFailure), as the SDK's standard mode makes of a call. */
export const EVENT_PUT_ATTEMPTS = 3;

/**
 * Writes one month's statement of every reportable tenant to the statements bucket
 * (`statements/<YYYY-MM>/<tenantId>.json` and `.csv`, lib/statements/csv.ts) and emits one
 * `Tenant Usage Reported` per tenant on the platform bus (lib/statements/usage-event.ts).
 *
 * Idempotent: a tenant whose stored statement has the same figures (its `statement-sha256`
 * metadata) is left alone, no object written and no event; changed figures are written as a new
 * object version with the next revision. The event is first kept in `<tenantId>.event.json`
 * (before it is put, so a run that dies after putting it still finds it), then put, then the CSV
 * and last the JSON (whose hash marks the statement done) are written. A run that finds a kept
 * event newer than the JSON does not know whether it went out: it puts that event again as it was
 * (same idempotencyKey, which consumers drop as a duplicate) before anything else, so a report of
 * changed figures never repeats a revision with another key, nor names as `previous` a report no
 * consumer received. One tenant's failure does not stop the others; the run fails at the end
 * (EventBridge retries it) naming them. A tenant whose registry record cannot be read is one of them (`failed`, naming
 * each field and value at fault): its month may be reportable, and it got no statement; before, listTenants left it out
 * and the run succeeded without it.
 */
export async function writeMonthlyStatements(deps: MonthlyDeps, month: string, now: Date): Promise<MonthlyOutcome> {
  const outcome: MonthlyOutcome = { month, reported: [], unchanged: [], failed: [] };
  const unreadable: UnreadableTenant[] = [];
  const tenants = await deps.tenants((u) => unreadable.push(u));
  for (const u of unreadable) {
    outcome.failed.push({ tenantId: u.tenantId, error: `its registry record does not match the schema (${u.problems.join('; ')}): no statement of ${month} written; correct the record, then run the month again ({"month": "${month}"})` });
  }
  for (const tenant of tenants.filter((t) => reportable(t, month)).sort((a, b) => a.tenantId.localeCompare(b.tenantId))) {
    try {
      const statement = await tenantStatement(deps.sources, tenant, month, now);
      const hash = statementHash(statement);
      const keys = statementKeys(month, tenant.tenantId);
      const stored = await head(deps.s3, deps.bucket, keys.json);
      const kept = await head(deps.s3, deps.bucket, keys.event);
      // An event kept for a revision the JSON does not have yet: it may have gone out.
      const unfinished = kept && Number(kept[REVISION_META] ?? 0) > Number(stored?.[REVISION_META] ?? 0) ? kept : undefined;
      if (!unfinished && stored?.[HASH_META] === hash) {
        outcome.unchanged.push(tenant.tenantId);
        continue;
      }
      const put = (detail: TenantUsageReported) => putUsageReported(deps, detail);
      let detail: TenantUsageReported;
      let metadata: Record<string, string>;
      if (unfinished?.[HASH_META] === hash) {
        // The same figures as the kept event: the same event again (same revision and idempotencyKey).
        detail = await keptEvent(deps.s3, deps.bucket, keys.event);
        metadata = unfinished;
      } else {
        // Put the kept event (if any) again first: the consumer then surely has it, and the new revision follows it.
        if (unfinished) await put(await keptEvent(deps.s3, deps.bucket, keys.event));
        const earlier = earlierReports(unfinished ?? stored);
        const revision = earlier.revision + 1;
        detail = usageReported(statement, deps.bucket, hash, revision, earlier);
        // The latest final report, carried forward while later revisions are estimated.
        const final = !statement.infrastructure.estimated ? { revision, meterValue: statement.totalUsd } : earlier.previousFinal;
        metadata = {
          [HASH_META]: hash, [REVISION_META]: String(revision), [TOTAL_META]: String(statement.totalUsd), [ESTIMATED_META]: String(statement.infrastructure.estimated),
          ...(final ? { [FINAL_REVISION_META]: String(final.revision), [FINAL_TOTAL_META]: String(final.meterValue) } : {}),
        };
        await deps.s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: keys.event, Body: `${JSON.stringify(detail, null, 2)}\n`, ContentType: 'application/json', Metadata: metadata }));
      }
      await put(detail);
      // The CSV first: the JSON's hash is what a re-run compares, so it is written last, once both are.
      await deps.s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: keys.csv, Body: statementCsv(statement), ContentType: 'text/csv; charset=utf-8; header=present', Metadata: metadata }));
      await deps.s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: keys.json, Body: `${JSON.stringify(statement, null, 2)}\n`, ContentType: 'application/json', Metadata: metadata }));
      outcome.reported.push(tenant.tenantId);
    } catch (e) {
      outcome.failed.push({ tenantId: tenant.tenantId, error: e instanceof Error ? e.message : String(e) });
      logger.error('statement failed', { tenantId: tenant.tenantId, month, error: e as Error });
    }
  }
  return outcome;
}

/**
 * Puts one `Tenant Usage Reported`. An entry EventBridge rejects (200, FailedEntryCount: the SDK does not retry it) is
 * an error named after its ErrorCode, as the lifecycle's announcements name theirs (events.ts rejectedEntryError): a
 * transient one (`ThrottlingException`, `InternalFailure`: isTransientError) is put again, up to EVENT_PUT_ATTEMPTS
 * times with backoff, the same event (same idempotencyKey); a refusal (`AccessDeniedException`, `MalformedDetail`, …)
 * is thrown at once. Before, every rejected entry was a plain Error, and a throttled put failed the tenant's statement
 * at the first try.
 * @throws Error named after the entry's ErrorCode, after the last attempt of a transient one
 */
export async function putUsageReported(deps: MonthlyDeps, detail: TenantUsageReported): Promise<void> {
  const base = deps.eventRetryDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    const out = await deps.events.send(new PutEventsCommand({ Entries: [{ EventBusName: deps.eventBus, Source: STATEMENTS_EVENT_SOURCE, DetailType: TENANT_USAGE_REPORTED, Detail: JSON.stringify(detail), Resources: [] }] }));
    if (!out.FailedEntryCount) return;
    const entry = out.Entries?.[0];
    const error = rejectedEntryError(`EventBridge rejected ${TENANT_USAGE_REPORTED}: ${entry?.ErrorCode} ${entry?.ErrorMessage}`, entry);
    if (!isTransientError(error) || attempt >= EVENT_PUT_ATTEMPTS) throw error;
    logger.warn('EventBridge rejected the event as transient; putting it again', { tenantId: detail.tenantId, attempt, error });
    await new Promise((resolve) => setTimeout(resolve, Math.random() * base * 2 ** (attempt - 1)));
  }
}

/** The event kept in `<tenantId>.event.json`, as it was put. */
async function keptEvent(s3: S3Client, bucket: string, key: string): Promise<TenantUsageReported> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await out.Body!.transformToString()) as TenantUsageReported;
}

async function head(s3: S3Client, bucket: string, key: string): Promise<Record<string, string> | undefined> {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata ?? {};
  } catch (e) {
    if (e instanceof NotFound || (e as { name?: string }).name === 'NotFound' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw e;
  }
}

/**
 * The month a run reports: the previous month (UTC) when the event has no `month` (the schedule's
 * event), else its `month`, which must be a string (monthProblem judges it).
 * @throws Error naming a `month` that is not a string (`{"month": 202610}` ran the previous month instead)
 */
export function runMonth(event: { month?: unknown } | undefined, now: Date): string {
  if (event?.month === undefined) return previousMonth(now);
  if (typeof event.month !== 'string') throw new Error(`month = ${JSON.stringify(event.month)}: must be a month as a "YYYY-MM" string (e.g. {"month": "2026-10"}), or left out for the previous month`);
  return event.month;
}

/**
 * The scheduled job: the previous month (UTC) by default, or `{ "month": "YYYY-MM" }` to re-run
 * one (a month that is not such a string is refused before anything is read). Fails (for
 * EventBridge's retry) when any tenant's statement failed, after doing the rest.
 */
export const handler = lifecycleHandler('Monthly statements', async (event: { month?: unknown } | undefined) => {
  const now = new Date();
  const month = runMonth(event, now);
  const problem = monthProblem(month, now);
  if (problem) throw new Error(problem);
  const outcome = await writeMonthlyStatements({
    sources: lambdaStatementSources(), s3: platformClient(S3Client), events: platformClient(EventBridgeClient),
    bucket: requireEnv(STATEMENTS_BUCKET_ENV), eventBus: requireEnv(ENV.eventBus), tenants: (unreadable) => listTenants({}, { unreadable }),
  }, month, now);
  logger.info('monthly statements', { month, reported: outcome.reported.length, unchanged: outcome.unchanged.length, failed: outcome.failed.length });
  if (outcome.failed.length) throw new Error(`statements of ${month} failed for ${outcome.failed.map((f) => `${f.tenantId} (${f.error})`).join('; ')}`);
  return outcome;
}, { trackStep: false });
