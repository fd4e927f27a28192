import type { BackupClient } from '@aws-sdk/client-backup';
import type { AwsCredentialIdentity } from '@smithy/types';
import { Command } from 'commander';
import { HTTP_TIMEOUTS } from '../aws-http-timeouts.js';
import { pages } from '../aws-pages.js';
import { API_KEYS_TABLE_NAME } from '../identity/api-key.js';
import { parseCidr } from '../config/cidr.js';
import { printable } from '../printable.js';
import { disasterRecoveryOf } from '../config/disaster-recovery.js';
import { ConfigError } from '../config/config-error.js';
import type { PlatformConfig } from '../config/schema.js';
import { AUDIT_DR_TIER_PREFIX, AUDIT_RECORDS_PREFIX, AUDIT_STREAMS, auditStreamPrefix } from '../audit-prefixes.js';
import { auditReplicaBucketName, PLATFORM_DR_VAULT_NAME, platformDrRegion } from '../platform-dr-naming.js';
import { databaseInstanceIdentifier, drBackupVaultName, drBucketName, drKeyAlias, drRestoredInstanceIdentifier, drRestoreRoleArn, drRestoreRoleName, failoverBlueprintStackId, tenantRoleName } from '../tenant-naming.js';
import { TenantId, type TenantRecord } from '../tenant-record.js';
import { EKS_UNSUPPORTED_ZONE_IDS } from '../vpc-layout.js';
import { adminTarget, type AdminGlobals } from './admin-target.js';
import { RESTORED_DATABASE_LOGICAL_ID, restoredDatabaseStackName, restoredDatabaseTemplate } from './failover-restored-database.js';
import { CliError } from './cli-error.js';
import { endpointOverride } from '../../lambdas/shared/endpoint-override.js';
import { unparsedAnswer } from '../../lambdas/shared/unparsed-answer.js';

/** One recovery point of the tenant's DR vault (ListRecoveryPointsByBackupVault), newest first. */
export interface PlanRecoveryPoint {
  arn: string;
  resourceType?: string;
  resourceArn?: string;
  createdAt?: string;
  status?: string;
}

/** What the plan is built from: the tenant (registry or flags), the config, the DR vault's recovery points and the time. */
export interface FailoverInput {
  tenantId: string;
  tier: string;
  accountId: string;
  /** The registry's DR record, when the record was read (absent offline). */
  disasterRecovery?: TenantRecord['disasterRecovery'];
  /** The tenant's status in the registry, when the record was read (absent offline): an offboarded or offboarding tenant is refused. */
  status?: TenantRecord['status'];
  config: PlatformConfig;
  /** The DR vault's recovery points, or why they could not be listed. */
  recoveryPoints: { points: PlanRecoveryPoint[] } | { error: string };
  now: Date;
  /** The tenant's VPC range from its registry record (absent offline): the rebuilt blueprint's VpcCidr. */
  vpcCidr?: string;
  /**
   * The region of the tenant's DR stack given offline (`--dr-region`): the registry's record, when read, names it.
   * @default - the tier's DR region in the config
   */
  drRegion?: string;
  /**
   * The config file the plan was made from (`--config`), named in the synth command of step 5.
   * @default - `<this config file>`
   */
  configFile?: string;
  /**
   * The plan is made without reading the registry (`--account` and `--tier`): whether the tenant has a DR stack, where,
   * and its latest restore test are unknown rather than absent.
   * @default false
   */
  offline?: boolean;
}

/** The failover plan of one tenant: where its copies are, how fresh, what the tier promises, and the steps in order. */
export interface FailoverPlan {
  tenantId: string;
  tier: string;
  accountId: string;
  homeRegion: string;
  drRegion: string;
  /** The tier's DR region in the config when it is not the region of the tenant's recorded DR stack (the plan follows the record). */
  configDrRegion?: string;
  /** Where drRegion comes from: the registry's DR record, `--dr-region` (offline), or the tier's config (offline, or no DR stack recorded). */
  drRegionFrom: 'registry' | '--dr-region' | 'config';
  rpoHours: number;
  rtoHours: number;
  drStack: { name: string; status: string };
  /**
   * Printed first, before the plan: the tenant is PROVISIONING (its onboarding running, with an account) or FAILED (its
   * onboarding or a later operation failed), so it may never have served and its DR stack may never have come up or
   * received a copy. Not a refusal: a FAILED tenant may have been ACTIVE for a while (a change's failure leaves it
   * ACTIVE; an onboarding can fail after activation's write), and then its recovery points are its data.
   * @default - absent for any other status (and offline, where the status is not read)
   */
  warning?: string;
  drBucket: string;
  drVault: string;
  drKeyAlias: string;
  recoveryPoints: PlanRecoveryPoint[];
  recoveryPointsError?: string;
  /** Hours since the newest completed recovery point; undefined when none is known. */
  newestRecoveryPointAgeHours?: number;
  /** Whether the newest completed recovery point is within the tier's RPO (undefined: unknown). */
  withinRpo?: boolean;
  platform: { drRegion?: string; registryVault?: string; auditReplica?: string };
  /** The latest monthly restore test of the tenant's DR recovery points, as the registry recorded it (absent offline or before the first). */
  latestRestoreTest?: NonNullable<TenantRecord['disasterRecovery']>['latestRestoreTest'];
  steps: Array<{ title: string; detail: string; commands: string[] }>;
}

/**
 * Days after its creation the failover keeps the recovery point it restores from (update-recovery-point-lifecycle
 * DeleteAfterDays): as long as the daily DR copies are kept, instead of the frequent copies' ceil(rtoHours/24) days.
 */
export const KEEP_RECOVERY_POINT_DAYS = 35;

/** Days from now the recovery point restored from stays at least, whatever its age (DeleteAfterDays counts from its creation). */
export const KEEP_RECOVERY_POINT_MIN_DAYS_LEFT = 14;

/**
 * DeleteAfterDays for the recovery point restored from: KEEP_RECOVERY_POINT_DAYS, or more for an old point, so that it
 * stays at least KEEP_RECOVERY_POINT_MIN_DAYS_LEFT days from now (35 for a point 30 days old would leave 5; for one 36
 * days old, none).
 */
export function keepRecoveryPointDays(ageHours: number | undefined): number {
  return ageHours === undefined ? KEEP_RECOVERY_POINT_DAYS : Math.max(KEEP_RECOVERY_POINT_DAYS, Math.ceil(ageHours / 24) + KEEP_RECOVERY_POINT_MIN_DAYS_LEFT);
}

/** Days the primary's daily DR copies are kept (docs/resilience.md, "Disaster recovery by tier"). */
const DAILY_COPY_DAYS = 35;

/** The tenant's primary stack name, as the lifecycle names it (lambdas/lifecycle/blueprints.ts stackName): `tessera-<id>`. */
function tenantStackName(tenantId: string): string {
  return `tessera-${tenantId}`;
}

/**
 * The tier's failover blueprint file in `cdk.out/assembly-Blueprints/` after `cdk synth`: CDK names it after
 * the stack's construct id (`TesseraTenantFailover-<tier>`, failoverBlueprintStackId) as
 * `Blueprints<id without non-alphanumerics><8-character hash>.template.json`; a shell glob of exactly 8 `?`
 * picks it and no other tier's.
 */
export function failoverTemplateGlob(tier: string): string {
  return `Blueprints${failoverBlueprintStackId(tier).replace(/[^A-Za-z0-9]/g, '')}????????.template.json`;
}

/** The AWS partition of a region (aws, aws-cn, aws-us-gov), for the role ARNs the plan prints. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Most recovery points listed in the plan (newest first); the vault may hold months of them. */
export const PLAN_RECOVERY_POINTS = 5;

/**
 * The region of the tenant's DR stack and recovery points: the registry's DR record when there is one
 * (not REMOVED), else the tier's configured DR region (offline, or before the first DR deploy).
 */
export function drRegionOf(tierRegion: string | undefined, dr: TenantRecord['disasterRecovery'], given?: string): string | undefined {
  return (dr && dr.status !== 'REMOVED' ? dr.region : undefined) ?? given ?? tierRegion;
}

