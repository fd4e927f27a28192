/**
 * Handler permissions: for every resource of an instantiated blueprint and each of its create,
 * update and delete handlers, every IAM action the provider schema lists is evaluated for the
 * deploying principal, with the identity policies it has, the resource policies of the template
 * (key policy for kms actions on the tenant key, bucket policy for s3 actions on the tenant
 * buckets) and the SCPs in force at the *Deploy blueprint* step.
 *
 * Modelling assumptions (each also in the preflight's "cannot see" list):
 * - Resource ARN per action: the ARNs of the resource itself and of the template resources it
 *   refers to whose type the action takes (Service Authorization Reference); tagging actions only on
 *   the resource itself; `*` for actions without a resource type.
 * - kms actions: on the keys the resource refers to (KmsKeyId, KeyArn, EncryptionConfig…). A kms
 *   action listed by a handler whose resource names no key is "not exercised". kms actions of
 *   another service's handler are calls that service makes for the deployer: kms:ViaService =
 *   `<service>.<region>.amazonaws.com`, aws:ViaAWSService = true, kms:GrantIsForAWSResource = true
 *   (CreateGrant). Direct calls (the key's own handler) carry aws:ViaAWSService = false.
 * - iam:PassRole / GetRole / ListAttachedRolePolicies: on each role the resource refers to
 *   (RoleArn, NodeRole, MonitoringRoleArn, IamRoleArn, DeliverLogsPermissionArn…), with
 *   iam:PassedToService = the service principal that role trusts; not exercised without a role.
 * - iam:CreateServiceLinkedRole: on the service's service-linked role, iam:AWSServiceName from
 *   SERVICE_LINKED_ROLES.
 * - Actions a handler lists for a feature the resource leaves off (S3 metadata tables, Firehose log
 *   delivery, EKS Auto Mode instance profiles…) are "not exercised" (FEATURE_GATED).
 * - Strings that are not IAM actions (e.g. `s3:REST.PUT.OBJECT`) are counted as "not an action".
 * - aws:RequestedRegion is the stack's region, us-east-1 for IAM (a global service).
 * - Tags (./tags.ts): a request on a template resource that exists at that moment carries
 *   `aws:ResourceTag/<key>` for each of its tags (stack tags + template tags): every action of the
 *   update and delete handlers, actions on the other template resources it refers to, and actions
 *   of its own create handler after the call that creates it. The creating call, and tagging calls,
 *   of an action that takes request tags carry `aws:RequestTag/<key>` and `aws:TagKeys` (CloudFormation
 *   passes the resource's tags with the create call of types that tag on create), the creating call
 *   too when IAM authorizes it on a parent only (`eks:CreatePodIdentityAssociation` on the cluster).
 * - Calls AWS makes for the deployer that no handler lists (MODELLED_CALLS): RDS's managed master
 *   secret is created by Secrets Manager under the key of MasterUserSecret.KmsKeyId, so the deployer
 *   needs kms:GenerateDataKey and kms:Decrypt on that key with kms:ViaService = secretsmanager.
 */
import type { SimulationIdentityPolicy, SimulationOrgPolicies } from '@cloud-copilot/iam-simulate';
import { namespaceKubectlRoleName } from '../namespace-kubectl.js';
import { tenantRoleName } from '../tenant-naming.js';
import { trustedServices } from './identity.js';
import { actionInfo, evaluate, fillArnTemplate, type ActionInfo, type PolicyJson } from './iam-eval.js';
import type { InstantiatedResource, InstantiatedTemplate } from './instantiate.js';
import { HANDLERS, type HandlerName, type ProviderSchemas } from './provider-schemas.js';
import { TYPES } from './resource-types.js';
import { requestTagContext, resourceTagContext, resourceTags, type Tags } from './tags.js';

export type CheckOutcome = 'allowed' | 'denied' | 'not-exercised' | 'not-an-action';

export interface PermissionCheck {
  readonly logicalId: string;
  readonly type: string;
  readonly handler: HandlerName;
  readonly action: string;
  /** The evaluated resource ARN (or `*`); empty when not evaluated. */
  readonly resource: string;
  readonly outcome: CheckOutcome;
  /** Why not exercised / which layer denied / the simulator's words. */
  readonly detail: string;
}

export interface Deployer {
  readonly principalArn: string;
  readonly identityPolicies: SimulationIdentityPolicy[];
  /** The deployer role's permissions boundary (a tenant's namespace deployer: lib/preflight/tenant-namespace-deployer.ts). @default none */
  readonly permissionBoundaries?: SimulationIdentityPolicy[];
}

