import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { DRIFT_RUN_WINDOW_MINUTES, TENANT_PAGE_BYTES, TENANT_PAGE_LIMIT, type DriftPage, type DriftRow, type DriftRunExecution, type DriftRunStarted } from '../../lib/tenant-list-page.js';
import { DriftRecord, TenantId, TenantStatus } from '../../lib/tenant-record.js';
import { ApiError } from '../shared/api-errors.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { describeIssues } from '../../lib/zod-issues.js';
import { listProjectedPage, RegistryRecordInvalidError, type TenantProjection } from '../shared/registry.js';
import type { DriftRunRequest } from '../lifecycle/list-drift-tenants.js';
import { bodyOf, executionArnOf, json, parse, shownValue, tenantOr404, type AdminRoutes } from './admin-http.js';
import { decodeNextToken, encodeNextToken, PageQuery, type ListFilter } from './list-paging.js';

export type { DriftRow, DriftRunExecution, DriftRunStarted } from '../../lib/tenant-list-page.js';

const DriftQuery = z.strictObject({ status: z.enum(['IN_SYNC', 'DRIFTED', 'UNKNOWN', 'NOT_CHECKED']).optional(), ...PageQuery, executionArn: z.string().optional() });

/**
 * An execution name as StartExecution admits one (Step Functions API reference, StartExecution `name`): 1-80 characters,
 * none of whitespace, `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /` or a control character (U+0000-001F, U+007F-009F).
 */
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/u;

/**
 * `GET /admin/drift?executionArn=<arn>`: a drift run's execution as DescribeExecution answers it (statement ReadDriftChecks of
 * constructs/admin-api.ts: DescribeExecution on `tessera-drift:*` only), for `tessera tenants drift --detect --wait`.
 * @param executionArn an execution of this platform's drift state machine (`<its ARN as an execution ARN>:<name>`): POST
 *   /admin/drift's `executionArn`, or a daily run's
 * @param others the list's other query parameters sent with it (`status`, `limit`, `nextToken`): refused
 * @returns 200 DriftRunExecution: status, start and stop dates (ISO 8601), and the error and cause of one that ended otherwise than SUCCEEDED
 * @throws ApiError 400 `invalid_request` naming `executionArn` (and its value) with another query parameter, or for an ARN that is
 *   not an execution of this platform's drift state machine (another machine's, another account's or region's, a Distributed
 *   Map child's `tessera-drift/<map run>:…`, a name StartExecution refuses); 404 `execution_not_found` when Step Functions has
 *   none (it keeps a closed one for 90 days); DescribeExecution's other errors as they are (throttling: a 5xx)
 */
async function driftRunExecution(executionArn: string, others: string[]) {
  const shown = shownValue(executionArn);
  if (others.length) {
    throw new ApiError(400, `executionArn = ${shown} with ${others.join(', ')}: executionArn reads one drift run's execution; ${others.join(', ')} ${others.length === 1 ? 'belongs' : 'belong'} to the list of tenants (send one or the other)`, 'invalid_request_error', 'invalid_request', 'executionArn');
  }
  const prefix = executionArnOf(requireEnv(ENV.driftStateMachineArn), '');
  if (!executionArn.startsWith(prefix) || !EXECUTION_NAME.test(executionArn.slice(prefix.length))) {
    throw new ApiError(400, `executionArn = ${shown}: not an execution of this platform's drift state machine (${prefix}<name>)`, 'invalid_request_error', 'invalid_request', 'executionArn');
  }
  const out = await platformClient(SFNClient).send(new DescribeExecutionCommand({ executionArn })).catch((e: unknown) => {
    if (e instanceof ExecutionDoesNotExist) throw new ApiError(404, `executionArn = ${shown}: Step Functions has no such execution (it keeps a closed one for 90 days)`, 'not_found_error', 'execution_not_found', 'executionArn');
    throw e;
  });
  const answer: DriftRunExecution = { execution: {
    executionArn, status: out.status ?? 'UNKNOWN', startDate: (out.startDate ?? new Date(0)).toISOString(),
    ...(out.stopDate ? { stopDate: out.stopDate.toISOString() } : {}),
    ...(out.error !== undefined ? { error: out.error } : {}), ...(out.cause !== undefined ? { cause: out.cause } : {}),
  } };
  return json(200, answer);
}

