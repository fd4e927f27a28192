/**
 * The sensitive requests one tenant could make on another tenant's resources: reading, writing,
 * deleting or reconfiguring its data stores (its vector bucket and indexes too), using its key (an index of one's own
 * vector bucket created under it too), assuming or passing its roles,
 * touching its network interfaces and log streams, and creating SageMaker resources that name its
 * key, subnets or security groups. Each attempt carries the request context AWS would set for it
 * (resource tags, `ec2:Vpc`, `kms:ViaService` for every service that uses tenant keys, the
 * resource's policy), and where the requester chooses a value (request tags, session tags, the
 * names in a create call) the value most likely to get through.
 */
import { createTrainingJobInput, deploymentInputs } from '../../../lambdas/fine-tuning/sagemaker-requests.js';
import { TRAINING_FILES_PREFIX, TRAINING_STATE_CHANGE, type FineTuningJob } from '../../fine-tuning.js';
import { LIFECYCLE_EVENT_SOURCE, LIFECYCLE_EVENTS } from '../../tenant-record.js';
import type { PolicyJson } from '../iam-eval.js';
import { resourceTagContext, tagsOf } from '../tags.js';
import type { InstantiatedResource, InstantiatedTemplate } from '../instantiate.js';
import { TYPES } from '../resource-types.js';
import { TENANT_ID_TAG } from '../../tenant-naming.js';
import type { TenantEstate } from './estate.js';
import { sessionTagsOf } from './estate.js';
import { createEndpointConfigContext, createEndpointContext, createModelContext, createTrainingJobContext } from './sagemaker-request-context.js';

export interface Attempt {
  readonly action: string;
  readonly resource: string;
  readonly resourceAccount: string;
  readonly resourcePolicy?: PolicyJson;
  /** Request context beyond the principal's own keys (aws:PrincipalArn, aws:PrincipalTag/…). */
  readonly context: Record<string, string | string[]>;
  /** What is attempted on what, for reports: `<action> <resource>[ (<variant>)]`. */
  readonly label: string;
  /**
   * Further resources the same request is authorized on (EC2's CreateNetworkInterface is checked on
   * the subnet, the security group and the new interface), each with its resource policy and, where the
   * service makes a further call for it, that call's action (a restore's `kms:CreateGrant` on the
   * snapshot's key): the request is allowed only if every part is.
   */
  readonly alsoOn?: ReadonlyArray<{ readonly resource: string; readonly context: Record<string, string | string[]>; readonly resourcePolicy?: PolicyJson; readonly action?: string }>;
}

/** The victim's Files API upload tried by every principal (`training-data/files/<file id>/<filename>`). */
const VICTIM_FILE = 'file-0196f3a2b4c8d0e1f2a3b4c6/train.jsonl';

/** Services that use a tenant key on a caller's behalf (kms:ViaService values tried on every key action). */
const KEY_SERVICES = ['s3', 'rds', 'secretsmanager', 'elasticache', 'eks', 'backup', 'sagemaker', 'logs', 'dynamodb', 'ec2', 'ebs', 's3vectors'];

const S3_OBJECT_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:RestoreObject', 's3:PutObjectAcl'];
const S3_BUCKET_ACTIONS = ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketAcl', 's3:PutEncryptionConfiguration', 's3:PutLifecycleConfiguration', 's3:PutReplicationConfiguration', 's3:DeleteBucket'];
const KMS_USE = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:CreateGrant'];
const KMS_ADMIN = ['kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:CreateAlias', 'kms:UpdateAlias'];
/**
 * Amazon S3 Vectors on a tenant's vector bucket (constructs/tenant-vector-bucket.ts), by the resource each acts on in the
 * Service Authorization Reference: the vector bucket (`bucket/<name>`) and an index of it (`bucket/<name>/index/<index>`).
 */
