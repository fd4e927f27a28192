/**
 * AWS default quotas that a tenant stack consumes, counted from its synthesized template.
 *
 * Shared by the deploy preflight (quota table per tier, largest tenant count per workload
 * account) and the lifecycle's *Allocate network* step (checks the account's applied quotas
 * through the Service Quotas API before a VPC-isolated tenant is deployed).
 *
 * `quotaCode` is set ONLY where the code was confirmed in AWS documentation or AWS's own code;
 * `source` says where. Codes that circulate in third-party code but that we did not find in an
 * AWS source are left out (the lifecycle then has to look the quota up by name, or skip it).
 * Default values are from the AWS page in `source` (read 2026-11).
 *
 * No aws-cdk-lib and no SDK here: Lambda bundles may import this module.
 */
import type { TierConfig } from './config/schema.js';
import { ec2Vcpus, onDemandVcpuQuota } from './config/instance-catalog.js';
import { resourcesOfType, type CfnTemplate, type CfnValue } from './preflight/cfn-template.js';

export type { CfnTemplate } from './preflight/cfn-template.js';

export interface QuotaRule {
  /** Stable id, e.g. 'vpcs-per-region'. */
  key: string;
  /** Service Quotas service code ('vpc', 'ec2', 'rds', 'elasticache', 'eks', 'iam', ...). */
  serviceCode: string;
  /** 'L-…' where Service Quotas has one, ONLY codes confirmed from AWS docs or AWS code (see `source`). */
  quotaCode?: string;
  /** AWS's quota name. */
  name: string;
  /** What one unit of the quota is counted over. */
  scope: 'region' | 'account' | 'vpc' | 'availability-zone';
  defaultValue: number;
  adjustable: boolean;
  /** AWS documentation URL of the default value (and of the code, when one is given). */
  source: string;
  /**
   * Units a brand-new account already uses before any tenant (the default VPC counts against
   * VPCs per Region and its internet gateway against internet gateways per Region).
   * @default 0
   */
  preexistingInNewAccount?: number;
  /** Where the units are counted when it is not obvious (e.g. a lower bound). */
  note?: string;
  /** Units one tenant stack uses, counted from its synthesized template (per `scope` unit). */
  perTenant(template: CfnTemplate): number;
}

// AWS sources the codes below were confirmed in.
/** AWS EKS Best Practices Guide, "Known Limits and Service Quotas": a table of quota names, L-codes and defaults. */
const EKS_BP_QUOTAS = 'https://docs.aws.amazon.com/eks/latest/best-practices/known_limits_and_service_quotas.html';
const VPC_QUOTAS = 'https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html';
const PRIVATELINK_QUOTAS = 'https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html';
const RDS_QUOTAS = 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html';
/** ElastiCache's quotas page, the source of the nodes-per-Region default (300). */
const ELASTICACHE_QUOTAS = 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/quota-limits.html';

/**
 * ElastiCache's subnet groups (300), RBAC user groups (200) and users (2,000) per Region: defaults NOT confirmed in
 * AWS's own documentation. Read 2026-12-05, the search corpus held only the opening of ELASTICACHE_QUOTAS and of the
 * General Reference's "Amazon ElastiCache endpoints and quotas" (the endpoint table, not the quotas); the values are
 * those third-party copies of ELASTICACHE_QUOTAS quote (and the ones AWS's MemoryDB quotas page gives for MemoryDB's
 * own subnet groups, users and user groups). No quota code is given: the L-codes in circulation were found only in
 * third-party code. Check the account's with `aws service-quotas list-aws-default-service-quotas --service-code
 * elasticache`. None of the three binds at these values (VPCs per Region does first), so a wrong default changes the
 * table's row, not the tenant count.
 */
const ELASTICACHE_UNCONFIRMED = 'default not confirmed in AWS\'s own documentation (lib/quotas.ts ELASTICACHE_UNCONFIRMED)';

const count = (type: string) => (t: CfnTemplate) => resourcesOfType(t, type).length;

