import { DescribeAvailabilityZonesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { EKS_UNSUPPORTED_ZONE_IDS } from '../../lib/vpc-layout.js';
import { InvalidRequestError } from '../shared/errors.js';

export { EKS_UNSUPPORTED_ZONE_IDS };

/** What the chooser needs to know of the tenant and its tier. */
export interface ZoneChoice {
  readonly accountId: string;
  readonly region: string;
  /** The tier's `network.maxAzs`: how many zones the VPC spans. */
  readonly maxAzs: number;
  /** The tier runs a dedicated EKS cluster in the VPC: zones EKS refuses are skipped. */
  readonly dedicatedCluster: boolean;
  /**
   * The tenant stack exists already without recorded zones (onboarded before zones were recorded): its
   * subnets are in the first `maxAzs` zones Fn::GetAZs gave, which are taken again, without exclusion,
   * so that the update moves no subnet.
   */
  readonly legacyStack: boolean;
}

/** The zones chosen and, for the registry's and the log's sake, the ones left out and why. */
export interface ChosenZones {
  readonly zones: string[];
  readonly excluded: Array<{ zoneName: string; zoneId: string; reason: string }>;
}

/**
 * The tenant VPC's zones: the region's available zones of type `availability-zone` (no Local or
 * Wavelength Zones), sorted by name as Fn::GetAZs orders them, without the zones EKS does not support
 * (EKS_UNSUPPORTED_ZONE_IDS) when the tier has a dedicated cluster (and the stack is not a legacy one),
 * the first `maxAzs`.
 * @throws InvalidRequestError (terminal) when fewer than `maxAzs` zones are left, naming the account,
 * region, the zones seen and the ones excluded and why
 */
export async function chooseZones(ec2: EC2Client, choice: ZoneChoice): Promise<ChosenZones> {
  const out = await ec2.send(new DescribeAvailabilityZonesCommand({
    Filters: [{ Name: 'zone-type', Values: ['availability-zone'] }, { Name: 'state', Values: ['available'] }],
  }));
  // Filtered again here: the filters are a request, and the answer is what the choice rests on.
  const seen = (out.AvailabilityZones ?? [])
    .filter((z) => z.ZoneName && (z.ZoneType ?? 'availability-zone') === 'availability-zone' && (z.State ?? 'available') === 'available')
    .map((z) => ({ zoneName: z.ZoneName!, zoneId: z.ZoneId ?? '' }))
    .sort((a, b) => (a.zoneName < b.zoneName ? -1 : a.zoneName > b.zoneName ? 1 : 0));
  const excluded: ChosenZones['excluded'] = [];
  const usable = seen.filter((z) => {
    if (!choice.dedicatedCluster || choice.legacyStack || !EKS_UNSUPPORTED_ZONE_IDS.includes(z.zoneId)) return true;
    excluded.push({ ...z, reason: `zone ID ${z.zoneId} is one where Amazon EKS does not support clusters (UnsupportedAvailabilityZoneException; EKS User Guide, network requirements)` });
    return false;
  });
  if (usable.length < choice.maxAzs) {
    const list = seen.map((z) => `${z.zoneName} (${z.zoneId || 'no zone id'})`).join(', ') || 'none';
    const why = excluded.length ? `; excluded ${excluded.map((e) => `${e.zoneName}: ${e.reason}`).join('; ')}` : '; none excluded';
    throw new InvalidRequestError(`account ${choice.accountId}, region ${choice.region}: ${usable.length} usable Availability Zone(s) for a VPC across ${choice.maxAzs}; available zones seen: ${list}${why}`);
  }
  return { zones: usable.slice(0, choice.maxAzs).map((z) => z.zoneName), excluded };
}

/**
 * The recorded zones of the tenant (`availabilityZones`); undefined when none are recorded.
 * @throws InvalidRequestError when fewer than `maxAzs` are recorded: the tier's VPC now spans more
 * zones than the tenant's (its `maxAzs` changed), which re-cuts every subnet (a network migration,
 * lambdas/lifecycle/tier-migration.ts), never done by an update
 */
export function recordedZones(record: TenantRecord, maxAzs: number): string[] | undefined {
  const zones = record.availabilityZones;
  if (!zones) return undefined;
  if (zones.length < maxAzs) {
    throw new InvalidRequestError(`tenant ${record.tenantId}'s VPC is in ${zones.length} recorded Availability Zone(s) (${zones.join(', ')}), and its tier's network.maxAzs is ${maxAzs}: more zones re-cut every subnet (a network migration, not an update)`);
  }
  return [...zones];
}

/**
 * The zones the tenant blueprint is deployed with (its `AvailabilityZones` parameter), in the
 * tenant's account and the region its stack runs in, through `ec2` (the provisioning session the
 * deploy step already holds there):
 * - recorded zones (`availabilityZones`) are reused as they are: an update, a tier change or a re-run
 *   never moves a subnet. A change to a tier with a dedicated cluster whose recorded zones include one
 *   EKS does not support is refused (InvalidRequest): its cluster could not be created there, and other
 *   zones would replace every subnet and what runs in them; fewer recorded zones than `maxAzs`: refused
 *   (recordedZones);
 * - none recorded, the stack exists (onboarded before zones were recorded): the first `maxAzs`
 *   available zones by name, without exclusion (what Fn::GetAZs gave its subnets);
 * - none recorded, no stack: chooseZones.
 * Zones newly chosen come back with `chosen`: the caller records them.
 */
export async function deployZones(ec2: EC2Client, input: {
  record: TenantRecord;
  /** The tier deployed (a tier change's target). */
  tier: string;
  /** The deploy is a tier change (`tier` is not the record's). */
  tierChange: boolean;
  region: string;
  maxAzs: number;
  dedicatedCluster: boolean;
  stackExists: boolean;
}): Promise<{ zones: string[]; chosen?: ChosenZones }> {
  const { record, tier, region, maxAzs, dedicatedCluster } = input;
  const recorded = recordedZones(record, maxAzs);
  if (recorded) {
    // A tenant of a dedicated-cluster tier got zones EKS supports; one moving to such a tier may have other zones.
    if (dedicatedCluster && input.tierChange) {
      const out = await ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: recorded }));
      const refused = (out.AvailabilityZones ?? []).filter((z) => z.ZoneId && EKS_UNSUPPORTED_ZONE_IDS.includes(z.ZoneId));
      if (refused.length) {
        throw new InvalidRequestError(`account ${record.accountId}, region ${region}: tenant ${record.tenantId}'s VPC is in ${refused.map((z) => `${z.ZoneName} (${z.ZoneId})`).join(', ')}, where Amazon EKS does not support clusters (UnsupportedAvailabilityZoneException; EKS User Guide, network requirements), so tier ${tier}, with a dedicated cluster, cannot run there; moving the VPC to other zones would replace its subnets and everything in them (a migration, not a tier change)`);
      }
    }
    return { zones: recorded };
  }
  const chosen = await chooseZones(ec2, { accountId: record.accountId ?? '', region, maxAzs, dedicatedCluster, legacyStack: input.stackExists });
  return { zones: chosen.zones, chosen };
}