/** The attributes of a record a drift row is made of: `drift.resources` only counted (its items not parsed). */
const DriftSource = z.object({
  tenantId: z.string(),
  tier: z.string(),
  status: TenantStatus,
  drift: DriftRecord.pick({ status: true, checkedAt: true, truncated: true, failedCheck: true }).extend({ resources: z.array(z.unknown()).default([]) }).optional(),
});
type DriftSource = z.infer<typeof DriftSource>;

/**
 * What `GET /admin/drift` reads of each record: the DriftSource attributes, not the whole record
 * (executions, gateway policy, stack outputs, drift's stacks…). `status` is a DynamoDB reserved
 * word, so every name goes through ExpressionAttributeNames. A record whose attributes DriftSource refuses (edited by
 * hand: a status typed wrong, the tier removed) is a RegistryRecordInvalidError naming each field and value, which the
 * page leaves out and names in `unreadable` (listProjectedPage); before, its ZodError made the whole page a 500
 * `internal error` for every tenant.
 */
export const DRIFT_ROW_PROJECTION: TenantProjection<DriftSource> = {
  expression: '#id, #tier, #s, #d.#s, #d.#at, #d.#res, #d.#more, #d.#fail',
  names: { '#id': 'tenantId', '#tier': 'tier', '#s': 'status', '#d': 'drift', '#at': 'checkedAt', '#res': 'resources', '#more': 'truncated', '#fail': 'failedCheck' },
  parse: (item) => {
    const parsed = DriftSource.safeParse(item);
    if (!parsed.success) throw new RegistryRecordInvalidError(String(item.tenantId), describeIssues(parsed.error, item));
    return parsed.data;
  },
};

/** A drift row of a projected record: `driftedResources` the recorded resources and the `truncated` ones. */
export const driftRow = (t: DriftSource): DriftRow => ({
  tenantId: t.tenantId, tier: t.tier, status: t.status, drift: t.drift?.status ?? 'NOT_CHECKED',
  ...(t.drift ? { checkedAt: t.drift.checkedAt } : {}),
  driftedResources: (t.drift?.resources.length ?? 0) + (t.drift?.truncated ?? 0),
  ...(t.drift?.failedCheck ? { failedCheck: t.drift.failedCheck } : {}),
});

/** `POST /admin/drift`'s body: `{}` (every ACTIVE tenant) or `{ tenantId }`. */
const DriftRunBody = z.strictObject({ tenantId: TenantId.optional() });

const WINDOW_MS = DRIFT_RUN_WINDOW_MINUTES * 60_000;

/** The start of the window `now` falls in. */
const windowStart = (now: Date): Date => new Date(Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS);

/**
 * The execution name of a drift check started through the admin API: `drift-<tenant>-<window>` for one tenant,
 * `drift_all-<window>` for every ACTIVE tenant (no tenant id holds `_`, so the two never meet), the window as
 * `YYYYMMDDTHHMM` UTC of its start. Deterministic, so that two starts in one window meet in Step Functions: a Standard
 * workflow's StartExecution with the name and input of a running execution answers that execution; one that ended
 * answers ExecutionAlreadyExists.
 */
export function driftExecutionName(tenantId: string | undefined, now: Date): string {
  const window = windowStart(now).toISOString().slice(0, 16).replace(/[-:]/g, '');
  return tenantId ? `drift-${tenantId}-${window}` : `drift_all-${window}`;
}

/** What DescribeExecution said of the execution a start met (ExecutionAlreadyExists), or why it could not be read. */
type EarlierCheck = { status: string; startDate?: Date; stopDate?: Date } | { unreadable: string };

