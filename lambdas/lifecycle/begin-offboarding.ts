import { lifecycleHandler } from '../shared/handler.js';
import { recordExecution, requireTenant, updateTenant } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

/** OFFBOARDING: the gateway stops serving the tenant at once (it serves ACTIVE and UPDATING only). */
export const handler = lifecycleHandler('Begin offboarding', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  if (record.status !== 'OFFBOARDING') {
    await updateTenant(record.tenantId, { status: 'OFFBOARDING' }, { expectStatus: ['ACTIVE', 'SUSPENDED', 'FAILED'] });
  }
  await recordExecution(record.tenantId, { kind: 'offboard', requestId: state.request.requestId, executionArn: state.executionArn, startedAt: new Date().toISOString(), status: 'RUNNING' });
  return { previousStatus: record.status, isolation: record.isolation, hasStack: Boolean(record.stackName), accountId: record.accountId };
});
