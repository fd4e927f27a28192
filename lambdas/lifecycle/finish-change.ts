import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { completeOperation } from './lease.js';
import type { LifecycleState } from './state.js';

/**
 * Records the new tier, ACTIVE again, the history entry SUCCEEDED and the lease released, in one
 * conditional write; then announces the change. A retry after the write finds it done.
 */
export const handler = lifecycleHandler('Finish change', async (state: LifecycleState & { kind?: 'change' | 'upgrade' }) => {
  const before = await requireTenant(state.request.tenantId);
  const tier = state.change?.tier ?? before.tier;
  const updated = await completeOperation(before.tenantId, { kind: state.kind ?? 'change', executionArn: state.executionArn!, requestId: state.request.requestId }, { tier });
  await emitLifecycleEvent(LIFECYCLE_EVENTS.changed, { tenantId: updated.tenantId, previousTier: state.change?.previousTier ?? before.tier, tier, blueprintVersion: updated.blueprintVersion, executionArn: state.executionArn });
  return { status: updated.status, tier, blueprintVersion: updated.blueprintVersion };
}, { trackStep: false });
