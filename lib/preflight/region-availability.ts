/**
 * Service rule `offered-in-region`: every resource type, DB instance class, cache node type and EKS node group
 * instance type of a tier's stacks, and the SageMaker endpoint instance types of its fine-tuned models
 * (`training.endpointInstanceTypes`), exists in the Region each stack is deployed in, from cfn-lint's Region data
 * (./region-offerings.ts), so that a Region lacking one fails the preflight instead of a tenant's first create.
 *
 * Where a tier's stacks go (lambdas/lifecycle/blueprints.ts `cloudFormationFor`): the tier blueprint, its
 * namespace blueprint and the account baseline in the lifecycle's own Region, `homeRegion` (the preflight's
 * `--region` when given); the DR blueprint and the failover blueprint in `tiers.<tier>.disasterRecovery.region`.
 * `allowedRegions` is the Region guardrail SCP (and where Bedrock deployments may be), not a placement: a
 * Region only listed there gets no stack of a tier, and is not checked (as `tessera doctor`'s
 * lib/cli/doctor/tier-regions.ts). The platform's own stacks are checked once per run: TesseraPlatform in `homeRegion`
 * (platformRegionViolations), TesseraPlatformDr in `platformDisasterRecovery.region` (platformDrRegionViolations).
 */
import { drRegionOf } from '../config/disaster-recovery.js';
import type { PlatformConfig, TierConfig } from '../config/schema.js';
import type { InstantiatedTemplate } from './instantiate.js';
import { regionOfferings, type RegionGap, type RegionOfferings } from './region-offerings.js';

/** One stack of a tier as the rule reads it: its blueprint's file name and its instance (whose Region it is deployed in). */
export interface RegionCheckedStack {
  readonly blueprint: string;
  readonly inst: InstantiatedTemplate;
}

/**
 * The config key that sets `gap`'s value (`tiers.<tier>.database.instanceClass`, `tiers.<tier>.compute.gpu.instanceTypes[1]`),
 * or, for a missing resource type, what adds the type to the blueprint; undefined when no key of the config does
 * (the type is part of every blueprint of its kind).
 */
export function configKeyOf(gap: RegionGap, tierName: string, tier: TierConfig): string | undefined {
  const t = `tiers.${tierName}`;
  if (gap.value !== undefined) {
    if (gap.type === 'AWS::RDS::DBInstance' && gap.value === tier.database.instanceClass) return `${t}.database.instanceClass`;
    if (gap.type.startsWith('AWS::ElastiCache::') && gap.value === tier.cache.nodeType) return `${t}.cache.nodeType`;
    if (gap.type === 'AWS::EKS::Nodegroup' && tier.compute.mode === 'dedicated') {
      if (gap.value === tier.compute.systemNodes.instanceType) return `${t}.compute.systemNodes.instanceType`;
      const i = tier.compute.gpu.instanceTypes.indexOf(gap.value);
      if (i >= 0) return `${t}.compute.gpu.instanceTypes[${i}]`;
    }
    return undefined;
  }
  if (gap.type.startsWith('AWS::EKS::') && tier.compute.mode === 'dedicated') return `${t}.compute.mode`;
  return undefined;
}

/** The config key that puts `stack` in its Region: the tier's DR region for the DR and failover stacks, else `homeRegion` (or the preflight's --region). */
function regionKeyOf(stack: RegionCheckedStack, tierName: string, tier: TierConfig, config: PlatformConfig): string {
  const region = stack.inst.instance.region;
  if (region === drRegionOf(tier) && [`${tierName}-dr.template.json`, `${tierName}-failover`].includes(stack.blueprint)) return `tiers.${tierName}.disasterRecovery.region`;
  return region === config.homeRegion ? 'homeRegion' : 'the preflight\'s --region';
}

/**
 * Violations of `offered-in-region` over `stacks` (each checked in its instance's Region), one line per gap:
 * the blueprint and Region, the resource (logical id, type, property and value), and the config key to change,
 * or the Region key when no key removes the resource (an S3 Vectors bucket is part of every tier blueprint: the
 * gateway's vector stores; the check refuses such a Region rather than deploy a tier without them).
 * A Region cfn-lint has no data for is one violation saying so.
 * @param offerings the Region data @default regionOfferings() (cfn-lint in .venv)
 */