async function describeEarlier(executionArn: string): Promise<EarlierCheck> {
  try {
    const out = await platformClient(SFNClient).send(new DescribeExecutionCommand({ executionArn }));
    return { status: out.status ?? 'UNKNOWN', startDate: out.startDate, stopDate: out.stopDate };
  } catch (e) {
    // An older deployment's role without the grant (ReadDriftChecks), a throttled call: the 409 still names the execution.
    return { unreadable: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/**
 * The 409 `drift_check_exists` of a start that met an execution of its name (ExecutionAlreadyExists), with that execution's
 * status (DescribeExecution on the drift machine's executions: statement ReadDriftChecks of constructs/admin-api.ts): one
 * that ended SUCCEEDED recorded its result in the registry; one that ended FAILED, TIMED_OUT or ABORTED may have recorded
 * none or part; a RUNNING one was started with another input than this start's (a start outside the admin API with its name:
 * the same input would have been answered that execution). The message points at what Tessera answers of it (`GET
 * /admin/drift?executionArn=`: its status, error and cause; `tessera tenants drift [<id>]`: the registry's result) and at
 * the command that starts the next check (`tessera tenants drift --detect [<id>] --wait`).
 */
async function driftCheckExists(tenantId: string | undefined, executionArn: string, input: DriftRunRequest): Promise<ApiError> {
  const next = new Date(windowStart(new Date()).getTime() + WINDOW_MS).toISOString();
  const what = tenantId === undefined ? 'every ACTIVE tenant' : `tenant "${tenantId}"`;
  const read = `tessera tenants drift${tenantId ? ` ${tenantId}` : ''}`;
  // What Tessera answers of that execution (its status, error and cause): the admin API's own route, not Step Functions'
  // CLI (`aws stepfunctions describe-execution` reached real AWS from the local platform, and needs the platform account's role).
  const execution = `GET /admin/drift?executionArn=${executionArn}`;
  const earlier = await describeEarlier(executionArn);
  let state: string;
  if ('unreadable' in earlier) {
    state = `exists (its status could not be read: ${earlier.unreadable}): execution ${executionArn}; once it has ended its result is in the registry (${read})`;
  } else if (earlier.status === 'SUCCEEDED') {
    state = `has ended SUCCEEDED at ${earlier.stopDate?.toISOString() ?? '(no stop date)'}: execution ${executionArn}; its result is in the registry (${read})`;
  } else if (earlier.stopDate) {
    state = `has ended ${earlier.status} at ${earlier.stopDate.toISOString()}: execution ${executionArn}; it may have recorded no result, or only part (${read} shows what the registry holds; ${execution} answers why it ended: its error and cause)`;
  } else {
    state = `is ${earlier.status} (started ${earlier.startDate?.toISOString() ?? 'at an unknown time'}) with another input than ${JSON.stringify(input)}, so it is not this start's check: execution ${executionArn} (${execution} answers its status)`;
  }
  return new ApiError(409, `a drift check of ${what} was already started in this ${DRIFT_RUN_WINDOW_MINUTES}-minute window and ${state}; a new check can start from ${next} (tessera tenants drift --detect${tenantId ? ` ${tenantId}` : ''} --wait)`,
    'conflict_error', 'drift_check_exists', tenantId === undefined ? undefined : 'tenantId', {
      executionArn, retryAfter: next,
      ...('unreadable' in earlier ? {} : { executionStatus: earlier.status, ...(earlier.stopDate ? { executionStopDate: earlier.stopDate.toISOString() } : {}) }),
    });
}

/** What the same `POST /admin/drift` sent again does (it refuses an Idempotency-Key: unsupported_header's message). */
const START_AGAIN = `a start within the same ${DRIFT_RUN_WINDOW_MINUTES}-minute window answers the running check (by its execution name), or a 409 drift_check_exists once it ended; a later start runs a new check`;

/** A row's bytes in the Lambda answer: its JSON, escaped once more inside the proxy integration's string body, and a comma. */
const answerBytes = (row: DriftRow): number => Buffer.byteLength(JSON.stringify(JSON.stringify(row))) - 1;

/**
 * The admin API's drift answers (recorded by the daily drift workflow, lambdas/lifecycle/check-drift.ts):
 * - `GET /admin/drift[?status=DRIFTED|IN_SYNC|UNKNOWN|NOT_CHECKED][&limit=N][&nextToken=X]`: one page
 *   (DriftPage: `{ tenants: DriftRow[], nextToken? }`) of the tenants that are not OFFBOARDED, in
 *   DynamoDB Scan order (not sorted by id: the CLI sorts the whole list); a tenant whose latest
 *   check failed is listed under the status of its last check that ran (with `failedCheck`). A
 *   page reads `limit` records (default 100, at most 1,000: TENANT_PAGE_LIMIT), only the attributes
 *   of a row (DRIFT_ROW_PROJECTION), and leaves out the OFFBOARDED ones and those of another drift
 *   status: it may hold fewer rows, even none, and still have a `nextToken`; only its absence means
 *   the end. `nextToken` continues the same list (the same `status`; `limit` may change). A record that does not match
 *   the schema (edited by hand) is left out and named in `unreadable` (`{ tenantId, problems }`, UnreadableTenant), as
 *   `GET /admin/tenants` names it: the page still answers 200 for the others. A row is
 *   some 130-170 bytes (test/bench/tenant-list-size.ts), up to some 7 KB with a failedCheck error of
 *   1,000 escaped characters, so a page is also cut at 4 MiB of rows (TENANT_PAGE_BYTES, each record
 *   read weighed as its row), under Lambda's 6 MB answer;
 * - `GET /admin/drift?executionArn=<arn>`: a drift run's execution (DriftRunExecution: status, dates, error and cause), on
 *   the list's resource rather than a new one (no API Gateway resource or method more: TesseraPlatform's 500, README "Room in
 *   TesseraPlatform"), alone (with `status`, `limit` or `nextToken`: a 400 naming `executionArn`); driftRunExecution;
 * - `GET /admin/tenants/{id}/drift`: `{ tenantId, status, drift?: DriftRecord }` (no `drift`: never checked);
 * - `POST /admin/drift` with `{}` or `{ tenantId }`: starts the drift workflow now (DriftRunStarted, 202) on every ACTIVE
 *   tenant or on that one (404 for an unknown tenant, 409 `invalid_status` for one that is not ACTIVE), as execution
 *   driftExecutionName: a second start in the same window answers the running execution, and one after it ended a 409
 *   `drift_check_exists` naming it, its status (`executionStatus`: SUCCEEDED, FAILED, …) and when a new check can start.
 * @throws ApiError 400 naming an unknown query parameter or status, a `limit` out of 1-1,000 or a
 *   `nextToken` that is not one of this list's (nothing is read); 404 for an unknown tenant
 */
export const driftRoutes: AdminRoutes = {
  'GET /admin/drift': { query: DriftQuery, idempotencyKey: 'no-op', handle: async (event) => {
    const q = parse(DriftQuery, event.queryStringParameters ?? {});
    if (q.executionArn !== undefined) return driftRunExecution(q.executionArn, Object.keys(event.queryStringParameters ?? {}).filter((k) => k !== 'executionArn'));
    const filter: ListFilter = q.status ? { drift: q.status } : {};
    const after = q.nextToken === undefined ? undefined : decodeNextToken(q.nextToken, filter);
    // The whole registry's Scan: OFFBOARDED and the drift status are left out here, after `limit`
    // records were read (as a FilterExpression would, after DynamoDB's Limit), not read on until full.
    const page = await listProjectedPage({}, { limit: q.limit ?? TENANT_PAGE_LIMIT.default, after, maxBytes: TENANT_PAGE_BYTES, sizeOf: (t) => answerBytes(driftRow(t)) }, DRIFT_ROW_PROJECTION);
    const rows = page.tenants.filter((t) => t.status !== 'OFFBOARDED').map(driftRow).filter((r) => !q.status || r.drift === q.status);
    const answer: DriftPage = {
      tenants: rows,
      ...(page.unreadable.length ? { unreadable: page.unreadable } : {}),
      ...(page.after ? { nextToken: encodeNextToken(page.after, filter) } : {}),
    };
    return json(200, answer);
  } },
  'POST /admin/drift': { query: null, idempotencyKey: { refuses: START_AGAIN }, handle: async (event) => {
    const { tenantId } = parse(DriftRunBody, bodyOf(event));
    if (tenantId !== undefined) {
      const record = await tenantOr404(tenantId, 'tenantId');
      if (record.status !== 'ACTIVE') {
        throw new ApiError(409, `tenant "${tenantId}" is ${record.status}: drift is checked on ACTIVE tenants only`, 'conflict_error', 'invalid_status', 'tenantId', { status: record.status });
      }
    }
    const stateMachineArn = requireEnv(ENV.driftStateMachineArn);
    const name = driftExecutionName(tenantId, new Date());
    const executionArn = executionArnOf(stateMachineArn, name);
    // The same input for every start of the name: Step Functions answers the running execution to a second start.
    const input: DriftRunRequest = tenantId === undefined ? {} : { tenantId };
    try {
      const out = await platformClient(SFNClient).send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      const answer: DriftRunStarted = { executionArn: out.executionArn ?? executionArn, startDate: (out.startDate ?? new Date()).toISOString(), ...(tenantId === undefined ? {} : { tenantId }) };
      return json(202, answer);
    } catch (e) {
      if (!(e instanceof ExecutionAlreadyExists)) throw e;
      throw await driftCheckExists(tenantId, executionArn, input);
    }
  } },
  'GET /admin/tenants/{id}/drift': { query: null, idempotencyKey: 'no-op', handle: async (_event, id) => {
    const record = await tenantOr404(id!);
    return json(200, { tenantId: record.tenantId, status: record.status, ...(record.drift ? { drift: record.drift } : {}) });
  } },
};
