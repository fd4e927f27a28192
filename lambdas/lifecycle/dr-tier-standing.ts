import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { tierConfig } from '../shared/environment.js';

/**
 * A DR stack kept by a tenant moved to a tier without it (its data stays until offboarding): RETAINED, its bucket no longer
 * a replica of the tenant bucket from `at` on (`replicationStoppedAt`, kept when already set). What *Check blueprint*
 * (check-stack.ts) and a standing (drRecordForTier) write.
 * @param dr the tenant's DR record as read
 * @param at the time of the write (ISO 8601)
 */
export function retainedDr(dr: NonNullable<TenantRecord['disasterRecovery']>, at: string): NonNullable<TenantRecord['disasterRecovery']> {
  return { ...dr, status: 'RETAINED', updatedAt: at, replicationStoppedAt: dr.replicationStoppedAt ?? at };
}

/**
 * The DR record that goes with a tier the registry is about to record from the tenant stack's own tags (a standing:
 * stack-standing.ts, when a change or upgrade ended after its primary completed its update and before *Check blueprint*
 * recorded it), as *Check blueprint* (check-stack.ts) would have written it with that tier:
 * - an ACTIVE DR stack, and `tier` has no DR (a move off a DR tier): RETAINED, its bucket no longer a replica of the
 *   tenant bucket from now (`replicationStoppedAt`, kept when set), as the offboarding's inventory reads it
 *   (inventory-retained-stores.ts: `review`, not an archived replica);
 * - a RETAINED DR stack last deployed with `tier` (`deployedWith`), which has DR (a move onto the DR tier whose *Check DR
 *   blueprint* recorded it ACTIVE, then another step retained it): ACTIVE.
 * Whether `tier` has DR is the config's; where the DR stack is, is its own record's (`region`, `stackName`): a DR stack
 * cannot move regions (dr-region-change.ts: a change to a tier whose DR region differs is refused before it starts), so
 * the tenant's existing DR stack is its tier's, wherever the config now puts that tier's DR region (the platform's config
 * changed it after the stack was deployed: the primary still replicates into the stack it was deployed with). Until
 * 2026-12-07 the config's region decided: a DR stack of a DR tier whose region the config had moved since was recorded
 * RETAINED, its bucket said no longer a replica (the offboarding then inventoried the live replica for review), and one
 * RETAINED that a move back onto its tier used again stayed RETAINED.
 * Before 2026-12-06, the standing recorded the tier alone: a tenant moved off its DR tier kept its DR stack ACTIVE with no
 * `replicationStoppedAt` (the offboarding archived the DR bucket as a replica), and Record failure, which read the tier
 * before the standing, recorded the DR stack of a tenant now on a DR tier RETAINED.
 * @param record the tenant as read (its `disasterRecovery`)
 * @param tier the tier the tenant stack runs (its `tessera:tier` tag)
 * @param at the time of the write (ISO 8601)
 * A DEPLOYING one is left as it is: Record failure's removeDeadDrStack judges it (a create that may have failed).
 * @returns `{ disasterRecovery }` to write with the tier, or undefined when the record's DR status already fits `tier`, the
 *   tenant has no DR stack (or it is REMOVED, or DEPLOYING), or `tier` is not in the config (left as recorded)
 */
export function drRecordForTier(record: TenantRecord, tier: string, at: string): Pick<TenantRecord, 'disasterRecovery'> | undefined {
  const dr = record.disasterRecovery;
  if (!dr || dr.status === 'REMOVED') return undefined;
  let tierHasDr: boolean;
  try {
    tierHasDr = drRegionOf(tierConfig(tier)) !== undefined;
  } catch {
    return undefined;
  }
  if (dr.status === 'ACTIVE' && !tierHasDr) {
    return { disasterRecovery: retainedDr(dr, at) };
  }
  if (dr.status === 'RETAINED' && tierHasDr && dr.deployedWith?.tier === tier) {
    return { disasterRecovery: { ...dr, status: 'ACTIVE', updatedAt: at } };
  }
  return undefined;
}
