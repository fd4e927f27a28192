/**
 * Names that the blueprint, the lifecycle workflow and the gateway must agree on. They work on
 * plain strings and on CloudFormation tokens alike (CDK concatenates string tokens).
 */

export const TENANT_ID_TAG = 'tessera:tenant-id';

/** The tag AWS Backup puts on every resource a restore test creates (and deletes it by): constructs/tenant-dr-restore-testing.ts. */
export const RESTORE_TEST_TAG = 'awsbackup-restore-test';

export const TIER_TAG = 'tessera:tier';

/**
 * The one rule for tenant ids (zod `TenantId`, the blueprints' `TenantId` parameter, the CLI):
 * 3-24 characters, lower-case letters, digits and single hyphens, a letter first and a letter or
 * digit last; ids the platform reserves (`tenantIdReservation`) are refused on top of it.
 *
 * Every name built from the id must fit, and test/infra/tenant-names.test.ts instantiates them all
 * (every blueprint of every tier, the namespace blueprints, the names the Lambdas build) with the
 * shortest and longest ids against AWS's rules. The binding limit is the ElastiCache RBAC user id
 * `tessera-<id>-default`: at most 40 characters (the ElastiCache console's rule; 8 + 24 + 8), so
 * 24. Next come the AWS Backup vault and plan `tessera-<id>-database` (50: up to 33) and the IAM
 * role `tessera-<id>-training-launcher` (64: up to 38). No two hyphens in a row and no hyphen
 * last: RDS refuses both in the DB instance identifier `tessera-<id>`, ElastiCache in its user ids.
 */
export const TENANT_ID_PATTERN = '^(?!.*--)[a-z][a-z0-9-]{1,22}[a-z0-9]$';

/**
 * The platform-account role the gateway and fine-tuning Lambdas assume, with the session tag
 * `tessera:tenant-id`, to read and write one tenant's items of the pooled tables (registry, usage,
 * fine-tuning jobs) and its own provider secrets (constructs/tenant-data-access-role.ts).
 */
export const TENANT_DATA_ROLE_NAME = 'tessera-tenant-data';

/**
 * The Secrets Manager name of a tenant's own API key for a provider: `tessera/tenants/<tenant>/<provider>`, which the
 * gateway reads (lambdas/inference/secrets.ts), `tessera tenants provider-key` manages (lib/cli/provider-key.ts) and the
 * tenant-data role may read (constructs/tenant-data-access-role.ts, `tessera/tenants/${aws:PrincipalTag}/*`).
 */
export const tenantProviderSecretName = (tenantId: string, provider: string) => `tessera/tenants/${tenantId}/${provider}`;

/** The tenant roles a blueprint names (`tessera-<tenant>-<purpose>`). */
export const TENANT_ROLE_PURPOSES = ['workload', 'admin', 'training', 'training-launcher', 'training-files', 'model-invoker', 'vector-store', 'break-glass', 'pod-bridge'] as const;
export type TenantRolePurpose = (typeof TENANT_ROLE_PURPOSES)[number];

export function tenantRoleName(tenantId: string, purpose: TenantRolePurpose): string {
  return `tessera-${tenantId}-${purpose}`;
}

/**
 * The tenant's S3 vector bucket (`AWS::S3Vectors::VectorBucket`, constructs/tenant-vector-bucket.ts): `tessera-<tenant>-vectors`,
 * 3-63 lower-case letters, digits and hyphens (S3 Vectors CreateVectorBucket's rule; 8 + 24 + 8 = 40 at most). Names are unique
 * per account and Region, and a VPC tier's tenants share the workload account: the tenant id keeps them apart. One index per
 * vector store in it (lambdas/inference/vector-stores/s3-vectors-index.ts vectorIndexName).
 */
export function tenantVectorBucketName(tenantId: string): string {
  return `tessera-${tenantId}-vectors`;
}

/** The tenant's namespace on the shared cluster; also the value of the `kubernetes-namespace` session tag. */
export function tenantNamespace(tenantId: string): string {
  return `tenant-${tenantId}`;
}

export function tenantLogGroupPrefix(tenantId: string): string {
  return `/tessera/${tenantId}`;
}

/** The log group of a dedicated cluster's manifests handler (constructs/cluster-manifests.ts), under the tenant's prefix. */
export function clusterManifestsLogGroupName(tenantId: string): string {
  return `${tenantLogGroupPrefix(tenantId)}/cluster-manifests`;
}