/** Service-linked roles that handlers create on first use: service name → role name. */
export const SERVICE_LINKED_ROLES: Record<string, { service: string; roleName: string }> = {
  'AWS::RDS::DBInstance': { service: 'rds.amazonaws.com', roleName: 'AWSServiceRoleForRDS' },
  'AWS::RDS::DBSubnetGroup': { service: 'rds.amazonaws.com', roleName: 'AWSServiceRoleForRDS' },
  'AWS::RDS::DBParameterGroup': { service: 'rds.amazonaws.com', roleName: 'AWSServiceRoleForRDS' },
  'AWS::ElastiCache::ReplicationGroup': { service: 'elasticache.amazonaws.com', roleName: 'AWSServiceRoleForElastiCache' },
  'AWS::EKS::Cluster': { service: 'eks.amazonaws.com', roleName: 'AWSServiceRoleForAmazonEKS' },
  'AWS::EKS::Nodegroup': { service: 'eks-nodegroup.amazonaws.com', roleName: 'AWSServiceRoleForAmazonEKSNodegroup' },
  'AWS::Backup::BackupSelection': { service: 'backup.amazonaws.com', roleName: 'AWSServiceRoleForBackup' },
  'AWS::EC2::FlowLog': { service: 'vpc-flow-logs.amazonaws.com', roleName: 'AWSServiceRoleForVPCFlowLogs' },
};

/** Handler actions used only by a feature the resource may leave off: (type, action pattern) → is the feature on? */
const FEATURE_GATED: Array<{ type: string; action: RegExp; feature: string; on: (p: Record<string, unknown>) => boolean }> = [
  { type: 'AWS::Budgets::Budget', action: /^billing:GetBillingViewData$/, feature: 'a billing view (Budget.BillingViewArn)', on: (p) => (p.Budget as Record<string, unknown> | undefined)?.BillingViewArn !== undefined },
  { type: 'AWS::S3::Bucket', action: /^s3tables:/, feature: 'S3 metadata tables', on: (p) => p.MetadataTableConfiguration !== undefined || p.MetadataConfiguration !== undefined },
  { type: 'AWS::S3::Bucket', action: /^iam:PassRole$/, feature: 'replication', on: (p) => p.ReplicationConfiguration !== undefined },
  { type: 'AWS::ElastiCache::ReplicationGroup', action: /^firehose:/, feature: 'log delivery to Firehose', on: (p) => JSON.stringify(p.LogDeliveryConfigurations ?? []).includes('kinesis-firehose') },
  { type: 'AWS::ElastiCache::ReplicationGroup', action: /^s3:GetObject$/, feature: 'seeding from an S3 snapshot', on: (p) => p.SnapshotArns !== undefined },
  { type: 'AWS::Logs::LogGroup', action: /^firehose:/, feature: 'Firehose delivery', on: () => false },
  { type: 'AWS::EC2::FlowLog', action: /^s3:/, feature: 'flow logs to S3', on: (p) => p.LogDestinationType === 's3' },
  { type: 'AWS::RDS::DBInstance', action: /^secretsmanager:/, feature: 'RDS-managed master password', on: (p) => p.ManageMasterUserPassword === true || p.ManageMasterUserPassword === 'true' },
  { type: 'AWS::Lambda::Function', action: /^s3:GetObject(Version)?$/, feature: 'code in S3 (Code.S3Bucket)', on: (p) => (p.Code as Record<string, unknown> | undefined)?.S3Bucket !== undefined },
  { type: 'AWS::Lambda::Function', action: /^(elasticfilesystem|s3files):/, feature: 'file systems (FileSystemConfigs)', on: (p) => p.FileSystemConfigs !== undefined },
  { type: 'AWS::Lambda::Function', action: /^lambda:(GetCodeSigningConfig|PutFunctionCodeSigningConfig|DeleteFunctionCodeSigningConfig)$/, feature: 'code signing (CodeSigningConfigArn)', on: (p) => p.CodeSigningConfigArn !== undefined },
  { type: 'AWS::Lambda::Function', action: /^lambda:GetLayerVersion$/, feature: 'layers', on: (p) => p.Layers !== undefined },
  { type: 'AWS::Lambda::Function', action: /^lambda:(PutFunctionScalingConfig|PassCapacityProvider)$/, feature: 'a capacity provider (Lambda Managed Instances)', on: (p) => p.CapacityProviderConfig !== undefined },
  { type: 'AWS::ECR::PullThroughCacheRule', action: /^secretsmanager:GetSecretValue$/, feature: 'upstream credentials (CredentialArn)', on: (p) => p.CredentialArn !== undefined },
  { type: 'AWS::EKS::Cluster', action: /^iam:.*InstanceProfile/, feature: 'EKS Auto Mode', on: (p) => JSON.stringify(p.ComputeConfig ?? {}).includes('"Enabled":true') },
  { type: 'AWS::EC2::VPCEndpoint', action: /^vpce:AllowMultiRegion$/, feature: 'cross-Region endpoints', on: (p) => p.ServiceRegion !== undefined },
  { type: 'AWS::IAM::ManagedPolicy', action: /^iam:(Attach|Detach)GroupPolicy$/, feature: 'attachment to groups', on: (p) => p.Groups !== undefined },
  { type: 'AWS::IAM::ManagedPolicy', action: /^iam:(Attach|Detach)UserPolicy$/, feature: 'attachment to users', on: (p) => p.Users !== undefined },
  { type: 'AWS::IAM::ManagedPolicy', action: /^iam:(Attach|Detach)RolePolicy$/, feature: 'attachment to roles', on: (p) => p.Roles !== undefined },
  { type: 'AWS::IAM::Role', action: /^iam:(Put|Get|Delete)RolePolicy$/, feature: 'inline policies', on: (p) => p.Policies !== undefined },
  { type: 'AWS::IAM::Role', action: /^iam:PutRolePermissionsBoundary$/, feature: 'a permissions boundary', on: (p) => p.PermissionsBoundary !== undefined },
  // Called only when a later template drops the role's boundary: never by the template that sets one, nor by one without it.
  { type: 'AWS::IAM::Role', action: /^iam:DeleteRolePermissionsBoundary$/, feature: 'removing a permissions boundary', on: () => false },
  // Called only when a later template changes the role's trust. A pod-bridge role's trust is fixed by the platform: the namespace
  // deployer is denied UpdateAssumeRolePolicy on it (KeepTheBridgeTrust, constructs/shared-cluster.ts), and a version that
  // changes it lifts that deny in the same release. Every other role's trust change is checked.
  // So is a tenant's kubectl role's (KeepTheKubectlRoleTrust, lib/namespace-kubectl.ts): the namespace kubectl handler alone.
  { type: 'AWS::IAM::Role', action: /^iam:UpdateAssumeRolePolicy$/, feature: 'changing a pod-bridge or kubectl role\'s trust (fixed by the platform)', on: (p) => !isPodBridgeRoleName(p.RoleName) && !isKubectlRoleName(p.RoleName) },
];

