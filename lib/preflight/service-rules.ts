/**
 * Service preconditions AWS enforces when a resource is created, which moto (the integration
 * tests' fake) does not: each rule has an id, a one-line statement, the AWS documentation it comes
 * from and a check over an instantiated template. A check returns the violations it finds (empty
 * = the rule holds); each violation names the resource and the value.
 */
import { distance } from 'fastest-levenshtein';
import type { PlatformConfig, TierConfig } from '../config/schema.js';
import type { Deployer } from './handler-permissions.js';
import { evaluate, type PolicyJson } from './iam-eval.js';
import { DATABASE_DELETION_PROTECTION_PARAMETER } from '../tenant-naming.js';
import { statementsOf } from '../iam-policy-document.js';
import { instantiate, type InstantiatedResource, type InstantiatedTemplate } from './instantiate.js';
import { regionAvailabilityViolations } from './region-availability.js';
import { BACKUP_RULES } from './backup-rules.js';
import { S3_REPLICATION_RULES } from './s3-replication-rules.js';
import { VERSION_RULES } from './version-rules.js';
import { RDS_WINDOW_RULES } from './rds-window-rules.js';
import { EVENT_SOURCE_RULES } from './event-source-rules.js';
import { NODEGROUP_LAUNCH_TEMPLATE_RULES } from './nodegroup-launch-template-rules.js';
import { ALARM_RULES } from './alarm-rules.js';

export interface RuleContext {
  readonly inst: InstantiatedTemplate;
  readonly tierName: string;
  readonly tier: TierConfig;
  readonly config: PlatformConfig;
  /** The principal that creates the stack's resources (for the key-policy lockout check). */
  readonly deployer?: Deployer;
  /**
   * Stacks deployed before `inst` whose IAM roles and users exist when it is created (the account
   * baseline). @default none
   */
  readonly deployedBefore?: readonly InstantiatedTemplate[];
  /**
   * The tier's other stacks (DR, failover, namespace, baseline), each with the stacks deployed before it,
   * for the rules that check every stack of the tier (`resource-policy-principals-exist`). @default none
   */
  readonly alsoDeployed?: readonly DeployedStack[];
  /**
   * The platform stack (TesseraPlatform with its nested stacks, lib/preflight/blueprints.ts `platform`)
   * instantiated for the platform account and the home Region, for `platform-principals-exist`.
   * @default none (a policy naming a role of the platform account is then a violation: nothing to check it against)
   */
  readonly platform?: InstantiatedTemplate;
  /** File name of `inst`'s blueprint, which the rules naming every stack of the tier prefix its violations with. @default `<tierName>.template.json` */
  readonly blueprint?: string;
}

/** One stack of a tier as deployed: its blueprint's name, its instance, and the stacks deployed before it. */
export interface DeployedStack {
  readonly blueprint: string;
  readonly inst: InstantiatedTemplate;
  readonly deployedBefore: readonly InstantiatedTemplate[];
}

export interface ServiceRule {
  readonly id: string;
  readonly statement: string;
  readonly source: string;
  /**
   * Resource types the rule is about: with none of them in the template the rule is "not
   * applicable" (reported so, not as passed). Undefined: always applicable.
   */
  readonly appliesTo?: readonly string[];
  /**
   * The rule reads the tier's other stacks (`ctx.alsoDeployed`) and the platform stack (`ctx.platform`) too: it is
   * applicable when any of them has a resource of `appliesTo` (an SQS event source of the platform's is checked for
   * every tier, whose own blueprint has none).
   * @default false (applicable by the tier blueprint's resources alone)
   */
  readonly readsEveryStack?: boolean;
  check(ctx: RuleContext): string[] | Promise<string[]>;
}

/** AWS commercial Regions (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html, read 2026-11). */
const COMMERCIAL_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'ca-west-1', 'mx-central-1', 'sa-east-1',
  'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2',
  'af-south-1', 'il-central-1', 'me-south-1', 'me-central-1',
  'ap-east-1', 'ap-south-1', 'ap-south-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7',
] as const;

/**
 * PostgreSQL major versions RDS sells, per Region Tessera allows (a small sourced catalog; the rule
 * compares the config against it). Read 2026-11 from the RDS for PostgreSQL release calendar.
 */
export const RDS_POSTGRES_MAJORS: { source: string; read: string; regions: Record<string, readonly string[]> } = {
  source: 'https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html',
  read: '2026-11 (16 and 17 in every commercial Region; 13-15 past or near end of standard support)',
  regions: Object.fromEntries(COMMERCIAL_REGIONS.map((r) => [r, ['16', '17']])),
};

/** Add-ons EKS installs itself on a new cluster as self-managed (so a managed add-on of the same name conflicts). */
const PREINSTALLED_ADDONS = new Set(['vpc-cni', 'kube-proxy', 'coredns']);

const of = (inst: InstantiatedTemplate, type: string) => Object.values(inst.resources).filter((r) => r.type === type);
const authType = (user: InstantiatedResource) => ((user.props.AuthenticationMode as { Type?: string } | undefined)?.Type ?? (user.props.NoPasswordRequired === true || user.props.NoPasswordRequired === 'true' ? 'no-password-required' : user.props.Passwords ? 'password' : 'no-password-required'));
const usersOf = (inst: InstantiatedTemplate, group: InstantiatedResource) => ((group.props.UserIds as string[] | undefined) ?? []).map((id) => ({ id, user: of(inst, 'AWS::ElastiCache::User').find((u) => u.physicalId === id || u.props.UserId === id) }));

