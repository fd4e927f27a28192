/**
 * Prices the fixed-cost resources of one synthesized CloudFormation template with a price table:
 * one line per resource and charge, named by the resource's logical id. "Fixed" means what a
 * tenant costs per month while idle: hourly resources at 730 h, provisioned storage, and the
 * usage-priced charges the table's `assumptions` size (logs, NAT and endpoint traffic, backups),
 * each marked as an assumption. A usage-priced store a quiet tenant leaves empty (the S3 Vectors bucket) gets a
 * line per price term at quantity 0: $0, with its prices named. Plain template JSON in, no aws-cdk-lib.
 */
import { CliError } from '../cli/cli-error.js';
import type { CfnResource, CfnTemplate, CfnValue } from '../preflight/cfn-template.js';
import type { AssumptionKey, PriceEntry, PriceTable, RegionalPriceEntry } from './price-table.js';

export interface CostLine {
  /** Logical id of the resource in its template. */
  readonly resource: string;
  /** CloudFormation type of the resource. */
  readonly type: string;
  /** What is charged, in words (e.g. `db.t4g.medium instance, Single-AZ`). */
  readonly item: string;
  /** Units per month (hours, GB, GB-months, keys...). */
  readonly quantity: number;
  /** Unit of `quantity` and `unitUsd`. */
  readonly unit: string;
  readonly unitUsd: number;
  /** quantity x unitUsd, USD per month. */
  readonly monthlyUsd: number;
  /** Where the unit price comes from (PriceEntry basis). */
  readonly basis: PriceEntry['basis'];
  readonly source: string;
  /** The assumption that sized `quantity`, when it is not read from the template. */
  readonly assumption?: string;
  /** Whose figure `unitUsd` is, when the line is billed in another region than the table's (a DR region). */
  readonly regionNote?: string;
}

export interface UnpricedResource {
  readonly resource: string;
  readonly type: string;
}

export interface TemplateCost {
  readonly lines: CostLine[];
  /** Sum of the lines, USD per month. */
  readonly monthlyUsd: number;
  /** Resources of types this module does not know: neither priced nor known to be free. */
  readonly unpriced: UnpricedResource[];
}

/**
 * Types with no charge of their own while idle (IAM, routing, groups, attachments, policies), or
 * billed only by use that a quiet tenant does not make (S3 requests and storage, Lambda, EventBridge).
 * Their cost is zero in the fixed figure, by design rather than by omission.
 */
export const NO_FIXED_COST_TYPES: ReadonlySet<string> = new Set([
  'AWS::IAM::Role', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy', 'AWS::KMS::Alias',
  'AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::RouteTable', 'AWS::EC2::SubnetRouteTableAssociation', 'AWS::EC2::Route',
  'AWS::EC2::InternetGateway', 'AWS::EC2::VPCGatewayAttachment', 'AWS::EC2::SecurityGroup', 'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress', 'AWS::EC2::FlowLog', // the flow log's cost is its log group's ingestion
  'AWS::S3::Bucket', 'AWS::S3::BucketPolicy', 'AWS::RDS::DBSubnetGroup', 'AWS::RDS::DBParameterGroup',
  'AWS::Backup::BackupVault', 'AWS::Backup::BackupSelection', // the plan's line carries the vault's storage
  'AWS::ElastiCache::SubnetGroup', 'AWS::ElastiCache::User', 'AWS::ElastiCache::UserGroup',
  'AWS::EC2::LaunchTemplate', // its volumes are priced on the node group that launches them
  'AWS::EKS::AccessEntry', 'AWS::EKS::Addon', 'AWS::EKS::PodIdentityAssociation', 'AWS::SSM::Parameter', 'AWS::Events::Rule',
  'Custom::AWSCDK-EKS-KubernetesResource', // Kubernetes objects in the shared cluster: no AWS charge of their own
  'AWS::CloudFormation::WaitConditionHandle', 'AWS::Lambda::Function', 'AWS::Lambda::LayerVersion', 'Custom::VpcRestrictDefaultSG',
  'AWS::SQS::Queue', 'AWS::SQS::QueuePolicy', // SQS bills requests only: a dead-letter queue that stays empty costs nothing
  // A DR tier's monthly restore test bills per restore job and the restored instance's hours: priced with the
  // other usage-priced DR lines by lib/cost/dr-costs.ts (the tier's DR extras), not as a resource of its own here.
  'AWS::Backup::RestoreTestingPlan', 'AWS::Backup::RestoreTestingSelection',
  // A tier's infrastructure budget: AWS Budgets charges only action-enabled budgets (AWS Price List, offer AWSBudgets:
  // `BudgetsUsage` $0.00 per budget-day); its notifications mail through AWS at no charge.
  'AWS::Budgets::Budget',
  // Its alerts' topic (constructs/tenant-infrastructure-budget.ts): SNS bills publishes and deliveries (the first million
  // requests a month free, then per million), a handful a month here; a topic, its policy and a subscription cost nothing.
  'AWS::SNS::Topic', 'AWS::SNS::TopicPolicy', 'AWS::SNS::Subscription',
  // A dedicated cluster's Cluster Autoscaler (constructs/cluster-autoscaler.ts): ECR charges nothing for a pull through cache
  // rule (its repository's storage is the charge, priced on AWS::ECR::Repository), and the custom resource that applies the
  // manifests is its Lambda's invocations (AWS::Lambda::Function above: billed by use, a handful per deploy).
  'AWS::ECR::PullThroughCacheRule', 'Custom::ClusterManifests',
]);