/** Whether `roleName` is a tenant's kubectl role (`tessera-<tenant>-namespace-kubectl`, lib/namespace-kubectl.ts). */
function isKubectlRoleName(roleName: unknown): boolean {
  return typeof roleName === 'string' && KUBECTL_ROLE_NAME.test(roleName);
}
const KUBECTL_ROLE_NAME = new RegExp(`^${namespaceKubectlRoleName('.+')}$`);

/** Whether `roleName` is a tenant's pod-bridge role (`tessera-<tenant>-pod-bridge`, constructs/tenant-namespace.ts). */
function isPodBridgeRoleName(roleName: unknown): boolean {
  return typeof roleName === 'string' && POD_BRIDGE_ROLE_NAME.test(roleName);
}
const POD_BRIDGE_ROLE_NAME = new RegExp(`^${tenantRoleName('.+', 'pod-bridge')}$`);

/**
 * Schema entries that are S3 API operation names rather than IAM actions, and the IAM action that
 * authorizes each ("Required permissions for Amazon S3 API operations",
 * https://docs.aws.amazon.com/AmazonS3/latest/API/using-with-s3-policy-actions.html).
 */
export const ACTION_ALIASES: Record<string, string> = {
  's3:PutBucketReplication': 's3:PutReplicationConfiguration',
  's3:DeleteBucketReplication': 's3:PutReplicationConfiguration',
  's3:PutObjectLockConfiguration': 's3:PutBucketObjectLockConfiguration',
  's3:DeleteBucketAnalyticsConfiguration': 's3:PutAnalyticsConfiguration',
  's3:DeleteBucketCors': 's3:PutBucketCORS',
  's3:DeleteBucketMetricsConfiguration': 's3:PutMetricsConfiguration',
  's3:DeleteBucketEncryption': 's3:PutEncryptionConfiguration',
  's3:DeleteBucketLifecycle': 's3:PutLifecycleConfiguration',
};

