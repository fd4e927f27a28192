import { Aspects, Aws, CfnCondition, CfnOutput, CfnParameter, CfnRule, DefaultStackSynthesizer, Duration, Fn, Stack, Tags, Token, type IResolvable, type StackProps } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import type { Construct } from 'constructs';
import { KEY_USING_SERVICES } from '../constructs/blueprint-execution-role.js';
import { ClusterAutoscaler } from '../constructs/cluster-autoscaler.js';
import { KubernetesCluster, SYSTEM_NODE_LABELS } from '../constructs/kubernetes-cluster.js';
import { CLUSTER_AUTOSCALER_GPU_LABEL } from './cluster-autoscaler.js';
import { RetainExceptOnCreate } from './retain-except-on-create.js';
import { platformEventBusArn, TrainingEventsForwarder } from '../constructs/training-events-forwarder.js';
import { TRAINING_DATA_PREFIX } from './fine-tuning.js';
import { WORKLOAD_SERVICE_ACCOUNT } from './gpu-scheduling.js';
import { PLATFORM_EVENT_BUS_NAME } from './lifecycle-constants.js';
import { TenantAccessPolicies } from '../constructs/tenant-access-policies.js';
import { Network } from '../constructs/network.js';
import { TenantCache } from '../constructs/tenant-cache.js';
import { TenantDatabase } from '../constructs/tenant-database.js';
import { BACKUP_SCHEDULE_MINUTE_PARAMETER, BACKUP_SCHEDULE_MINUTES } from './backup-schedule-minute.js';
import { TenantKey } from '../constructs/tenant-key.js';
import { TenantRoles, type WorkloadTrust } from '../constructs/tenant-roles.js';
import { TenantStorage } from '../constructs/tenant-storage.js';
import { TenantVectorBucket } from '../constructs/tenant-vector-bucket.js';
import { TenantInfrastructureBudget } from '../constructs/tenant-infrastructure-budget.js';
import { infrastructureBudgetQueueArn } from './infrastructure-budget-events.js';
import { TenantDrReplication } from '../constructs/tenant-dr-replication.js';
import { TenantFailoverAccess } from '../constructs/tenant-failover-access.js';
import { TenantRestoredDatabaseAccess } from '../constructs/tenant-restored-database-access.js';
import { TenantRestoredDatabaseBackup } from '../constructs/tenant-restored-database-backup.js';
import { TenantRestoreEventsForwarder } from '../constructs/tenant-dr-restore-events.js';
import { TenantRestoreTesting } from '../constructs/tenant-dr-restore-testing.js';
import { disasterRecoveryOf, drBackupIntervalHours, usesReplicationTimeControl } from './config/disaster-recovery.js';
import type { PlatformConfig, TierConfig } from './config/schema.js';
import { acknowledge } from './compliance.js';
import { tierVpcEndpoints } from './vpc-layout.js';
import {
  AVAILABILITY_ZONES_PARAMETER,
  DATABASE_DELETION_PROTECTION_PARAMETER,
  databaseInstanceIdentifier,
  clusterManifestsLogGroupName,
  dedicatedClusterName,
  drBackupVaultName,
  drBucketName,
  drKeyAlias,
  drRestoredInstanceIdentifier,
  drServiceRoleArn,
  drServiceRoleName,
  roleArn,
  TENANT_ID_PATTERN,
  TENANT_ID_TAG,
  tenantLogGroupPrefix,
  tenantVendedLogGroupPrefix,
  tenantNamespace,
  TIER_TAG,
} from './tenant-naming.js';

export interface TenantStackProps extends StackProps {
  readonly tierName: string;
  readonly tier: TierConfig;
  readonly config: PlatformConfig;
  /** Version stamped into the template and its outputs; the registry records it per tenant. */
  readonly blueprintVersion: string;
}

/** Stack outputs the lifecycle workflow records in the registry (one source for both sides). */
export const TENANT_STACK_OUTPUTS = [
  'Tier', 'BlueprintVersion', 'KeyArn', 'BucketName', 'VpcId', 'DefaultSecurityGroupId', 'ComputeSubnetIds',
  'DatabaseInstanceId', 'DatabaseEndpoint', 'DatabasePort', 'DatabaseResourceId', 'DatabaseSecretArn', 'CacheEndpoint', 'CachePort', 'CacheUserId',
  'ClusterName', 'WorkloadRoleArn', 'AdminRoleArn', 'TrainingRoleArn', 'BreakGlassRoleArn', 'WorkloadSecurityGroupId',
] as const;
export type TenantStackOutput = (typeof TENANT_STACK_OUTPUTS)[number];

