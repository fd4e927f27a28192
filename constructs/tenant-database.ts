import { ArnFormat, CfnMapping, Duration, RemovalPolicy, Stack, Token, type IResolvable } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { admitPeers } from './admit-peers.js';
import { SERVICE_ROLE_PATH, TENANT_ID_TAG } from '../lib/tenant-naming.js';
import { TENANT_DB_ENGINE, TENANT_DB_STORAGE_TYPE } from '../lib/tenant-store-settings.js';
import { rdsWindowsFor, type RdsWindows } from '../lib/rds-windows.js';
import { BACKUP_SCHEDULE_MINUTES } from '../lib/backup-schedule-minute.js';

export interface TenantDatabaseProps {
  /**
   * DB instance identifier (unique per account and region). Fixed rather than generated so that the
   * log groups RDS exports to (`/aws/rds/instance/<id>/<log>`) can be created first, under the
   * tenant key; it also makes CloudFormation refuse any update that would replace the database.
   */
  readonly instanceIdentifier: string;
  /**
   * The tenant id: the value of the `tessera:tenant-id` tag the blueprint puts on the instance, which
   * RDS copies to its snapshots (`copyTagsToSnapshot`) and AWS Backup to its recovery points. The
   * backup role acts only on snapshots carrying it (every Backup snapshot is named `awsbackup:job-*`).
   */
  readonly tenantId: string;
  /**
   * Prefix of the account-unique names (Backup vault and plan): `<prefix>-database`.
   * Must carry the tenant id: the workload account hosts many tenants.
   */
  readonly namePrefix: string;
  readonly vpc: ec2.IVpc;
  /** Subnets of the instance; must be private. */
  readonly subnets: ec2.SubnetSelection;
  /** The tenant's key: storage, Performance Insights, the managed master secret and backups. */
  readonly encryptionKey: kms.IKey;
  /** PostgreSQL major version (16 or later). */
  readonly engineMajorVersion: '16' | '17';
  /** Instance class, e.g. `db.t4g.medium`. */
  readonly instanceClass: string;
  /** Initial storage. */
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling. */
  readonly maxAllocatedStorageGiB: number;
  /** Whether a synchronous standby runs in a second AZ. */
  readonly multiAz: boolean;
  /** Automated backup retention, 1-35 days. */
  readonly backupRetentionDays: number;
  /** Listener port; never the default 5432. */
  readonly port: number;
  /** Peers allowed to connect on `port`, by a name that is stable across tiers (it names the rule). */
  readonly allowedPeers: Record<string, ec2.IPeer>;
  /**
   * RDS deletion protection. A blueprint passes a parameter-driven value: off while the stack is
   * first created (a create that rolls back must be able to delete the instance; RDS refuses to
   * delete a protected one and the rollback would end ROLLBACK_FAILED), on from then on.
   * @default true
   */
  readonly deletionProtection?: boolean | IResolvable;
  /**
   * Enhanced Monitoring interval.
   * @default Duration.seconds(60)
   */
  readonly monitoringInterval?: Duration;
  /**
   * Copies of the database's recovery points to the tenant's DR vault (a DR tier only).
   * @default - no copies: the recovery points stay in the home region
   */
  readonly disasterRecovery?: TenantDatabaseDisasterRecovery;
}

/**
 * Where and how often the database's recovery points are copied to the DR region. The DR vault and
 * key are the DR blueprint's (lib/tenant-dr-stack.ts), reached by their deterministic names.
 *
 * AWS Backup copies snapshot recovery points of RDS across regions; a cross-region copy of a
 * continuous (point-in-time) backup becomes a snapshot, without PITR, so the RPO is met by a snapshot
 * rule scheduled every `intervalHours`, each snapshot copied when it completes.
 * Source: https://docs.aws.amazon.com/aws-backup/latest/devguide/recov-point-create-a-copy.html
 */