const TAGGING = /:(CreateTags|DeleteTags|TagResource|UntagResource|AddTagsToResource|RemoveTagsFromResource|ListTagsForResource|Tag[A-Z]\w*|Untag[A-Z]\w*)$/;
const ROLE_ACTIONS = new Set(['iam:passrole', 'iam:getrole', 'iam:listattachedrolepolicies']);
/** Services whose API is global (IAM requests are signed for us-east-1). */
const GLOBAL_SERVICES = new Set(['iam', 'organizations', 'sts', 'cloudfront', 'route53']);

export interface CheckOptions {
  readonly inst: InstantiatedTemplate;
  readonly schemas: ProviderSchemas;
  readonly deployer: Deployer;
  readonly scps: SimulationOrgPolicies[];
  /** Organization id for aws:PrincipalOrgID. */
  readonly organizationId: string;
  /**
   * Calls on the stack itself: what CloudFormation needs for it (ssm:GetParameters for SSM-typed
   * parameters) and what the deployer calls to deploy it (cloudformation:CreateStack…, iam:PassRole
   * of a stack role). `passedTo`: iam:PassedToService; `requestTags`: the stack tags of the call.
   */
  readonly stackLevel?: Array<{ action: string; resource: string; passedTo?: string; requestTags?: Tags; why?: string }>;
  /** Tags of the stack (propagated to every taggable resource): see ./tags.ts. @default none */
  readonly stackTags?: Tags;
}

/**
 * Calls AWS makes for the deployer while a handler runs that the provider schema does not list,
 * each evaluated like a handler permission (label in the check's action).
 */
export interface ModelledCall {
  readonly type: string;
  readonly handlers: readonly HandlerName[];
  readonly actions: readonly string[];
  /** The service that calls on the deployer's behalf (kms:ViaService = `<service>.<region>.amazonaws.com`). */
  readonly viaService: string;
  readonly why: string;
  readonly source: string;
  /** The ARNs (or values naming template resources) the calls act on; empty when the feature is off. */
  targets(res: InstantiatedResource): string[];
}

export const MODELLED_CALLS: readonly ModelledCall[] = [
  {
    type: 'AWS::RDS::DBInstance',
    handlers: ['create', 'update'],
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    viaService: 'secretsmanager',
    why: 'RDS-managed master secret under MasterUserSecret.KmsKeyId',
    source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html',
    targets: (res) => {
      const managed = res.props.ManageMasterUserPassword === true || res.props.ManageMasterUserPassword === 'true';
      const key = (res.props.MasterUserSecret as { KmsKeyId?: unknown } | undefined)?.KmsKeyId;
      return managed && typeof key === 'string' ? [key] : [];
    },
  },
];

/** Every handler permission of every resource of `opts.inst`, evaluated. */
export async function checkHandlerPermissions(opts: CheckOptions): Promise<PermissionCheck[]> {
  const out: PermissionCheck[] = [];
  const { inst } = opts;
  const tagged = taggedResources(opts);
  for (const { action, resource, passedTo, requestTags, why } of opts.stackLevel ?? []) {
    const r = await evaluateOne(opts, action, resource, context(opts, action, { passedTo, tags: requestTagContext(requestTags ?? {}) }));
    out.push({ logicalId: '(stack)', type: 'AWS::CloudFormation::Stack', handler: 'create', action: why ? `${action} (${why})` : action, resource, outcome: r.outcome, detail: r.detail });
  }
  for (const res of Object.values(inst.resources)) {
    const handlerActions: Array<[HandlerName, string[]]> = res.type.startsWith('Custom::')
      ? HANDLERS.map((h) => [h, ['lambda:InvokeFunction']])
      : HANDLERS.map((h) => [h, opts.schemas.permissions(res.type, h)]);
    for (const [handler, actions] of handlerActions) {
      for (const action of actions) out.push(...(await checkAction(opts, tagged, res, handler, action)));
    }
    for (const call of MODELLED_CALLS.filter((m) => m.type === res.type)) {
      const targets = call.targets(res).map((v) => inst.lookup(v)?.arn ?? v);
      for (const handler of call.handlers) {
        for (const action of call.actions) {
          for (const arn of targets) {
            const ctx = context(opts, action, { res, viaService: call.viaService, ...tagContext(tagged, res, handler, action, arn, undefined) });
            const r = await evaluateOne(opts, action, arn, ctx, { res, handler });
            out.push({ logicalId: res.logicalId, type: res.type, handler, action: `${action} (via ${call.viaService}: ${call.why})`, resource: arn, outcome: r.outcome, detail: r.detail });
          }
        }
      }
    }
  }
  return out;
}

/** Template resources that carry tags, by their ARN, with their tags (resources whose ARN is a parent's are not taggable). */
interface Tagged {
  readonly byArn: Map<string, InstantiatedResource>;
  readonly tags: Map<string, Tags>;
}