/**
 * Prefix of the tenant's log groups that AWS services write to through vended log delivery (the
 * ElastiCache engine and slow logs): `/aws/vendedlogs/tessera/<id>`. Vended delivery to CloudWatch
 * Logs adds each log group to the account's CloudWatch Logs resource policy, which is limited to
 * 5,120 characters, unless the group's name starts with `/aws/vendedlogs/` (then one wildcard entry
 * covers them all): "When CloudWatch Logs detects that a policy approaches this size limit, it
 * automatically enables log groups that start with /aws/vendedlogs/"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html).
 * With `/tessera/<id>/cache/…` two entries per tenant filled it at about 20-25 VPC tenants of the
 * shared workload account, and the next tenant's cache log delivery failed.
 */
export function tenantVendedLogGroupPrefix(tenantId: string): string {
  return `/aws/vendedlogs${tenantLogGroupPrefix(tenantId)}`;
}

/** The tenant database's instance identifier (fixed, so its log groups can be created under the tenant key first). */
export function databaseInstanceIdentifier(tenantId: string): string {
  return `tessera-${tenantId}`;
}

export function dedicatedClusterName(tenantId: string): string {
  return `tessera-${tenantId}`;
}

export function roleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/**
 * IAM path of the AWS service roles a blueprint creates (EKS cluster and nodes, VPC flow logs, RDS
 * Enhanced Monitoring, AWS Backup). The quarantine SCP admits sessions of roles on this path, so
 * AWS can act for the tenant while its account is still fenced; tenant roles never carry it.
 */
export const SERVICE_ROLE_PATH = '/tessera/service-role/';

/** Stack of the per-account baseline (the blueprint execution role), deployed before any tenant stack of an account. */
export const ACCOUNT_BASELINE_STACK_NAME = 'tessera-account-baseline';

/**
 * The CloudFormation service role of account customization stacks (`tessera-<tenant>-custom-<name>`) in an account
 * tier's tenant account, created by the account baseline when the tier names its permissions
 * (`tiers.<tier>.accountCustomizationsRole`; constructs/account-customizations-role.ts). Apart from the blueprint
 * execution role: customizations may create what the platform team chooses (GuardDuty, Security Hub, Config, SNS,
 * Budgets, the team's IAM roles), never Tessera's own resources (its permissions boundary).
 */
export const ACCOUNT_CUSTOMIZATIONS_ROLE_NAME = 'tessera-account-customizations';

/** The permissions boundary of ACCOUNT_CUSTOMIZATIONS_ROLE_NAME and of every role it creates: `tessera-account-customizations-boundary`. */
export const ACCOUNT_CUSTOMIZATIONS_BOUNDARY_NAME = `${ACCOUNT_CUSTOMIZATIONS_ROLE_NAME}-boundary`;

/**
 * Account baseline parameter (CommaDelimitedList, default empty): the managed policy ARNs of the tenant's tier's
 * `accountCustomizationsRole`, with `{accountId}` filled in; empty (the shared workload account, a tier without
 * customizations): no customizations role.
 */
export const ACCOUNT_CUSTOMIZATIONS_POLICIES_PARAMETER = 'AccountCustomizationsPolicyArns';

/** File name of the account baseline template in the blueprint catalog (`blueprints/<version>/<file>`). */
export const ACCOUNT_BASELINE_FILE_NAME = 'account-baseline.template.json';

/**
 * File name of the workload account's provisioning-role template in the blueprint catalog
 * (`blueprints/<version>/<file>`): the engineer deploys it once, by hand (lib/workload-provisioning-stack.ts).
 */
export const WORKLOAD_PROVISIONING_FILE_NAME = 'workload-provisioning-role.template.json';

/**
 * Tenant blueprint parameter that switches the database's deletion protection (`true` | `false`,
 * default `true`): the onboarding creates the stack with `false` and updates it to `true` once the
 * create has succeeded (see TenantStack).
 */
export const DATABASE_DELETION_PROTECTION_PARAMETER = 'DatabaseDeletionProtection';

/**
 * Tenant ids whose names would be the platform's own: every tenant gets the stack `tessera-<id>`
 * (and the same string as account name, RDS instance and EKS cluster), `tessera-<id>-…` roles,
 * `/tessera/<id>/…` log groups and `alias/tessera/<id>`. An id that makes one of those equal to a
 * platform name, or a leading part of one (`tessera-<id>` before `-…`), is reserved here, with
 * the platform name it protects. test/infra/tenant-names.test.ts derives the list from the
 * synthesized platform, organization and account baseline stacks and fails on a name it misses.
 * Each reason completes the sentence `"<id>" is reserved: …`.
 */
