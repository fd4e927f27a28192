import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, paginateGetExecutionHistory, SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { adminInviteProblem, ChangeRequest, invitesByDefault, IDEMPOTENCY_KEY, isLifecycleEntry, isTenantId, LIFECYCLE_OPERATIONS, OnboardRequest, RetryRequest, StatusChangeRequest, TenantStatus, LifecycleKind, type HistoryKind, type LifecycleExecution, type TenantRecord } from '../../lib/tenant-record.js';
import { ApiError, errorBody } from '../shared/api-errors.js';
import { isTransientError } from '../shared/errors.js';
import { pages } from '../../lib/aws-pages.js';
import { platformClient } from '../shared/aws-clients.js';
import { claimOnboardingRequest, releaseOnboardingRequest } from '../shared/control-table.js';
import { ENV, MissingEnvironmentError, noUserPoolReason, platformConfig, requireEnv } from '../shared/environment.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { describeDrRegionConflict, drRegionConflict } from '../lifecycle/dr-region-change.js';
import { sendOwed } from '../lifecycle/announcements.js';
import { abandonLease, acquireLease, FIRST_STEPS, leaseHolderEnded, OperationSkippedError, statusError, strandedOperation } from '../lifecycle/lease.js';
import { requestDifferences } from '../lifecycle/register-tenant.js';
import { migrationRefusal } from '../lifecycle/tier-migration.js';
import type { RegistryRecordInvalidError } from '../shared/registry.js';
import { deleteHeldTenant, describeLease, getTenant, putNewTenant, TenantBusyError, TenantConflictError } from '../shared/registry.js';
import { adminCaller, bodyOf, executionArnOf, json, parse, refuseQuery, refuseRepeatedQuery, shownValue, tenantOr404, unknownTier as unknownTierOf, type AdminRoute, type AdminRoutes, type IdempotencyKeyUse, type RouteKey } from './admin-http.js';
import { shownKey } from '../../lib/zod-issues.js';
import { canonicalTags, type TenantTags } from '../../lib/tenant-tags.js';
import { describeDigest, isRecordedChange } from '../../lib/change-digest.js';
import { GatewayPolicyQuery, patchGatewayPolicy, putGatewayPolicy } from './gateway-policy-write.js';
import { ifMatchOf, ifMatchValue, tenantEtag, tenantMatches, tenantPreconditionFailed } from './tenant-etag.js';
import { keysRoutes } from './keys-routes.js';
import { driftRoutes } from './drift-routes.js';
import { tenantListRoutes } from './tenant-list-routes.js';
import { tiersRoutes } from './tiers-routes.js';
import { usageRoutes } from './usage-routes.js';
import { requestsRoutes } from './requests-routes.js';
import { usersRoutes } from './users-routes.js';
import { refuseUnpublished, upgradeRoutes } from './upgrade-routes.js';
import { stepsOfHistory } from './execution-steps.js';
import { OwedAnnouncementsFullError } from '../lifecycle/owed-bound.js';

export { stepsOfHistory, type ExecutionStep } from './execution-steps.js';

/**
 * The admin REST API (API Gateway, IAM auth): reads the registry and starts lifecycle executions.
 *
 * One operation per tenant: before StartExecution the API takes the tenant's lease for the
 * execution it is about to start (lambdas/lifecycle/lease.ts; its ARN is known from its name), so
 * a second request meets the lease at once: 409 `operation_in_progress` naming the running
 * operation and its execution. The same request again (POST with the same requestId, PATCH with
 * the same Idempotency-Key and body, DELETE while the offboarding runs) answers with the running
 * execution instead, or after it ended with its result; the same requestId or Idempotency-Key with
 * other values is a 409 naming them. Execution names are unique per
 * attempt (`<kind>-<tenant>-<time>-<random>`): Step Functions keeps a closed execution's name for
 * 90 days, so a name derived from the request could never run a second attempt.
 */


/** Step Functions execution names: 1-80 characters of [A-Za-z0-9-_]; unique per attempt. */
export function executionName(kind: LifecycleKind, tenantId: string, now = Date.now()): string {
  return `${kind}-${tenantId}-${now.toString(36)}-${randomBytes(4).toString('hex')}`.slice(0, 80);
}

const MACHINE_ENV: Record<LifecycleKind, string> = {
  onboard: ENV.onboardStateMachineArn, change: ENV.changeStateMachineArn, suspend: ENV.statusStateMachineArn,
  resume: ENV.statusStateMachineArn, offboard: ENV.offboardStateMachineArn, upgrade: ENV.changeStateMachineArn,
};

/** 400 `unknown_tier` for a request's tier the platform config does not have (admin-http.ts unknownTier: the nearest tier, then all). */
const unknownTier = (tier: string): ApiError => unknownTierOf(tier, Object.keys(platformConfig().tiers));

/**
 * What a 409 `tenant_exists` adds for an OFFBOARDED tenant's id (docs/tenant-lifecycle.md, "What stays on the platform": the
 * platform's stores are pooled by tenant id, the registry record is kept with no expiry, and the tenant id is never reused): the id stays the offboarded tenant's, so a
 * new onboarding needs another one. Before, the 409 said only "already registered (status OFFBOARDED)".
 */
const OFFBOARDED_ID = ': tenant ids are never reused: the platform keeps what the offboarded tenant left under its id (its registry record and history, '
  + 'with no expiry; its usage, audit and fine-tuning records, pooled by tenant id), and a new tenant under it would be read with them; onboard it under another tenantId';

/**
 * What a 409 `tenant_exists` adds for an id whose onboarding, by another request id, is still running (the record's lease
 * is an onboarding's): the request id, and how to follow it or get it back. A `tessera tenants create` stopped before its
 * answer (Ctrl-C) may have started it under a request id it never printed, and sent again without `--request-id` it met
 * `already registered (status PROVISIONING)` alone (a new user's trial, s40h).
 */
const onboardingRunning = (tenantId: string, requestId: string) => `: its onboarding, request ${requestId}, is running `
  + `(a tessera tenants create stopped before its answer may have started it): follow it with tessera tenants watch ${tenantId}; `
  + `the same request id (--request-id ${requestId}) answers with that onboarding`;

/**
 * What to do about a 409 `request_mismatch` (the same onboarding request id sent with other values), by the fields that
 * differ (requestDifferences' lines, each starting with its field) and the tenant's status: a FAILED onboarding's admin
 * email and name are corrected by its retry (the only fields the retry takes); tags are given at onboarding only (no
 * change of a tenant's tags is offered yet); any other field, or a tenant past a failure, has the values it was
 * onboarded with. Before, every mismatch was told to correct the admin email by a retry, a tags or tier mismatch and an
 * ACTIVE tenant's too.
 * @param differences requestDifferences' lines (`tags {…} → {…}`, `adminEmail "a" → "b"`), at least one
 * @param record the tenant's registry record (its status)
 * @returns the hint after the differences, without a trailing period
 */
function mismatchHint(differences: readonly string[], record: TenantRecord): string {
  const fields = new Set(differences.map((d) => d.split(' ')[0]));
  const hints: string[] = [];
  const correctable = ['adminEmail', 'name'].filter((f) => fields.has(f));
  if (record.status === 'FAILED' && correctable.length > 0) {
    hints.push(`to correct the ${correctable.map((f) => (f === 'adminEmail' ? 'admin email' : 'name')).join(' and ')} of the failed onboarding use `
      + `POST /admin/tenants/${record.tenantId}/retry (tessera tenants retry ${record.tenantId} ${correctable.map((f) => (f === 'adminEmail' ? '--admin-email …' : '--name …')).join(' ')})`);
  }
  if (fields.has('tags')) hints.push(`a request id names one onboarding and its tags: change an ACTIVE tenant's tags with PATCH /admin/tenants/${record.tenantId} and "tags" (tessera tenants update ${record.tenantId} --tag K=V --untag K)`);
  if (hints.length === 0) hints.push(`a request id names one onboarding: send it with the values it was recorded with (tessera tenants show ${record.tenantId})`);
  return hints.join('; ');
}

/** 409 for an onboarding request id already used for another tenant (control-table.ts claimOnboardingRequest). */
function requestIdReused(requestId: string, holder: string, tenantId: string): ApiError {
  return new ApiError(409, `requestId "${requestId}" was used for the onboarding of tenant "${holder}"; a request id names one request: send a new requestId to onboard "${tenantId}"`,
    'conflict_error', 'idempotency_key_reused', 'requestId');
}

/**
 * 409 `stack_update_pending` for a `PATCH` to the tier or version the record already has while its last change's stack
 * update was still running when that change ended (`failure.stackUpdating`, unresolved: lambdas/lifecycle/stack-standing.ts):
 * the stack may run the update's tier now, so `nothing_to_change` could be wrong. The admin API cannot look (it has no
 * access to the tenant's account); the drift workflow does, and records what the stack stands on. Undefined otherwise.
 * @param param the field the refusal names (`tier` or `blueprintVersion`)
 */