/** Interface endpoints (VpcEndpointType Interface; CloudFormation's default type is Gateway). */
function endpointsOfType(t: CfnTemplate, kind: 'Interface' | 'Gateway'): Array<Record<string, CfnValue>> {
  return resourcesOfType(t, 'AWS::EC2::VPCEndpoint')
    .map(([, r]) => r.Properties ?? {})
    .filter((p) => (p.VpcEndpointType ?? 'Gateway') === kind);
}

/** Most NAT gateways that share one Availability Zone (their subnets' `AvailabilityZone` expressions). */
function natGatewaysPerAz(t: CfnTemplate): number {
  const perAz = new Map<string, number>();
  for (const [, nat] of resourcesOfType(t, 'AWS::EC2::NatGateway')) {
    const subnetRef = nat.Properties?.SubnetId;
    const subnetId = isRef(subnetRef) ? subnetRef.Ref : undefined;
    const az = subnetId ? JSON.stringify(t.Resources[subnetId]?.Properties?.AvailabilityZone ?? subnetId) : JSON.stringify(subnetRef);
    perAz.set(az, (perAz.get(az) ?? 0) + 1);
  }
  return Math.max(0, ...perAz.values());
}

function isRef(v: CfnValue | undefined): v is { Ref: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.Ref === 'string';
}

function num(v: CfnValue | undefined, fallback: number): number {
  return typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : fallback;
}

/** Cache nodes of replication groups: shards × (1 + replicas per shard); a cache cluster counts its nodes. */
function cacheNodes(t: CfnTemplate): number {
  let nodes = 0;
  for (const [, rg] of resourcesOfType(t, 'AWS::ElastiCache::ReplicationGroup')) {
    const p = rg.Properties ?? {};
    if (p.NumCacheClusters !== undefined) nodes += num(p.NumCacheClusters, 1);
    else nodes += num(p.NumNodeGroups, 1) * (1 + num(p.ReplicasPerNodeGroup, 0));
  }
  for (const [, c] of resourcesOfType(t, 'AWS::ElastiCache::CacheCluster')) nodes += num(c.Properties?.NumCacheNodes, 1);
  return nodes;
}

/**
 * Network interfaces a tenant stack creates, as a LOWER bound: one per interface endpoint and
 * subnet, one per NAT gateway, one per DB instance (two with Multi-AZ), one per cache node, two
 * per EKS cluster (the control plane's cross-account ENIs) and one per desired node (its primary
 * ENI; the VPC CNI adds more as pods are scheduled).
 */
function networkInterfaces(t: CfnTemplate): number {
  const endpointEnis = endpointsOfType(t, 'Interface').reduce((n, p) => n + (Array.isArray(p.SubnetIds) ? p.SubnetIds.length : 1), 0);
  const dbEnis = resourcesOfType(t, 'AWS::RDS::DBInstance').reduce((n, [, r]) => n + (r.Properties?.MultiAZ === true ? 2 : 1), 0);
  const nodeEnis = resourcesOfType(t, 'AWS::EKS::Nodegroup').reduce((n, [, r]) => {
    const scaling = r.Properties?.ScalingConfig;
    const desired = typeof scaling === 'object' && scaling !== null && !Array.isArray(scaling) ? num(scaling.DesiredSize, 0) : 0;
    return n + desired;
  }, 0);
  return endpointEnis + count('AWS::EC2::NatGateway')(t) + dbEnis + cacheNodes(t) + 2 * count('AWS::EKS::Cluster')(t) + nodeEnis;
}

/**
 * Service codes of the rules below whose quotas are global (one value per account, for every
 * Region): Service Quotas answers for them only in us-east-1 in the aws partition; in any other
 * Region it refuses with NoSuchResourceException ("the specified service does not exist"), so
 * the lifecycle reads and raises them there (quotaRegion). Source: the Terraform AWS provider's
 * Service Quotas pages (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/servicequotas_service_quota:
 * "Global quotas apply to all AWS regions, but can only be accessed in us-east-1 in the
 * Commercial partition"), and the IAM quotas being per account (IAM User Guide, IAM and AWS STS quotas).
 */
