/**
 * A tenant's estate for the cross-tenant isolation check: its tier blueprint (and namespace
 * blueprint, and a DR tier's DR and failover blueprints in its DR region) instantiated for one
 * tenant id in one account, the principals those templates create
 * with the session tags their trust policies give them, and the resources AWS creates for the
 * tenant at run time, named as Tessera names them (SageMaker jobs and endpoints, their log
 * streams, Enhanced Monitoring streams, Backup snapshots, the RDS-managed master secret, network
 * interfaces in the tenant's subnets, the tenant's provider secret in the platform account).
 */
import type { SimulationIdentityPolicy, SimulationOrgPolicies } from '@cloud-copilot/iam-simulate';
import type { TrainingTarget } from '../../../lambdas/fine-tuning/sagemaker-requests.js';
import type { BaseModel, TierConfig } from '../../config/schema.js';
import { trainingJobName } from '../../fine-tuning.js';
import { TENANT_DATA_ROLE_NAME, TENANT_ID_TAG, TIER_TAG } from '../../tenant-naming.js';
import { identityOf, trustedServices } from '../identity.js';
import type { InstantiatedResource, InstantiatedTemplate } from '../instantiate.js';
import { hex, TYPES } from '../resource-types.js';
import { tagsOf } from '../tags.js';

/** One IAM role of a tenant, as a session of it would be evaluated. */
export interface TenantPrincipal {
  readonly tenantId: string;
  /** The role's logical id in its template (`RolesWorkload9AF4AE29`). */
  readonly logicalId: string;
  readonly roleName: string;
  readonly arn: string;
  readonly account: string;
  readonly identityPolicies: SimulationIdentityPolicy[];
  /** Role tags (template tags and the stack's `tessera:*` tags) overlaid with the session tags its trust policy requires. */
  readonly tags: Record<string, string>;
  /** Service principals the role trusts (empty for roles assumed by AWS principals). */
  readonly services: string[];
  readonly scps: SimulationOrgPolicies[];
  /** The role resource in its template. */
  readonly resource: InstantiatedResource;
  /** The template it comes from. */
  readonly inst: InstantiatedTemplate;
}

export interface RuntimeResources {
  readonly trainingJobName: string;
  readonly trainingJobArn: string;
  readonly modelArn: string;
  readonly endpointConfigArn: string;
  readonly endpointArn: string;
  /** A stream of the training job in `/aws/sagemaker/TrainingJobs`. */
  readonly trainingLogStreamArn: string;
  /** A stream of the endpoint in `/aws/sagemaker/Endpoints/<endpoint>`. */
  readonly endpointLogStreamArn: string;
  /** The database's Enhanced Monitoring stream in `RDSOSMetrics` (named after its DbiResourceId), if it has a database. */
  readonly rdsMetricsStreamArn?: string;
  /** A snapshot AWS Backup takes of the database (`awsbackup:job-<uuid>`). */
  readonly dbSnapshotArn?: string;
  /** An AWS Backup recovery point in the tenant's vault. */
  readonly recoveryPointArn: string;
  /**
   * What AWS Backup keeps in each vault of the tenant's DR-region stacks (the DR vault, which the tier's copy rule
   * fills, and the failover stack's own): a recovery point there and the database snapshot it is
   * (`awsbackup:copyjob-<uuid>` in the DR region), with that stack's key, which the copy is under.
   */
  readonly drCopies: ReadonlyArray<{ readonly recoveryPointArn: string; readonly dbSnapshotArn: string; readonly keyArn?: string; readonly keyPolicy?: unknown; readonly region: string }>;
  /** The RDS-managed master user secret (`rds!db-<uuid>`). */
  readonly rdsMasterSecretArn?: string;
  /** A network interface in the tenant's first private subnet (what SageMaker or EKS creates). */
  readonly networkInterfaceArn: string;
  /** The tenant's own provider key in the platform account (lambdas/inference/secrets.ts). */
  readonly providerSecretArn: string;
}