function stackUpdatePending(record: TenantRecord, param: 'tier' | 'blueprintVersion'): ApiError | undefined {
  const updating = record.failure?.stackUpdating;
  if (!updating || updating.resolved) return undefined;
  return new ApiError(409, `tenant "${record.tenantId}" is recorded on tier "${record.tier}", blueprintVersion "${record.blueprintVersion ?? '(none)'}", but its stack ${updating.stack} was still ${updating.status} to tier "${updating.tier}", blueprintVersion "${updating.blueprintVersion}" when ${[record.failure!.kind ?? 'the operation', record.failure!.executionArn].filter(Boolean).join(' ')} ended (${record.failure!.at}): it may run that tier now, and the admin API cannot read it. `
    + `Run tessera tenants drift --detect ${record.tenantId} (POST /admin/drift with the tenant), or wait for the daily drift workflow: it records the tier and version the stack stands on once its update ended; then send this request again`,
  'conflict_error', 'stack_update_pending', param);
}

/**
 * 409 for a tenant another operation holds, naming it and its execution. While an offboarding runs, any other operation
 * is refused for good, not until it ends: the offboarding ends OFFBOARDED, or fails OFFBOARDING, which only `DELETE` (or `retry`)
 * resumes (the message said "refused until it ends", and the same request after it met `invalid_status`).
 */
/**
 * 409 `operation_in_progress` for a request refused while the operation holding the tenant's lease runs: the message
 * names that operation (its kind, execution, request and since when: describeLease) and the request refused, the body's
 * `operation` the holder. A request refused while an offboarding runs is refused for good (the tenant ends OFFBOARDED).
 * @param kind what was asked: the operation refused, or `retry` (POST /retry, whose operation depends on the status:
 *   it named an onboarding before, "onboard is refused", whatever held the tenant)
 */
function busy(record: TenantRecord, kind: LifecycleKind | 'retry'): ApiError {
  const lease = record.lease!;
  const refused = lease.kind === 'offboard' && kind !== 'offboard' && kind !== 'retry'
    ? `${kind} is refused, now and after it: an offboarding ends OFFBOARDED, or fails OFFBOARDING and is resumed only by DELETE (or retry)`
    : `${kind} is refused until it ends`;
  return new ApiError(409, `tenant "${record.tenantId}" is busy: ${describeLease(lease)} is running; ${refused} (follow it with tessera tenants watch ${record.tenantId})`,
    'conflict_error', 'operation_in_progress', 'id', { operation: { kind: lease.kind, executionArn: lease.executionArn, requestId: lease.requestId, since: lease.acquiredAt } });
}

async function asApiError(e: unknown, tenantId: string, kind: LifecycleKind): Promise<unknown> {
  if (e instanceof TenantBusyError) {
    const now = await getTenant(tenantId);
    if (now?.lease) return busy(now, kind);
    // A stranded operation (no lease) whose execution still runs (lease.ts strandedOperation): named as a holder is.
    const running = now && strandedOperation(now)?.entry;
    const operation = running?.executionArn ? { operation: { kind: running.kind, executionArn: running.executionArn, requestId: running.requestId, since: running.startedAt } } : undefined;
    return new ApiError(409, e.message, 'conflict_error', 'operation_in_progress', 'id', operation);
  }
  if (e instanceof OwedAnnouncementsFullError) return new ApiError(409, e.message, 'conflict_error', 'announcements_owed', 'owedAnnouncements');
  if (e instanceof TenantConflictError) return new ApiError(409, e.message, 'conflict_error', 'invalid_status', 'status');
  return e;
}

/**
 * What the admin API writes on the history entry of an execution it starts besides its kind and request id: who asked
 * (`actor`: adminCaller, always), why (`requestReason`: a suspend's, resume's or offboarding's `reason`), and a change's
 * request as asked (`change`).
 */
type RequestEntry = Pick<LifecycleExecution, 'change' | 'actor' | 'requestReason'>;

/** The history entry fields of a request from `event`: its caller (adminCaller), and `reason` when one was given. */
const requestEntry = (event: APIGatewayProxyEvent, reason?: string): RequestEntry => ({ actor: adminCaller(event), ...(reason !== undefined ? { requestReason: reason } : {}) });

/**
 * Takes the tenant's lease for a new execution of `kind` (refused with 409 while another
 * operation holds it, or when the status does not allow `kind`), then starts it; gives the lease
 * back when Step Functions refuses the start (the values the lease's write replaced, as the record it expected had them:
 * the last record acquireLease's skipIf was asked about). `changes` go into the lease write (corrections of
 * a retried onboarding), with the step the workflow starts at (lease.ts FIRST_STEPS) as `currentStep`.
 * @param ifMatch the request's If-Match (tenant-etag.ts ifMatchOf): the lease is taken only while the record is the one
 *   its tags name, checked on the read the lease's conditional write expects; else 412 (tenantPreconditionFailed)
 */
async function startOperation(kind: LifecycleKind, record: TenantRecord, requestId: string, input: Record<string, unknown>, changes: Partial<TenantRecord> = {}, entry?: RequestEntry, ifMatch?: '*' | string[], recheck?: (read: TenantRecord) => ApiError | undefined): Promise<string> {
  const name = executionName(kind, record.tenantId);
  const executionArn = executionArnOf(requireEnv(MACHINE_ENV[kind]), name);
  // The lease write records the step the execution starts at (lease.ts FIRST_STEPS), not the one the tenant's last operation
  // left: a stop before that step's Lambda ran is then recorded there, and an offboarding stopped so gives the tenant back
  // its status (lease.ts statusAfterFailure). A start refused gives the step back with the lease (restore, below).
  const leaseChanges: Partial<TenantRecord> = { ...(kind in FIRST_STEPS ? { currentStep: FIRST_STEPS[kind as keyof typeof FIRST_STEPS] } : {}), ...changes };
  let leaseRead: TenantRecord = record;
  let refusal: ApiError | undefined;
  try {
    // The If-Match on each read the lease's write is conditional on (skipIf; the write on its updatedAt): a record changed
    // since the caller's read, between the route's check and the lease, is refused 412 too, nothing written.
    const precondition = ifMatch && ifMatch !== '*' ? (r: TenantRecord) => (tenantMatches(ifMatch, r) ? undefined : 'If-Match') : undefined;
    // skipIf is asked on every read of the record before the lease's write: the last one is the record that write expected
    // (`leaseRead`), whose values a start Step Functions refuses gives back, not those of the route's read before it.
    // `recheck`: what the route decided on its read (a retry's corrections), asked again of each read the write is conditional on.
    const skipIf = (r: TenantRecord) => {
      leaseRead = r;
      refusal = recheck?.(r);
      return refusal ? refusal.message : precondition?.(r);
    };
    await acquireLease(record.tenantId, { kind, executionArn, requestId }, leaseChanges, { entry, skipIf });
  } catch (e) {
    if (e instanceof OperationSkippedError && refusal) throw refusal;
    if (e instanceof OperationSkippedError && ifMatch && ifMatch !== '*') throw tenantPreconditionFailed(e.record, ifMatch, ifMatch.join(', '));
    throw await asApiError(e, record.tenantId, kind);
  }
  try {
    return await startExecution(MACHINE_ENV[kind], name, input);
  } catch (e) {
    // An answer lost after Step Functions started the execution (a timeout, a 5xx or a broken connection on the SDK's last
    // attempt, an earlier attempt having started it): the execution runs and the lease is its own. Before, the lease, the
    // history entry (a change's request: what its Idempotency-Key stands for) and a retry's corrections were given back
    // under a running execution: its Register tenant then met the old adminEmail and refused its own request.
    if (isTransientError(e) && (await executionStarted(executionArn, () => startExecution(MACHINE_ENV[kind], name, input)))) {
      logger.warn('StartExecution failed, but the execution exists: it keeps the lease', { executionArn, error: e as Error });
      return executionArn;
    }
    // The values the lease's write replaced: from the record it expected. Until 2026-12-07 from the route's read, which an
    // operation ending in between made stale (its running step was put back over the record that operation's end wrote).
    const restore = Object.fromEntries(Object.keys(leaseChanges).map((k) => [k, leaseRead[k as keyof TenantRecord]]));
    await abandonLease(record.tenantId, executionArn, restore);
    throw e;
  }
}

/**
 * Whether the execution `executionArn`, whose StartExecution failed with a transient error, runs: `resend` sends the same
 * StartExecution again (the same name and input), which Step Functions answers as started for an execution that is open
 * ("Executions with the same name and input are considered idempotent": API reference, StartExecution and
 * ExecutionAlreadyExists), starts it when the first call started nothing, and refuses ExecutionAlreadyExists only for a
 * closed one, which did start. Only when the re-send fails too is DescribeExecution asked; false when it does not know the
 * execution, or cannot be asked (the lease is then given back, as before). DescribeExecution alone was the check until
 * 2026-12-06, and it is eventually consistent ("may not reflect very recent updates": API reference): right after the
 * start it could answer ExecutionDoesNotExist, so the lease and history entry were given back and the API answered 500
 * while the execution ran (and took the lease itself at its first step).
 */
async function executionStarted(executionArn: string, resend: () => Promise<string>): Promise<boolean> {
  try {
    await resend();
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.code === 'execution_exists') return true;
    logger.warn('StartExecution sent again failed too; asking Step Functions whether the execution exists', { executionArn, error: e as Error });
  }
  try {
    const out = await platformClient(SFNClient).send(new DescribeExecutionCommand({ executionArn }));
    return Boolean(out?.executionArn ?? out?.status);
  } catch (e) {
    if (!(e instanceof ExecutionDoesNotExist)) logger.warn('could not ask Step Functions whether an execution started; its lease is given back', { executionArn, error: e as Error });
    return false;
  }
}

