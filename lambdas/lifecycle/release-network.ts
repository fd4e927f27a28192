import { blockIndex, parseCidr } from '../../lib/config/cidr.js';
import type { OffboardingRecord, TenantRecord } from '../../lib/tenant-record.js';
import { cidrClaimsOf, listReleasedCidr, releaseCidr } from '../shared/control-table.js';
import { platformConfig } from '../shared/environment.js';
import { logger } from '../shared/handler.js';
import { updateTenant } from '../shared/registry.js';
import { drRebuildOf, rebuiltTenantRefusal } from './rebuilt-stack.js';

/** What the offboarding record says about the tenant's range once it is given back (`offboarding.network`). */
export type NetworkRelease = NonNullable<OffboardingRecord['network']>;

/**
 * The tiers whose pool, as configured now, holds `cidr` as one of its blocks (blockIndex: the same prefix length,
 * inside the pool). Usually the tier the tenant was onboarded on; a tenant that moved between tiers with the same
 * network settings keeps its first tier's range, which goes back to that tier's pool. None when the config's pools
 * changed since: the claim is deleted and the range is listed nowhere.
 */
function poolTiersOf(cidr: string): string[] {
  return Object.entries(platformConfig().tiers).filter(([, tier]) => {
    const pool = parseCidr(tier.network.tenantCidrPool);
    return pool !== undefined && blockIndex(pool, tier.network.tenantVpcPrefixLength, cidr) !== undefined;
  }).map(([name]) => name);
}

/**
 * Gives the tenant's VPC range back to its tier's pool at offboarding. Call it only once the tenant's stacks are gone
 * (*Delete tenant stacks* found the namespace, tenant and DR stacks deleted): the range is the tenant VPC's, which goes
 * with the tenant stack. For each range the tenant holds (the record's `vpcCidr` and any claim of the tenant's in the
 * control table: cidrClaimsOf), the claim is deleted only if the tenant holds it (releaseCidr's condition), then the
 * range is listed among the released blocks of the tier whose pool holds it (listReleasedCidr), where the next
 * allocation takes it (allocate-network.ts claimReleasedBlock). Last, one registry write (under the offboarding's lease,
 * like every step's) records `offboarding.network` and removes the record's `vpcCidr`.
 *
 * Never while anything of the tenant's DR rebuild exists in its DR region (rebuilt-stack.ts drRebuildOf: the failover
 * runbook's stack `tessera-<id>` there, whose VPC uses the same range, its stack `tessera-<id>-restored` or the restored
 * instance): then nothing is released or recorded, and the step fails (TenantRebuiltInDrRegion, naming what was found
 * and the range kept); once an operator has removed them,
 * `tessera tenants retry` resumes the offboarding and this runs again.
 *
 * Idempotent and resumable: once `offboarding.network` is recorded nothing is done again; a run that ended before it
 * deletes no claim another tenant took meanwhile (the condition) and lists the range again, which an allocation that
 * finds it claimed takes off the list.
 * @returns what was recorded, or undefined when the tenant held no range (it never got one)
 * @throws TenantRebuiltInDrRegionError while the rebuilt stack exists (the range stays claimed)
 */
export async function releaseTenantNetwork(record: TenantRecord, executionArn: string | undefined): Promise<NetworkRelease | undefined> {
  if (record.offboarding?.network) return record.offboarding.network;
  const claims = await cidrClaimsOf(record.tenantId);
  const ranges = [...new Set([...(record.vpcCidr ? [record.vpcCidr] : []), ...claims])];
  if (ranges.length === 0) return undefined;
  // Two VPCs with one range: a later peering or Transit Gateway attachment fails, and rules by range admit the wrong tenant.
  const rebuilt = await drRebuildOf(record, 'delete');
  if (rebuilt) throw rebuiltTenantRefusal(record, rebuilt, ranges, 'the tenant\'s range was not released');
  for (const cidr of ranges) {
    await releaseCidr(cidr, record.tenantId);
    const tiers = poolTiersOf(cidr);
    if (tiers.length === 0) logger.warn('a released range lies in no tier\'s pool as configured now: it is listed nowhere', { cidr });
    for (const tier of tiers) await listReleasedCidr(tier, cidr);
  }
  const strayClaims = ranges.filter((r) => r !== record.vpcCidr);
  const network: NetworkRelease = {
    ...(record.vpcCidr ? { vpcCidr: record.vpcCidr } : {}), ...(strayClaims.length ? { strayClaims } : {}),
    releasedAt: new Date().toISOString(), ...(executionArn ? { executionArn } : {}),
  };
  await updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, network }, vpcCidr: undefined });
  logger.info('tenant network released', { ...network });
  return network;
}
