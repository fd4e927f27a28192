import { BACKUP_SCHEDULE_MINUTE_PARAMETER, backupScheduleMinute } from '../../lib/backup-schedule-minute.js';
import { CloudFormationClient, DescribeStacksCommand, type Parameter, type Stack } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { type AccountCustomizationsRole, customizationsPolicyArns, ROLE_MANAGED_POLICY_QUOTA } from '../../lib/config/account-customizations.js';
import { blueprintFileName } from '../../lib/config/blueprint-file-names.js';
import { ACCOUNT_BASELINE_FILE_NAME, ACCOUNT_BASELINE_STACK_NAME, ACCOUNT_CUSTOMIZATIONS_POLICIES_PARAMETER, ACCOUNT_CUSTOMIZATIONS_ROLE_NAME, AVAILABILITY_ZONES_PARAMETER, roleArn } from '../../lib/tenant-naming.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, partition, platformConfig, requireEnv, tierConfig } from '../shared/environment.js';
import { ChangeRefusedError } from '../shared/errors.js';
import { logger } from '../shared/handler.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { podBridgeBoundaryOf } from './pod-bridge-boundary.js';
import type { DeployedVersions } from './version-change.js';

/** Where a tenant's blueprints run, what they are called and where their templates are. */

/**
 * `baseline`: the account baseline (`tessera-account-baseline`, one per target account, shared by
 * every tenant in it; holds the blueprint execution role); `tenant`: the tier blueprint;
 * `namespace`: the tenant's namespace on the shared cluster (platform account); `dr`: the DR
 * blueprint of a tier with disaster recovery (DR key, bucket and vault), in the tier's DR region of
 * the tenant's account.
 */
export type BlueprintKind = 'tenant' | 'namespace' | 'baseline' | 'dr';

export function stackName(tenantId: string, kind: BlueprintKind): string {
  if (kind === 'baseline') return ACCOUNT_BASELINE_STACK_NAME;
  if (kind === 'dr') return drStackName(tenantId);
  return kind === 'tenant' ? `tessera-${tenantId}` : `tessera-${tenantId}-namespace`;
}

/** The tenant's DR stack: `<primary stack name>-dr` (`tessera-<id>-dr`), in its DR region. */
export function drStackName(tenantId: string): string {
  return `${stackName(tenantId, 'tenant')}-dr`;
}

/**
 * The region of the tenant's DR stack: its tier's DR region (`tier` defaults to the record's), or,
 * when that tier has none, the region its DR stack was deployed in (recorded; a tenant moved to a
 * tier without DR keeps its DR stack until offboarding). Undefined when it has neither.
 */
export function drRegionFor(record: TenantRecord, tier = record.tier): string | undefined {
  return drRegionOf(tierConfig(tier)) ?? record.disasterRecovery?.region;
}

/**
 * Key of a template in the blueprint catalog, as lib/tessera-app.ts publishes it (blueprintFileName):
 * `blueprints/<version>/<tier>.template.json`, `<tier>-namespace.template.json`, or
 * `account-baseline.template.json` (one per version, for every tier).
 */
export function templateKey(tier: string, kind: BlueprintKind, version = requireEnv(ENV.blueprintVersion)): string {
  if (kind === 'baseline') return `blueprints/${version}/${ACCOUNT_BASELINE_FILE_NAME}`;
  return `blueprints/${version}/${blueprintFileName(tier, kind)}`;
}

export function templateUrl(tier: string, kind: BlueprintKind, version = requireEnv(ENV.blueprintVersion)): string {
  const bucket = requireEnv(ENV.blueprintBucket);
  const region = process.env.AWS_REGION ?? platformConfig().homeRegion;
  return `https://${bucket}.s3.${region}.amazonaws.com/${templateKey(tier, kind, version)}`;
}

/** One blueprint template a change would deploy that the catalog does not hold (unpublishedTemplates). */
export interface UnpublishedTemplate {
  kind: BlueprintKind;
  key: string;
  /** S3's answer: `NotFound`, or `AccessDenied` (S3 answers 403 for a missing key to a caller without s3:ListBucket). */
  error: string;
}

/**
 * The templates a change to `tier` deploys, in the order it deploys them: the account baseline, the DR blueprint of a
 * tier with disaster recovery, the tier blueprint, and the namespace blueprint of shared compute.
 */
export function tierTemplateKinds(tier: string): BlueprintKind[] {
  const target = tierConfig(tier);
  return ['baseline', ...(drRegionOf(target) ? ['dr' as const] : []), 'tenant', ...(target.compute.mode === 'shared' ? ['namespace' as const] : [])];
}

