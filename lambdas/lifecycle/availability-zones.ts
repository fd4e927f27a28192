import { paginateListStackResources, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, paginateDescribeSubnets, type AvailabilityZone, type EC2Client, type Subnet } from '@aws-sdk/client-ec2';
import { pages } from '../../lib/aws-pages.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { EKS_UNSUPPORTED_ZONE_IDS } from '../../lib/vpc-layout.js';
import { InvalidRequestError } from '../shared/errors.js';
import { instanceTypeOfferings } from './instance-offerings.js';

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
export function regionZones(ec2: EC2Client): Promise<Zone[]> {
  return zonesByName(ec2, [{ Name: 'state', Values: ['available'] }], usableZone);
}

/**
 * Every Availability Zone of the region the account may use, whatever its state, sorted by name:
 * what Fn::GetAZs gives when no zone has a default subnet ("all Availability Zones are returned";
 * an impaired zone is not left out, so neither is it here). No Local or Wavelength Zones.
 */
export function allRegionZones(ec2: EC2Client): Promise<Zone[]> {
  return zonesByName(ec2, [], (z) => !!z.ZoneName && z.ZoneType === 'availability-zone' && USABLE_OPT_IN.includes(z.OptInStatus ?? 'opt-in-not-required'));
}

/** DescribeAvailabilityZones for the Availability Zones the account may use (and `filters`), those `keep` keeps, by name. */
async function zonesByName(ec2: EC2Client, filters: Array<{ Name: string; Values: string[] }>, keep: (z: AvailabilityZone) => boolean): Promise<Zone[]> {
  const out = await ec2.send(new DescribeAvailabilityZonesCommand({
    Filters: [{ Name: 'zone-type', Values: ['availability-zone'] }, ...filters, { Name: 'opt-in-status', Values: USABLE_OPT_IN }],
  }));
  return (out.AvailabilityZones ?? [])
    .filter(keep)
    .map((z) => ({ zoneName: z.ZoneName!, zoneId: z.ZoneId ?? '' }))
    .sort((a, b) => (a.zoneName < b.zoneName ? -1 : a.zoneName > b.zoneName ? 1 : 0));
}

/** The zone IDs of zone names of the tenant's account (DescribeAvailabilityZones by name: their state does not matter here). */
export async function zonesNamed(ec2: EC2Client, names: readonly string[]): Promise<Zone[]> {
  const out = await ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: [...names] }));
  const ids = new Map((out.AvailabilityZones ?? []).map((z) => [z.ZoneName, z.ZoneId ?? '']));
  return names.map((zoneName) => ({ zoneName, zoneId: ids.get(zoneName) ?? '' }));
}

/**
 * Every page of a DescribeSubnets with these filters (a filter matches what exists: values that
 * match nothing are no error). The SDK's paginator with `stopOnSameToken`: a page that answers the
 * token it was asked with ends the listing (the paginators' default goes on asking for ever).
 */
async function subnetsFiltered(ec2: EC2Client, Filters: Array<{ Name: string; Values: string[] }>): Promise<Subnet[]> {
  const out: Subnet[] = [];
  for await (const page of paginateDescribeSubnets(pages(ec2), { Filters })) out.push(...(page?.Subnets ?? []));
  return out;
}

/**
 * The zones `Fn::GetAZs ""` gives a template deployed in this account and region, in its order: "The
 * Fn::GetAZs function returns only Availability Zones that have a default subnet unless none of the
 * Availability Zones has a default subnet; in that case, all Availability Zones are returned", "in
 * alphabetical order" (CloudFormation template reference, Fn::GetAZs,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getavailabilityzones.html).
 * So: the zones of the account's default subnets (DescribeSubnets, filter `default-for-az=true`), by
 * name; none, all the region's Availability Zones, impaired ones too (allRegionZones), by name. This is where an older blueprint
 * version, which places subnet `i` at `Fn::Select [i, Fn::GetAZs ""]`, puts its subnets.
 */
