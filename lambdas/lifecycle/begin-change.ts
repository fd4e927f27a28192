import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { ENV, requireEnv, tierConfig } from '../shared/environment.js';
import { InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { acquireLease } from './lease.js';
import type { LifecycleState } from './state.js';

/**
 * Starts a tier change or blueprint upgrade: checks the target, then takes the tenant's lease,
 * which moves it ACTIVE → UPDATING (still served) in the same conditional write. A change meets
 * a running operation with TenantBusy (refused, nothing written); the rolling upgrade's run of a
 * tenant retries it, waiting for the lease. Moving between isolation modes (VPC ↔ account) is a
 * migration, not a stack update: refused.
 */
export const handler = lifecycleHandler('Begin change', async (state: LifecycleState & { kind?: 'change' | 'upgrade' }) => {
  const record = await requireTenant(state.request.tenantId);
  const tier = state.change?.tier ?? record.tier;
  const target = tierConfig(tier);
  if (target.isolation !== record.isolation) {
    throw new InvalidRequestError(`tier "${tier}" isolates by ${target.isolation}, tenant ${record.tenantId} by ${record.isolation}; changing isolation is a migration (offboard and onboard), not a tier change`);
  }
  await acquireLease(record.tenantId, { kind: state.kind ?? 'change', executionArn: state.executionArn!, requestId: state.request.requestId }, { currentStep: 'Begin change' });
  return {
    tier, previousTier: record.tier, computeMode: target.compute.mode,
    // A target tier with disaster recovery: its DR stack is deployed (or updated) before the primary.
    ...(drRegionOf(target) ? { drRegion: drRegionOf(target) } : {}),
    // A repair re-applies the version the tenant is on; a change goes to the one asked for, or the platform's.
    blueprintVersion: state.change?.blueprintVersion ?? (state.change?.repair ? record.blueprintVersion : undefined) ?? requireEnv(ENV.blueprintVersion),
    // Carried to *Deploy blueprint*: the change-set guard's allowance and the drift repair.
    ...(state.change?.allowReplacement ? { allowReplacement: state.change.allowReplacement } : {}),
    ...(state.change?.repair ? { repair: true } : {}),
  };
}, { trackStep: false });