export interface TenantEstate {
  readonly tenantId: string;
  readonly tierName: string;
  readonly account: string;
  readonly platformAccount: string;
  readonly region: string;
  readonly partition: string;
  readonly tenant: InstantiatedTemplate;
  readonly namespace?: InstantiatedTemplate;
  /**
   * A DR tier's stacks in its DR region, in the tenant's account: the DR blueprint (DR key, DR bucket, DR vault,
   * restore role) and the failover blueprint (`TesseraTenantFailover-<tier>`, as the failover runbook deploys it).
   * Their roles are principals, their resources attempted like the tier blueprint's. Empty for a tier without DR.
   */
  readonly drStacks: InstantiatedTemplate[];
  /**
   * The estate as seen from each of {@link drStacks} (its `tenant` that stack, its runtime resources, VPC and key
   * those of the DR region): what the positive controls of that stack's roles act on.
   */
  readonly drViews: TenantEstate[];
  /** The platform stack instantiated for the platform account (its bus policy, pooled tables and roles). */
  readonly platform?: InstantiatedTemplate;
  readonly principals: TenantPrincipal[];
  readonly runtime: RuntimeResources;
  /** ARNs and ids other checks need: the VPC, its subnets, security groups, the key. */
  readonly vpcArn?: string;
  readonly subnetArns: string[];
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  readonly keyArn?: string;
  /** Tags every tenant-stack resource carries (CloudFormation stack tags). */
  readonly stackTags: Record<string, string>;
  /** What the fine-tuning Lambdas build the tenant's SageMaker requests from, for a tier with training. */
  readonly training?: { readonly target: TrainingTarget; readonly tier: TierConfig; readonly base: BaseModel };
}

export interface EstateInput {
  readonly tenantId: string;
  readonly tierName: string;
  readonly tenant: InstantiatedTemplate;
  readonly namespace?: InstantiatedTemplate;
  /** The tier's DR and failover blueprints instantiated for the tenant in its DR region (a DR tier only). @default [] */
  readonly drStacks?: InstantiatedTemplate[];
  /**
   * The platform stack where the failover runbook redeploys it (`platformDisasterRecovery.region`, else the tier's DR
   * region): the bus the failover blueprint's forwarders target. @default `platform`
   */
  readonly drPlatform?: InstantiatedTemplate;
  readonly platform?: InstantiatedTemplate;
  readonly platformAccount: string;
  readonly tier: TierConfig;
  /** The platform's base-model catalog (`fineTuning.baseModels`). */
  readonly baseModels: readonly BaseModel[];
  /** SCPs in force in the tenant's account and in the platform account. */
  readonly scps: { readonly tenantAccount: SimulationOrgPolicies[]; readonly platform: SimulationOrgPolicies[] };
}