/**
 * EKS managed node groups launch On-Demand capacity with the prioritized allocation strategy:
 * the first instance type listed is used first, so it prices the group's nodes.
 * Source: https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html (capacity types)
 */
const NODE_GROUP_PRICED_TYPE = 0;
/** Root volume of a managed node group without `diskSize` or a launch template's volume (Linux AMIs): 20 GiB. */
export const NODE_GROUP_DEFAULT_DISK_GIB = 20;

type Resolve = (value: CfnValue | undefined) => CfnValue | undefined;

/**
 * Prices every resource of `template`.
 * @param parameters values of the template's parameters; a parameter without one resolves to its
 *   Default (e.g. GpuNodesDesiredSize = the tier's GPU minSize). @default - the Defaults
 * @throws CliError (exit 2) when the table has no price for an instance class, node type or
 *   instance type the template uses (the message names the resource and the table key to add)
 */
export function priceTemplate(template: CfnTemplate, table: PriceTable, parameters: Record<string, string | number> = {}): TemplateCost {
  const resolve: Resolve = (value) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && 'Ref' in value && typeof value.Ref === 'string') {
      const name = value.Ref;
      return parameters[name] ?? template.Parameters?.[name]?.Default ?? value;
    }
    return value;
  };
  const pricer = new Pricer(table, resolve, template);
  const unpriced: UnpricedResource[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (!pricer.price(id, resource) && !NO_FIXED_COST_TYPES.has(resource.Type)) unpriced.push({ resource: id, type: resource.Type });
  }
  return { lines: pricer.lines, monthlyUsd: sum(pricer.lines), unpriced };
}

/** The kind of charge of a resource type, for the "where the money goes" summary. */
export function kindOf(type: string): string {
  if (type === 'AWS::RDS::DBInstance') return 'database';
  if (type.startsWith('AWS::ElastiCache::')) return 'cache';
  if (type === 'AWS::EC2::VPCEndpoint') return 'VPC endpoints';
  if (type === 'AWS::EC2::NatGateway' || type === 'AWS::EC2::EIP') return 'NAT';
  if (type === 'AWS::EKS::Cluster') return 'EKS control plane';
  if (type === 'AWS::EKS::Nodegroup') return 'EKS nodes';
  if (type === 'AWS::Logs::LogGroup') return 'logs';
  if (type.startsWith('AWS::Backup::')) return 'backup';
  if (type === 'AWS::KMS::Key') return 'KMS';
  if (type === 'AWS::S3::Bucket') return 'S3';
  if (type === 'AWS::S3Vectors::VectorBucket') return 'S3 Vectors';
  if (type === 'AWS::CloudWatch::Alarm') return 'alarms';
  if (type === 'AWS::ECR::Repository') return 'ECR';
  if (type === 'AWS::SecretsManager::Secret') return 'secrets';
  return type;
}