export const RESERVED_TENANT_IDS: Readonly<Record<string, string>> = {
  account: `its stack tessera-account would be the leading part of ${ACCOUNT_BASELINE_STACK_NAME}, the account baseline stack of every tenant account`,
  'account-baseline': `it would name the stack ${ACCOUNT_BASELINE_STACK_NAME}, the account baseline of every tenant account`,
  'account-customizations': `it would name its database tessera-account-customizations and lead its roles and policies tessera-account-customizations-*, the names of ${ACCOUNT_CUSTOMIZATIONS_ROLE_NAME}, the account customizations role of a tenant account, and of its permissions boundary ${ACCOUNT_CUSTOMIZATIONS_BOUNDARY_NAME}`,
  admin: 'it would name the stack tessera-admin, the name of the admin API, and lead the admin API role tessera-admin-api',
  'admin-api': 'it would name the stack tessera-admin-api, the name of the admin API role',
  background: 'its stack tessera-background would be the leading part of tessera-background-responses, the background responses\' work queue',
  'background-responses': 'it would name the stack tessera-background-responses, the name of the background responses\' work queue',
  batches: 'it would name the stack tessera-batches, the name of the Batch API\'s work queue',
  change: 'it would name the stack tessera-change, the name of the tier-change state machine',
  dlq: 'its stack tessera-dlq would be the leading part of the platform\'s dead-letter queues tessera-dlq-* (tessera dlq list finds them by that prefix)',
  drift: 'it would name the stack tessera-drift, the name of the drift-detection state machine',
  enterprise: 'it would name the stack tessera-enterprise, the name of the enterprise tier\'s OU and usage plan',
  fine: 'its stack tessera-fine would be the leading part of the fine-tuning names tessera-fine-tuning-*',
  'fine-tuning': 'its stack tessera-fine-tuning would be the leading part of the fine-tuning names tessera-fine-tuning-*',
  gateway: 'its stack tessera-gateway would be the leading part of the gateway roles tessera-gateway-*',
  guardrails: 'it would name the stack tessera-guardrails, the name of the organization\'s guardrail SCP',
  inference: 'it would name the stack tessera-inference, the name of the inference API',
  lifecycle: 'it would name the stack tessera-lifecycle, the platform event bus, and its pod-bridge role tessera-lifecycle-pod-bridge would match tessera-lifecycle-*, the roles the organization access role trusts',
  offboard: 'it would name the stack tessera-offboard, the name of the offboarding state machine',
  onboard: 'it would name the stack tessera-onboard, the name of the onboarding state machine',
  platform: 'it would name the key alias alias/tessera/platform (the platform key\'s) and log groups under /tessera/platform/, the platform\'s',
  professional: 'it would name the stack tessera-professional, the name of the professional tier\'s OU and usage plan',
  quarantine: 'it would name the stack tessera-quarantine, the name of the quarantine SCP',
  shared: 'it would name the EKS cluster and stack tessera-shared and the log group /aws/eks/tessera-shared/cluster, the shared cluster\'s',
  starter: 'it would name the stack tessera-starter, the name of the starter tier\'s OU and usage plan',
  status: 'it would name the stack tessera-status, the name of the suspend/resume state machine',
  tessera: 'its SageMaker names tessera-ft-… would fall under the gateway router\'s grant on the platform\'s tessera-* endpoints',
  tenant: `its stack tessera-tenant would be the leading part of ${TENANT_DATA_ROLE_NAME}, the platform's tenant-data role`,
  'tenant-data': `it would name the stack ${TENANT_DATA_ROLE_NAME}, the name of the platform's tenant-data role (the gateway's and fine-tuning's tenant-scoped credentials)`,
  tenants: 'it would name the stack tessera-tenants, the name of the tenant registry table and the Cognito user pool',
  upgrade: 'it would name the stack tessera-upgrade, the name of the rolling-upgrade state machine',
  usage: 'it would name the stack tessera-usage, the name of the gateway\'s usage table',
  vector: 'its stack tessera-vector would be the leading part of tessera-vector-store-files, the vector store files\' work queue',
  'vector-store': 'its stack tessera-vector-store would be the leading part of tessera-vector-store-files, the vector store files\' work queue',
  'vector-store-files': 'it would name the stack tessera-vector-store-files, the name of the vector store files\' work queue',
};

