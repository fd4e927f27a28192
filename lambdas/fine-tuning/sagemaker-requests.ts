import type { CreateEndpointConfigCommandInput, CreateEndpointCommandInput, CreateModelCommandInput, CreateTrainingJobCommandInput, Tag } from '@aws-sdk/client-sagemaker';
import { acceptsVolumeKmsKey } from '../../lib/config/instance-catalog.js';
import type { BaseModel, TierConfig } from '../../lib/config/schema.js';
import { CHECKPOINTS_PREFIX, MODEL_ARTIFACTS_PREFIX, type FineTuningJob } from '../../lib/fine-tuning.js';
import { trainingStoppingCondition } from '../../lib/sagemaker-stopping-condition.js';
import { TENANT_ID_TAG } from '../../lib/tenant-naming.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { forbidden } from '../inference/openai-errors.js';

/** Where and as whom a tenant's jobs run: all of it from the tenant's registry record, none from the request. */
export interface TrainingTarget {
  tenantId: string;
  accountId: string;
  bucket: string;
  keyArn: string;
  trainingRoleArn: string;
  subnetIds: string[];
  securityGroupId: string;
}

export function trainingTarget(tenant: TenantRecord): TrainingTarget {
  const o = tenant.stackOutputs;
  const missing = ['BucketName', 'KeyArn', 'TrainingRoleArn', 'ComputeSubnetIds', 'WorkloadSecurityGroupId'].filter((k) => !o[k]);
  if (missing.length || !tenant.accountId) {
    throw forbidden(`tenant ${tenant.tenantId} has no training resources (${[...missing, ...(tenant.accountId ? [] : ['accountId'])].join(', ')} missing from its blueprint); fine-tuning needs a tier with training enabled`, 'fine_tuning_not_provisioned');
  }
  return {
    tenantId: tenant.tenantId, accountId: tenant.accountId, bucket: o.BucketName, keyArn: o.KeyArn, trainingRoleArn: o.TrainingRoleArn,
    subnetIds: o.ComputeSubnetIds.split(',').filter(Boolean), securityGroupId: o.WorkloadSecurityGroupId,
  };
}

const tags = (job: FineTuningJob): Tag[] => [{ Key: TENANT_ID_TAG, Value: job.tenantId }, { Key: 'tessera:fine-tuning-job', Value: job.id }];

/**
 * CreateTrainingJob with every isolation setting: the tenant's role, subnets and security group;
 * network isolation and inter-container encryption; output (and, where the instance type has no
 * local NVMe storage, the volume) encrypted with the tenant's key; a stopping condition; spot with
 * checkpoints in the tenant bucket when the tier says so. The blueprint's IAM conditions refuse
 * the call if any of these is missing.
 */
export function createTrainingJobInput(job: FineTuningJob, base: BaseModel, tier: TierConfig, t: TrainingTarget): CreateTrainingJobCommandInput {
  const channel = (ChannelName: string, S3Uri: string) => ({ ChannelName, DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri, S3DataDistributionType: 'FullyReplicated' as const } } });
  return {
    TrainingJobName: job.trainingJobName,
    AlgorithmSpecification: { TrainingImage: base.trainingImage, TrainingInputMode: 'File' },
    RoleArn: t.trainingRoleArn,
    HyperParameters: {
      base_model: base.id,
      n_epochs: String(job.hyperparameters.n_epochs),
      batch_size: String(job.hyperparameters.batch_size),
      learning_rate_multiplier: String(job.hyperparameters.learning_rate_multiplier),
      ...(job.seed !== undefined ? { seed: String(job.seed) } : {}),
    },
    InputDataConfig: [
      channel('train', job.trainingFile),
      ...(job.validationFile ? [channel('validation', job.validationFile)] : []),
      channel('model', base.weightsS3Uri),
    ],
    OutputDataConfig: { S3OutputPath: `s3://${t.bucket}/${MODEL_ARTIFACTS_PREFIX}`, KmsKeyId: t.keyArn },
    ResourceConfig: {
      InstanceType: job.instanceType as never, InstanceCount: 1, VolumeSizeInGB: 200,
      ...(acceptsVolumeKmsKey(job.instanceType) ? { VolumeKmsKeyId: t.keyArn } : {}),
    },
    VpcConfig: { Subnets: t.subnetIds, SecurityGroupIds: [t.securityGroupId] },
    StoppingCondition: trainingStoppingCondition(tier.training.maxRuntimeHours, job.spot),
    EnableNetworkIsolation: true,
    EnableInterContainerTrafficEncryption: true,
    EnableManagedSpotTraining: job.spot,
    ...(job.spot ? { CheckpointConfig: { S3Uri: `s3://${t.bucket}/${CHECKPOINTS_PREFIX}${job.trainingJobName}/` } } : {}),
    Tags: tags(job),
  };
}

/** Model, endpoint config and endpoint of a finished job: same name as the job, tenant key, tenant VPC, network isolation. */
export function deploymentInputs(job: FineTuningJob, base: BaseModel, tier: TierConfig, t: TrainingTarget, artifactsUri: string): {
  model: CreateModelCommandInput; endpointConfig: CreateEndpointConfigCommandInput; endpoint: CreateEndpointCommandInput;
} {
  const name = job.trainingJobName;
  const instanceType = tier.training.endpointInstanceTypes[0];
  return {
    model: {
      ModelName: name,
      ExecutionRoleArn: t.trainingRoleArn,
      PrimaryContainer: { Image: base.servingImage, ModelDataUrl: artifactsUri, Environment: { MESSAGES_API_ENABLED: 'true', HF_MODEL_ID: '/opt/ml/model' } },
      VpcConfig: { Subnets: t.subnetIds, SecurityGroupIds: [t.securityGroupId] },
      EnableNetworkIsolation: true,
      Tags: tags(job),
    },
    endpointConfig: {
      EndpointConfigName: name,
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InstanceType: instanceType as never, InitialInstanceCount: 1 }],
      ...(acceptsVolumeKmsKey(instanceType) ? { KmsKeyId: t.keyArn } : {}),
      Tags: tags(job),
    },
    endpoint: { EndpointName: name, EndpointConfigName: name, Tags: tags(job) },
  };
}