/** What the failover variant of a DR tier's blueprint changes (lib/tenant-failover-stack.ts builds it). */
export interface TenantFailoverVariant {
  /** The tier's DR region: a template rule refuses a deployment anywhere else. */
  readonly drRegion: string;
  /**
   * Region of the platform event bus the variant's event forwarders deliver to: the platform's DR region
   * (`platformDisasterRecovery.region`), where the runbook redeploys the platform, or the tier's DR region.
   */
  readonly platformRegion: string;
}

/**
 * The blueprint of one tier: everything a tenant of that tier owns, parameterised by tenant id and
 * VPC range, deployable from its template URL alone (no assets, no bootstrap parameter) into the
 * tenant's own account or the workload account. One template per tier, whatever the tenant count.
 */
export class TenantStack extends Stack {
  /**
   * @param failover - build the failover variant instead (lib/tenant-failover-stack.ts: imported roles, no DR
   * replication or copies, deployable in the tier's DR region only); `undefined` for the tier blueprint itself
   */
  constructor(scope: Construct, id: string, props: TenantStackProps, failover?: TenantFailoverVariant) {
    super(scope, id, {
      ...props,
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      description: failover
        ? `Tessera tenant blueprint, tier ${props.tierName}, failover variant for the DR region ${failover.drRegion} (imports the tenant's IAM roles), version ${props.blueprintVersion}`
        : `Tessera tenant blueprint, tier ${props.tierName}, version ${props.blueprintVersion}`,
    });
    const { tier, config } = props;

    const tenantIdParam = new CfnParameter(this, 'TenantId', {
      type: 'String',
      description: 'Tenant id: lower-case DNS label, 3-24 characters',
      allowedPattern: TENANT_ID_PATTERN,
      constraintDescription: 'must be a lower-case DNS label of 3-24 characters',
    });
    const vpcCidrParam = new CfnParameter(this, 'VpcCidr', {
      type: 'String',
      description: `Tenant VPC range: a /${tier.network.tenantVpcPrefixLength} from ${tier.network.tenantCidrPool}, allocated by the onboarding workflow`,
      allowedPattern: `^(\\d{1,3}\\.){3}\\d{1,3}/${tier.network.tenantVpcPrefixLength}$`,
      constraintDescription: `must be an IPv4 /${tier.network.tenantVpcPrefixLength} network`,
    });
    // The zones of the VPC's subnets, chosen by the lifecycle per tenant and recorded in the registry
    // (lambdas/lifecycle/availability-zones.ts): not Fn::GetAZs, whose first zones may be one EKS does not
    // support in that account. The type makes CloudFormation check each is a zone of the region.
    const availabilityZonesParam = new CfnParameter(this, AVAILABILITY_ZONES_PARAMETER, {
      type: 'List<AWS::EC2::AvailabilityZone::Name>',
      description: `The tenant VPC's Availability Zones: the first ${tier.network.maxAzs} hold its subnets, chosen and recorded by the onboarding workflow`,
    });
    const tenantId = tenantIdParam.valueAsString;
    Tags.of(this).add(TENANT_ID_TAG, tenantId);
    Tags.of(this).add(TIER_TAG, props.tierName);

    // A create that rolls back leaves no retained resource behind, so the re-run meets no name taken.
    Aspects.of(this).add(new RetainExceptOnCreate());

    const provisioningRoleArn = roleArn(Aws.PARTITION, Aws.ACCOUNT_ID, config.roles.provisioningRoleName);
    const deployerRoleArn = roleArn(Aws.PARTITION, Aws.ACCOUNT_ID, config.roles.blueprintExecutionRoleName);
    const logPrefix = tenantLogGroupPrefix(tenantId);
    const vendedLogPrefix = tenantVendedLogGroupPrefix(tenantId);
    const clusterName = dedicatedClusterName(tenantId);

    const workloadTrust: WorkloadTrust =
      tier.compute.mode === 'dedicated' ? { kind: 'pod-identity' }
      : tier.compute.mode === 'shared' ? { kind: 'shared-cluster-bridge', platformAccountId: config.platformAccountId }
      : { kind: 'none' };
    if (failover) {
      new CfnRule(this, 'DeployedInDrRegion', {
        assertions: [{
          assert: Fn.conditionEquals(Aws.REGION, failover.drRegion),
          assertDescription: `The ${props.tierName} tier's failover blueprint rebuilds the tenant in its DR region ${failover.drRegion} only; in the home region deploy the tier blueprint (it creates the tenant's roles).`,
        }],
      });
    }
    // The failover blueprint's second deploy (runbook): the database restored from the DR vault, by its resource id.
    const restored = failover ? this.restoredDatabaseParameters() : undefined;
    const roles = new TenantRoles(this, 'Roles', {
      tenantId,
      platformAccountId: config.platformAccountId,
      platformBreakGlassRoleName: config.roles.breakGlassRoleName,
      adminRoleNamePatterns: config.roles.tenantAdminRoleNamePatterns,
      provisioningRoleName: config.roles.provisioningRoleName,
      workloadTrust,
      training: tier.training.enabled,
      // IAM is global: in the DR region the home stack's roles still exist, under the same names.
      existing: failover !== undefined,
    });

    const key = new TenantKey(this, 'Key', {
      tenantId,
      keyUserArns: roles.tenantUseRoles.map((r) => r.roleArn),
      breakGlassRoleArn: roles.breakGlass.roleArn,
      provisioningRoleArn,
      deployerRoleArn,
      deployerServices: KEY_USING_SERVICES,
      logGroupPrefixes: [`${logPrefix}/`, `${vendedLogPrefix}/`, `/aws/eks/${clusterName}/`, `/aws/rds/instance/${databaseInstanceIdentifier(tenantId)}/`],
    });
    for (const role of roles.roleResources) key.node.defaultChild?.node.addDependency(role);

    const network = new Network(this, 'Network', {
      cidr: vpcCidrParam.valueAsString,
      prefixLength: tier.network.tenantVpcPrefixLength,
      maxAzs: tier.network.maxAzs,
      availabilityZones: availabilityZonesParam.valueAsList,
      internetEgress: tier.network.internetEgress,
      encryptionKey: key.key,
      flowLogGroupName: `${logPrefix}/vpc-flow-logs`,
      // Which endpoints, and why: lib/vpc-layout.ts (the config checks the compute subnets hold them).
      ...tierVpcEndpoints(tier),
      restrictDefaultSecurityGroup: false,
    });
    acknowledge(network.vpc.node.defaultChild!, ['NIST.800.53.R5-VPCDefaultSecurityGroupClosed', 'HIPAA.Security-VPCDefaultSecurityGroupClosed'],
      'The blueprint carries no Lambda, so the CDK custom resource cannot close the default security group; the onboarding workflow revokes its rules after deploy (DefaultSecurityGroupId output), and no tenant resource uses it.');

    // Disaster recovery (a DR tier only): the DR blueprint (lib/tenant-dr-stack.ts) holds the DR key,
    // bucket and vault in the DR region; this blueprint replicates and copies into them by name. The
    // cache and the cluster are not replicated: a cache is no system of record, and the cluster, its
    // nodes and the namespace are rebuilt from this blueprint when the tenant comes up in the DR region.
    // The failover variant runs in the DR region itself: nothing to replicate or copy there (it has no DR of its own).
    const dr = failover ? undefined : disasterRecoveryOf(tier);
    const platformBusRegion = failover?.platformRegion ?? config.homeRegion;
    // The minute past the hour the database's Backup rules and the restore test start at, the tenant's own (a DR tier only:
    // their copy jobs, lib/backup-schedule-minute.ts); the lifecycle passes backupScheduleMinute(tenant id).
    // A String whose AllowedValues are the RDS windows mapping's keys (BACKUP_SCHEDULE_MINUTES): a Number parameter took "07", which
    // no key matches, and the stack failed at Fn::FindInMap; AllowedPattern is for String types only, and AWS does not say how a
    // Number's AllowedValues compare (parameters-section-structure.html). CloudFormation now refuses such a value at the parameter.
    const scheduleMinute = dr ? new CfnParameter(this, BACKUP_SCHEDULE_MINUTE_PARAMETER, {
      type: 'String',
      allowedValues: [...BACKUP_SCHEDULE_MINUTES],
      default: '0',
      constraintDescription: 'must be a whole minute from 0 to 59 without a leading zero (0, 7, 59): the key of the database\'s RDS windows mapping',
      description: 'Minute past the hour (0-59) the database\'s Backup rules and restore test start at: the tenant\'s own, computed from its id by the lifecycle, so that DR tenants\' cross-Region copy jobs do not all start at once',
    }).valueAsString : undefined;
    const replication = dr ? new TenantDrReplication(this, 'DrReplication', {
      tenantId,
      roleName: drServiceRoleName(tenantId, 'dr-replication'),
      drRegion: dr.region,
      destinationBucketName: drBucketName(tenantId, Aws.ACCOUNT_ID, dr.region),
      sourceKeyArn: key.keyArn,
      replicationTimeControl: usesReplicationTimeControl(dr.rpoHours),
    }) : undefined;

    const storage = new TenantStorage(this, 'Storage', {
      replication: replication?.replication,
      encryptionKey: key.key,
      trainingDataPrefix: TRAINING_DATA_PREFIX,
      trainingDataExpiration: Duration.days(tier.training.dataRetentionDays),
      tenantRoleArns: roles.tenantUseRoles.map((r) => r.roleArn),
      // The training-files role: a data principal of training-data/files/ only (TenantRoles.prefixRoles).
      prefixRoles: roles.prefixRoles.map((r) => ({ roleArn: r.role.roleArn, prefix: r.prefix, sid: r.sid })),
      breakGlassRoleArn: roles.breakGlass.roleArn,
      provisioningRoleArn,
      deployerRoleArn,
    });

    // OpenAI's Vector Stores API on AWS: the tenant's S3 vector bucket, reached by the router as the vector-store role.
    new TenantVectorBucket(this, 'Vectors', { tenantId, key, vectorStoreRole: roles.vectorStore });

    if (replication) {
      replication.grantSource(storage.bucket);
      // S3 reads the source objects as the replication role, through S3 in this region only.
      key.allowServiceRole('ReplicationRoleDecryptsThroughS3', replication.role, ['kms:Decrypt'], { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } });
    }

