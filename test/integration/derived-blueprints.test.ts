import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { clientWith } from '../../lambdas/shared/aws-clients.js';
import type { PublishedBlueprint } from './support/blueprint-catalog.js';
import { attributesRead } from './support/derive-moto-blueprint.js';
import { useLocalLifecycle } from './support/local-lifecycle.js';
import { motoCloudFormation } from './support/moto-cloudformation.js';

const local = useLocalLifecycle();
const { config } = local;

const blueprint = (name: string, version = '1.0.0'): PublishedBlueprint => {
  const found = local.fixture.catalog.find((b) => b.name === name && b.version === version);
  if (!found) throw new Error(`no blueprint ${name} ${version} in the catalog`);
  return found;
};

/**
 * The resource types of the blueprints that moto 5.2.5's CloudFormation cannot create. Checked
 * against moto itself below; when moto or the blueprints change, this list says what changed.
 */
const MOTO_LACKS = [
  'AWS::Backup::BackupPlan', 'AWS::Backup::BackupSelection', 'AWS::Backup::BackupVault', 'AWS::CloudWatch::Alarm',
  // A dedicated cluster's image cache rule (constructs/cluster-autoscaler.ts): moto 5.2.5 has no ECR pull through cache
  // model at all (its ECR CloudFormationModel is the repository's only).
  'AWS::ECR::PullThroughCacheRule',
  'AWS::EKS::AccessEntry', 'AWS::EKS::Addon', 'AWS::EKS::Cluster', 'AWS::EKS::Nodegroup', 'AWS::EKS::PodIdentityAssociation',
  'AWS::ElastiCache::ReplicationGroup', 'AWS::ElastiCache::SubnetGroup', 'AWS::ElastiCache::User', 'AWS::ElastiCache::UserGroup',
  // The tenant's S3 vector bucket: moto 5.2.5 serves the S3 Vectors API (moto/s3vectors), but its VectorBucket is a
  // BaseModel, not a CloudFormationModel (no create_from_cloudformation_json), so its CloudFormation has no such type.
  'AWS::S3::BucketPolicy', 'AWS::S3Vectors::VectorBucket', 'AWS::SQS::QueuePolicy', 'Custom::AWSCDK-EKS-KubernetesResource',
  // The dedicated cluster's manifests (constructs/cluster-manifests.ts): a custom resource, which moto hands to its Lambda
  // backend (support/moto-cloudformation.ts: no custom resource is created here).
  'Custom::ClusterManifests',
];

/**
 * The resource types of the derived blueprints that moto's DeleteStack skips (its model has no
 * delete): the CloudFormation emulation deletes them by API (support/moto-delete-gaps.ts).
 */
const MOTO_LEAVES = [
  'AWS::EC2::EIP', 'AWS::EC2::FlowLog', 'AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway', 'AWS::EC2::Route', 'AWS::EC2::RouteTable',
  'AWS::EC2::SecurityGroupIngress', 'AWS::EC2::SubnetRouteTableAssociation', 'AWS::EC2::VPCEndpoint', 'AWS::EC2::VPCGatewayAttachment', 'AWS::IAM::ManagedPolicy',
];

