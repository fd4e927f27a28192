import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import type { TenantRecord } from '../../lib/tenant-record.js';

/** A tier change that would move the tenant's DR stack to another region (see drRegionConflict). */
export interface DrRegionConflict {
  /** The tenant's recorded DR stack (`tessera-<id>-dr`). */
  stackName: string;
  /** The region that stack is in (`record.disasterRecovery.region`). */
  recordedRegion: string;
  /** Its status in the registry (DEPLOYING, ACTIVE or RETAINED: anything but REMOVED). */
  status: string;
  /** The target tier's DR region. */
  targetRegion: string;
}

/**
 * Whether moving a tenant to `target` (a tier's config) would need its DR stack in another region.
 * A CloudFormation stack cannot move regions: the workflow would create a second DR stack in the
 * target tier's DR region and the registry (one `disasterRecovery` record) would lose track of the
 * first, whose bucket, key and vault offboarding would then never delete or inventory. So a
 * conflict is: the tenant has a DR stack that still exists (recorded, status not `REMOVED`), the
 * target tier has disaster recovery, and its region differs from the stack's. A target tier
 * without DR is no conflict (the stack stays, RETAINED); nor is a tenant without a DR stack.
 * @returns the conflict, or undefined when the move keeps the DR stack where it is
 */
export function drRegionConflict(record: Pick<TenantRecord, 'disasterRecovery'>, target: Parameters<typeof drRegionOf>[0]): DrRegionConflict | undefined {
  const dr = record.disasterRecovery;
  const targetRegion = drRegionOf(target);
  if (!dr || dr.status === 'REMOVED' || !targetRegion || targetRegion === dr.region) return undefined;
  return { stackName: dr.stackName, recordedRegion: dr.region, status: dr.status, targetRegion };
}

/** The refusal of a DR region change: the tier, both regions and what the operator can do instead. */
export function describeDrRegionConflict(tenantId: string, tier: string, c: DrRegionConflict): string {
  return `tier = "${tier}": its DR region is ${c.targetRegion}, but tenant ${tenantId}'s DR stack ${c.stackName} is in ${c.recordedRegion} (${c.status}); `
    + `a DR stack cannot move regions, and a second one would be left out of the registry and of offboarding; `
    + `offboard the tenant (which deletes the DR stack) and onboard it again, or move it to a tier whose DR region is ${c.recordedRegion} (or one without disaster recovery, which keeps the DR stack RETAINED)`;
}
