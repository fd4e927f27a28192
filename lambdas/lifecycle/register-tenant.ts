import { adminInviteProblem, invitesByDefault, LIFECYCLE_OPERATIONS, type OnboardRequest, type TenantRecord, type TenantStatus } from '../../lib/tenant-record.js';
import { canonicalTags, type TenantTags } from '../../lib/tenant-tags.js';
import { claimOnboardingRequest, releaseOnboardingRequest } from '../shared/control-table.js';
import { ENV, platformConfig } from '../shared/environment.js';
import { InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, putNewTenant, TenantConflictError, updateTenant } from '../shared/registry.js';
import { acquireLease, type LeaseRequest } from './lease.js';
import type { LifecycleState } from './state.js';

export interface Registration {
  /**
   * `done`: the tenant is past onboarding (ACTIVE or later, OFFBOARDED included), or this request's onboarding is running
   * under another execution (`runningExecution`): the execution ends without side effects.
   */
  action: 'proceed' | 'done';
  status?: TenantStatus;
  /** The live execution that holds the tenant for this same request (a duplicate delivery of the request): this one did nothing. */
  runningExecution?: string;
  /** The step a failed earlier run stopped at; the steps before it skip work the registry records as done. */
  resumedFrom?: string;
}

/** The onboarding request's fields every request gives (OnboardRequest), and `isolation`, which follows from the tier. */
const REQUIRED_FIELDS = ['name', 'tier', 'adminEmail', 'isolation'] as const;
/** The onboarding request's optional fields (OnboardRequest's `.optional()` keys; `requestId` and `tenantId` identify it). */
type OptionalField = { [K in keyof OnboardRequest]-?: undefined extends OnboardRequest[K] ? K : never }[keyof OnboardRequest];

/**
 * The value each optional field of an onboarding request (OnboardRequest) takes when the request leaves it out, on this
 * platform: `inviteAdmin` true with the platform's own user pool, false without one (invitesByDefault); `tags` none
 * (`{}`). What the onboarding does with a field left out, so what a replay that leaves it out asks.
 * @param userPoolId the platform pool (TESSERA_USER_POOL_ID) @default - this Lambda's environment
 */
export function onboardDefaults(userPoolId = process.env[ENV.userPoolId]): { [K in OptionalField]-?: NonNullable<OnboardRequest[K]> } {
  return { inviteAdmin: invitesByDefault(userPoolId), tags: {} };
}

/**
 * Where an onboarding request differs from the one recorded for the tenant under the same `requestId` (a replay): each as
 * `field "recorded" → "requested"`. Isolation follows from the tier, and is named when it differs. An optional field
 * (onboardDefaults) is compared as the value each side means: the one it gave, else its default; one side leaving it out
 * is named with the default, `inviteAdmin "false" → (not given: default "true")`. A replay means what its request says,
 * as a `PATCH` replayed under its Idempotency-Key with another body is another change (admin-api.ts earlierRequest): an
 * original `inviteAdmin: false` replayed without it asked for an invitation on a platform with a user pool (its default
 * there), and was taken for the same onboarding; without a pool it means false and is the same request. The record keeps
 * the field as sent (absent: the default), and *Invite tenant admin* decides with the record's. `tags` are compared as
 * sets (key order aside; left out, its default `{}`) and shown as JSON: `tags {"CostCenter":"4711"} → {"CostCenter":"4712"}`.
 * @param userPoolId the platform pool, which decides the defaults @default - this Lambda's environment
 */
export function requestDifferences(record: TenantRecord, request: LifecycleState['request'], userPoolId = process.env[ENV.userPoolId]): string[] {
  const required = REQUIRED_FIELDS
    .filter((f) => request[f] !== undefined && request[f] !== record[f])
    .map((f) => difference(f, `"${record[f] ?? '(not given)'}"`, `"${request[f]}"`));
  const defaults = onboardDefaults(userPoolId);
  // A value as compared and shown: the tags as a set (canonicalTags: JSON, keys sorted), anything else quoted.
  const valueOf = (v: unknown) => (typeof v === 'object' && v !== null ? canonicalTags(v as TenantTags) : `"${String(v)}"`);
  const shown = (f: OptionalField, v: unknown) => (v === undefined ? `(not given: default ${valueOf(defaults[f])})` : valueOf(v));
  const optional = (Object.keys(defaults) as OptionalField[])
    .filter((f) => valueOf(record[f] ?? defaults[f]) !== valueOf(request[f] ?? defaults[f]))
    .map((f) => difference(f, shown(f, record[f]), shown(f, request[f])));
  return [...required, ...optional];
}

/** What a reader cannot see of a text: the Unicode normalization (NFC) and the invisible format characters (Cf: U+200B, U+FEFF, …). */
const seen = (text: string) => text.normalize('NFC').replace(/\p{Cf}/gu, '');