function taggedResources(opts: CheckOptions): Tagged {
  const byArn = new Map<string, InstantiatedResource>();
  const tags = new Map<string, Tags>();
  for (const r of Object.values(opts.inst.resources)) {
    const t = resourceTags(r, opts.schemas, opts.stackTags ?? {});
    tags.set(r.logicalId, t);
    if (opts.schemas.get(r.type)?.tagging?.taggable) byArn.set(r.arn, r);
  }
  return { byArn, tags };
}

/**
 * Tag context of one request of `res`'s `handler` acting on `arn`: the target's tags when it exists
 * (ResourceTag), the tags the request applies (RequestTag, TagKeys).
 * `request` undefined: a call that applies no tags (a service's call for the deployer).
 */
function tagContext(tagged: Tagged, res: InstantiatedResource, handler: HandlerName, action: string, arn: string, request: { info: ActionInfo; onOwn: boolean } | undefined): { tags: Record<string, string | string[]> } {
  const ctx: Record<string, string | string[]> = {};
  const appliesTags = !!request && request.info.takesRequestTags && request.onOwn && (handler === 'create' || (handler === 'update' && TAGGING.test(action)));
  if (appliesTags) Object.assign(ctx, requestTagContext(tagged.tags.get(res.logicalId) ?? {}));
  const target = tagged.byArn.get(arn);
  const creating = appliesTags && handler === 'create' && target === res && !TAGGING.test(action);
  if (target && !creating) Object.assign(ctx, resourceTagContext(tagged.tags.get(target.logicalId) ?? {}));
  return { tags: ctx };
}

async function checkAction(opts: CheckOptions, tagged: Tagged, res: InstantiatedResource, handler: HandlerName, listed: string): Promise<PermissionCheck[]> {
  const action = ACTION_ALIASES[listed] ?? listed;
  const base = { logicalId: res.logicalId, type: res.type, handler, action: action === listed ? action : `${action} (listed as ${listed})` };
  const info = await actionInfo(action);
  if (!info.exists) return [{ ...base, resource: '', outcome: 'not-an-action', detail: 'not an action of the Service Authorization Reference' }];
  const targets = await targetsOf(opts, res, action);
  if (typeof targets === 'string') return [{ ...base, resource: '', outcome: 'not-exercised', detail: targets }];
  const checks: PermissionCheck[] = [];
  // A policy attachment carries the attached policy's ARN (iam:PolicyARN): one request per policy.
  const attached = ATTACHMENTS.test(action) ? attachedPolicies(res) : [undefined];
  if (attached.length === 0) return [{ ...base, resource: '', outcome: 'not-exercised', detail: 'the resource attaches no managed policy' }];
  // One request: it applies the resource's tags when it acts on the resource itself (or on `*`, for
  // a create action without a resource type, in the resource's own service).
  // So does the create handler's creating call of its own service that IAM authorizes on a parent only (eks:CreatePodIdentityAssociation
  // on the cluster: the request's tags are its aws:RequestTag, Service Authorization Reference).
  const [service, name] = action.split(':');
  const createsOnParent = handler === 'create' && name.startsWith('Create') && TYPES[res.type]?.service === service;
  const onOwn = targets.some((t) => t.arn === res.arn) || (targets.every((t) => t.arn === '*') && TYPES[res.type]?.service === service) || createsOnParent;
  for (const t of targets) {
    for (const policyArn of attached) {
      const ctx = context(opts, action, { res, passedTo: t.passedTo, policyArn, roleBoundary: roleBoundaryOf(opts, info, t.arn), ...tagContext(tagged, res, handler, action, t.arn, { info, onOwn }) });
      const r = await evaluateOne(opts, action, t.arn, ctx, { res, handler });
      checks.push({ ...base, resource: t.arn, outcome: r.outcome, detail: policyArn ? `attaching ${policyArn}: ${r.detail}` : r.detail });
    }
  }
  return checks;
}

const ATTACHMENTS = /^iam:(Attach|Detach)(Role|User|Group)Policy$/i;

/**
 * The permissions boundary of the template's role or user `principalArn`, for an action that takes `iam:PermissionsBoundary`
 * (the Service Authorization Reference lists the key for it, ActionInfo.takesPermissionsBoundary): IAM fills the key with the
 * boundary the principal has, or, for CreateRole and PutRolePermissionsBoundary (CreateUser, PutUserPermissionsBoundary), the one
 * the request sets, which is the template's `PermissionsBoundary`. Undefined when the principal has none.
 */
