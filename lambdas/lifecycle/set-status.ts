import { LIFECYCLE_EVENTS, LIFECYCLE_OPERATIONS, requestedBy } from '../../lib/tenant-record.js';
import { InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { owe, sendOwed } from './announcements.js';
import { acquireLease, completeOperation } from './lease.js';
import type { LifecycleState } from './state.js';

const EVENTS = { suspend: LIFECYCLE_EVENTS.suspended, resume: LIFECYCLE_EVENTS.resumed } as const;

/**
 * Suspend or resume: takes the tenant's lease (refused while another operation runs, or when the
 * status does not allow it: suspend needs ACTIVE, resume SUSPENDED), then one conditional write
 * sets the status the gateway reads on every request, so access stops (or returns) at once,
 * releases the lease and writes `Tenant Suspended` / `Tenant Resumed` owed (announcements.ts), which
 * it then sends. Every resource is kept. A PutEvents failure after that write leaves the
 * announcement owed and the history SUCCEEDED: *Record status failure* sends it again (the
 * execution ends SUCCEEDED, *Took effect, …*), or `tessera tenants retry` does. The event carries who asked and why
 * (`actor`, `reason`: the execution's history entry, as the admin API recorded them: lib/tenant-record.ts requestedBy).
 */
export const handler = lifecycleHandler('Set status', async (state: LifecycleState & { action: 'suspend' | 'resume' }) => {
  // The status machine's input names the action: anything but these two is refused before the lease.
  if (state.action !== 'suspend' && state.action !== 'resume') throw new InvalidRequestError(`action = ${JSON.stringify(state.action)}: must be "suspend" or "resume"`);
  const request = { kind: state.action, executionArn: state.executionArn!, requestId: state.request.requestId };
  const record = await requireTenant(state.request.tenantId);
  // A retry after the status write (the announcement failed) only announces what is still owed. Nothing owed for this
  // execution: its announcement was sent and cleared (the outbox removes only what was sent: by the operation after it,
  // a resume's Set status sending the outbox oldest first, or by tessera tenants retry), and is not sent again, as *Record
  // status failure* does not (record-failure.ts recordWithoutLease). Until 2026-12-07 it was sent anew with the status
  // the tenant had then: a suspension resumed before this retry announced `Tenant Suspended` after `Tenant Resumed`,
  // saying ACTIVE.
  if (record.executions.some((e) => e.executionArn === request.executionArn && e.status === 'SUCCEEDED')) {
    if (record.owedAnnouncements?.some((a) => a.executionArn === request.executionArn)) await sendOwed(record);
    return { status: record.status };
  }
  const held = await acquireLease(state.request.tenantId, request, { currentStep: 'Set status' });
  const previousStatus = held.lease?.executionArn === request.executionArn ? held.lease.previousStatus : undefined;
  const status = LIFECYCLE_OPERATIONS[state.action].success;
  const updated = await completeOperation(state.request.tenantId, request, owe(held, EVENTS[state.action], {
    tenantId: held.tenantId, previousStatus, status, executionArn: state.executionArn, ...requestedBy(held, state.executionArn),
  }, state.executionArn));
  await sendOwed(updated);
  return { status: updated.status };
}, { trackStep: false });