/** `text` with each UTF-16 unit outside printable ASCII as `\uXXXX`, as JSON escapes it. */
const escapedText = (text: string) => text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * One difference, `field recorded → requested`. Two values that look alike (equal once NFC-normalized and without format
 * characters: `Café` composed and decomposed, a zero-width space after a name) are shown escaped, with why, so that the
 * refusal says what differs: before, `name "Café" → "Café"` named two values no one could tell apart.
 */
function difference(field: string, recorded: string, requested: string): string {
  if (recorded === requested || seen(recorded) !== seen(requested)) return `${field} ${recorded} → ${requested}`;
  return `${field} ${escapedText(recorded)} → ${escapedText(requested)} (they look alike: they differ in Unicode normalization or invisible characters, `
    + 'each character outside printable ASCII shown as \\uXXXX; the values are compared as sent, code point by code point)';
}

/**
 * Refuses (InvalidRequest, `invalid onboarding request: adminEmail = "...": ...`) an onboarding whose first admin Cognito
 * cannot take as a user (adminInviteProblem), on this Lambda's pool.
 * @throws InvalidRequestError naming adminEmail, its value and the rule
 */
function refuseUninvitableAdmin(request: Pick<LifecycleState['request'], 'adminEmail' | 'inviteAdmin'>): void {
  const problem = adminInviteProblem(request.adminEmail, request.inviteAdmin, invitesByDefault(process.env[ENV.userPoolId]));
  if (problem) throw new InvalidRequestError(`invalid onboarding request: ${problem}`);
}

/**
 * Refuses (InvalidRequest) an onboarding request that differs from the one recorded for the tenant under its request id
 * (requestDifferences), naming each difference and the way to retry with corrections.
 * @throws InvalidRequestError `request <id> differs from the one recorded for tenant <id>: <field "recorded" → "requested">; …`
 */
function refuseDifferences(record: TenantRecord, request: LifecycleState['request']): void {
  const differences = requestDifferences(record, request);
  if (!differences.length) return;
  throw new InvalidRequestError(`request ${request.requestId} differs from the one recorded for tenant ${request.tenantId}: ${differences.join('; ')}; `
    + `a failed onboarding is retried with its recorded request (POST /admin/tenants/${request.tenantId}/retry, which also takes a corrected adminEmail), anything else is a new tenant`);
}

/**
 * Takes the tenant's lease for this onboarding and writes the record (PROVISIONING):
 * - no record: the request id is claimed for the tenant (refused with InvalidRequest, nothing
 *   written, when another tenant's onboarding used it), then a conditional put creates the record,
 *   lease included (a tenant id is registered once);
 * - the record of another request: refused (TenantConflict), nothing written;
 * - the same request with other values (tier, email, name): refused naming the differences,
 *   nothing written; a corrected email goes through `POST /admin/tenants/{id}/retry`;
 * - the same request for a tenant past onboarding (ACTIVE, UPDATING, SUSPENDED, OFFBOARDING,
 *   OFFBOARDED): `done`, nothing written — a replayed request is a no-op;
 * - the same request for a FAILED (or never-started) onboarding: the lease is taken and the run
 *   resumes; held by another live execution of the same request (a duplicate delivery): `done` naming it
 *   (`runningExecution`), nothing written; held by another operation: refused (TenantBusy), nothing written.
 * A new onboarding, or one it would resume, whose `adminEmail` Cognito cannot take as the first admin's Username when
 * it invites (adminInviteProblem: 1-128 characters, no whitespace) is refused with InvalidRequest naming `adminEmail` and
 * its value before anything is claimed, created or leased. *Validate request* cannot: only this step has the platform's
 * pool (TESSERA_USER_POOL_ID), which decides whether a request leaving `inviteAdmin` out invites; without the check an
 * onboarding from the console or the bus was refused minutes later, at *Invite tenant admin*.
 *
 * The checks of an existing record are made again on the record the lease returned (another execution of the request may
 * have ended between the read and the lease): a request that now differs from the recorded one (a retry with a corrected
 * adminEmail ran meanwhile) is refused, and a tenant that onboarding left ACTIVE meanwhile is `done`, not refused
 * TenantConflict. Until 2026-12-07 the read before the lease decided both, and `resumedFrom` named its failure, also
 * when the record the lease returned had none (another run had cleared it).
 */
