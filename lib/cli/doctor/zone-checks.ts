import { EKS_UNSUPPORTED_ZONE_IDS, getAzsZones, regionZones, zonesNamed, type Zone } from '../../../lambdas/lifecycle/availability-zones.js';
import { configuredZones } from '../../config/availability-zones.js';
import { callFailed, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

const ID = 'platform-zones';
const TITLE = 'Platform VPC zones';

/** The command that lists the region's zone names with their zone IDs. */
const zoneIdsCommand = (region: string) => `aws ec2 describe-availability-zones --region ${region} --query "AvailabilityZones[].[ZoneName,ZoneId]" --output text`;

/**
 * The platform VPC's zones against the zone IDs EKS refuses (EKS_UNSUPPORTED_ZONE_IDS). With a tier
 * of shared compute, TesseraPlatform's VPC holds the shared EKS cluster, in the home region's first
 * `platformNetwork.maxAzs` zones: `availabilityZones.<region>` when pinned, else `Fn::GetAZs` (the
 * zones of the default subnets, else all, by name: getAzsZones). Nothing chooses them by zone ID, as
 * the lifecycle does for a tenant's dedicated cluster, so a zone ID EKS refuses (use1-az3, usw1-az2,
 * cac1-az3) among them fails `cdk deploy` with UnsupportedAvailabilityZoneException. Read in the
 * platform account (DescribeAvailabilityZones, DescribeSubnets: zone names map to zone IDs per account).
 */
export async function platformZoneChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { config, region } = ctx;
  const account = config.platformAccountId;
  const where = { account, region };
  if (!Object.values(config.tiers).some((t) => t.compute.mode === 'shared')) {
    return [result(ID, TITLE, 'pass', 'no tier of shared compute: no platform VPC or shared EKS cluster', where)];
  }
  const access = await ctx.clientsIn(account);
  if (!access.ok) return [unreadable(ID, TITLE, access, account, region)];
  const { ec2 } = access.clients;
  const maxAzs = config.platformNetwork.maxAzs;
  const pinned = configuredZones(config, region);
  const source = pinned ? `availabilityZones.${region}` : `Fn::GetAZs (availabilityZones.${region} not set)`;
  let zones: Zone[];
  try {
    zones = pinned ? await zonesNamed(ec2, pinned.slice(0, maxAzs)) : (await getAzsZones(ec2)).slice(0, maxAzs);
  } catch (e) {
    return [callFailed(ID, TITLE, pinned ? 'ec2:DescribeAvailabilityZones' : 'ec2:DescribeSubnets / ec2:DescribeAvailabilityZones', e,
      `grant ec2:DescribeAvailabilityZones and ec2:DescribeSubnets, or check the zone IDs in account ${account}: ${zoneIdsCommand(region)}`, where)];
  }
  const shown = zones.map((z) => `${z.zoneName} (${z.zoneId || 'zone ID unknown'})`).join(', ');
  if (!pinned && zones.length < maxAzs) {
    // The VPC's subnets take Fn::Select [i, Fn::GetAZs] for i < maxAzs: an index past the list fails the deploy
    // ("Fn::Select cannot select nonexistent value at index ..."). us-west-1 offers most accounts two zones.
    return [result(ID, TITLE, 'fail',
      `Fn::GetAZs (availabilityZones.${region} not set) returns ${zones.length} zone(s) in this account, ${shown || 'none'}, fewer than platformNetwork.maxAzs (${maxAzs}): TesseraPlatform's VPC selects a subnet zone by index up to ${maxAzs - 1}, so cdk deploy fails with "Fn::Select cannot select nonexistent value at index ${zones.length}"`,
      { ...where, fix: `set platformNetwork.maxAzs to ${zones.length} or less${zones.length < 2 ? ' (the schema needs at least 2: choose another homeRegion)' : ''} (zones in account ${account}: ${zoneIdsCommand(region)})` })];
  }
  const refused = zones.filter((z) => EKS_UNSUPPORTED_ZONE_IDS.includes(z.zoneId));
  if (refused.length === 0) return [result(ID, TITLE, 'pass', `${shown} from ${source}: none is a zone ID EKS refuses`, where)];
  let suggestion: string | undefined;
  try {
    const supported = (await regionZones(ec2)).filter((z) => !EKS_UNSUPPORTED_ZONE_IDS.includes(z.zoneId)).slice(0, maxAzs);
    if (supported.length === maxAzs) suggestion = `availabilityZones: { ${region}: [${supported.map((z) => z.zoneName).join(', ')}] }`;
  } catch {
    // the suggestion is a convenience: the fix below names the command that shows the IDs
  }
  return [result(ID, TITLE, 'fail',
    `${shown} from ${source}: EKS refuses cluster subnets in ${refused.map((z) => `${z.zoneName} (${z.zoneId})`).join(', ')}, so cdk deploy of TesseraPlatform (the shared cluster) would fail with UnsupportedAvailabilityZoneException`,
    { ...where, fix: `pin zones whose IDs are not ${EKS_UNSUPPORTED_ZONE_IDS.join(', ')} in the config: ${suggestion ?? `availabilityZones.${region}`} (names and IDs in account ${account}: ${zoneIdsCommand(region)})` })];
}