/**
 * Resource types whose policy's AWS principals the service resolves when the policy is set (a role
 * or user that does not exist yet is refused: "Invalid principal in policy" and the like), the
 * property that holds the policy, and where that is said. KMS: the API reference; the others: the
 * service's own error quoted in public reports (no API reference says it). Not included, for want of
 * any report of the check: Lambda AddPermission, Backup PutBackupVaultAccessPolicy, EventBridge
 * PutPermission (Tessera's own are service principals or "*" today).
 */
export const PRINCIPAL_VALIDATING_POLICIES: Readonly<Record<string, { readonly property: string; readonly source: string }>> = {
  'AWS::IAM::Role': { property: 'AssumeRolePolicyDocument', source: 'https://github.com/aws-samples/aws-secure-environment-accelerator/issues/1136 ("CloudFormation validates the principals in the trust policy when creating the role and, because the role doesn\'t exist, fails with an \'Invalid principal in policy\'"); https://github.com/hashicorp/terraform-provider-aws/issues/8905' },
  'AWS::S3::BucketPolicy': { property: 'PolicyDocument', source: 'https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error ("If the Principal is an IAM user or role, then confirm that the user or role wasn\'t deleted")' },
  'AWS::KMS::Key': { property: 'KeyPolicy', source: 'https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html' },
  'AWS::SecretsManager::ResourcePolicy': { property: 'ResourcePolicy', source: 'https://github.com/hashicorp/terraform-provider-aws/issues/14449; https://github.com/boto/boto3/issues/3206 (MalformedPolicyDocumentException for a role just created)' },
  'AWS::SNS::TopicPolicy': { property: 'PolicyDocument', source: 'https://github.com/hashicorp/terraform/issues/14179 ("When specifying an IAM principal in a resource policy, AWS checks that the principal exists. If it doesn\'t, the API returns a PrincipalNotFound error")' },
  'AWS::SNS::TopicInlinePolicy': { property: 'PolicyDocument', source: 'https://github.com/hashicorp/terraform/issues/14179' },
  'AWS::SQS::QueuePolicy': { property: 'PolicyDocument', source: 'https://github.com/aws/aws-cdk/issues/13530 (InvalidAttributeValue once the user ARN named no user); https://github.com/aws/aws-sdk/issues/414 ("Unable to verify principal")' },
  'AWS::SQS::QueueInlinePolicy': { property: 'PolicyDocument', source: 'https://github.com/aws/aws-cdk/issues/13530' },
  'AWS::ECR::Repository': { property: 'RepositoryPolicyText', source: 'https://github.com/hashicorp/terraform-provider-aws/issues/39064 (SetRepositoryPolicy with a newly created role: "Invalid parameter at \'PolicyText\' failed to satisfy constraint: \'Principal not found\'")' },
};

/** The rule's source line: KMS's API reference, and where the other types' sources are (printed in full, they would fill a screen). */
const PRINCIPAL_EXISTS_SOURCES = 'https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html; https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error; IAM, Secrets Manager, SNS, SQS, ECR: the service errors quoted per type in PRINCIPAL_VALIDATING_POLICIES (lib/preflight/service-rules.ts)';

