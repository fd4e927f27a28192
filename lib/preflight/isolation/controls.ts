/**
 * Positive controls: what each principal of a tenant exists to do on its own tenant's resources.
 * An evaluator that denies everything would pass the cross-tenant check; these must all be allowed.
 * Every role of a blueprint needs an entry here (a new role without one fails the check).
 */
import { ENDPOINT_STATE_CHANGE, TRAINING_FILES_PREFIX, TRAINING_STATE_CHANGE } from '../../fine-tuning.js';
import type { PolicyJson } from '../iam-eval.js';
import type { InstantiatedResource } from '../instantiate.js';
import { drRestoredInstanceIdentifier, TENANT_DATA_ROLE_NAME, TENANT_ID_TAG, tenantNamespace, tenantRoleName, tenantVectorBucketName } from '../../tenant-naming.js';
import { VECTOR_STORE_ACTIONS } from '../../../constructs/tenant-vector-bucket.js';
import { TENANT_DB_USERS } from '../../../constructs/tenant-access-policies.js';
import type { Attempt } from './attempts.js';
import { nodegroupAutoScalingGroup, platformTables, sageMakerCreateRequests } from './attempts.js';
import type { TenantEstate, TenantPrincipal } from './estate.js';

type Control = (e: TenantEstate, p: TenantPrincipal) => Attempt[];

/** A Files API upload under `training-data/files/`: `<file id>/<filename>` (lib/fine-tuning.ts TRAINING_FILE_ID). */
export const OWN_FILE = 'file-0196f3a2b4c8d0e1f2a3b4c5/train.jsonl';

function one(action: string, resource: string, e: TenantEstate, opts: { account?: string; policy?: PolicyJson; context?: Record<string, string | string[]> } = {}): Attempt {
  return { action, resource, resourceAccount: opts.account ?? e.account, resourcePolicy: opts.policy, context: opts.context ?? {}, label: `${action} ${resource}` };
}

const first = (e: TenantEstate, type: string, pick?: (r: InstantiatedResource) => boolean) =>
  Object.values(e.tenant.resources).find((r) => r.type === type && (!pick || pick(r)));