/**
 * The templates of `kinds` for `tier` at `version` that the blueprint catalog does not hold (HeadObject
 * on each key: a 404, or the 403 S3 gives a missing key without s3:ListBucket, when a key that must exist
 * is readable (checkCatalogReadable, else BlueprintCatalogUnreadable); any other error is rethrown). A version is published with the tiers of the config it was synthesized from, so a tier
 * added or renamed since is not published at an older (or a newer, rolled-back) version.
 */
export async function unpublishedTemplates(tier: string, kinds: readonly BlueprintKind[], version: string): Promise<UnpublishedTemplate[]> {
  const s3 = platformClient(S3Client);
  const bucket = requireEnv(ENV.blueprintBucket);
  const missing: UnpublishedTemplate[] = [];
  for (const kind of kinds) {
    const key = templateKey(tier, kind, version);
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (e) {
      const err = e as Error & { $metadata?: { httpStatusCode?: number } };
      const status = err.$metadata?.httpStatusCode;
      if (err.name === 'NotFound' || err.name === 'NoSuchKey' || status === 404) missing.push({ kind, key, error: 'NotFound' });
      else if (err.name === 'AccessDenied' || err.name === 'Forbidden' || status === 403) missing.push({ kind, key, error: 'AccessDenied' });
      else throw e;
    }
  }
  if (missing.some((m) => m.error === 'AccessDenied')) await checkCatalogReadable(s3, bucket);
  return missing;
}

/**
 * S3 answers 403 both for a missing key (the caller has no s3:ListBucket, and needs none) and for a read
 * that is denied (a bucket policy, an SCP, a key policy, a wrong bucket): a 403 means "not published"
 * only when a key that must exist is readable, the account baseline of the platform's own version
 * (published by the deployment that runs this code). When it is not, the catalog cannot be read and
 * nothing can be said of the version: an error naming both answers, never an InvalidRequest that calls
 * the tier unpublished.
 */
async function checkCatalogReadable(s3: S3Client, bucket: string): Promise<void> {
  const key = templateKey('', 'baseline', requireEnv(ENV.blueprintVersion));
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (e) {
    const err = e as Error & { $metadata?: { httpStatusCode?: number } };
    const answer = `${err.name}${err.$metadata?.httpStatusCode ? ` (HTTP ${err.$metadata.httpStatusCode})` : ''}`;
    throw Object.assign(new Error(`the blueprint catalog s3://${bucket}/blueprints/ cannot be read: HeadObject of ${key}, which the platform's own version publishes, `
      + `was answered ${answer} too, so an AccessDenied does not say a template is missing (check the bucket policy, the SCPs and this role's s3:GetObject on blueprints/*)`), { name: 'BlueprintCatalogUnreadable' });
  }
}

/** What Deploy blueprint needs to know of the template it deploys (templateFacts). */
export interface TemplateFacts {
  /** The parameters it declares (its `Parameters`). */
  readonly parameters: string[];
  /** How many zones it places subnets in (zoneCountOf); undefined when it has no subnet placed by zone index. */
  readonly zoneCount?: number;
  /** Logical id → `LogGroupName` of each AWS::Logs::LogGroup that names its log group (as synthesized: retained-log-groups.ts resolves it). */
  readonly logGroupNames: Record<string, unknown>;
  /** The versions its resources fix (versionsOf): the EKS cluster's Kubernetes version, the RDS engine version and allocated storage, the cache's nodes, failover and engine version. */
  readonly versions: DeployedVersions;
  /** A namespace blueprint's: whether its pod-bridge role has a permissions boundary (pod-bridge-boundary.ts); undefined without that role. */
  readonly podBridgeBoundary?: boolean;
}

/**
 * What a blueprint's published template declares, read from the catalog object templateUrl points at,
 * the one the stack operation deploys: its parameters, what may be passed to it (CloudFormation
 * refuses an undeclared parameter: "Parameters: [X] do not exist in the template"; older published
 * versions lack parameters newer ones have), and the number of zones its subnets are in (zoneCountOf:
 * the `maxAzs` it was synthesized with, which today's config may no longer have).
 */