function roleBoundaryOf(opts: CheckOptions, info: ActionInfo, principalArn: string): string | undefined {
  if (!info.takesPermissionsBoundary) return undefined;
  const role = Object.values(opts.inst.resources).find((r) => (r.type === 'AWS::IAM::Role' || r.type === 'AWS::IAM::User') && r.arn === principalArn);
  const boundary = role?.props.PermissionsBoundary;
  return typeof boundary === 'string' ? boundary : undefined;
}

/** The managed policies an attachment action attaches: a role's ManagedPolicyArns, or a managed policy itself. */
function attachedPolicies(res: InstantiatedResource): string[] {
  if (res.type === 'AWS::IAM::ManagedPolicy') return [res.arn];
  if (res.type === 'AWS::IAM::Role') return ((res.props.ManagedPolicyArns as unknown[] | undefined) ?? []).filter((a): a is string => typeof a === 'string');
  return [];
}

/** The ARNs an action acts on for `res`, or the reason it is not exercised. */
async function targetsOf(opts: CheckOptions, res: InstantiatedResource, action: string): Promise<Array<{ arn: string; passedTo?: string }> | string> {
  const { inst } = opts;
  const [service] = action.split(':');
  const lower = action.toLowerCase();
  const gate = FEATURE_GATED.find((g) => g.type === res.type && g.action.test(action));
  if (gate && !gate.on(res.props)) return `${gate.feature} is off`;
  const info = await actionInfo(action);
  if (info.resourceTypes.length === 0) return [{ arn: '*' }];
  const refs = inst.referencesOf(res.logicalId).map((id) => inst.resources[id]);
  const literalArns = collectStrings(res.props).filter((s) => s.startsWith('arn:') && !inst.lookup(s));
  // EKS sub-resources name their cluster by name (a parameter in namespace blueprints): its ARN is a target too.
  if (typeof res.props.ClusterName === 'string' && !inst.lookup(res.props.ClusterName)) {
    literalArns.push(`arn:${inst.env.partition}:eks:${inst.env.region}:${inst.env.account}:cluster/${res.props.ClusterName}`);
  }
  const special = specialTargets(res, action, refs, info.resourceTypes.map((t) => t.name));
  if (special) return special;

  if (service === 'kms' && TYPES[res.type]?.service !== 'kms') {
    const keys = refs.filter((r) => r.type === 'AWS::KMS::Key').map((r) => ({ arn: r.arn }));
    const external = literalArns.filter((a) => /^arn:[^:]+:kms:/.test(a)).map((arn) => ({ arn }));
    return keys.length + external.length > 0 ? [...keys, ...external] : 'the resource names no KMS key';
  }
  if (ROLE_ACTIONS.has(lower) && res.type !== 'AWS::IAM::Role') {
    const roles = refs.filter((r) => r.type === 'AWS::IAM::Role').map((r) => ({ arn: r.arn, passedTo: trustedServices(r)[0] }));
    // IAM acts on the caller account's roles only: a role of another account (a cross-account target) is never passed or read.
    const external = literalArns.filter((a) => new RegExp(`^arn:[^:]+:iam::${inst.env.account}:role/`).test(a)).map((arn) => ({ arn, passedTo: undefined }));
    return roles.length + external.length > 0 ? [...roles, ...external] : 'the resource passes no role of its account';
  }
  if (lower === 'iam:createservicelinkedrole') {
    const slr = SERVICE_LINKED_ROLES[res.type];
    if (!slr) return 'no service-linked role known for this type';
    return [{ arn: `arn:${inst.env.partition}:iam::${inst.env.account}:role/aws-service-role/${slr.service}/${slr.roleName}`, passedTo: slr.service }];
  }
  const matches = (arn: string) => info.resourceTypes.some((rt) => rt.pattern.test(arn));
  const own = matches(res.arn) ? [{ arn: res.arn }] : [];
  if (TAGGING.test(action) && own.length) return own;
  const related = [...refs.map((r) => r.arn), ...literalArns].filter((arn) => arn !== res.arn && matches(arn)).map((arn) => ({ arn }));
  const all = [...own, ...related];
  if (all.length) return dedupe(all);
  // Nothing of the template is of a type the action takes: an AWS-named resource we cannot know.
  const rt = info.resourceTypes.find((t) => t.required) ?? info.resourceTypes[0];
  return [{ arn: fillArnTemplate(rt.arn, inst.env, `${inst.env.stackName}-unknown`) }];
}

