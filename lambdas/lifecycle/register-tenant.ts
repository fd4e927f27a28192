import { LIFECYCLE_OPERATIONS, type TenantRecord, type TenantStatus } from '../../lib/tenant-record.js';
import { claimOnboardingRequest, releaseOnboardingRequest } from '../shared/control-table.js';
import { platformConfig } from '../shared/environment.js';
import { InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, putNewTenant, TenantConflictError, updateTenant } from '../shared/registry.js';
import { acquireLease, type LeaseRequest } from './lease.js';
import type { LifecycleState } from './state.js';

export interface Registration {
  /** `done`: the tenant is past onboarding (ACTIVE or later, OFFBOARDED included): the execution ends without side effects. */
  action: 'proceed' | 'done';
  status?: TenantStatus;
  /** The step a failed earlier run stopped at; the steps before it skip work the registry records as done. */
  resumedFrom?: string;
}

/**
 * Where an onboarding request differs from the one recorded for the tenant: each as
 * `field "recorded" → "requested"`. Isolation follows from the tier, and is named when it differs. `inviteAdmin` is
 * compared when the request gives it (a record without it: `"(not given)"`, the platform's default).
 */
export function requestDifferences(record: TenantRecord, request: LifecycleState['request']): string[] {
  const fields = ['name', 'tier', 'adminEmail', 'isolation', 'inviteAdmin'] as const;
  return fields
    .filter((f) => request[f] !== undefined && request[f] !== record[f])
    .map((f) => `${f} "${record[f] ?? '(not given)'}" → "${request[f]}"`);
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
 *   resumes; held by another live execution: refused (TenantBusy), nothing written.
 */
export const handler = lifecycleHandler('Register tenant', async (state: LifecycleState): Promise<Registration> => {
  const { request } = state;
  const lease: LeaseRequest = { kind: 'onboard', executionArn: state.executionArn!, requestId: request.requestId };
  const existing = await getTenant(request.tenantId);
  if (!existing) {
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
  const differences = requestDifferences(existing, request);
  if (differences.length) {
    throw new InvalidRequestError(`request ${request.requestId} differs from the one recorded for tenant ${request.tenantId}: ${differences.join('; ')}; `
      + `a failed onboarding is retried with its recorded request (POST /admin/tenants/${request.tenantId}/retry, which also takes a corrected adminEmail), anything else is a new tenant`);
  }
  const mine = existing.lease?.executionArn === lease.executionArn;
  if (!mine && !(LIFECYCLE_OPERATIONS.onboard.from as readonly TenantStatus[]).includes(existing.status)) return { action: 'done', status: existing.status };
  const held = await acquireLease(request.tenantId, lease);
  await updateTenant(request.tenantId, { status: 'PROVISIONING', currentStep: 'Register tenant', failure: undefined }, { holder: lease.executionArn });
  return { action: 'proceed', resumedFrom: existing.failure?.step ?? held.failure?.step };
}, { trackStep: false });