export function regionAvailabilityViolations(stacks: readonly RegionCheckedStack[], tierName: string, tier: TierConfig, config: PlatformConfig, offerings: RegionOfferings = regionOfferings()): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const stack of stacks) {
    const region = stack.inst.instance.region;
    const regionKey = regionKeyOf(stack, tierName, tier, config);
    let gaps: RegionGap[];
    try {
      gaps = offerings.gaps(region, Object.values(stack.inst.resources));
    } catch (e) {
      out.push(`${stack.blueprint} (${region}, ${regionKey}): ${(e as Error).message}`);
      continue;
    }
    for (const gap of gaps) {
      const key = configKeyOf(gap, tierName, tier);
      const what = gap.value === undefined
        ? `resource type ${gap.type} does not exist in ${region}`
        : `${gap.property} ${gap.value} is not offered in ${region}`;
      const fix = gap.value === undefined
        ? `${key ? `set ${key} to a mode without it, or ` : ''}choose a Region that has ${gap.type} (${regionKey})`
        : key ? `set ${key} to one offered in ${region}, or choose another Region (${regionKey})` : `choose another Region (${regionKey})`;
      const line = `${stack.blueprint} (${region}): ${gap.logicalId} (${gap.type}) ${what}: ${fix}`;
      if (!seen.has(line)) out.push(line);
      seen.add(line);
    }
    if (stack.blueprint === `${tierName}.template.json`) out.push(...endpointInstanceTypeViolations(stack, tierName, tier, regionKey, offerings));
  }
  return out;
}

/**
 * The tier's `training.endpointInstanceTypes` that SageMaker hosting does not offer in the Region of the tier blueprint
 * (where the fine-tuning functions deploy its tenants' fine-tuned models: CreateEndpointConfig refuses an instance type
 * the Region lacks, so every fine-tuned model of the tier would fail to deploy after its training ran). In no template:
 * checked from the config, only while `training.enabled`. A Region the data has no entry for is not checked.
 */
function endpointInstanceTypeViolations(stack: RegionCheckedStack, tierName: string, tier: TierConfig, regionKey: string, offerings: RegionOfferings): string[] {
  if (!tier.training.enabled) return [];
  const region = stack.inst.instance.region;
  return tier.training.endpointInstanceTypes.flatMap((type, i) => {
    if (offerings.sageMakerHostingInstanceTypeOffered(region, type) !== false) return [];
    const key = `tiers.${tierName}.training.endpointInstanceTypes[${i}]`;
    return [`${stack.blueprint} (${region}): SageMaker endpoint instance type ${type} (${key}: the endpoints the tier's fine-tuned models are deployed to at run time) is not offered in ${region}: set ${key} to one offered in ${region}, or set tiers.${tierName}.training.enabled to false, or choose another Region (${regionKey})`];
  });
}

/** The stack name of the platform stack, as the preflight's lines name it. */
export const PLATFORM_STACK_LABEL = 'TesseraPlatform';

/**
 * The config key that sets a platform-stack gap's value: the shared cluster's node groups (constructs/shared-cluster.ts)
 * take `sharedCluster.systemNodes.instanceType` and `sharedCluster.gpu.instanceTypes[i]`; undefined for anything else (a
 * resource type of the platform stack itself, which no key removes).
 */
export function platformConfigKeyOf(gap: RegionGap, config: Pick<PlatformConfig, 'sharedCluster'>): string | undefined {
  if (gap.value === undefined || gap.type !== 'AWS::EKS::Nodegroup') return undefined;
  const { systemNodes, gpu } = config.sharedCluster;
  if (gap.value === systemNodes.instanceType) return 'sharedCluster.systemNodes.instanceType';
  const i = gpu.instanceTypes.indexOf(gap.value);
  return i >= 0 ? `sharedCluster.gpu.instanceTypes[${i}]` : undefined;
}