/** A recovery point the plan may restore the database from: COMPLETED, with a creation time, of the database (RDS; the type unknown counts). */
const restorable = (p: PlanRecoveryPoint) => p.status === 'COMPLETED' && !!p.createdAt && (p.resourceType === undefined || p.resourceType === 'RDS');

/**
 * Refuses the plan of a tenant that is offboarded or being offboarded, or whose DR stack its
 * offboarding removed: following it would rebuild, from the DR vault's remaining recovery points,
 * a tenant its offboarding deleted on purpose (its stacks, its account closed or queued for
 * closure, its data exported to the admin archive). A DR stack recorded REMOVED on a tenant in any
 * other status is one whose create failed, removed by *Record failure* with nothing of it left:
 * refused too (no DR copy exists), saying so, and how it is deployed again.
 * @throws CliError (exit 1) naming the tenant, its status and why
 */
function refuseOffboarded(tenantId: string, status: TenantRecord['status'] | undefined, dr: TenantRecord['disasterRecovery']): void {
  const why = 'a failover would rebuild, from the DR vault\'s remaining recovery points, a tenant its offboarding deletes on purpose (its stacks, its data exported to the admin archive, its account queued for closure); no plan is printed';
  if (status === 'OFFBOARDED') throw new CliError(`tenant ${tenantId} is OFFBOARDED: ${why}`, 1);
  if (status === 'OFFBOARDING') throw new CliError(`tenant ${tenantId} is OFFBOARDING: ${why}. If the offboarding must be undone, that is a decision for the tenant's owner, not a failover (tessera tenants show ${tenantId} shows where it stands)`, 1);
  if (dr?.status !== 'REMOVED') return;
  // Not offboarded: the REMOVED is Record failure's, for a DR stack whose create failed, recorded only once none of its
  // stores was left (lambdas/lifecycle/record-failure.ts removeDeadDrStack): a failed onboarding or move to a DR tier.
  if (status !== undefined) {
    throw new CliError(`tenant ${tenantId} (${status}): its DR stack ${dr.stackName} in ${dr.region} is recorded REMOVED: its create failed and the failure removed it (nothing of it was left in ${dr.region}), so there is no DR copy to fail over to; `
      + `${status === 'FAILED' ? `tessera tenants retry ${tenantId}` : 'a change to a tier with DR (tessera tenants update)'} deploys it again`, 1);
  }
  throw new CliError(`tenant ${tenantId}: its DR stack ${dr.stackName} was REMOVED by its offboarding (status unknown): ${why}`, 1);
}

/**
 * Builds the failover plan of a tenant for the loss of its home region: its DR region, stack,
 * bucket, vault and key alias (the DR contract's deterministic names), its tier's RPO/RTO, the
 * newest recovery points, and the steps in order: extend the lifecycle of the recovery point restored
 * from (update-recovery-point-lifecycle, first: the frequent DR copies expire after ceil(rtoHours/24)
 * days), declare, platform registry and audit, rebuild the tenant in the DR region with CloudFormation from
 * the tier's failover blueprint (lib/tenant-failover-stack.ts: network, cache, cluster; the tenant's IAM roles,
 * global, imported by name; the home-region workflow and catalog are not used), restore the database into the rebuilt DB
 * subnet group and security group as `tessera-<id>-restored` with the DR blueprint's restore role
 * `tessera-<id>-dr-restore`, turn on its IAM database authentication and managed master secret, redeploy the failover
 * blueprint with its DbiResourceId, endpoint and secret (the tenant's roles' `rds-db:connect` grants and the Database* outputs
 * follow it: constructs/tenant-restored-database-access.ts), objects from the DR bucket, DNS and gateway, record.
 * Steps 5, 7 and 8 are CloudFormation operations run as the provisioning role with `--role-arn` the blueprint execution
 * role (the one principal the rebuilt tenant key admits; the guardrail SCP lets only the provisioning role pass it);
 * step 7 imports the restored instance into stack `tessera-<id>-restored` and updates it (./failover-restored-database.ts).
 * Every command is an AWS CLI v2 command as documented in https://docs.aws.amazon.com/cli/latest/reference/
 * (placeholders in `<...>` name the earlier command's output to fill in). Pure: every AWS answer is in `input`.
 * The DR region is the registry's (drRegionOf); the one restored from is the newest COMPLETED database recovery
 * point, never one still being copied or PARTIAL.
 * @throws CliError (exit 2) when the tenant's tier has no disaster recovery and the registry records no DR stack, or
 *   the registry's tier is not one of the config's (another platform's config, or a tier removed since: step 5 cannot be synthesized);
 *   (exit 1) when the tenant is OFFBOARDED or OFFBOARDING, or its DR stack REMOVED (refuseOffboarded)
 */