async function startExecution(stateMachineEnv: string, name: string, input: unknown): Promise<string> {
  try {
    const out = await platformClient(SFNClient).send(new StartExecutionCommand({ stateMachineArn: requireEnv(stateMachineEnv), name, input: JSON.stringify(input) }));
    return out.executionArn!;
  } catch (e) {
    if (e instanceof ExecutionAlreadyExists) throw new ApiError(409, `an execution named ${name} already exists; send the request again`, 'conflict_error', 'execution_exists');
    throw e;
  }
}

/** The onboarding request recorded for a tenant (what a retry runs again). */
const recordedRequest = (record: TenantRecord): OnboardRequest => ({
  tenantId: record.tenantId, name: record.name, tier: record.tier, adminEmail: record.adminEmail,
  ...(record.inviteAdmin !== undefined ? { inviteAdmin: record.inviteAdmin } : {}), ...(record.tags ? { tags: record.tags } : {}), requestId: record.requestId,
});

/** adminInviteProblem (lib/tenant-record.ts) with this Lambda's pool deciding the default (invitesByDefault). */
const inviteProblemOf = (adminEmail: string, inviteAdmin: boolean | undefined) => adminInviteProblem(adminEmail, inviteAdmin, invitesByDefault(process.env[ENV.userPoolId]));

/**
 * 409 `email_in_use` (param adminEmail) when `record` is an account tenant whose account was created, requested or claimed
 * with its adminEmail (which then cannot change), else undefined.
 */
function emailInUse(record: TenantRecord): ApiError | undefined {
  if (!(record.isolation === 'account' && (record.accountId || record.createAccountRequestId || record.createAccountClaim))) return undefined;
  return new ApiError(409, `adminEmail cannot change: account ${record.accountId ?? `request ${record.createAccountRequestId ?? '(claimed)'}`} was created or requested with ${record.adminEmail}`, 'conflict_error', 'email_in_use', 'adminEmail');
}

/** A new attempt of a FAILED onboarding, with corrections (RetryRequest) where nothing can have used the old values yet. */
async function retryOnboarding(record: TenantRecord, corrections: RetryRequest, entry: RequestEntry): Promise<APIGatewayProxyResult> {
  const changes: Partial<TenantRecord> = {};
  if (corrections.adminEmail && corrections.adminEmail !== record.adminEmail) {
    const inUse = emailInUse(record);
    if (inUse) throw inUse;
    const inviteProblem = inviteProblemOf(corrections.adminEmail, record.inviteAdmin);
    if (inviteProblem) throw new ApiError(400, inviteProblem, 'invalid_request_error', 'invalid_request', 'adminEmail');
    changes.adminEmail = corrections.adminEmail;
  }
  if (corrections.name && corrections.name !== record.name) changes.name = corrections.name;
  const request = { ...recordedRequest(record), ...changes } as OnboardRequest;
  // Decided again on each read the lease's write is conditional on: an earlier attempt that ran between the route's read and
  // the lease may have requested the account with the old adminEmail, or recorded other values (its own corrections).
  // Before 2026-12-07 the route's read decided alone: the lease wrote the new adminEmail over an account requested with the old.
  const recheck = (now: TenantRecord): ApiError | undefined => {
    if (changes.adminEmail !== undefined) {
      const inUse = emailInUse(now);
      if (inUse) return inUse;
    }
    const [read, current] = [recordedRequest(record), recordedRequest(now)];
    const moved = (Object.keys({ ...read, ...current }) as Array<keyof OnboardRequest>).filter((k) => JSON.stringify(read[k]) !== JSON.stringify(current[k]));
    return moved.length ? new ApiError(409, `tenant ${record.tenantId}'s recorded onboarding request changed while this retry was starting (${moved.join(', ')}: another retry ran); nothing started: read the tenant and send the retry again`, 'conflict_error', 'tenant_changed') : undefined;
  };
  const executionArn = await startOperation('onboard', record, record.requestId, request, changes, entry, undefined, recheck);
  return json(202, { tenantId: record.tenantId, requestId: record.requestId, executionArn, status: 'PROVISIONING', corrected: Object.keys(changes) });
}

/**
 * DELETE, and a retry of a stopped offboarding: idempotent while an offboarding runs or after it ended.
 * @param entry who asked and why (requestEntry), on the history entry of the offboarding it starts
 * @param key the DELETE's Idempotency-Key, the offboarding's requestId @default - `offboard-<tenant>-<time>`
 */
async function offboard(record: TenantRecord, entry: RequestEntry, key?: string): Promise<APIGatewayProxyResult> {
  // The 200s name the offboarding's own request id (its history entry's, its lease's), not this request's key: a caller
  // that sent another key learns the one that stands for the offboarding (before, the CLI printed its own as if it did).
  if (record.status === 'OFFBOARDED') {
    const done = record.executions.findLast((e) => e.kind === 'offboard' && e.status === 'SUCCEEDED');
    return json(200, { tenantId: record.tenantId, ...(done ? { requestId: done.requestId } : {}), status: record.status, note: 'already offboarded; nothing started' });
  }
  if (record.lease?.kind === 'offboard' && !(await leaseHolderEnded(record.lease)).ended) {
    return json(200, { tenantId: record.tenantId, requestId: record.lease.requestId, executionArn: record.lease.executionArn, status: record.status, note: 'offboarding already running' });
  }
  const requestId = key ?? `offboard-${record.tenantId}-${Date.now().toString(36)}`;
  let executionArn: string;
  try {
    executionArn = await startOperation('offboard', record, requestId, { request: { tenantId: record.tenantId, requestId } }, {}, entry);
  } catch (e) {
    // Another DELETE took the lease between this one's read and its write: answered as a DELETE
    // that finds an offboarding running, not with a 409.
    const now = e instanceof ApiError && e.status === 409 ? await getTenant(record.tenantId) : undefined;
    // The same key with another reason at once: refused as it is once the first is recorded.
    if (now?.lease?.kind === 'offboard' && key) sameOffboarding(now, key, entry.requestReason);
    if (now?.lease?.kind === 'offboard') return json(200, { tenantId: now.tenantId, requestId: now.lease.requestId, executionArn: now.lease.executionArn, status: now.status, note: 'offboarding already running' });
    throw e;
  }
  return json(202, { tenantId: record.tenantId, requestId, executionArn, status: 'OFFBOARDING', ...(record.status === 'OFFBOARDING' ? { resumed: record.failure?.step } : {}) });
}

/** A change as asked (the PATCH body's lifecycle fields), recorded in its history entry: what its Idempotency-Key stands for. */
type AskedChange = NonNullable<LifecycleExecution['change']>;
const askedChange = (c: ChangeRequest): AskedChange => Object.fromEntries(
  (['tier', 'blueprintVersion', 'repair', 'allowReplacement', 'tags'] as const).filter((k) => c[k] !== undefined)
    // Tags as a set (keys sorted): the same tags in another order are the same request.
    .map((k) => [k, k === 'tags' ? JSON.parse(canonicalTags(c.tags)) : c[k]]),
) as AskedChange;
const describeChange = (c: AskedChange) => JSON.stringify(Object.fromEntries(Object.entries(c).sort(([a], [b]) => a.localeCompare(b))));

/** The request's Idempotency-Key header (any case: API Gateway passes header names as sent); a 400 naming it when unusable. */
function idempotencyKey(event: APIGatewayProxyEvent): string | undefined {
  const value = idempotencyHeader(event);
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new ApiError(400, `Idempotency-Key = ${JSON.stringify(value.slice(0, 100))}: must be 1-80 printable ASCII characters without spaces`, 'invalid_request_error', 'invalid_idempotency_key', 'Idempotency-Key');
  }
  return value;
}

/** The request's Idempotency-Key header as sent (any case), unchecked. */
const idempotencyHeader = (event: APIGatewayProxyEvent): string | undefined =>
  Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'idempotency-key')?.[1] ?? undefined;

/**
 * Refuses an Idempotency-Key on a route that neither honours it nor is idempotent without it (its AdminRoute says
 * `refuses`): 400 `unsupported_header` naming the header, the route and what the same request again does there. Before,
 * such a route dropped it: `POST /admin/tenants/acme/keys` sent twice with one key minted two keys. The routes that
 * accept it (docs/tenant-lifecycle.md, "Idempotency-Key"): those that honour it, those idempotent by what they name (and the GET routes:
 * they change nothing), and POST /admin/tenants when it is the body's requestId (its own key: onboardingKey).
 */
function refuseIdempotencyKey(event: APIGatewayProxyEvent, key: string, use: IdempotencyKeyUse): void {
  const value = idempotencyHeader(event);
  if (value === undefined || typeof use === 'string') return;
  const honouring = Object.entries(routes).filter(([, r]) => r.idempotencyKey === 'honours').map(([k]) => k);
  throw new ApiError(400, `Idempotency-Key = ${JSON.stringify(value.slice(0, 100))}: ${key} does not honour it (${use.refuses}); send the request without it. It is honoured by ${honouring.join(', ')}`,
    'invalid_request_error', 'unsupported_header', 'Idempotency-Key');
}

/**
 * The owed announcements of a tenant whose failed onboarding or offboarding `tessera tenants retry` resumes (`Tenant
 * Lifecycle Failed`, written owed with the failure: record-failure.ts), sent before the new attempt starts, oldest first
 * (announcements.ts sendOwed). Best effort: a bus that still refuses them leaves them owed (with the error) and the retry
 * starts anyway; the new attempt's completing or failing step sends the outbox again. Nothing is sent while nothing is owed.
 */
