import { LIFECYCLE_EVENTS, requestedBy } from '../../lib/tenant-record.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { owe, sendOwed } from './announcements.js';
import { completeOperation } from './lease.js';
import type { LifecycleState } from './state.js';

/**
 * OFFBOARDED, the history entry SUCCEEDED, the lease released and `Tenant Offboarded` owed, in one
 * conditional write, then the announcement (announcements.ts: a retry sends it if still owed). The
 * record stays (history, archive location); the tenant id is never reused. The event carries who asked for the offboarding
 * and why (`actor`, `reason`: its history entry's, lib/tenant-record.ts requestedBy), when the admin API recorded them.
 */
export const handler = lifecycleHandler('Finish offboarding', async (state: LifecycleState & { export?: { prefix: string } }) => {
  const before = await requireTenant(state.request.tenantId);
  const announcement = owe(before, LIFECYCLE_EVENTS.offboarded, { tenantId: before.tenantId, accountId: before.accountId, archive: state.export?.prefix, executionArn: state.executionArn, ...requestedBy(before, state.executionArn) }, state.executionArn);
  const record = await completeOperation(state.request.tenantId, { kind: 'offboard', executionArn: state.executionArn!, requestId: state.request.requestId }, announcement);
  await sendOwed(record);
  return { status: 'OFFBOARDED' };
}, { trackStep: false });