export const handler = lifecycleHandler('Register tenant', async (state: LifecycleState): Promise<Registration> => {
  const { request } = state;
  const lease: LeaseRequest = { kind: 'onboard', executionArn: state.executionArn!, requestId: request.requestId };
  const existing = await getTenant(request.tenantId);
  if (!existing) {
    refuseUninvitableAdmin(request);
    // The admin API claimed it already; an execution started elsewhere (a bus event, StartExecution) claims it here.
    const holder = await claimOnboardingRequest(request.requestId, request.tenantId);
    if (holder !== undefined) {
      throw new InvalidRequestError(`request ${request.requestId} was used for the onboarding of tenant ${holder}; a request id names one request: send a new requestId to onboard ${request.tenantId}`);
    }
    const now = new Date().toISOString();
    const record: TenantRecord = {
      tenantId: request.tenantId,
      name: request.name,
      tier: request.tier,
      isolation: request.isolation!,
      adminEmail: request.adminEmail,
      ...(request.inviteAdmin !== undefined ? { inviteAdmin: request.inviteAdmin } : {}),
      ...(request.tags !== undefined && Object.keys(request.tags).length > 0 ? { tags: request.tags } : {}),
      accountId: request.isolation === 'vpc' ? platformConfig().workloadAccountId : undefined,
      status: 'PROVISIONING',
      lease: { ...lease, acquiredAt: now, previousStatus: 'REQUESTED' },
      currentStep: 'Register tenant',
      requestId: request.requestId,
      createdAt: now,
      updatedAt: now,
      stackOutputs: {},
      executions: [{ ...lease, startedAt: now, status: 'RUNNING' }],
    };
    if (await putNewTenant(record)) return { action: 'proceed' };
    // Lost a race with the same tenant id. To another request: this one registered nothing, so its id is given back
    // (only this tenant's claim). Then decide against the winner's record.
    const winner = await getTenant(request.tenantId);
    if (winner && winner.requestId !== request.requestId) {
      await releaseOnboardingRequest(request.requestId, request.tenantId).catch((e: unknown) => logger.warn('could not release the onboarding request id', { requestId: request.requestId, error: e as Error }));
    }
    return handler({ ...state });
  }
  if (existing.requestId !== request.requestId) {
    throw new TenantConflictError(`tenant id "${request.tenantId}" is already registered by request ${existing.requestId} (status ${existing.status}); choose another id`);
  }
  refuseDifferences(existing, request);
  const mine = existing.lease?.executionArn === lease.executionArn;
  if (!mine && !(LIFECYCLE_OPERATIONS.onboard.from as readonly TenantStatus[]).includes(existing.status)) return { action: 'done', status: existing.status };
  refuseUninvitableAdmin({ ...request, adminEmail: existing.adminEmail, inviteAdmin: existing.inviteAdmin });
  let held: TenantRecord;
  try {
    held = await acquireLease(request.tenantId, lease);
  } catch (e) {
    // The same request (same id, same values: compared above) onboarding under another live execution: a duplicate
    // delivery (EventBridge delivers at least once; a replayed bus event or StartExecution) is a no-op naming it, as the
    // admin API answers the same request again. Before, it ended refused (TenantBusy): a Tenant Lifecycle Failed on the bus
    // and a lastRefusal on the tenant for a request that was being carried out.
    const now = (e as Error).name === 'TenantBusy' || (e as Error).name === 'TenantConflict' ? await getTenant(request.tenantId) : undefined;
    // Another execution of this request ended it between the read above and the lease (a duplicate delivery racing a
    // retry): the tenant past onboarding is `done`, as it is when read so before the lease (it was refused TenantConflict).
    if ((e as Error).name === 'TenantConflict' && now?.requestId === request.requestId && !now.lease && !(LIFECYCLE_OPERATIONS.onboard.from as readonly TenantStatus[]).includes(now.status)) {
      return { action: 'done', status: now.status };
    }
    const holder = (e as Error).name === 'TenantBusy' ? now?.lease : undefined;
    if (holder?.kind !== 'onboard' || holder.requestId !== request.requestId) throw e;
    logger.info('the same onboarding request is running under another execution: nothing to do', { tenantId: request.tenantId, requestId: request.requestId, runningExecution: holder.executionArn });
    return { action: 'done', status: now!.status, runningExecution: holder.executionArn };
  }
  // Decided again on the record the lease returned: a retry with corrections (POST /retry, a new adminEmail or name) that ran
  // and failed between the read above and the lease recorded other values than this request's. Refused (InvalidRequest,
  // which Record failure records on the tenant this execution now holds), never an onboarding of the values read before.
  refuseDifferences(held, request);
  refuseUninvitableAdmin({ ...request, adminEmail: held.adminEmail, inviteAdmin: held.inviteAdmin });
  await updateTenant(request.tenantId, { status: 'PROVISIONING', currentStep: 'Register tenant', failure: undefined }, { holder: lease.executionArn });
  // Where the last failed run stopped: the failure the lease returned, and only it (a run that failed since the read above
  // stopped there; one that ran since and cleared the failure left none). Until 2026-12-07 a record the lease returned
  // without a failure fell back to the read above's, naming a step another run had gone past.
  const resumedFrom = held.failure?.step;
  return { action: 'proceed', ...(resumedFrom ? { resumedFrom } : {}) };
}, { trackStep: false });