export interface TenantDatabaseDisasterRecovery {
  /** The DR region. */
  readonly region: string;
  /** Name of the DR vault in the DR region, `tessera-<id>-dr`. */
  readonly vaultName: string;
  /** Alias of the DR key, `alias/tessera-<id>-dr` (the backup role's policy finds the key by it). */
  readonly keyAlias: string;
  /**
   * Name of the backup role, `tessera-<id>-database-backup`: the DR key's policy admits it by name
   * (the role is generated-named without DR, and renamed, i.e. replaced, when the tier gains DR).
   */
  readonly backupRoleName: string;
  /** Hours between two DR snapshots (1, 2, 3, 4, 6, 8 or 12: divisors of 24, lib/config/disaster-recovery.ts drBackupIntervalHours). */
  readonly intervalHours: number;
  /**
   * Days the frequent DR snapshots are kept, at home and in the DR vault alike, and the monthly snapshot's DR copy
   * (the daily ones are kept 35 days): a copy keeps its source's expiration, so a source kept shorter would cut the copy short
   * (https://docs.aws.amazon.com/aws-backup/latest/devguide/recov-point-create-a-copy.html).
   */
  readonly copyRetentionDays: number;
  /**
   * The minute past the hour (0-59: a number's string or the `BackupScheduleMinute` parameter's token) at which every
   * rule of the plan starts: the daily (03:<m>), the monthly (04:<m> on the 1st) and the DR rule (<m> past every
   * `intervalHours`). The same minute for all three keeps their overlaps, and so which rule takes a run (and copies it),
   * what they were at :00; each tenant's own minute (lib/backup-schedule-minute.ts) spreads the DR tenants' copy jobs
   * over the hour instead of queueing them all at :00.
   * @default '0'
   */
  readonly scheduleMinute?: string;
}

const PG_LOG_TYPES = ['postgresql', 'upgrade', 'iam-db-auth-error'];

/**
 * The tenant's PostgreSQL: private, encrypted with the tenant key, IAM authentication, TLS forced,
 * master password managed and rotated by RDS in Secrets Manager (encrypted with the tenant key,
 * so no rotation Lambda travels in the blueprint), all logs exported, Enhanced Monitoring,
 * deletion protection, a snapshot on stack deletion, and an AWS Backup plan into a vault
 * encrypted with the tenant key.
 */
export class TenantDatabase extends Construct {
  readonly instance: rds.CfnDBInstance;
  readonly securityGroup: ec2.SecurityGroup;
  readonly endpointAddress: string;
  readonly port: number;
  readonly dbiResourceId: string;
  /** AWS Backup's role for this database's plan (the tenant key must admit it). */
  readonly backupRole: iam.Role;
  /** The backup role's customer-managed policy: this database, its vault, key and snapshots only. */
  readonly backupPolicy: iam.ManagedPolicy;
  /** The database's Backup vault (home region). */
  readonly backupVault: backup.BackupVault;
  /** The DB subnet group's name (a restore test restores into it). */
  readonly subnetGroupName: string;
  /** The DB parameter group's name (a restore test's instance gets it, like the database). */
  readonly parameterGroupName: string;

