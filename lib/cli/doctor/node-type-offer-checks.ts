import type { LocationType } from '@aws-sdk/client-ec2';
import { EKS_UNSUPPORTED_ZONE_IDS, getAzsZones, regionZones, zonesNamed, type Zone } from '../../../lambdas/lifecycle/availability-zones.js';
import { configuredZones } from '../../config/availability-zones.js';
import { instanceTypeOfferings } from '../../../lambdas/lifecycle/instance-offerings.js';
import { nodeGroups } from '../../node-groups.js';
import { describeAwsError, isAccessDenied } from '../aws-errors.js';
import { result, unreadable } from './results.js';
import { once, tierRegions, tierWhere } from './tier-regions.js';
import type { CheckResult, DoctorContext } from './types.js';

/** The command that lists the zones (`availability-zone`) or zone IDs (`availability-zone-id`) of `region` offering `instanceType`. */
export const offeringsCommand = (region: string, instanceType: string, location: LocationType) =>
  `aws ec2 describe-instance-type-offerings --region ${region} --location-type ${location} --filters Name=instance-type,Values=${instanceType} --query "InstanceTypeOfferings[].Location" --output text`;

/** Location → the instance types offered there (lambdas/lifecycle/instance-offerings.ts, the lifecycle's own call). */
const offerings = instanceTypeOfferings;

const CALL = 'ec2:DescribeInstanceTypeOfferings';
const EKS_REFUSAL = 'EKS refuses a node group with an instance type some subnet\'s zone does not offer (CreateNodegroup: InvalidRequestException "Your requested instance type ... is not supported in your requested Availability Zone")';

/**
 * The shared cluster's node groups (with a tier of shared compute): TesseraPlatform's VPC, in the
 * platform account, holds their subnets in the home Region's first `platformNetwork.maxAzs` zones
 * (`availabilityZones.<region>` when pinned, else Fn::GetAZs: the same zones as the
 * `platform-zones` line). Every instance type must be offered in each of those zones, by name in the
 * platform account (DescribeInstanceTypeOfferings, LocationType `availability-zone`).
 */
async function sharedClusterLines(ctx: DoctorContext, read: ReturnType<typeof once<Map<string, Set<string>>>>): Promise<CheckResult[]> {
  const { config, region } = ctx;
  const account = config.platformAccountId;
  const where = { account, region };
  const groups = nodeGroups('sharedCluster', config.sharedCluster.systemNodes.instanceType, config.sharedCluster.gpu);
  const ids = groups.map((g) => `instance-offer:shared-cluster:${g.name}`);
  const titles = groups.map((g) => `EC2 ${g.instanceTypes.join(', ')} shared cluster ${g.name}`);
  const access = await ctx.clientsIn(account);
  if (!access.ok) return groups.map((_, i) => unreadable(ids[i], titles[i], access, account, region));
  const { ec2 } = access.clients;
  const pinned = configuredZones(config, region);
  const source = pinned ? `availabilityZones.${region}` : 'Fn::GetAZs';
  let zones: Zone[];
  let offered: Map<string, Set<string>>;
  try {
    zones = pinned ? await zonesNamed(ec2, pinned.slice(0, config.platformNetwork.maxAzs)) : (await getAzsZones(ec2)).slice(0, config.platformNetwork.maxAzs);
    offered = await read(`shared|${region}`, () => offerings(ec2, 'availability-zone', [...new Set(groups.flatMap((g) => g.instanceTypes))]));
  } catch (e) {
    return groups.map((g, i) => result(ids[i], titles[i], 'warn', `could not check whether the platform VPC's zones offer ${g.key}: ${describeAwsError(`${CALL} / ec2:DescribeAvailabilityZones`, e)}`, {
      ...where, fix: `${isAccessDenied(e) ? `grant ${CALL} to ${access.via}, or` : 'rerun doctor, or'} look yourself: ${offeringsCommand(region, g.instanceTypes[0], 'availability-zone')}`,
    }));
  }
  const names = zones.map((z) => z.zoneName);
  return groups.map((g, i) => {
    const gaps = g.instanceTypes.map((t) => ({ type: t, missing: names.filter((n) => !offered.get(t)?.has(n)) })).filter((x) => x.missing.length);
    if (gaps.length === 0) return result(ids[i], titles[i], 'pass', `offered in each zone of the platform VPC: ${names.join(', ')} (${source})`, where);
    const shown = gaps.map((x) => `${x.type} not in ${x.missing.join(', ')}`).join('; ');
    return result(ids[i], titles[i], 'fail', `${g.key}: ${shown} (the platform VPC's zones in ${region}: ${names.join(', ')}, from ${source}); ${EKS_REFUSAL}, so cdk deploy of TesseraPlatform would fail`, {
      ...where, fix: `in ${g.key}, use types offered in ${names.join(', ')}, or pin availabilityZones.${region} to zones that offer ${gaps.map((x) => x.type).join(', ')} (in account ${account}: ${offeringsCommand(region, gaps[0].type, 'availability-zone')})`,
    });
  });
}

/**
 * A dedicated tier's node groups in one Region. The tenant's account does not exist before its
 * onboarding, which picks the VPC's zones there (lambdas/lifecycle/availability-zones.ts
 * chooseZones: the first `network.maxAzs` usable zones by name, less the zone IDs EKS refuses and the
 * zones that do not offer every node-group type there), and
 * zone names map to physical zones per account, so `availabilityZones` (the platform account's
 * names) says nothing about them. Zone IDs do: the check is by zone ID
 * (LocationType `availability-zone-id`) against the Region's usable zone IDs. A type offered in fewer
 * usable zones than `maxAzs` fails (no choice of zones can hold the node group); offered in at least
 * `maxAzs` but not in all, it warns (onboarding skips such a zone, so a tenant account fails only when
 * fewer than `maxAzs` of its usable zones offer every type).
 */