export async function templateFacts(tier: string, kind: BlueprintKind, version = requireEnv(ENV.blueprintVersion)): Promise<TemplateFacts> {
  const key = templateKey(tier, kind, version);
  const out = await platformClient(S3Client).send(new GetObjectCommand({ Bucket: requireEnv(ENV.blueprintBucket), Key: key }));
  const body = await out.Body?.transformToString();
  if (!body) throw new Error(`blueprint catalog object ${key} is empty`);
  const template = JSON.parse(body) as { Parameters?: Record<string, unknown>; Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> };
  const zoneCount = zoneCountOf(template);
  const podBridgeBoundary = podBridgeBoundaryOf(template);
  return {
    parameters: Object.keys(template.Parameters ?? {}), ...(zoneCount !== undefined ? { zoneCount } : {}), versions: versionsOf(template), logGroupNames: logGroupNamesOf(template),
    ...(podBridgeBoundary !== undefined ? { podBridgeBoundary } : {}),
  };
}

/** Logical id → `LogGroupName` (as synthesized) of each AWS::Logs::LogGroup of a template that names its log group. */
export function logGroupNamesOf(template: { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> }): Record<string, unknown> {
  return Object.fromEntries(Object.entries(template.Resources ?? {})
    .filter(([, r]) => r?.Type === 'AWS::Logs::LogGroup' && r.Properties?.LogGroupName !== undefined)
    .map(([id, r]) => [id, r.Properties!.LogGroupName]));
}

/**
 * The versions a tenant template fixes: `Version` of its AWS::EKS::Cluster (a dedicated cluster),
 * `EngineVersion` of its AWS::RDS::DBInstance, when they are plain strings, and the instance's
 * `AllocatedStorage` and `MaxAllocatedStorage` (GiB) when they are plain numbers, and its
 * AWS::ElastiCache::ReplicationGroup's `NumCacheClusters`, `AutomaticFailoverEnabled` and `EngineVersion` when plain (version-change.ts
 * compares them between the template a stack was deployed from and the one deployed next).
 */
export function versionsOf(template: { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> }): DeployedVersions {
  const out: DeployedVersions = {};
  for (const r of Object.values(template.Resources ?? {})) {
    const value = (key: string) => (typeof r?.Properties?.[key] === 'string' ? r.Properties[key] as string : undefined);
    if (r?.Type === 'AWS::EKS::Cluster' && value('Version')) out.kubernetesVersion = value('Version');
    if (r?.Type === 'AWS::RDS::DBInstance' && value('EngineVersion')) out.engineVersion = value('EngineVersion');
    // AllocatedStorage is a string in the schema ("20"); a plain number is read too. Anything else (an intrinsic) is not compared.
    const storage = r?.Type === 'AWS::RDS::DBInstance' ? r.Properties?.AllocatedStorage : undefined;
    if ((typeof storage === 'string' && /^\d+$/.test(storage)) || typeof storage === 'number') out.allocatedStorageGiB = Number(storage);
    // MaxAllocatedStorage is an integer in the schema (storage autoscaling's ceiling); a numeric string is read too.
    const ceiling = r?.Type === 'AWS::RDS::DBInstance' ? r.Properties?.MaxAllocatedStorage : undefined;
    if ((typeof ceiling === 'string' && /^\d+$/.test(ceiling)) || typeof ceiling === 'number') out.maxAllocatedStorageGiB = Number(ceiling);
    // The cache's node count and failover (a plain integer and a plain boolean, as aws-cdk-lib renders them): version-change.ts
    // refuses failover turned on in the update that gives a single-node group its first replica.
    if (r?.Type === 'AWS::ElastiCache::ReplicationGroup') {
      const nodes = r.Properties?.NumCacheClusters;
      if (typeof nodes === 'number' || (typeof nodes === 'string' && /^\d+$/.test(nodes))) out.cacheNodes = Number(nodes);
      const failover = r.Properties?.AutomaticFailoverEnabled;
      if (typeof failover === 'boolean') out.cacheAutomaticFailover = failover;
      else if (failover === 'true' || failover === 'false') out.cacheAutomaticFailover = failover === 'true';
      if (typeof r.Properties?.EngineVersion === 'string') out.cacheEngineVersion = r.Properties.EngineVersion;
    }
  }
  return out;
}

/** The names of the parameters a blueprint's published template declares (templateFacts). */
export async function templateParameters(tier: string, kind: BlueprintKind, version = requireEnv(ENV.blueprintVersion)): Promise<string[]> {
  return (await templateFacts(tier, kind, version)).parameters;
}

/**
 * How many zones a tenant template places its subnets in: its AWS::EC2::Subnet resources take
 * `AvailabilityZone: { Fn::Select: [i, <zone list>] }` (the `AvailabilityZones` parameter, or
 * `Fn::GetAZs` in versions before it; constructs/network.ts zonesOf), so the highest index plus one.
 * Undefined when no subnet is placed so.
 */
