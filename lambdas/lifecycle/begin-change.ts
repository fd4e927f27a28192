import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { ENV, platformConfig, requireEnv, tierConfig } from '../shared/environment.js';
import { ChangeRefusedError, InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { describeDrRegionConflict, drRegionConflict } from './dr-region-change.js';
import { acquireLease } from './lease.js';
import type { LifecycleState } from './state.js';
import { migrationRefusal } from './tier-migration.js';

/**
 * Starts a tier change or blueprint upgrade: checks the target, then takes the tenant's lease,
 * which moves it ACTIVE → UPDATING (still served) in the same conditional write. A change meets
 * a running operation with TenantBusy (refused, nothing written); the rolling upgrade's run of a
 * tenant retries it, waiting for the lease. A migration is not a stack update: moving between
 * isolation modes (VPC ↔ account), or to a tier whose tenant network cuts the VPC's subnets
 * differently (prefix length, AZs, egress: tier-migration.ts), is refused with InvalidRequest
 * before the lease is taken, as the admin API refuses it (400).
 *
 * A target tier whose DR region differs from the region of the tenant's DR stack (recorded, not
 * REMOVED; drRegionConflict) is refused after the lease is taken, with ChangeRefused (terminal):
 * *Record failure* then records the refusal in the registry (the failure, the history entry
 * FAILED, the tenant back to its previous status) and on the bus, as for a change set the guard
 * refused. The admin API refuses the same request with a 400; this check stops a StartExecution
 * from the console or the CLI as well. The check reads the record as the lease returned it, so an
 * operation that changed the DR stack before it is seen.
 */
export const handler = lifecycleHandler('Begin change', async (state: LifecycleState & { kind?: 'change' | 'upgrade' }) => {
  const record = await requireTenant(state.request.tenantId);
  const tier = state.change?.tier ?? record.tier;
  const target = tierConfig(tier);
  const migration = migrationRefusal(record, tier, platformConfig().tiers);
  if (migration) throw new InvalidRequestError(migration.message);
  const held = await acquireLease(record.tenantId, { kind: state.kind ?? 'change', executionArn: state.executionArn!, requestId: state.request.requestId }, { currentStep: 'Begin change' });
  const conflict = drRegionConflict(held, target);
  if (conflict) throw new ChangeRefusedError(describeDrRegionConflict(record.tenantId, tier, conflict));
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