export function tenantEstate(input: EstateInput): TenantEstate {
  const { tenant, tenantId } = input;
  const { account, region, partition } = tenant.env;
  const stackTags = { [TENANT_ID_TAG]: tenantId, [TIER_TAG]: input.tierName };
  const principals = [
    ...principalsOf(tenant, tenantId, stackTags, input.scps.tenantAccount),
    ...(input.drStacks ?? []).flatMap((inst) => principalsOf(inst, tenantId, stackTags, input.scps.tenantAccount)),
    ...(input.namespace ? principalsOf(input.namespace, tenantId, stackTags, input.scps.platform) : []),
    // The platform's tenant-scoped credentials: a session of the tenant-data role tagged with this tenant.
    ...(input.platform ? principalsOf(input.platform, tenantId, {}, input.scps.platform, (r) => r.physicalId === TENANT_DATA_ROLE_NAME).map((p) => ({ ...p, tags: { ...p.tags, [TENANT_ID_TAG]: tenantId } })) : []),
  ];
  const of = (type: string) => Object.values(tenant.resources).filter((r) => r.type === type);
  const vpc = of('AWS::EC2::VPC')[0];
  // Compute subnets first: where SageMaker and EKS put network interfaces.
  const subnets = of('AWS::EC2::Subnet').sort((a, b) => Number(/computeSubnet/.test(b.logicalId)) - Number(/computeSubnet/.test(a.logicalId)));
  const db = of('AWS::RDS::DBInstance')[0];
  const dbi = db ? String(TYPES['AWS::RDS::DBInstance'].attributes!.DbiResourceId(db, tenant.env)) : undefined;
  const arn = (service: string, resource: string, acct = account) => `arn:${partition}:${service}:${region}:${acct}:${resource}`;
  const job = trainingJobName(tenantId, `ftjob-${hex(`${tenantId}-job`, 24)}`);
  const vault = of('AWS::Backup::BackupVault')[0];
  const trainingRole = principals.find((p) => p.roleName === `tessera-${tenantId}-training`);
  const bucket = of('AWS::S3::Bucket').find((r) => r.logicalId.startsWith('StorageBucket'));
  const key = of('AWS::KMS::Key')[0];
  const base = input.baseModels.find((b) => input.tier.training.baseModels.includes('*') || input.tier.training.baseModels.includes(b.id));
  const training = input.tier.training.enabled && trainingRole && bucket && key && base ? {
    tier: input.tier, base,
    target: {
      tenantId, accountId: account, bucket: bucket.physicalId, keyArn: key.arn, trainingRoleArn: trainingRole.arn,
      subnetIds: subnets.filter((r) => /computeSubnet/.test(r.logicalId)).map((r) => r.physicalId),
      securityGroupId: of('AWS::EC2::SecurityGroup').find((r) => r.logicalId.startsWith('NetworkWorkloadSecurityGroup'))?.physicalId ?? '',
    },
  } : undefined;
  return {
    tenantId, tierName: input.tierName, account, platformAccount: input.platformAccount, region, partition,
    tenant, namespace: input.namespace, drStacks: input.drStacks ?? [], platform: input.platform, principals, stackTags,
    drViews: (input.drStacks ?? []).map((inst) => {
      const view = tenantEstate({ ...input, tenant: inst, namespace: undefined, drStacks: [], platform: input.drPlatform ?? input.platform });
      return { ...view, runtime: { ...view.runtime, drCopies: drCopiesOf(tenantId, [inst]) } };
    }),
    runtime: {
      trainingJobName: job,
      trainingJobArn: arn('sagemaker', `training-job/${job}`),
      modelArn: arn('sagemaker', `model/${job}`),
      endpointConfigArn: arn('sagemaker', `endpoint-config/${job}`),
      endpointArn: arn('sagemaker', `endpoint/${job}`),
      trainingLogStreamArn: arn('logs', `log-group:/aws/sagemaker/TrainingJobs:log-stream:${job}/algo-1-1764547200`),
      endpointLogStreamArn: arn('logs', `log-group:/aws/sagemaker/Endpoints/${job}:log-stream:AllTraffic/i-${hex(job, 17)}`),
      rdsMetricsStreamArn: dbi ? arn('logs', `log-group:RDSOSMetrics:log-stream:${dbi}`) : undefined,
      dbSnapshotArn: db ? arn('rds', `snapshot:awsbackup:job-${uuidOf(`${tenantId}-snapshot`)}`) : undefined,
      recoveryPointArn: arn('backup', `recovery-point:${uuidOf(`${tenantId}-${vault?.physicalId ?? 'vault'}-rp`)}`),
      drCopies: drCopiesOf(tenantId, input.drStacks ?? []),
      rdsMasterSecretArn: db ? arn('secretsmanager', `secret:rds!db-${uuidOf(`${tenantId}-master`)}-${hex(tenantId, 6)}`) : undefined,
      networkInterfaceArn: arn('ec2', `network-interface/eni-${hex(`${tenantId}-eni`, 17)}`),
      providerSecretArn: arn('secretsmanager', `secret:tessera/tenants/${tenantId}/openai-${hex(tenantId, 6)}`, input.platformAccount),
    },
    vpcArn: vpc?.arn,
    subnetArns: subnets.map((s) => s.arn),
    subnetIds: subnets.map((s) => s.physicalId),
    securityGroupIds: of('AWS::EC2::SecurityGroup').map((s) => s.physicalId),
    keyArn: key?.arn,
    training,
  };
}

/** {@link RuntimeResources.drCopies} of `stacks`: per vault, a recovery point and its snapshot in the stack's Region. */
function drCopiesOf(tenantId: string, stacks: InstantiatedTemplate[]): RuntimeResources['drCopies'] {
  return stacks.flatMap((inst) => Object.values(inst.resources).filter((r) => r.type === 'AWS::Backup::BackupVault').map((v) => {
    const drKey = Object.values(inst.resources).find((r) => r.type === 'AWS::KMS::Key');
    const at = (service: string, resource: string) => `arn:${inst.env.partition}:${service}:${inst.env.region}:${inst.env.account}:${resource}`;
    return {
      region: inst.env.region, keyArn: drKey?.arn, keyPolicy: drKey?.props.KeyPolicy,
      recoveryPointArn: at('backup', `recovery-point:${uuidOf(`${tenantId}-${v.physicalId}-rp`)}`),
      dbSnapshotArn: at('rds', `snapshot:awsbackup:copyjob-${uuidOf(`${tenantId}-${v.physicalId}-copy`)}`),
    };
  }));
}