export function zoneCountOf(template: { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> }): number | undefined {
  let highest = -1;
  for (const r of Object.values(template.Resources ?? {})) {
    if (r?.Type !== 'AWS::EC2::Subnet') continue;
    const select = (r.Properties?.AvailabilityZone as { 'Fn::Select'?: unknown[] } | undefined)?.['Fn::Select'];
    const i = Array.isArray(select) ? Number(select[0]) : NaN;
    if (Number.isInteger(i) && i >= 0) highest = Math.max(highest, i);
  }
  return highest >= 0 ? highest + 1 : undefined;
}

/**
 * GPU node group sizes passed to a dedicated-compute tenant blueprint (decision 7 of issue 9):
 * `GpuNodesMinSize` and `GpuNodesDesiredSize`, Number parameters whose template defaults are the
 * tier's values. The registry's `gpuCapacity` (written by *Request compute quotas*) holds 0/0 while
 * the account's GPU vCPU quota cannot hold one node.
 */
export function gpuParameters(record: TenantRecord, tier: string): Array<{ ParameterKey: string; ParameterValue: string }> {
  const compute = tierConfig(tier).compute;
  if (compute.mode !== 'dedicated') return [];
  const tierDesired = compute.gpu.desiredSize ?? compute.gpu.minSize;
  const waiting = record.gpuCapacity?.state === 'WAITING_FOR_QUOTA';
  return [
    { ParameterKey: 'GpuNodesMinSize', ParameterValue: String(waiting ? 0 : compute.gpu.minSize) },
    { ParameterKey: 'GpuNodesDesiredSize', ParameterValue: String(waiting ? 0 : tierDesired) },
  ];
}

/** What {@link parameters} builds a blueprint's stack parameters from. */
export interface BlueprintParametersInput {
  /** The tenant's registry record (its id, account, VPC CIDR, GPU capacity). */
  readonly record: TenantRecord;
  /** Which blueprint the stack is. */
  readonly kind: BlueprintKind;
  /** The tier deployed (its GPU node group sizes, tenant blueprint). @default record.tier */
  readonly tier?: string;
  /**
   * Tenant blueprint only: the tenant VPC's zones for the `AvailabilityZones` parameter, given only when the
   * template deployed declares it (*Deploy blueprint* reads the template: an older published version has no such
   * parameter, and CloudFormation refuses a parameter a template does not declare). @default none (no such parameter)
   */
  readonly zones?: readonly string[];
  /**
   * Tenant blueprint only: the parameters the template deployed declares; with `BackupScheduleMinute` (a DR tier's),
   * the tenant's backup minute (lib/backup-schedule-minute.ts backupScheduleMinute), so its Backup rules and restore
   * test start at its own minute past the hour, the same on every deploy. @default []
   */
  readonly declared?: readonly string[];
}

/**
 * The stack parameters (CloudFormation `Parameters`) of a blueprint: none for the baseline, `TenantId` for DR, the
 * tenant blueprint's `TenantId`, `VpcCidr`, `AvailabilityZones`, GPU sizes and `BackupScheduleMinute` (see
 * {@link BlueprintParametersInput}), the namespace blueprint's `TenantId`, `TenantAccountId`, `TenantVpcCidr`.
 */
export function parameters({ record, kind, tier = record.tier, zones, declared = [] }: BlueprintParametersInput): Array<{ ParameterKey: string; ParameterValue: string }> {
  const p = (ParameterKey: string, ParameterValue: string) => ({ ParameterKey, ParameterValue });
  // The baseline takes none: it is the same for every tenant of the account.
  if (kind === 'baseline') return [];
  if (kind === 'dr') return [p('TenantId', record.tenantId)];
  if (kind === 'tenant') {
    const minute = declared.includes(BACKUP_SCHEDULE_MINUTE_PARAMETER) ? [p(BACKUP_SCHEDULE_MINUTE_PARAMETER, String(backupScheduleMinute(record.tenantId)))] : [];
    return [p('TenantId', record.tenantId), p('VpcCidr', record.vpcCidr!), ...(zones ? [p(AVAILABILITY_ZONES_PARAMETER, zones.join(','))] : []), ...gpuParameters(record, tier), ...minute];
  }
  return [p('TenantId', record.tenantId), p('TenantAccountId', record.accountId!), p('TenantVpcCidr', record.vpcCidr!)];
}