const S3_VECTORS_BUCKET_ACTIONS = ['s3vectors:GetVectorBucket', 's3vectors:DeleteVectorBucket', 's3vectors:ListIndexes', 's3vectors:GetVectorBucketPolicy', 's3vectors:PutVectorBucketPolicy', 's3vectors:DeleteVectorBucketPolicy', 's3vectors:TagResource'];
const S3_VECTORS_INDEX_ACTIONS = ['s3vectors:QueryVectors', 's3vectors:GetVectors', 's3vectors:PutVectors', 's3vectors:DeleteVectors', 's3vectors:ListVectors', 's3vectors:GetIndex', 's3vectors:CreateIndex', 's3vectors:DeleteIndex'];
/** An index of the victim's as the gateway names one (`vs-<hex>`, lambdas/inference/vector-stores/s3-vectors-index.ts). */
const VICTIM_INDEX = 'vs-0196f3a2b4c8d0e1';
const ENI_ACTIONS = ['ec2:DeleteNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'];
const LOG_STREAM_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:GetLogEvents', 'logs:DeleteLogStream'];
const LOG_GROUP_ACTIONS = ['logs:FilterLogEvents', 'logs:DescribeLogStreams', 'logs:DeleteLogGroup', 'logs:PutRetentionPolicy', 'logs:AssociateKmsKey', 'logs:DisassociateKmsKey', 'logs:PutSubscriptionFilter'];

/**
 * CreateIndex in the attacker's own vector bucket with an encryption configuration that is not its tenant key's
 * (CreateIndex's condition keys `s3vectors:sseType` and `s3vectors:kmsKeyArn`, its request's `encryptionConfiguration`:
 * Service Authorization Reference for Amazon S3 Vectors): under the victim's key, and SSE-S3 (`AES256`, no key). The
 * bucket is the attacker's, its account the attacker's; what is the victim's is the key the index would be under.
 */
