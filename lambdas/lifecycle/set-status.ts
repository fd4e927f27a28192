import { LIFECYCLE_EVENTS, type TenantStatus } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { recordExecution, requireTenant, updateTenant } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

const TRANSITIONS: Record<'suspend' | 'resume', { from: TenantStatus[]; to: TenantStatus; event: string }> = {
  suspend: { from: ['ACTIVE'], to: 'SUSPENDED', event: LIFECYCLE_EVENTS.suspended },
  resume: { from: ['SUSPENDED'], to: 'ACTIVE', event: LIFECYCLE_EVENTS.resumed },
};

/**
 * Suspend or resume: one conditional write of the status the gateway reads on every request, so
 * access stops (or returns) at once; every resource is kept.
 */
export const handler = lifecycleHandler('Set status', async (state: LifecycleState & { action: 'suspend' | 'resume' }) => {
  const t = TRANSITIONS[state.action];
  const record = await requireTenant(state.request.tenantId);
  const at = new Date().toISOString();
  const updated = await updateTenant(record.tenantId, { status: t.to }, { expectStatus: t.from });
  await recordExecution(record.tenantId, { kind: state.action, requestId: state.request.requestId, executionArn: state.executionArn, startedAt: at, endedAt: at, status: 'SUCCEEDED' });
  await emitLifecycleEvent(t.event, { tenantId: record.tenantId, previousStatus: record.status, status: updated.status });
  return { status: updated.status };
}, { trackStep: false });