/** The namespace blueprint exists only for tiers on the shared cluster. */
export function needsNamespace(tier: string): boolean {
  return tierConfig(tier).compute.mode === 'shared';
}

/**
 * The role CloudFormation assumes for a tenant stack's create, update and delete (`RoleARN`):
 * `arn:<partition>:iam::<account>:role/<config.roles.blueprintExecutionRoleName>`, created by the
 * account baseline. Stack operations then outlive the chained provisioning session (1 h cap).
 */
export function executionRoleArn(accountId: string): string {
  return roleArn(partition(), accountId, platformConfig().roles.blueprintExecutionRoleName);
}

/**
 * The role CloudFormation assumes for an account customization stack (`RoleARN`):
 * `arn:<partition>:iam::<account>:role/tessera-account-customizations`, created by the account baseline when the
 * tenant's tier has `accountCustomizationsRole` (baselineParameters); never the blueprint execution role.
 */
export function customizationsRoleArn(accountId: string): string {
  return roleArn(partition(), accountId, ACCOUNT_CUSTOMIZATIONS_ROLE_NAME);
}

/**
 * The account baseline's parameters for `record`'s account under `tier`: `AccountCustomizationsPolicyArns`, the tier's
 * `accountCustomizationsRole.managedPolicyArns` with `{accountId}` filled in, when the tier has one (an account tier with
 * customizations) and the template at `version` declares it (an older published baseline does not: CloudFormation
 * refuses an undeclared parameter). A tier without customizations whose tenant still has customization stacks (any
 * recorded but DELETED: RETAINED after a tier change, or the config's customizations taken out) keeps the role as it is
 * (`UsePreviousValue`, an update's only: deployBaseline drops it from a create): CloudFormation operates on a stack,
 * its deletion at offboarding included, only as the service role it was made with, and refuses one whose role is gone
 * ("Role … is invalid or cannot be assumed"). None otherwise, so the parameter's empty default leaves (or removes) no role.
 * A tier with a role whose tenant has standing stacks deployed under another tier: that tier's policies too (rolePolicies).
 * @throws ChangeRefusedError when the role would need more than IAM's 10 managed policies (rolePolicies)
 */
export async function baselineParameters(record: TenantRecord, tier: string, version: string): Promise<Parameter[]> {
  const t = tierConfig(tier);
  const role = t.isolation === 'account' && t.accountCustomizations?.length ? t.accountCustomizationsRole : undefined;
  const standing = Object.values(record.customizations ?? {}).filter((c) => c.status !== 'DELETED');
  if ((!role && !standing.length) || !record.accountId) return [];
  if (!(await templateParameters('', 'baseline', version)).includes(ACCOUNT_CUSTOMIZATIONS_POLICIES_PARAMETER)) return [];
  if (!role) return [{ ParameterKey: ACCOUNT_CUSTOMIZATIONS_POLICIES_PARAMETER, UsePreviousValue: true }];
  return [{ ParameterKey: ACCOUNT_CUSTOMIZATIONS_POLICIES_PARAMETER, ParameterValue: rolePolicies(record as TenantRecord & { accountId: string }, tier, role, standing).join(',') }];
}

/**
 * The customizations role's policies for a tenant moving to (or staying on) `tier`, whose role is `role`: the tier's,
 * then those of each other tier a standing customization stack (`standing`: recorded, not DELETED) was deployed under
 * (`customizations.<name>.tier`), without repeats. A stack kept across a move to another account tier with
 * customizations (RETAINED: the new tier does not list it) is deleted at offboarding as this one role, and CloudFormation
 * deletes a stack's resources with its service role's permissions: with the new tier's policies alone the role could
 * lack the ones the old tier granted for what that stack created (its deletion then DELETE_FAILED, and the offboarding
 * stopped at *Delete tenant stacks*). Before, the new tier's policies replaced the old ones. The boundary
 * (`tessera-account-customizations-boundary`) is the same for every tier and bounds the sum as it bounds each.
 * A stack's tier no longer in the config (or without a role) adds nothing: its policies are not known (logged).
 * @throws ChangeRefusedError when the sum exceeds IAM's ROLE_MANAGED_POLICY_QUOTA (10 managed policies per role, the
 * default quota): naming the tiers, the stacks and the count, before the baseline is touched
 */