export const GLOBAL_QUOTA_SERVICES: readonly string[] = ['iam'];

/** The Region in which Service Quotas serves global quotas in the aws partition (the config refuses GovCloud Regions). */
export const GLOBAL_QUOTA_REGION = 'us-east-1';

/**
 * The Region in which to read and raise a quota of `serviceCode` for a tenant in `region` (a
 * Region name, or a token such as `Aws.REGION` in a template): GLOBAL_QUOTA_REGION for a global
 * quota (GLOBAL_QUOTA_SERVICES) when it is one of `allowedRegions`, else `region` itself. Outside
 * allowedRegions the region guardrail (SCP `DenyOutsideAllowedRegions`, lib/guardrail-policies.ts)
 * denies Service Quotas calls, so the quota is asked in `region` as before: Service Quotas has no
 * such quota there (NoSuchResourceException) and the check uses the rule's documented default.
 */
export function quotaRegion(serviceCode: string, region: string, allowedRegions: readonly string[]): string {
  return GLOBAL_QUOTA_SERVICES.includes(serviceCode) && allowedRegions.includes(GLOBAL_QUOTA_REGION) ? GLOBAL_QUOTA_REGION : region;
}

export const QUOTA_RULES: readonly QuotaRule[] = [
  {
    key: 'vpcs-per-region', serviceCode: 'vpc', quotaCode: 'L-F678F1CE', name: 'VPCs per Region', scope: 'region',
    defaultValue: 5, adjustable: true, preexistingInNewAccount: 1,
    note: 'a new account\'s default VPC counts against it',
    source: `${VPC_QUOTAS} (code: ${EKS_BP_QUOTAS})`, perTenant: count('AWS::EC2::VPC'),
  },
  {
    key: 'internet-gateways-per-region', serviceCode: 'vpc', quotaCode: 'L-A4707A72', name: 'Internet gateways per Region', scope: 'region',
    defaultValue: 5, adjustable: true, preexistingInNewAccount: 1,
    note: 'the default VPC\'s internet gateway counts against it',
    source: `${VPC_QUOTAS} (code: ${EKS_BP_QUOTAS})`, perTenant: count('AWS::EC2::InternetGateway'),
  },
  {
    key: 'elastic-ips-per-region', serviceCode: 'ec2', quotaCode: 'L-0263D0A3', name: 'EC2-VPC Elastic IPs', scope: 'region',
    defaultValue: 5, adjustable: true,
    source: `${VPC_QUOTAS} (code: ${EKS_BP_QUOTAS})`, perTenant: count('AWS::EC2::EIP'),
  },
  {
    key: 'nat-gateways-per-az', serviceCode: 'vpc', name: 'NAT gateways per Availability Zone', scope: 'availability-zone',
    defaultValue: 5, adjustable: true,
    source: VPC_QUOTAS, perTenant: natGatewaysPerAz,
  },
  {
    key: 'gateway-endpoints-per-region', serviceCode: 'vpc', name: 'Gateway VPC endpoints per Region', scope: 'region',
    defaultValue: 20, adjustable: true,
    source: PRIVATELINK_QUOTAS, perTenant: (t) => endpointsOfType(t, 'Gateway').length,
  },
  {
    key: 'interface-endpoints-per-vpc', serviceCode: 'vpc', name: 'Interface and Gateway Load Balancer endpoints per VPC', scope: 'vpc',
    defaultValue: 50, adjustable: true,
    source: PRIVATELINK_QUOTAS, perTenant: (t) => endpointsOfType(t, 'Interface').length,
  },
  {
    key: 'subnets-per-vpc', serviceCode: 'vpc', name: 'Subnets per VPC', scope: 'vpc',
    defaultValue: 200, adjustable: true,
    source: VPC_QUOTAS, perTenant: count('AWS::EC2::Subnet'),
  },
  {
    key: 'security-groups-per-region', serviceCode: 'vpc', name: 'VPC security groups per Region', scope: 'region',
    defaultValue: 2500, adjustable: true, preexistingInNewAccount: 1,
    note: 'each VPC also gets a default security group (counted here: one per tenant VPC, plus the default VPC\'s)',
    source: VPC_QUOTAS, perTenant: (t) => count('AWS::EC2::SecurityGroup')(t) + count('AWS::EC2::VPC')(t),
  },
  {
    key: 'network-interfaces-per-region', serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3', name: 'Network interfaces per Region', scope: 'region',
    defaultValue: 5000, adjustable: true,
    note: 'lower bound: endpoint, NAT, DB, cache, EKS control-plane and node primary ENIs; pods add more',
    source: `${VPC_QUOTAS} (code: ${EKS_BP_QUOTAS})`, perTenant: networkInterfaces,
  },
  {
    key: 'rds-db-instances', serviceCode: 'rds', name: 'DB instances', scope: 'region',
    defaultValue: 40, adjustable: true,
    note: 'a Multi-AZ DB instance is one DB instance',
    source: RDS_QUOTAS, perTenant: count('AWS::RDS::DBInstance'),
  },
  {
    key: 'rds-db-subnet-groups', serviceCode: 'rds', name: 'DB subnet groups', scope: 'region',
    defaultValue: 50, adjustable: true,
    source: RDS_QUOTAS, perTenant: count('AWS::RDS::DBSubnetGroup'),
  },
  {
    key: 'rds-parameter-groups', serviceCode: 'rds', name: 'Parameter groups', scope: 'region',
    defaultValue: 50, adjustable: true,
    source: RDS_QUOTAS, perTenant: (t) => count('AWS::RDS::DBParameterGroup')(t) + count('AWS::RDS::DBClusterParameterGroup')(t),
  },
  {
    key: 'elasticache-nodes-per-region', serviceCode: 'elasticache', name: 'Nodes per Region', scope: 'region',
    defaultValue: 300, adjustable: true,
    source: ELASTICACHE_QUOTAS, perTenant: cacheNodes,
  },
  // Each tenant stack's cache (constructs/tenant-cache.ts): one subnet group, one RBAC user group and two users (the
  // required "default" user and the tenant's IAM user). Defaults: see ELASTICACHE_RBAC_DEFAULTS.
  {
    key: 'elasticache-subnet-groups-per-region', serviceCode: 'elasticache', name: 'Subnet groups per Region', scope: 'region',
    defaultValue: 300, adjustable: true,
    note: ELASTICACHE_UNCONFIRMED,
    source: ELASTICACHE_QUOTAS, perTenant: count('AWS::ElastiCache::SubnetGroup'),
  },
  {
    key: 'elasticache-user-groups-per-region', serviceCode: 'elasticache', name: 'User groups per Region', scope: 'region',
    defaultValue: 200, adjustable: true,
    note: ELASTICACHE_UNCONFIRMED,
    source: ELASTICACHE_QUOTAS, perTenant: count('AWS::ElastiCache::UserGroup'),
  },
  {
    key: 'elasticache-users-per-region', serviceCode: 'elasticache', name: 'Users per Region', scope: 'region',
    defaultValue: 2000, adjustable: true,
    note: ELASTICACHE_UNCONFIRMED,
    source: ELASTICACHE_QUOTAS, perTenant: count('AWS::ElastiCache::User'),
  },
  {
    key: 'eks-clusters-per-region', serviceCode: 'eks', name: 'Clusters', scope: 'region',
    defaultValue: 100, adjustable: true,
    source: 'https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html', perTenant: count('AWS::EKS::Cluster'),
  },
  {
    key: 'iam-roles-per-account', serviceCode: 'iam', quotaCode: 'L-FE177D64', name: 'Roles per account', scope: 'account',
    defaultValue: 1000, adjustable: true,
    source: `https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (code: ${EKS_BP_QUOTAS})`, perTenant: count('AWS::IAM::Role'),
  },
  {
    key: 'iam-customer-managed-policies-per-account', serviceCode: 'iam', name: 'Customer managed policies per account', scope: 'account',
    defaultValue: 1500, adjustable: true,
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html', perTenant: count('AWS::IAM::ManagedPolicy'),
  },
  {
    key: 's3-general-purpose-buckets', serviceCode: 's3', name: 'General purpose buckets', scope: 'account',
    defaultValue: 10000, adjustable: true,
    source: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/BucketRestrictions.html', perTenant: count('AWS::S3::Bucket'),
  },
  {
    key: 'kms-customer-managed-keys', serviceCode: 'kms', name: 'Customer managed keys', scope: 'region',
    defaultValue: 100000, adjustable: true,
    source: 'https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html', perTenant: count('AWS::KMS::Key'),
  },
  {
    key: 'backup-vaults', serviceCode: 'backup', name: 'Backup vaults per account per Region', scope: 'region',
    defaultValue: 100, adjustable: true,
    source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/aws-backup-limits.html', perTenant: count('AWS::Backup::BackupVault'),
  },
  {
    key: 'log-groups', serviceCode: 'logs', name: 'Log groups', scope: 'region',
    defaultValue: 1_000_000, adjustable: true,
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html', perTenant: count('AWS::Logs::LogGroup'),
  },
  {
    key: 'eventbridge-rules-per-bus', serviceCode: 'events', name: 'Rules per event bus', scope: 'region',
    defaultValue: 300, adjustable: true,
    note: 'rules on the default event bus',
    source: 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
    perTenant: (t) => resourcesOfType(t, 'AWS::Events::Rule').filter(([, r]) => r.Properties?.EventBusName === undefined).length,
  },
  {
    key: 'cloudformation-stacks', serviceCode: 'cloudformation', name: 'Stack count', scope: 'region',
    defaultValue: 2000, adjustable: true,
    source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html', perTenant: () => 1,
  },
];

