import { paginateListStackResources, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, type AvailabilityZone, type EC2Client } from '@aws-sdk/client-ec2';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { EKS_UNSUPPORTED_ZONE_IDS } from '../../lib/vpc-layout.js';
import { InvalidRequestError } from '../shared/errors.js';

export { EKS_UNSUPPORTED_ZONE_IDS };

/** A zone of the tenant's account: its name (per account) and its ID (the same physical zone in every account). */
export interface Zone {
  readonly zoneName: string;
  readonly zoneId: string;
}

/** Opt-in states of a zone the account may use: Availability Zones need none; Local and Wavelength Zones need opting in. */
const USABLE_OPT_IN = ['opt-in-not-required', 'opted-in'];

/**
 * Whether a DescribeAvailabilityZones entry is a zone a tenant VPC may use: ZoneType
 * `availability-zone` (no Local Zone, no Wavelength Zone), State `available`, OptInStatus
 * `opt-in-not-required` or `opted-in` (EC2 API reference, AvailabilityZone). Checked on the answer
 * as well as asked for in the request's filters: the answer is what the choice rests on.
 */
export function usableZone(z: AvailabilityZone): boolean {
  return !!z.ZoneName && z.ZoneType === 'availability-zone' && z.State === 'available' && USABLE_OPT_IN.includes(z.OptInStatus ?? 'opt-in-not-required');
}

/** The region's usable zones (usableZone), sorted by name, as Fn::GetAZs orders them. */
export async function regionZones(ec2: EC2Client): Promise<Zone[]> {
  const out = await ec2.send(new DescribeAvailabilityZonesCommand({
    Filters: [
      { Name: 'zone-type', Values: ['availability-zone'] },
      { Name: 'state', Values: ['available'] },
      { Name: 'opt-in-status', Values: USABLE_OPT_IN },
    ],
  }));
  return (out.AvailabilityZones ?? [])
    .filter(usableZone)
    .map((z) => ({ zoneName: z.ZoneName!, zoneId: z.ZoneId ?? '' }))
    .sort((a, b) => (a.zoneName < b.zoneName ? -1 : a.zoneName > b.zoneName ? 1 : 0));
}

/** The zone IDs of zone names of the tenant's account (DescribeAvailabilityZones by name: their state does not matter here). */
export async function zonesNamed(ec2: EC2Client, names: readonly string[]): Promise<Zone[]> {
  const out = await ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: [...names] }));
  const ids = new Map((out.AvailabilityZones ?? []).map((z) => [z.ZoneName, z.ZoneId ?? '']));
  return names.map((zoneName) => ({ zoneName, zoneId: ids.get(zoneName) ?? '' }));
}

/** What the chooser needs to know of the tenant and its tier. */
export interface ZoneChoice {
  readonly accountId: string;
  readonly region: string;
  /** The tier's `network.maxAzs`: how many zones the VPC spans. */
  readonly maxAzs: number;
  /** The tier runs a dedicated EKS cluster in the VPC: zones EKS refuses are skipped. */
  readonly dedicatedCluster: boolean;
}

/** The zones chosen and, for the log's sake, the ones left out and why. */
export interface ChosenZones {
  readonly zones: Zone[];
  readonly excluded: Array<Zone & { reason: string }>;
}

const EKS_REFUSES = 'Amazon EKS does not support clusters (UnsupportedAvailabilityZoneException; EKS User Guide, network requirements)';

/**
 * A new tenant VPC's zones: the region's usable zones by name (regionZones), without the zones EKS
 * does not support (EKS_UNSUPPORTED_ZONE_IDS, by zone ID) when the tier has a dedicated cluster, the
 * first `maxAzs`.
 * @throws InvalidRequestError (terminal) when fewer than `maxAzs` zones are left, naming the account,
 * region, the zones seen and the ones excluded and why
 */
export function chooseZones(seen: readonly Zone[], choice: ZoneChoice): ChosenZones {
  const excluded: ChosenZones['excluded'] = [];
  const usable = seen.filter((z) => {
    if (!choice.dedicatedCluster || !EKS_UNSUPPORTED_ZONE_IDS.includes(z.zoneId)) return true;
    excluded.push({ ...z, reason: `zone ID ${z.zoneId} is one where ${EKS_REFUSES}` });
    return false;
  });
  if (usable.length < choice.maxAzs) {
    const list = seen.map((z) => `${z.zoneName} (${z.zoneId || 'no zone id'})`).join(', ') || 'none';
    const why = excluded.length ? `; excluded ${excluded.map((e) => `${e.zoneName}: ${e.reason}`).join('; ')}` : '; none excluded';
    throw new InvalidRequestError(`account ${choice.accountId}, region ${choice.region}: ${usable.length} usable Availability Zone(s) for a VPC across ${choice.maxAzs}; available zones seen: ${list}${why}`);
  }
  return { zones: usable.slice(0, choice.maxAzs), excluded };
}