function rolePolicies(record: TenantRecord & { accountId: string }, tier: string, role: AccountCustomizationsRole, standing: ReadonlyArray<{ stackName: string; tier: string }>): string[] {
  const tiers = platformConfig().tiers as Record<string, { accountCustomizationsRole?: AccountCustomizationsRole } | undefined>;
  const policies = [...customizationsPolicyArns(role, record.accountId)];
  const kept: string[] = [];
  for (const c of standing) {
    if (c.tier === tier) continue;
    const other = tiers[c.tier]?.accountCustomizationsRole;
    if (!other) {
      logger.warn('a customization stack stands from a tier not in the config, or without a customizations role: its policies are not known', { tenantId: record.tenantId, stack: c.stackName, tier: c.tier });
      continue;
    }
    kept.push(`${c.stackName} (tier ${c.tier})`);
    for (const arn of customizationsPolicyArns(other, record.accountId)) if (!policies.includes(arn)) policies.push(arn);
  }
  if (policies.length > ROLE_MANAGED_POLICY_QUOTA) {
    throw new ChangeRefusedError(`tenant ${record.tenantId}'s customizations role would need ${policies.length} managed policies (IAM attaches at most ${ROLE_MANAGED_POLICY_QUOTA} to a role by default): `
      + `tier ${tier}'s accountCustomizationsRole and those of the tiers its customization stacks ${kept.join(', ')} were deployed under, which the role keeps so that offboarding can delete them. `
      + `Nothing was changed; give the tiers fewer (or shared) policies, or keep the tenant on its tier`);
  }
  return policies;
}

/**
 * CloudFormation in the account the blueprint runs in: the tenant's (through its provisioning role)
 * or the platform's; a `dr` blueprint in the tenant's account in its DR region (`drRegion`, default
 * drRegionFor(record)).
 * @throws Error for `dr` when the tenant has no DR region
 */
export async function cloudFormationFor(record: TenantRecord, kind: BlueprintKind, step: string, drRegion?: string): Promise<CloudFormationClient> {
  if (kind === 'namespace') return platformClient(CloudFormationClient);
  const credentials = await tenantAccountCredentials(record.accountId!, record.tenantId, step);
  if (kind !== 'dr') return clientWith(CloudFormationClient, credentials);
  const region = drRegion ?? drRegionFor(record);
  if (!region) throw new Error(`tenant ${record.tenantId} has no DR region: its tier ${record.tier} has disasterRecovery none and no DR stack is recorded`);
  return clientWith(CloudFormationClient, credentials, { region });
}

/**
 * Orders blueprint versions (package.json's `version`) by semver precedence: `1.10.0` > `1.9.2`
 * (numeric parts compared as numbers, others as strings, a missing part is 0), a pre-release before
 * its release (`2.0.0-rc.1` < `2.0.0`; pre-release identifiers numeric before alphanumeric, more of
 * them after fewer), build metadata (`+…`) ignored. Negative when `a` is older than `b`.
 */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const plain = v.split('+')[0];
    const dash = plain.indexOf('-');
    return dash < 0 ? { core: plain.split('.'), pre: undefined } : { core: plain.slice(0, dash).split('.'), pre: plain.slice(dash + 1).split('.') };
  };
  const numeric = (x: string) => /^\d+$/.test(x);
  const part = (x: string, y: string) => (numeric(x) && numeric(y) ? Math.sign(Number(x) - Number(y)) : numeric(x) ? -1 : numeric(y) ? 1 : Math.sign(x < y ? -1 : x > y ? 1 : 0));
  const va = split(a);
  const vb = split(b);
  for (let i = 0; i < Math.max(va.core.length, vb.core.length); i++) {
    const c = part(va.core[i] ?? '0', vb.core[i] ?? '0');
    if (c !== 0) return c;
  }
  if (!va.pre || !vb.pre) return va.pre ? -1 : vb.pre ? 1 : 0;
  for (let i = 0; i < Math.max(va.pre.length, vb.pre.length); i++) {
    if (va.pre[i] === undefined) return -1;
    if (vb.pre[i] === undefined) return 1;
    const c = part(va.pre[i], vb.pre[i]);
    if (c !== 0) return c;
  }
  return 0;
}

export const VERSION_TAG = 'tessera:blueprint-version';

/**
 * The stack `name` as DescribeStacks answers it, or undefined when CloudFormation says it does not exist (its
 * ValidationError "Stack with id … does not exist"). Throws anything else CloudFormation throws.
 */
export async function describeStack(cfn: CloudFormationClient, name: string): Promise<Stack | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    return out.Stacks?.[0];
  } catch (e) {
    if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return undefined;
    throw e;
  }
}