/**
 * An Organizations quota: one value for the whole organization, which every account of it counts against (not a tenant
 * stack's resources, so not a QuotaRule: no template counts it).
 */
export interface OrganizationQuota {
  serviceCode: 'organizations';
  /** 'L-…' only where an AWS source confirms it (see QuotaRule.quotaCode); else looked up by `name`. */
  quotaCode?: string;
  /** AWS's quota name as Service Quotas lists it. */
  name: string;
  /** Matches the quota's name in ListServiceQuotas / ListAWSDefaultServiceQuotas (case and wording of the console may vary). */
  namePattern: RegExp;
  defaultValue: number;
  adjustable: boolean;
  source: string;
  note: string;
}

/**
 * The number of accounts an organization may hold: the platform's own accounts (management, platform, workload and any
 * the landing zone has) and one per account-isolation tenant. Default 10 (adjustable through Service Quotas, from the
 * management account, in us-east-1: Organizations is a global service hosted there). Every account counts while it is
 * in the organization: a closed account (an offboarded tenant's) keeps counting while SUSPENDED, until it is closed for
 * good 90 days after CloseAccount; an invitation counts until it is accepted, declined or expires. Source: AWS
 * Organizations User Guide, "Quotas for AWS Organizations" (Number of AWS accounts in an organization; the post-closure
 * period: AWS Account Management Reference Guide, "Close an account").
 *
 * No quotaCode: the code differs between sources (L-29A0C5DF in AWS's own Landing Zone Accelerator code of 2021;
 * L-E619E033 in 2026 code that reads it), and AWS's quotas page says codes "may change over time": Service Quotas is
 * asked for the quota by name (`namePattern`), and the code it answers with is the one to request an increase of.
 */
