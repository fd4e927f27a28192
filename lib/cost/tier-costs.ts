/**
 * The cost of each tier: its blueprint's fixed monthly cost (lib/cost/price-template.ts), the
 * namespace blueprint's, for shared-compute tiers an even share of the platform's shared
 * cluster (control plane, system nodes, its VPC's endpoints and logs), and for DR tiers the DR
 * blueprint and the usage-priced DR extras (lib/cost/dr-costs.ts); the GPU cost per node-hour
 * of each GPU instance type the tier can schedule on; and the cost per 1M tokens of each catalog
 * model the tier may call.
 */
import { CliError } from '../cli/cli-error.js';
import { disasterRecoveryOf } from '../config/disaster-recovery.js';
import type { PlatformConfig, TierConfig } from '../config/schema.js';
import type { CfnTemplate } from '../preflight/cfn-template.js';
import { priceDisasterRecovery, type DrCost } from './dr-costs.js';
import type { PriceTable } from './price-table.js';
import { priceTemplate, round, type TemplateCost } from './price-template.js';

/** Construct id of the shared cluster in the platform stack (lib/platform-stack.ts): its resources' logical ids start with it. */
export const SHARED_CLUSTER_CONSTRUCT_ID = 'SharedCompute';

export interface TierTemplates {
  readonly tierName: string;
  readonly tier: TierConfig;
  /** The tier blueprint. */
  readonly tenant: CfnTemplate;
  /** The namespace blueprint (shared-compute tiers). */
  readonly namespace?: CfnTemplate;
  /** The DR blueprint (DR tiers), deployed in the tier's DR region. */
  readonly dr?: CfnTemplate;
}

export interface GpuNodeHour {
  readonly instanceType: string;
  /** Where the nodes run: the tenant's dedicated cluster or the platform's shared cluster. */
  readonly cluster: 'dedicated' | 'shared';
  readonly instanceHourUsd: number;
  /** Root volume of each node, GiB (the node group's diskSizeGiB). */
  readonly diskGiB: number;
  /** The volume's gp3 price per hour: diskGiB x gp3 GB-month / hoursPerMonth. */
  readonly diskHourUsd: number;
  /** instanceHourUsd + diskHourUsd. */
  readonly nodeHourUsd: number;
  readonly basis: string;
}

export interface ModelTokenCost {
  readonly id: string;
  readonly kind: 'chat' | 'embedding' | 'moderation' | 'image' | 'transcription' | 'speech' | 'completion';
  /** USD per image, for an image model (the config's pricePerImageUsd). @default - none (not an image model) */
  readonly perImageUsd?: number;
  /** USD per 1M input tokens (the config's inputPricePer1k x 1,000). */
  readonly inputPer1M: number;
  /** USD per 1M output tokens. */
  readonly outputPer1M: number;
}

export interface SharedClusterShare {
  /** Tenants the shared cluster's cost is divided among. */
  readonly tenants: number;
  /** The whole shared cluster, USD per month. */
  readonly poolMonthlyUsd: number;
  /** poolMonthlyUsd / tenants. */
  readonly monthlyUsd: number;
}

export interface TierCost {
  readonly tier: string;
  readonly isolation: TierConfig['isolation'];
  readonly compute: TierConfig['compute']['mode'];
  readonly blueprint: TemplateCost;
  readonly namespace?: TemplateCost;
  readonly sharedCluster?: SharedClusterShare;
  /** DR tiers: the DR blueprint (DR region's figures) and the usage-priced DR extras. */
  readonly disasterRecovery?: DrCost;
  /** blueprint + namespace + shared-cluster share + disaster recovery, USD per month. */
  readonly fixedMonthlyUsd: number;
  readonly gpu: GpuNodeHour[];
  readonly models: ModelTokenCost[];
}

export interface CostReport {
  readonly region: string;
  readonly retrieved: string;
  readonly hoursPerMonth: number;
  readonly priceNote?: string;
  /** The shared cluster's own lines (platform stack), when a tier uses it. */
  readonly sharedCluster?: TemplateCost & { readonly tenants: number };
  readonly tiers: TierCost[];
  readonly assumptions: PriceTable['assumptions'];
}

export interface CostInput {
  readonly config: PlatformConfig;
  readonly tiers: readonly TierTemplates[];
  /** The platform template (resources of the shared cluster are read from it). */
  readonly platform: CfnTemplate;
}

export interface CostOptions {
  /**
   * Tenants sharing the shared cluster.
   * @default - the table's `sharedClusterTenants` assumption
   */
  readonly sharedTenants?: number;
}

/**
 * Prices every tier of `input`.
 * @throws CliError when the table lacks a price the templates need, a schedule cannot be read, a DR
 *   tier has no DR blueprint, or sharedTenants is not a positive integer
 */
