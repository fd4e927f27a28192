import type { TenantRecord } from '../../lib/tenant-record.js';
import { platformConfig } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { getTenant, putNewTenant, sameExecution, TenantConflictError, updateTenant } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

export interface Registration {
  /** `done`: this request already onboarded the tenant; the execution ends without side effects. */
  action: 'proceed' | 'done';
  /** The step a failed earlier run stopped at; the steps before it are skipped, being recorded as done. */
  resumedFrom?: string;
}

/**
 * Writes the tenant record (conditional: a tenant id is registered once). The same request again
 * is a no-op; a re-run of a failed onboarding resumes; a different request for a taken id is refused.
 */
export const handler = lifecycleHandler('Register tenant', async (state: LifecycleState): Promise<Registration> => {
  const { request } = state;
  const now = new Date().toISOString();
  const execution = { kind: 'onboard' as const, requestId: request.requestId, executionArn: state.executionArn, startedAt: now, status: 'RUNNING' as const };
  const existing = await getTenant(request.tenantId);
  if (!existing) {
    const record: TenantRecord = {
      tenantId: request.tenantId,
      name: request.name,
      tier: request.tier,
      isolation: request.isolation!,
      adminEmail: request.adminEmail,
      accountId: request.isolation === 'vpc' ? platformConfig().workloadAccountId : undefined,
      status: 'PROVISIONING',
      currentStep: 'Register tenant',
      requestId: request.requestId,
      createdAt: now,
      updatedAt: now,
      stackOutputs: {},
      executions: [execution],
    };
    if (await putNewTenant(record)) return { action: 'proceed' };
    return handler({ ...state }); // lost a race with the same id: decide against the winner's record
  }
  if (existing.requestId !== request.requestId) {
    throw new TenantConflictError(`tenant id "${request.tenantId}" is already registered by request ${existing.requestId} (status ${existing.status}); choose another id`);
  }
  if (existing.status === 'ACTIVE') return { action: 'done' };
  if (existing.status === 'REQUESTED' || existing.status === 'PROVISIONING' || existing.status === 'FAILED') {
    const resumedFrom = existing.failure?.step;
    const executions = [...existing.executions.filter((e) => !sameExecution(e, execution)), execution];
    await updateTenant(request.tenantId, { status: 'PROVISIONING', failure: undefined, executions }, { expectStatus: ['REQUESTED', 'PROVISIONING', 'FAILED'] });
    return { action: 'proceed', resumedFrom };
  }
  throw new TenantConflictError(`tenant "${request.tenantId}" is ${existing.status}; onboarding applies only to new or failed tenants`);
}, { trackStep: false });
