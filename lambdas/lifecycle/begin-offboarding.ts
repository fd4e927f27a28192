import { tenantOptInRegions } from '../../lib/config/region-opt-in.js';
import { platformConfig } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { acquireLease } from './lease.js';
import type { LifecycleState } from './state.js';

/**
 * Takes the tenant's lease for the offboarding, which moves it to OFFBOARDING in the same
 * conditional write: the gateway stops serving the tenant at once (it serves ACTIVE and UPDATING
 * only). Refused (nothing written) while another operation runs or once the tenant is OFFBOARDED.
 * An offboarding that stopped earlier left the tenant OFFBOARDING: this resumes it.
 *
 * A tenant rebuilt in its DR region by the failover runbook was refused by the step before this one, *Check rebuilt
 * stack* (check-rebuilt-stack.ts), before anything of the offboarding is done: that check reads the tenant's account,
 * which this step, a lease-taking one, may not reach.
 *
 * `optInRegions`: the opt-in regions of the tenant's own account that hold its resources (tenantOptInRegions: the home
 * region, the recorded DR region), present only when there is one and the account is not yet queued for closure
 * (`accountClosure`: *Retire account* ran, nothing calls into its regions any more): *Enable regions* then runs after
 * *Revoke usage key* and before the first call into the account (*Retire fine-tuned models*), enabling again a region
 * someone disabled in the account since the onboarding, whose resources are unreachable until it is.
 */
export const handler = lifecycleHandler('Begin offboarding', async (state: LifecycleState) => {
  const record = await acquireLease(state.request.tenantId, { kind: 'offboard', executionArn: state.executionArn!, requestId: state.request.requestId }, { currentStep: 'Begin offboarding' });
  const previousStatus = record.lease?.previousStatus ?? record.status;
  const optInRegions = record.accountClosure ? [] : tenantOptInRegions(platformConfig().homeRegion, record);
  return { previousStatus, isolation: record.isolation, hasStack: Boolean(record.stackName), accountId: record.accountId, ...(optInRegions.length > 0 ? { optInRegions } : {}) };
}, { trackStep: false });