export function failoverPlan(input: FailoverInput): FailoverPlan {
  const { config, tenantId, accountId } = input;
  refuseOffboarded(tenantId, input.status, input.disasterRecovery);
  const tier = config.tiers[input.tier];
  const target = tier ? disasterRecoveryOf(tier) : undefined;
  // Where the tenant's DR stack and recovery points are: the registry's record. The config's region for the tier may have
  // changed since (the change workflow then refuses to move the tenant: lambdas/lifecycle/dr-region-change.ts), and
  // following it would rebuild the tenant in a region that holds none of its data.
  const drRegion = drRegionOf(target?.region, input.disasterRecovery, input.drRegion);
  const configDrRegion = target && target.region !== drRegion ? target.region : undefined;
  const drRegionFrom = input.disasterRecovery && input.disasterRecovery.status !== 'REMOVED' ? 'registry' as const : input.drRegion ? '--dr-region' as const : 'config' as const;
  if (!drRegion && input.offline) {
    // Offline the registry, which records the tenant's DR stack, was not read: the tenant may have one from before its tier lost DR.
    throw new CliError(`tenant ${tenantId}: tier ${input.tier} has disasterRecovery none in --config${tier ? '' : ' (or is not in this config)'}, and the registry was not read (--account and --tier), so whether the tenant has a DR stack is unknown: `
      + `if its DR stack exists (deployed while its tier had DR), pass --dr-region <its region> (the registry record's disasterRecovery.region); if not, its data lives in ${config.homeRegion} only and there is nothing to fail over to`);
  }
  if (!drRegion && !tier && !input.offline) {
    // The registry's tier is not one of --config's: another platform's config (or one from before a tier was renamed), whose
    // homeRegion need not be the tenant's; "its data lives in <that region> only" would be said of the wrong region.
    throw new CliError(`tenant ${tenantId}: its tier ${input.tier} (the registry's) is not a tier of --config (${Object.keys(config.tiers).join(', ')}), and no DR stack is recorded: pass the config the platform was deployed with`);
  }
  if (drRegion && !tier) {
    // A DR stack is recorded, but --config lacks the tenant's tier: another platform's config, or a tier removed since. Step 5
    // synthesizes the tier's failover blueprint from the config, which needs the tier whole (a copy that only sets its
    // disasterRecovery is a new tier missing every other section: synth refuses it), and the plan's home region, accounts and
    // platform DR would be that config's. Until 2026-12-07 the plan was printed as for a tier that lost DR, exit 0.
    throw new CliError(`tenant ${tenantId}: its tier ${input.tier} (the registry's) is not a tier of --config (${Object.keys(config.tiers).join(', ')}): `
      + `step 5 synthesizes tier ${input.tier}'s failover blueprint from the config, which needs the tier: pass the config the platform was deployed with (if tier ${input.tier} was removed from it since, a copy of the config that defines the tier again)`);
  }
  if (!drRegion) {
    throw new CliError(`tenant ${tenantId}: tier ${input.tier} has disasterRecovery none${tier ? '' : ' (or is not in this config)'} and no DR stack is recorded: its data lives in ${config.homeRegion} only, there is nothing to fail over to`);
  }
  // A tenant moved to a tier without DR keeps its DR stack (RETAINED); the RPO/RTO it was promised are gone with the tier.
  const rpoHours = target?.rpoHours ?? Number.NaN;
  const rtoHours = target?.rtoHours ?? Number.NaN;
  const points = 'points' in input.recoveryPoints ? [...input.recoveryPoints.points].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '')) : [];
  // The one the plan restores from: the newest COMPLETED database recovery point (the DR vault holds the database's copies).
  const newest = points.find(restorable);
  const ageHours = newest ? Math.round(((input.now.getTime() - Date.parse(newest.createdAt!)) / 3_600_000) * 10) / 10 : undefined;
  const vault = drBackupVaultName(tenantId);
  const bucket = drBucketName(tenantId, accountId, drRegion);
  const stack = input.disasterRecovery?.stackName ?? `tessera-${tenantId}-dr`;
  const platformRegion = platformDrRegion(config);
  const registryVault = platformRegion ? PLATFORM_DR_VAULT_NAME : undefined;
  const auditReplica = platformRegion ? auditReplicaBucketName(config.platformAccountId, platformRegion) : undefined;
  // Only a COMPLETED point is restored from: a CREATING, PARTIAL or EXPIRED one is never offered in its place.
  const database = newest;
  const keepDays = keepRecoveryPointDays(ageHours);
  const pointArn = database?.arn ?? '<newest COMPLETED recovery point ARN, from the list above>';
  const restoreRole = drRestoreRoleArn(partitionOf(drRegion), accountId, tenantId);
  const primaryStack = tenantStackName(tenantId);
  const restored = drRestoredInstanceIdentifier(tenantId);
  const emptyInstance = databaseInstanceIdentifier(tenantId);
  const vpcCidr = input.vpcCidr ?? '<the tenant\'s VpcCidr, from its registry record>';
  // Offline, the registry copy restored in step 3 is the one record of the range in a surviving region.
  const vpcCidrSource = input.vpcCidr
    ? ''
    : ` VpcCidr is not known to this plan (pass --vpc-cidr): it is the registry record's vpcCidr, which nothing else in the DR region carries (the DR stack, the DR bucket and the audit replica do not); ${platformRegion ? `read it from the registry restored in step 3 (its last command, get-item), or ` : ''}from your runbook binder (\`tessera tenants show ${tenantId}\` while the home region is up).`;
  // The VPC's zones in the DR region (the failover blueprint's AvailabilityZones): zone names are per region,
  // so the home region's recorded zones do not apply; chosen as the lifecycle chooses them (lambdas/lifecycle/availability-zones.ts).
  const tierNow = config.tiers[input.tier];
  const zoneCount = tierNow?.network.maxAzs ?? 2;
  const dedicated = tierNow?.compute.mode === 'dedicated';
  // A projection either way ([] or a filter): sort_by gives an array, whose .ZoneName alone would be null.
  const zoneFilter = dedicated ? `[?${EKS_UNSUPPORTED_ZONE_IDS.map((id) => `ZoneId!='${id}'`).join(' && ')}]` : '[]';
  // JMESPath join(',', …): the List parameter takes "a,b,c"; the list itself with --output text would print TAB-separated names.
  // Zone names are per account: the lookup runs in the tenant's account, as the rebuild does (its provisioning role).
  const zoneLookup = `aws ec2 describe-availability-zones --region ${drRegion} --profile <a profile for account ${accountId}: its ${config.roles.provisioningRoleName} role, as the deploy> --filters Name=zone-type,Values=availability-zone Name=state,Values=available Name=opt-in-status,Values=opt-in-not-required,opted-in --query "join(',', sort_by(AvailabilityZones, &ZoneName)${zoneFilter}.ZoneName | [:${zoneCount}])" --output text`;
  const zones = `<the describe-availability-zones lookup's output: ${zoneCount} zone names, comma-separated>`;
  const zonesDetail = ` AvailabilityZones: the tenant VPC's ${zoneCount} zones in ${drRegion} (the tier's network.maxAzs), the first available ones by name${dedicated ? `, without the zone IDs where Amazon EKS does not support clusters (${EKS_UNSUPPORTED_ZONE_IDS.join(', ')})` : ''}, as the onboarding chooses them in the home region (its recorded zones are the home region's and do not apply here); the lookup command gives them, run in account ${accountId} (zone names map to physical zones per account: another account's names are other zones); fewer than ${zoneCount}: the tier cannot be rebuilt in ${drRegion} of this account.`;
  const registryTable = 'tessera-tenants';
  const restoredRegistryTable = 'tessera-tenants-restored';
  const keysTable = API_KEYS_TABLE_NAME;
  const restoredKeysTable = `${API_KEYS_TABLE_NAME}-restored`;
  const usageTable = 'tessera-usage';
  const restoredUsageTable = 'tessera-usage-restored';
  // The platform DR vault holds the copies of three tables (the API keys and the usage ledger ride on the registry's plan): pick each by its ARN.
  const homeTableArn = (table: string) => `arn:${partitionOf(config.homeRegion)}:dynamodb:${config.homeRegion}:${config.platformAccountId}:table/${table}`;
  const registryRestoreRole = `arn:${partitionOf(platformRegion ?? drRegion)}:iam::${config.platformAccountId}:role/service-role/AWSBackupDefaultServiceRole`;
  const metadata = JSON.stringify({ DBInstanceIdentifier: restored, DBSubnetGroupName: '<DBSubnetGroupName above>', VpcSecurityGroupIds: '["<VpcSecurityGroupIds above>"]' });
  // Steps 5, 7 and 8 run through CloudFormation as the account's blueprint execution role: the one principal the
  // rebuilt tenant key admits (KMS's CreateKey refuses a key policy that locks its caller out), and the guardrail SCP
  // lets only the provisioning role pass it to CloudFormation or change tessera-* stacks.
  const executionRoleArn = `arn:${partitionOf(drRegion)}:iam::${accountId}:role/${config.roles.blueprintExecutionRoleName}`;
  const provisioningRole = config.roles.provisioningRoleName;
  const runAs = `as the account's provisioning role ${provisioningRole} (the guardrail SCP lets only it pass the execution role to CloudFormation and change tessera-* stacks), with --role-arn ${executionRoleArn}: CloudFormation then acts as the blueprint execution role ${config.roles.blueprintExecutionRoleName}, the principal the rebuilt stack's tenant key admits as its administrator and, through RDS and Secrets Manager, as the user of it (KMS's CreateKey refuses a key policy that would lock out its caller, so other credentials cannot create this stack), and whose policy covers ${drRegion} for the tier's DR (its regional statements name the DR tiers' regions)`;
  // In the shared workload account (vpc isolation) the provisioning role is constructs/workload-provisioning-role.ts's.
  const restoredStack = restoredDatabaseStackName(tenantId);
  const workloadRoleNote = config.tiers[input.tier]?.isolation === 'vpc'
    ? ` In the shared workload account (vpc isolation), the workload provisioning role ${provisioningRole} (its DisasterRecovery policy, from the workload provisioning template deployed with this config) may in ${drRegion} change stacks ${primaryStack} and ${restoredStack} only through CloudFormation as ${config.roles.blueprintExecutionRoleName}: create-change-set and update-stack only with --role-arn ${executionRoleArn}, an import only of AWS::RDS::DBInstance and only into ${restoredStack}. Its policy names no bucket of yours: the --s3-bucket bucket, in this account, needs a bucket policy that allows it s3:PutObject and s3:GetObject on the template.`
    : '';
  const restoredTemplate = JSON.stringify(restoredDatabaseTemplate());
  const toImport = JSON.stringify([{ ResourceType: 'AWS::RDS::DBInstance', LogicalResourceId: RESTORED_DATABASE_LOGICAL_ID, ResourceIdentifier: { DBInstanceIdentifier: restored } }]);
  const steps: FailoverPlan['steps'] = [
    {
      title: 'Keep the DR recovery point',
      detail: `First, before it can expire: the frequent DR copies of the database expire ${Number.isNaN(rtoHours) ? 'on their rule\'s lifecycle' : `after ceil(${rtoHours} h / 24) = ${Math.ceil(rtoHours / 24)} day(s)`} (the daily ones after ${DAILY_COPY_DAYS}). Extend the lifecycle of the recovery point you restore from (vault ${vault} in ${drRegion}, account ${accountId}) to ${keepDays} days after its creation (${KEEP_RECOVERY_POINT_DAYS}, or ${KEEP_RECOVERY_POINT_MIN_DAYS_LEFT} days from now for an older point); raise DeleteAfterDays if the home region stays lost longer.`,
      commands: [
        ...(database ? [] : [`aws backup list-recovery-points-by-backup-vault --region ${drRegion} --backup-vault-name ${vault} --by-resource-type RDS`]),
        `aws backup update-recovery-point-lifecycle --region ${drRegion} --backup-vault-name ${vault} --recovery-point-arn ${pointArn} --lifecycle DeleteAfterDays=${keepDays}`,
      ],
    },
    {
      title: 'Declare the failover',
      detail: `Confirm that ${config.homeRegion} is lost for longer than the tier's RTO allows waiting (${Number.isNaN(rtoHours) ? 'unknown: the tenant\'s tier has no DR now' : `${rtoHours} h`}); stop lifecycle operations on the tenant (no onboarding, change or offboarding runs until the home region is back). The AWS Health API answers only accounts with a Business, Enterprise On-Ramp or Enterprise support plan (others get SubscriptionRequiredException), at its endpoint in us-east-1 for the commercial regions; without one, read the AWS Health Dashboard (https://health.aws.amazon.com/health/status and your account's events in the console).`,
      commands: [`aws health describe-events --region us-east-1 --filter regions=${config.homeRegion}`],
    },
    platformRegion
      ? {
        title: 'Restore the tenant registry in the platform DR region',
        detail: `In the platform account ${config.platformAccountId}. First deploy the platform in ${platformRegion} from a copy of the config changed for it (the config refuses a DR region equal to homeRegion and fine-tuning images of another region): homeRegion ${platformRegion} (in allowedRegions); platformDisasterRecovery none (or a third region); every tier's disasterRecovery none, or a region other than ${platformRegion}; fineTuning.baseModels' trainingImage and servingImage from ${platformRegion}'s registries (or your ECR there); availabilityZones.${platformRegion} if you list zones. Bootstrap CDK in ${platformRegion} first if it never was. That deploy creates an empty registry table ${registryTable} (a fixed name), so restore the newest copy of the registry from vault ${PLATFORM_DR_VAULT_NAME} (hourly copies: up to about an hour of registry writes lost) into another table, ${restoredRegistryTable}, then copy its items into ${registryTable} (the scan pages through the whole table; one put-item per item); then the same for the API keys table ${keysTable} (copied with the registry), through ${restoredKeysTable}, so the tenants' keys work in ${platformRegion}, and for the usage ledger ${usageTable}, through ${restoredUsageTable}, so budgets and rate counts go on from the copy (up to about an hour of usage uncounted) instead of from zero. Each table's recovery points are picked by the table's ARN in ${config.homeRegion}. AWS Backup restores as the role you pass: the platform creates no restore role, so pass AWS Backup's default service role AWSBackupDefaultServiceRole (the console creates it on the first backup or restore with the default role) or a role trusted by backup.amazonaws.com with the AWS managed policy AWSBackupServiceRolePolicyForRestores; you need backup:StartRestoreJob and iam:PassRole on it. Keep the original config for the tenant steps below (the failover blueprint is synthesized from it).`,
        commands: [
          `npx cdk bootstrap aws://${config.platformAccountId}/${platformRegion}`,
          `npx cdk deploy TesseraPlatform -c tessera:configFile=<the copy of this config for ${platformRegion}>`,
          ...[[registryTable, restoredRegistryTable], [keysTable, restoredKeysTable], [usageTable, restoredUsageTable]].flatMap(([table, restoredTable]) => [
            `aws backup list-recovery-points-by-backup-vault --region ${platformRegion} --backup-vault-name ${PLATFORM_DR_VAULT_NAME} --by-resource-arn ${homeTableArn(table!)} --query 'sort_by(RecoveryPoints[?Status==\`COMPLETED\`],&CreationDate)[-1].RecoveryPointArn' --output text`,
            `aws backup start-restore-job --region ${platformRegion} --recovery-point-arn <RecoveryPointArn above> --iam-role-arn ${registryRestoreRole} --resource-type DynamoDB --metadata TargetTableName=${restoredTable}`,
            `aws backup describe-restore-job --region ${platformRegion} --restore-job-id <RestoreJobId above>`,
            `aws dynamodb scan --region ${platformRegion} --table-name ${restoredTable} --output json | jq -c '.Items[]' | while read -r item; do aws dynamodb put-item --region ${platformRegion} --table-name ${table} --item "$item"; done`,
          ]),
          // The tenant's VPC range for steps 5 and 8, when this plan was made without the registry.
          ...(input.vpcCidr ? [] : [`aws dynamodb get-item --region ${platformRegion} --table-name ${registryTable} --key '{"tenantId":{"S":"${tenantId}"}}' --projection-expression vpcCidr --query Item.vpcCidr.S --output text`]),
        ],
      }
      : {
        title: 'Tenant registry: no platform DR region',
        detail: `platformDisasterRecovery is none: the registry's backups stay in ${config.homeRegion}. Rebuild the platform in ${drRegion} and re-register the tenant from this plan (account ${accountId}, tier ${input.tier}).`,
        commands: [],
      },
    {
      title: 'Audit trail',
      detail: auditReplica
        ? `CloudTrail's files (AWSLogs/) and the tenant's records written while its tier had a DR region (${AUDIT_DR_TIER_PREFIX}inference/${tenantId}/, ${AUDIT_DR_TIER_PREFIX}fine-tuning/${tenantId}/, ${AUDIT_DR_TIER_PREFIX}lifecycle/${tenantId}/) are replicated with their Object Lock retention to ${auditReplica} (${platformRegion}); they stay immutable. Records written while its tier had no DR region (${AUDIT_RECORDS_PREFIX}inference/${tenantId}/, ${AUDIT_RECORDS_PREFIX}lifecycle/${tenantId}/ …) stay in ${config.homeRegion}. The multi-region trail keeps recording in the surviving region.`
        : `platformDisasterRecovery is none: audit records written before the loss stay in ${config.homeRegion}.`,
      // One listing per replicated stream (auditStreamPrefix: the same dr-tier rule for the three).
      commands: auditReplica ? AUDIT_STREAMS.map((stream) => `aws s3 ls s3://${auditReplica}/${auditStreamPrefix(stream, true)}${tenantId}/ --recursive --region ${platformRegion}`) : [],
    },
    {
      title: 'Rebuild the tenant from the failover blueprint in the DR region',
      detail: `The lifecycle workflow and the blueprint catalog run in ${config.homeRegion}, so \`tessera tenants update\` cannot do this (and with its own tier it is refused: nothing_to_change). Synthesize the blueprints from this config and deploy the ${input.tier} tier's failover blueprint (${failoverBlueprintStackId(input.tier)}) as stack ${primaryStack} in ${drRegion} of account ${accountId}, ${runAs} (the tenant's break-glass role only reads data). The failover blueprint is the tier blueprint without its IAM roles: IAM is global, so the tenant's roles (${tenantRoleName(tenantId, 'admin')}, ${tenantRoleName(tenantId, 'break-glass')} and the tier's others) still exist under the home stack ${primaryStack} and are imported by name; the failover stack attaches its own customer-managed policies to them (for the ${drRegion} resources) and creates only regional resources, without DR replication, copies or restore tests of its own. A template rule refuses any region but ${drRegion}. It creates customer-managed policies and service roles, which need IAM's control plane (in us-east-1 for the commercial regions): if that is what is lost, this step waits for it. Parameters: TenantId=${tenantId}, VpcCidr (the tenant's, so peers and allow-lists keep working), AvailabilityZones (below), DatabaseDeletionProtection=false for the create${config.tiers[input.tier]?.compute.mode === 'dedicated' ? '; GpuNodesMinSize and GpuNodesDesiredSize keep the tier\'s defaults (0 if the DR region\'s GPU quota is lower)' : ''}. --s3-bucket: any bucket of yours in ${drRegion} (the template is over CloudFormation's 51,200-byte inline limit). CAPABILITY_IAM: it creates IAM resources, none with a name of its own. This gives the network (VPC, data subnets, DB subnet group and database security group), an empty cache, the cluster and an empty database ${emptyInstance}; the data comes back in the next steps.${zonesDetail}${vpcCidrSource}${workloadRoleNote}${target ? '' : ` Tier ${input.tier} has disasterRecovery none now, so its failover blueprint is only synthesized from a copy of the config that gives the tier its former DR region ${drRegion} (the RPO and RTO values do not change the failover blueprint).`}`,
      commands: [
        `npx cdk synth --quiet -c tessera:configFile=${target && !configDrRegion ? input.configFile ?? '<this config file>' : `<a copy of this config with tiers.${input.tier}.disasterRecovery set to { region: ${drRegion}, rpoHours: ${target?.rpoHours ?? 24}, rtoHours: ${target?.rtoHours ?? 168} }>`}`,
        zoneLookup,
        `aws cloudformation deploy --region ${drRegion} --stack-name ${primaryStack} --template-file cdk.out/assembly-Blueprints/${failoverTemplateGlob(input.tier)} --s3-bucket <your bucket in ${drRegion}> --parameter-overrides TenantId=${tenantId} VpcCidr=${vpcCidr} AvailabilityZones=${zones} DatabaseDeletionProtection=false --capabilities CAPABILITY_IAM --role-arn ${executionRoleArn}`,
        `aws cloudformation describe-stacks --region ${drRegion} --stack-name ${primaryStack} --query "Stacks[0].Outputs"`,
      ],
    },
    {
      title: 'Restore the tenant database from the DR vault',
      detail: database
        ? `Restore recovery point ${database.arn} of vault ${vault} in ${drRegion} (account ${accountId}) as DB instance ${restored}, into the rebuilt stack's DB subnet group and the database security group (read from its empty instance ${emptyInstance}); it stays encrypted with ${drKeyAlias(tenantId)}. AWS Backup restores as the DR blueprint's role ${drRestoreRoleName(tenantId)} (from this vault, into this instance name, under the DR key only); you need backup:StartRestoreJob and iam:PassRole on it.`
        : `List the recovery points of vault ${vault} in ${drRegion} (account ${accountId}) and restore the newest COMPLETED one (none COMPLETED could be listed now) as DB instance ${restored}, into the rebuilt stack's DB subnet group and security group, as the DR blueprint's role ${drRestoreRoleName(tenantId)}.`,
      commands: [
        `aws backup list-recovery-points-by-backup-vault --region ${drRegion} --backup-vault-name ${vault}`,
        `aws backup get-recovery-point-restore-metadata --region ${drRegion} --backup-vault-name ${vault} --recovery-point-arn ${pointArn}`,
        `aws rds describe-db-instances --region ${drRegion} --db-instance-identifier ${emptyInstance} --query "DBInstances[0].{DBSubnetGroupName:DBSubnetGroup.DBSubnetGroupName,VpcSecurityGroupIds:VpcSecurityGroups[].VpcSecurityGroupId}"`,
        `aws backup start-restore-job --region ${drRegion} --recovery-point-arn ${pointArn} --iam-role-arn ${restoreRole} --resource-type RDS --metadata '${metadata}'`,
        `aws backup describe-restore-job --region ${drRegion} --restore-job-id <RestoreJobId above>`,
      ],
    },
    {
      title: 'Turn on IAM database authentication and a managed master secret on the restored database',
      detail: `The data is in ${restored}, not in the rebuilt stack's empty ${emptyInstance}. A restore from a snapshot turns IAM database authentication off unless asked (RestoreDBInstanceFromDBSnapshot EnableIAMDatabaseAuthentication, default false), and the tenant's roles sign in with it (tenant_app, tenant_admin). RDS does not restore the master user secret either: the home one is in ${config.homeRegion}, and RDS manages a master password for a PostgreSQL restore only through a later modify (ManageMasterUserPassword on restore is for RDS for Oracle only). So modify the instance: IAM authentication on, and an RDS-managed master secret under the rebuilt stack's tenant key (its KeyArn output), as the tier blueprint keeps its own (the instance's storage stays under ${drKeyAlias(tenantId)}). Secrets Manager uses that key on behalf of the caller, and the key policy admits through RDS and Secrets Manager only the blueprint execution role ${config.roles.blueprintExecutionRoleName}, which only CloudFormation can assume: so the modify goes through CloudFormation. Import ${restored} into a stack of its own, ${restoredStack} (the template keeps it on delete: DeletionPolicy Retain; an import applies no property), then update that stack with TenantKeyArn=<KeyArn output>: CloudFormation's RDS handler calls ModifyDBInstance as the execution role (rds:ModifyDBInstance on ${restored}, secretsmanager:CreateSecret and TagResource on rds!*, the tenant key through Secrets Manager, all in ${drRegion}). Run both as the provisioning role ${provisioningRole} with --role-arn ${executionRoleArn}, as in the rebuild. The stack's outputs are the instance's DbiResourceId, endpoint and secret for the next step.`,
      commands: [
        `aws cloudformation create-change-set --region ${drRegion} --stack-name ${restoredStack} --change-set-name import-restored-database --change-set-type IMPORT --resources-to-import '${toImport}' --template-body '${restoredTemplate}' --parameters ParameterKey=TenantId,ParameterValue=${tenantId} --role-arn ${executionRoleArn}`,
        `aws cloudformation wait change-set-create-complete --region ${drRegion} --stack-name ${restoredStack} --change-set-name import-restored-database`,
        `aws cloudformation execute-change-set --region ${drRegion} --stack-name ${restoredStack} --change-set-name import-restored-database`,
        `aws cloudformation wait stack-import-complete --region ${drRegion} --stack-name ${restoredStack}`,
        `aws cloudformation update-stack --region ${drRegion} --stack-name ${restoredStack} --use-previous-template --parameters ParameterKey=TenantId,UsePreviousValue=true ParameterKey=TenantKeyArn,ParameterValue=<KeyArn output> --role-arn ${executionRoleArn}`,
        `aws cloudformation wait stack-update-complete --region ${drRegion} --stack-name ${restoredStack}`,
        `aws cloudformation describe-stacks --region ${drRegion} --stack-name ${restoredStack} --query "Stacks[0].Outputs"`,
        `aws rds describe-db-instances --region ${drRegion} --db-instance-identifier ${restored} --query "DBInstances[0].{DbiResourceId:DbiResourceId,Endpoint:Endpoint.Address,Port:Endpoint.Port,SecretArn:MasterUserSecret.SecretArn,IamAuth:IAMDatabaseAuthenticationEnabled}"`,
      ],
    },
    {
      title: 'Point the rebuilt stack at the restored database',
      detail: `Deploy the same failover blueprint to stack ${primaryStack} again, as in the rebuild (the provisioning role, --role-arn the execution role: a stack created with a service role is updated with it), with the restored instance's DbiResourceId, endpoint and secret ARN from the previous step (all three, or the template refuses). AvailabilityZones is left out of --parameter-overrides on purpose: on an update, \`aws cloudformation deploy\` passes a parameter it is not given with UsePreviousValue (AWS CLI reference, cloudformation deploy, --parameter-overrides: "If you're updating a stack and you don't specify a parameter, the command uses the stack's existing value"), so the stack keeps the same value as step 5; do not look the zones up again (during a regional event the answer may differ, and other zones would move every subnet). IAM database authentication is authorized on arn:${partitionOf(drRegion)}:rds-db:${drRegion}:${accountId}:dbuser:<DbiResourceId>/<user>, and RDS assigns the DbiResourceId when the restore creates the instance, so the grants can only follow it. The update adds two customer-managed policies on the imported roles: ${tenantRoleName(tenantId, 'workload')} may connect as tenant_app (with its namespace session tag), ${tenantRoleName(tenantId, 'admin')} as tenant_admin, on that instance only (no dbuser:* grant, which would reach other tenants' databases in a shared account). The DatabaseInstanceId, DatabaseEndpoint, DatabaseResourceId and DatabaseSecretArn outputs then name ${restored}, and nothing is replaced. No tenant role gets the master secret, as in ${config.homeRegion}. Give the tenant's workloads the DatabaseEndpoint output (DatabasePort is unchanged: a restore keeps the snapshot's port); they sign in as tenant_app with IAM authentication tokens.`,
      commands: [
        `aws cloudformation deploy --region ${drRegion} --stack-name ${primaryStack} --template-file cdk.out/assembly-Blueprints/${failoverTemplateGlob(input.tier)} --s3-bucket <your bucket in ${drRegion}> --parameter-overrides TenantId=${tenantId} VpcCidr=${vpcCidr} DatabaseDeletionProtection=false RestoredDbiResourceId=<DbiResourceId above> RestoredDatabaseEndpoint=<Endpoint above> RestoredDatabaseCredentialsArn=<SecretArn above> --capabilities CAPABILITY_IAM --role-arn ${executionRoleArn}`,
        `aws cloudformation describe-stacks --region ${drRegion} --stack-name ${primaryStack} --query "Stacks[0].Outputs[?starts_with(OutputKey, 'Database')]"`,
      ],
    },
    {
      title: 'Tenant objects from the DR bucket',
      detail: `The tenant bucket's replica is ${bucket} in ${drRegion} (versioned, under the DR key): copy it into the rebuilt stack's bucket (its BucketName output), encrypted with its tenant key (KeyArn output; the bucket policy refuses other keys), as the tenant's admin role ${tenantRoleName(tenantId, 'admin')} (the failover blueprint lets it and break-glass read the replica through S3 with the DR key; break-glass cannot write), or point readers at the replica.`,
      commands: [
        `aws s3 ls s3://${bucket}/ --region ${drRegion}`,
        `aws s3 sync s3://${bucket}/ s3://<BucketName output>/ --region ${drRegion} --sse aws:kms --sse-kms-key-id <KeyArn output>`,
      ],
    },
    {
      title: 'DNS and gateway',
      detail: `Point the gateway's custom domain (or clients' base URL) at the platform's inference API in ${platformRegion ?? drRegion}; ${platformRegion ? `the tenant's API keys are the copy restored in step 3, up to about an hour old: a key revoked in the last hour before the loss is active again there (revoke it again: the audit replica records each revocation), and a key created in that hour is missing (reissue it: \`tessera keys create --tenant ${tenantId} --name <name>\` against the admin API in ${platformRegion})` : `the platform in ${drRegion} has an empty API keys table (platformDisasterRecovery is none: no table is copied out of ${config.homeRegion}), so reissue the tenant's API keys there (\`tessera keys create --tenant ${tenantId} --name <name>\` against the admin API in the DR region) and hand them to the tenant`}; ${platformRegion ? `budgets count from the usage ledger restored in step 3 (up to about an hour of usage uncounted: watch the tenant's spending for that margin)` : `the platform in ${drRegion} starts with an empty usage ledger (no table is copied out of ${config.homeRegion}): budgets and rate counts start from zero there, so lower the tenant's budget for the rest of the period if it must hold, against the admin API in ${drRegion}: \`tessera tenants gateway ${tenantId} --file <policy.json>\` replaces the whole gateway policy, so start from the tenant's current one (\`tessera --json tenants show ${tenantId} | jq '.gateway // {}' > policy.json\`), lower monthlyTokenBudget or monthlyCostBudgetUsd in it and PUT it back (a file with the budget alone would drop the rest, maxTokens, fallbacks and the guardrails with bedrockGuardrailId and redactResponses, to their defaults)`}.`,
      commands: [],
    },
    {
      title: 'Record the recovery',
      detail: `Measured RPO = now - the restored recovery point's creation time${ageHours !== undefined ? ` (${ageHours} h for the newest now)` : ''}; measured RTO = the time from declaring to serving. Record both against ${Number.isNaN(rpoHours) ? 'the RPO and RTO the tier promised before it lost disaster recovery (its config has none now)' : `the tier's RPO ${rpoHours} h / RTO ${rtoHours} h`}.`,
      commands: [],
    },
  ];
  const warning = notServing(tenantId, input.status, input.disasterRecovery);
  return {
    tenantId, tier: input.tier, accountId, homeRegion: config.homeRegion, drRegion, ...(configDrRegion ? { configDrRegion } : {}), drRegionFrom, rpoHours, rtoHours,
    ...(warning ? { warning } : {}),
    // Read, a record without disasterRecovery: none deployed yet (the tier's DR region in the config); offline: unknown.
    drStack: { name: stack, status: input.disasterRecovery?.status ?? (input.offline === false ? 'NOT RECORDED (none in the registry record)' : 'UNKNOWN (registry not read)') },
    drBucket: bucket, drVault: vault, drKeyAlias: drKeyAlias(tenantId),
    // The newest few, and the one restored from when it is older than them (newer ones not COMPLETED).
    recoveryPoints: newest && !points.slice(0, PLAN_RECOVERY_POINTS).includes(newest) ? [...points.slice(0, PLAN_RECOVERY_POINTS), newest] : points.slice(0, PLAN_RECOVERY_POINTS),
    ...('error' in input.recoveryPoints ? { recoveryPointsError: input.recoveryPoints.error } : {}),
    newestRecoveryPointAgeHours: ageHours,
    withinRpo: ageHours === undefined || Number.isNaN(rpoHours) ? undefined : ageHours <= rpoHours,
    platform: { drRegion: platformRegion, registryVault, auditReplica },
    ...(input.disasterRecovery?.latestRestoreTest ? { latestRestoreTest: input.disasterRecovery.latestRestoreTest } : {}),
    steps,
  };
}