function bucket(e: TenantEstate) {
  // The tenant's data bucket: the one whose policy fences objects to the tenant roles (not the access-log bucket).
  const policies = Object.values(e.tenant.resources).filter((r) => r.type === 'AWS::S3::BucketPolicy');
  const policy = policies.find((p) => JSON.stringify(p.props.PolicyDocument).includes('"DenyObjectAccessToAllButTenantRoles"'));
  const b = first(e, 'AWS::S3::Bucket', (r) => r.physicalId === policy?.props.Bucket)!;
  // Writers name the tenant key (the bucket policy denies a PutObject that does not).
  return { arn: b.arn, policy: policy?.props.PolicyDocument as PolicyJson, ctx: { 's3:TlsVersion': '1.3', 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': e.keyArn ?? '', [`aws:ResourceTag/${TENANT_ID_TAG}`]: e.tenantId } };
}
function key(e: TenantEstate) {
  const k = first(e, 'AWS::KMS::Key')!;
  return { arn: k.arn, policy: k.props.KeyPolicy as PolicyJson };
}
function dbUser(e: TenantEstate, user: string) {
  const dbi = e.runtime.rdsMetricsStreamArn!.split(':log-stream:')[1];
  return `arn:${e.partition}:rds-db:${e.region}:${e.account}:dbuser:${dbi}/${user}`;
}
function cacheArns(e: TenantEstate) {
  return [first(e, 'AWS::ElastiCache::ReplicationGroup')!.arn, ...Object.values(e.tenant.resources).filter((r) => r.type === 'AWS::ElastiCache::User' && String(r.props.UserId).endsWith('-app')).map((r) => r.arn)];
}
const eniContext = (e: TenantEstate) => ({ 'ec2:Vpc': e.vpcArn ?? '', 'ec2:Subnet': e.subnetArns[0] ?? '' });

/** Controls by role name suffix (`tessera-<tenant>-<purpose>`) for named roles, by logical id prefix for service roles. */
const BY_PURPOSE: Record<string, Control> = {
  workload: (e) => {
    const b = bucket(e);
    const k = key(e);
    return [
      one('s3:GetObject', `${b.arn}/data/report.parquet`, e, { policy: b.policy, context: b.ctx }),
      one('s3:PutObject', `${b.arn}/data/report.parquet`, e, { policy: b.policy, context: b.ctx }),
      one('kms:Decrypt', k.arn, e, { policy: k.policy, context: { 'kms:ViaService': `s3.${e.region}.amazonaws.com` } }),
      one('rds-db:connect', dbUser(e, TENANT_DB_USERS.app), e),
      ...cacheArns(e).map((arn) => one('elasticache:Connect', arn, e)),
    ];
  },
  admin: (e) => {
    const b = bucket(e);
    const cluster = first(e, 'AWS::EKS::Cluster');
    return [
      one('s3:GetObject', `${b.arn}/data/report.parquet`, e, { policy: b.policy, context: b.ctx }),
      one('s3:ListBucket', b.arn, e, { policy: b.policy, context: b.ctx }),
      one('rds-db:connect', dbUser(e, TENANT_DB_USERS.admin), e),
      ...(cluster ? [one('eks:DescribeCluster', cluster.arn, e), one('eks:AccessKubernetesApi', cluster.arn, e)] : []),
    ];
  },
  'break-glass': (e) => {
    const b = bucket(e);
    return [one('s3:GetObject', `${b.arn}/data/report.parquet`, e, { policy: b.policy, context: b.ctx }), one('s3:ListBucket', b.arn, e, { policy: b.policy, context: b.ctx })];
  },
  training: (e) => {
    const b = bucket(e);
    const k = key(e);
    return [
      one('s3:GetObject', `${b.arn}/training-data/train.jsonl`, e, { policy: b.policy, context: b.ctx }),
      one('s3:PutObject', `${b.arn}/models/model.tar.gz`, e, { policy: b.policy, context: b.ctx }),
      one('kms:GenerateDataKey', k.arn, e, { policy: k.policy, context: { 'kms:ViaService': `s3.${e.region}.amazonaws.com` } }),
      one('ec2:CreateNetworkInterface', e.subnetArns[0], e, { context: { 'ec2:Vpc': e.vpcArn ?? '' } }),
      one('ec2:CreateNetworkInterface', first(e, 'AWS::EC2::SecurityGroup', (r) => r.physicalId === e.training?.target.securityGroupId)?.arn ?? '', e, { context: { 'ec2:Vpc': e.vpcArn ?? '' } }),
      one('ec2:CreateNetworkInterface', `arn:${e.partition}:ec2:${e.region}:${e.account}:network-interface/*`, e, { context: eniContext(e) }),
      one('ec2:DeleteNetworkInterface', e.runtime.networkInterfaceArn, e, { context: eniContext(e) }),
      one('ec2:CreateNetworkInterfacePermission', e.runtime.networkInterfaceArn, e, { context: eniContext(e) }),
      one('logs:CreateLogStream', e.runtime.trainingLogStreamArn, e),
      one('logs:PutLogEvents', e.runtime.trainingLogStreamArn, e),
    ];
  },
  'training-launcher': (e) => {
    const trainingRole = Object.values(e.tenant.resources).find((r) => r.type === 'AWS::IAM::Role' && r.physicalId === tenantRoleName(e.tenantId, 'training'))!;
    return [
      ...sageMakerCreateRequests(e).map((r) => one(r.action, r.resource, e, { context: r.context })),
      one('iam:PassRole', trainingRole.arn, e, { context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } }),
      one('sagemaker:DescribeTrainingJob', e.runtime.trainingJobArn, e),
      one('sagemaker:StopTrainingJob', e.runtime.trainingJobArn, e, { context: { [`aws:ResourceTag/${TENANT_ID_TAG}`]: e.tenantId } }),
      // Offboarding retires the tenant's fine-tuned models (lambdas/fine-tuning/retire-fine-tuned-models.ts).
      ...([
        ['sagemaker:DeleteEndpoint', e.runtime.endpointArn], ['sagemaker:DeleteEndpointConfig', e.runtime.endpointConfigArn], ['sagemaker:DeleteModel', e.runtime.modelArn],
      ] as const).map(([action, arn]) => one(action, arn, e, { context: { [`aws:ResourceTag/${TENANT_ID_TAG}`]: e.tenantId } })),
      // Described before they are stopped or deleted, without a tag (a name that does not exist has none).
      ...([
        ['sagemaker:DescribeEndpoint', e.runtime.endpointArn], ['sagemaker:DescribeEndpointConfig', e.runtime.endpointConfigArn], ['sagemaker:DescribeModel', e.runtime.modelArn],
      ] as const).map(([action, arn]) => one(action, arn, e)),
    ];
  },
  // The Files API as the fine-tuning API Lambda's session of the role (lambdas/fine-tuning/): its own uploads
  // (PutObject, GetObject, DeleteObject, ListObjectsV2 under training-data/files/) and the key through S3 with the
  // bucket's encryption context (an S3 bucket key: the bucket's ARN). test/isolation/training-files-pairs.test.ts
  // holds what it must not do on its own tenant (the rest of training-data/, models/, a listing without the prefix).
  'training-files': (e) => {
    const b = bucket(e);
    const k = key(e);
    const file = `${b.arn}/${TRAINING_FILES_PREFIX}${OWN_FILE}`;
    const viaS3 = { 'kms:ViaService': `s3.${e.region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': b.arn };
    return [
      ...['s3:PutObject', 's3:GetObject', 's3:DeleteObject'].map((action) => one(action, file, e, { policy: b.policy, context: b.ctx })),
      ...[TRAINING_FILES_PREFIX, `${TRAINING_FILES_PREFIX}${OWN_FILE.split('/')[0]}/`].map((prefix) => one('s3:ListBucket', b.arn, e, { policy: b.policy, context: { ...b.ctx, 's3:prefix': prefix } })),
      one('kms:GenerateDataKey', k.arn, e, { policy: k.policy, context: viaS3 }),
      one('kms:Decrypt', k.arn, e, { policy: k.policy, context: viaS3 }),
    ];
  },
  // The gateway's vector stores as the router's session of the role (lambdas/inference/vector-stores/s3-vectors-index.ts):
  // every index action on an index of the tenant's own vector bucket (CreateIndex with the encryption configuration the
  // gateway sends: SSE-KMS under the tenant key), and the key through S3 Vectors.
  'vector-store': (e) => {
    const k = key(e);
    const index = `arn:${e.partition}:s3vectors:${e.region}:${e.account}:bucket/${tenantVectorBucketName(e.tenantId)}/index/vs-0af3c2`;
    const viaS3Vectors = { 'kms:ViaService': `s3vectors.${e.region}.amazonaws.com` };
    const underOwnKey = { 's3vectors:sseType': 'aws:kms', 's3vectors:kmsKeyArn': k.arn };
    return [
      ...VECTOR_STORE_ACTIONS.map((action) => one(action, index, e, action === 's3vectors:CreateIndex' ? { context: underOwnKey } : {})),
      one('kms:GenerateDataKey', k.arn, e, { policy: k.policy, context: viaS3Vectors }),
      one('kms:Decrypt', k.arn, e, { policy: k.policy, context: viaS3Vectors }),
    ];
  },
  'model-invoker': (e) => [one('sagemaker:InvokeEndpoint', e.runtime.endpointArn, e, { context: { [`aws:ResourceTag/${TENANT_ID_TAG}`]: e.tenantId } })],
  'pod-bridge': (e) => {
    const workload = Object.values(e.tenant.resources).find((r) => r.type === 'AWS::IAM::Role' && r.physicalId === tenantRoleName(e.tenantId, 'workload'))!;
    const ctx = { 'aws:RequestTag/kubernetes-namespace': tenantNamespace(e.tenantId), 'aws:TagKeys': ['kubernetes-namespace'] };
    const trust = workload.props.AssumeRolePolicyDocument as PolicyJson;
    return [one('sts:AssumeRole', workload.arn, e, { policy: trust, context: ctx }), one('sts:TagSession', workload.arn, e, { policy: trust, context: ctx })];
  },
  // A tenant's Kubernetes identity (lib/namespace-kubectl.ts): it has no AWS permission by design. What it exists for is to be
  // EKS's caller: `aws eks get-token` presigns sts:GetCallerIdentity as the role, which EKS verifies and maps through the
  // tenant's access entry; GetCallerIdentity needs no IAM permission (STS API Reference).
  'namespace-kubectl': (e) => [one('sts:GetCallerIdentity', '*', e)],
  NetworkFlowLogRole: (e) => {
    const flowLog = first(e, 'AWS::EC2::FlowLog')!;
    const group = Object.values(e.tenant.resources).find((r) => r.type === 'AWS::Logs::LogGroup' && (r.physicalId === flowLog.props.LogGroupName || r.arn === flowLog.props.LogDestination))!;
    const stream = `${group.arn.replace(/:\*$/, '')}:log-stream:eni-0abc-all`;
    return [one('logs:CreateLogStream', stream, e), one('logs:PutLogEvents', stream, e)];
  },
  DatabaseMonitoringRole: (e) => [one('logs:CreateLogStream', e.runtime.rdsMetricsStreamArn!, e), one('logs:PutLogEvents', e.runtime.rdsMetricsStreamArn!, e)],
  DatabaseBackupRole: (e) => {
    const db = first(e, 'AWS::RDS::DBInstance')!;
    const tag = { [`aws:ResourceTag/${TENANT_ID_TAG}`]: e.tenantId };
    return [
      one('rds:CreateDBSnapshot', db.arn, e, { context: { ...tag, [`aws:RequestTag/${TENANT_ID_TAG}`]: e.tenantId, 'aws:TagKeys': [TENANT_ID_TAG] } }),
      one('rds:AddTagsToResource', e.runtime.dbSnapshotArn!, e, { context: { ...tag, [`aws:RequestTag/${TENANT_ID_TAG}`]: e.tenantId, 'aws:TagKeys': [TENANT_ID_TAG] } }),
      one('rds:DeleteDBSnapshot', e.runtime.dbSnapshotArn!, e, { context: tag }),
      // A DR tier's copy in its DR vault (the DR blueprint's, the first), tagged with the tenant like the backup it copies:
      // deleted at the end of its retention. The home blueprint's role only (its estate holds the DR stacks; the DR-region
      // views' own backup roles copy nothing).
      ...(e.drStacks.length > 0 ? e.runtime.drCopies.slice(0, 1) : []).map((copy) => one('rds:DeleteDBSnapshot', copy.dbSnapshotArn, e, { context: tag })),
    ];
  },
  TrainingEventsRole: (e, p) => {
    const rule = ruleTargeting(e, p);
    const target = ((rule.props.Targets as Array<{ Arn: string }> | undefined) ?? [])[0]?.Arn ?? '';
    const busName = target.split('event-bus/')[1];
    const statements = Object.values(e.platform?.resources ?? {}).filter((r) => r.type === 'AWS::Events::EventBusPolicy' && r.props.EventBusName === busName).map((r) => r.props.Statement);
    // The training job and the endpoint state changes the blueprint's two rules forward (constructs/training-events-forwarder.ts).
    return [TRAINING_STATE_CHANGE, ENDPOINT_STATE_CHANGE].map((detailType) => one('events:PutEvents', target, e, {
      account: target.split(':')[4], policy: { Version: '2012-10-17', Statement: statements },
      context: { 'events:source': ['aws.sagemaker'], 'events:detail-type': [detailType], 'events:eventBusInvocation': 'true' },
    }));
  },
  // A DR tier's restore-test forwarder (constructs/tenant-dr-restore-testing.ts): AWS Backup's restore job state changes to the platform bus.
  RestoreEventsRole: (e, p) => {
    const rule = ruleTargeting(e, p);
    const target = ((rule.props.Targets as Array<{ Arn: string }> | undefined) ?? [])[0]?.Arn ?? '';
    const busName = target.split('event-bus/')[1];
    const statements = Object.values(e.platform?.resources ?? {}).filter((r) => r.type === 'AWS::Events::EventBusPolicy' && r.props.EventBusName === busName).map((r) => r.props.Statement);
    return [one('events:PutEvents', target, e, {
      account: target.split(':')[4], policy: { Version: '2012-10-17', Statement: statements },
      context: { 'events:source': ['aws.backup'], 'events:detail-type': ['Restore Job State Change'], 'events:eventBusInvocation': 'true' },
    })];
  },
  // S3 replicating the tenant bucket into its DR bucket (constructs/tenant-dr-replication.ts): reads the source versions,
  // decrypts them with the tenant key and writes replicas under the DR key, through S3 in each Region.
  'dr-replication': (e) => {
    const b = bucket(e);
    const k = key(e);
    // The DR blueprint: the DR-region stack without a VPC (the failover blueprint has one).
    const dr = e.drStacks.find((s) => !Object.values(s.resources).some((r) => r.type === 'AWS::EC2::VPC'));
    const drBucket = Object.values(dr?.resources ?? {}).find((r) => r.type === 'AWS::S3::Bucket' && r.logicalId.startsWith('StorageBucket'));
    const drPolicy = Object.values(dr?.resources ?? {}).find((r) => r.type === 'AWS::S3::BucketPolicy' && r.props.Bucket === drBucket?.physicalId)?.props.PolicyDocument as PolicyJson | undefined;
    const drKey = Object.values(dr?.resources ?? {}).find((r) => r.type === 'AWS::KMS::Key');
    const drAlias = Object.values(dr?.resources ?? {}).find((r) => r.type === 'AWS::KMS::Alias')?.props.AliasName;
    const drRegion = dr?.env.region ?? e.region;
    return [
      one('s3:GetReplicationConfiguration', b.arn, e, { policy: b.policy, context: b.ctx }),
      one('s3:GetObjectVersionForReplication', `${b.arn}/data/report.parquet`, e, { policy: b.policy, context: b.ctx }),
      one('kms:Decrypt', k.arn, e, { policy: k.policy, context: { 'kms:ViaService': `s3.${e.region}.amazonaws.com` } }),
      one('s3:ReplicateObject', `${drBucket?.arn ?? ''}/data/report.parquet`, e, { policy: drPolicy, context: { 's3:TlsVersion': '1.3', [`aws:ResourceTag/${TENANT_ID_TAG}`]: e.tenantId } }),
      one('kms:GenerateDataKey', drKey?.arn ?? '', e, { policy: drKey?.props.KeyPolicy as PolicyJson, context: { 'kms:ViaService': `s3.${drRegion}.amazonaws.com`, 'kms:ResourceAliases': [String(drAlias)] } }),
    ];
  },
  // AWS Backup's restore tests of the tenant database (constructs/tenant-dr-restore-testing.ts): the tenant's own snapshot
  // into an instance tagged as a restore test, a grant on the tenant key for RDS, a look at the tenant vault.
  'restore-testing': (e) => {
    const vault = first(e, 'AWS::Backup::BackupVault')!;
    const k = key(e);
    const tag = { [`aws:ResourceTag/${TENANT_ID_TAG}`]: e.tenantId };
    return [
      one('rds:RestoreDBInstanceFromDBSnapshot', e.runtime.dbSnapshotArn!, e, { context: tag }),
      one('rds:RestoreDBInstanceFromDBSnapshot', `arn:${e.partition}:rds:${e.region}:${e.account}:db:awsbackup-restore-test-1`, e, { context: { 'aws:RequestTag/awsbackup-restore-test': 'true', 'aws:TagKeys': ['awsbackup-restore-test'] } }),
      one('kms:CreateGrant', k.arn, e, { policy: k.policy, context: { 'kms:ViaService': `rds.${e.region}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'true' } }),
      one('backup:DescribeBackupVault', vault.arn, e),
    ];
  },
  // The AWS-managed cluster policy acts on every security group and network interface of the
  // account: acceptable only in an account of the tenant's own (the schema refuses it in a VPC tier).
  ComputeClusterRole: (e) => {
    const sg = first(e, 'AWS::EC2::SecurityGroup')!;
    return [one('ec2:AuthorizeSecurityGroupIngress', sg.arn, e, { context: { 'ec2:Vpc': e.vpcArn ?? '' } })];
  },
  // AWS Backup restoring the tenant's database from its DR vault into the DR region (the failover runbook): the copy's
  // snapshot into the restored instance, with a grant on the DR key for RDS, and a look at the DR vault.
  'dr-restore': (e) => {
    const copy = e.runtime.drCopies[0];
    const vault = first(e, 'AWS::Backup::BackupVault')!;
    const restored = `arn:${e.partition}:rds:${e.region}:${e.account}:db:${drRestoredInstanceIdentifier(e.tenantId)}`;
    const k = key(e);
    // Its own copy carries its tag (AWS Backup copies every tag of the backup it copies).
    const ownTag = { [`aws:ResourceTag/${TENANT_ID_TAG}`]: e.tenantId };
    return [
      one('rds:DescribeDBSnapshots', copy.dbSnapshotArn, e, { context: ownTag }),
      one('rds:RestoreDBInstanceFromDBSnapshot', copy.dbSnapshotArn, e, { context: ownTag }),
      one('rds:RestoreDBInstanceFromDBSnapshot', restored, e),
      one('kms:CreateGrant', k.arn, e, { policy: k.policy, context: { 'kms:ViaService': `rds.${e.region}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'true' } }),
      one('backup:DescribeBackupVault', vault.arn, e),
    ];
  },
  // A dedicated cluster's Cluster Autoscaler (constructs/cluster-autoscaler.ts, lib/cluster-autoscaler.ts), through EKS Pod
  // Identity: it grows and shrinks its own cluster's node groups (their Auto Scaling groups, which EKS tags with the cluster's
  // name and k8s.io/cluster-autoscaler/enabled), reads their labels and taints (scale from zero), and describes the groups.
  ClusterAutoscalerRole: (e) => {
    const nodegroup = first(e, 'AWS::EKS::Nodegroup')!;
    const group = nodegroupAutoScalingGroup(nodegroup.arn);
    return [
      one('autoscaling:SetDesiredCapacity', group.arn, e, { context: group.tags }),
      one('autoscaling:TerminateInstanceInAutoScalingGroup', group.arn, e, { context: group.tags }),
      one('eks:DescribeNodegroup', nodegroup.arn, e),
      one('autoscaling:DescribeAutoScalingGroups', '*', e),
    ];
  },
  // The Lambda that applies a dedicated cluster's manifests (constructs/cluster-manifests.ts): writes its own log group, and
  // creates and deletes its network interfaces in the tenant's subnets with its own security group.
  ClusterAutoscalerManifestsRole: (e) => {
    const group = first(e, 'AWS::Logs::LogGroup', (r) => r.logicalId.startsWith('ClusterAutoscalerManifestsLogs'))!;
    const stream = `${group.arn.replace(/:\*$/, '')}:log-stream:2026/12/07/[$LATEST]0a1b2c3d4e5f60718293a4b5c6d7e8f9`;
    const sg = first(e, 'AWS::EC2::SecurityGroup', (r) => r.logicalId.startsWith('ClusterAutoscalerManifestsSecurityGroup'))!;
    return [
      one('logs:CreateLogStream', stream, e),
      one('logs:PutLogEvents', stream, e),
      one('ec2:CreateNetworkInterface', e.subnetArns[0], e, { context: { 'ec2:Vpc': e.vpcArn ?? '' } }),
      one('ec2:CreateNetworkInterface', sg.arn, e, { context: { 'ec2:Vpc': e.vpcArn ?? '' } }),
      one('ec2:CreateNetworkInterface', `arn:${e.partition}:ec2:${e.region}:${e.account}:network-interface/*`, e, { context: eniContext(e) }),
      one('ec2:DeleteNetworkInterface', e.runtime.networkInterfaceArn, e, { context: eniContext(e) }),
      one('ec2:DescribeNetworkInterfaces', '*', e),
    ];
  },
  ComputeNodeRole: (e) => [one('eks:DescribeCluster', first(e, 'AWS::EKS::Cluster')!.arn, e), one('ecr:GetAuthorizationToken', '*', e)],
};

/** The rule of `e`'s stack whose target `p` is the role of (a stack may have several forwarders); else its first rule. */
function ruleTargeting(e: TenantEstate, p: TenantPrincipal): InstantiatedResource {
  const rules = Object.values(e.tenant.resources).filter((r) => r.type === 'AWS::Events::Rule');
  return rules.find((r) => ((r.props.Targets as Array<{ RoleArn?: unknown }> | undefined) ?? []).some((t) => t.RoleArn === p.arn)) ?? rules[0];
}

/** A session of the platform's tenant-data role for the tenant: what the gateway and fine-tuning Lambdas do with it. */
function tenantData(e: TenantEstate): Attempt[] {
  const t = platformTables(e);
  const at = (action: string, resource: string | undefined, context: Record<string, string | string[]>) => one(action, resource ?? '', e, { account: e.platformAccount, context });
  return [
    at('dynamodb:GetItem', t.registry, { 'dynamodb:LeadingKeys': [e.tenantId] }),
    at('dynamodb:UpdateItem', t.registry, { 'dynamodb:LeadingKeys': [e.tenantId], 'dynamodb:Attributes': ['tenantId', 'fineTunedModels', 'updatedAt'], 'dynamodb:ReturnValues': 'NONE' }),
    at('dynamodb:UpdateItem', t.usage, { 'dynamodb:LeadingKeys': [`rate#${e.tenantId}#minute#29403522`] }),
    at('dynamodb:UpdateItem', t.usage, { 'dynamodb:LeadingKeys': [`usage#${e.tenantId}#2026-11`] }),
    at('dynamodb:GetItem', t.usage, { 'dynamodb:LeadingKeys': [`usage#${e.tenantId}#2026-11-30`] }),
    at('dynamodb:PutItem', t.jobs, { 'dynamodb:LeadingKeys': [e.tenantId] }),
    at('dynamodb:Query', t.jobs, { 'dynamodb:LeadingKeys': [e.tenantId] }),
    at('secretsmanager:GetSecretValue', e.runtime.providerSecretArn, { [`aws:ResourceTag/${TENANT_ID_TAG}`]: e.tenantId }),
    // Tenant API keys (issue 15): look-up by hash, list, create, revoke.
    ...(t.apiKeys ? ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].map((action) => at(action, t.apiKeys, { 'dynamodb:LeadingKeys': [e.tenantId] })) : []),
  ];
}

/**
 * The controls of principal `p` of estate `e`, or undefined when its role has no entry. A role of a DR-region stack
 * (the DR or the failover blueprint) acts on that stack's resources: its controls are taken on that view of `e`.
 */
export function controlsOf(estate: TenantEstate, p: TenantPrincipal): Attempt[] | undefined {
  const e = estate.drViews.find((v) => v.tenant === p.inst) ?? estate;
  if (p.roleName === TENANT_DATA_ROLE_NAME) return tenantData(e);
  const prefix = `tessera-${e.tenantId}-`;
  const purpose = p.roleName.startsWith(prefix) && BY_PURPOSE[p.roleName.slice(prefix.length)] ? p.roleName.slice(prefix.length) : Object.keys(BY_PURPOSE).find((k) => p.logicalId.startsWith(k));
  return purpose ? BY_PURPOSE[purpose](e, p) : undefined;
}