  constructor(scope: Construct, id: string, props: TenantDatabaseProps) {
    super(scope, id);
    if (props.port === 5432) throw new Error('TenantDatabase port must not be the PostgreSQL default 5432, got 5432');
    if (props.backupRetentionDays < 1 || props.backupRetentionDays > 35) {
      throw new Error(`TenantDatabase backupRetentionDays must be 1-35, got ${props.backupRetentionDays}`);
    }
    const stack = Stack.of(this);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Tenant PostgreSQL: ingress on the database port from the tenant compute only',
      allowAllOutbound: false,
    });
    admitPeers(this.securityGroup, props.allowedPeers, props.port, 'tenant compute to PostgreSQL');

    // Deleted with the stack: it holds no data, and a retained one per offboarded tenant would use up
    // the account's DB subnet groups (50 per region by default).
    const subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      description: 'Tenant PostgreSQL private subnets',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The exported PostgreSQL logs can hold query text: created here under the tenant key, before the
    // instance, so RDS writes into them instead of creating unencrypted ones.
    const logGroups = PG_LOG_TYPES.map((type) => new logs.LogGroup(this, `Log-${type}`, {
      logGroupName: `/aws/rds/instance/${props.instanceIdentifier}/${type}`,
      encryptionKey: props.encryptionKey,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    }));

    const parameterGroup = new rds.CfnDBParameterGroup(this, 'Parameters', {
      family: `postgres${props.engineMajorVersion}`,
      description: 'Tessera tenant PostgreSQL: TLS only, connection and statement logging',
      parameters: { 'rds.force_ssl': '1', log_connections: '1', log_disconnections: '1', log_min_duration_statement: '1000' },
    });

    // Known before the instance exists (the identifier is fixed), so the trust policy can name it.
    const instanceArn = stack.formatArn({ service: 'rds', resource: 'db', resourceName: props.instanceIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    // Confused-deputy conditions as the RDS User Guide documents them for the Enhanced Monitoring role:
    // aws:SourceArn = the DB instance, aws:SourceAccount = its account
    // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html#USER_Monitoring.OS.confused-deputy).
    const monitoringRole = new iam.Role(this, 'MonitoringRole', {
      path: SERVICE_ROLE_PATH,
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': instanceArn } }),
      description: 'RDS Enhanced Monitoring publishes OS metrics for the tenant database',
    });
    this.instance = new rds.CfnDBInstance(this, 'Instance', {
      dbInstanceIdentifier: props.instanceIdentifier,
      engine: TENANT_DB_ENGINE,
      // The major version alone (checked against RDS's offer per Region by preflight rds-postgres-major-sold-in-region):
      // RDS creates the instance at that major's default minor version (DescribeDBEngineVersions DefaultOnly: "the
      // default version of the specified engine or engine and major version combination"; aws-cdk-lib's
      // PostgresEngineVersion.VER_17: "only a major version, without a specific minor version") and
      // autoMinorVersionUpgrade keeps it current, where a pinned minor would age in the template until RDS deprecates
      // it. cfn-lint 1.58's W3691 ("Engine version '17' ... is deprecated") is an artifact of its data: its
      // deprecated list carries the bare major of every major with a deprecated minor ("16" beside 16.1-16.8, "17"
      // beside 17.1-17.4), and its list of valid versions (E3691's) holds "17" as well, with 17.5-17.11 not deprecated.
      engineVersion: props.engineMajorVersion,
      dbInstanceClass: props.instanceClass,
      allocatedStorage: String(props.allocatedStorageGiB),
      maxAllocatedStorage: props.maxAllocatedStorageGiB,
      storageType: TENANT_DB_STORAGE_TYPE,
      storageEncrypted: true,
      kmsKeyId: props.encryptionKey.keyArn,
      masterUsername: 'tessera_admin',
      manageMasterUserPassword: true,
      masterUserSecret: { kmsKeyId: props.encryptionKey.keyArn },
      enableIamDatabaseAuthentication: true,
      port: String(props.port),
      publiclyAccessible: false,
      multiAz: props.multiAz,
      dbSubnetGroupName: subnetGroup.subnetGroupName,
      vpcSecurityGroups: [this.securityGroup.securityGroupId],
      dbParameterGroupName: parameterGroup.ref,
      backupRetentionPeriod: props.backupRetentionDays,
      copyTagsToSnapshot: true,
      deletionProtection: props.deletionProtection ?? true,
      autoMinorVersionUpgrade: true,
      // engineMajorVersion is tier config (16 | 17) and docs/upgrading-and-teardown.md presents a major upgrade as a config
      // change: ModifyDBInstance refuses an EngineVersion of another major version unless "Major version
      // upgrades must be allowed" (AllowMajorVersionUpgrade; "Changing this parameter doesn't result in an
      // outage"), https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html.
      // The same ModifyDBInstance gets the new parameter group RDS asks for on a major upgrade ("a new DB
      // parameter group in the DB parameter group family for the new engine version must be specified"):
      // its Family follows engineMajorVersion, so CloudFormation creates a new one first. A downgrade is
      // refused by RDS and, before any stack update, by the lifecycle (lambdas/lifecycle/tier-migration.ts).
      allowMajorVersionUpgrade: true,
      enableCloudwatchLogsExports: PG_LOG_TYPES,
      monitoringInterval: (props.monitoringInterval ?? Duration.seconds(60)).toSeconds(),
      monitoringRoleArn: monitoringRole.roleArn,
      enablePerformanceInsights: true,
      performanceInsightsKmsKeyId: props.encryptionKey.keyArn,
      performanceInsightsRetentionPeriod: 7,
    });
    this.instance.applyRemovalPolicy(RemovalPolicy.SNAPSHOT);

    // The statements of AmazonRDSEnhancedMonitoringRole, narrowed to what this instance writes: the
    // account has one RDSOSMetrics log group for every instance, and RDS names each instance's stream
    // after its DbiResourceId (db-XXXX). The id exists only once the instance does, so this policy is a
    // resource of its own that follows the instance (role <- instance <- policy: no cycle).
    new iam.ManagedPolicy(this, 'MonitoringPolicy', {
      roles: [monitoringRole],
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy'],
          resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: 'RDSOSMetrics', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        }),
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams', 'logs:GetLogEvents'],
          resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `RDSOSMetrics:log-stream:${this.instance.attrDbiResourceId}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        }),
      ],
    });
    for (const group of logGroups) this.instance.node.addDependency(group);
    this.subnetGroupName = subnetGroup.subnetGroupName;
    this.parameterGroupName = parameterGroup.ref;
    if (Token.isUnresolved(this.instance.deletionProtection)) {
      acknowledge(this.instance, ['AwsSolutions::AwsSolutions-RDS10', 'HIPAA.Security::HIPAA.Security-RDSInstanceDeletionProtectionEnabled', 'NIST.800.53.R5::NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled'],
        'Deletion protection is a blueprint parameter (default true): off only while the onboarding first creates the stack, so that a failed create can roll the instance back, and switched on by the onboarding as soon as the create succeeds; every later update keeps it on.');
    }
    if (!props.multiAz) {
      acknowledge(this.instance, ['AwsSolutions::AwsSolutions-RDS3', 'NIST.800.53.R5::NIST.800.53.R5-RDSMultiAZSupport', 'HIPAA.Security::HIPAA.Security-RDSMultiAZSupport'],
        `The tier is configured single-AZ (database.multiAz=false) to keep its price down; automated backups (${props.backupRetentionDays} days), the AWS Backup plan and a final snapshot protect the data, and a tier change turns Multi-AZ on in place.`);
    }

    this.endpointAddress = this.instance.attrEndpointAddress;
    this.port = props.port;
    this.dbiResourceId = this.instance.attrDbiResourceId;

    const vault = this.backupVault = new backup.BackupVault(this, 'BackupVault', {
      backupVaultName: `${props.namePrefix}-database`,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Every recovery point is tagged with the tenant on top of the tags Backup copies from the instance.
    const recoveryPointTags = { [TENANT_ID_TAG]: props.tenantId };
    const dr = props.disasterRecovery;
    const drVault = dr ? backup.BackupVault.fromBackupVaultArn(this, 'DrVault',
      stack.formatArn({ service: 'backup', region: dr.region, resource: 'backup-vault', resourceName: dr.vaultName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })) : undefined;
    // A DR tier's daily and monthly rules coincide with DR runs (daily 03:00 when N divides 3, monthly 04:00 on the 1st
    // when N divides 4, every day for N = 1). AWS Backup then takes one backup, for the rule with the longer retention,
    // judged over the full start windows, and a rule's copy action runs only with its own backup (disasterRecoveryCopy):
    // each rule copies to the DR vault, and starts within the hour so it stands in for its own hour's DR run only.
    const drCopy = (days: number) => (drVault ? disasterRecoveryCopy(drVault, days) : {});
    // Every rule starts at the same minute past the hour, the tenant's (a DR tier) or :00 (the same cron strings as before).
    const minute = dr?.scheduleMinute ?? '0';
    if (!Token.isUnresolved(minute) && !/^[1-5]?[0-9]$/.test(minute)) throw new Error(`TenantDatabase disasterRecovery.scheduleMinute must be a whole minute from 0 to 59, got ${minute}`);
    if (dr) {
      // The DR rules start within 60 minutes: RDS's random maintenance window could swallow a whole start window (AWS Backup
      // starts no backup in the hour before it or during it), so a DR tenant's windows are placed by its minute (lib/rds-windows.ts).
      const windows = rdsWindowsOf(this, minute);
      this.instance.preferredBackupWindow = windows.backup;
      this.instance.preferredMaintenanceWindow = windows.maintenance;
    }
    const plan = new backup.BackupPlan(this, 'BackupPlan', {
      backupPlanName: `${props.namePrefix}-database`,
      backupVault: vault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: 'daily',
          scheduleExpression: events.Schedule.expression(`cron(${minute} 3 * * ? *)`),
          deleteAfter: Duration.days(35),
          recoveryPointTags,
          // The daily recovery points also reach the DR region, kept as long as at home.
          ...drCopy(35),
        }),
        ...(dr && drVault ? [drCopyRule(dr, drVault, recoveryPointTags, minute)] : []),
        new backup.BackupPlanRule({
          ruleName: 'monthly',
          scheduleExpression: events.Schedule.expression(`cron(${minute} 4 1 * ? *)`),
          // No moveToColdStorageAfter: RDS recovery points have no cold storage ("Resource types that can
          // transition to cold storage are listed in the Feature availability by resource table. AWS Backup
          // ignores this expression for other resource types",
          // https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Lifecycle.html): they stay warm
          // (and are billed warm) for the whole year whatever the rule says.
          deleteAfter: Duration.days(365),
          recoveryPointTags,
          // Its copy stands in for the DR run of its hour, which it wins over: kept in the DR vault as long as that run's.
          ...drCopy(dr?.copyRetentionDays ?? 0),
        }),
      ],
    });
    // Backup's service role, on the service-role path; the tenant key admits it through Backup and RDS.
    // Trust without aws:SourceArn / aws:SourceAccount: AWS Backup documents neither key for the role it
    // assumes (its confused-deputy page covers SNS topic and KMS key policies only, and its service-role
    // page trusts the bare principal), and a condition on a key the service does not send would make
    // every backup job fail with "cannot be assumed by AWS Backup":
    // https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-service-confused-deputy-prevention.html
    // https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html
    // What binds the role to this tenant is its policy below (this database, this vault, this tenant's
    // snapshots) and iam:PassRole, which only this tenant's principals hold for it.
    this.backupRole = new iam.Role(this, 'BackupRole', {
      roleName: dr?.backupRoleName,
      path: SERVICE_ROLE_PATH,
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'AWS Backup snapshots of the tenant database',
    });
    plan.addSelection('Database', {
      role: this.backupRole,
      // CDK would attach AWSBackupServiceRolePolicyForBackup (every database and snapshot of the account).
      disableDefaultBackupPolicy: true,
      resources: [backup.BackupResource.fromArn(stack.formatArn({ service: 'rds', resource: 'db', resourceName: this.instance.ref, arnFormat: ArnFormat.COLON_RESOURCE_NAME }))],
    });
    this.backupPolicy = new iam.ManagedPolicy(this, 'BackupPolicy', { roles: [this.backupRole], statements: backupStatements(stack, {
      instanceArn: stack.formatArn({ service: 'rds', resource: 'db', resourceName: this.instance.ref, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      vaultArn: vault.backupVaultArn,
      keyArn: props.encryptionKey.keyArn,
      tenantId: props.tenantId,
    }) });
    if (dr && drVault) {
      const drStatements = drCopyStatements(stack, { region: dr.region, vaultArn: drVault.backupVaultArn, keyAlias: dr.keyAlias, tenantId: props.tenantId });
      for (const statement of drStatements) this.backupPolicy.addStatements(statement);
    }
    acknowledge(this.backupPolicy, [
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:snapshot:awsbackup:job-*]',
      'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      ...(dr ? [
        `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:${dr.region}:<AWS::AccountId>:snapshot:awsbackup:*]`,
        `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${dr.region}:<AWS::AccountId>:key/*]`,
      ] : []),
    ], (dr ? 'Cross-region copies land in the DR region as snapshots named awsbackup:* by AWS Backup, narrowed by the tenant tag like the home ones; the DR key is the DR blueprint\'s, named by its alias (kms:ResourceAliases) and used through Backup and RDS only. ' : '') + 'AWS Backup names every RDS snapshot it takes awsbackup:job-<uuid> in every tenant, so the snapshot statements carry the tenant tag as a condition (aws:ResourceTag, and aws:RequestTag when a request sets it); tag:GetResources is a wildcard-only action (no resource type) that Backup uses to resolve selections.');
  }
}

interface BackupPolicyTargets {
  readonly instanceArn: string;
  readonly vaultArn: string;
  readonly keyArn: string;
  readonly tenantId: string;
}

/**
 * What AWS Backup needs to snapshot one RDS DB instance, from the RDS, KMS, tag and vault statements
 * of AWSBackupServiceRolePolicyForBackup (AWS's documented starting point for a customer-managed
 * Backup role: https://docs.aws.amazon.com/aws-backup/latest/devguide/security-iam-awsmanpol.html,
 * policy: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSBackupServiceRolePolicyForBackup.html),
 * narrowed to this tenant. Left out because the plan uses none of them: cluster actions (Aurora),
 * continuous backup's rds:DeleteDBInstanceAutomatedBackup, copy jobs' rds:CopyDBSnapshot and
 * rds:ModifyDBSnapshotAttribute (sharing a snapshot), and every other service.
 */
function backupStatements(stack: Stack, t: BackupPolicyTargets): iam.PolicyStatement[] {
  const snapshots = stack.formatArn({ service: 'rds', resource: 'snapshot', resourceName: 'awsbackup:job-*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const ownTag = { [`aws:ResourceTag/${TENANT_ID_TAG}`]: t.tenantId };
  // A request that sets the tenant tag may set only this tenant's (Backup copies the instance's tags and
  // adds the plan's recovery point tags); no request may hand a snapshot to another tenant.
  const requestTag = { [`aws:RequestTag/${TENANT_ID_TAG}`]: t.tenantId };
  return [
    new iam.PolicyStatement({
      sid: 'TheTenantDatabase',
      // ModifyDBInstance: AWS's policy grants it for continuous backup (Backup takes over the instance's
      // backup retention); kept, on this one instance only, so turning continuous backup on later works.
      actions: ['rds:DescribeDBInstances', 'rds:ListTagsForResource', 'rds:CreateDBSnapshot', 'rds:DescribeDBSnapshots', 'rds:ModifyDBInstance'],
      resources: [t.instanceArn],
    }),
    new iam.PolicyStatement({
      // CreateDBSnapshot authorizes on the instance (above) and on the new snapshot, which has no tags yet.
      sid: 'NewSnapshotsOfTheTenantDatabase',
      actions: ['rds:CreateDBSnapshot'],
      resources: [snapshots],
      conditions: { StringEqualsIfExists: requestTag },
    }),
    new iam.PolicyStatement({
      sid: 'TheTenantSnapshots',
      actions: ['rds:DescribeDBSnapshots', 'rds:ListTagsForResource', 'rds:DeleteDBSnapshot'],
      resources: [snapshots],
      conditions: { StringEquals: ownTag },
    }),
    new iam.PolicyStatement({
      // Tagging a recovery point: one that is already this tenant's, or a new one that has no tenant yet.
      sid: 'TagTheTenantSnapshots',
      actions: ['rds:AddTagsToResource'],
      resources: [snapshots],
      conditions: { StringEqualsIfExists: { ...ownTag, ...requestTag } },
    }),
    new iam.PolicyStatement({
      sid: 'TheTenantVault',
      actions: ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'],
      resources: [t.vaultArn],
    }),
    new iam.PolicyStatement({
      sid: 'TheTenantKey',
      actions: ['kms:DescribeKey'],
      resources: [t.keyArn],
    }),
    new iam.PolicyStatement({
      sid: 'GrantsOnTheTenantKeyForAwsResources',
      actions: ['kms:CreateGrant'],
      resources: [t.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
    new iam.PolicyStatement({
      sid: 'ResolveTheSelection',
      actions: ['tag:GetResources'],
      resources: ['*'],
    }),
  ];
}


/**
 * What a DR tier's daily and monthly rules add: a copy of each recovery point to the DR vault, kept `copyDays` there,
 * and a start window of one hour (AWS Backup's minimum) instead of the default 8 hours.
 *
 * Why: "If you have a backup plan with multiple rules and the time frames of the two rules overlap, AWS Backup optimizes
 * the backup and takes a backup for the rule with the longer retention time. The optimization takes into account the
 * full start window" (https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html), and
 * "if a copy rule is attached to a conflicting schedule rule, the copy rule will only run if the schedule rule has run"
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/understanding-backup-plan-summaries.html). The monthly rule
 * (365 days) wins over the DR rule (a few days): without its own copy, the DR copies of the runs it took were never
 * made (an RPO of 1 h broken once a month). With the default 8-hour windows the monthly rule (04:00-12:00 on the 1st)
 * took the 1st's daily run (03:00-11:00) and up to 8 hourly DR runs; with one-hour windows it takes at most the DR
 * run of its own hour, and the daily one only the DR run of 03:00.
 */
function disasterRecoveryCopy(drVault: backup.IBackupVault, copyDays: number): Pick<backup.BackupPlanRuleProps, 'copyActions' | 'startWindow'> {
  return { copyActions: [{ destinationBackupVault: drVault, deleteAfter: Duration.days(copyDays) }], startWindow: Duration.hours(1) };
}

/**
 * The database's backup and maintenance windows for `minute` ({@link rdsWindowsFor}): literal strings for a literal minute,
 * or `Fn::FindInMap` over a mapping of all 60 minutes for the `BackupScheduleMinute` parameter's token (CloudFormation has
 * no arithmetic on a parameter).
 * @param minute the backup minute, a number's string or the parameter's token
 */
function rdsWindowsOf(scope: Construct, minute: string): RdsWindows {
  if (!Token.isUnresolved(minute)) return rdsWindowsFor(Number(minute));
  const map = new CfnMapping(scope, 'RdsWindows', { mapping: Object.fromEntries(BACKUP_SCHEDULE_MINUTES.map((m) => [m, { ...rdsWindowsFor(Number(m)) }])) });
  return { backup: map.findInMap(minute, 'backup'), maintenance: map.findInMap(minute, 'maintenance') };
}

/**
 * The DR rule: a snapshot every `intervalHours` (cron `<minute> 0/N * * ? *`, evenly spaced across midnight, at the tenant's minute),
 * started within the hour and completed within the interval, kept `copyRetentionDays` at home and
 * in the DR vault (a copy keeps its source's expiration). AWS Backup's shortest schedule is hourly; a start window under
 * an hour is refused. https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html
 */
function drCopyRule(dr: TenantDatabaseDisasterRecovery, drVault: backup.IBackupVault, recoveryPointTags: Record<string, string>, minute: string): backup.BackupPlanRule {
  if (![1, 2, 3, 4, 6, 8, 12].includes(dr.intervalHours)) throw new Error(`TenantDatabase disasterRecovery.intervalHours must divide 24 and be under 24 (1, 2, 3, 4, 6, 8, 12), got ${dr.intervalHours}`);
  return new backup.BackupPlanRule({
    ruleName: 'disaster-recovery',
    scheduleExpression: events.Schedule.expression(`cron(${minute} 0/${dr.intervalHours} * * ? *)`),
    startWindow: Duration.hours(1),
    completionWindow: Duration.hours(Math.max(2, dr.intervalHours)),
    deleteAfter: Duration.days(dr.copyRetentionDays),
    recoveryPointTags,
    copyActions: [{ destinationBackupVault: drVault, deleteAfter: Duration.days(dr.copyRetentionDays) }],
  });
}

interface DrCopyTargets {
  readonly region: string;
  readonly vaultArn: string;
  readonly keyAlias: string;
  readonly tenantId: string;
}

/**
 * What a cross-region copy job of an RDS snapshot needs besides the backup itself: the copy and sharing
 * actions of AWSBackupServiceRolePolicyForBackup (rds:CopyDBSnapshot, tagging and describing the copy),
 * the DR vault, and the DR key through Backup and RDS (found by its alias: the DR blueprint created it).
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSBackupServiceRolePolicyForBackup.html
 */
function drCopyStatements(stack: Stack, t: DrCopyTargets): iam.PolicyStatement[] {
  const homeSnapshots = stack.formatArn({ service: 'rds', resource: 'snapshot', resourceName: 'awsbackup:job-*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const drSnapshots = stack.formatArn({ service: 'rds', region: t.region, resource: 'snapshot', resourceName: 'awsbackup:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const ownTag = { [`aws:ResourceTag/${TENANT_ID_TAG}`]: t.tenantId };
  const requestTag = { [`aws:RequestTag/${TENANT_ID_TAG}`]: t.tenantId };
  const drKeys = stack.formatArn({ service: 'kms', region: t.region, resource: 'key', resourceName: '*' });
  const drKeyByAlias = { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': t.keyAlias } };
  const viaDr = { 'kms:ViaService': ['backup', 'rds'].map((s) => `${s}.${t.region}.amazonaws.com`) };
  return [
    new iam.PolicyStatement({ sid: 'CopyTheTenantSnapshots', actions: ['rds:CopyDBSnapshot'], resources: [homeSnapshots], conditions: { StringEquals: ownTag } }),
    // The new copy (no tags yet: the resource tag is absent) tagged as the tenant's; never another tenant's copy in the
    // DR region as the source (it carries that tenant's tag), which the pattern awsbackup:* alone would admit.
    new iam.PolicyStatement({ sid: 'NewCopiesInTheDrRegion', actions: ['rds:CopyDBSnapshot'], resources: [drSnapshots], conditions: { StringEqualsIfExists: { ...ownTag, ...requestTag } } }),
    // While a copy is made: AWS Backup copies every tag of the backup to its copy in another Region ("Copying tags onto
    // backups", AWS Backup Developer Guide), but not whether in the CopyDBSnapshot request or after it, so a copy may
    // have no tags yet while Backup describes and tags it.
    new iam.PolicyStatement({
      sid: 'TheTenantCopiesInTheDrRegion',
      actions: ['rds:DescribeDBSnapshots', 'rds:ListTagsForResource', 'rds:AddTagsToResource'],
      resources: [drSnapshots],
      conditions: { StringEqualsIfExists: { ...ownTag, ...requestTag } },
    }),
    // Deleted at the end of its retention, days after the copy has its tags: only a copy tagged with the tenant, never an
    // untagged one (another tenant's copy still being made in the same account and Region).
    new iam.PolicyStatement({ sid: 'DeleteTheTenantCopiesInTheDrRegion', actions: ['rds:DeleteDBSnapshot'], resources: [drSnapshots], conditions: { StringEquals: ownTag } }),
    new iam.PolicyStatement({ sid: 'TheTenantDrVault', actions: ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'], resources: [t.vaultArn] }),
    new iam.PolicyStatement({ sid: 'TheTenantDrKey', actions: ['kms:DescribeKey'], resources: [drKeys], conditions: drKeyByAlias }),
    new iam.PolicyStatement({
      sid: 'GrantsOnTheTenantDrKeyForAwsResources',
      actions: ['kms:CreateGrant'],
      resources: [drKeys],
      conditions: { ...drKeyByAlias, StringEquals: viaDr, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
  ];
}
