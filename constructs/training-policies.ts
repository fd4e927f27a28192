import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../lib/compliance.js';
import { acceptsVolumeKmsKey } from '../lib/config/instance-catalog.js';
import { CHECKPOINTS_PREFIX, ENDPOINT_LOG_GROUP_PREFIX, MODEL_ARTIFACTS_PREFIX, sageMakerNamePattern, TRAINING_DATA_PREFIX, TRAINING_FILES_PREFIX, TRAINING_LOG_GROUP } from '../lib/fine-tuning.js';
import { TENANT_ID_TAG } from '../lib/tenant-naming.js';
import type { TrainingAccess } from './tenant-access-policies.js';

export interface TrainingPoliciesProps extends TrainingAccess {
  readonly roles: { readonly training: iam.IRole; readonly launcher: iam.IRole; readonly invoker: iam.IRole; readonly files: iam.IRole };
  readonly bucket: s3.IBucket;
}

/**
 * The four training roles' permissions. The launcher (assumed by the platform's fine-tuning
 * Lambdas) can create SageMaker resources only under the tenant's name pattern, only with network
 * isolation, inter-container encryption, the tenant's subnets, security group and key, tagged with
 * the tenant id, and can pass only the tenant's training role, only to SageMaker. So even a
 * confused or compromised platform Lambda cannot start one tenant's job with another's role, data
 * or key: each tenant's launcher is a different role, in the tenant's account.
 */