/** Targets the generic matching cannot derive: objects of a bucket, streams of a log group, RDS's managed secret. */
function specialTargets(res: InstantiatedResource, action: string, refs: InstantiatedResource[], resourceTypes: string[]): Array<{ arn: string }> | undefined {
  const [service] = action.split(':');
  if (res.type === 'AWS::S3::Bucket' && service === 's3' && resourceTypes.includes('object') && !resourceTypes.includes('bucket')) return [{ arn: `${res.arn}/*` }];
  if (/^logs:(CreateLogStream|PutLogEvents)$/.test(action)) {
    const groups = refs.filter((r) => r.type === 'AWS::Logs::LogGroup');
    if (groups.length) return groups.map((g) => ({ arn: `${g.arn}:log-stream:preflight` }));
  }
  if (res.type === 'AWS::RDS::DBInstance' && service === 'secretsmanager') {
    const secret = TYPES[res.type].attributes?.['MasterUserSecret.SecretArn']?.(res, { account: res.arn.split(':')[4], region: res.arn.split(':')[3], partition: res.arn.split(':')[1], stackName: '' });
    return [{ arn: String(secret) }];
  }
  return undefined;
}

function dedupe<T extends { arn: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => !seen.has(x.arn) && (seen.add(x.arn), true));
}

/** Properties that hold policy documents: the ARNs in them are principals and grants, not resources the handler acts on. */
export const DOCUMENT_PROPERTIES = /^(AssumeRolePolicyDocument|PolicyDocument|KeyPolicy|Policies|AccessPolicy|BackupVaultAccessPolicy|ResourcePolicy)$/;

function collectStrings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (!DOCUMENT_PROPERTIES.test(k)) collectStrings(x, out);
  return out;
}

interface RequestFacts {
  readonly res?: InstantiatedResource;
  readonly passedTo?: string;
  /** The service that makes a kms call for the deployer, when not the resource's own. */
  readonly viaService?: string;
  /** Tag context keys (tagContext). */
  readonly tags?: Record<string, string | string[]>;
  /** `iam:PolicyARN` of a policy attachment: the managed policy attached or detached. */
  readonly policyArn?: string;
  /** `iam:PermissionsBoundary`: the boundary of the role acted on (the one a CreateRole sets). */
  readonly roleBoundary?: string;
}

function context(opts: CheckOptions, action: string, facts: RequestFacts): Record<string, string | string[]> {
  const { res, passedTo } = facts;
  const { env } = opts.inst;
  const [service] = action.split(':');
  const ctx: Record<string, string | string[]> = {
    'aws:PrincipalArn': opts.deployer.principalArn,
    'aws:PrincipalAccount': env.account,
    'aws:PrincipalOrgID': opts.organizationId,
    'aws:RequestedRegion': GLOBAL_SERVICES.has(service) ? 'us-east-1' : env.region,
    'aws:ViaAWSService': 'false',
  };
  const ownService = res ? (TYPES[res.type]?.service ?? res.type.split('::')[1]?.toLowerCase()) : undefined;
  Object.assign(ctx, facts.tags ?? {});
  if (service === 'kms') {
    ctx['kms:CallerAccount'] = env.account;
    const via = facts.viaService ?? ownService;
    if (via && via !== 'kms') {
      ctx['kms:ViaService'] = `${via}.${env.region}.amazonaws.com`;
      ctx['aws:ViaAWSService'] = 'true';
      if (action.toLowerCase() === 'kms:creategrant') ctx['kms:GrantIsForAWSResource'] = 'true';
    }
  }
  if (action.toLowerCase() === 'iam:passrole') ctx['iam:PassedToService'] = passedTo ?? `${ownService}.amazonaws.com`;
  if (action.toLowerCase() === 'iam:createservicelinkedrole' && passedTo) ctx['iam:AWSServiceName'] = passedTo;
  if (facts.policyArn) ctx['iam:PolicyARN'] = facts.policyArn;
  if (facts.roleBoundary) ctx['iam:PermissionsBoundary'] = facts.roleBoundary;
  if (res?.type === 'AWS::EKS::AccessEntry') Object.assign(ctx, accessEntryContext(res, action));
  return ctx;
}

/**
 * The EKS keys of an access entry's request, from its template properties (Service Authorization Reference, Amazon EKS):
 * CreateAccessEntry and UpdateAccessEntry carry `eks:principalArn` and `eks:accessEntryType` (the type CloudFormation sends,
 * `STANDARD` when the template names none: the AWS::EKS::AccessEntry `Type` default), and `eks:kubernetesGroups` and
 * `eks:username` only when the template sets them; Associate/DisassociateAccessPolicy carry the policy's `eks:policyArn`,
 * `eks:accessScope` and `eks:namespaces`. An entry with several access policies makes one call each, which one check cannot
 * stand for: no policy key is set then (so a policy conditioned on them shows the call denied, for a check of its own).
 */