// The derivation report of each blueprint, in parts shared by the tiers.
const CACHE = [
  'CacheAppUser61A72E56 (AWS::ElastiCache::User)', 'CacheDefaultUser47D483BA (AWS::ElastiCache::User)',
  'CacheReplicationGroupBFE59FF3 (AWS::ElastiCache::ReplicationGroup)', 'CacheSubnetGroup355C216D (AWS::ElastiCache::SubnetGroup)',
  'CacheUserGroup978A79CF (AWS::ElastiCache::UserGroup)',
];
const BACKUP = [
  'DatabaseBackupPlan02F4FE43 (AWS::Backup::BackupPlan)', 'DatabaseBackupPlanDatabaseD9E2D8FF (AWS::Backup::BackupSelection)',
  'DatabaseBackupVaultED8CBFE1 (AWS::Backup::BackupVault)',
];
const BUCKET_POLICIES = ['StorageAccessLogsBucketPolicy0C9757D0 (AWS::S3::BucketPolicy)', 'StorageBucketPolicy49CFBD91 (AWS::S3::BucketPolicy)'];
/** The tenant's vector bucket (constructs/tenant-vector-bucket.ts), in every tier: nothing refers to it, so nothing is substituted. */
const VECTOR_BUCKET = ['VectorsBucket00CBA803 (AWS::S3Vectors::VectorBucket)'];
/** The training events forwarder's DLQ policy (TLS only, only the rule may send): the tiers that fine-tune. */
const DLQ_POLICY = ['TrainingEventsDeadLettersDlqPolicyCB2988C5 (AWS::SQS::QueuePolicy)'];
/** The alarm on that DLQ (constructs/tenant-dlq-alarm.ts), and its rule's pattern naming the alarm's ARN (a stand-in). */
const DLQ_ALARM = ['TrainingEventsDeadLetterAlarm8FD213ED (AWS::CloudWatch::Alarm)'];
const DLQ_ALARM_SUBSTITUTION = 'TrainingEventsDeadLetterAlarmRule1AF6CC64: TrainingEventsDeadLetterAlarm8FD213ED.Arn (removed AWS::CloudWatch::Alarm)';
const EKS = [
  'ComputeAddonsPodIdentityAgentBBD22FB2 (AWS::EKS::Addon)', 'ComputeAddonsVpcCni6EDE5309 (AWS::EKS::Addon)', 'ComputeCluster4F8E5F81 (AWS::EKS::Cluster)',
  'ComputeClusterAdmin0371C72A7 (AWS::EKS::AccessEntry)', 'ComputeClusterNodegroupSystemNodes813A24B7 (AWS::EKS::Nodegroup)',
  'ComputeGpuNodesNodegroupE84D314B (AWS::EKS::Nodegroup)', 'WorkloadPodIdentity (AWS::EKS::PodIdentityAssociation)',
];
/**
 * The dedicated cluster's Cluster Autoscaler (constructs/cluster-autoscaler.ts, cluster-manifests.ts): its image cache rule,
 * its manifests' custom resource, the handler's access entry and the autoscaler's pod identity association go; its role,
 * the handler (its role's policy and its security group rule name the removed cluster) and the cache repository stay.
 */
const AUTOSCALER = [
  'ClusterAutoscalerManifests5B25FBE3 (Custom::ClusterManifests)', 'ClusterAutoscalerManifestsAccessEntryA29E35CF (AWS::EKS::AccessEntry)',
  'ClusterAutoscalerPodIdentityBA5324F2 (AWS::EKS::PodIdentityAssociation)', 'ClusterAutoscalerRegistryK8sCache5E0E97D3 (AWS::ECR::PullThroughCacheRule)',
];
const AUTOSCALER_SUBSTITUTIONS = [
  'ClusterAutoscalerManifestsClusterAdmitsHandlerFA038093: ComputeCluster4F8E5F81.ClusterSecurityGroupId (removed AWS::EKS::Cluster)',
  'ClusterAutoscalerManifestsFunction91F8DF78: Ref ComputeCluster4F8E5F81 (removed AWS::EKS::Cluster)',
  'ClusterAutoscalerManifestsRoleB3669185: Ref ComputeCluster4F8E5F81 (removed AWS::EKS::Cluster)',
];
const DATA_SUBSTITUTIONS = [
  'AccessAdmin0DB03881: DatabaseInstance02E622FB.DbiResourceId (attribute moto lacks on AWS::RDS::DBInstance)',
  'AccessWorkloadD4178944: CacheAppUser61A72E56.Arn (removed AWS::ElastiCache::User)',
  'AccessWorkloadD4178944: DatabaseInstance02E622FB.DbiResourceId (attribute moto lacks on AWS::RDS::DBInstance)',
  'AccessWorkloadD4178944: Ref CacheReplicationGroupBFE59FF3 (removed AWS::ElastiCache::ReplicationGroup)',
  // The backup role's policy names its vault; the monitoring role's, its instance's stream (issue 12).
  'DatabaseBackupPolicy0B9FBDA1: DatabaseBackupVaultED8CBFE1.BackupVaultArn (removed AWS::Backup::BackupVault)',
  'DatabaseMonitoringPolicy1B246FB3: DatabaseInstance02E622FB.DbiResourceId (attribute moto lacks on AWS::RDS::DBInstance)',
  'Outputs.CacheEndpoint: CacheReplicationGroupBFE59FF3.PrimaryEndPoint.Address (removed AWS::ElastiCache::ReplicationGroup)',
  'Outputs.DatabaseResourceId: DatabaseInstance02E622FB.DbiResourceId (attribute moto lacks on AWS::RDS::DBInstance)',
  'Outputs.DatabaseSecretArn: DatabaseInstance02E622FB.MasterUserSecret.SecretArn (attribute moto lacks on AWS::RDS::DBInstance)',
];
const KEY_DATABASE_LOGS = [
  'CacheEngineLogFEAEB291.KmsKeyId as kmsKeyId',
  'CacheSlowLog43E55961.KmsKeyId as kmsKeyId',
  'DatabaseInstance02E622FB.DBParameterGroupName removed',
  'DatabaseLogiamdbautherrorA293C0EC.KmsKeyId as kmsKeyId',
  'DatabaseLogpostgresql534130D9.KmsKeyId as kmsKeyId',
  'DatabaseLogupgrade451ACE4A.KmsKeyId as kmsKeyId',
  'Key961B73FD.KeyPolicy as a JSON string (Fn::ToJsonString)',
  'Key961B73FD.Tags as {TagKey, TagValue}',
  'NetworkFlowLogs2BEC3212.KmsKeyId as kmsKeyId',
];
// The tenant's kubectl role stays (IAM); its access entry and both manifests go (moto's CloudFormation creates neither).
const NAMESPACE = {
  removed: [
    'NamespaceKubectlAccessBA361B8C (AWS::EKS::AccessEntry)', 'NamespaceObjects59854E8F (Custom::AWSCDK-EKS-KubernetesResource)',
    'NamespacePodIdentity1E9B09F1 (AWS::EKS::PodIdentityAssociation)', 'NamespaceTenantObjectsF2C4EFCF (Custom::AWSCDK-EKS-KubernetesResource)',
  ],
  substituted: [], dependsOnDropped: [], transformed: [],
};
const sorted = (xs: string[]) => [...xs].sort();