export const SERVICE_RULES: readonly ServiceRule[] = [
  {
    id: 'elasticache-valkey-user-group-auth',
    statement: 'A user group of engine valkey may hold only users that authenticate with a password or IAM.',
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html',
    appliesTo: ['AWS::ElastiCache::UserGroup'],
    check: ({ inst }) => of(inst, 'AWS::ElastiCache::UserGroup').filter((g) => String(g.props.Engine).toLowerCase() === 'valkey').flatMap((g) =>
      usersOf(inst, g).filter(({ user }) => user && !['password', 'iam'].includes(authType(user))).map(({ id, user }) => `${g.logicalId} (engine valkey) holds ${id} (${user!.logicalId}) with authentication ${authType(user!)}`)),
  },
  {
    id: 'elasticache-valkey-user-auth',
    statement: 'A user of engine valkey authenticates with a password or IAM: Valkey has no no-password authentication, whatever group the user is in.',
    source: 'https://github.com/aws/aws-cdk/blob/main/packages/@aws-cdk/aws-elasticache-alpha/lib/no-password-user.ts (NoPasswordUser: "Engine \'valkey\' does not support no-password authentication"); https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html',
    appliesTo: ['AWS::ElastiCache::User'],
    check: ({ inst }) => of(inst, 'AWS::ElastiCache::User').filter((u) => String(u.props.Engine).toLowerCase() === 'valkey' && !['password', 'iam'].includes(authType(u)))
      .map((u) => `${u.logicalId} (${String(u.props.UserId)}, user name ${String(u.props.UserName)}) has engine valkey with authentication ${authType(u)}`),
  },
  {
    id: 'elasticache-user-group-default-user',
    statement: 'A user group must include a user whose user name is "default".',
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html',
    appliesTo: ['AWS::ElastiCache::UserGroup'],
    check: ({ inst }) => of(inst, 'AWS::ElastiCache::UserGroup').filter((g) => !usersOf(inst, g).some(({ user }) => user?.props.UserName === 'default')).map((g) => `${g.logicalId} has no user named "default" (users: ${usersOf(inst, g).map((u) => u.id).join(', ')})`),
  },
  {
    id: 'elasticache-iam-user-name-equals-id',
    statement: 'An IAM-authenticated ElastiCache user must have user name equal to user id.',
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html',
    appliesTo: ['AWS::ElastiCache::User'],
    check: ({ inst }) => of(inst, 'AWS::ElastiCache::User').filter((u) => authType(u) === 'iam' && u.props.UserName !== u.props.UserId).map((u) => `${u.logicalId}: UserName "${String(u.props.UserName)}" ≠ UserId "${String(u.props.UserId)}"`),
  },
  {
    id: 'elasticache-rbac-needs-tls',
    statement: 'A replication group with RBAC user groups must have in-transit encryption on.',
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html',
    appliesTo: ['AWS::ElastiCache::ReplicationGroup'],
    check: ({ inst }) => of(inst, 'AWS::ElastiCache::ReplicationGroup').filter((rg) => Array.isArray(rg.props.UserGroupIds) && rg.props.UserGroupIds.length > 0 && rg.props.TransitEncryptionEnabled !== true && rg.props.TransitEncryptionEnabled !== 'true').map((rg) => `${rg.logicalId} sets UserGroupIds without TransitEncryptionEnabled`),
  },
  {
    id: 'rds-postgres-major-sold-in-region',
    statement: 'The tier\'s PostgreSQL major version is sold by RDS in every allowed Region.',
    source: RDS_POSTGRES_MAJORS.source,
    appliesTo: ['AWS::RDS::DBInstance'],
    check: ({ inst, tier, config, tierName }) => {
      const out: string[] = [];
      for (const region of config.allowedRegions) {
        const sold = RDS_POSTGRES_MAJORS.regions[region];
        if (!sold) out.push(`allowedRegions has ${region}, which the catalog of PostgreSQL versions per Region does not list (RDS_POSTGRES_MAJORS in lib/preflight/service-rules.ts; check with aws rds describe-db-engine-versions --engine postgres --region ${region})`);
        else if (!sold.includes(tier.database.engineMajorVersion)) out.push(`tiers.${tierName}.database.engineMajorVersion ${tier.database.engineMajorVersion} is not sold in ${region} (sold: ${sold.join(', ')})`);
      }
      for (const db of of(inst, 'AWS::RDS::DBInstance')) {
        const v = String(db.props.EngineVersion ?? '');
        if (v && v.split('.')[0] !== tier.database.engineMajorVersion) out.push(`${db.logicalId} EngineVersion ${v} differs from the config's major ${tier.database.engineMajorVersion}`);
      }
      return out;
    },
  },
  {
    id: 'offered-in-region',
    statement: 'Every resource type, DB instance class, cache node type and EKS node group instance type of the tier\'s stacks exists in the Region each stack is deployed in (the tier, namespace and baseline stacks in homeRegion; the DR and failover stacks in the tier\'s disasterRecovery.region), and so does each SageMaker endpoint instance type of the tier\'s fine-tuned models (training.endpointInstanceTypes, with training enabled) in the tier blueprint\'s Region.',
    source: 'cfn-lint\'s Region data (rules E3006 and E3025; https://github.com/aws-cloudformation/cfn-lint), lib/preflight/region-offerings.ts',
    check: ({ inst, tierName, tier, config, alsoDeployed, blueprint }) =>
      regionAvailabilityViolations([{ blueprint: blueprint ?? `${tierName}.template.json`, inst }, ...(alsoDeployed ?? [])], tierName, tier, config),
  },
  {
    id: 'eks-addon-resolve-conflicts',
    statement: 'An EKS add-on on a new cluster sets ResolveConflicts; vpc-cni, kube-proxy and coredns are pre-installed self-managed, so with configuration values they need OVERWRITE.',
    source: 'https://docs.aws.amazon.com/eks/latest/userguide/creating-an-add-on.html',
    appliesTo: ['AWS::EKS::Addon'],
    check: ({ inst }) => of(inst, 'AWS::EKS::Addon').flatMap((a) => {
      const name = String(a.props.AddonName);
      const resolve = a.props.ResolveConflicts;
      if (resolve === undefined) return [`${a.logicalId} (${name}) sets no ResolveConflicts`];
      if (PREINSTALLED_ADDONS.has(name) && a.props.ConfigurationValues !== undefined && resolve !== 'OVERWRITE') return [`${a.logicalId} (${name}) has configuration values but ResolveConflicts ${String(resolve)}, not OVERWRITE`];
      return [];
    }),
  },
  {
    id: 'kms-key-policy-lockout',
    statement: 'The key policy lets the principal that creates the key call kms:PutKeyPolicy (KMS\'s policy lockout safety check).',
    source: 'https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html',
    appliesTo: ['AWS::KMS::Key'],
    check: async ({ inst, deployer }) => {
      if (!deployer) return ['no deployer principal to check (account baseline missing)'];
      const out: string[] = [];
      for (const key of of(inst, 'AWS::KMS::Key')) {
        const r = await evaluate({
          principalArn: deployer.principalArn, action: 'kms:PutKeyPolicy', resource: key.arn, resourceAccount: inst.env.account,
          context: { 'aws:PrincipalArn': deployer.principalArn, 'aws:PrincipalAccount': inst.env.account, 'aws:RequestedRegion': inst.env.region, 'kms:CallerAccount': inst.env.account, 'aws:ViaAWSService': 'false' },
          identityPolicies: deployer.identityPolicies, scps: [], resourcePolicy: key.props.KeyPolicy as PolicyJson,
        });
        if (!r.allowed) out.push(`${key.logicalId}: ${deployer.principalArn} may not kms:PutKeyPolicy under the key policy (${r.result})`);
      }
      return out;
    },
  },
  {
    id: 'resource-policy-principals-exist',
    statement: 'Every IAM role or user a resource policy names (a role\'s trust policy, a bucket, queue or topic policy, a key policy, a secret\'s or repository\'s policy) exists when the policy is set: a resource of the same stack the policy\'s resource depends on (DependsOn, Ref or GetAtt, transitively), or a role of a stack deployed before it (the account baseline\'s, the provisioning role, for the DR failover the home stack\'s, for a stack in the platform account the platform stack\'s). Account roots are taken to exist; principals of another account are not checked here (the platform account\'s: platform-principals-exist).',
    source: PRINCIPAL_EXISTS_SOURCES,
    appliesTo: Object.keys(PRINCIPAL_VALIDATING_POLICIES),
    check: ({ inst, config, deployedBefore, alsoDeployed }) => [
      ...principalsNotYetCreated(inst, knownPrincipals(inst, config, deployedBefore ?? [])),
      ...(alsoDeployed ?? []).flatMap((d) => principalsNotYetCreated(d.inst, knownPrincipals(d.inst, config, d.deployedBefore)).map((v) => `${d.blueprint}: ${v}`)),
    ],
  },
  {
    id: 'platform-principals-exist',
    statement: 'Every IAM role or user of the platform account that a policy of a tenant-side stack names (the tier, DR, failover and account baseline stacks, in the tenant\'s account; the policies of resource-policy-principals-exist, whose services refuse a principal that does not exist in any account) is one the platform stack (TesseraPlatform and its nested stacks) creates with exactly that ARN: a role whose RoleName (a user whose UserName) is set; a name CloudFormation generates cannot be known to another stack\'s template, so naming such a role is a violation too. Stacks in the platform account itself (the namespace stacks) count the platform stack\'s roles as deployed before them under resource-policy-principals-exist. Principals of accounts that are neither the tenant\'s nor the platform\'s (an external IdP\'s), account roots, service principals and "*" are not checked.',
    source: PRINCIPAL_EXISTS_SOURCES,
    appliesTo: Object.keys(PRINCIPAL_VALIDATING_POLICIES),
    check: ({ inst, config, platform, alsoDeployed, tierName, blueprint }) => [
      ...platformPrincipalsNotCreated(inst, config.platformAccountId, platform).map((v) => `${blueprint ?? `${tierName}.template.json`}: ${v}`),
      ...(alsoDeployed ?? []).flatMap((d) => platformPrincipalsNotCreated(d.inst, config.platformAccountId, platform).map((v) => `${d.blueprint}: ${v}`)),
    ],
  },
  {
    id: 'platform-principal-conditions-match',
    statement: 'Every aws:PrincipalArn value in a Condition of any policy of the tier\'s stacks (tier, DR, failover, account baseline, namespace) and of the platform stack (TesseraPlatform), under a string or ARN operator (StringEquals, StringLike, ArnEquals, ArnLike, their Not, IgnoreCase, IfExists and ForAnyValue/ForAllValues forms), that is an ARN of a role or user of the platform account matches one the platform account has: a role or user that TesseraPlatform or the tier\'s namespace stack creates with its name set (RoleName/UserName; a role of the policy\'s own stack also by its generated name), or an Identity Center role pattern the config declares (roles.tenantAdminRoleNamePatterns, verbatim). Exact match for StringEquals (case-insensitive for IgnoreCase); `*` and `?` for StringLike, and for the ARN operators in each colon-separated part. AWS does not resolve condition values at create: a misspelled or renamed role deploys and then never matches (the router, the fine-tuning functions or break-glass refused at run time). An assumed-role ARN (arn:…:sts::…:assumed-role/…) is a violation whatever its role: a role session\'s aws:PrincipalArn is the role\'s ARN. Values of other accounts, of an account wildcard (arn:…:iam::*:…) and account roots are not checked.',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html',
    check: ({ inst, config, platform, alsoDeployed, tierName, blueprint }) => {
      const stacks = [{ label: blueprint ?? `${tierName}.template.json`, inst }, ...(alsoDeployed ?? []).map((d) => ({ label: d.blueprint, inst: d.inst })), ...(platform ? [{ label: 'TesseraPlatform', inst: platform }] : [])];
      const platformStacks = stacks.map((s) => s.inst).filter((i) => i.env.account === config.platformAccountId);
      return stacks.flatMap((s) => platformPrincipalConditionsUnmatched(s.inst, config.platformAccountId, platformStacks, config.roles.tenantAdminRoleNamePatterns).map((v) => `${s.label}: ${v}`));
    },
  },
  {
    id: 'kms-log-group-admitted',
    statement: 'Every KMS-encrypted log group\'s ARN is admitted by the key policy\'s statement for the CloudWatch Logs service principal.',
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html',
    appliesTo: ['AWS::Logs::LogGroup'],
    check: ({ inst }) => of(inst, 'AWS::Logs::LogGroup').filter((g) => g.props.KmsKeyId !== undefined).flatMap((g) => {
      const key = inst.lookup(g.props.KmsKeyId);
      if (!key) return [`${g.logicalId} is encrypted with a key outside the template (${String(g.props.KmsKeyId)}): not checked`];
      const logsPrincipal = `logs.${inst.env.region}.amazonaws.com`;
      const statements = statementsOf<Statement>(key.props.KeyPolicy).filter((s) => s.Effect === 'Allow' && [((s.Principal ?? {}) as { Service?: unknown }).Service].flat().includes(logsPrincipal)
        && [s.Action].flat().some((a) => typeof a === 'string' && globMatch(a, 'kms:GenerateDataKey')));
      const arn = g.arn;
      const admitted = statements.some((s) => {
        const conds = Object.values((s.Condition ?? {}) as Record<string, Record<string, unknown>>).map((c) => c['kms:EncryptionContext:aws:logs:arn']).filter((v) => v !== undefined);
        return conds.length === 0 || conds.every((v) => [v].flat().some((p) => typeof p === 'string' && globMatch(p, arn)));
      });
      return admitted ? [] : [`${g.logicalId} (${arn}) is not admitted by ${key.logicalId}'s statement for ${logsPrincipal}`];
    }),
  },
  {
    id: 'eks-gpu-nodegroup-nvidia-ami',
    statement: 'A node group of GPU instance types sets an NVIDIA AMI type explicitly (the default for GPU types is the end-of-life AL2 GPU AMI).',
    source: 'https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html',
    appliesTo: ['AWS::EKS::Nodegroup'],
    check: ({ inst }) => of(inst, 'AWS::EKS::Nodegroup').filter((n) => ((n.props.InstanceTypes as string[] | undefined) ?? []).some((t) => /^(g|p)\d/.test(t)) && !/NVIDIA/.test(String(n.props.AmiType ?? ''))).map((n) => `${n.logicalId} runs ${(n.props.InstanceTypes as string[]).join(', ')} with AmiType ${String(n.props.AmiType ?? '(default)')}`),
  },
  {
    id: 'rds-enhanced-monitoring-role',
    statement: 'A DB instance with MonitoringInterval > 0 names a MonitoringRoleArn.',
    source: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html',
    appliesTo: ['AWS::RDS::DBInstance'],
    check: ({ inst }) => of(inst, 'AWS::RDS::DBInstance').filter((d) => Number(d.props.MonitoringInterval ?? 0) > 0 && !d.props.MonitoringRoleArn).map((d) => `${d.logicalId} sets MonitoringInterval ${String(d.props.MonitoringInterval)} without MonitoringRoleArn`),
  },
  {
    id: 'rds-create-rolls-back',
    statement: 'A DB instance is created without deletion protection (RDS refuses to delete a protected instance, so a failed create could not roll it back and the stack would end ROLLBACK_FAILED); the blueprint turns it on by a parameter the onboarding sets once the create has succeeded.',
    source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html#USER_DeletionProtection',
    appliesTo: ['AWS::RDS::DBInstance'],
    check: ({ inst }) => {
      const param = DATABASE_DELETION_PROTECTION_PARAMETER;
      const created = inst.template.Parameters?.[param] ? instantiate(inst.template, { ...inst.instance, parameters: { ...inst.instance.parameters, [param]: 'false' } }) : inst;
      return of(created, 'AWS::RDS::DBInstance').filter((db) => db.props.DeletionProtection === true || db.props.DeletionProtection === 'true')
        .map((db) => `${db.logicalId} is created with DeletionProtection on${inst.template.Parameters?.[param] ? '' : ` (no ${param} parameter to create it unprotected)`}`);
    },
  },
  {
    id: 'elasticache-failover-needs-replica',
    statement: 'A replication group with automatic failover or Multi-AZ has at least one replica.',
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html',
    appliesTo: ['AWS::ElastiCache::ReplicationGroup'],
    check: ({ inst }) => of(inst, 'AWS::ElastiCache::ReplicationGroup').filter((rg) => {
      const failover = rg.props.AutomaticFailoverEnabled === true || rg.props.MultiAZEnabled === true;
      const replicas = rg.props.NumCacheClusters !== undefined ? Number(rg.props.NumCacheClusters) - 1 : Number(rg.props.ReplicasPerNodeGroup ?? 0);
      return failover && replicas < 1;
    }).map((rg) => `${rg.logicalId} enables failover/Multi-AZ with no replica`),
  },
  // AWS Backup plans and restore tests (lib/preflight/backup-rules.ts), S3 replication (lib/preflight/s3-replication-rules.ts),
  // versions that must agree within a stack (lib/preflight/version-rules.ts), RDS windows (lib/preflight/rds-window-rules.ts),
  // SQS event sources and dead-letter queues (lib/preflight/event-source-rules.ts), node groups with launch templates
  // (lib/preflight/nodegroup-launch-template-rules.ts), alarm ranges (lib/preflight/alarm-rules.ts).
  ...BACKUP_RULES,
  ...S3_REPLICATION_RULES,
  ...VERSION_RULES,
  ...RDS_WINDOW_RULES,
  ...EVENT_SOURCE_RULES,
  ...NODEGROUP_LAUNCH_TEMPLATE_RULES,
  ...ALARM_RULES,
];