/**
 * Families of platform names `tessera-<word>-*`: ids starting with `<word>-` are reserved, so the
 * platform can add names to a family without meeting a tenant's (and `tessera-lifecycle-*` is a
 * trust pattern: the organization access role trusts every platform-account role named so).
 */
export const RESERVED_TENANT_ID_PREFIXES: Readonly<Record<string, string>> = {
  'lifecycle-': 'ids starting with "lifecycle-" would name the tenant\'s pod-bridge role in the platform account tessera-lifecycle-…-pod-bridge, and the organization access role trusts every role named tessera-lifecycle-* there (the lifecycle functions\' roles; also the table tessera-lifecycle-control)',
  'fine-tuning-': 'ids starting with "fine-tuning-" would name stacks tessera-fine-tuning-…, the family of the fine-tuning names (table tessera-fine-tuning-jobs, roles tessera-fine-tuning-api and tessera-fine-tuning-events)',
  'dlq-': 'ids starting with "dlq-" would name stacks tessera-dlq-…, the family of the platform\'s dead-letter queues tessera-dlq-* (tessera dlq list finds them by that prefix)',
  'gateway-': 'ids starting with "gateway-" would name stacks tessera-gateway-…, the family of the gateway roles (tessera-gateway-authorizer, tessera-gateway-router)',
  'tessera-': 'ids starting with "tessera-" would give SageMaker names <id>-ft-… that fall under the gateway router\'s grant on tessera-* endpoints',
};

/**
 * Words an id may not have after its first: the platform's `tessera-*-<word>` patterns would take a
 * name of tenant `x-<word>` for one of tenant `x`'s.
 */
export const RESERVED_TENANT_ID_WORDS: Readonly<Record<string, string>> = {
  namespace: 'ids with the word "namespace" after the first would name stacks and policies that match tessera-*-namespace and tessera-*-namespace-*, the namespace blueprints\' stacks and policies (tenant "acme"\'s namespace stack is tessera-acme-namespace, the tenant stack of a tenant "acme-namespace")',
  // s43: the pattern is the offboarding's final snapshots' (snapshot-database.ts), which Snapshot database deletes once copied.
  final: 'ids with the word "final" after the first would name database snapshots that match tessera-*-final-*, the offboarding\'s final snapshots, which the workload provisioning role may delete (rds:DeleteDBSnapshot): the snapshot CloudFormation keeps of tenant "acme-final"\'s database (tessera-acme-final-snapshot-…) would be one of tenant "acme"\'s',
};

/** Why `tenantId` is reserved, or undefined when it is not. */
export function tenantIdReservation(tenantId: string): string | undefined {
  if (Object.hasOwn(RESERVED_TENANT_IDS, tenantId)) return RESERVED_TENANT_IDS[tenantId];
  for (const [prefix, reason] of Object.entries(RESERVED_TENANT_ID_PREFIXES)) if (tenantId.startsWith(prefix)) return reason;
  const later = tenantId.split('-').slice(1);
  for (const [word, reason] of Object.entries(RESERVED_TENANT_ID_WORDS)) if (later.includes(word)) return reason;
  return undefined;
}

/**
 * The roles IAM Identity Center creates in the platform account for the permission set
 * `TesseraTenantAdmin`: `aws-reserved/sso.amazonaws.com/<region>/AWSReservedSSO_TesseraTenantAdmin_<id>`,
 * without the Region segment for instances in us-east-1. `*` matches both (IAM's ArnLike wildcard
 * spans `/`); only Identity Center can create roles under `aws-reserved/`.
 * Source: https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html
 */
export const IDENTITY_CENTER_TENANT_ADMIN_ROLES = ['aws-reserved/sso.amazonaws.com/*AWSReservedSSO_TesseraTenantAdmin_*'] as const;

/** Role paths and names of both forms Identity Center gives that permission set's roles (for tests). */
export const IDENTITY_CENTER_TENANT_ADMIN_EXAMPLES = [
  'aws-reserved/sso.amazonaws.com/AWSReservedSSO_TesseraTenantAdmin_0123456789abcdef',
  'aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_TesseraTenantAdmin_0123456789abcdef',
] as const;


/*
 * Disaster recovery (tiers with `disasterRecovery`, lib/config/disaster-recovery.ts): the DR blueprint
 * (lib/tenant-dr-stack.ts) deploys first, in the DR region, and stands alone; the primary blueprint
 * reaches its resources by these names, so neither needs the other's outputs.
 */

