import { tenantOptInRegions } from '../../lib/config/region-opt-in.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { platformConfig } from '../shared/environment.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant } from '../shared/registry.js';
import { acquireLease } from './lease.js';
import { rebuiltOffboardingRefusal, rebuiltStackOf } from './rebuilt-stack.js';
import type { LifecycleState } from './state.js';

/**
 * Refuses the offboarding of a tenant rebuilt in its DR region by the failover runbook (rebuilt-stack.ts: a stack
 * `tessera-<id>` there) before anything of it is done: TenantRebuiltInDrRegion (rebuiltOffboardingRefusal). Not asked
 * of an OFFBOARDED tenant (acquireLease refuses it) nor once the account is queued for closure (`accountClosure`:
 * *Delete tenant stacks*, which checks too, ran before *Retire account*). A check that fails in a DR region that is an
 * opt-in region of the tenant's own account (tenantOptInRegions: someone may have disabled it, and *Enable regions*
 * enables it again only later) lets the offboarding go on, and *Delete tenant stacks* checks again before it deletes
 * anything; any other failure fails the step (nothing changed).
 */
async function refuseRebuilt(record: TenantRecord, executionArn: string): Promise<void> {
  if (record.status === 'OFFBOARDED' || record.accountClosure) return;
  const previousStatus = record.lease?.executionArn === executionArn ? record.lease.previousStatus : record.status;
  let rebuilt;
  try {
    rebuilt = await rebuiltStackOf(record, 'offboard');
  } catch (e) {
    const region = record.disasterRecovery?.region;
    if (!region || !tenantOptInRegions(platformConfig().homeRegion, record).includes(region)) throw e;
    logger.warn('could not look for a rebuilt stack in the DR region (an opt-in region, maybe disabled); Delete tenant stacks checks again', { region, error: e as Error });
    return;
  }
  if (rebuilt) throw rebuiltOffboardingRefusal(record, rebuilt, previousStatus);
}

/**
 * Takes the tenant's lease for the offboarding, which moves it to OFFBOARDING in the same
 * conditional write: the gateway stops serving the tenant at once (it serves ACTIVE and UPDATING
 * only). Refused (nothing written) while another operation runs or once the tenant is OFFBOARDED.
 * An offboarding that stopped earlier left the tenant OFFBOARDING: this resumes it.
 *
 * First, a tenant rebuilt in its DR region (refuseRebuilt) is refused with TenantRebuiltInDrRegion, before the lease is
 * taken (a start from elsewhere than the admin API: nothing written, the refusal on the bus) or, with the lease the
 * admin API took for it, before anything else: *Record failure* then records the refusal (the failure, the history entry
 * FAILED) and gives the tenant back the status it had (an offboarding that fails at this step did nothing). Before, the
 * refusal came only at *Delete tenant stacks*, after the keys and users were revoked, the home bucket exported, the
 * database snapshotted and the protections lifted, the home stack's (whose roles the rebuilt stack imports) included.
 *
 * `optInRegions`: the opt-in regions of the tenant's own account that hold its resources (tenantOptInRegions: the home
 * region, the recorded DR region), present only when there is one and the account is not yet queued for closure
 * (`accountClosure`: *Retire account* ran, nothing calls into its regions any more): *Enable regions* then runs after
 * *Revoke usage key* and before the first call into the account (*Retire fine-tuned models*), enabling again a region
 * someone disabled in the account since the onboarding, whose resources are unreachable until it is.
 */
export const handler = lifecycleHandler('Begin offboarding', async (state: LifecycleState) => {
  const found = await getTenant(state.request.tenantId);
  if (found) await refuseRebuilt(found, state.executionArn!);
  const record = await acquireLease(state.request.tenantId, { kind: 'offboard', executionArn: state.executionArn!, requestId: state.request.requestId }, { currentStep: 'Begin offboarding' });
  const previousStatus = record.lease?.previousStatus ?? record.status;
  const optInRegions = record.accountClosure ? [] : tenantOptInRegions(platformConfig().homeRegion, record);
  return { previousStatus, isolation: record.isolation, hasStack: Boolean(record.stackName), accountId: record.accountId, ...(optInRegions.length > 0 ? { optInRegions } : {}) };
}, { trackStep: false });