describe('the moto stand-in derived from the real blueprints', () => {
  it('removes exactly the resource types moto says its CloudFormation cannot create (and knows which of the rest it cannot delete)', () => {
    // GIVEN every blueprint of the catalog, and moto's own model map
    const all = local.fixture.catalog;
    const moto = motoCloudFormation(all.flatMap((b) => attributesRead(b.template)));
    // WHEN the types the blueprints use are split by moto's answer
    const used = new Set(all.flatMap((b) => Object.values(b.template.Resources).map((r) => r.Type)));
    // THEN the list above is moto's answer, and the derived templates kept every other resource
    expect(moto.version).toBe('5.2.5');
    expect([...used].filter((t) => !moto.creates(t)).sort()).toEqual(MOTO_LACKS);
    const derivedTypes = new Set(all.flatMap((b) => Object.values(b.derived.Resources).map((r) => r.Type)));
    expect([...derivedTypes].filter((t) => !moto.deletes(t)).sort()).toEqual(MOTO_LEAVES);
    for (const b of all) {
      const kept = Object.keys(b.template.Resources).filter((id) => moto.creates(b.template.Resources[id].Type));
      expect(Object.keys(b.derived.Resources).sort(), `${b.name} ${b.version}`).toEqual(kept.sort());
      expect(Object.keys(b.derived.Outputs ?? {}), `${b.name} outputs`).toEqual(Object.keys(b.template.Outputs ?? {}));
    }
  });

  it('reports what it removed, substituted and transformed in every blueprint', () => {
    // GIVEN / WHEN the catalog of the default config
    // THEN
    expect(local.fixture.catalog.filter((b) => b.version === '1.0.0').map((b) => b.name).sort())
      .toEqual(['account-baseline', 'enterprise', 'professional', 'professional-namespace', 'starter', 'starter-namespace']);
    expect(blueprint('starter').report).toEqual({
      removed: sorted([...CACHE, ...BACKUP, ...BUCKET_POLICIES, ...VECTOR_BUCKET]),
      substituted: DATA_SUBSTITUTIONS,
      dependsOnDropped: [],
      transformed: KEY_DATABASE_LOGS,
    });
    expect(blueprint('professional').report).toEqual({
      removed: sorted([...CACHE, ...BACKUP, ...BUCKET_POLICIES, ...VECTOR_BUCKET, ...DLQ_POLICY, ...DLQ_ALARM]),
      substituted: sorted([...DATA_SUBSTITUTIONS, DLQ_ALARM_SUBSTITUTION]),
      dependsOnDropped: [],
      transformed: sorted(['AccessTrainingLauncher58AD0793.policy condition numbers as strings', ...KEY_DATABASE_LOGS]),
    });
    expect(blueprint('enterprise').report).toEqual({
      removed: sorted([...CACHE, ...BACKUP, ...BUCKET_POLICIES, ...VECTOR_BUCKET, ...DLQ_POLICY, ...DLQ_ALARM, ...EKS, ...AUTOSCALER]),
      substituted: sorted([
        ...DATA_SUBSTITUTIONS,
        ...AUTOSCALER_SUBSTITUTIONS,
        DLQ_ALARM_SUBSTITUTION,
        'AccessAdmin0DB03881: ComputeCluster4F8E5F81.Arn (removed AWS::EKS::Cluster)',
        'CacheSecurityGroupFromClusterNodesAAFAAE4A: ComputeCluster4F8E5F81.ClusterSecurityGroupId (removed AWS::EKS::Cluster)',
        'DatabaseSecurityGroupFromClusterNodesBC5E47AB: ComputeCluster4F8E5F81.ClusterSecurityGroupId (removed AWS::EKS::Cluster)',
        'Outputs.ClusterName: Ref ComputeCluster4F8E5F81 (removed AWS::EKS::Cluster)',
      ]),
      dependsOnDropped: ['ClusterAutoscalerImageCache72F36E5E -> ClusterAutoscalerRegistryK8sCache5E0E97D3', 'ComputeClusterKubectlReadyBarrier3EC64C88 -> ComputeCluster4F8E5F81'],
      transformed: sorted([
        'AccessTrainingLauncher58AD0793.policy condition numbers as strings',
        'ClusterAutoscalerManifestsLogsA4CD17B3.KmsKeyId as kmsKeyId',
        'ComputeClusterKubectlReadyBarrier3EC64C88.Name given (CFN-<logicalId>-<stack name>)',
        'ComputeControlPlaneLogsBBC709BA.KmsKeyId as kmsKeyId',
        ...KEY_DATABASE_LOGS,
      ]),
    });
    expect(blueprint('starter-namespace').report).toEqual(NAMESPACE);
    expect(blueprint('professional-namespace').report).toEqual(NAMESPACE);
    expect(blueprint('account-baseline').report).toEqual({ removed: [], substituted: [], dependsOnDropped: [], transformed: [] });
  });

  it('publishes version 2.0.0 from a second synthesis that differs only where the version shows', () => {
    // GIVEN the two versions of the starter blueprint
    const [v1, v2] = [blueprint('starter', '1.0.0'), blueprint('starter', '2.0.0')];
    // THEN the resources are the same, the version output and description are not
    expect(v2.derived.Resources).toEqual(v1.derived.Resources);
    expect(v2.derived.Outputs?.BlueprintVersion).toEqual({ Value: '2.0.0' });
    expect(v1.derived.Outputs?.BlueprintVersion).toEqual({ Value: '1.0.0' });
    expect(v2.derived.Description).toBe('Tessera tenant blueprint, tier starter, version 2.0.0');
  });

  it.each(['starter', 'professional', 'enterprise'])('creates the derived %s blueprint in moto with every output resolved', async (tier) => {
    // GIVEN the catalog URL of the tier's tenant blueprint and a Lambda-made CloudFormation client in the workload account
    const cfn = clientWith(CloudFormationClient, await local.fixture.as(config.workloadAccountId));
    const prefix = config.tiers[tier].network.tenantVpcPrefixLength;
    const name = `derived-${tier}`;
    // WHEN
    await cfn.send(new CreateStackCommand({
      StackName: name,
      TemplateURL: `https://tessera-blueprints.s3.${config.homeRegion}.amazonaws.com/blueprints/1.0.0/${tier}.template.json`,
      Parameters: [
        { ParameterKey: 'TenantId', ParameterValue: `derived-${tier}` }, { ParameterKey: 'VpcCidr', ParameterValue: `10.${200 + Object.keys(config.tiers).indexOf(tier)}.0.0/${prefix}` },
        { ParameterKey: 'AvailabilityZones', ParameterValue: ['a', 'b', 'c'].slice(0, config.tiers[tier].network.maxAzs).map((l) => `${config.homeRegion}${l}`).join(',') },
      ],
      Capabilities: ['CAPABILITY_NAMED_IAM'],
    }));
    // THEN
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0];
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(blueprint(tier).template.Outputs ?? {}).sort());
    expect(outputs.BlueprintVersion).toBe('1.0.0');
    expect(outputs.DatabaseResourceId).toMatch(/^db-[A-Z0-9]{26}$/);
    expect(outputs.DatabaseSecretArn).toMatch(new RegExp(`^arn:aws:secretsmanager:${config.homeRegion}:${config.workloadAccountId}:secret:rds!db-[0-9a-f-]{36}-[a-z0-9]{6}$`));
    expect(outputs.CacheEndpoint).toMatch(new RegExp(`^master\\.${name}-[a-z0-9]{7}\\.[a-z0-9]{6}\\.${config.homeRegion}\\.cache\\.amazonaws\\.com$`));
    expect(outputs.WorkloadRoleArn).toBe(`arn:aws:iam::${config.workloadAccountId}:role/tessera-derived-${tier}-workload`);
  });
});
