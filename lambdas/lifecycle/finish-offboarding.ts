import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { recordExecution, requireTenant, updateTenant, sameExecution } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

/** OFFBOARDED: the record stays (history, archive location); the tenant id is never reused. */
export const handler = lifecycleHandler('Finish offboarding', async (state: LifecycleState & { export?: { prefix: string } }) => {
  const record = await requireTenant(state.request.tenantId);
  const started = record.executions.find((e) => sameExecution(e, { kind: 'offboard', requestId: state.request.requestId, executionArn: state.executionArn }));
  await recordExecution(record.tenantId, {
    kind: 'offboard', requestId: state.request.requestId, executionArn: state.executionArn, startedAt: started?.startedAt ?? new Date().toISOString(), endedAt: new Date().toISOString(), status: 'SUCCEEDED',
  });
  await updateTenant(record.tenantId, { status: 'OFFBOARDED', currentStep: undefined });
  await emitLifecycleEvent(LIFECYCLE_EVENTS.offboarded, { tenantId: record.tenantId, accountId: record.accountId, archive: state.export?.prefix });
  return { status: 'OFFBOARDED' };
});
