import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { recordExecution, requireTenant, updateTenant, sameExecution } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

/** Records the new tier and version, ACTIVE again, and announces the change. */
export const handler = lifecycleHandler('Finish change', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  const tier = state.change?.tier ?? record.tier;
  const started = record.executions.find((e) => sameExecution(e, { kind: 'change', requestId: state.request.requestId, executionArn: state.executionArn }));
  await recordExecution(record.tenantId, {
    kind: 'change', requestId: state.request.requestId, executionArn: state.executionArn, startedAt: started?.startedAt ?? new Date().toISOString(), endedAt: new Date().toISOString(), status: 'SUCCEEDED',
  });
  const updated = await updateTenant(record.tenantId, { status: 'ACTIVE', tier, currentStep: undefined, failure: undefined });
  await emitLifecycleEvent(LIFECYCLE_EVENTS.changed, { tenantId: updated.tenantId, previousTier: record.tier, tier, blueprintVersion: updated.blueprintVersion });
  return { status: updated.status, tier, blueprintVersion: updated.blueprintVersion };
});
