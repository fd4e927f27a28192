import { DEFAULT_CONFIG } from '../../config/default-config.js';
import { catalogInstanceTypes, ec2GpuCount } from '../../config/instance-catalog.js';
import { CliError } from '../cli-error.js';

/**
 * Whether EC2 offers `instanceType` in `region`: true, false, or undefined when the data has no entry for the
 * Region (then the type is kept). lib/preflight/region-offerings.ts `ec2InstanceTypeOffered` is the one used.
 */
export type InstanceTypeOffered = (region: string, instanceType: string) => boolean | undefined;

/** One GPU node group whose default instance types `homeRegion` does not all offer, and what init writes instead. */
export interface GpuTypeChange {
  /** The config key of the list, e.g. `sharedCluster.gpu.instanceTypes`, `tiers.enterprise.compute.gpu.instanceTypes`. */
  readonly key: string;
  /** The embedded default's list. */
  readonly from: readonly string[];
  /** The list written: the default's types the Region offers, in their order, else for each an offered type of as many GPUs. */
  readonly to: readonly string[];
}

/**
 * Families tried, in this order, for a substitute of the same size when a Region offers none of a list's default
 * types (g5.2xlarge → g6.2xlarge, g6e.2xlarge, g4dn.2xlarge): the current NVIDIA G generations first, then the older.
 */
const SUBSTITUTE_FAMILIES = ['g5', 'g6', 'g6e', 'g4dn', 'p5', 'p4d', 'p4de', 'p3', 'p3dn', 'p5e', 'p5en'];

/** The GPU node groups of the embedded default that a config keeping `tiers` has: the shared cluster's while a kept tier is shared, each kept dedicated tier's with maxSize > 0. */
function defaultGpuLists(tiers: readonly string[]): Array<{ key: string; types: readonly string[] }> {
  const kept = tiers.map((name) => [name, DEFAULT_CONFIG.tiers[name as keyof typeof DEFAULT_CONFIG.tiers]] as const).filter(([, t]) => t !== undefined);
  const lists: Array<{ key: string; types: readonly string[] }> = [];
  if (kept.some(([, t]) => t.compute.mode === 'shared') && DEFAULT_CONFIG.sharedCluster.gpu.maxSize > 0) {
    lists.push({ key: 'sharedCluster.gpu.instanceTypes', types: DEFAULT_CONFIG.sharedCluster.gpu.instanceTypes });
  }
  for (const [name, t] of kept) {
    if (t.compute.mode === 'dedicated' && t.compute.gpu.maxSize > 0) lists.push({ key: `tiers.${name}.compute.gpu.instanceTypes`, types: t.compute.gpu.instanceTypes });
  }
  return lists;
}

/** An offered GPU type to stand for `type`: the same size in another family, else any offered type with as many GPUs. */
function substitute(type: string, region: string, offered: InstanceTypeOffered): string | undefined {
  const [, size] = type.split('.');
  const sameSize = SUBSTITUTE_FAMILIES.map((family) => `${family}.${size}`).find((t) => ec2GpuCount(t) === ec2GpuCount(type) && offered(region, t) === true);
  return sameSize ?? catalogInstanceTypes().gpu.find((t) => ec2GpuCount(t) === ec2GpuCount(type) && offered(region, t) === true);
}

/**
 * The GPU instance type lists `tessera init` writes for `homeRegion`, so that the config passes the preflight's
 * `offered-in-region` rule there: for each GPU node group of the embedded default the config keeps, the default's
 * types the Region offers (eu-west-1 sells g5.2xlarge but not g6.2xlarge: `sharedCluster.gpu.instanceTypes` becomes
 * `[g5.2xlarge]`), else, when it offers none of them, for each a type it offers with as many GPUs, each once
 * ({@link SUBSTITUTE_FAMILIES}: us-west-1's g4dn.2xlarge for g5.2xlarge and g6.2xlarge). Lists the Region offers whole are not
 * returned (nothing to write). A type the data has no entry for is taken as offered.
 * @param offered the Region data the preflight reads (cfn-lint's EC2 instance types per Region)
 * @throws CliError (exit 2) when the Region offers no GPU type of the catalog with as many GPUs as one of them: the config could
 *   not pass the preflight whatever init wrote; the message names the key and the way out
 */
export function gpuInstanceTypesFor(homeRegion: string, tiers: readonly string[], offered: InstanceTypeOffered): GpuTypeChange[] {
  const changes: GpuTypeChange[] = [];
  for (const { key, types } of defaultGpuLists(tiers)) {
    const kept = types.filter((t) => offered(homeRegion, t) !== false);
    if (kept.length === types.length) continue;
    // None offered: each type's substitute, each once (g5.2xlarge, g5.4xlarge → g4dn.2xlarge, g4dn.4xlarge).
    const substitutes = kept.length > 0 ? [] : [...new Set(types.flatMap((t) => substitute(t, homeRegion, offered) ?? []))];
    if (kept.length === 0 && substitutes.length === 0) {
      throw new CliError(`home region ${homeRegion} offers none of the default's GPU instance types for ${key} (${types.join(', ')}) and no other GPU type of as many GPUs (cfn-lint's Region data, as npm run preflight reads it): choose another home region, or write the config for one and set ${key.replace(/instanceTypes$/, 'maxSize')} to 0 (a shared cluster without GPUs takes quota.gpus 0 on every shared tier: docs/configuration.md, Shared tier GPUs)`, 2);
    }
    changes.push({ key, from: types, to: kept.length > 0 ? kept : substitutes });
  }
  return changes;
}