function ownIndexUnderOtherKeys(victim: TenantEstate, attacker: TenantEstate): Attempt[] {
  const bucket = Object.values(attacker.tenant.resources).find((r) => r.type === 'AWS::S3Vectors::VectorBucket');
  if (!bucket || !victim.keyArn) return [];
  const arn = `arn:${attacker.partition}:s3vectors:${attacker.region}:${attacker.account}:bucket/${String(bucket.props.VectorBucketName)}`;
  const tags = resourceTags(attacker, bucket);
  const bucketTags = { ...tags, ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [k.replace(/^aws:ResourceTag\//, 's3vectors:VectorBucketTag/'), v])) };
  const resource = `${arn}/index/${VICTIM_INDEX}`;
  const tries: Array<{ encryption: Record<string, string>; variant: string }> = [
    { encryption: { 's3vectors:sseType': 'aws:kms', 's3vectors:kmsKeyArn': victim.keyArn }, variant: `own bucket, under ${victim.tenantId}'s key` },
    { encryption: { 's3vectors:sseType': 'AES256' }, variant: 'own bucket, SSE-S3 (AES256)' },
  ];
  return tries.map(({ encryption, variant }) => ({
    action: 's3vectors:CreateIndex', resource, resourceAccount: attacker.account, context: { ...bucketTags, ...encryption }, label: `s3vectors:CreateIndex ${resource} (${variant})`,
  }));
}

/** The tags a resource of the victim's stack carries, as `aws:ResourceTag/<key>` context. */
function resourceTags(victim: TenantEstate, r?: InstantiatedResource): Record<string, string> {
  return resourceTagContext({ ...victim.stackTags, ...tagsOf(r?.props.Tags) });
}

/**
 * The Auto Scaling group EKS makes for a managed node group (`eks-<node group>-<id>`) and the tags EKS puts on it (the cluster's
 * name, `k8s.io/cluster-autoscaler/enabled` and `k8s.io/cluster-autoscaler/<cluster>` = `owned`), as `aws:ResourceTag/…`
 * context: what a Cluster Autoscaler scales (lib/cluster-autoscaler.ts).
 * @param nodegroupArn `arn:<partition>:eks:<region>:<account>:nodegroup/<cluster>/<name>/<id>`
 */
export function nodegroupAutoScalingGroup(nodegroupArn: string): { arn: string; tags: Record<string, string> } {
  const [head, cluster, name, id] = nodegroupArn.split('/');
  const [, partition, , region, account] = head.split(':');
  return {
    arn: `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:${id}:autoScalingGroupName/eks-${name}-${id}`,
    tags: { 'aws:ResourceTag/eks:cluster-name': cluster, 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true', [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster}`]: 'owned' },
  };
}

/** A stream ARN inside a log group ARN (`…:log-group:<name>[:*]` → `…:log-group:<name>:log-stream:<stream>`). */
function streamIn(groupArn: string, stream: string): string {
  return `${groupArn.replace(/:\*$/, '')}:log-stream:${stream}`;
}

/**
 * Every attempt of `attacker`'s principals on `victim`'s resources (without the principal's own
 * context, which the runner adds). The attacker's estate supplies the values a requester would
 * put in a create call it controls (its own names and tags) beside the victim's.
 */
export function attemptsOn(victim: TenantEstate, attacker: TenantEstate): Attempt[] {
  const out: Attempt[] = [];
  const add = (actions: string[], resource: string, opts: { account?: string; policy?: PolicyJson; context?: Record<string, string | string[]>; variant?: string } = {}) => {
    for (const action of actions) {
      out.push({ action, resource, resourceAccount: opts.account ?? victim.account, resourcePolicy: opts.policy, context: opts.context ?? {}, label: `${action} ${resource}${opts.variant ? ` (${opts.variant})` : ''}` });
    }
  };
  const region = victim.region;
  const res = Object.values(victim.tenant.resources);
  const dataBucket = (e: TenantEstate) => Object.values(e.tenant.resources).find((r) => r.type === 'AWS::S3::Bucket' && r.logicalId.startsWith('StorageBucket'))?.arn;
  const [victimBucket, attackerBucket] = [dataBucket(victim), dataBucket(attacker)];

  // The tier blueprint's resources, then those of the DR-region stacks (DR and failover blueprints): each in its own Region.
  for (const inst of [victim.tenant, ...victim.drStacks]) attemptsOnStack(inst);
  function attemptsOnStack(inst: InstantiatedTemplate) {
    const res = Object.values(inst.resources);
    const region = inst.env.region;
    const bucketPolicies = res.filter((r) => r.type === 'AWS::S3::BucketPolicy');
    for (const r of res) {
      const tags = resourceTags(victim, r);
      switch (r.type) {
        case 'AWS::S3::Bucket': {
          const policy = bucketPolicies.find((p) => p.props.Bucket === r.physicalId)?.props.PolicyDocument as PolicyJson | undefined;
          // The requester sends whatever encryption headers the policy asks for: the victim's own key.
          const ctx = { ...tags, 's3:TlsVersion': '1.3', 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': victim.keyArn ?? '' };
          for (const key of ['data/report.parquet', 'training-data/train.jsonl', `${TRAINING_FILES_PREFIX}${VICTIM_FILE}`, 'models/model.tar.gz', 'checkpoints/step-1', 'tessera-export/archive.tar']) {
            add(S3_OBJECT_ACTIONS, `${r.arn}/${key}`, { policy, context: ctx });
          }
          add(S3_BUCKET_ACTIONS, r.arn, { policy, context: ctx });
          // Listings as the Files API makes them (ListObjectsV2 with a Prefix): its prefix, and one file's.
          for (const prefix of [TRAINING_FILES_PREFIX, `${TRAINING_FILES_PREFIX}${VICTIM_FILE.split('/')[0]}/`]) {
            add(['s3:ListBucket'], r.arn, { policy, context: { ...ctx, 's3:prefix': prefix }, variant: `prefix ${prefix}` });
          }
          break;
        }
        case 'AWS::S3Vectors::VectorBucket': {
          // Its ARN from its name (the template's `Ref` is the ARN, which the instantiation does not model); its tags as
          // both condition keys S3 Vectors sets (`aws:ResourceTag/…` and `s3vectors:VectorBucketTag/…`).
          const arn = `arn:${victim.partition}:s3vectors:${region}:${victim.account}:bucket/${String(r.props.VectorBucketName)}`;
          const bucketTags = { ...tags, ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [k.replace(/^aws:ResourceTag\//, 's3vectors:VectorBucketTag/'), v])) };
          const policy = res.find((p) => p.type === 'AWS::S3Vectors::VectorBucketPolicy' && [p.props.VectorBucketName, p.props.VectorBucketArn].some((v) => v === r.props.VectorBucketName || v === arn || v === r.physicalId))?.props.Policy as PolicyJson | undefined;
          add(S3_VECTORS_BUCKET_ACTIONS, arn, { policy, context: bucketTags });
          // An index the victim has (a vector store of its), and one an attacker would create in the victim's bucket.
          for (const index of [VICTIM_INDEX, 'vs-attacker']) add(S3_VECTORS_INDEX_ACTIONS, `${arn}/index/${index}`, { policy, context: bucketTags });
          break;
        }
        case 'AWS::KMS::Key': {
          const policy = r.props.KeyPolicy as PolicyJson;
          add([...KMS_USE, ...KMS_ADMIN], r.arn, { policy, context: tags, variant: 'direct' });
          for (const s of KEY_SERVICES) {
            add(KMS_USE, r.arn, { policy, context: { ...tags, 'kms:ViaService': `${s}.${region}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'true', 'kms:CallerAccount': attacker.account }, variant: `via ${s}` });
          }
          // Through S3 as S3 asks for an object of a bucket under the key (with a bucket key, the encryption
          // context is the bucket's ARN): the victim's bucket, and the attacker's own (its context, the victim's key).
          for (const b of [victimBucket, attackerBucket]) {
            if (!b) continue;
            add(KMS_USE, r.arn, { policy, context: { ...tags, 'kms:ViaService': `s3.${region}.amazonaws.com`, 'kms:CallerAccount': attacker.account, 'kms:EncryptionContext:aws:s3:arn': b }, variant: `via s3 for ${b}` });
          }
          break;
        }
        case 'AWS::IAM::Role': {
          const trust = r.props.AssumeRolePolicyDocument as PolicyJson;
          // The requester chooses its session tags and source identity: it sends what the victim's trust asks for.
          const chosen = Object.fromEntries(Object.entries(sessionTagsOf(r)).map(([k, v]) => [`aws:RequestTag/${k}`, v]));
          const ctx = { ...tags, ...chosen, 'aws:TagKeys': Object.keys(sessionTagsOf(r)), 'sts:SourceIdentity': `tessera-offboarding-${victim.tenantId}` };
          add(['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'], r.arn, { policy: trust, context: ctx });
          const services = ((trust as { Statement?: Array<{ Principal?: { Service?: string | string[] } }> }).Statement ?? []).flatMap((s) => [s.Principal?.Service ?? []].flat());
          for (const svc of services.length ? services : ['sagemaker.amazonaws.com']) add(['iam:PassRole'], r.arn, { context: { ...tags, 'iam:PassedToService': svc }, variant: `to ${svc}` });
          add(['iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRole', 'iam:TagRole'], r.arn, { context: tags });
          break;
        }
        case 'AWS::RDS::DBInstance': {
          add(['rds:ModifyDBInstance', 'rds:DeleteDBInstance', 'rds:RebootDBInstance', 'rds:StopDBInstance', 'rds:CreateDBSnapshot', 'rds:AddTagsToResource', 'rds:RestoreDBInstanceToPointInTime', 'rds:CreateDBInstanceReadReplica'], r.arn, { context: tags });
          const dbi = String(TYPES['AWS::RDS::DBInstance'].attributes!.DbiResourceId(r, inst.env));
          for (const user of ['tenant_app', 'tenant_admin', String(r.props.MasterUsername ?? 'postgres')]) {
            add(['rds-db:connect'], `arn:${victim.partition}:rds-db:${region}:${victim.account}:dbuser:${dbi}/${user}`);
          }
          break;
        }
        case 'AWS::ElastiCache::ReplicationGroup':
          add(['elasticache:Connect', 'elasticache:ModifyReplicationGroup', 'elasticache:DeleteReplicationGroup', 'elasticache:CreateSnapshot', 'elasticache:TestFailover'], r.arn, { context: tags });
          break;
        case 'AWS::ElastiCache::User':
          add(['elasticache:Connect', 'elasticache:ModifyUser', 'elasticache:DeleteUser'], r.arn, { context: tags });
          break;
        case 'AWS::Logs::LogGroup':
          add(LOG_GROUP_ACTIONS, r.arn, { context: tags });
          add(LOG_STREAM_ACTIONS, streamIn(r.arn, 'stream-1'), { context: tags });
          break;
        case 'AWS::EC2::Subnet':
          add(['ec2:CreateNetworkInterface', 'ec2:RunInstances', 'ec2:CreateVpcEndpoint'], r.arn, { context: { ...tags, 'ec2:Vpc': victim.vpcArn ?? '' } });
          break;
        case 'AWS::EC2::SecurityGroup':
          add(['ec2:CreateNetworkInterface', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'], r.arn, { context: { ...tags, 'ec2:Vpc': victim.vpcArn ?? '' } });
          break;
        case 'AWS::EC2::VPC':
          add(['ec2:CreateSubnet', 'ec2:ModifyVpcAttribute', 'ec2:CreateVpcPeeringConnection', 'ec2:DeleteVpc'], r.arn, { context: { ...tags, 'ec2:Vpc': r.arn } });
          break;
        case 'AWS::Backup::BackupVault':
          add(['backup:StartBackupJob', 'backup:DeleteBackupVault', 'backup:PutBackupVaultAccessPolicy', 'backup:ListRecoveryPointsByBackupVault', 'backup:PutBackupVaultLockConfiguration'], r.arn, { context: tags });
          break;
        case 'AWS::Backup::BackupPlan':
          add(['backup:UpdateBackupPlan', 'backup:DeleteBackupPlan', 'backup:CreateBackupSelection'], r.arn, { context: tags });
          break;
        case 'AWS::EKS::Cluster':
          add(['eks:DescribeCluster', 'eks:AccessKubernetesApi', 'eks:CreateAccessEntry', 'eks:UpdateClusterConfig', 'eks:DeleteCluster', 'eks:CreatePodIdentityAssociation'], r.arn, { context: tags });
          break;
        case 'AWS::EKS::Nodegroup':
          add(['eks:DeleteNodegroup', 'eks:UpdateNodegroupConfig', 'eks:DescribeNodegroup'], r.arn, { context: tags });
          {
            // Its Auto Scaling group, as a Cluster Autoscaler scales it (another tenant's autoscaler scaling this one's nodes).
            const group = nodegroupAutoScalingGroup(r.arn);
            add(['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'], group.arn, { context: { ...tags, ...group.tags } });
          }
          break;
        case 'AWS::Events::Rule':
          add(['events:PutRule', 'events:PutTargets', 'events:DeleteRule', 'events:DisableRule'], r.arn, { context: tags });
          break;
        case 'AWS::SSM::Parameter':
          add(['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'], r.arn, { context: tags });
          break;
        default:
      }
    }
  }

  out.push(...ownIndexUnderOtherKeys(victim, attacker));

  // What AWS creates for the victim at run time.
  const rt = victim.runtime;
  const tenantTag = { [`aws:ResourceTag/${TENANT_ID_TAG}`]: victim.tenantId };
  add(['sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob', 'sagemaker:AddTags', 'sagemaker:DeleteTags'], rt.trainingJobArn, { context: tenantTag });
  add(['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint', 'sagemaker:DeleteEndpoint'], rt.endpointArn, { context: tenantTag });
  add(['sagemaker:DeleteModel', 'sagemaker:DescribeModel'], rt.modelArn, { context: tenantTag });
  add(['sagemaker:DeleteEndpointConfig', 'sagemaker:DescribeEndpointConfig'], rt.endpointConfigArn, { context: tenantTag });
  add(LOG_STREAM_ACTIONS, rt.trainingLogStreamArn);
  add(['logs:PutLogEvents', 'logs:GetLogEvents'], rt.endpointLogStreamArn);
  if (rt.rdsMetricsStreamArn) add(LOG_STREAM_ACTIONS, rt.rdsMetricsStreamArn);
  if (rt.dbSnapshotArn) add(['rds:DeleteDBSnapshot', 'rds:CopyDBSnapshot', 'rds:ModifyDBSnapshotAttribute', 'rds:RestoreDBInstanceFromDBSnapshot', 'rds:AddTagsToResource', 'rds:DescribeDBSnapshots'], rt.dbSnapshotArn, { context: tenantTag });
  add(['backup:DeleteRecoveryPoint', 'backup:StartRestoreJob', 'backup:UpdateRecoveryPointLifecycle'], rt.recoveryPointArn, { context: tenantTag });
  // The copies AWS Backup makes into the victim's DR vault: the recovery point, and the snapshot it is. A restore of an
  // encrypted snapshot also asks the snapshot's key for a grant through RDS (kms:CreateGrant): one request, both parts.
  for (const copy of rt.drCopies) {
    add(['backup:DeleteRecoveryPoint', 'backup:StartRestoreJob', 'backup:UpdateRecoveryPointLifecycle', 'backup:StartCopyJob'], copy.recoveryPointArn, { context: tenantTag });
    add(['rds:DeleteDBSnapshot', 'rds:CopyDBSnapshot', 'rds:ModifyDBSnapshotAttribute', 'rds:AddTagsToResource', 'rds:DescribeDBSnapshots'], copy.dbSnapshotArn, { context: tenantTag });
    // The copy while AWS Backup makes it, before its tags arrive: deleting it (describing and tagging it are left open, docs/isolation.md).
    add(['rds:DeleteDBSnapshot', 'rds:ModifyDBSnapshotAttribute'], copy.dbSnapshotArn, { variant: 'untagged, being copied' });
    const grant = copy.keyArn ? [{ resource: copy.keyArn, resourcePolicy: copy.keyPolicy as PolicyJson, context: { 'kms:ViaService': `rds.${copy.region}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'true', 'kms:CallerAccount': attacker.account } }] : [];
    const restore = 'rds:RestoreDBInstanceFromDBSnapshot';
    out.push({ action: restore, resource: copy.dbSnapshotArn, resourceAccount: victim.account, context: tenantTag, alsoOn: grant.map((g) => ({ ...g, action: 'kms:CreateGrant' })), label: `${restore} ${copy.dbSnapshotArn}` });
    // The same restore as RDS authorizes it before it asks the key: the snapshot alone (a role allowed it leaves the
    // denial to the victim's key policy, and may still learn the copy exists).
    add([restore], copy.dbSnapshotArn, { context: tenantTag, variant: 'the snapshot alone' });
  }
  if (rt.rdsMasterSecretArn) add(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecret', 'secretsmanager:DeleteSecret'], rt.rdsMasterSecretArn);
  add(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'], rt.providerSecretArn, { account: victim.platformAccount, context: tenantTag });
  if (victim.vpcArn) {
    const eniCtx = { 'ec2:Vpc': victim.vpcArn, 'ec2:Subnet': victim.subnetArns[0] ?? '' };
    add(ENI_ACTIONS, rt.networkInterfaceArn, { context: eniCtx });
    // A new interface in the victim's subnet (with the victim's security group: it must be in the subnet's VPC).
    const sg = res.find((r) => r.type === 'AWS::EC2::SecurityGroup');
    if (victim.subnetArns[0] && sg) {
      const vpc = { 'ec2:Vpc': victim.vpcArn };
      out.push({
        action: 'ec2:CreateNetworkInterface', resource: victim.subnetArns[0], resourceAccount: victim.account, context: vpc,
        alsoOn: [{ resource: sg.arn, context: vpc }, { resource: `arn:${victim.partition}:ec2:${region}:${victim.account}:network-interface/*`, context: {} }],
        label: `ec2:CreateNetworkInterface in ${victim.subnetArns[0]} with ${sg.arn}`,
      });
    }
  }

  if (victim.platform) out.push(...platformDataAttempts(victim));

  // Create calls a requester controls: its own names, the victim's key, network or role.
  out.push(...sageMakerCreateAttempts(victim, attacker));
  return out;
}

/**
 * The SageMaker calls of one fine-tuning job of tenant `e` as its launcher makes them: built by
 * lambdas/fine-tuning/sagemaker-requests.ts, with the request context AWS derives from each
 * (./sagemaker-request-context.ts), plus the role the calls pass. Empty for a tier without training.
 */
export function sageMakerCreateRequests(e: TenantEstate): Array<{ action: string; resource: string; context: Record<string, string | string[]> }> {
  if (!e.training) return [];
  const { target, tier, base } = e.training;
  const jobId = `ftjob-${e.runtime.trainingJobName.slice(-24)}`;
  const job: FineTuningJob = {
    id: jobId, tenantId: e.tenantId, userId: 'u-1', model: base.id, trainingFile: `s3://${target.bucket}/training-data/train.jsonl`,
    hyperparameters: { n_epochs: 3, batch_size: 8, learning_rate_multiplier: 1 }, suffix: 'faq', instanceType: tier.training.instanceTypes[0], spot: tier.training.spot,
    trainingJobName: e.runtime.trainingJobName, status: 'queued', createdAt: 1, events: [],
  };
  const create = createTrainingJobInput(job, base, tier, target);
  const deploy = deploymentInputs(job, base, tier, target, `s3://${target.bucket}/models/${job.trainingJobName}/output/model.tar.gz`);
  const rt = e.runtime;
  const modelArn = (name: string) => rt.modelArn.replace(/model\/.*$/, `model/${name}`);
  return [
    { action: 'sagemaker:CreateTrainingJob', resource: rt.trainingJobArn, context: createTrainingJobContext(create) },
    { action: 'sagemaker:CreateModel', resource: rt.modelArn, context: createModelContext(deploy.model) },
    { action: 'sagemaker:CreateEndpointConfig', resource: rt.endpointConfigArn, context: createEndpointConfigContext(deploy.endpointConfig, modelArn) },
    { action: 'sagemaker:CreateEndpoint', resource: rt.endpointArn, context: createEndpointContext(deploy.endpoint) },
  ];
}

/**
 * Keys a requester may add to a create call although its own call does not carry them (the
 * victim's key), by the actions the Service Authorization Reference lists them for.
 */
const ADDABLE_KEYS: Record<string, string[]> = {
  'sagemaker:CreateTrainingJob': ['sagemaker:VolumeKmsKeyArn', 'sagemaker:OutputKmsKeyArn'],
  'sagemaker:CreateEndpointConfig': ['sagemaker:VolumeKmsKeyArn'],
};
/** Request keys whose value names a tenant's resource or the tenant (the job-id tag, instance types and flags do not). */
const TENANT_KEYS = ['sagemaker:VolumeKmsKeyArn', 'sagemaker:OutputKmsKeyArn', `aws:RequestTag/${TENANT_ID_TAG}`, 'sagemaker:VpcSubnets', 'sagemaker:VpcSecurityGroupIds', 'sagemaker:ModelArn'];

/**
 * For each create call of the attacker's own (allowed to its launcher), the same call naming the
 * victim's resource, and the same call with one tenant-specific value swapped for (or added as)
 * the victim's: key, subnets, security groups, model, tag. Each must be denied.
 */
function sageMakerCreateAttempts(victim: TenantEstate, attacker: TenantEstate): Attempt[] {
  const own = sageMakerCreateRequests(attacker);
  const theirs = sageMakerCreateRequests(victim);
  const out: Attempt[] = [];
  own.forEach((req, i) => {
    const victimReq = theirs[i];
    const victimResource = victimReq?.resource ?? req.resource.replace(`/${attacker.runtime.trainingJobName}`, `/${victim.runtime.trainingJobName}`);
    out.push({ action: req.action, resource: victimResource, resourceAccount: victim.account, context: req.context, label: `${req.action} ${victimResource} (the victim's name)` });
    const swaps: Record<string, string | string[]> = { ...(victimReq?.context ?? {}) };
    const addable = ADDABLE_KEYS[req.action] ?? [];
    if (victim.keyArn) for (const k of addable) swaps[k] ??= victim.keyArn;
    for (const [k, v] of Object.entries(swaps)) {
      if (JSON.stringify(v) === JSON.stringify(req.context[k])) continue;
      if (!TENANT_KEYS.includes(k) || (!(k in req.context) && !addable.includes(k))) continue;
      out.push({ action: req.action, resource: req.resource, resourceAccount: attacker.account, context: { ...req.context, [k]: v }, label: `${req.action} ${req.resource} (with the victim's ${k})` });
    }
  });
  return out;
}

/** The platform's pooled tables (tessera-tenants, tessera-usage, tessera-fine-tuning-jobs, tessera-gateway-responses, tessera-gateway-api-keys) in `e.platform`. */
export function platformTables(e: TenantEstate): { registry?: string; usage?: string; jobs?: string; responses?: string; apiKeys?: string } {
  const tables = Object.values(e.platform?.resources ?? {}).filter((r) => r.type === 'AWS::DynamoDB::GlobalTable');
  const arn = (logical: RegExp) => tables.find((t) => logical.test(t.logicalId))?.arn;
  return { registry: arn(/^RegistryTable/), usage: arn(/UsageTable/), jobs: arn(/^FineTuningJobs/), responses: arn(/^ResponsesTable/), apiKeys: arn(/^ApiKeysTable/) };
}

/** Items of the victim's in the pooled tables, by their partition keys (`dynamodb:LeadingKeys`). */
function platformDataAttempts(victim: TenantEstate): Attempt[] {
  const t = platformTables(victim);
  const out: Attempt[] = [];
  const add = (actions: string[], resource: string | undefined, context: Record<string, string | string[]>, variant: string) => {
    if (!resource) return;
    for (const action of actions) out.push({ action, resource, resourceAccount: victim.platformAccount, context, label: `${action} ${resource} (${variant})` });
  };
  const b = victim.tenantId;
  const item = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'];
  const attrs = { 'dynamodb:Attributes': ['tenantId', 'fineTunedModels', 'updatedAt'], 'dynamodb:ReturnValues': 'NONE' };
  add(item, t.registry, { 'dynamodb:LeadingKeys': [b], ...attrs }, `the victim's record ${b}`);
  add(['dynamodb:Scan'], t.registry, {}, 'every record');
  add(['dynamodb:Query'], t.registry && `${t.registry}/index/by-status`, { 'dynamodb:LeadingKeys': ['ACTIVE'] }, 'an index of every tenant');
  for (const key of [`rate#${b}#minute#29403522`, `usage#${b}#2026-11`, `usage#${b}#2026-11-30`]) add(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'], t.usage, { 'dynamodb:LeadingKeys': [key] }, key);
  add(['dynamodb:Scan'], t.usage, {}, 'every counter');
  add(item, t.jobs, { 'dynamodb:LeadingKeys': [b] }, `the victim's jobs`);
  add(['dynamodb:Scan'], t.jobs, {}, 'every job');
  add(['dynamodb:Query'], t.jobs && `${t.jobs}/index/by-training-job`, { 'dynamodb:LeadingKeys': [victim.runtime.trainingJobName] }, 'the victim\'s job through the index');
  add(item, t.responses, { 'dynamodb:LeadingKeys': [b] }, `the victim's stored responses`);
  add(['dynamodb:Scan'], t.responses, {}, 'every stored response');
  // Tenant API keys (issue 15): the victim's key records, and a batch delete of them.
  add([...item, 'dynamodb:BatchWriteItem'], t.apiKeys, { 'dynamodb:LeadingKeys': [b] }, `the victim's API keys`);
  add(['dynamodb:Scan'], t.apiKeys, {}, 'every API key');
  // The platform bus: lifecycle events (an onboarding request in the victim's name, a state change of it).
  const bus = Object.values(victim.platform?.resources ?? {}).find((r) => r.type === 'AWS::Events::EventBus');
  if (bus) {
    const policy = { Version: '2012-10-17', Statement: Object.values(victim.platform!.resources).filter((r) => r.type === 'AWS::Events::EventBusPolicy' && r.props.EventBusName === bus.physicalId).map((r) => r.props.Statement) };
    for (const detailType of [LIFECYCLE_EVENTS.onboardingRequested, LIFECYCLE_EVENTS.suspended, LIFECYCLE_EVENTS.offboarded]) {
      const source = LIFECYCLE_EVENT_SOURCE;
      out.push({ action: 'events:PutEvents', resource: bus.arn, resourceAccount: victim.platformAccount, resourcePolicy: policy, context: { 'events:source': [source], 'events:detail-type': [detailType] }, label: `events:PutEvents ${bus.arn} (${source}: ${detailType})` });
    }
    // One call with a training state change and an onboarding request.
    const mixed = { 'events:source': ['aws.sagemaker', LIFECYCLE_EVENT_SOURCE], 'events:detail-type': [TRAINING_STATE_CHANGE, LIFECYCLE_EVENTS.onboardingRequested] };
    out.push({ action: 'events:PutEvents', resource: bus.arn, resourceAccount: victim.platformAccount, resourcePolicy: policy, context: mixed, label: `events:PutEvents ${bus.arn} (a training event and an onboarding request in one call)` });
  }
  return out;
}