async function sendOwedBeforeRetry(record: TenantRecord): Promise<void> {
  if (!record.owedAnnouncements?.length) return;
  await sendOwed(record).catch((e: unknown) => logger.warn('owed announcements not sent before the retry; they stay owed', { tenantId: record.tenantId, error: e as Error }));
}

/**
 * POST /admin/tenants: its key is the body's requestId (the same requestId again answers with that onboarding). An
 * Idempotency-Key is accepted when it is that requestId; another value is a 400 naming both (it would have been dropped,
 * and the same key with a new requestId is another request).
 */
function onboardingKey(event: APIGatewayProxyEvent, requestId: string): void {
  const value = idempotencyHeader(event);
  if (value === undefined || value === requestId) return;
  throw new ApiError(400, `Idempotency-Key = ${JSON.stringify(value.slice(0, 100))}: an onboarding is idempotent by its requestId ("${requestId.slice(0, 100)}"), not by the header; send the header with the requestId's value, or without it`,
    'invalid_request_error', 'unsupported_header', 'Idempotency-Key');
}

/**
 * The operations an Idempotency-Key names: a change, a suspend, a resume (the routes that honour the header). A key is
 * looked up among all three (the tenant's lease and history): the same key on another of them (a suspend's key sent with a
 * PATCH, a change's with a resume) is another request, a 409. Before, a change's key was looked up among the changes only:
 * a PATCH sent with a suspend's key (`tessera tenants update --request-id` with the key `suspend` printed) started a change
 * under the suspend's request id, and a suspend sent with a change's key a suspend. The onboarding's and a rolling
 * upgrade's request ids are their own routes' body fields and are not looked up (s16: a change may carry the onboarding's).
 */
type KeyedKind = 'change' | 'suspend' | 'resume';
const KEYED_KINDS: readonly LifecycleKind[] = ['change', 'suspend', 'resume'] satisfies readonly KeyedKind[];

/** `a change`, `an upgrade`: an operation's kind with its article, as the 409s name it. */
const withArticle = (kind: HistoryKind) => `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;

/**
 * What a request with Idempotency-Key `key` answers when the key was already used for a change,
 * suspend or resume of this tenant (the lease it holds, or its entry in the history: the last 50): the same
 * request → the running execution (200), or the earlier result (200, nothing started), a change's answer with the change
 * its entry recorded (`change`; when the entry keeps only its digest, `changeDigest`, the request asked now, whose
 * SHA-256 is the digest's), or `changeRecorded: false` and a note saying it is not recorded (never the request now
 * asked, echoed as the one that ran, unless the digest showed it to be that one); another
 * request (another change; a resume under a suspend's key, or the reverse; a change under a suspend's
 * or resume's key, or the reverse: KEYED_KINDS) → 409
 * `idempotency_key_reused` naming the key and both. Undefined: the key is new here.
 */
async function earlierRequest(record: TenantRecord, key: string, kind: KeyedKind, asked?: AskedChange, reason?: string): Promise<APIGatewayProxyResult | undefined> {
  const lease = record.lease && KEYED_KINDS.includes(record.lease.kind) && record.lease.requestId === key ? record.lease : undefined;
  const entry = record.executions.findLast((e) => isLifecycleEntry(e) && KEYED_KINDS.includes(e.kind) && e.requestId === key && (!lease || e.executionArn === lease.executionArn));
  if (!lease && !entry) return undefined;
  // Compared with the entry's full `change`, else with its digest (an older entry's, or one whose request was too large to
  // keep in full: lib/change-digest.ts): the same SHA-256 of the canonical request is the same request.
  const same = kind === 'change' && entry && asked ? isRecordedChange(entry, asked) : undefined;
  if (same === false) {
    const recorded = entry!.change ? describeChange(entry!.change) : describeDigest(entry!.changeDigest!);
    throw new ApiError(409, `Idempotency-Key "${key}" was used for another change of tenant "${record.tenantId}": ${recorded} (execution ${entry!.executionArn ?? '(unknown)'}, ${entry!.status}); this request asks ${describeChange(asked!)}; send a new key for a new change`,
      'conflict_error', 'idempotency_key_reused', 'Idempotency-Key');
  }
  const usedFor = entry?.kind ?? lease!.kind;
  if (usedFor !== kind) {
    throw new ApiError(409, `Idempotency-Key "${key}" was used for ${withArticle(usedFor)} of tenant "${record.tenantId}" (execution ${entry?.executionArn ?? lease!.executionArn}, ${entry?.status ?? 'RUNNING'}); this request asks ${kind}; send a new key for a new request`,
      'conflict_error', 'idempotency_key_reused', 'Idempotency-Key');
  }
  if (kind !== 'change' && entry) refuseOtherReason(record, key, entry, reason);
  // The change the key stands for as its history entry recorded it; never the request now asked as if it were that one.
  // An entry without `change` (recorded before the field existed, or a StartExecution from elsewhere) or none (a lease
  // whose entry is not on the record) says it is not recorded (`changeRecorded: false`, the note says so too): until
  // 2026-12-07 the new request's body was echoed as the change that ran.
  // An entry that keeps only the change's digest answers with the request asked now, which the digest showed to be that one.
  const recordedChange = kind === 'change' ? entry?.change ?? (entry?.changeDigest && same ? asked : undefined) : undefined;
  const known = recordedChange !== undefined;
  const unrecorded = kind === 'change' && !known;
  const base = { tenantId: record.tenantId, requestId: key, status: record.status, ...(known ? { change: recordedChange } : {}), ...(unrecorded ? { changeRecorded: false } : {}) };
  const unrecordedNote = unrecorded ? `; its change is not recorded on the tenant (${entry ? 'its history entry predates the field or was not written by the admin API' : 'no history entry names it'}), so whether it is this request's cannot be told` : '';
  // An entry RUNNING that no lease backs (removed by hand, or lost: lease.ts strandedOperation) is asked about as a holder is:
  // before, it was answered `already ran (RUNNING)` whether or not its execution still ran.
  const unleased = !lease && entry?.status === 'RUNNING' && entry.executionArn
    ? { kind: entry.kind as LifecycleKind, executionArn: entry.executionArn, requestId: entry.requestId, acquiredAt: entry.startedAt, previousStatus: record.status } : undefined;
  const holder = lease ?? unleased ? await leaseHolderEnded((lease ?? unleased)!) : undefined;
  if (holder && !holder.ended) return json(200, { ...base, executionArn: (lease ?? unleased)!.executionArn, note: `${kind} already running${unrecordedNote}` });
  if (!entry) return undefined;
  // The holder ended without its last write (stopped, timed out; end-stopped-execution has not run yet): its entry
  // still says RUNNING; Step Functions' status is the outcome.
  const outcome = entry.status === 'RUNNING' && holder?.status ? holder.status : entry.status;
  return json(200, {
    ...base, executionArn: entry.executionArn, outcome, ...(entry.endedAt ? { endedAt: entry.endedAt } : {}), ...(entry.reason ? { reason: entry.reason } : {}),
    note: `this request already ran (${outcome}${outcome !== entry.status ? ' in Step Functions, not yet recorded on the tenant' : ''})${unrecordedNote}; nothing started: send a new Idempotency-Key for a new ${kind}`,
  });
}

/** `reason "…"` or `no reason`: a suspend's, resume's or offboarding's reason as the 409s name it. */
const describeReason = (reason: string | undefined) => (reason === undefined ? 'no reason' : `reason ${JSON.stringify(reason)}`);

/**
 * 409 `idempotency_key_reused` when the request `entry` recorded under Idempotency-Key `key` (a suspend, resume or
 * offboarding of the tenant) gave another reason than this request (`reason`; none and one are different): the key stands
 * for its whole request, body included, as a PATCH's stands for its change (draft-ietf-httpapi-idempotency-key-header-06,
 * "Error Scenarios": a reused key with a different payload is refused (422 there), never answered with the first request; the admin API
 * answers that refusal as its PATCH does, 409). Before, another reason under the same key was answered with the first
 * request, and the second reason was dropped without a word. Entries recorded before reasons existed (2026-12-05) have none.
 */
function refuseOtherReason(record: TenantRecord, key: string, entry: LifecycleExecution, reason: string | undefined): void {
  if (entry.requestReason === reason) return;
  throw new ApiError(409, `Idempotency-Key "${key}" was used for ${withArticle(entry.kind)} of tenant "${record.tenantId}" with ${describeReason(entry.requestReason)} (execution ${entry.executionArn ?? '(unknown)'}, ${entry.status}); this request gives ${describeReason(reason)}; send it again as it was to get that ${entry.kind}'s answer, or a new key for a new request`,
    'conflict_error', 'idempotency_key_reused', 'Idempotency-Key');
}

/**
 * Starts a change (startOperation) recording the change as asked in its history entry; `recheck` refuses it on a read of
 * the lease that no longer has what the route decided on (startOperation). With an
 * Idempotency-Key, a request that lost the race for the lease to another request with the same key
 * answers as that one does (earlierRequest) instead of 409 `operation_in_progress`.
 */
