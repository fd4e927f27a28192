import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { acquireLease, completeOperation } from './lease.js';
import type { LifecycleState } from './state.js';

const EVENTS = { suspend: LIFECYCLE_EVENTS.suspended, resume: LIFECYCLE_EVENTS.resumed } as const;

/**
 * Suspend or resume: takes the tenant's lease (refused while another operation runs, or when the
 * status does not allow it: suspend needs ACTIVE, resume SUSPENDED), then one conditional write
 * sets the status the gateway reads on every request, so access stops (or returns) at once, and
 * releases the lease. Every resource is kept.
 */
export const handler = lifecycleHandler('Set status', async (state: LifecycleState & { action: 'suspend' | 'resume' }) => {
  // The status machine's input names the action: anything but these two is refused before the lease.
  if (state.action !== 'suspend' && state.action !== 'resume') throw new InvalidRequestError(`action = ${JSON.stringify(state.action)}: must be "suspend" or "resume"`);
  const request = { kind: state.action, executionArn: state.executionArn!, requestId: state.request.requestId };
  const record = await requireTenant(state.request.tenantId);
  // A retry after the status write (the announcement failed) only announces.
  const done = record.executions.some((e) => e.executionArn === request.executionArn && e.status === 'SUCCEEDED');
  const held = done ? record : await acquireLease(state.request.tenantId, request, { currentStep: 'Set status' });
  const previousStatus = held.lease?.executionArn === request.executionArn ? held.lease.previousStatus : undefined;
  const updated = done ? record : await completeOperation(state.request.tenantId, request);
  await emitLifecycleEvent(EVENTS[state.action], { tenantId: updated.tenantId, previousStatus, status: updated.status, executionArn: state.executionArn });
  return { status: updated.status };
}, { trackStep: false });