function accessEntryContext(res: InstantiatedResource, action: string): Record<string, string | string[]> {
  const p = res.props as { PrincipalArn?: unknown; Type?: unknown; KubernetesGroups?: unknown; Username?: unknown; AccessPolicies?: Array<{ PolicyArn?: unknown; AccessScope?: { Type?: unknown; Namespaces?: unknown } }> };
  const ctx: Record<string, string | string[]> = {};
  const name = action.toLowerCase();
  if (name === 'eks:createaccessentry' || name === 'eks:updateaccessentry') {
    if (typeof p.PrincipalArn === 'string') ctx['eks:principalArn'] = p.PrincipalArn;
    ctx['eks:accessEntryType'] = typeof p.Type === 'string' ? p.Type : 'STANDARD';
    if (Array.isArray(p.KubernetesGroups) && p.KubernetesGroups.length) ctx['eks:kubernetesGroups'] = p.KubernetesGroups.map(String);
    if (typeof p.Username === 'string') ctx['eks:username'] = p.Username;
  }
  if ((name === 'eks:associateaccesspolicy' || name === 'eks:disassociateaccesspolicy') && p.AccessPolicies?.length === 1) {
    const [policy] = p.AccessPolicies;
    if (typeof policy.PolicyArn === 'string') ctx['eks:policyArn'] = policy.PolicyArn;
    if (typeof policy.AccessScope?.Type === 'string') ctx['eks:accessScope'] = policy.AccessScope.Type;
    if (Array.isArray(policy.AccessScope?.Namespaces)) ctx['eks:namespaces'] = policy.AccessScope.Namespaces.map(String);
  }
  return ctx;
}

async function evaluateOne(opts: CheckOptions, action: string, resource: string, ctx: Record<string, string | string[]>, during?: { res: InstantiatedResource; handler: HandlerName }): Promise<{ outcome: CheckOutcome; detail: string }> {
  // A bucket's policy is a separate resource: it does not exist yet while the bucket is created,
  // and CloudFormation deletes it before the bucket. A key's policy exists from CreateKey on.
  const bucketOwnLifecycle = during?.res.type === 'AWS::S3::Bucket' && during.handler !== 'update';
  const resourcePolicy = bucketOwnLifecycle ? undefined : resourcePolicyFor(opts.inst, action, resource);
  const r = await evaluate({
    principalArn: opts.deployer.principalArn,
    action,
    resource,
    resourceAccount: opts.inst.env.account,
    context: ctx,
    identityPolicies: opts.deployer.identityPolicies,
    scps: opts.scps,
    resourcePolicy,
    ...(opts.deployer.permissionBoundaries ? { permissionBoundaries: opts.deployer.permissionBoundaries } : {}),
  });
  if (r.allowed) return { outcome: 'allowed', detail: '' };
  const by = r.blockedBy.length ? `blocked by ${r.blockedBy.join('+')}` : r.result;
  return { outcome: 'denied', detail: `${r.result}; ${by}${r.scpDenies.length ? ` (${r.scpDenies.join(', ')})` : ''}${resourcePolicy ? '' : ''}` };
}

/** The key policy of a tenant key for kms actions on it; the bucket policy of a tenant bucket for s3 actions on it. */
export function resourcePolicyFor(inst: InstantiatedTemplate, action: string, resource: string): PolicyJson | undefined {
  const [service] = action.split(':');
  if (service === 'kms') {
    const key = inst.lookup(resource);
    if (key?.type === 'AWS::KMS::Key') return key.props.KeyPolicy as PolicyJson;
  }
  if (service === 's3') {
    const bucketName = /^arn:[^:]+:s3:::([^/]+)/.exec(resource)?.[1];
    const policy = bucketName ? Object.values(inst.resources).find((r) => r.type === 'AWS::S3::BucketPolicy' && r.props.Bucket === bucketName) : undefined;
    if (policy) return policy.props.PolicyDocument as PolicyJson;
  }
  return undefined;
}

/** Counts by outcome. */
export function summarize(checks: PermissionCheck[]): Record<CheckOutcome, number> & { evaluated: number } {
  const counts = { allowed: 0, denied: 0, 'not-exercised': 0, 'not-an-action': 0, evaluated: 0 };
  for (const c of checks) counts[c.outcome]++;
  counts.evaluated = counts.allowed + counts.denied;
  return counts;
}