async function startChange(record: TenantRecord, requestId: string, key: string | undefined, asked: AskedChange, target: Record<string, unknown>, entry: RequestEntry, ifMatch?: '*' | string[], recheck?: (read: TenantRecord) => ApiError | undefined): Promise<APIGatewayProxyResult> {
  try {
    const executionArn = await startOperation('change', record, requestId, { request: { tenantId: record.tenantId, requestId }, change: target }, {}, { ...entry, change: asked }, ifMatch, recheck);
    return json(202, { tenantId: record.tenantId, requestId, executionArn, status: 'UPDATING', change: target });
  } catch (e) {
    return replayOfRaceWinner(e, record.tenantId, key, 'change', asked);
  }
}

/**
 * A start refused because another request took the lease first (409, or the 412 `precondition_failed` of an If-Match its
 * lease made stale: the route's check passed on the record before it): with an Idempotency-Key, that request's answer when
 * it carried the same key (earlierRequest on the record as it is now); otherwise `e` again. Until 2026-12-06 (s42j) the
 * 412 was answered as it was, so a request sent again while its first send was still starting (the same key and If-Match)
 * was told its own change was a stale precondition; RFC 9110 §13.1.1 lets a server answer 2xx for a change already made.
 * @throws e when there is no key, `e` is neither, or the lease holder is another request
 */
async function replayOfRaceWinner(e: unknown, tenantId: string, key: string | undefined, kind: KeyedKind, asked?: AskedChange, reason?: string): Promise<APIGatewayProxyResult> {
  const lost = e instanceof ApiError && (e.status === 409 || (e.status === 412 && e.code === 'precondition_failed'));
  const now = key && lost ? await getTenant(tenantId) : undefined;
  const replay = now && key ? await earlierRequest(now, key, kind, asked, reason) : undefined;
  if (replay) return replay;
  throw e;
}


/** `GET /admin/tenants/{id}/execution`'s query: `executionArn` only (`?executionarn=…` answered the latest execution as if it were the one asked for). */
const ExecutionQuery = z.strictObject({ executionArn: z.string().optional() });

/** What the same `POST /admin/tenants/{id}/retry` sent again does (it refuses an Idempotency-Key: unsupported_header's message). */
const RETRY_AGAIN = 'the same retry again is a 409 operation_in_progress naming the running attempt, and starts another attempt once that one ended FAILED';