/**
 * Violations of `offered-in-region` over the platform stack (TesseraPlatform with its nested stacks, instantiated in
 * `homeRegion`, where the platform is always deployed): the shared cluster's node group instance types and every
 * resource type, from the same cfn-lint Region data as the tiers' stacks. With the default `sharedCluster.gpu`
 * (g5.2xlarge, g6.2xlarge) a `homeRegion` of us-west-1 (an enabled-by-default Region) fails the first
 * `cdk deploy TesseraPlatform` at the GPU node group; the tiers' rule did not look at the platform stack.
 * One line per gap: `TesseraPlatform (<region>): <logical id> (<type>) <what>: <fix>`; a Region cfn-lint has no
 * data for is one line saying so.
 * @param inst the platform stack instantiated in `config.homeRegion` (lib/preflight/run.ts)
 * @param offerings the Region data @default regionOfferings() (cfn-lint in .venv)
 */
export function platformRegionViolations(inst: InstantiatedTemplate, config: Pick<PlatformConfig, 'sharedCluster'>, offerings: RegionOfferings = regionOfferings()): string[] {
  const region = inst.instance.region;
  const where = `${PLATFORM_STACK_LABEL} (${region})`;
  let gaps: RegionGap[];
  try {
    gaps = offerings.gaps(region, Object.values(inst.resources));
  } catch (e) {
    return [`${where}: ${(e as Error).message}`];
  }
  return [...new Set(gaps.map((gap) => {
    const key = platformConfigKeyOf(gap, config);
    const what = gap.value === undefined ? `resource type ${gap.type} does not exist in ${region}` : `${gap.property} ${gap.value} is not offered in ${region}`;
    const fix = key ? `set ${key} to one offered in ${region}, or choose another Region (homeRegion)` : `choose a Region that has it (homeRegion)`;
    return `${where}: ${gap.logicalId} (${gap.type}) ${what}: ${fix}`;
  }))];
}

/** The stack name of the platform's DR stack, as the preflight's lines name it (lib/platform-dr-naming.ts PLATFORM_DR_STACK_ID). */
export const PLATFORM_DR_STACK_LABEL = 'TesseraPlatformDr';

/**
 * Violations of `offered-in-region` over the platform's DR stack (TesseraPlatformDr, lib/platform-dr-stack.ts,
 * instantiated in `platformDisasterRecovery.region`): every resource type it creates (the DR key and its alias, the
 * replica audit bucket with Object Lock and its access-log bucket, their bucket policies, the registry's DR Backup
 * vault) exists in that Region, from the same cfn-lint Region data as the other stacks. The stack has no instance
 * type or class to check, and no config key but the Region removes any of its resources, so each line's fix is
 * `platformDisasterRecovery.region`. A Region lacking one failed `cdk deploy TesseraPlatformDr`, and with it
 * TesseraPlatform, which depends on it (lib/tessera-app.ts), instead of the preflight.
 * One line per gap: `TesseraPlatformDr (<region>): <logical id> (<type>) resource type <type> does not exist in <region>:
 * choose a Region that has it (platformDisasterRecovery.region)`; a Region cfn-lint has no data for is one line saying so.
 * @param inst the DR stack instantiated in `platformDisasterRecovery.region` (lib/preflight/run.ts)
 * @param offerings the Region data @default regionOfferings() (cfn-lint in .venv)
 */
export function platformDrRegionViolations(inst: InstantiatedTemplate, offerings: RegionOfferings = regionOfferings()): string[] {
  const region = inst.instance.region;
  const where = `${PLATFORM_DR_STACK_LABEL} (${region})`;
  let gaps: RegionGap[];
  try {
    gaps = offerings.gaps(region, Object.values(inst.resources));
  } catch (e) {
    return [`${where}: ${(e as Error).message} (platformDisasterRecovery.region)`];
  }
  return [...new Set(gaps.map((gap) => {
    const what = gap.value === undefined ? `resource type ${gap.type} does not exist in ${region}` : `${gap.property} ${gap.value} is not offered in ${region}`;
    return `${where}: ${gap.logicalId} (${gap.type}) ${what}: choose a Region that has it (platformDisasterRecovery.region)`;
  }))];
}