/**
 * The warning a plan for a PROVISIONING or FAILED tenant opens with (FailoverPlan.warning); undefined for any other
 * status. The DR stack's recorded status is named: DEPLOYING there says only that a deploy started.
 */
export function notServing(tenantId: string, status: TenantRecord['status'] | undefined, dr: TenantRecord['disasterRecovery']): string | undefined {
  if (status !== 'PROVISIONING' && status !== 'FAILED') return undefined;
  const drState = dr ? `its DR stack is recorded ${dr.status}${dr.status === 'DEPLOYING' ? ' (a deploy started; whether it came up, and whether any copy reached the DR vault, is not known from the record)' : ''}` : 'no DR stack is recorded';
  const why = status === 'PROVISIONING'
    ? 'its onboarding is still running: it has not served yet'
    : `its last operation failed: it may never have served (a failed onboarding), or may have served before the failure (tessera tenants show ${tenantId} shows its history)`;
  return `tenant ${tenantId} is ${status}: ${why}; ${drState}. Check that there is data to recover (the recovery points below) before following this plan`;
}

/** The plan as text for a terminal. */
export function failoverPlanLines(p: FailoverPlan): string {
  const hours = (h: number) => (Number.isNaN(h) ? 'n/a (tier has no DR now)' : `${h} h`);
  const lines = [
    ...(p.warning ? [`WARNING: ${p.warning}`] : []),
    `failover plan for tenant ${p.tenantId} (tier ${p.tier}, account ${p.accountId}): ${p.homeRegion} -> ${p.drRegion}`,
    `  RPO ${hours(p.rpoHours)}, RTO ${hours(p.rtoHours)}`,
    ...(p.configDrRegion ? [`  the config now gives tier ${p.tier} the DR region ${p.configDrRegion}, but this tenant's DR stack and recovery points are in ${p.drRegion} (${p.drRegionFrom === 'registry' ? 'its registry record' : '--dr-region'}): the plan fails over to ${p.drRegion}`] : []),
    ...(p.drRegionFrom === 'config' && p.drStack.status.startsWith('UNKNOWN') ? [`  DR region ${p.drRegion}: tier ${p.tier}'s in the config; the registry was not read, so where this tenant's DR stack is was not checked: if the tier's DR region changed after its DR stack was deployed, pass --dr-region <that region> (the registry record's disasterRecovery.region)`] : []),
    `  DR stack ${p.drStack.name} in ${p.drRegion}, status ${p.drStack.status}; bucket ${p.drBucket}; vault ${p.drVault}; key ${p.drKeyAlias}`,
  ];
  const t = p.latestRestoreTest;
  lines.push(t ? `  latest restore test: ${t.status}${t.validationStatus ? `, validation ${t.validationStatus}` : ''} at ${t.at} (job ${printable(t.restoreJobId)})${t.message ? `: ${printable(t.message)}` : ''}` : p.drStack.status.startsWith('UNKNOWN') ? '  latest restore test: unknown (registry not read)' : '  latest restore test: none recorded');
  if (p.recoveryPointsError) lines.push(`  recovery points: not listed (${printable(p.recoveryPointsError)})`);
  else if (!p.recoveryPoints.length) lines.push(`  recovery points: none in ${p.drVault} yet`);
  else {
    lines.push(p.newestRecoveryPointAgeHours === undefined
      ? '  newest recovery points (none COMPLETED: the database cannot be restored from any of these yet):'
      : `  newest recovery points (${p.newestRecoveryPointAgeHours} h old${p.withinRpo === undefined ? '' : p.withinRpo ? ', within RPO' : ', OLDER THAN THE RPO'}):`);
    for (const r of p.recoveryPoints) lines.push(`    ${r.createdAt ?? '?'}  ${r.status ?? '?'}  ${r.resourceType ?? '?'}  ${r.arn}`);
  }
  p.steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${s.title}`, `   ${s.detail}`);
    for (const c of s.commands) lines.push(`   $ ${c}`);
  });
  return lines.join('\n');
}

/** AWS clients of the command (replaced in tests). */
export interface FailoverIo {
  backup(region: string, credentials?: AwsCredentialIdentity, profile?: string): Promise<Pick<BackupClient, 'send'>>;
  /** Credentials of `roleArn`, from STS's endpoint in `region` (the DR region: the home one may be the lost one). */
  assumeRole(roleArn: string, region: string, profile?: string): Promise<AwsCredentialIdentity>;
  now(): Date;
}

// The Backup and STS clients are imported by the failover-plan run that calls them: every other
// `tessera tenants` run (list, show, create, ...) registers this subcommand and never loads them.
const processIo: FailoverIo = {
  backup: async (region, credentials, profile) => new (await import('@aws-sdk/client-backup')).BackupClient({ region, ...(credentials ? { credentials } : profile ? { profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } }),
  async assumeRole(roleArn, region, profile) {
    const { AssumeRoleCommand, STSClient } = await import('@aws-sdk/client-sts');
    // A regional STS endpoint in the DR region: without a region the SDK has none to call ("Region is missing").
    const out = await new STSClient({ region, ...(profile ? { profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } }).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'tessera-failover-plan' }));
    const c = out.Credentials!;
    return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken, expiration: c.Expiration };
  },
  now: () => new Date(),
};

/**
 * Recovery points of `vault` in `region`, newest first (at most PLAN_RECOVERY_POINTS, and the newest
 * COMPLETED one after them when none of those is), or why they could not be listed: the plan is
 * printed either way.
 */
export async function listRecoveryPoints(client: Pick<BackupClient, 'send'>, vault: string, where?: { region: string; accountId: string }): Promise<{ points: PlanRecoveryPoint[] } | { error: string }> {
  const { paginateListRecoveryPointsByBackupVault } = await import('@aws-sdk/client-backup');
  try {
    const points: PlanRecoveryPoint[] = [];
    for await (const page of paginateListRecoveryPointsByBackupVault(pages(client as BackupClient), { BackupVaultName: vault })) {
      for (const r of page.RecoveryPoints ?? []) {
        points.push({ arn: r.RecoveryPointArn!, resourceType: r.ResourceType, resourceArn: r.ResourceArn, createdAt: r.CreationDate?.toISOString(), status: r.Status });
      }
    }
    points.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
    const newest = points.find(restorable);
    const shown = points.slice(0, PLAN_RECOVERY_POINTS);
    // The newest COMPLETED one too when the newest few are not COMPLETED (copies still being made, PARTIAL, EXPIRED): the plan restores from it.
    return { points: newest && !shown.includes(newest) ? [...shown, newest] : shown };
  } catch (e) {
    const call = `ListRecoveryPointsByBackupVault of vault ${vault}${where ? ` in ${where.region} (account ${where.accountId})` : ''}`;
    return { error: `${call}: ${describeListingError(e as Error & { $metadata?: { httpStatusCode?: number } })}` };
  }
}

/**
 * Why the vault could not be listed, in words. An answer the SDK cannot parse (unparsedAnswer, lambdas/shared/unparsed-answer.ts:
 * a body that is not AWS Backup's JSON, the SDK's `SyntaxError` with "Deserialization error: to see the raw response, inspect
 * the hidden field {error}.$response") comes from an endpoint that is not AWS Backup's API — an emulator without the call
 * (moto answers it with a 404 page), an endpoint override (endpointOverride), a proxy: its HTTP status and the endpoint are
 * named instead of the parser's message.
 */
export function describeListingError(e: Error & { $metadata?: { httpStatusCode?: number } }): string {
  const unparsed = unparsedAnswer(e);
  if (unparsed) {
    const override = endpointOverride('Backup');
    return `the endpoint${override ? ` ${override.url} (${override.variable})` : ''} answered HTTP ${unparsed.status ?? '?'} with a body that is not AWS Backup's JSON: `
      + 'not AWS Backup\'s answer (an emulator without this call, such as moto, an endpoint override or a proxy); list the vault in the AWS console or with the list command of step 1';
  }
  const status = e.$metadata?.httpStatusCode;
  return `${e.name}: ${e.message.split('\n')[0]}${status ? ` (HTTP ${status})` : ''}`;
}