export function costTiers(input: CostInput, table: PriceTable, options: CostOptions = {}): CostReport {
  const tenants = options.sharedTenants ?? table.assumptions.sharedClusterTenants.value;
  if (!Number.isInteger(tenants) || tenants < 1) throw new CliError(`--shared-tenants must be a positive integer, got ${tenants}`);
  const usesShared = input.tiers.some((t) => t.tier.compute.mode === 'shared');
  const pool = usesShared ? priceTemplate(sharedClusterTemplate(input.platform), table) : undefined;

  const tiers = input.tiers.map(({ tierName, tier, tenant, namespace, dr }): TierCost => {
    const blueprint = priceTemplate(tenant, table);
    const ns = namespace ? priceTemplate(namespace, table) : undefined;
    const share = tier.compute.mode === 'shared' && pool ? { tenants, poolMonthlyUsd: pool.monthlyUsd, monthlyUsd: round(pool.monthlyUsd / tenants) } : undefined;
    const target = disasterRecoveryOf(tier);
    if (target && !dr) throw new CliError(`tier ${tierName} has disaster recovery to ${target.region} but no DR blueprint was built`);
    const drCost = target && dr ? priceDisasterRecovery(tenant, dr, target, table) : undefined;
    return {
      tier: tierName,
      isolation: tier.isolation,
      compute: tier.compute.mode,
      blueprint,
      ...(ns ? { namespace: ns } : {}),
      ...(share ? { sharedCluster: share } : {}),
      ...(drCost ? { disasterRecovery: drCost } : {}),
      fixedMonthlyUsd: round(blueprint.monthlyUsd + (ns?.monthlyUsd ?? 0) + (share?.monthlyUsd ?? 0) + (drCost?.monthlyUsd ?? 0)),
      gpu: gpuNodeHours(input.config, tier, table),
      models: tierModels(input.config, tier),
    };
  });
  return {
    region: table.region,
    retrieved: table.retrieved,
    hoursPerMonth: table.hoursPerMonth,
    ...(table.note ? { priceNote: table.note } : {}),
    ...(pool ? { sharedCluster: { ...pool, tenants } } : {}),
    tiers,
    assumptions: table.assumptions,
  };
}

/** The platform resources of the shared cluster construct (cluster, node groups, its VPC and endpoints, logs) as a template. */
export function sharedClusterTemplate(platform: CfnTemplate): CfnTemplate {
  const resources = Object.fromEntries(Object.entries(platform.Resources).filter(([id]) => id.startsWith(SHARED_CLUSTER_CONSTRUCT_ID)));
  return { Parameters: platform.Parameters, Resources: resources };
}

/**
 * GPU node-hour of each instance type the tier's pods can be scheduled on: a dedicated cluster's
 * GPU node group, or the shared cluster's when the tier's quota allows GPUs.
 */
export function gpuNodeHours(config: PlatformConfig, tier: TierConfig, table: PriceTable): GpuNodeHour[] {
  const group = tier.compute.mode === 'dedicated' ? { cluster: 'dedicated' as const, gpu: tier.compute.gpu }
    : tier.compute.mode === 'shared' && tier.compute.quota.gpus > 0 ? { cluster: 'shared' as const, gpu: config.sharedCluster.gpu }
    : undefined;
  if (!group || group.gpu.maxSize === 0) return [];
  const gp3 = table.prices['ebs.gp3GbMonth'];
  return group.gpu.instanceTypes.map((instanceType) => {
    const e = table.ec2InstanceHour[instanceType];
    if (!e) throw new CliError(`no price for ${instanceType} in the ${table.region} price table (ec2InstanceHour."${instanceType}"): add it with its source and basis`);
    const diskHourUsd = (group.gpu.diskSizeGiB * gp3.usd) / table.hoursPerMonth;
    return {
      instanceType, cluster: group.cluster, instanceHourUsd: e.usd, diskGiB: group.gpu.diskSizeGiB,
      diskHourUsd: Math.round(diskHourUsd * 10000) / 10000, nodeHourUsd: Math.round((e.usd + diskHourUsd) * 10000) / 10000, basis: e.basis,
    };
  });
}

/** Catalog models the tier may call (its providers, and its allowed list or `*`), as the gateway's policy filters them. */
export function tierModels(config: PlatformConfig, tier: TierConfig): ModelTokenCost[] {
  const all = tier.models.allowed.includes('*');
  return config.gateway.models
    .filter((m) => tier.models.providers.includes(m.id.split('/')[0] as never) && (all || tier.models.allowed.includes(m.id)))
    .map((m) => ({ id: m.id, kind: m.kind ?? 'chat', inputPer1M: per1M(m.inputPricePer1k), outputPer1M: per1M(m.outputPricePer1k), ...(m.kind === 'image' ? { perImageUsd: m.pricePerImageUsd ?? 0 } : {}) }));
}

const per1M = (per1k: number) => Math.round(per1k * 1000 * 1e6) / 1e6;