/** CDK's logical ID of a VPC subnet: `<…><group>Subnet<n>Subnet<hash>`, `n` counting the zones from 1 (element n-1 of the zone list). */
const SUBNET_LOGICAL_ID = /Subnet(\d+)Subnet[0-9A-F]{8}$/;

/**
 * The zones the standing tenant stack's subnets are in, in the template's order (element `i` is the
 * zone of every `…Subnet<i+1>Subnet…`): ListStackResources for its AWS::EC2::Subnet resources, then
 * DescribeSubnets for their AvailabilityZone. This is where a tenant onboarded before zones were
 * recorded has its subnets (Fn::GetAZs at its create); today's zone states do not move them.
 * Undefined when the stack has no subnet.
 * @throws Error when subnets of the same index are in different zones, or an index has none (not a
 * layout the blueprints make: an operator must look)
 */
export async function standingZones(cfn: CloudFormationClient, ec2: EC2Client, stackName: string): Promise<string[] | undefined> {
  const byId = new Map<string, number>();
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: stackName })) {
    for (const r of page.StackResourceSummaries ?? []) {
      const m = r.ResourceType === 'AWS::EC2::Subnet' && r.PhysicalResourceId ? SUBNET_LOGICAL_ID.exec(r.LogicalResourceId ?? '') : null;
      if (m) byId.set(r.PhysicalResourceId!, Number(m[1]) - 1);
    }
  }
  if (!byId.size) return undefined;
  const out = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [...byId.keys()] }));
  const zones: string[] = [];
  for (const s of out.Subnets ?? []) {
    const i = byId.get(s.SubnetId ?? '');
    if (i === undefined || !s.AvailabilityZone) continue;
    if (zones[i] !== undefined && zones[i] !== s.AvailabilityZone) {
      throw new Error(`stack ${stackName}: subnets of zone index ${i} are in ${zones[i]} and ${s.AvailabilityZone}; not the layout of a tenant blueprint, an operator must look`);
    }
    zones[i] = s.AvailabilityZone;
  }
  if (zones.length === 0 || zones.some((z) => z === undefined) || zones.length !== new Set(zones).size) {
    throw new Error(`stack ${stackName}: its subnets' zones by index are ${JSON.stringify(zones)}; not the layout of a tenant blueprint, an operator must look`);
  }
  return zones;
}

/** The zones among `zones` where EKS does not support clusters (by zone ID). */
export const eksUnsupported = (zones: readonly Zone[]): Zone[] => zones.filter((z) => EKS_UNSUPPORTED_ZONE_IDS.includes(z.zoneId));

/** The refusal of a dedicated-cluster tier in zones EKS does not support: each zone by name and ID, the account, the region. */
export function describeUnsupportedZones(where: { tenantId: string; accountId: string; region: string; tier: string }, refused: readonly Zone[], source: string): string {
  return `account ${where.accountId}, region ${where.region}: tenant ${where.tenantId}'s VPC is in ${refused.map((z) => `${z.zoneName} (zone ID ${z.zoneId})`).join(', ')} (${source}), where ${EKS_REFUSES}, so tier ${where.tier}, with a dedicated cluster, cannot run there; `
    + 'moving the VPC to other zones would replace its subnets and everything in them (a migration: offboard and onboard), not a tier change or update';
}

/** The refusal of a zone count other than the tier's `maxAzs`: each subnet layer gains or loses a subnet, every subnet range moves. */
export function describeZoneCount(where: { tenantId: string; tier: string }, zones: readonly string[], maxAzs: number, source: string): string {
  return `tenant ${where.tenantId}'s VPC is in ${zones.length} Availability Zone(s) (${zones.join(', ')}; ${source}), and tier ${where.tier}'s network.maxAzs is ${maxAzs}: `
    + 'another zone count adds or removes subnets and re-cuts every subnet range (a network migration: offboard and onboard), never done by an update';
}

/** How the tenant's zones were known: recorded, read from its standing stack (and now recorded), or chosen (now recorded). */
export type ZoneSource = 'recorded' | 'standing' | 'chosen' | 'getazs';