type Statement = { Effect?: string; Principal?: unknown; Action?: unknown; Condition?: unknown };

/** The `Principal.AWS` strings of a policy (an object, or a JSON string as ECR's RepositoryPolicyText may be). */
function principalArns(policy: unknown): string[] {
  if (typeof policy === 'string') {
    try {
      policy = JSON.parse(policy);
    } catch {
      return [];
    }
  }
  return statementsOf<Statement>(policy).flatMap((s) => [((s.Principal ?? {}) as { AWS?: unknown }).AWS].flat()).filter((p): p is string => typeof p === 'string');
}

/** IAM-style glob (`*`, `?`), case-sensitive. */
function globMatch(pattern: string, value: string): boolean {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(value);
}


/**
 * Principal ARNs that exist before `inst` is created: the provisioning role (Organizations creates it
 * in a vended account; the workload account has it too: lib/preflight/run.ts checkBaseline) and every
 * IAM role and user of the stacks deployed before it, in the stack's account.
 */
function knownPrincipals(inst: InstantiatedTemplate, config: PlatformConfig, deployedBefore: readonly InstantiatedTemplate[]): Set<string> {
  const { partition, account } = inst.env;
  return new Set([
    `arn:${partition}:iam::${account}:role/${config.roles.provisioningRoleName}`,
    ...deployedBefore.flatMap((d) => Object.values(d.resources).filter((r) => r.type === 'AWS::IAM::Role' || r.type === 'AWS::IAM::User').map((r) => r.arn)),
  ]);
}

