import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { completeOperation } from './lease.js';
import type { LifecycleState } from './state.js';

/**
 * OFFBOARDED, the history entry SUCCEEDED and the lease released in one conditional write, then
 * `Tenant Offboarded`. The record stays (history, archive location); the tenant id is never reused.
 */
export const handler = lifecycleHandler('Finish offboarding', async (state: LifecycleState & { export?: { prefix: string } }) => {
  const record = await completeOperation(state.request.tenantId, { kind: 'offboard', executionArn: state.executionArn!, requestId: state.request.requestId });
  await emitLifecycleEvent(LIFECYCLE_EVENTS.offboarded, { tenantId: record.tenantId, accountId: record.accountId, archive: state.export?.prefix, executionArn: state.executionArn });
  return { status: 'OFFBOARDED' };
}, { trackStep: false });