/**
 * The zones of the tenant's VPC for a deploy of a tier blueprint, and the checks every such deploy
 * makes, whatever the path (onboarding, re-run, update, repair, rolling upgrade, tier change):
 * - recorded zones (`availabilityZones`) as they are;
 * - none recorded, the stack stands (a tenant onboarded before zones were recorded): the zones its
 *   subnets are in (standingZones), to be recorded;
 * - none recorded, no stack: a template that declares `AvailabilityZones` gets chooseZones' (to be
 *   recorded); an older one, which places its subnets by Fn::GetAZs, the first `maxAzs` usable
 *   zones by name (what Fn::GetAZs gives; not recorded: the template decides, not the lifecycle).
 * Then refused (InvalidRequest, terminal, before any stack operation): a zone count other than the
 * tier's `maxAzs`; for a tier with a dedicated cluster, a zone EKS does not support (by zone ID;
 * the error names each zone's name and ID, the account and the region).
 */
export async function deployZones(ec2: EC2Client, input: {
  record: TenantRecord;
  /** The tier deployed (a tier change's target). */
  tier: string;
  region: string;
  maxAzs: number;
  dedicatedCluster: boolean;
  /** The template deployed declares the `AvailabilityZones` parameter. */
  declaresZones: boolean;
  /** The standing stack's zones (standingZones); called only when nothing is recorded. */
  standing: () => Promise<string[] | undefined>;
}): Promise<{ zones: Zone[]; source: ZoneSource; excluded?: ChosenZones['excluded'] }> {
  const { record, tier, region, maxAzs, dedicatedCluster } = input;
  const where = { tenantId: record.tenantId, accountId: record.accountId ?? '', region, tier };
  let result: { zones: Zone[]; source: ZoneSource; excluded?: ChosenZones['excluded'] };
  if (record.availabilityZones?.length) {
    const names = record.availabilityZones;
    const ids = record.availabilityZoneIds;
    const zones = ids?.length === names.length ? names.map((zoneName, i) => ({ zoneName, zoneId: ids[i] })) : await zonesNamed(ec2, names);
    result = { zones, source: 'recorded' };
  } else {
    const standing = await input.standing();
    if (standing) {
      result = { zones: await zonesNamed(ec2, standing), source: 'standing' };
    } else if (input.declaresZones) {
      const chosen = chooseZones(await regionZones(ec2), { accountId: where.accountId, region, maxAzs, dedicatedCluster });
      result = { zones: chosen.zones, source: 'chosen', excluded: chosen.excluded };
    } else {
      result = { zones: (await regionZones(ec2)).slice(0, maxAzs), source: 'getazs' };
    }
  }
  const source = { recorded: 'as recorded', standing: 'where its standing stack\'s subnets are', chosen: 'as chosen', getazs: 'the first by name, as Fn::GetAZs gives them to a blueprint version without the AvailabilityZones parameter' }[result.source];
  const names = result.zones.map((z) => z.zoneName);
  if (result.source !== 'chosen' && names.length !== maxAzs) throw new ZoneRefusal(describeZoneCount(where, names, maxAzs, source), result);
  const refused = dedicatedCluster ? eksUnsupported(result.zones) : [];
  if (refused.length) throw new ZoneRefusal(describeUnsupportedZones(where, refused, source), result);
  return result;
}

/** A terminal refusal (InvalidRequest) that still carries the zones found, so that standing zones are recorded even when refused. */
export class ZoneRefusal extends InvalidRequestError {
  constructor(message: string, readonly found: { zones: Zone[]; source: ZoneSource }) {
    super(message);
  }
}

/**
 * Whether a tenant's recorded zones refuse a tier up front (the admin API, 400; *Begin change*,
 * terminal): another zone count than the tier's `maxAzs` is tier-migration.ts's network difference;
 * this is the other refusal, recorded zone IDs EKS does not support under a tier with a dedicated
 * cluster. Undefined when nothing recorded refuses it (a tenant without recorded zone IDs is checked
 * by *Deploy blueprint*, which reads them in its account).
 */
export function recordedZoneRefusal(record: Pick<TenantRecord, 'tenantId' | 'accountId' | 'availabilityZones' | 'availabilityZoneIds'>, tier: string, dedicatedCluster: boolean, region: string): string | undefined {
  const names = record.availabilityZones ?? [];
  const ids = record.availabilityZoneIds ?? [];
  if (!dedicatedCluster || ids.length !== names.length) return undefined;
  const refused = eksUnsupported(names.map((zoneName, i) => ({ zoneName, zoneId: ids[i] })));
  if (!refused.length) return undefined;
  return describeUnsupportedZones({ tenantId: record.tenantId, accountId: record.accountId ?? '', region, tier }, refused, 'as recorded');
}