/**
 * Logical ids `logicalId` depends on, directly or transitively: DependsOn, and every Ref, Fn::GetAtt and
 * Fn::Sub reference anywhere in its properties, policies included (CloudFormation orders by those too;
 * `referencesOf` leaves out policy documents, whose ARNs are not handler targets).
 */
function createdBefore(inst: InstantiatedTemplate, logicalId: string): Set<string> {
  const seen = new Set<string>();
  const refs = (id: string) => {
    const raw = JSON.stringify(inst.template.Resources[id]?.Properties ?? {});
    const found = [
      ...[...raw.matchAll(/"(?:Ref|Fn::GetAtt)":\s*(?:\[\s*)?"([A-Za-z0-9]+)/g)].map((m) => m[1]),
      ...[...raw.matchAll(/"Fn::Sub":\s*(?:\[\s*)?"((?:[^"\\]|\\.)*)"/g)].flatMap((m) => [...m[1].matchAll(/\$\{([A-Za-z0-9]+)[^}]*\}/g)].map((x) => x[1])),
    ];
    return found.filter((x) => x !== id && inst.resources[x]);
  };
  const next = (id: string) => [...(inst.resources[id]?.dependsOn ?? []), ...refs(id)];
  const todo = next(logicalId);
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    todo.push(...next(id));
  }
  return seen;
}

/**
 * Violations of `resource-policy-principals-exist` in one instantiated stack: each AWS principal of a
 * policy of {@link PRINCIPAL_VALIDATING_POLICIES} that is a role or user of the stack the policy's
 * resource does not depend on (itself included: a role cannot trust its own ARN at create), or a role or
 * user of the stack's account neither the stack creates nor `known` holds. Skipped: `*`, account roots and
 * bare account ids, principals of another account, values that are not IAM ARNs (service principals are
 * under `Service`, not read).
 * @returns one line per violation naming the resource, the principal and the fix
 */
export function principalsNotYetCreated(inst: InstantiatedTemplate, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const r of Object.values(inst.resources)) {
    const kind = PRINCIPAL_VALIDATING_POLICIES[r.type];
    if (!kind) continue;
    let before: Set<string> | undefined;
    for (const arn of new Set(principalArns(r.props[kind.property]))) {
      const m = /^arn:[^:]+:iam::(\d{12}):(role|user)\//.exec(arn);
      if (!m || m[1] !== inst.env.account) continue;
      const target = inst.lookup(arn);
      if (target && (target.type === 'AWS::IAM::Role' || target.type === 'AWS::IAM::User')) {
        before ??= createdBefore(inst, r.logicalId);
        if (target.logicalId === r.logicalId) out.push(`${r.logicalId} (${r.type}) names itself (${arn}) in its ${kind.property}: the role does not exist yet when it is created`);
        else if (!before.has(target.logicalId)) out.push(`${r.logicalId} (${r.type}) names ${arn} (${target.logicalId}) in its ${kind.property} without depending on it: add DependsOn ${target.logicalId} or name it by Fn::GetAtt ${target.logicalId}.Arn`);
      } else if (!known.has(arn)) {
        out.push(`${r.logicalId} (${r.type}) names ${arn} in its ${kind.property}, which neither this stack nor a stack deployed before it creates`);
      }
    }
  }
  return out;
}

/**
 * How far `name` is from `candidate` (case-insensitive Levenshtein `d`), and how much of that is more than their
 * lengths' difference (`beyondLength`): a generated name (TesseraPlatform-BreakGlassRoleC6BA1B81-…) holding the
 * wanted one nearly whole is near it although its plain distance is long.
 */
function closeness(name: string, candidate: string): { d: number; beyondLength: number } {
  const d = distance(name.toLowerCase(), candidate.toLowerCase());
  return { d, beyondLength: d - Math.abs(name.length - candidate.length) };
}

/**
 * Violations of `platform-principals-exist` in one instantiated stack: each role or user ARN of account
 * `platformAccount` that a policy of {@link PRINCIPAL_VALIDATING_POLICIES} names, when the stack is in another
 * account, and `platform` (the platform stack instantiated for that account) has no role or user of exactly
 * that ARN whose name its template sets (RoleName, UserName). A stack in the platform account is left to
 * `resource-policy-principals-exist`; `*`, account roots, bare account ids and other accounts' principals
 * are skipped.
 * @param platform the platform stack's instance; undefined: every such principal is a violation (nothing to check against)
 * @returns one line per violation naming the resource, the policy property, the principal ARN and what the
 *   platform stack has instead (its role of the nearest path and name: {@link closeness})
 */
export function platformPrincipalsNotCreated(inst: InstantiatedTemplate, platformAccount: string, platform: InstantiatedTemplate | undefined): string[] {
  if (inst.env.account === platformAccount) return [];
  const identities = platform ? Object.values(platform.resources).filter((r) => r.type === 'AWS::IAM::Role' || r.type === 'AWS::IAM::User') : [];
  const named = (r: InstantiatedResource) => (r.type === 'AWS::IAM::Role' ? r.props.RoleName : r.props.UserName) !== undefined;
  const out: string[] = [];
  for (const r of Object.values(inst.resources)) {
    const kind = PRINCIPAL_VALIDATING_POLICIES[r.type];
    if (!kind) continue;
    for (const arn of new Set(principalArns(r.props[kind.property]))) {
      const m = /^arn:[^:]+:iam::(\d{12}):(role|user)\/(.+)$/.exec(arn);
      if (!m || m[1] !== platformAccount) continue;
      const names = `${r.logicalId} (${r.type}) names ${arn} in its ${kind.property}`;
      if (!platform) {
        out.push(`${names}, a ${m[2]} of the platform account: no platform stack to check it against`);
        continue;
      }
      const same = identities.find((p) => p.arn === arn);
      if (same && named(same)) continue;
      if (same) {
        out.push(`${names}, which is the platform stack's ${same.logicalId}, whose name CloudFormation generates (no ${m[2] === 'role' ? 'RoleName' : 'UserName'}): another stack cannot know it; set its name in the platform stack`);
        continue;
      }
      out.push(`${names}, which the platform stack (TesseraPlatform) does not create: ${nearestIdentity(m[3], m[2] as 'role' | 'user', identities)}`);
    }
  }
  return out;
}

/** A role's or user's path and name (`role/<path><name>` without `role/`), from its ARN. */
const identityNameOf = (p: InstantiatedResource) => p.arn.replace(/^arn:[^:]+:iam::\d{12}:(role|user)\//, '');

/**
 * "its nearest role is <path/name> (<logicalId>[, a name CloudFormation generates])": the role (user) of `identities` nearest
 * to `name` ({@link closeness}: least beyond the lengths' difference, then least distance), or "it has no roles".
 * @param name path and name after `role/` (`user/`), wildcards kept
 */
function nearestIdentity(name: string, kind: 'role' | 'user', identities: readonly InstantiatedResource[]): string {
  const nearest = identities.filter((p) => p.type === (kind === 'role' ? 'AWS::IAM::Role' : 'AWS::IAM::User'))
    .map((p) => ({ p, ...closeness(name, identityNameOf(p)) })).sort((a, b) => a.beyondLength - b.beyondLength || a.d - b.d)[0]?.p;
  return nearest ? `its nearest ${kind} is ${identityNameOf(nearest)} (${nearest.logicalId}${nearest.nameIsExplicit ? '' : ', a name CloudFormation generates'})` : `it has no ${kind}s`;
}


/**
 * A condition operator of the string or ARN families, parsed: `ForAnyValue:`/`ForAllValues:` and `IfExists` taken off.
 * StringEquals (IgnoreCase) compares whole values exactly; StringLike globs the whole value; ArnEquals and ArnLike are
 * the same, globbing each colon-separated part (IAM User Guide, condition operators). Other operators: undefined.
 */
function principalArnOperator(op: string): { match: 'exact' | 'exact-ignore-case' | 'glob' | 'arn' } | undefined {
  const base = op.replace(/^For(AnyValue|AllValues):/, '').replace(/IfExists$/, '');
  if (/^String(Not)?EqualsIgnoreCase$/.test(base)) return { match: 'exact-ignore-case' };
  if (/^String(Not)?Equals$/.test(base)) return { match: 'exact' };
  if (/^String(Not)?Like$/.test(base)) return { match: 'glob' };
  if (/^Arn(Not)?(Equals|Like)$/.test(base)) return { match: 'arn' };
  return undefined;
}

/** Whether condition value `value` under an operator of `match` matches the ARN `arn` (ARN operators: part by part, the sixth part the rest). */
function conditionMatches(match: 'exact' | 'exact-ignore-case' | 'glob' | 'arn', value: string, arn: string): boolean {
  if (match === 'exact') return value === arn;
  if (match === 'exact-ignore-case') return value.toLowerCase() === arn.toLowerCase();
  if (match === 'glob') return globMatch(value, arn);
  const parts = (s: string) => {
    const p = s.split(':');
    return p.length < 6 ? undefined : [...p.slice(0, 5), p.slice(5).join(':')];
  };
  const v = parts(value);
  const a = parts(arn);
  return !!v && !!a && v.every((x, i) => globMatch(x, a[i]));
}

/** One aws:PrincipalArn condition value of a policy in a resource's properties. */
export interface PrincipalArnCondition {
  /** Where the policy is: the property path from the resource's properties (`AssumeRolePolicyDocument`, `Policies[0].PolicyDocument`). */
  readonly property: string;
  /** The statement's Sid, or `#<index>` (0-based) without one. */
  readonly statement: string;
  /** The operator as written (`ArnEquals`, `ForAnyValue:StringLike`). */
  readonly operator: string;
  readonly value: string;
}

/**
 * Every `aws:PrincipalArn` value (the key case-insensitive, as IAM reads keys) under the Condition of a statement of any
 * policy document anywhere in `props`: an object with `Statement`, or a JSON string of one (ECR's RepositoryPolicyText).
 */
export function principalArnConditions(props: Record<string, unknown>): PrincipalArnCondition[] {
  const out: PrincipalArnCondition[] = [];
  const visit = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      if (!/^\s*\{[\s\S]*"Statement"/.test(v)) return;
      try {
        v = JSON.parse(v);
      } catch {
        return;
      }
    }
    if (Array.isArray(v)) return v.forEach((x, i) => visit(x, `${path}[${i}]`));
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.Statement !== undefined) {
      statementsOf<Statement>(o).forEach((st, i) => {
        const sid = (st as { Sid?: unknown }).Sid;
        for (const [operator, keys] of Object.entries((st.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
          for (const [key, values] of Object.entries(keys ?? {})) {
            if (key.toLowerCase() !== 'aws:principalarn') continue;
            for (const value of [values].flat()) if (typeof value === 'string') out.push({ property: path, statement: typeof sid === 'string' && sid ? sid : `#${i}`, operator, value });
          }
        }
      });
      return;
    }
    for (const [k, x] of Object.entries(o)) visit(x, path ? `${path}.${k}` : k);
  };
  visit(props, '');
  return out;
}

/**
 * Violations of `platform-principal-conditions-match` in one instantiated stack: each aws:PrincipalArn condition value
 * ({@link principalArnConditions}, string and ARN operators) that is a role or user ARN of account `platformAccount`
 * (literally: a wildcard account is not checked) and matches none of: the roles and users of `platformStacks` (the
 * stacks instantiated in the platform account) whose name their template sets, or of `inst` itself if it is one of them
 * (named by Fn::GetAtt); a role pattern of `declaredRolePatterns` (path and name after `role/`, created outside
 * CloudFormation, e.g. by IAM Identity Center) given verbatim. An assumed-role ARN of the platform account is always a
 * violation (aws:PrincipalArn of a role session is the role's ARN: it never matches), naming what its role part matches.
 * Other accounts' values, account roots and non-ARN values are skipped.
 * Source: IAM User Guide, "AWS global condition context keys" (aws:PrincipalArn) and "Condition operators".
 * @returns one line per violation naming the resource, the policy property, the statement (Sid or #index), the
 *   operator, the value and the platform account's nearest role or user
 */
export function platformPrincipalConditionsUnmatched(inst: InstantiatedTemplate, platformAccount: string, platformStacks: readonly InstantiatedTemplate[], declaredRolePatterns: readonly string[] = []): string[] {
  const identities = (i: InstantiatedTemplate) => Object.values(i.resources).filter((r) => r.type === 'AWS::IAM::Role' || r.type === 'AWS::IAM::User');
  const candidates = platformStacks.flatMap((i) => identities(i).filter((r) => r.nameIsExplicit || i === inst));
  const all = platformStacks.flatMap(identities);
  const out: string[] = [];
  for (const r of Object.values(inst.resources)) {
    for (const c of principalArnConditions(r.props)) {
      const op = principalArnOperator(c.operator);
      const m = /^arn:([^:]*):(iam|sts):[^:]*:([^:]*):(role|user|assumed-role)\/(.+)$/.exec(c.value);
      if (!op || !m || m[3] !== platformAccount) continue;
      const where = `${r.logicalId} (${r.type}) ${c.property} statement ${c.statement}: ${c.operator} aws:PrincipalArn ${c.value}`;
      if (m[4] === 'assumed-role') {
        const roleName = m[5].replace(/\/[^/]*$/, '');
        // The assumed-role ARN carries the role's name without its path.
        const hit = candidates.find((p) => p.type === 'AWS::IAM::Role' && globMatch(roleName, identityNameOf(p).replace(/^.*\//, '')));
        out.push(`${where} is an assumed-role (session) ARN, which aws:PrincipalArn never holds (a role session's is its role's ARN, arn:${m[1]}:iam::${platformAccount}:role/<path><name>): ${hit ? `name the role, ${hit.arn} (${hit.logicalId})` : `and the platform account has no role ${roleName}: ${nearestIdentity(roleName, 'role', all)}`}`);
        continue;
      }
      if (m[2] !== 'iam') continue;
      if (candidates.some((p) => conditionMatches(op.match, c.value, p.arn))) continue;
      if (m[4] === 'role' && declaredRolePatterns.includes(m[5])) continue;
      out.push(`${where} matches no ${m[4]} of the platform account (TesseraPlatform, the namespace stack, ${declaredRolePatterns.length ? `roles.tenantAdminRoleNamePatterns` : 'no declared patterns'}): ${nearestIdentity(m[5], m[4] as 'role' | 'user', all)}`);
    }
  }
  return out;
}

export interface RuleResult {
  readonly rule: ServiceRule;
  /** False when the template has no resource of the types the rule is about (`appliesTo`). */
  readonly applicable: boolean;
  readonly violations: string[];
}

/** `pass`, `fail`, or `n/a` (not applicable: nothing of the rule's types in the template; not a failure). */
export function ruleStatus(r: RuleResult): 'pass' | 'fail' | 'n/a' {
  return r.violations.length ? 'fail' : r.applicable ? 'pass' : 'n/a';
}

export async function checkServiceRules(ctx: RuleContext, rules: readonly ServiceRule[] = SERVICE_RULES): Promise<RuleResult[]> {
  const out: RuleResult[] = [];
  for (const rule of rules) {
    const stacks = rule.readsEveryStack ? [ctx.inst, ...(ctx.alsoDeployed ?? []).map((d) => d.inst), ...(ctx.platform ? [ctx.platform] : [])] : [ctx.inst];
    const applicable = !rule.appliesTo || stacks.some((inst) => Object.values(inst.resources).some((r) => rule.appliesTo!.includes(r.type)));
    out.push({ rule, applicable, violations: await rule.check(ctx) });
  }
  return out;
}