/** Every route of the admin API, with the facts the handler checks before it runs one (AdminRoute). */
export const routes: AdminRoutes = {
  ...keysRoutes,
  ...usersRoutes,
  ...usageRoutes,
  ...requestsRoutes,
  ...driftRoutes,
  ...tenantListRoutes,
  ...tiersRoutes,
  ...upgradeRoutes,
  'POST /admin/tenants': { query: null, idempotencyKey: 'requestId', handle: async (event) => {
    const request = parse(OnboardRequest, bodyOf(event));
    onboardingKey(event, request.requestId);
    if (!Object.hasOwn(platformConfig().tiers, request.tier)) {
      throw unknownTier(request.tier);
    }
    if (Object.hasOwn(platformConfig().tiers, request.tenantId)) {
      throw new ApiError(400, `tenantId = "${request.tenantId}": is reserved: it would name the stack tessera-${request.tenantId}, the name of that tier's OU and usage plan`, 'invalid_request_error', 'reserved_tenant_id', 'tenantId');
    }
    const isolation = platformConfig().tiers[request.tier].isolation;
    // An invitation the platform cannot make (no pool: an external identity provider owns the users) is refused, not dropped.
    if (request.inviteAdmin === true && !process.env[ENV.userPoolId]) {
      throw new ApiError(400, `inviteAdmin = true: ${noUserPoolReason()}; leave inviteAdmin out or set it to false`, 'invalid_request_error', 'invalid_request', 'inviteAdmin');
    }
    // An address Cognito cannot take as a Username (over 128 characters) was accepted, and *Invite tenant admin* failed on it
    // minutes later (recorded FAILED, the tenant without its admin): refused here, before anything is claimed.
    const inviteProblem = inviteProblemOf(request.adminEmail, request.inviteAdmin);
    if (inviteProblem) throw new ApiError(400, inviteProblem, 'invalid_request_error', 'invalid_request', 'adminEmail');
    // Whether this request claimed its id (for its tenant) and then found the tenant registered by another request:
    // it did nothing, so the id is given back (control-table.ts releaseOnboardingRequest: only this tenant's claim).
    let claimed = false;
    const giveBack = async () => {
      if (claimed) await releaseOnboardingRequest(request.requestId, request.tenantId).catch((w: unknown) => logger.warn('could not release the onboarding request id', { requestId: request.requestId, error: w as Error }));
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await getTenant(request.tenantId);
      if (!existing) {
        // A request id names one request (an idempotency key): sent again for another tenant it is refused, not a second onboarding.
        const holder = await claimOnboardingRequest(request.requestId, request.tenantId);
        if (holder !== undefined) throw requestIdReused(request.requestId, holder, request.tenantId);
        claimed = true;
        const name = executionName('onboard', request.tenantId);
        const executionArn = executionArnOf(requireEnv(ENV.onboardStateMachineArn), name);
        const now = new Date().toISOString();
        // No tags and `{}` are one request (requestDifferences): the record keeps tags only when there are some.
        const { tags, ...untagged } = request;
        const created = await putNewTenant({
          ...untagged, ...(tags && Object.keys(tags).length > 0 ? { tags } : {}), isolation, status: 'REQUESTED', lease: { kind: 'onboard', executionArn, requestId: request.requestId, acquiredAt: now, previousStatus: 'REQUESTED' },
          accountId: isolation === 'vpc' ? platformConfig().workloadAccountId : undefined,
          createdAt: now, updatedAt: now, stackOutputs: {}, executions: [{ kind: 'onboard', requestId: request.requestId, executionArn, startedAt: now, status: 'RUNNING', actor: adminCaller(event) }],
        });
        if (!created) continue; // someone registered the id a moment ago: decide against their record
        try {
          await startExecution(ENV.onboardStateMachineArn, name, request);
        } catch (e) {
          // An answer lost after the execution started (startOperation): it runs under this record and request id.
          if (isTransientError(e) && (await executionStarted(executionArn, () => startExecution(ENV.onboardStateMachineArn, name, request)))) return json(202, { tenantId: request.tenantId, requestId: request.requestId, executionArn, status: 'REQUESTED' });
          // Nothing started: the record goes, and the request id is free again (for this tenant or another). Only when
          // the record was still as put: an error that came after Step Functions started the execution (a timeout) finds
          // it taken by its Register tenant, and that onboarding runs under the id, which stays claimed.
          const removed = await deleteHeldTenant(request.tenantId, executionArn, 'REQUESTED');
          if (removed) await releaseOnboardingRequest(request.requestId, request.tenantId).catch((w: unknown) => logger.warn('could not release the onboarding request id', { requestId: request.requestId, error: w as Error }));
          throw e;
        }
        return json(202, { tenantId: request.tenantId, requestId: request.requestId, executionArn, status: 'REQUESTED' });
      }
      if (existing.requestId !== request.requestId) {
        // Registered by another request: this one never onboarded the tenant (a tenant id is registered once).
        await giveBack();
        throw new ApiError(409, `tenant id "${request.tenantId}" is already registered (status ${existing.status})${existing.status === 'OFFBOARDED' ? OFFBOARDED_ID : existing.lease?.kind === 'onboard' ? onboardingRunning(request.tenantId, existing.requestId) : ''}`, 'conflict_error', 'tenant_exists', 'tenantId');
      }
      const differences = requestDifferences(existing, { ...request, isolation });
      if (differences.length) {
        throw new ApiError(409, `request ${request.requestId} was recorded with other values: ${differences.join('; ')}; ${mismatchHint(differences, existing)}`,
          'conflict_error', 'request_mismatch', differences[0].split(' ')[0]);
      }
      if (existing.lease?.kind === 'onboard' && !(await leaseHolderEnded(existing.lease)).ended) {
        return json(200, { tenantId: existing.tenantId, requestId: existing.requestId, executionArn: existing.lease.executionArn, status: existing.status, note: 'onboarding already running' });
      }
      // Past onboarding (ACTIVE and later, OFFBOARDED included): the same request again is a no-op, also while
      // another operation (a change, an offboarding) holds the lease: that operation is not this request's business.
      if ((LIFECYCLE_OPERATIONS.onboard.from as readonly TenantStatus[]).includes(existing.status)) {
        if (existing.lease && existing.lease.kind !== 'onboard') throw busy(existing, 'onboard');
        return retryOnboarding(existing, {}, requestEntry(event));
      }
      return json(200, { tenantId: existing.tenantId, requestId: existing.requestId, status: existing.status, note: 'already onboarded by this request; nothing started' });
    }
    throw new ApiError(409, `tenant id "${request.tenantId}" is being registered concurrently; send the request again`, 'conflict_error', 'tenant_exists', 'tenantId');
  } },
  // With the tenant's ETag (tenant-etag.ts tenantEtag): the If-Match of a PATCH of the tenant, and taken by the gateway
  // policy's PUT and PATCH beside the policy's own `"<version>"`. Until 2026-12-06 this ETag was the policy's version.
  'GET /admin/tenants/{id}': { query: null, idempotencyKey: 'no-op', handle: async (_e, id) => {
    const record = await tenantOr404(id!);
    const answer = json(200, record);
    return { ...answer, headers: { ...answer.headers, etag: tenantEtag(record) } };
  } },
  'PATCH /admin/tenants/{id}': { query: null, idempotencyKey: 'honours', handle: async (event, id) => {
    const change = parse(ChangeRequest, bodyOf(event));
    // The body's own rules first, before a replay is looked up: the history records no `name` (askedChange), so a body that
    // pairs one with a change it may not go with was answered as the key's earlier change, the name dropped without a word.
    if (change.repair && (change.tier !== undefined || change.blueprintVersion !== undefined || change.name !== undefined || change.tags !== undefined)) {
      throw new ApiError(400, 'repair re-applies the tenant\'s current tier and blueprint version; send it alone (with allowReplacement if needed), not with tier, blueprintVersion, name or tags', 'invalid_request_error', 'invalid_request', 'repair');
    }
    if (change.name !== undefined && (change.tier !== undefined || change.blueprintVersion !== undefined || change.tags !== undefined)) {
      throw new ApiError(400, 'name cannot change with a tier, version or tags change: a rename is not a lifecycle change; send the name on its own once renaming is supported, the tier, version or tags here', 'invalid_request_error', 'invalid_request', 'name');
    }
    const record = await tenantOr404(id!);
    // The same Idempotency-Key again: the running execution or the earlier result, never a second change (checked
    // before the rest: once the change is done, its request would be `nothing_to_change`).
    const key = idempotencyKey(event);
    const asked = askedChange(change);
    const earlier = key ? await earlierRequest(record, key, 'change', asked) : undefined;
    if (earlier) return earlier;
    // If-Match (RFC 9110 §13.1.1): the change only on the record the caller read (its ETag), else 412 naming what changed
    // since; checked again in the lease's conditional write (startOperation), so a change that lands in between is a 412 too.
    // After the replay above: the same request sent again after its answer was lost is answered with its change, not a 412.
    const ifMatch = ifMatchOf(event);
    if (ifMatch && !tenantMatches(ifMatch, record)) throw tenantPreconditionFailed(record, ifMatch as string[], ifMatchValue(event)!);
    // A status no change starts from (OFFBOARDED, SUSPENDED, FAILED), with no operation holding the tenant or stranded in it
    // (the lease ends those first, then decides): the 409 the lease would answer, before what the body asks is weighed. An
    // OFFBOARDED tenant's change to another tier was refused as a network migration ("offboard and onboard"), one to its
    // own tier as `nothing_to_change`, one to an unpublished version as that: none said that no change applies to it.
    if (!record.lease && !strandedOperation(record) && !(LIFECYCLE_OPERATIONS.change.from as readonly TenantStatus[]).includes(record.status)) {
      throw await asApiError(statusError(record, 'change'), record.tenantId, 'change');
    }
    const requestId = (key ?? event.requestContext?.requestId ?? `${Date.now()}`).slice(0, 80);
    if (change.tier && !Object.hasOwn(platformConfig().tiers, change.tier)) {
      throw unknownTier(change.tier);
    }
    // Another isolation mode or subnet layout is a migration (tier-migration.ts); *Begin change* refuses it too.
    // Checked for the tier the change runs on: the one asked for, or the tenant's own (an upgrade or a repair).
    const migration = migrationRefusal(record, change.tier ?? record.tier, platformConfig().tiers);
    if (migration) throw new ApiError(400, migration.message, 'invalid_request_error', migration.code, 'tier');
    // A DR stack cannot move regions (dr-region-change.ts); *Begin change* refuses it too, for a StartExecution from elsewhere.
    const drConflict = change.tier ? drRegionConflict(record, platformConfig().tiers[change.tier]) : undefined;
    if (drConflict) throw new ApiError(400, describeDrRegionConflict(record.tenantId, change.tier!, drConflict), 'invalid_request_error', 'dr_region_change', 'tier');
    if (change.repair) {
      const target = { repair: true, ...(change.allowReplacement ? { allowReplacement: change.allowReplacement } : {}) };
      return startChange(record, requestId, key, asked, target, requestEntry(event), ifMatch);
    }
    const effective = {
      tier: change.tier !== undefined && change.tier !== record.tier ? change.tier : undefined,
      blueprintVersion: change.blueprintVersion !== undefined && change.blueprintVersion !== record.blueprintVersion ? change.blueprintVersion : undefined,
      // Compared as sets: the same tags in another order, or `{}` for a tenant without tags, change nothing.
      tags: change.tags !== undefined && canonicalTags(change.tags) !== canonicalTags(record.tags) ? JSON.parse(canonicalTags(change.tags)) as TenantTags : undefined,
    };
    if (!effective.tier && !effective.blueprintVersion && !effective.tags) {
      // The record's tier and version may be behind its stack: an update still running when the last change ended.
      const pending = change.tier !== undefined || change.blueprintVersion !== undefined ? stackUpdatePending(record, change.tier !== undefined ? 'tier' : 'blueprintVersion') : undefined;
      if (pending) throw pending;
      const same = [change.tier && `tier is already "${change.tier}"`, change.blueprintVersion && `blueprintVersion is already "${change.blueprintVersion}"`,
        change.tags && `tags are already ${canonicalTags(change.tags)}`].filter(Boolean).join(', ');
      throw new ApiError(400, change.name && !same
        ? 'renaming alone is not a lifecycle change; send tier, blueprintVersion or tags'
        : `nothing to change: ${same || 'send tier, blueprintVersion or tags'}`, 'invalid_request_error', 'nothing_to_change', change.tier ? 'tier' : change.blueprintVersion ? 'blueprintVersion' : change.tags ? 'tags' : 'name');
    }
    // A version the catalog does not publish (for the tier the change runs on) is refused here as POST /admin/upgrades refuses
    // it (400 unknown_blueprint_version or tier_not_published): before, the PATCH answered 202 and *Begin change* failed on it.
    if (change.blueprintVersion !== undefined) await refuseUnpublished(change.tier ?? record.tier, change.blueprintVersion);
    // An asked version is carried even when it is the tenant's: left out, *Begin change* took the platform's (versionOf: a
    // change naming no version), an upgrade nobody asked for. Until 2026-12-07.
    const target = Object.fromEntries(Object.entries({ ...effective, blueprintVersion: change.blueprintVersion, allowReplacement: change.allowReplacement }).filter(([, v]) => v !== undefined));
    // What was left out as the tenant's already (a tier, tags) was decided on this read: asked again of each read the lease's
    // write is conditional on, so a change that ended in between (a tier change, a rolling upgrade's run) is a 409
    // tenant_changed, not a change that keeps what it left (`{tier: "starter", tags}` read on starter deployed professional).
    const recheck = (now: TenantRecord): ApiError | undefined => {
      const moved = [
        change.tier !== undefined && now.tier !== record.tier && `tier "${record.tier}" → "${now.tier}"`,
        change.blueprintVersion !== undefined && now.blueprintVersion !== record.blueprintVersion && `blueprintVersion "${record.blueprintVersion}" → "${now.blueprintVersion}"`,
        change.tags !== undefined && canonicalTags(now.tags) !== canonicalTags(record.tags) && `tags ${canonicalTags(record.tags)} → ${canonicalTags(now.tags)}`,
      ].filter(Boolean);
      return moved.length ? new ApiError(409, `tenant ${record.tenantId} changed while this change was starting (${moved.join(', ')}: another operation ended); nothing started: read the tenant and send the change again`, 'conflict_error', 'tenant_changed') : undefined;
    };
    return startChange(record, requestId, key, asked, target, requestEntry(event), ifMatch, recheck);
  } },
  // One offboarding per tenant: again, 200 with the running one or "already offboarded". Its Idempotency-Key is the
  // offboarding's requestId (a key used for another operation of the tenant is a 409); its body `{ reason }` is recorded.
  'DELETE /admin/tenants/{id}': { query: null, idempotencyKey: 'honours', handle: async (event, id) => {
    const { reason } = statusChangeBody(event, 'offboarding');
    const record = await tenantOr404(id!);
    const key = idempotencyKey(event);
    if (key) refuseKeyOfAnother(record, key, 'offboard');
    if (key) sameOffboarding(record, key, reason);
    return offboard(record, requestEntry(event, reason), key);
  } },
  'POST /admin/tenants/{id}/retry': { query: null, idempotencyKey: { refuses: RETRY_AGAIN }, handle: async (event, id) => {
    const corrections = parse(RetryRequest, bodyOf(event));
    const record = await tenantOr404(id!);
    const onboarding = record.status === 'FAILED' || record.status === 'REQUESTED' || record.status === 'PROVISIONING';
    // Corrections apply to an onboarding only: past it (an offboarding, an owed announcement) they are refused, never dropped.
    if (!onboarding && (corrections.adminEmail || corrections.name)) {
      throw new ApiError(400, `tenant "${record.tenantId}" is ${record.status}: ${record.status === 'OFFBOARDING' ? 'an offboarding is retried as it is; ' : ''}adminEmail and name apply to a failed onboarding only`, 'invalid_request_error', 'invalid_request', corrections.adminEmail ? 'adminEmail' : 'name');
    }
    // Before the lease check: a retry while the offboarding runs answers with it, as a DELETE does (not a 409 naming an onboarding).
    // A failed offboarding's (no lease) owed `Tenant Lifecycle Failed` goes out first (sendOwedBeforeRetry).
    if (record.status === 'OFFBOARDING') {
      if (!record.lease) await sendOwedBeforeRetry(record);
      return offboard(record, requestEntry(event));
    }
    if (record.lease && !(await leaseHolderEnded(record.lease)).ended) throw busy(record, 'retry');
    if (onboarding) {
      await sendOwedBeforeRetry(record);
      return retryOnboarding(record, corrections, requestEntry(event));
    }
    // A lease still on the record has ended (checked above): a stopped operation does not keep an owed announcement unsent.
    if (record.owedAnnouncements?.length && (record.status === 'ACTIVE' || record.status === 'SUSPENDED' || record.status === 'OFFBOARDED')) {
      // An operation completed but its announcement failed (lambdas/lifecycle/announcements.ts): send it now.
      try {
        return json(200, { tenantId: record.tenantId, status: record.status, announced: await sendOwed(record) });
      } catch (e) {
        throw new ApiError(503, `tenant "${record.tenantId}": the owed announcement ${record.owedAnnouncements[0].detailType} could not be sent: ${(e as Error).name}: ${(e as Error).message}; it stays owed, retry later`, 'api_error', 'announcement_failed', 'owedAnnouncements');
      }
    }
    // UPDATING with no live lease (a change or upgrade that lost it: strandedOperation): retry does not resume a change, a repair ends it.
    const stranded = strandedOperation(record);
    const way = stranded ? `; it was left ${record.status} by a ${stranded.kind}${stranded.entry?.executionArn ? ` (execution ${stranded.entry.executionArn})` : ''} that no operation holds any more: tessera tenants update ${record.tenantId} --repair (PATCH with "repair": true) ends it as that ${stranded.kind}'s failure once its execution has ended, and deploys the tenant's own tier and version again` : '';
    throw new ApiError(409, `tenant "${record.tenantId}" is ${record.status}: nothing to retry (retry resumes a FAILED onboarding or a stopped offboarding)${way}`, 'conflict_error', 'invalid_status', 'status');
  } },
  // Replaces the policy with the body: again, the same policy. Both write conditionally on the policy's version read,
  // honour If-Match, and answer its ETag (gateway-policy-write.ts).
  'PUT /admin/tenants/{id}/gateway': { query: GatewayPolicyQuery, idempotencyKey: 'no-op', handle: async (event, id) => putGatewayPolicy(event, id!) },
  // Merges the body (JSON Merge Patch) into the policy: again, the same policy (a merge patch applied twice is applied once).
  'PATCH /admin/tenants/{id}/gateway': { query: GatewayPolicyQuery, idempotencyKey: 'no-op', handle: async (event, id) => patchGatewayPolicy(event, id!) },
  'POST /admin/tenants/{id}/suspend': { query: null, idempotencyKey: 'honours', handle: async (event, id) => statusChange(event, id!, 'suspend') },
  'POST /admin/tenants/{id}/resume': { query: null, idempotencyKey: 'honours', handle: async (event, id) => statusChange(event, id!, 'resume') },
  'GET /admin/tenants/{id}/execution': { query: ExecutionQuery, idempotencyKey: 'no-op', handle: async (event, id) => {
    // Right after a create the record may not exist yet; the execution does.
    const record = await getTenant(id!);
    const { executionArn: asked } = parse(ExecutionQuery, event.queryStringParameters ?? {});
    if (asked !== undefined) tenantExecution(id!, record, asked);
    // The last lifecycle operation's (a gateway-policy entry of the history is no execution).
    const executionArn = asked ?? record?.executions.findLast(isLifecycleEntry)?.executionArn;
    if (!executionArn && !record) throw new ApiError(404, `tenant "${id}" does not exist`, 'not_found_error', 'tenant_not_found', 'id');
    return json(200, await executionProgress(id!, record, executionArn));
  } },
};