export const ORGANIZATION_ACCOUNTS_QUOTA: OrganizationQuota = {
  serviceCode: 'organizations',
  name: 'Default maximum number of accounts',
  namePattern: /maximum number of accounts/i,
  defaultValue: 10,
  adjustable: true,
  source: 'https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html',
  note: 'one account per account-isolation tenant, besides the platform\'s own; closed accounts count while SUSPENDED (90 days)',
};

/** Every rule with the units one tenant stack of `template` uses (rules it does not touch included, need 0). */
export function quotaNeeds(template: CfnTemplate): Array<{ rule: QuotaRule; need: number }> {
  return QUOTA_RULES.map((rule) => ({ rule, need: rule.perTenant(template) }));
}

/**
 * Largest number of tenants of one template that fit in one fresh account and region at default
 * quotas, and the rule that binds (the first with the smallest count; ties keep table order).
 * Only account, region and Availability Zone scoped quotas grow with the tenant count; per-VPC
 * quotas are reported by `quotaNeeds` and must hold for each tenant on its own.
 * @returns `tenants: Infinity` when no counted quota grows with tenants
 */
export function maxTenantsPerAccount(template: CfnTemplate): { tenants: number; binding?: QuotaRule; perVpcExceeded: QuotaRule[] } {
  let tenants = Number.POSITIVE_INFINITY;
  let binding: QuotaRule | undefined;
  const perVpcExceeded: QuotaRule[] = [];
  for (const { rule, need } of quotaNeeds(template)) {
    if (need === 0) continue;
    if (rule.scope === 'vpc') {
      if (need > rule.defaultValue) perVpcExceeded.push(rule);
      continue;
    }
    const fit = Math.floor((rule.defaultValue - (rule.preexistingInNewAccount ?? 0)) / need);
    if (fit < tenants) {
      tenants = fit;
      binding = rule;
    }
  }
  return { tenants, binding, perVpcExceeded };
}