/** An IAM role ARN: `arn:<partition>:iam::<12-digit account>:role/<path/><name>` (IAM role names: [\w+=,.@-], paths of them and `/`). */
const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/;

/**
 * Checks `--vpc-cidr` as the config checks ranges (lib/config/cidr.ts parseCidr: a canonical IPv4 network)
 * and as the failover blueprint's `VpcCidr` parameter does (a /tenantVpcPrefixLength), inside the tier's pool.
 * @throws CliError (exit 2) naming the flag and the value
 */
export function checkVpcCidr(value: string, tier: PlatformConfig['tiers'][string]): void {
  const range = parseCidr(value);
  const { tenantCidrPool, tenantVpcPrefixLength } = tier.network;
  if (!range) throw new CliError(`--vpc-cidr ${value}: must be an IPv4 network in CIDR form such as 10.0.0.0/16 (no host bits set)`);
  // Both problems at once: a value with the wrong length and outside the pool is told what it must be in one go.
  const pool = parseCidr(tenantCidrPool);
  const badPrefix = range.prefix !== tenantVpcPrefixLength;
  const outside = pool !== undefined && (range.first < pool.first || range.last > pool.last);
  if (badPrefix && outside) throw new CliError(`--vpc-cidr ${value}: must be a /${tenantVpcPrefixLength} inside the tier's network.tenantCidrPool ${tenantCidrPool} (a /${range.prefix} outside it): the tier's network.tenantVpcPrefixLength (the failover blueprint's VpcCidr refuses others), in the pool where the onboarding allocated it`);
  if (badPrefix) throw new CliError(`--vpc-cidr ${value}: must be a /${tenantVpcPrefixLength} (the tier's network.tenantVpcPrefixLength; the failover blueprint's VpcCidr refuses others)`);
  if (outside) throw new CliError(`--vpc-cidr ${value}: not inside the tier's network.tenantCidrPool ${tenantCidrPool}, where the onboarding allocated it`);
}