/**
 * USD per month by kind of charge, largest first, in whole cents that add up to the rounded total
 * of the same lines (`sum`, what the report prints beside them): each kind gets its floor in cents,
 * and the cents left go one each to the kinds with the largest remainders (largest-remainder
 * rounding). Each kind rounded on its own would not add up: 50.275 and 268.805 (binary floats
 * just under the half) both went down while the total went up, a cent apart.
 */
export function byKind(lines: readonly CostLine[]): Array<{ kind: string; monthlyUsd: number }> {
  const totals = new Map<string, number>();
  for (const l of lines) totals.set(kindOf(l.type), (totals.get(kindOf(l.type)) ?? 0) + l.monthlyUsd);
  // 1e-6 of a cent: a float just under a whole cent (0.29 * 100 = 28.999999999999996) is that cent.
  const kinds = [...totals].map(([kind, usd]) => {
    const cents = usd * 100;
    const floor = Math.floor(cents + 1e-6);
    return { kind, cents: floor, remainder: Math.max(0, cents - floor) };
  });
  let left = Math.round(sum(lines) * 100) - kinds.reduce((n, k) => n + k.cents, 0);
  for (const k of [...kinds].sort((a, b) => b.remainder - a.remainder || b.cents - a.cents)) {
    if (left <= 0) break;
    if (k.remainder <= 1e-6) continue; // a whole amount keeps its cents
    k.cents += 1;
    left -= 1;
  }
  return kinds.map((k) => ({ kind: k.kind, monthlyUsd: k.cents / 100 })).sort((a, b) => b.monthlyUsd - a.monthlyUsd);
}

export const sum = (lines: readonly { monthlyUsd: number }[]) => round(lines.reduce((n, l) => n + l.monthlyUsd, 0));
/** Cents, as a bill shows them (sums are rounded once, at the end, from unrounded lines). */
export const round = (usd: number) => Math.round(usd * 100) / 100;

class Pricer {
  readonly lines: CostLine[] = [];
  constructor(private readonly table: PriceTable, private readonly resolve: Resolve, private readonly template: CfnTemplate) {}

  /**
   * GiB of the EBS volumes a node group's launch template maps (constructs/node-launch-template.ts: the volume that
   * takes the place of `diskSize`), when `spec` names a launch template of this template that maps any.
   */
  private launchTemplateDiskGiB(spec: CfnValue | undefined): number | undefined {
    const ref = spec && typeof spec === 'object' && !Array.isArray(spec) ? (spec as Record<string, CfnValue>).Id : undefined;
    const name = ref && typeof ref === 'object' && !Array.isArray(ref) && typeof (ref as Record<string, CfnValue>).Ref === 'string' ? String((ref as Record<string, CfnValue>).Ref) : undefined;
    const data = (name ? this.template.Resources[name]?.Properties?.LaunchTemplateData : undefined) as { BlockDeviceMappings?: Array<{ Ebs?: { VolumeSize?: CfnValue } }> } | undefined;
    const sizes = (data?.BlockDeviceMappings ?? []).map((m) => m.Ebs?.VolumeSize).filter((v) => v !== undefined).map((v) => num(this.resolve(v)));
    return sizes.length ? sizes.reduce((a, b) => a + b, 0) : undefined;
  }