async function dedicatedLines(ctx: DoctorContext, read: ReturnType<typeof once<Map<string, Set<string>>>>, readZones: ReturnType<typeof once<Zone[]>>): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const t of tierRegions(ctx.config, ctx.region)) {
    const compute = t.config.compute;
    if (compute.mode !== 'dedicated') continue;
    const groups = nodeGroups(`tiers.${t.tier}.compute`, compute.systemNodes.instanceType, compute.gpu);
    const maxAzs = t.config.network.maxAzs;
    const where = { region: t.region };
    const { ec2 } = ctx.callerIn(t.region);
    const types = [...new Set(groups.flatMap((g) => g.instanceTypes))];
    let usable: Zone[];
    let offered: Map<string, Set<string>>;
    try {
      usable = (await readZones(t.region, () => regionZones(ec2))).filter((z) => z.zoneId && !EKS_UNSUPPORTED_ZONE_IDS.includes(z.zoneId));
      offered = await read(`ids|${t.region}|${types.join(',')}`, () => offerings(ec2, 'availability-zone-id', types));
    } catch (e) {
      for (const g of groups) {
        out.push(result(`instance-offer:${g.name}:${t.tier}:${t.region}`, `EC2 ${g.instanceTypes.join(', ')} ${tierWhere(t)} ${g.name}`, 'warn',
          `could not check whether ${t.region} offers ${g.key}: ${describeAwsError(`${CALL} / ec2:DescribeAvailabilityZones`, e)}`,
          { ...where, fix: `${isAccessDenied(e) ? `grant ${CALL} and ec2:DescribeAvailabilityZones to your credentials, or` : 'rerun doctor, or'} look yourself: ${offeringsCommand(t.region, g.instanceTypes[0], 'availability-zone-id')}` }));
      }
      continue;
    }
    const ids = usable.map((z) => z.zoneId);
    for (const g of groups) {
      const id = `instance-offer:${g.name}:${t.tier}:${t.region}`;
      const title = `EC2 ${g.instanceTypes.join(', ')} ${tierWhere(t)} ${g.name}`;
      const per = g.instanceTypes.map((type) => ({ type, missing: ids.filter((z) => !offered.get(type)?.has(z)) }));
      const short = per.filter((x) => ids.length - x.missing.length < maxAzs);
      const partial = per.filter((x) => x.missing.length && !short.includes(x));
      const zonesShown = `the usable zone IDs of ${t.region}: ${ids.join(', ')}`;
      if (short.length) {
        out.push(result(id, title, 'fail', `${g.key}: ${short.map((x) => `${x.type} is offered in ${ids.length - x.missing.length} of ${ids.length} zones (not in ${x.missing.join(', ')})`).join('; ')}, fewer than tiers.${t.tier}.network.maxAzs (${maxAzs}) the tenant VPC spans (${zonesShown}); ${EKS_REFUSAL}, so every onboarding would fail`, {
          ...where, fix: `remove ${short.map((x) => x.type).join(', ')} from ${g.key} or use types offered in at least ${maxAzs} zones of ${t.region}${t.role === 'dr' ? `, or another ${t.regionKey}` : ''}: ${offeringsCommand(t.region, short[0].type, 'availability-zone-id')}`,
        }));
      } else if (partial.length) {
        out.push(result(id, title, 'warn', `${g.key}: ${partial.map((x) => `${x.type} is not offered in ${x.missing.join(', ')}`).join('; ')} (${zonesShown}); a tenant VPC spans ${maxAzs} of them, chosen by name in the new account, onboarding skips ${partial.length === 1 ? 'that one' : 'those'} (${EKS_REFUSAL}), so a tenant fails onboarding only when fewer than ${maxAzs} of its zones offer every type`, {
          ...where, fix: `use types offered in every zone of ${t.region} in ${g.key} (${offeringsCommand(t.region, partial[0].type, 'availability-zone-id')}), or accept fewer zones to choose from`,
        }));
      } else {
        out.push(result(id, title, 'pass', `offered in every usable zone of ${t.region} (${ids.join(', ')})`, where));
      }
    }
  }
  return out;
}

/**
 * The EC2 instance types of the EKS managed node groups (system and GPU) against the zones their
 * subnets are in: the shared cluster's in the platform VPC's zones, each dedicated tier's by zone ID
 * in every Region its blueprints go to (tierRegions). EKS creates a node group's instances in its
 * subnets' zones and refuses a type one of them does not offer. SageMaker training and endpoint
 * instance types are not checked: SageMaker has no offerings API (the gpu-quotas lines cover part).
 * Calls: ec2:DescribeInstanceTypeOfferings, ec2:DescribeAvailabilityZones (your credentials, each
 * Region; and ec2:DescribeSubnets in the platform account when the zones are not pinned).
 */
export async function nodeTypeOfferChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const read = once<Map<string, Set<string>>>();
  const shared = Object.values(ctx.config.tiers).some((t) => t.compute.mode === 'shared') ? await sharedClusterLines(ctx, read) : [];
  return [...shared, ...await dedicatedLines(ctx, read, once<Zone[]>())];
}