/** Alias of the tenant's DR-region key: `alias/tessera-<id>-dr` (in the DR region; the home key is `alias/tessera/<id>`). */
export function drKeyAlias(tenantId: string): string {
  return `alias/tessera-${tenantId}-dr`;
}

/**
 * The tenant's DR bucket: `tessera-<id>-dr-<account>-<drRegion>`, unique across S3 through the account
 * and region. At most 63 characters (S3's limit): 8 + 24 + 4 + 12 + 1 + 14 for the longest region names
 * (`ap-southeast-2`).
 */
export function drBucketName(tenantId: string, accountId: string, drRegion: string): string {
  return `tessera-${tenantId}-dr-${accountId}-${drRegion}`;
}

/** The tenant's DR Backup vault `tessera-<id>-dr` (in the DR region; AWS Backup allows 50 characters). */
export function drBackupVaultName(tenantId: string): string {
  return `tessera-${tenantId}-dr`;
}

/**
 * Service roles of a DR tier's primary blueprint, named so the DR blueprint's key and bucket policies
 * can admit them before they exist (on SERVICE_ROLE_PATH; at most 64 characters: `tessera-<id>-` is 33).
 * - `dr-replication`: S3 replication of the tenant bucket to the DR bucket
 * - `database-backup`: AWS Backup's role for the database plan (copies into the DR vault)
 * - `restore-testing`: AWS Backup's role for the monthly restore test
 */
export const DR_SERVICE_ROLE_PURPOSES = ['dr-replication', 'database-backup', 'restore-testing'] as const;
export type DrServiceRolePurpose = (typeof DR_SERVICE_ROLE_PURPOSES)[number];

export function drServiceRoleName(tenantId: string, purpose: DrServiceRolePurpose): string {
  return `tessera-${tenantId}-${purpose}`;
}

/**
 * The DR blueprint's own restore role `tessera-<id>-dr-restore` (on SERVICE_ROLE_PATH, in the DR region's
 * account): AWS Backup assumes it to restore the tenant's DR recovery points into the DR region when the
 * home region is lost (the failover runbook). Not the `restore-testing` role: that one creates only instances
 * tagged `awsbackup-restore-test`, from home-region snapshots. 41 characters for the longest tenant id.
 */
export function drRestoreRoleName(tenantId: string): string {
  return `tessera-${tenantId}-dr-restore`;
}

/** DB instance the failover restores the tenant database into, in the DR region: `tessera-<id>-restored` (the rebuilt tier blueprint's own, empty, instance is `tessera-<id>`). */
export function drRestoredInstanceIdentifier(tenantId: string): string {
  return `${databaseInstanceIdentifier(tenantId)}-restored`;
}

/** ARN of the DR restore role: `arn:<partition>:iam::<account>:role/tessera/service-role/tessera-<id>-dr-restore`. */
export function drRestoreRoleArn(partition: string, accountId: string, tenantId: string): string {
  return `arn:${partition}:iam::${accountId}:role${SERVICE_ROLE_PATH}${drRestoreRoleName(tenantId)}`;
}

/**
 * Construct id of a DR tier's failover blueprint (lib/tenant-failover-stack.ts) in the `Blueprints` stage:
 * `TesseraTenantFailover-<tier>`. Its `cdk.out/assembly-Blueprints/` file is
 * `Blueprints<id without non-alphanumerics><8-character hash>.template.json`, which the failover runbook names.
 */
export function failoverBlueprintStackId(tier: string): string {
  return `TesseraTenantFailover-${tier}`;
}

/** ARN of one of those roles (they carry SERVICE_ROLE_PATH). */
export function drServiceRoleArn(partition: string, accountId: string, tenantId: string, purpose: DrServiceRolePurpose): string {
  return `arn:${partition}:iam::${accountId}:role${SERVICE_ROLE_PATH}${drServiceRoleName(tenantId, purpose)}`;
}

/**
 * Tenant blueprint parameter (`List<AWS::EC2::AvailabilityZone::Name>`) naming the zones of the tenant
 * VPC's subnets, the first `maxAzs` of the tier: chosen by the lifecycle at the first deploy and
 * recorded (`availabilityZones` of the registry record; lambdas/lifecycle/availability-zones.ts).
 */
export const AVAILABILITY_ZONES_PARAMETER = 'AvailabilityZones';