  /** Adds the lines of one resource; false when its type is not one this pricer knows. */
  price(id: string, r: CfnResource): boolean {
    const p = r.Properties ?? {};
    const hours = this.table.hoursPerMonth;
    switch (r.Type) {
      case 'AWS::RDS::DBInstance': {
        const cls = String(this.resolve(p.DBInstanceClass));
        const copies = this.resolve(p.MultiAZ) === true || this.resolve(p.MultiAZ) === 'true' ? 2 : 1;
        const az = copies === 2 ? 'Multi-AZ (primary + standby)' : 'Single-AZ';
        this.add(id, r, `${cls} PostgreSQL instance, ${az}`, copies * hours, 'instance-hours', this.entry('rdsPostgresInstanceHour', cls, id));
        const storage = num(this.resolve(p.AllocatedStorage));
        this.add(id, r, `${storage} GiB ${String(this.resolve(p.StorageType) ?? 'gp2')} storage${copies === 2 ? ' x 2 copies' : ''}`, storage * copies, 'GB-months', this.table.prices['rds.gp3GbMonth']);
        const retention = num(this.resolve(p.BackupRetentionPeriod));
        this.add(id, r, `automated backups (${retention} days), within the free 100% of provisioned storage`, 0, 'GB-months', this.table.prices['rds.backupGbMonth'], 'automated backups of a low-churn database stay under the provisioned size');
        if (this.resolve(p.EnablePerformanceInsights) === true && num(this.resolve(p.PerformanceInsightsRetentionPeriod)) <= 7) {
          this.add(id, r, 'Performance Insights, 7-day retention', 1, 'instance-months', this.table.prices['rds.performanceInsights7Days']);
        }
        if (num(this.resolve(p.MonitoringInterval)) > 0) {
          this.addAssumed(id, r, `Enhanced Monitoring (${num(this.resolve(p.MonitoringInterval))} s) into CloudWatch Logs`, 'enhancedMonitoringGbPerMonth', 1, 'GB ingested', this.table.prices['logs.ingestionGb']);
        }
        if (this.resolve(p.ManageMasterUserPassword) === true) this.add(id, r, 'RDS-managed master user secret (Secrets Manager)', 1, 'secret-months', this.table.prices['secretsmanager.secretMonth']);
        return true;
      }
      case 'AWS::ElastiCache::ReplicationGroup': {
        const nodeType = String(this.resolve(p.CacheNodeType));
        const engine = String(this.resolve(p.Engine) ?? 'redis').toLowerCase();
        const nodes = p.NumCacheClusters !== undefined ? num(this.resolve(p.NumCacheClusters))
          : num(this.resolve(p.NumNodeGroups) ?? 1) * (1 + num(this.resolve(p.ReplicasPerNodeGroup) ?? 0));
        const byEngine = this.table.elastiCacheNodeHour[engine];
        if (!byEngine) throw new CliError(`no ElastiCache ${engine} prices in the price table (elastiCacheNodeHour.${engine}), needed by ${id}`);
        this.add(id, r, `${nodes} x ${nodeType} ${engine} node${nodes === 1 ? '' : 's'}`, nodes * hours, 'node-hours', this.lookup(byEngine, `elastiCacheNodeHour.${engine}`, nodeType, id));
        return true;
      }
      case 'AWS::ElastiCache::CacheCluster': {
        const nodeType = String(this.resolve(p.CacheNodeType));
        const engine = String(this.resolve(p.Engine) ?? 'redis').toLowerCase();
        const nodes = num(this.resolve(p.NumCacheNodes) ?? 1);
        const byEngine = this.table.elastiCacheNodeHour[engine] ?? {};
        this.add(id, r, `${nodes} x ${nodeType} ${engine} node${nodes === 1 ? '' : 's'}`, nodes * hours, 'node-hours', this.lookup(byEngine, `elastiCacheNodeHour.${engine}`, nodeType, id));
        return true;
      }
      case 'AWS::EKS::Cluster':
        this.add(id, r, `EKS control plane (Kubernetes ${String(this.resolve(p.Version) ?? 'default')}, standard support)`, hours, 'cluster-hours', this.table.prices['eks.clusterHourStandard']);
        return true;
      case 'AWS::EKS::Nodegroup': {
        const scaling = (this.resolve(p.ScalingConfig) ?? {}) as Record<string, CfnValue>;
        const nodes = num(this.resolve(scaling.DesiredSize ?? scaling.MinSize ?? 0));
        const types = (Array.isArray(p.InstanceTypes) ? p.InstanceTypes : []).map((t) => String(this.resolve(t)));
        const type = types[NODE_GROUP_PRICED_TYPE] ?? 't3.medium'; // EKS's default instance type when none is given
        const listed = types.length > 1 ? ` (first of ${types.join(', ')})` : '';
        this.add(id, r, `${nodes} x ${type} node${nodes === 1 ? '' : 's'} at desired size${listed}`, nodes * hours, 'instance-hours', this.entry('ec2InstanceHour', type, id));
        const disk = p.DiskSize !== undefined ? num(this.resolve(p.DiskSize)) : this.launchTemplateDiskGiB(p.LaunchTemplate) ?? NODE_GROUP_DEFAULT_DISK_GIB;
        this.add(id, r, `${nodes} x ${disk} GiB gp3 root volume`, nodes * disk, 'GB-months', this.table.prices['ebs.gp3GbMonth']);
        return true;
      }
      case 'AWS::EC2::NatGateway':
        this.add(id, r, 'NAT gateway', hours, 'gateway-hours', this.table.prices['vpc.natGatewayHour']);
        this.addAssumed(id, r, 'NAT gateway data processed', 'natGatewayGbPerMonth', 1, 'GB processed', this.table.prices['vpc.natGatewayGb']);
        return true;
      case 'AWS::EC2::EIP':
        this.add(id, r, 'public IPv4 address (Elastic IP of a NAT gateway)', hours, 'address-hours', this.table.prices['vpc.publicIpv4Hour']);
        return true;
      case 'AWS::EC2::VPCEndpoint': {
        const service = serviceName(p.ServiceName);
        if (this.resolve(p.VpcEndpointType) !== 'Interface') {
          this.add(id, r, `${service} gateway endpoint`, 1, 'endpoint-months', this.table.prices['vpc.gatewayEndpoint']);
          return true;
        }
        const azs = Array.isArray(p.SubnetIds) ? p.SubnetIds.length : 1;
        this.add(id, r, `${service} interface endpoint in ${azs} AZ${azs === 1 ? '' : 's'}`, azs * hours, 'endpoint-AZ-hours', this.table.prices['vpc.interfaceEndpointAzHour']);
        this.addAssumed(id, r, `${service} interface endpoint data processed`, 'interfaceEndpointGbPerMonth', 1, 'GB processed', this.table.prices['vpc.interfaceEndpointGb']);
        return true;
      }
      case 'AWS::KMS::Key':
        this.add(id, r, `customer managed KMS key${this.resolve(p.EnableKeyRotation) === true ? ' (first year; each of the first two yearly rotations adds $1)' : ''}`, 1, 'key-months', this.table.prices['kms.keyMonth']);
        return true;
      case 'AWS::SecretsManager::Secret':
        this.add(id, r, 'Secrets Manager secret', 1, 'secret-months', this.table.prices['secretsmanager.secretMonth']);
        return true;
      case 'AWS::Logs::LogGroup': {
        const name = JSON.stringify(p.LogGroupName ?? id);
        const flow = name.includes('flow-log');
        const key: AssumptionKey = flow ? 'flowLogGbPerMonth' : 'serviceLogGbPerMonth';
        const what = flow ? 'VPC flow logs' : 'log group';
        this.addAssumed(id, r, `${what} ingestion`, key, 1, 'GB ingested', this.table.prices[flow ? 'logs.vendedIngestionGb' : 'logs.ingestionGb']);
        const retentionMonths = p.RetentionInDays === undefined ? Infinity : num(this.resolve(p.RetentionInDays)) / (365 / 12);
        const months = Math.min(this.table.assumptions.logStorageMonths.value, retentionMonths);
        const gb = this.table.assumptions[key].value * months;
        this.add(id, r, `${what} storage, ${round(months)} months held (steady state, uncompressed)`, gb, 'GB-months', this.table.prices['logs.storageGbMonth'], `${this.table.assumptions[key].value} GB/month (${key}) x ${round(months)} months (logStorageMonths, capped by retention)`);
        return true;
      }
      case 'AWS::CloudWatch::Alarm': {
        // A metric-math alarm bills each metric it queries; a plain alarm one.
        const metrics = Array.isArray(p.Metrics) ? p.Metrics.filter((m) => m && typeof m === 'object' && !Array.isArray(m) && 'MetricStat' in m).length : 1;
        this.add(id, r, `CloudWatch alarm (standard resolution${metrics > 1 ? `, ${metrics} metrics` : ''})`, Math.max(1, metrics), 'alarm-metric-months', this.table.prices['cloudwatch.alarmMonth']);
        return true;
      }
      case 'AWS::S3Vectors::VectorBucket': {
        // Usage-priced (storage, writes, queries), no charge of its own: a quiet tenant's bucket is empty (vectors are
        // written as its vector stores are filled), so each term is a line at quantity 0 naming its price.
        const empty = 'a quiet tenant\'s vector bucket is empty: vector stores fill it as they are used';
        this.add(id, r, 'S3 Vectors storage (vector data, key and metadata)', 0, 'GB-months', this.table.prices['s3vectors.storageGbMonth'], empty);
        this.add(id, r, 'S3 Vectors PutVectors (logical GB written)', 0, 'GB written', this.table.prices['s3vectors.putGb'], empty);
        this.add(id, r, 'S3 Vectors QueryVectors requests', 0, 'million requests', this.table.prices['s3vectors.queryRequests1M'], empty);
        this.add(id, r, 'S3 Vectors query data processed', 0, 'TB processed', this.table.prices['s3vectors.queryTbProcessed'], empty);
        return true;
      }
      case 'AWS::ECR::Repository':
        // ECR bills the compressed images a repository holds; pulls within the region are free.
        this.addAssumed(id, r, 'ECR image storage (images held, compressed)', 'imageCacheGbPerRepository', 1, 'GB-months', this.table.prices['ecr.storageGbMonth']);
        return true;
      case 'AWS::Backup::BackupPlan': {
        const dbStorage = Object.values(this.template.Resources).filter((x) => x.Type === 'AWS::RDS::DBInstance').reduce((n, x) => n + num(this.resolve(x.Properties?.AllocatedStorage)), 0);
        this.addAssumed(id, r, `AWS Backup vault storage (RDS snapshots of ${dbStorage} GiB allocated)`, 'backupStorageFactor', dbStorage, 'GB-months', this.table.prices['backup.rdsSnapshotGbMonth']);
        return true;
      }
      default:
        return false;
    }
  }

