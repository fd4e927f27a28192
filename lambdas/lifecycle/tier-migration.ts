import { parseCidr } from '../../lib/config/cidr.js';
import type { TierConfig } from '../../lib/config/schema.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { recordedZoneRefusal } from './availability-zones.js';

/**
 * Tier changes that are migrations, not stack updates: refused up front by the admin API (400)
 * and by *Begin change* (a StartExecution from the console or the CLI, and each tenant of a
 * rolling upgrade), from this one function.
 *
 * - Another isolation mode (VPC ↔ account): the tenant would need another account.
 * - Another tenant network. A tenant keeps its VPC range (`vpcCidr`) across a change, and what
 *   the VPC's subnets are cut from is fixed per tier at synth (lib/tenant-stack.ts,
 *   constructs/network.ts, constructs/parameterized-cidr.ts):
 *   - `tenantVpcPrefixLength`: the tier blueprint's `VpcCidr` parameter (and the namespace
 *     blueprint's `TenantVpcCidr`) allows a /<that prefix> only (AllowedPattern), so CloudFormation
 *     refuses the update with a ValidationError; and each subnet is a `Fn::Cidr` slice sized from it;
 *   - `maxAzs` and `internetEgress`: how many subnets the VPC has (a data and a compute subnet per
 *     AZ, plus a public egress subnet per AZ with internet egress), hence how many `Fn::Cidr`
 *     slices it is cut into and which slice each subnet takes: a change of either moves every
 *     subnet to another range, which replaces it (and the database, cache and nodes in it).
 *   The address pool (`tenantCidrPool`) is not among them: it only decides where onboarding
 *   allocates a new range; the template does not read it.
 *   The tenant's `maxAzs` is the number of its recorded zones (`availabilityZones`: where its
 *   subnets are) when recorded, not its tier's value in today's config, which may have changed.
 *   It is refused here for a change to another tier only: a repair, version change or upgrade in
 *   its own tier deploys a template whose zone count *Deploy blueprint* reads and checks (an older
 *   version re-applied keeps the zone count it was published with).
 * - A tier with a dedicated cluster for a tenant whose recorded zone IDs include one EKS does not
 *   support (availability-zones.ts recordedZoneRefusal): the cluster cannot be created there, and
 *   other zones would replace every subnet.
 * Versions AWS cannot reach in place (version-change.ts) are not judged here: the tiers' config says
 * nothing certain about the tenant's stack (a stack left on 1.33 while its tier's config moved to 1.35
 * must be able to go to a tier on 1.34), so *Deploy blueprint* compares the template the stack was
 * deployed from with the one it deploys, for every change, upgrade and repair, before the change set.
 */

/** The fields of `tiers.<tier>.network` a tenant's VPC and subnets are cut from. */
export const SUBNET_LAYOUT_FIELDS = ['tenantVpcPrefixLength', 'maxAzs', 'internetEgress'] as const;
export type SubnetLayoutField = typeof SUBNET_LAYOUT_FIELDS[number];
export type SubnetLayout = Pick<TierConfig['network'], SubnetLayoutField>;

/** One field of the subnet layout that differs: the tenant's value and the target tier's. */
export interface NetworkDifference {
  field: SubnetLayoutField;
  tenant: number | boolean;
  target: number | boolean;
}

/**
 * The subnet layout a tenant's VPC has: its range's prefix length (`vpcCidr`, as allocated), and
 * its tier's AZ count and egress (the stack was deployed with them; the registry does not record
 * them). Without a recorded range, or for a tier no longer in the config, what is known.
 */
export function tenantSubnetLayout(record: Pick<TenantRecord, 'vpcCidr' | 'availabilityZones'>, current: SubnetLayout | undefined): Partial<SubnetLayout> {
  const prefix = record.vpcCidr ? parseCidr(record.vpcCidr)?.prefix : undefined;
  const zones = record.availabilityZones?.length;
  return {
    ...(current ? { maxAzs: current.maxAzs, internetEgress: current.internetEgress, tenantVpcPrefixLength: current.tenantVpcPrefixLength } : {}),
    ...(prefix !== undefined ? { tenantVpcPrefixLength: prefix } : {}),
    // The zones its subnets are in (recorded at its first deploy, or read from its standing stack).
    ...(zones ? { maxAzs: zones } : {}),
  };
}

/** Where the tenant's subnet layout and the target tier's differ (empty: the VPC and its subnets stay as they are). */
export function networkDifferences(record: Pick<TenantRecord, 'tier' | 'vpcCidr' | 'availabilityZones'>, tiers: Record<string, { network: SubnetLayout }>, targetTier: string): NetworkDifference[] {
  const tenant = tenantSubnetLayout(record, tiers[record.tier]?.network);
  const target = tiers[targetTier].network;
  return SUBNET_LAYOUT_FIELDS.flatMap((field) => (tenant[field] !== undefined && tenant[field] !== target[field] ? [{ field, tenant: tenant[field]!, target: target[field] }] : []));
}

