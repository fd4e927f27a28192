import { lifecycleHandler } from '../shared/handler.js';
import { acquireLease } from './lease.js';
import type { LifecycleState } from './state.js';

/**
 * Takes the tenant's lease for the offboarding, which moves it to OFFBOARDING in the same
 * conditional write: the gateway stops serving the tenant at once (it serves ACTIVE and UPDATING
 * only). Refused (nothing written) while another operation runs or once the tenant is OFFBOARDED.
 * An offboarding that stopped earlier left the tenant OFFBOARDING: this resumes it.
 */
export const handler = lifecycleHandler('Begin offboarding', async (state: LifecycleState) => {
  const record = await acquireLease(state.request.tenantId, { kind: 'offboard', executionArn: state.executionArn!, requestId: state.request.requestId }, { currentStep: 'Begin offboarding' });
  const previousStatus = record.lease?.previousStatus ?? record.status;
  return { previousStatus, isolation: record.isolation, hasStack: Boolean(record.stackName), accountId: record.accountId };
}, { trackStep: false });