/**
 * On-Demand vCPU quotas (Standard L-1216C47A, G and VT L-DB2E81BA, P L-417A185B) a dedicated
 * tier's node groups count against, per quota code:
 * - `vcpus`: what the tier can use at full scale (each node group at `maxSize`, each node of the
 *   group's largest instance type that counts against this quota);
 * - `oneNodeVcpus`: the smallest node of that quota the tier can start (the lifecycle starts the
 *   GPU node group at 0 nodes while the applied quota is below this, decision 7).
 * Shared and no-compute tiers run no nodes in the tenant account: `[]`; a group with `maxSize` 0
 * (a dedicated tier without GPUs) counts against nothing.
 * Codes and family mapping: `onDemandVcpuQuota` (lib/config/instance-catalog.ts).
 */
export function computeVcpuNeeds(tier: TierConfig): Array<{ quotaCode: string; name: string; vcpus: number; oneNodeVcpus: number }> {
  if (tier.compute.mode !== 'dedicated') return [];
  const groups = [
    { instanceTypes: [tier.compute.systemNodes.instanceType], maxSize: tier.compute.systemNodes.maxSize },
    { instanceTypes: tier.compute.gpu.instanceTypes, maxSize: tier.compute.gpu.maxSize },
  ].filter((group) => group.maxSize > 0); // a tier without GPUs (gpu.maxSize 0) needs no GPU quota and never waits for one
  const byCode = new Map<string, { quotaCode: string; name: string; vcpus: number; oneNodeVcpus: number }>();
  for (const group of groups) {
    const perQuota = new Map<string, { name: string; sizes: number[] }>();
    for (const type of group.instanceTypes) {
      const quota = onDemandVcpuQuota(type);
      const entry = perQuota.get(quota.quotaCode) ?? { name: quota.name, sizes: [] };
      entry.sizes.push(ec2Vcpus(type));
      perQuota.set(quota.quotaCode, entry);
    }
    for (const [quotaCode, { name, sizes }] of perQuota) {
      const prev = byCode.get(quotaCode) ?? { quotaCode, name, vcpus: 0, oneNodeVcpus: Number.POSITIVE_INFINITY };
      prev.vcpus += group.maxSize * Math.max(...sizes);
      prev.oneNodeVcpus = Math.min(prev.oneNodeVcpus, ...sizes);
      byCode.set(quotaCode, prev);
    }
  }
  return [...byCode.values()];
}