export class TrainingPolicies extends Construct {
  constructor(scope: Construct, id: string, props: TrainingPoliciesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { roles, bucket } = props;
    const sm = (resource: string) => stack.formatArn({ service: 'sagemaker', resource, resourceName: sageMakerNamePattern(props.tenantId) });
    const [trainingJobs, models, endpointConfigs, endpoints] = ['training-job', 'model', 'endpoint-config', 'endpoint'].map(sm);
    const namePattern = sageMakerNamePattern(props.tenantId);
    const networkInterfaces = stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' });
    const subnetArns = props.subnetIds.map((s) => stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: s }));
    /** A log group's ARN, or one of its streams' when `stream` is given. */
    const logGroup = (name: string, stream?: string) =>
      stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: stream === undefined ? name : `${name}:log-stream:${stream}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const tagged = { StringEquals: { [`aws:RequestTag/${TENANT_ID_TAG}`]: props.tenantId } };
    const inTenantNetwork = {
      'ForAllValues:StringEquals': { 'sagemaker:VpcSubnets': props.subnetIds, 'sagemaker:VpcSecurityGroupIds': [props.securityGroupId] },
      Null: { 'sagemaker:VpcSubnets': 'false', 'sagemaker:VpcSecurityGroupIds': 'false' },
    };

    const training = new iam.ManagedPolicy(this, 'Training', {
      description: 'Tessera tenant Training access', roles: [roles.training],
      statements: [
        new iam.PolicyStatement({ sid: 'ReadTrainingData', actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${TRAINING_DATA_PREFIX}*`)] }),
        new iam.PolicyStatement({ sid: 'ModelArtifactsAndCheckpoints', actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resources: [bucket.arnForObjects(`${MODEL_ARTIFACTS_PREFIX}*`), bucket.arnForObjects(`${CHECKPOINTS_PREFIX}*`)] }),
        new iam.PolicyStatement({
          sid: 'ListTrainingPrefixes', actions: ['s3:ListBucket'], resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${TRAINING_DATA_PREFIX}*`, `${MODEL_ARTIFACTS_PREFIX}*`, `${CHECKPOINTS_PREFIX}*`] } },
        }),
        new iam.PolicyStatement({ sid: 'ReadBaseModelWeights', actions: ['s3:GetObject'], resources: props.baseModels.map((b) => `arn:${stack.partition}:s3:::${b.weightsS3Uri.slice(5)}*`) }),
        // The weights are an S3Prefix channel: SageMaker lists the prefix with this role before it
        // downloads (SageMaker Developer Guide, "CreateTrainingJob API: Execution Role Permissions").
        ...weightPrefixesByBucket(props.baseModels).map(([bucketName, prefixes], i) => new iam.PolicyStatement({
          sid: `ListBaseModelWeights${i}`, actions: ['s3:ListBucket'], resources: [`arn:${stack.partition}:s3:::${bucketName}`],
          conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
        })),
        new iam.PolicyStatement({ sid: 'PullTrainingAndServingImages', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], resources: [...new Set(props.baseModels.flatMap((b) => [b.trainingImage, b.servingImage]).map((i) => ecrRepositoryArn(stack.partition, i)))] }),
        new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
        // SageMaker creates a network interface per job or endpoint instance in the subnets of its
        // VpcConfig (the tenant's compute subnets) with the execution role, lets its own account
        // attach it, and deletes it afterwards. CreateNetworkInterface is authorized against the
        // subnet and security group (named here) and the new interface (no VPC or subnet keys on
        // that resource type); the other three act on an existing interface, which carries
        // ec2:Subnet and ec2:Vpc: only interfaces in the tenant's subnets of the tenant's VPC.
        new iam.PolicyStatement({
          sid: 'CreateJobNetworkInterfaces', actions: ['ec2:CreateNetworkInterface'],
          resources: [networkInterfaces, ...subnetArns, stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: props.securityGroupId })],
        }),
        new iam.PolicyStatement({
          sid: 'ManageJobNetworkInterfaces',
          actions: ['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface', 'ec2:DeleteNetworkInterfacePermission'],
          resources: [networkInterfaces],
          conditions: { ArnEquals: { 'ec2:Subnet': subnetArns, ...(props.vpcId ? { 'ec2:Vpc': stack.formatArn({ service: 'ec2', resource: 'vpc', resourceName: props.vpcId }) } : {}) } },
        }),
        new iam.PolicyStatement({ sid: 'DescribeJobNetwork', actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DescribeDhcpOptions', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'], resources: ['*'] }),
        new iam.PolicyStatement({ sid: 'TrainingMetrics', actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': ['/aws/sagemaker/TrainingJobs', '/aws/sagemaker/Endpoints'] } } }),
        // SageMaker writes a job's logs to streams `<TrainingJobName>/algo-<n>-<time>` of the
        // account's one /aws/sagemaker/TrainingJobs group, and an endpoint's to the group
        // /aws/sagemaker/Endpoints/<EndpointName>. Streams and endpoint groups are named with the
        // exact-length pattern and a delimiter, so tenant `acme` matches none of `acme-ft`'s.
        new iam.PolicyStatement({ sid: 'JobLogGroups', actions: ['logs:CreateLogGroup'], resources: [logGroup(TRAINING_LOG_GROUP), logGroup(`${ENDPOINT_LOG_GROUP_PREFIX}${namePattern}`)] }),
        new iam.PolicyStatement({
          sid: 'JobLogStreams', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup(TRAINING_LOG_GROUP, `${namePattern}/*`), logGroup(`${ENDPOINT_LOG_GROUP_PREFIX}${namePattern}`, '*')],
        }),
      ],
    });
    const bucketArn = `<${stack.getLogicalId(bucket.node.defaultChild as never)}.Arn>`;
    acknowledge(training, [TRAINING_DATA_PREFIX, MODEL_ARTIFACTS_PREFIX, CHECKPOINTS_PREFIX].map((p) => `AwsSolutions::AwsSolutions-IAM5[Resource::${bucketArn}/${p}*]`),
      'Training jobs read the objects under training-data/ and write under models/ and checkpoints/ of the tenant\'s own bucket; object keys are chosen per job at run time.');
    acknowledge(training, props.baseModels.map((b) => `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${b.weightsS3Uri.slice(5)}*]`),
      'Base model weights are many files under one catalog prefix per model (read only, platform-provided, no tenant data).');
    acknowledge(training, ['AwsSolutions::AwsSolutions-IAM5[Resource::*]'],
      'ecr:GetAuthorizationToken, the EC2 Describe calls SageMaker makes to attach a job to the VPC and cloudwatch:PutMetricData (limited by namespace condition) have no resource type.');
    acknowledge(training, [
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]',
    ], 'SageMaker creates a network interface per job in the tenant subnets (ids exist only then); acting on an existing one requires ec2:Subnet to be a tenant subnet.');
    acknowledge(training, [
      `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${TRAINING_LOG_GROUP}:log-stream:<TenantId>-ft-${'?'.repeat(24)}/*]`,
      `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${ENDPOINT_LOG_GROUP_PREFIX}<TenantId>-ft-${'?'.repeat(24)}:log-stream:*]`,
    ], 'SageMaker names a job\'s log streams <job name>/algo-<n>-<time> and an endpoint\'s streams <variant>/<instance id> at run time; the job and endpoint names are the tenant\'s exact-length pattern.');

    new iam.ManagedPolicy(this, 'Launcher', {
      description: 'Tessera tenant TrainingLauncher access', roles: [roles.launcher],
      statements: [
        // Keys as the Service Authorization Reference lists them for each action
        // (sagemaker:OutputKmsKeyArn / VolumeKmsKeyArn, not the deprecated …KmsKey). SageMaker
        // refuses a volume key for instance types with local NVMe storage (encrypted in hardware):
        // the request then carries no volume key, which the policy admits for those types only.
        ...volumeKeyVariants(props.trainingInstanceTypes).map(({ suffix, types, volumeKey }) => new iam.PolicyStatement({
          sid: `CreateIsolatedTrainingJobs${suffix}`, actions: ['sagemaker:CreateTrainingJob'], resources: [trainingJobs],
          conditions: {
            ...inTenantNetwork,
            Null: { ...inTenantNetwork.Null, 'sagemaker:InstanceTypes': 'false', ...(volumeKey ? {} : { 'sagemaker:VolumeKmsKeyArn': 'true' }) },
            'ForAllValues:StringEquals': { ...inTenantNetwork['ForAllValues:StringEquals'], 'sagemaker:InstanceTypes': types },
            Bool: { 'sagemaker:NetworkIsolation': 'true', 'sagemaker:InterContainerTrafficEncryption': 'true' },
            ArnEquals: { 'sagemaker:OutputKmsKeyArn': props.keyArn, ...(volumeKey ? { 'sagemaker:VolumeKmsKeyArn': props.keyArn } : {}) },
            StringEquals: tagged.StringEquals,
            NumericLessThanEquals: { 'sagemaker:MaxRuntimeInSeconds': props.maxRuntimeSeconds },
          },
        })),
        new iam.PolicyStatement({
          sid: 'CreateIsolatedModels', actions: ['sagemaker:CreateModel'], resources: [models],
          conditions: { ...inTenantNetwork, Bool: { 'sagemaker:NetworkIsolation': 'true' }, ...tagged },
        }),
        // An endpoint config serves only the tenant's own models (sagemaker:ModelArn), on the tier's types, with its key.
        ...volumeKeyVariants(props.endpointInstanceTypes).map(({ suffix, types, volumeKey }) => new iam.PolicyStatement({
          sid: `CreateEndpointConfigs${suffix}`, actions: ['sagemaker:CreateEndpointConfig'], resources: [endpointConfigs],
          conditions: {
            Null: { 'sagemaker:InstanceTypes': 'false', 'sagemaker:ModelArn': 'false', ...(volumeKey ? {} : { 'sagemaker:VolumeKmsKeyArn': 'true' }) },
            'ForAllValues:StringEquals': { 'sagemaker:InstanceTypes': types },
            ArnLike: { 'sagemaker:ModelArn': models },
            ...(volumeKey ? { ArnEquals: { 'sagemaker:VolumeKmsKeyArn': props.keyArn } } : {}),
            ...tagged,
          },
        })),
        new iam.PolicyStatement({ sid: 'CreateEndpoints', actions: ['sagemaker:CreateEndpoint'], resources: [endpoints, endpointConfigs], conditions: tagged }),
        new iam.PolicyStatement({ sid: 'TagOwnResources', actions: ['sagemaker:AddTags'], resources: [trainingJobs, models, endpointConfigs, endpoints], conditions: tagged }),
        new iam.PolicyStatement({
          sid: 'ManageOwnJobs', actions: ['sagemaker:StopTrainingJob'], resources: [trainingJobs],
          conditions: { StringEquals: { [`aws:ResourceTag/${TENANT_ID_TAG}`]: props.tenantId } },
        }),
        // Offboarding retires what the tenant's fine-tuning left running (lambdas/fine-tuning/
        // retire-fine-tuned-models.ts): its endpoints, endpoint configs and models, by name
        // pattern and tenant tag. The Service Authorization Reference lists no action-specific
        // condition key for these four actions; aws:ResourceTag/${TagKey} is a key of the
        // endpoint, endpoint-config and model resource types, so SageMaker evaluates it for each.
        new iam.PolicyStatement({
          sid: 'RetireOwnModels', actions: ['sagemaker:DeleteEndpoint', 'sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'],
          resources: [endpoints, endpointConfigs, models],
          conditions: { StringEquals: { [`aws:ResourceTag/${TENANT_ID_TAG}`]: props.tenantId } },
        }),
        // Describing its own names, untagged: a name that does not exist carries no tag, so under a
        // tag condition IAM would answer AccessDenied where SageMaker answers "Could not find", and the
        // retirement (which describes before it stops or deletes) could never tell gone from refused.
        // The exact-length name pattern keeps them to the tenant's names, which only its launcher can
        // create (the Create statements require its tag); Describe reads metadata, no data.
        new iam.PolicyStatement({
          sid: 'DescribeOwnNames',
          actions: ['sagemaker:DescribeTrainingJob', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel'],
          resources: [trainingJobs, endpoints, endpointConfigs, models],
        }),
        new iam.PolicyStatement({
          sid: 'PassOnlyTheTenantTrainingRole', actions: ['iam:PassRole'], resources: [roles.training.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
        }),
        new iam.PolicyStatement({
          sid: 'TenantKeyGrantsForSageMaker', actions: ['kms:CreateGrant'], resources: [props.keyArn],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
        // kms:GrantIsForAWSResource is a key of the grant operations only; DescribeKey never carries it.
        new iam.PolicyStatement({ sid: 'DescribeTenantKey', actions: ['kms:DescribeKey'], resources: [props.keyArn] }),
      ],
    });

    // The Files API (lambdas/fine-tuning/, as this role): PutObject, GetObject, DeleteObject on training-data/files/*
    // and ListObjectsV2 with a Prefix under it; the tenant key only through S3 and for this bucket's encryption
    // context (with an S3 bucket key, S3 asks KMS with the bucket's ARN, not the object's:
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html). The key policy defers to this
    // statement (TenantKey.allowThroughIdentityPolicy), so the context condition holds.
    const files = new iam.ManagedPolicy(this, 'Files', {
      description: 'Tessera tenant TrainingFiles access', roles: [roles.files],
      statements: [
        new iam.PolicyStatement({ sid: 'TrainingFilesObjects', actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], resources: [bucket.arnForObjects(`${TRAINING_FILES_PREFIX}*`)] }),
        new iam.PolicyStatement({
          sid: 'ListTrainingFiles', actions: ['s3:ListBucket'], resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': `${TRAINING_FILES_PREFIX}*` } },
        }),
        new iam.PolicyStatement({
          sid: 'TenantKeyThroughS3ForTheBucket', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': bucket.bucketArn } },
        }),
      ],
    });
    acknowledge(files, [`AwsSolutions::AwsSolutions-IAM5[Resource::${bucketArn}/${TRAINING_FILES_PREFIX}*]`],
      'The Files API stores each upload at training-data/files/<file id>/<name> of the tenant\'s own bucket, with ids chosen at upload time; the wildcard is that one prefix of that one bucket (its bucket policy denies this role every other key).');

    new iam.ManagedPolicy(this, 'Invoker', {
      description: 'Tessera tenant ModelInvoker access', roles: [roles.invoker],
      statements: [new iam.PolicyStatement({ sid: 'InvokeOwnEndpoints', actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'], resources: [endpoints] })],
    });
  }
}

/**
 * The tier's instance types split by whether SageMaker takes a volume key for them: statements
 * requiring the tenant's volume key (suffix '') and statements requiring its absence, for
 * local-storage types only (suffix 'OnInstanceStorage'). A split with no types yields no statement.
 */
function volumeKeyVariants(instanceTypes: readonly string[]): Array<{ suffix: string; types: string[]; volumeKey: boolean }> {
  return [
    { suffix: '', types: instanceTypes.filter(acceptsVolumeKmsKey), volumeKey: true },
    { suffix: 'OnInstanceStorage', types: instanceTypes.filter((t) => !acceptsVolumeKmsKey(t)), volumeKey: false },
  ].filter((v) => v.types.length > 0);
}

/** `123456789012.dkr.ecr.us-east-1.amazonaws.com/repo/name:tag` → the repository's ARN. */
function ecrRepositoryArn(partition: string, image: string): string {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:]+):/.exec(image);
  if (!m) throw new Error(`TrainingPolicies: "${image}" is not an ECR image URI`);
  return `arn:${partition}:ecr:${m[2]}:${m[1]}:repository/${m[3]}`;
}

/** Base-model weight prefixes grouped by bucket: `s3://b/p/` → [b, [p/]]. */
function weightPrefixesByBucket(baseModels: ReadonlyArray<{ weightsS3Uri: string }>): Array<[string, string[]]> {
  const byBucket = new Map<string, string[]>();
  for (const { weightsS3Uri } of baseModels) {
    const [bucketName, ...rest] = weightsS3Uri.slice('s3://'.length).split('/');
    const prefixes = byBucket.get(bucketName!) ?? [];
    prefixes.push(rest.join('/'));
    byBucket.set(bucketName!, [...new Set(prefixes)]);
  }
  return [...byBucket];
}