    let cluster: KubernetesCluster | undefined;
    if (tier.compute.mode === 'dedicated') {
      cluster = new KubernetesCluster(this, 'Compute', {
        clusterName,
        kubernetesVersion: tier.compute.kubernetesVersion,
        vpc: network.vpc,
        subnets: network.computeSubnets,
        encryptionKey: key.key,
        systemNodes: tier.compute.systemNodes,
        gpu: { ...tier.compute.gpu, ...this.gpuScalingParameters(tier.compute.gpu) },
        adminRoleArns: [roles.admin.roleArn],
        // The autoscaler below waits for a new GPU node's device plugin instead of adding another node.
        gpuNodeLabels: { ...CLUSTER_AUTOSCALER_GPU_LABEL },
      });
      // The readiness marker is a plain CfnResource, which Tags.of(this) passes by: tagged here like every other resource
      // (the blueprint execution role may tag parameters CFN-*: constructs/blueprint-execution-role.ts ClusterReadinessParameter).
      cluster.kubectlReadyBarrier.addPropertyOverride('Tags', { [TENANT_ID_TAG]: tenantId, [TIER_TAG]: props.tierName });
      key.allowServiceRole('EksClusterRoleEncryptsSecrets', cluster.cluster.role, ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey', 'kms:CreateGrant']);
      new eks.CfnPodIdentityAssociation(this, 'WorkloadPodIdentity', {
        clusterName: cluster.cluster.clusterName,
        namespace: tenantNamespace(tenantId),
        serviceAccount: WORKLOAD_SERVICE_ACCOUNT,
        roleArn: roles.workload!.roleArn,
      });
      // Grows the node groups from their desired size up to maxSize for Pending pods and back down, as on the shared cluster
      // (docs/configuration.md "GPU nodes come and go"); applied without a kubectl provider (no Lambda asset in a blueprint).
      new ClusterAutoscaler(this, 'ClusterAutoscaler', {
        cluster: cluster.cluster, clusterName, kubernetesVersion: tier.compute.kubernetesVersion,
        kubernetesVersionKey: `tiers.${props.tierName}.compute.kubernetesVersion`, nodeSelector: SYSTEM_NODE_LABELS, serviceRolePath: false,
        withoutKubectl: {
          vpc: network.vpc, subnets: network.computeSubnets, logGroupName: clusterManifestsLogGroupName(tenantId), encryptionKey: key.key,
          // cfnresponse answers CloudFormation through a presigned S3 URL: over the S3 gateway endpoint, which the compute
          // subnets' route tables send S3's addresses to (its prefix list is more specific than their NAT route).
          dependsOn: [network.vpc.node.findChild('S3')],
        },
      });
    }

    // Named peers: the names are the rules' construct ids, identical in every tier (a tier change must not replace them).
    const peers: Record<string, ec2.IPeer> = { Workloads: network.workloadSecurityGroup };
    if (cluster) peers.ClusterNodes = cluster.cluster.clusterSecurityGroup;
    if (tier.compute.mode === 'shared') peers.SharedCluster = ec2.Peer.ipv4(config.platformNetwork.cidr);

    const database = new TenantDatabase(this, 'Database', {
      namePrefix: `tessera-${tenantId}`,
      tenantId,
      instanceIdentifier: databaseInstanceIdentifier(tenantId),
      deletionProtection: this.databaseDeletionProtection(),
      vpc: network.vpc,
      subnets: network.dataSubnets,
      encryptionKey: key.key,
      engineMajorVersion: tier.database.engineMajorVersion,
      instanceClass: tier.database.instanceClass,
      allocatedStorageGiB: tier.database.allocatedStorageGiB,
      maxAllocatedStorageGiB: tier.database.maxAllocatedStorageGiB,
      multiAz: tier.database.multiAz,
      backupRetentionDays: tier.database.backupRetentionDays,
      port: tier.database.port,
      allowedPeers: peers,
      disasterRecovery: dr ? {
        region: dr.region,
        vaultName: drBackupVaultName(tenantId),
        keyAlias: drKeyAlias(tenantId),
        backupRoleName: drServiceRoleName(tenantId, 'database-backup'),
        intervalHours: drBackupIntervalHours(dr.rpoHours),
        // The frequent snapshots live as long as the RTO (whole days): the newest copy is still there when a
        // restore starts within it (the runbook extends the chosen one's lifecycle first). No longer, for their
        // storage (AWS Backup's snapshots count against no RDS snapshot quota: docs/resilience.md, Quotas).
        copyRetentionDays: Math.max(1, Math.ceil(dr.rtoHours / 24)),
        scheduleMinute,
      } : undefined,
    });

    // Backup's own calls for the key, made only through Backup and RDS (https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html).
    key.allowServiceRole('BackupRoleThroughBackup', database.backupRole, ['kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      { StringEquals: { 'kms:ViaService': ['backup', 'rds'].map((s) => `${s}.${Aws.REGION}.amazonaws.com`) } });
    key.allowServiceRole('BackupRoleGrantsThroughBackup', database.backupRole, ['kms:CreateGrant'],
      { StringEquals: { 'kms:ViaService': ['backup', 'rds'].map((s) => `${s}.${Aws.REGION}.amazonaws.com`) }, Bool: { 'kms:GrantIsForAWSResource': 'true' } });

    if (dr) {
      // Proof that a backup restores: a monthly restore test of the database, its results on the platform bus.
      const restoreTesting = new TenantRestoreTesting(this, 'RestoreTesting', {
        tenantId,
        roleName: drServiceRoleName(tenantId, 'restore-testing'),
        instanceIdentifier: databaseInstanceIdentifier(tenantId),
        vaultArn: database.backupVault.backupVaultArn,
        keyArn: key.keyArn,
        subnetGroupName: database.subnetGroupName,
        parameterGroupName: database.parameterGroupName,
        securityGroupId: database.securityGroup.securityGroupId,
        scheduleMinute,
      });
      // The test selects the instance by its fixed identifier: it is created after it (its role may come first: the key names it).
      restoreTesting.selection.node.addDependency(database.instance);
      restoreTesting.plan.node.addDependency(database.instance);
      const viaRestore = { StringEquals: { 'kms:ViaService': ['backup', 'rds'].map((s) => `${s}.${Aws.REGION}.amazonaws.com`) } };
      key.allowServiceRole('RestoreTestingRoleDescribesKey', restoreTesting.role, ['kms:DescribeKey'], viaRestore);
      key.allowServiceRole('RestoreTestingRoleGrantsThroughBackup', restoreTesting.role, ['kms:CreateGrant'], { ...viaRestore, Bool: { 'kms:GrantIsForAWSResource': 'true' } });
      new TenantRestoreEventsForwarder(this, 'RestoreEvents', {
        tenantId,
        restoreRoleArn: restoreTesting.role.roleArn,
        platformEventBusArn: platformEventBusArn(config.platformAccountId, platformBusRegion, PLATFORM_EVENT_BUS_NAME),
      });
    }

    const cache = new TenantCache(this, 'Cache', {
      userIdPrefix: `tessera-${tenantId}`,
      vpc: network.vpc,
      subnets: network.dataSubnets,
      encryptionKey: key.key,
      nodeType: tier.cache.nodeType,
      replicas: tier.cache.replicasPerShard,
      multiAz: tier.cache.multiAz,
      snapshotRetentionDays: tier.cache.snapshotRetentionDays,
      port: tier.cache.port,
      allowedPeers: peers,
      // Under /aws/vendedlogs/: ElastiCache delivers them as vended logs (tenantVendedLogGroupPrefix says why).
      logGroupPrefix: `${vendedLogPrefix}/cache`,
    });

    const computeSubnetIds = network.vpc.selectSubnets(network.computeSubnets).subnetIds;
    new TenantAccessPolicies(this, 'Access', {
      roles, bucket: storage.bucket, database, cache, cluster: cluster?.cluster,
      training: tier.training.enabled ? {
        tenantId, keyArn: key.keyArn, subnetIds: computeSubnetIds, securityGroupId: network.workloadSecurityGroup.securityGroupId,
        baseModels: config.fineTuning.baseModels.filter((b) => tier.training.baseModels.includes('*') || tier.training.baseModels.includes(b.id)),
        endpointInstanceTypes: tier.training.endpointInstanceTypes, maxRuntimeSeconds: tier.training.maxRuntimeHours * 3600,
        trainingInstanceTypes: tier.training.instanceTypes, vpcId: network.vpc.vpcId,
      } : undefined,
    });
    if (failover) {
      // The runbook's "Tenant objects" step: the admin (or break-glass) copies the replica into the rebuilt bucket.
      new TenantFailoverAccess(this, 'FailoverAccess', { tenantId, drRegion: failover.drRegion, roles: [roles.admin, roles.breakGlass] });
    }
    if (failover && restored) {
      // The runbook's redeploy after the restore: the tenant's roles reach the restored instance as they reached their own.
      new TenantRestoredDatabaseAccess(this, 'RestoredDatabaseAccess', {
        drRegion: failover.drRegion, dbiResourceId: restored.dbiResourceId, condition: restored.condition, admin: roles.admin,
        workload: roles.workload ? { role: roles.workload, sessionCondition: roles.workloadSessionCondition } : undefined,
      });
      // The restored instance holds the live data: it joins the rebuilt plan, backed up as the home backup role (the DR key admits it).
      new TenantRestoredDatabaseBackup(this, 'RestoredDatabaseBackup', {
        tenantId, restoredInstanceIdentifier: drRestoredInstanceIdentifier(tenantId), condition: restored.condition,
        plan: database.node.findChild('BackupPlan') as backup.BackupPlan, vault: database.backupVault,
        backupRole: iam.Role.fromRoleArn(this, 'HomeDatabaseBackupRole', drServiceRoleArn(Aws.PARTITION, Aws.ACCOUNT_ID, tenantId, 'database-backup'), { mutable: true }),
      });
    }
    // With the restored instance passed, the database outputs name it instead of the rebuilt stack's empty one.
    const databaseOutput = (restoredValue: string, own: string): string =>
      restored ? Token.asString(Fn.conditionIf(restored.condition.logicalId, restoredValue, own)) : own;
    if (roles.trainingLauncher) {
      // SageMaker encrypts job output and endpoint volumes with the tenant key through grants the launcher creates.
      key.allowServiceRole('TrainingLauncherGrantsToSageMaker', roles.trainingLauncher, ['kms:CreateGrant'], { Bool: { 'kms:GrantIsForAWSResource': 'true' } });
      // kms:GrantIsForAWSResource exists on the grant operations only: a DescribeKey request never carries it.
      key.allowServiceRole('TrainingLauncherDescribesKey', roles.trainingLauncher, ['kms:DescribeKey']);
      new TrainingEventsForwarder(this, 'TrainingEvents', { tenantId, platformEventBusArn: platformEventBusArn(config.platformAccountId, platformBusRegion, PLATFORM_EVENT_BUS_NAME) });
    }
    if (roles.trainingFiles) {
      // The Files API's S3 calls (SSE-KMS with the bucket key): data keys and decrypt through S3 in this Region only.
      // The key policy cannot name the bucket (the bucket's encryption names the key: a cycle), so it defers to the
      // role's identity policy (TrainingPolicies), which requires the bucket's encryption context as well.
      key.allowThroughIdentityPolicy('TrainingFilesThroughS3', roles.trainingFiles, ['kms:GenerateDataKey', 'kms:Decrypt'],
        { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } });
    }

    // What the tenant's AWS resources cost against the tier's monthly limit, mailed to the platform team and forwarded to the platform bus. Budgets are
    // account-wide, their names unique per account: the failover variant leaves the home stack's in place.
    if (tier.infrastructureBudget && !failover) {
      new TenantInfrastructureBudget(this, 'InfrastructureBudget', {
        tenantId, budget: tier.infrastructureBudget, scope: tier.isolation === 'account' ? 'account' : 'tag', key,
        // Its alerts reach the platform bus through the platform's queue (lib/infrastructure-budget-events.ts).
        platformQueueArn: infrastructureBudgetQueueArn(Aws.PARTITION, platformBusRegion, config.platformAccountId),
      });
    }

    const outputs: Partial<Record<TenantStackOutput, string>> = {
      Tier: props.tierName,
      BlueprintVersion: props.blueprintVersion,
      KeyArn: key.keyArn,
      BucketName: storage.bucket.bucketName,
      VpcId: network.vpc.vpcId,
      DefaultSecurityGroupId: network.vpc.vpcDefaultSecurityGroup,
      ComputeSubnetIds: computeSubnetIds.join(','),
      WorkloadSecurityGroupId: network.workloadSecurityGroup.securityGroupId,
      DatabaseInstanceId: databaseOutput(drRestoredInstanceIdentifier(tenantId), database.instance.ref),
      DatabaseEndpoint: databaseOutput(restored?.endpoint ?? '', database.endpointAddress),
      // A restore keeps the snapshot's port (RestoreDBInstanceFromDBSnapshot Port: "the same port as the original DB instance").
      DatabasePort: String(database.port),
      DatabaseResourceId: databaseOutput(restored?.dbiResourceId ?? '', database.dbiResourceId),
      DatabaseSecretArn: databaseOutput(restored?.secretArn ?? '', database.instance.attrMasterUserSecretSecretArn),
      CacheEndpoint: cache.replicationGroup.attrPrimaryEndPointAddress,
      CachePort: String(tier.cache.port),
      CacheUserId: cache.appUserId,
      ClusterName: cluster?.cluster.clusterName,
      WorkloadRoleArn: roles.workload?.roleArn,
      AdminRoleArn: roles.admin.roleArn,
      TrainingRoleArn: roles.training?.roleArn,
      BreakGlassRoleArn: roles.breakGlass.roleArn,
    };
    for (const [name, value] of Object.entries(outputs)) {
      if (value !== undefined) new CfnOutput(this, name, { value });
    }
  }

  /**
   * The GPU node group's minimum and desired size as blueprint parameters (defaults: the tier's), so
   * the onboarding can start the group at 0 while the account's GPU vCPU quota is below one node
   * and scale it up by a stack update once AWS raises the quota.
   */
  private gpuScalingParameters(gpu: { minSize: number; maxSize: number; desiredSize?: number }): { minSize: number; desiredSize: number } {
    const minSize = new CfnParameter(this, 'GpuNodesMinSize', {
      type: 'Number', default: gpu.minSize, minValue: 0, maxValue: gpu.maxSize,
      description: `Minimum GPU nodes (0 while the account's GPU vCPU quota cannot hold one node); at most ${gpu.maxSize}`,
    });
    const desiredSize = new CfnParameter(this, 'GpuNodesDesiredSize', {
      type: 'Number', default: gpu.desiredSize ?? gpu.minSize, minValue: 0, maxValue: gpu.maxSize,
      description: `Desired GPU nodes, between GpuNodesMinSize and ${gpu.maxSize}`,
    });
    if (gpu.maxSize === 0) {
      // A dedicated tier without GPUs has no GPU node group to size, but keeps both parameters
      // (fixed at 0): the lifecycle passes them to every dedicated-compute blueprint.
      acknowledge(this, ['CloudFormation-Validate::W2001'],
        'GpuNodesMinSize and GpuNodesDesiredSize are unused in a tier whose GPU maxSize is 0 (no GPU node group); they stay, bounded to 0, because the onboarding workflow passes them to every dedicated-compute blueprint.');
    }
    return { minSize: minSize.valueAsNumber, desiredSize: desiredSize.valueAsNumber };
  }

  /**
   * The failover blueprint's parameters for its second deploy (runbook, after the restore from the DR vault):
   * `RestoredDbiResourceId` (`db-...`), `RestoredDatabaseEndpoint` (the address) and `RestoredDatabaseCredentialsArn`
   * (the ARN of its RDS-managed master user secret) of `tessera-<id>-restored`, read with `aws rds describe-db-instances`. All
   * three default to empty (condition `RestoredDatabase` off: the failover blueprint's first deploy, unchanged);
   * a template rule refuses some without the others. With them, the tenant's roles get IAM database
   * authentication on that instance (constructs/tenant-restored-database-access.ts) and the Database* outputs
   * name it. The restored instance is not a resource of the stack: AWS Backup created it, and the values are
   * known only after that (a DbiResourceId is assigned by RDS at creation).
   */
  private restoredDatabaseParameters(): { dbiResourceId: string; endpoint: string; secretArn: string; condition: CfnCondition } {
    const dbiResourceId = new CfnParameter(this, 'RestoredDbiResourceId', {
      type: 'String', default: '', allowedPattern: '^(db-[A-Z0-9]+)?$',
      description: 'Runbook, after the restore: DbiResourceId of tessera-<id>-restored (db-...); empty before the restore',
      constraintDescription: 'must be empty or a DbiResourceId: db- and upper-case letters and digits',
    });
    const endpoint = new CfnParameter(this, 'RestoredDatabaseEndpoint', {
      type: 'String', default: '', allowedPattern: '^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+)?$',
      description: 'Runbook, after the restore: endpoint address of tessera-<id>-restored; empty before the restore',
      constraintDescription: 'must be empty or a DNS name',
    });
    const secretArn = new CfnParameter(this, 'RestoredDatabaseCredentialsArn', {
      type: 'String', default: '', allowedPattern: '^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:rds![A-Za-z0-9-]+)?$',
      // Not named ...Secret...: cfn-lint's W2509 takes any parameter with "secret" in its name for a password; this is an ARN.
      description: 'Runbook, after the restore: ARN of the RDS-managed master user secret of tessera-<id>-restored (MasterUserSecret.SecretArn); empty before the restore',
      constraintDescription: 'must be empty or an RDS-managed Secrets Manager secret ARN (secret:rds!...)',
    });
    const empty = (p: CfnParameter) => Fn.conditionEquals(p.valueAsString, '');
    const all = [dbiResourceId, endpoint, secretArn];
    new CfnRule(this, 'RestoredDatabaseParametersTogether', {
      assertions: [{
        assert: Fn.conditionOr(Fn.conditionAnd(...all.map(empty)), Fn.conditionAnd(...all.map((p) => Fn.conditionNot(empty(p))))),
        assertDescription: 'RestoredDbiResourceId, RestoredDatabaseEndpoint and RestoredDatabaseCredentialsArn go together: all three (after the restore) or none.',
      }],
    });
    const condition = new CfnCondition(this, 'RestoredDatabase', { expression: Fn.conditionNot(empty(dbiResourceId)) });
    return { dbiResourceId: dbiResourceId.valueAsString, endpoint: endpoint.valueAsString, secretArn: secretArn.valueAsString, condition };
  }

  /**
   * The database's deletion protection as a parameter (`DatabaseDeletionProtection`, `true` by
   * default): the onboarding creates the stack with `false`, so that a create which fails after the
   * database exists rolls back cleanly (RDS refuses to delete a protected instance, and the rollback
   * would end ROLLBACK_FAILED with the database and everything it depends on left behind), and turns
   * it on with an update as soon as the create has succeeded. Every later update passes `true`.
   * Source: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html#USER_DeletionProtection
   */
  private databaseDeletionProtection(): IResolvable {
    const param = new CfnParameter(this, DATABASE_DELETION_PROTECTION_PARAMETER, {
      type: 'String', default: 'true', allowedValues: ['true', 'false'],
      description: 'RDS deletion protection of the tenant database: false only while the stack is first created',
    });
    const protect = new CfnCondition(this, 'ProtectDatabase', { expression: Fn.conditionEquals(param.valueAsString, 'true') });
    return Fn.conditionIf(protect.logicalId, true, false);
  }
}
