import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { ENV, platformConfig, requireEnv, tierConfig } from '../shared/environment.js';
import { ChangeRefusedError, InvalidRequestError } from '../shared/errors.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, RegistryContentionError, requireTenant, updateTenant, withExecution } from '../shared/registry.js';
import { compareVersions } from './blueprints.js';
import { describeDrRegionConflict, drRegionConflict } from './dr-region-change.js';
import { acquireLease, OperationSkippedError } from './lease.js';
import { upgradeSkipReason } from './list-tier-tenants.js';
import type { LifecycleState } from './state.js';
import { migrationRefusal } from './tier-migration.js';

/** What *Begin change* answers for a rolling upgrade's tenant it skips (the workflow's *Skipped?* choice ends the child there, SUCCEEDED). */
export interface ChangeSkipped {
  skipped: true;
  tenantId: string;
  reason: string;
}

/**
 * Records a skipped upgrade run in the tenant's history (status SKIPPED, the reason), without the
 * lease (it never took it) and only if nobody wrote the record since it was read (asked again on
 * contention). Idempotent: a retry finds its entry.
 */
async function recordSkip(state: LifecycleState, first: TenantRecord, reason: string): Promise<ChangeSkipped> {
  const tenantId = state.request.tenantId;
  const at = new Date().toISOString();
  let record: TenantRecord | undefined = first;
  for (let attempt = 1; record && attempt <= 5; attempt++) {
    if (record.executions.some((e) => e.executionArn === state.executionArn && e.status === 'SKIPPED')) break;
    try {
      await updateTenant(tenantId, {
        executions: withExecution(record, { kind: 'upgrade', requestId: state.request.requestId, executionArn: state.executionArn, startedAt: at, endedAt: at, status: 'SKIPPED', reason }),
      }, { holder: null, expectUpdatedAt: record.updatedAt });
      break;
    } catch (e) {
      if (!(e instanceof RegistryContentionError) || attempt >= 5) throw e;
      record = await getTenant(tenantId);
    }
  }
  logger.info('upgrade run skipped', { reason });
  return { skipped: true, tenantId, reason };
}

/** The platform's version for a change that asks for none, or the tenant's own when that is newer (a change never downgrades by default). */
const notOlder = (platform: string, tenant: string | undefined) => (tenant !== undefined && compareVersions(tenant, platform) > 0 ? tenant : platform);

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
 *
 * A rolling upgrade's run of a tenant first checks that the tenant is still as the upgrade listed
 * it (upgradeSkipReason: the upgrade's tier, the version it was listed on, ACTIVE): one an admin
 * moved to another tier or version, suspended or offboarded since is skipped — no stack update,
 * its history entry SKIPPED with the reason, and the child execution succeeds with `skipped`, so
 * it does not count against the upgrade's failure tolerance. The check is made again on each read
 * of the lease (a run waiting behind a tier change sees the new tier when it ends).
 */
export const handler = lifecycleHandler('Begin change', async (state: LifecycleState & { kind?: 'change' | 'upgrade' }): Promise<Record<string, unknown> | ChangeSkipped> => {
  const record = await requireTenant(state.request.tenantId);
  const upgrade = state.kind === 'upgrade' && state.change ? state.change : undefined;
  // The run that already holds the lease (a retry of this step) goes on whatever it finds.
  const skipIf = upgrade ? (r: TenantRecord) => (r.lease?.executionArn === state.executionArn ? undefined : upgradeSkipReason(r, upgrade)) : undefined;
  const skip = skipIf?.(record);
  if (skip) return recordSkip(state, record, skip);
  const tier = state.change?.tier ?? record.tier;
  const target = tierConfig(tier);
  const migration = migrationRefusal(record, tier, platformConfig().tiers);
  if (migration) throw new InvalidRequestError(migration.message);
  let held: TenantRecord;
  try {
    held = await acquireLease(record.tenantId, { kind: state.kind ?? 'change', executionArn: state.executionArn!, requestId: state.request.requestId }, { currentStep: 'Begin change' }, { skipIf });
  } catch (e) {
    if (e instanceof OperationSkippedError) return recordSkip(state, e.record, e.message);
    throw e;
  }
  const conflict = drRegionConflict(held, target);
  if (conflict) throw new ChangeRefusedError(describeDrRegionConflict(record.tenantId, tier, conflict));
  return {
    tier, previousTier: record.tier, computeMode: target.compute.mode,
    // A target tier with disaster recovery: its DR stack is deployed (or updated) before the primary.
    ...(drRegionOf(target) ? { drRegion: drRegionOf(target) } : {}),
    // A repair re-applies the version the tenant is on; a change goes to the one asked for, or the platform's, never an older
    // one than the tenant is on unless asked for (a tenant moved past a platform that was rolled back keeps its version).
    blueprintVersion: state.change?.blueprintVersion ?? (state.change?.repair ? record.blueprintVersion : undefined) ?? notOlder(requireEnv(ENV.blueprintVersion), held.blueprintVersion),
    // Carried to *Deploy blueprint*: the change-set guard's allowance and the drift repair.
    ...(state.change?.allowReplacement ? { allowReplacement: state.change.allowReplacement } : {}),
    ...(state.change?.repair ? { repair: true } : {}),
  };
}, { trackStep: false });