  private add(resource: string, r: CfnResource, item: string, quantity: number, unit: string, price: RegionalPriceEntry, assumption?: string): void {
    this.lines.push(costLine(resource, r.Type, item, quantity, unit, price, assumption));
  }

  /** A line whose quantity is `factor` x an assumption of the table. */
  private addAssumed(resource: string, r: CfnResource, item: string, key: AssumptionKey, factor: number, unit: string, price: PriceEntry): void {
    const a = this.table.assumptions[key];
    this.add(resource, r, item, a.value * factor, unit, price, `${a.value} ${a.unit}${factor !== 1 ? ` x ${factor}` : ''} (${key})`);
  }

  private entry(group: 'rdsPostgresInstanceHour' | 'ec2InstanceHour', name: string, id: string): PriceEntry {
    return this.lookup(this.table[group], group, name, id);
  }

  private lookup(entries: Record<string, PriceEntry>, group: string, name: string, id: string): PriceEntry {
    const e = entries[name];
    if (!e) throw new CliError(`no price for ${name} in the ${this.table.region} price table (${group}."${name}"), needed by resource ${id}: add it with its source and basis`);
    return e;
  }
}

/** `com.amazonaws.<region>.ecr.api` (a literal or the CDK's `Fn::Join` of it) -> `ecr.api`. */
function serviceName(value: CfnValue | undefined): string {
  if (typeof value === 'string') return value.split('.').slice(3).join('.') || value;
  const parts = value && typeof value === 'object' && !Array.isArray(value) ? value['Fn::Join'] : undefined;
  const last = Array.isArray(parts) && Array.isArray(parts[1]) ? parts[1][parts[1].length - 1] : undefined;
  return typeof last === 'string' ? last.replace(/^\./, '') : JSON.stringify(value);
}

/**
 * One line: `quantity` (rounded to 3 decimals for display; the amount uses it unrounded) x the entry's price.
 * @param assumption what sized `quantity` when the template does not say it
 */
export function costLine(resource: string, type: string, item: string, quantity: number, unit: string, price: RegionalPriceEntry, assumption?: string): CostLine {
  return {
    resource, type, item, quantity: roundQuantity(quantity), unit, unitUsd: price.usd, monthlyUsd: quantity * price.usd,
    basis: price.basis, source: price.source, ...(assumption ? { assumption } : {}), ...(price.regionNote ? { regionNote: price.regionNote } : {}),
  };
}

/** A template number (a number or a numeric string); 0 for anything else (an unresolved token). */
export function num(value: CfnValue | undefined): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : 0;
}

const roundQuantity = (q: number) => Math.round(q * 1000) / 1000;