function uuidOf(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Every role of `inst`, with its identity policies and the tags a session of it carries. */
function principalsOf(inst: InstantiatedTemplate, tenantId: string, stackTags: Record<string, string>, scps: SimulationOrgPolicies[], which: (role: InstantiatedResource) => boolean = () => true): TenantPrincipal[] {
  return Object.values(inst.resources).filter((r) => r.type === 'AWS::IAM::Role' && which(r)).map((role) => {
    const tags: Record<string, string> = { ...stackTags };
    Object.assign(tags, tagsOf(role.props.Tags));
    Object.assign(tags, sessionTagsOf(role), podIdentityTagsOf(inst, role));
    return {
      tenantId, logicalId: role.logicalId, roleName: role.physicalId, arn: role.arn, account: inst.env.account,
      identityPolicies: identityOf(inst, role).policies.map((p) => ({ ...p, policy: withoutEncryptionContextInAllows(p.policy) })), tags, services: trustedServices(role), scps, resource: role, inst,
    };
  });
}

/**
 * An identity policy with the `kms:EncryptionContext:<key>` conditions of its Allow statements dropped.
 * The simulator cannot evaluate those keys (it finds no value for them in the request context, whatever
 * the key: test/isolation/platform-data.test.ts), so as written they would deny every request, the
 * cross-tenant attempts and the positive controls alike. Dropped from Allow statements only, the policy
 * allows at least as much as the real one: an attempt allowed without them is reported (the check
 * errs towards finding), and the conditions themselves are held as written by the pairs tests
 * (test/isolation/training-files-pairs.test.ts, platform-data.test.ts). Deny statements keep them.
 */
export function withoutEncryptionContextInAllows(doc: unknown): unknown {
  type St = { Effect?: string; Condition?: Record<string, Record<string, unknown>> };
  const d = doc as { Statement?: St | St[] } | undefined;
  if (!d?.Statement) return doc;
  const strip = (st: St): St => {
    if (st.Effect !== 'Allow' || !st.Condition) return st;
    const ops = Object.entries(st.Condition).map(([op, keys]) => [op, Object.fromEntries(Object.entries(keys).filter(([k]) => !k.startsWith('kms:EncryptionContext:')))] as const);
    const kept = ops.filter(([, keys]) => Object.keys(keys).length > 0);
    if (kept.length === ops.length && kept.every(([op, keys]) => Object.keys(keys).length === Object.keys(st.Condition![op]!).length)) return st;
    const { Condition: _dropped, ...rest } = st;
    return kept.length ? { ...rest, Condition: Object.fromEntries(kept) } : rest;
  };
  const before = [d.Statement].flat();
  const after = before.map(strip);
  if (after.every((st, i) => st === before[i])) return doc;
  return { ...d, Statement: Array.isArray(d.Statement) ? after : after[0] };
}

/**
 * Session tags EKS Pod Identity gives a role's sessions, from the template's pod identity
 * associations naming it (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html).
 */
function podIdentityTagsOf(inst: InstantiatedTemplate, role: InstantiatedResource): Record<string, string> {
  const association = Object.values(inst.resources).find((r) => r.type === 'AWS::EKS::PodIdentityAssociation' && r.props.RoleArn === role.arn);
  if (!association) return {};
  const cluster = String(association.props.ClusterName);
  return {
    'eks-cluster-name': cluster,
    'eks-cluster-arn': `arn:${inst.env.partition}:eks:${inst.env.region}:${inst.env.account}:cluster/${cluster}`,
    'kubernetes-namespace': String(association.props.Namespace),
    'kubernetes-service-account': String(association.props.ServiceAccount),
  };
}

/** Session tags a role's trust policy requires (`StringEquals: { aws:RequestTag/<key>: <value> }`). */
export function sessionTagsOf(role: InstantiatedResource): Record<string, string> {
  const doc = role.props.AssumeRolePolicyDocument as { Statement?: Array<{ Effect?: string; Condition?: Record<string, Record<string, unknown>> }> } | undefined;
  const tags: Record<string, string> = {};
  for (const s of doc?.Statement ?? []) {
    if (s.Effect !== 'Allow') continue;
    for (const [op, kv] of Object.entries(s.Condition ?? {})) {
      if (op !== 'StringEquals') continue;
      for (const [k, v] of Object.entries(kv)) {
        const m = /^aws:RequestTag\/(.+)$/.exec(k);
        if (m && typeof v === 'string') tags[m[1]] = v;
      }
    }
  }
  return tags;
}