/**
 * `POST /admin/tenants/{id}/suspend|resume` (no body): starts the status execution. With an
 * Idempotency-Key (as a PATCH): the same key again answers with that execution (200: running, or
 * its result, nothing started), also for a request that lost the race for the lease to it; the key
 * of a suspend sent to resume (or the reverse) is a 409 `idempotency_key_reused`. Before, a replay
 * after the suspend ended met a SUSPENDED tenant: 409 `invalid_status`. The 202 says the status the
 * tenant has while the execution runs (it is served as before: `during`), as every other 202 does,
 * and the one it has once it succeeds (`statusOnSuccess`); it said SUSPENDED before that was true.
 */
async function statusChange(event: APIGatewayProxyEvent, id: string, action: 'suspend' | 'resume'): Promise<APIGatewayProxyResult> {
  const { reason } = statusChangeBody(event, action);
  const record = await tenantOr404(id);
  const key = idempotencyKey(event);
  const earlier = key ? await earlierRequest(record, key, action, undefined, reason) : undefined;
  if (earlier) return earlier;
  const requestId = (key ?? event.requestContext?.requestId ?? `${Date.now()}`).slice(0, 80);
  let executionArn: string;
  try {
    executionArn = await startOperation(action, record, requestId, { request: { tenantId: record.tenantId, requestId }, action }, {}, requestEntry(event, reason));
  } catch (e) {
    // Two requests with one key at once: the one that lost the lease answers as a replay of the other.
    return replayOfRaceWinner(e, record.tenantId, key, action, undefined, reason);
  }
  const op = LIFECYCLE_OPERATIONS[action];
  return json(202, { tenantId: record.tenantId, requestId, executionArn, status: op.during, statusOnSuccess: op.success });
}

/**
 * The body of a suspend, resume or DELETE (StatusChangeRequest): none, `{}`, or `{ "reason": "…" }` (REQUEST_REASON). A
 * literal `null`, an array, a number or `false` is a 400 naming the root; another field a 400 `unknown_parameter` naming it;
 * a bad reason a 400 naming `reason`.
 */
function statusChangeBody(event: APIGatewayProxyEvent, what: string): StatusChangeRequest {
  // No body is `{}` (bodyOf): a literal `null` is a body, refused as `[]`, `0` and `false` are.
  const body = bodyOf(event);
  const takes = `${what} takes no body but an optional reason (send none, {} or {"reason": "…"})`;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, `(root) = ${shownValue(body)}: ${takes}`, 'invalid_request_error', 'invalid_request');
  const field = Object.keys(body).find((k) => k !== 'reason');
  if (field !== undefined) throw new ApiError(400, `${shownKey(field)} = ${shownValue((body as Record<string, unknown>)[field])}: ${takes}`, 'invalid_request_error', 'unknown_parameter', shownKey(field));
  return parse(StatusChangeRequest, body);
}

/**
 * 409 `idempotency_key_reused` when `key` names another operation of the tenant than `kind` (its lease or history entry):
 * a DELETE sent with a change's, suspend's or resume's key. The same key on the same kind is that request again.
 */
function refuseKeyOfAnother(record: TenantRecord, key: string, kind: LifecycleKind): void {
  const other = record.lease?.requestId === key && record.lease.kind !== kind ? { kind: record.lease.kind, executionArn: record.lease.executionArn, status: 'RUNNING' }
    : record.executions.findLast((e) => isLifecycleEntry(e) && e.requestId === key && e.kind !== kind);
  if (!other) return;
  throw new ApiError(409, `Idempotency-Key "${key}" was used for ${withArticle(other.kind)} of tenant "${record.tenantId}" (execution ${other.executionArn ?? '(unknown)'}, ${other.status}); this request asks ${kind}; send a new key for a new request`,
    'conflict_error', 'idempotency_key_reused', 'Idempotency-Key');
}

/**
 * A DELETE's Idempotency-Key `key` that names an offboarding of the tenant (its history entry) must come with that
 * offboarding's reason: refuseOtherReason. A DELETE under another key (or none) is not that request again, and answers
 * with the offboarding as before (offboard).
 */
function sameOffboarding(record: TenantRecord, key: string, reason: string | undefined): void {
  const entry = record.executions.findLast((e) => e.kind === 'offboard' && e.requestId === key);
  if (entry) refuseOtherReason(record, key, entry, reason);
}

/**
 * What a path's tenant id outside TENANT_ID_PATTERN that differs from a well-formed one only by case or Unicode
 * compatibility form (`ACME`, fullwidth `ａｃｍｅ`) adds to its 404: that ids are lowercase ASCII, and the id it would be
 * (NFKC, lowercased). Not looked up: the 404 is answered without a read, and says "would be", not that it exists. Before,
 * `tessera tenants suspend ACME` was `tenant "ACME" does not exist` alone. Empty for any other id.
 */
function lowercaseHint(id: string): string {
  const folded = id.normalize('NFKC').toLowerCase();
  return folded !== id && isTenantId(folded) ? `: tenant ids are lowercase ASCII letters, digits and "-"; as one it would be "${folded}"` : '';
}

/** A Step Functions execution ARN: `arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>`. */
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}$/;

/**
 * Checks the `executionArn` asked for on `GET /admin/tenants/{id}/execution`: an execution ARN
 * (else 400 naming it) of one of the lifecycle state machines, of this tenant: recorded in its
 * history or lease, or named `<kind>-<tenant>-<time>-<random>` as the admin API names them (a
 * request sent before the record exists); else 404 naming it. Without the check the answer showed
 * another tenant's execution under this tenant's id and status, and a malformed or unknown ARN
 * was a 500.
 */