/** Where the tenant's zone count comes from, for the refusal: its recorded zones, named, or (none recorded) its tier's config, which its stack was deployed with. */
function zoneCountSource(record: Pick<TenantRecord, 'tier'> & Partial<Pick<TenantRecord, 'availabilityZones'>>): string {
  const zones = record.availabilityZones ?? [];
  return zones.length
    ? `its recorded zones ${zones.join(', ')}, where its subnets are`
    : `no zones recorded: its tier ${record.tier}'s network.maxAzs, which its stack was deployed with (its stack's subnets show the zones; its next deploy reads and records them)`;
}

/** The refusal of a network change: the tier, each field with both values, why, and what the operator can do instead. */
export function describeNetworkChange(record: Pick<TenantRecord, 'tenantId' | 'vpcCidr'> & Partial<Pick<TenantRecord, 'tier' | 'availabilityZones'>>, tier: string, differences: readonly NetworkDifference[], target: SubnetLayout): string {
  const fields = differences.map((d) => `network.${d.field} is ${d.target}, tenant ${record.tenantId}'s ${d.tenant}${d.field === 'tenantVpcPrefixLength' && record.vpcCidr ? ` (its VPC ${record.vpcCidr})` : ''}`
    + (d.field === 'maxAzs' && record.tier ? ` (${zoneCountSource({ tier: record.tier, availabilityZones: record.availabilityZones })})` : ''));
  const keeps = differences.map((d) => `${d.field} ${d.tenant}`).join(', ');
  const prefix = differences.some((d) => d.field === 'tenantVpcPrefixLength') ? `CloudFormation would refuse its range (the blueprint's VpcCidr parameter allows a /${target.tenantVpcPrefixLength} only), and ` : '';
  return `tier = "${tier}": its tenant network differs from the tenant's in what the VPC and its subnets are cut from: ${fields.join('; ')}. `
    + `A tenant keeps its VPC across a tier change, and this cannot change in place: ${prefix}every subnet would move to another range and be replaced; `
    + `this is a network migration (offboard and onboard), not a tier change; or move the tenant to a tier whose network has ${keeps}`;
}

/** Why moving a tenant to a tier is a migration; the admin API's error code with it. */
export interface MigrationRefusal {
  code: 'isolation_change' | 'network_change' | 'unsupported_zone';
  message: string;
}

/**
 * Whether moving `record` to `targetTier` (its own tier for an upgrade or a repair) is a
 * migration rather than a stack update: another isolation mode, another subnet layout
 * (networkDifferences, with the recorded zone count as the tenant's `maxAzs`; the zone count only for
 * another tier: for its own, *Deploy blueprint* checks it against the template deployed), or a dedicated
 * cluster in recorded zones EKS does not support. Versions are not judged here (version-change.ts: *Deploy blueprint*
 * compares the templates). Undefined when the change can go through.
 * @param tiers the platform config's tiers, or what `GET /admin/tiers` answers of them (lib/platform-tiers.ts
 *   migrationTiers: `tessera tenants apply` plans with this same rule)
 */
export function migrationRefusal(
  record: Pick<TenantRecord, 'tenantId' | 'tier' | 'isolation' | 'vpcCidr'> & Partial<Pick<TenantRecord, 'accountId' | 'availabilityZones' | 'availabilityZoneIds'>>,
  targetTier: string,
  tiers: Record<string, Pick<TierConfig, 'isolation'> & { network: SubnetLayout; compute?: { mode: TierConfig['compute']['mode'] } }>,
  region = process.env.AWS_REGION ?? '',
): MigrationRefusal | undefined {
  const target = tiers[targetTier];
  if (!target) return undefined; // an unknown tier is the caller's refusal (UnknownTier, 400 unknown_tier)
  if (target.isolation !== record.isolation) {
    return {
      code: 'isolation_change',
      message: `tier = "${targetTier}": isolates by ${target.isolation}, tenant ${record.tenantId} by ${record.isolation}; changing isolation is a migration (offboard and onboard), not a tier change`,
    };
  }
  // The zone count is a tier change's refusal: for the tenant's own tier (a repair, a version change or an
  // upgrade) Deploy blueprint compares the zones with the template it deploys (a pinned older version
  // may have the tier's former maxAzs, and re-applying it moves nothing), which this function cannot read.
  const differences = networkDifferences(record, tiers, targetTier).filter((d) => d.field !== 'maxAzs' || targetTier !== record.tier);
  if (differences.length) return { code: 'network_change', message: describeNetworkChange(record, targetTier, differences, target.network) };
  const zones = recordedZoneRefusal(record, targetTier, target.compute?.mode === 'dedicated', region);
  if (zones) return { code: 'unsupported_zone', message: zones };
  return undefined;
}
