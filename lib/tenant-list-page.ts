import { z } from 'zod';
import type { DriftRecord, TenantRecord } from './tenant-record.js';

/**
 * `GET /admin/tenants`' page size (`limit`): 100 records unless asked, at most 1,000. A page is
 * also cut at 4 MiB of records (TENANT_PAGE_BYTES), so the limit bounds the count only: 100 is
 * some 1.4 MB of tenants with a year of history (test/bench/tenant-list-size.ts), well under
 * Lambda's 6 MB answer; 1,000 (as S3 ListObjectsV2's MaxKeys) lets a caller of small records make
 * few calls.
 */
export const TENANT_PAGE_LIMIT = { default: 100, max: 1000 } as const;

/**
 * The most bytes one page's records take in the Lambda answer (each record's JSON escaped once
 * more in the proxy integration's string `body`): 4 MiB, under Lambda's 6 MB synchronous response
 * quota (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) with room for
 * the envelope; a record (at most DynamoDB's 400 KB item) always fits alone.
 */
export const TENANT_PAGE_BYTES = 4 * 1024 * 1024;

/**
 * A registry record a list could not read as a TenantRecord (edited by hand into a shape the schema refuses: a status
 * typed wrong, a field removed): its tenant id and one line per issue (`field = value: what is wrong`). Left out of the
 * list and named, so one such record does not fail the list for every other tenant.
 */
export const UnreadableTenant = z.strictObject({
  /** The item's `tenantId` as stored. */
  tenantId: z.string(),
  /** One line per field at fault: `<field> = <value>: <what is wrong>`. */
  problems: z.array(z.string()),
});
export type UnreadableTenant = z.infer<typeof UnreadableTenant>;

/**
 * An unreadable record named for a person: `tenant "<id>": its registry record does not match the schema (<problems>)`;
 * each reader adds what it did about it (not checked, not upgraded, correct the record…).
 */
export const unreadableTenantText = (u: UnreadableTenant): string => `tenant "${u.tenantId}": its registry record does not match the schema (${u.problems.join('; ')})`;

/**
 * The answer of `GET /admin/tenants` (lambdas/admin/tenant-list-routes.ts), read by the CLI:
 * one page of full tenant records, their ETags and, when more follow, the token of the next page (absent on
 * the last). A page may hold fewer than `limit` records (none, with both filters) and still have a `nextToken`: only its
 * absence means the end. `unreadable` names the records of the page that do not match the schema, left out of
 * `tenants` (absent when there are none; before 2026-12-06 one such record made the whole page a 500
 * `registry_record_invalid`).
 */
export interface TenantPage {
  tenants: TenantRecord[];
  /**
   * Each record's ETag by tenant id, the one `GET /admin/tenants/{id}` answers (lambdas/admin/tenant-etag.ts tenantEtag):
   * the `If-Match` of a `PATCH /admin/tenants/{id}` decided on this list. Absent from an admin API deployed before 2026-12-06.
   */
  etags?: Record<string, string>;
  unreadable?: UnreadableTenant[];
  nextToken?: string;
}

/** One tenant's row in `GET /admin/drift` (lambdas/admin/drift-routes.ts). */
export interface DriftRow {
  tenantId: string;
  tier: string;
  status: string;
  /** DriftRecord.status, or `NOT_CHECKED` before the first drift run reached the tenant. */
  drift: DriftRecord['status'] | 'NOT_CHECKED';
  checkedAt?: string;
  driftedResources: number;
  /** The latest check failed after `checkedAt` (DriftRecord.failedCheck): `drift`, `checkedAt` and the resources are the check before it. */
  failedCheck?: { at: string; error: string };
}

/**
 * The answer of `GET /admin/drift`, read by the CLI: one page of drift rows and, when more follow,
 * the token of the next page. A page may hold fewer than `limit` rows, even none (OFFBOARDED tenants
 * and other drift statuses are left out of the records it read), and still have a `nextToken`: only
 * its absence means the end. `unreadable` names the records of the page that do not match the schema, left out of
 * `tenants` as TenantPage leaves them out (absent when there are none; before 2026-12-06 one such record made the whole
 * page a 500 `internal error`).
 */
export interface DriftPage {
  tenants: DriftRow[];
  unreadable?: UnreadableTenant[];
  nextToken?: string;
}

/**
 * The window of a drift check's execution name (`POST /admin/drift`, lambdas/admin/drift-routes.ts): two starts for the same
 * tenant (or for all) within it are one execution; a start once it has ended is refused (409 drift_check_exists).
 */
export const DRIFT_RUN_WINDOW_MINUTES = 5;

/** What `POST /admin/drift` answers (202, lambdas/admin/drift-routes.ts), read by `tessera tenants drift --detect`. */
export interface DriftRunStarted {
  executionArn: string;
  /** When the execution started: a start within the window of a running check answers that check, started earlier. */
  startDate: string;
  /** The tenant checked; absent: every ACTIVE tenant. */
  tenantId?: string;
}

/**
 * What `GET /admin/drift?executionArn=<arn>` answers (lambdas/admin/drift-routes.ts): a drift run's execution as Step
 * Functions' DescribeExecution says it, read by `tessera tenants drift --detect --wait` to stop when the run has ended.
 */
export interface DriftRunExecution {
  execution: {
    executionArn: string;
    /** DescribeExecution's status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (or PENDING_REDRIVE). */
    status: string;
    /** ISO 8601. */
    startDate: string;
    /** ISO 8601; once the execution has ended. */
    stopDate?: string;
    /** The error and cause Step Functions recorded for an execution that ended FAILED, TIMED_OUT or ABORTED (as sent: not escaped). */
    error?: string;
    cause?: string;
  };
}