async function loadConfig(file: string | undefined): Promise<PlatformConfig> {
  if (!file) throw new CliError('--config <file> is required: the tier\'s DR region, RPO and RTO come from its tiers (tessera init writes tessera.config.yaml)');
  // The config's schema loads only here: `tessera tenants` commands that read no config file (all but this one) start without it.
  const { loadConfigReport } = await import('../config/load-config.js');
  try {
    // The plan names accounts, tables and roles from the config: one still holding the embedded
    // default's example values would print commands for accounts that are not yours (refused, as synth refuses it).
    return loadConfigReport({ file }, { refusePlaceholders: true }).config;
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`${e.message}\n  fix the config file named above (--config ${file})`, 2, undefined, e);
    throw new CliError(`--config ${file}: cannot be read (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * `tessera tenants failover-plan <id>`: the concrete failover steps of one tenant for the loss of
 * its home region, with its DR region, stack, bucket, vault and newest recovery points, and its
 * tier's RPO/RTO; `--json` prints the plan object.
 *
 * The tenant record comes through the admin API like the other tenant commands; when the home
 * region (and the admin API with it) is gone, `--account` and `--tier` give what the plan needs
 * without it, and `--vpc-cidr` the tenant's VPC range (checkVpcCidr) for steps 5 and 8. The recovery
 * points are listed directly in the DR region with the operator's credentials (or `--role-arn`, an IAM
 * role ARN, assumed first through STS's endpoint in the DR region), never through the admin API: its
 * Lambdas run in the home region, the one a failover is about. An AssumeRole or listing failure becomes
 * the plan's `recoveryPointsError`: the plan is printed either way.
 * @throws CliError (exit 2) on a bad id, flag or config; without an admin API URL, naming `--account` and `--tier`
 */
export function tenantsFailoverCommand(io: FailoverIo = processIo): Command {
  return new Command('failover-plan').description('the failover steps of a tenant for the loss of its home region: DR region, bucket, vault, newest recovery points, RPO/RTO; with platform DR, the restores of the registry, the API keys and the usage ledger (budgets go on from a copy up to 1 h old)')
    .argument('<id>', 'tenant id')
    .requiredOption('--config <file>', '(required) the Tessera config file the platform was deployed with (the tiers\' disasterRecovery, the platform account; refused while it keeps placeholders)')
    .option('--account <accountId>', 'the tenant\'s account, without reading the registry (the admin API is down with the home region)')
    .option('--tier <tier>', 'the tenant\'s tier, with --account')
    .option('--role-arn <arn>', 'a role of the tenant\'s account to assume for listing its DR vault (default: your current credentials)')
    .option('--vpc-cidr <cidr>', 'the tenant\'s VPC range (registry vpcCidr), for steps 5 and 8 when the registry cannot be read')
    .option('--dr-region <region>', 'with --account: the region of the tenant\'s DR stack (registry disasterRecovery.region) when the tier\'s DR region in --config changed since, or the tier has none now (default: the tier\'s in --config)')
    .action(async (id: string, o: { config?: string; account?: string; tier?: string; roleArn?: string; vpcCidr?: string; drRegion?: string }, cmd: Command) => {
      const parsedId = TenantId.safeParse(id);
      if (!parsedId.success) throw new CliError(`<id> ${JSON.stringify(id)}: ${parsedId.error.issues[0].message}`);
      if ((o.account === undefined) !== (o.tier === undefined)) throw new CliError('--account and --tier go together: both (offline, without the registry) or neither (the registry through the admin API)');
      if (o.account !== undefined && !/^\d{12}$/.test(o.account)) throw new CliError(`--account ${o.account}: expected a 12-digit AWS account id`);
      if (o.roleArn !== undefined && !ROLE_ARN.test(o.roleArn)) throw new CliError(`--role-arn ${o.roleArn}: expected an IAM role ARN, arn:<partition>:iam::<12-digit account>:role/<name>`);
      if (o.drRegion !== undefined && o.account === undefined) throw new CliError('--dr-region goes with --account and --tier (offline): otherwise the registry record names the region of the tenant\'s DR stack');
      if (o.drRegion !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(o.drRegion)) throw new CliError(`--dr-region ${o.drRegion}: expected an AWS region name, e.g. us-west-2`);
      const config = await loadConfig(o.config);
      if (o.drRegion !== undefined && o.drRegion === config.homeRegion) throw new CliError(`--dr-region ${o.drRegion}: is the config's homeRegion, the region a failover leaves; the DR region is another`);
      // A region outside allowedRegions: the region guardrail (SCP) denies the vault listing and every step there, and step 5's
      // synth refuses the config copy that gives the tier that DR region: the plan could not be followed.
      if (o.drRegion !== undefined && !config.allowedRegions.includes(o.drRegion)) {
        throw new CliError(`--dr-region ${o.drRegion}: not in the config's allowedRegions (${config.allowedRegions.join(', ')}): the region guardrail denies it and step 5's synth refuses a DR region outside them; `
          + `if the tenant's DR stack is there, add ${o.drRegion} to allowedRegions in --config (and deploy TesseraOrganization) first`);
      }
      if (o.tier !== undefined && !config.tiers[o.tier]) throw new CliError(`--tier ${o.tier}: not a tier of --config ${o.config} (${Object.keys(config.tiers).join(', ')})`);
      let record: Pick<TenantRecord, 'tenantId' | 'tier' | 'accountId' | 'disasterRecovery' | 'vpcCidr'> & { status?: TenantRecord['status'] };
      let json = Boolean(cmd.optsWithGlobals<AdminGlobals>().json);
      if (o.account) {
        record = { tenantId: id, tier: o.tier!, accountId: o.account };
      } else {
        let target: ReturnType<typeof adminTarget>;
        try {
          target = adminTarget(cmd);
        } catch (e) {
          // The admin API runs in the home region, the one a failover is about: say how to plan without it.
          if (e instanceof CliError) throw new CliError(`${e.message}\n  or pass --account and --tier (and --vpc-cidr): the plan without the registry`, e.exitCode, e.errorClass, e);
          throw e;
        }
        json = target.json;
        record = await target.api.call<TenantRecord>('GET', `/admin/tenants/${encodeURIComponent(id)}`);
        if (!record.accountId) throw new CliError(`tenant ${id} has no account yet (status ${record.status}): nothing was deployed, nothing to fail over`, 1);
        // Before listing the vault: an offboarded tenant gets no plan at all.
        refuseOffboarded(id, record.status, record.disasterRecovery);
      }
      const tier = config.tiers[record.tier];
      if (o.vpcCidr !== undefined && tier) checkVpcCidr(o.vpcCidr, tier);
      const drRegion = drRegionOf(tier ? disasterRecoveryOf(tier)?.region : undefined, record.disasterRecovery, o.drRegion);
      let recoveryPoints: FailoverInput['recoveryPoints'] = { points: [] };
      if (drRegion) {
        let credentials: AwsCredentialIdentity | undefined;
        try {
          credentials = o.roleArn ? await io.assumeRole(o.roleArn, drRegion, cmd.optsWithGlobals<AdminGlobals>().profile) : undefined;
        } catch (e) {
          // The plan is printed either way (docs/resilience.md): an AssumeRole refusal is the recovery points' error.
          credentials = undefined;
          recoveryPoints = { error: `assuming --role-arn ${o.roleArn} in ${drRegion}: ${(e as Error).name}: ${(e as Error).message}` };
        }
        if (!('error' in recoveryPoints)) recoveryPoints = await listRecoveryPoints(await io.backup(drRegion, credentials, cmd.optsWithGlobals<AdminGlobals>().profile), drBackupVaultName(id), { region: drRegion, accountId: record.accountId! });
      }
      const plan = failoverPlan({ tenantId: id, tier: record.tier, accountId: record.accountId!, disasterRecovery: record.disasterRecovery, status: record.status, vpcCidr: o.vpcCidr ?? record.vpcCidr, ...(o.drRegion ? { drRegion: o.drRegion } : {}), config, configFile: o.config, recoveryPoints, now: io.now(), offline: o.account !== undefined });
      process.stdout.write(`${json ? JSON.stringify(plan, null, 2) : failoverPlanLines(plan)}\n`);
    });
}