export async function getAzsZones(ec2: EC2Client): Promise<Zone[]> {
  const byName = new Map<string, string>();
  for (const s of await subnetsFiltered(ec2, [{ Name: 'default-for-az', Values: ['true'] }])) {
    if (s.AvailabilityZone && s.DefaultForAz !== false) byName.set(s.AvailabilityZone, s.AvailabilityZoneId ?? byName.get(s.AvailabilityZone) ?? '');
  }
  if (!byName.size) return allRegionZones(ec2);
  const names = [...byName.keys()].sort();
  if (names.every((n) => byName.get(n))) return names.map((zoneName) => ({ zoneName, zoneId: byName.get(zoneName)! }));
  return zonesNamed(ec2, names);
}

/** What the chooser needs to know of the tenant and its tier. */
export interface ZoneChoice {
  readonly accountId: string;
  readonly region: string;
  /** The tier's `network.maxAzs`: how many zones the VPC spans. */
  readonly maxAzs: number;
  /** The tier runs a dedicated EKS cluster in the VPC: zones EKS refuses are skipped. */
  readonly dedicatedCluster: boolean;
  /**
   * The instance types of the dedicated cluster's node groups (system and GPU: lib/node-groups.ts)
   * and, for each, the zone names of the tenant's account that offer it (instanceTypeOfferings,
   * LocationType `availability-zone`): a zone lacking one is skipped. Undefined: not checked (no
   * dedicated cluster).
   */
  readonly offered?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The zones chosen and, for the log's sake, the ones left out and why. */
export interface ChosenZones {
  readonly zones: Zone[];
  readonly excluded: Array<Zone & { reason: string }>;
}

const EKS_REFUSES = 'Amazon EKS does not support clusters (UnsupportedAvailabilityZoneException; EKS User Guide, network requirements)';

/**
 * Why a zone that lacks a node-group instance type is skipped: a managed node group runs across every
 * subnet it is given ("Each node group runs across multiple Availability Zones that you define", EKS
 * User Guide, managed node groups), and the tenant's node groups are given every private subnet of the
 * VPC, so each zone must offer each of their types (CreateNodegroup fails, or the group cannot launch there).
 */
const NODE_TYPES_MISSING = 'the tenant\'s EKS node groups span every zone of the VPC (EKS User Guide, managed node groups), and EC2 does not offer';

/** The node-group instance types `zoneName` does not offer (empty when nothing was checked). */
function missingTypes(zoneName: string, offered: ChoiceOffered): string[] {
  return offered ? [...offered.keys()].filter((t) => !offered.get(t)?.has(zoneName)) : [];
}
type ChoiceOffered = ZoneChoice['offered'];

/**
 * A new tenant VPC's zones: the region's usable zones by name (regionZones), without, when the tier
 * has a dedicated cluster, the zones EKS does not support (EKS_UNSUPPORTED_ZONE_IDS, by zone ID) and
 * the zones that do not offer every instance type of its node groups (`choice.offered`), the first
 * `maxAzs`, still by name.
 * @throws InvalidRequestError (terminal) when fewer than `maxAzs` zones are left, naming the account,
 * region, the zones seen and the ones excluded and why (for a zone lacking node-group types: each type it lacks)
 */
export function chooseZones(seen: readonly Zone[], choice: ZoneChoice): ChosenZones {
  const excluded: ChosenZones['excluded'] = [];
  const usable = seen.filter((z) => {
    if (!choice.dedicatedCluster) return true;
    if (EKS_UNSUPPORTED_ZONE_IDS.includes(z.zoneId)) {
      excluded.push({ ...z, reason: `zone ID ${z.zoneId} is one where ${EKS_REFUSES}` });
      return false;
    }
    const missing = missingTypes(z.zoneName, choice.offered);
    if (!missing.length) return true;
    excluded.push({ ...z, reason: `EC2 does not offer ${missing.join(', ')} there (DescribeInstanceTypeOfferings)` });
    return false;
  });
  if (usable.length < choice.maxAzs) {
    const list = seen.map((z) => `${z.zoneName} (${z.zoneId || 'no zone id'})`).join(', ') || 'none';
    const why = excluded.length ? `; excluded ${excluded.map((e) => `${e.zoneName}: ${e.reason}`).join('; ')}` : '; none excluded';
    // The reason for the offerings once, not per zone: the message is the failure's reason, clipped at 2,000 UTF-8 bytes (catch-reason.ts).
    const types = choice.dedicatedCluster && choice.offered ? `; every zone must offer each node-group instance type, since ${NODE_TYPES_MISSING.replace(', and EC2 does not offer', '')}: ${[...choice.offered.keys()].join(', ')}` : '';
    throw new InvalidRequestError(`account ${choice.accountId}, region ${choice.region}: ${usable.length} usable Availability Zone(s) for a VPC across ${choice.maxAzs}; available zones seen: ${list}${why}${types}`);
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
 * The subnets are asked for with the filter `subnet-id`, not `SubnetIds`: with `SubnetIds`, one ID
 * that no longer exists (a subnet deleted or replaced by hand: drift) fails the whole call
 * (InvalidSubnetID.NotFound), while a filter only returns the subnets that match ("Filters: the
 * filters", DescribeSubnets, EC2 API reference,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSubnets.html; a filter narrows
 * the results, a value matching nothing is not an error). A missing subnet is skipped (a repair
 * recreates it); a zone index is known from any of its surviving subnets.
 * Undefined when the stack has no subnet. `onSkipped`: told the missing subnets (logical and physical IDs).
 * @throws InvalidRequestError (terminal) when no subnet of a zone index survives, naming the
 * logical IDs (their zone is no longer known: an operator must say where they were)
 * @throws Error when subnets of the same index are in different zones (not a layout the blueprints
 * make: an operator must look)
 */
export async function standingZones(cfn: CloudFormationClient, ec2: EC2Client, stackName: string, onSkipped?: (subnets: string[]) => void): Promise<string[] | undefined> {
  const byId = new Map<string, { index: number; logicalId: string }>();
  for await (const page of paginateListStackResources(pages(cfn), { StackName: stackName })) {
    for (const r of page.StackResourceSummaries ?? []) {
      const m = r.ResourceType === 'AWS::EC2::Subnet' && r.PhysicalResourceId ? SUBNET_LOGICAL_ID.exec(r.LogicalResourceId ?? '') : null;
      if (m) byId.set(r.PhysicalResourceId!, { index: Number(m[1]) - 1, logicalId: r.LogicalResourceId! });
    }
  }
  if (!byId.size) return undefined;
  const zones: string[] = [];
  const found = new Set<string>();
  for (const s of await subnetsFiltered(ec2, [{ Name: 'subnet-id', Values: [...byId.keys()] }])) {
    const i = byId.get(s.SubnetId ?? '')?.index;
    if (i === undefined || !s.AvailabilityZone) continue;
    found.add(s.SubnetId!);
    if (zones[i] !== undefined && zones[i] !== s.AvailabilityZone) {
      throw new Error(`stack ${stackName}: subnets of zone index ${i} are in ${zones[i]} and ${s.AvailabilityZone}; not the layout of a tenant blueprint, an operator must look`);
    }
    zones[i] = s.AvailabilityZone;
  }
  const indices = Math.max(...[...byId.values()].map((v) => v.index)) + 1;
  const lost = Array.from({ length: indices }, (_, i) => i).filter((i) => zones[i] === undefined);
  if (lost.length) {
    const missing = [...byId.entries()].filter(([, v]) => lost.includes(v.index)).map(([id, v]) => `${v.logicalId} (${id})`);
    throw new InvalidRequestError(`stack ${stackName}: no subnet of zone index ${lost.join(', ')} exists any more (DescribeSubnets does not find ${missing.join(', ')}), so the zone its subnets were in is unknown; `
      + 'an update would place them by the zones passed or Fn::GetAZs, perhaps elsewhere: an operator must restore the subnets, or record the tenant\'s zones (availabilityZones), before a repair');
  }
  if (zones.length !== new Set(zones).size) {
    throw new Error(`stack ${stackName}: its subnets' zones by index are ${JSON.stringify(zones)}; not the layout of a tenant blueprint, an operator must look`);
  }
  const gone = [...byId.keys()].filter((id) => !found.has(id));
  if (gone.length) onSkipped?.(gone.map((id) => `${byId.get(id)!.logicalId} (${id})`));
  return zones;
}

/** The zones among `zones` where EKS does not support clusters (by zone ID). */
export const eksUnsupported = (zones: readonly Zone[]): Zone[] => zones.filter((z) => EKS_UNSUPPORTED_ZONE_IDS.includes(z.zoneId));

/** The refusal of a dedicated-cluster tier in zones EKS does not support: each zone by name and ID, the account, the region. */
export function describeUnsupportedZones(where: { tenantId: string; accountId: string; region: string; tier: string }, refused: readonly Zone[], source: string): string {
  return `account ${where.accountId}, region ${where.region}: tenant ${where.tenantId}'s VPC is in ${refused.map((z) => `${z.zoneName} (zone ID ${z.zoneId})`).join(', ')} (${source}), where ${EKS_REFUSES}, so tier ${where.tier}, with a dedicated cluster, cannot run there; `
    + 'moving the VPC to other zones would replace its subnets and everything in them (a migration: offboard and onboard), not a tier change or update';
}

/** The refusal of a zone count other than the one the template deployed places subnets in (`expected`: that count and where it comes from). */
export function describeZoneCount(where: { tenantId: string; accountId: string; region: string; tier: string }, zones: readonly string[], expected: ZoneCount, source: string): string {
  return `account ${where.accountId}, region ${where.region}: tenant ${where.tenantId}'s VPC is in ${zones.length} Availability Zone(s) (${zones.join(', ')}; ${source}), and ${expected.from} ${expected.count}: `
    + 'another zone count adds or removes subnets and re-cuts every subnet range (a network migration: offboard and onboard), never done by an update; '
    + `deploy a blueprint version whose tier spans ${zones.length} zone(s) (the one the tenant runs, for a repair), or migrate the tenant`;
}

/** The refusal of a template without the `AvailabilityZones` parameter whose Fn::GetAZs zones are not the tenant's: its subnets would move. */
export function describeGetAzsMove(where: { tenantId: string; accountId: string; region: string; tier: string }, zones: readonly string[], getAzs: readonly string[], source: string, version?: string): string {
  const moves = zones.map((z, i) => (z !== getAzs[i] ? `${z} → ${getAzs[i] ?? 'none'}` : '')).filter(Boolean);
  return `account ${where.accountId}, region ${where.region}: tenant ${where.tenantId}'s subnets are in ${zones.join(', ')} (${source}), and the template deployed (tier ${where.tier}${version ? `, version ${version}` : ''}) `
    + `has no AvailabilityZones parameter: it places subnet i in element i of Fn::GetAZs, which here gives ${getAzs.join(', ') || 'none'} (the zones with a default subnet, or all zones when none has one, by name; CloudFormation template reference, Fn::GetAZs). `
    + `Deploying that older version would move the subnets (${moves.join(', ')}), replacing them and everything in them (database, cache, nodes); refused before any stack operation. `
    + 'Deploy a blueprint version that declares AvailabilityZones instead (the platform\'s current one does)';
}

/** How many zones the template deployed places subnets in, and where that number comes from (for the messages). */
export interface ZoneCount {
  readonly count: number;
  readonly from: string;
}

/** How the tenant's zones were known: recorded, read from its standing stack (and now recorded), or chosen (now recorded). */
export type ZoneSource = 'recorded' | 'standing' | 'chosen' | 'getazs';

/** The zones of a deploy: where they come from; `replaced`, why recorded zones were dropped (no stack stood on them) and chosen again. */
export interface DeployZones {
  zones: Zone[];
  source: ZoneSource;
  excluded?: ChosenZones['excluded'];
  replaced?: string;
}

/**
 * The zones of the tenant's VPC for a deploy of a tier blueprint, and the checks every such deploy
 * makes, whatever the path (onboarding, re-run, update, repair, rolling upgrade, tier change):
 * - recorded zones (`availabilityZones`) as they are while the stack stands; with no stack (a
 *   failed first create, then a retry), re-checked (their count against the template's, each zone
 *   usable now, none EKS does not support under a dedicated cluster) and chosen again when one
 *   fails: nothing stands in them, so nothing moves;
 * - none recorded, the stack stands (a tenant onboarded before zones were recorded): the zones its
 *   subnets are in (standingZones), to be recorded;
 * - no stack: a template that declares `AvailabilityZones` gets chooseZones' (to be recorded); an
 *   older one, which places its subnets by Fn::GetAZs, the zones Fn::GetAZs gives (getAzsZones;
 *   recorded only in place of recorded zones that would be wrong).
 * The zone count is the template's (`templateZoneCount`: its Fn::Select indices on its zone list),
 * else the tier's `maxAzs`. Then refused (InvalidRequest, terminal, before any stack operation): a
 * zone count other than that; an older template without the parameter whose Fn::GetAZs zones are
 * not the tenant's standing or recorded zones (its subnets would move); for a tier with a
 * dedicated cluster, a zone EKS does not support (by zone ID; the error names each zone's name and
 * ID, the account and the region).
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
  /** The number of zones the template deployed places subnets in; undefined when not known (then `maxAzs`). */
  templateZoneCount?: number;
  /** The blueprint version deployed (for the messages). */
  version?: string;
  /** The tenant stack stands (an update); false: a create. Default true. */
  stands?: boolean;
  /** The standing stack's zones (standingZones); called only when nothing is recorded. */
  standing: () => Promise<string[] | undefined>;
  /**
   * The instance types of the dedicated cluster's node groups (lib/node-groups.ts): zones chosen now,
   * and recorded zones no stack stands on, must offer each (DescribeInstanceTypeOfferings in the
   * tenant's account). Zones a stack stands on are kept as they are. Default none (not checked).
   */
  nodeTypes?: readonly string[];
}): Promise<DeployZones> {
  const { record, tier, region, maxAzs, dedicatedCluster } = input;
  const stands = input.stands ?? true;
  const where = { tenantId: record.tenantId, accountId: record.accountId ?? '', region, tier };
  const expected: ZoneCount = input.templateZoneCount !== undefined
    ? { count: input.templateZoneCount, from: `the template deployed (tier ${tier}${input.version ? `, version ${input.version}` : ''}) places its subnets in` }
    : { count: maxAzs, from: `tier ${tier}'s network.maxAzs is` };
  let result: DeployZones | undefined;
  let replaced: string | undefined;
  if (record.availabilityZones?.length) {
    const names = record.availabilityZones;
    const ids = record.availabilityZoneIds;
    const zones = ids?.length === names.length ? names.map((zoneName, i) => ({ zoneName, zoneId: ids[i] })) : await zonesNamed(ec2, names);
    if (stands) result = { zones, source: 'recorded' };
    else {
      replaced = await unfitRecorded(ec2, zones, expected, dedicatedCluster, () => offeredTypes(ec2, where, input.nodeTypes));
      if (!replaced && input.declaresZones) result = { zones, source: 'recorded' };
      else if (!replaced) replaced = 'the template deployed has no AvailabilityZones parameter (its subnets go where Fn::GetAZs says)';
    }
  }
  if (!result) {
    const standing = replaced || !stands ? undefined : await input.standing();
    if (standing) {
      result = { zones: await zonesNamed(ec2, standing), source: 'standing' };
    } else if (input.declaresZones) {
      const offered = dedicatedCluster ? await offeredTypes(ec2, where, input.nodeTypes) : undefined;
      const chosen = chooseZones(await regionZones(ec2), { accountId: where.accountId, region, maxAzs: expected.count, dedicatedCluster, offered });
      result = { zones: chosen.zones, source: 'chosen', excluded: chosen.excluded, ...(replaced ? { replaced } : {}) };
    } else {
      result = { zones: (await getAzsZones(ec2)).slice(0, expected.count), source: 'getazs', ...(replaced ? { replaced } : {}) };
    }
  }
  const source = { recorded: 'as recorded', standing: 'where its standing stack\'s subnets are', chosen: 'as chosen', getazs: 'the first by name, as Fn::GetAZs gives them to a blueprint version without the AvailabilityZones parameter' }[result.source];
  const names = result.zones.map((z) => z.zoneName);
  if (result.source !== 'chosen' && names.length !== expected.count) throw new ZoneRefusal(describeZoneCount(where, names, expected, source), result);
  if (!input.declaresZones && result.source !== 'getazs') {
    // An older template places subnet i in Fn::GetAZs' element i: where the standing subnets are only if those are the tenant's zones.
    const getAzs = (await getAzsZones(ec2)).slice(0, expected.count).map((z) => z.zoneName);
    if (getAzs.length !== names.length || getAzs.some((z, i) => z !== names[i])) throw new ZoneRefusal(describeGetAzsMove(where, names, getAzs, source, input.version), result);
  }
  const refused = dedicatedCluster ? eksUnsupported(result.zones) : [];
  if (refused.length) throw new ZoneRefusal(describeUnsupportedZones(where, refused, source), result);
  return result;
}

/**
 * Why recorded zones no stack stands on (a failed first create) are not fit for this create: another
 * count than the template's, a zone not usable now (regionZones), or one EKS does not support under a
 * dedicated cluster. Undefined when they are fit.
 */
async function unfitRecorded(ec2: EC2Client, zones: readonly Zone[], expected: ZoneCount, dedicatedCluster: boolean, offers: () => Promise<ChoiceOffered>): Promise<string | undefined> {
  const names = zones.map((z) => z.zoneName);
  if (names.length !== expected.count) return `${names.length} zone(s) recorded (${names.join(', ')}), and ${expected.from} ${expected.count}`;
  const usable = new Set((await regionZones(ec2)).map((z) => z.zoneName));
  const unusable = names.filter((n) => !usable.has(n));
  if (unusable.length) return `recorded ${unusable.join(', ')} not usable now (not an available, opted-in Availability Zone)`;
  const refused = dedicatedCluster ? eksUnsupported(zones) : [];
  if (refused.length) return `recorded ${refused.map((z) => `${z.zoneName} (zone ID ${z.zoneId})`).join(', ')}, where ${EKS_REFUSES}`;
  const offered = dedicatedCluster ? await offers() : undefined;
  const lacking = names.map((n) => ({ n, missing: missingTypes(n, offered) })).filter((x) => x.missing.length);
  if (lacking.length) return `recorded ${lacking.map((x) => `${x.n} (without ${x.missing.join(', ')})`).join(', ')}: ${NODE_TYPES_MISSING} those types there (DescribeInstanceTypeOfferings)`;
  return undefined;
}

/**
 * The zone names of the tenant's account offering each of `types` (instanceTypeOfferings, LocationType
 * `availability-zone`: names as this account maps them); undefined when no types are given.
 * @throws Error naming the call, the account and the region when it is refused (AccessDenied,
 * UnauthorizedOperation: the provisioning role lacks ec2:DescribeInstanceTypeOfferings, which takes
 * Resource "*"); other errors as the SDK throws them (retried by the step)
 */
async function offeredTypes(ec2: EC2Client, where: { accountId: string; region: string }, types: readonly string[] | undefined): Promise<ChoiceOffered> {
  if (!types?.length) return undefined;
  try {
    return await instanceTypeOfferings(ec2, 'availability-zone', [...new Set(types)]);
  } catch (e) {
    const err = e as Error;
    if (!/AccessDenied|UnauthorizedOperation/.test(err.name ?? '')) throw e;
    throw new Error(`account ${where.accountId}, region ${where.region}: ec2:DescribeInstanceTypeOfferings was refused (${err.name}: ${err.message}), so the tenant VPC's zones cannot be checked for the node groups' instance types (${[...new Set(types)].join(', ')}); `
      + 'grant ec2:DescribeInstanceTypeOfferings (Resource "*": it has no resource-level permissions) to the role the lifecycle deploys with in that account, then retry', { cause: e });
  }
}

/** A terminal refusal (InvalidRequest) that still carries the zones found, so that standing zones are recorded even when refused. */
export class ZoneRefusal extends InvalidRequestError {
  constructor(message: string, readonly found: DeployZones) {
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