function tenantExecution(tenantId: string, record: TenantRecord | undefined, executionArn: string): void {
  const shown = JSON.stringify(executionArn.length > 200 ? `${executionArn.slice(0, 197)}...` : executionArn);
  if (!EXECUTION_ARN.test(executionArn)) {
    throw new ApiError(400, `executionArn = ${shown}: not a Step Functions execution ARN (arn:aws:states:<region>:<account>:execution:<state machine>:<name>)`, 'invalid_request_error', 'invalid_request', 'executionArn');
  }
  const machine = executionArn.slice(0, executionArn.lastIndexOf(':')).replace(':execution:', ':stateMachine:');
  const lifecycle = [...new Set(Object.values(MACHINE_ENV))].map((env) => process.env[env]).filter(Boolean);
  const name = executionArn.slice(executionArn.lastIndexOf(':') + 1);
  const kinds = Object.keys(MACHINE_ENV).join('|');
  const recorded = record?.lease?.executionArn === executionArn || !!record?.executions.some((e) => e.executionArn === executionArn);
  const named = new RegExp(`^(${kinds})-${tenantId.replace(/[^a-z0-9-]/g, '')}-[0-9a-z]+-[0-9a-f]{8}$`).test(name);
  if (!lifecycle.includes(machine) || !(recorded || named)) {
    throw new ApiError(404, `executionArn = ${shown}: not a lifecycle execution of tenant "${tenantId}"`, 'not_found_error', 'execution_not_found', 'executionArn');
  }
}

/**
 * The tenant's recorded failure, answered with an execution that failed; with one stopped or timed out only when it is
 * that execution's (end-stopped-execution.ts records it after the execution ended: until then there is none).
 */
function failureOf(status: string | undefined, executionArn: string, failure: TenantRecord['failure']): TenantRecord['failure'] {
  if (status === 'FAILED') return failure;
  return (status === 'ABORTED' || status === 'TIMED_OUT') && failure?.executionArn === executionArn ? failure : undefined;
}

/**
 * The operation an execution of the tenant runs, as `tessera tenants watch` names it (`resume succeeded … — tenant acme is
 * ACTIVE`): the kind of its history entry or lease, else the kind its name starts with (`resume-acme-…`: executionName,
 * for an execution read before its entry is recorded), else its state machine's name without `tessera-`. The state
 * machine's name alone said `status` for a suspend or a resume (one machine runs both) and `change` for an upgrade.
 */
function operationOf(record: TenantRecord | undefined, executionArn: string): string | undefined {
  const recorded = record?.executions.find((e) => e.executionArn === executionArn)?.kind
    ?? (record?.lease?.executionArn === executionArn ? record.lease.kind : undefined);
  if (recorded) return recorded;
  const [machine, name] = executionArn.split(':execution:')[1]?.split(':') ?? [];
  const named = LifecycleKind.safeParse(name?.slice(0, name.indexOf('-')));
  return named.success ? named.data : machine?.replace(/^tessera-/, '');
}

/** One execution of a tenant (the latest unless named), step by step with durations, from its Step Functions history. */
export async function executionProgress(tenantId: string, record: TenantRecord | undefined, executionArn: string | undefined) {
  if (!executionArn) return { tenantId, status: record?.status, currentStep: record?.currentStep, failure: record?.failure, steps: [] };
  const sfn = platformClient(SFNClient);
  const execution = await sfn.send(new DescribeExecutionCommand({ executionArn })).catch((e: unknown) => {
    if (e instanceof ExecutionDoesNotExist) throw new ApiError(404, `executionArn = ${JSON.stringify(executionArn)}: Step Functions has no such execution (it keeps a closed one for 90 days)`, 'not_found_error', 'execution_not_found', 'executionArn');
    throw e;
  });
  // Every page of the history (1,000 events a page, GetExecutionHistory's maximum): a long execution (a Deploy step
  // retried on StackBusy every 30 s adds 3-4 events an attempt) can pass one page, and its later steps were missing.
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory(pages(sfn, 1000), { executionArn })) events.push(...(page.events ?? []));
  const steps = stepsOfHistory(events);
  const current = record ?? (await getTenant(tenantId));
  const kind = operationOf(current, executionArn);
  // An operation that took effect and whose announcement failed after it ends SUCCEEDED (lifecycle-workflows.ts failure()): what is still owed is named.
  const owed = (current?.owedAnnouncements ?? []).filter((a) => a.executionArn === executionArn).map((a) => ({ detailType: a.detailType, ...(a.error ? { error: a.error } : {}) }));
  return {
    tenantId, status: current?.status, kind, executionArn, executionStatus: execution.status,
    // The execution's own times (DescribeExecution): `tessera tenants watch` says how long it ran from them, not from its own start.
    startDate: execution.startDate?.toISOString(), stopDate: execution.stopDate?.toISOString(),
    currentStep: current?.currentStep, failure: failureOf(execution.status, executionArn, current?.failure), steps,
    ...(owed.length ? { owedAnnouncements: owed } : {}),
    // The invitation this onboarding recorded: *Invite tenant admin* ends DONE (✓) when it is SKIPPED or FAILED too.
    ...(current?.adminInvite?.executionArn === executionArn ? { adminInvite: current.adminInvite } : {}),
  };
}

/** The longest path id looked up in the registry (bytes): far above any tenant id, far below DynamoDB's 2,048-byte partition key. */
const MAX_PATH_ID_BYTES = 256;

export const handler = lifecycleHandler('Admin API', async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const key = `${event.httpMethod} ${event.resource}`;
  const route: AdminRoute | undefined = Object.hasOwn(routes, key) ? routes[key as RouteKey] : undefined;
  try {
    if (!route) {
      // A resource the API has, asked with another method (PUT /admin/drift): 405 with the methods it takes, as HTTP says (RFC 9110 §15.5.6).
      const allow = Object.keys(routes).filter((k) => k.slice(k.indexOf(' ') + 1) === event.resource).map((k) => k.slice(0, k.indexOf(' ')));
      if (allow.length) {
        const e = new ApiError(405, `${event.httpMethod} is not a method of ${event.resource}: it takes ${allow.join(', ')}`, 'invalid_request_error', 'method_not_allowed');
        return { statusCode: 405, headers: { 'content-type': 'application/json', allow: allow.join(', ') }, body: errorBody(e) };
      }
      throw new ApiError(404, `no route ${key}`, 'not_found_error', 'no_route');
    }
    if (!route.query) refuseQuery(event, key);
    refuseRepeatedQuery(event, key);
    refuseIdempotencyKey(event, key, route.idempotencyKey);
    const id = event.pathParameters?.id;
    // No tenant id is that long (TENANT_ID_PATTERN: 24 characters), and DynamoDB refuses a partition key over
    // 2,048 bytes with a ValidationException (a 500 here): answered without a lookup, the id cut in the message.
    if (id !== undefined && Buffer.byteLength(id) > MAX_PATH_ID_BYTES) {
      throw new ApiError(404, `tenant ${JSON.stringify(id.slice(0, 64))}… (${Buffer.byteLength(id)} bytes) does not exist: a tenant id is at most 24 characters`, 'not_found_error', 'tenant_not_found', 'id');
    }
    // Nor is any id outside TENANT_ID_PATTERN (`ACME`, `acme_corp`, `a--b`): the registry holds none (onboarding refuses
    // them), so the 404 a read would end in (tenantOr404's, the same body) is answered without it. A 404, not the 400 the
    // POST body's tenantId gets: that one is a value to create, refused; a path names a resource, and this one does not exist.
    // The id is quoted as JSON quotes it (shownValue): a path's `%1B[2J` is not echoed as the escape it decodes to.
    if (id !== undefined && !isTenantId(id)) throw new ApiError(404, `tenant ${shownValue(id)} does not exist${lowercaseHint(id)}`, 'not_found_error', 'tenant_not_found', 'id');
    return await route.handle(event, id);
  } catch (e) {
    if (e instanceof ApiError) return { statusCode: e.status, headers: { 'content-type': 'application/json' }, body: errorBody(e) };
    if ((e as Error).name === 'TenantConflict') return { statusCode: 409, headers: { 'content-type': 'application/json' }, body: errorBody(new ApiError(409, (e as Error).message, 'conflict_error', 'invalid_status')) };
    if ((e as Error).name === 'RegistryRecordInvalid') {
      // The registry's state, edited outside Tessera (RegistryRecordInvalidError): said as such, naming the record and its fields, not an internal error.
      const invalid = e as RegistryRecordInvalidError;
      logger.error('admin API: a registry record does not match the schema', { tenantId: invalid.tenantId, problems: invalid.problems, route: key });
      return { statusCode: 500, headers: { 'content-type': 'application/json' }, body: errorBody(new ApiError(500, invalid.message, 'api_error', 'registry_record_invalid')) };
    }
    if (e instanceof MissingEnvironmentError) {
      // The function's configuration, not the request nor a defect of the code: said as such in the log and the answer.
      logger.error('admin API configuration error: a required environment variable is not set', { variable: e.variable, route: key });
      const error = new ApiError(500, `the admin API is misconfigured: environment variable ${e.variable} is not set, and ${key} needs it; the platform stack sets it (redeploy the platform with cdk deploy), or, on a local platform, its harness`, 'api_error', 'configuration_error');
      return { statusCode: 500, headers: { 'content-type': 'application/json' }, body: errorBody(error) };
    }
    logger.error('admin API failed', { error: e as Error });
    return { statusCode: 500, headers: { 'content-type': 'application/json' }, body: errorBody(new ApiError(500, 'internal error; see the admin API logs', 'api_error', 'internal_error')) };
  }
}, { trackStep: false });
