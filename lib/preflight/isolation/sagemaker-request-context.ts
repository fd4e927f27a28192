/**
 * The IAM request context AWS builds for the SageMaker calls of lambdas/fine-tuning, from the
 * request itself: the condition keys the Service Authorization Reference lists for each action
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemakerai.html),
 * with the values the request carries. A key the request does not carry is absent, as in AWS.
 */
import type { CreateEndpointCommandInput, CreateEndpointConfigCommandInput, CreateModelCommandInput, CreateTrainingJobCommandInput, Tag } from '@aws-sdk/client-sagemaker';

export type Context = Record<string, string | string[]>;

function compact(entries: Record<string, string | string[] | undefined>): Context {
  const out: Context = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  return out;
}

const bool = (v: boolean | undefined) => (v === undefined ? undefined : String(v));

/** `aws:RequestTag/<key>` for each tag and `aws:TagKeys`. */
export function tagContext(tags: Tag[] | undefined): Context {
  const out: Context = {};
  for (const t of tags ?? []) if (t.Key) out[`aws:RequestTag/${t.Key}`] = t.Value ?? '';
  if (tags?.length) out['aws:TagKeys'] = tags.map((t) => t.Key!);
  return out;
}

export function createTrainingJobContext(input: CreateTrainingJobCommandInput): Context {
  const rc = input.ResourceConfig;
  return compact({
    ...tagContext(input.Tags),
    'sagemaker:InstanceTypes': [rc?.InstanceType, ...(rc?.InstanceGroups ?? []).map((g) => g.InstanceType)].filter((t): t is NonNullable<typeof t> => !!t),
    'sagemaker:VpcSubnets': input.VpcConfig?.Subnets,
    'sagemaker:VpcSecurityGroupIds': input.VpcConfig?.SecurityGroupIds,
    'sagemaker:NetworkIsolation': bool(input.EnableNetworkIsolation),
    'sagemaker:InterContainerTrafficEncryption': bool(input.EnableInterContainerTrafficEncryption),
    'sagemaker:MaxRuntimeInSeconds': input.StoppingCondition?.MaxRuntimeInSeconds?.toString(),
    'sagemaker:OutputKmsKeyArn': input.OutputDataConfig?.KmsKeyId,
    'sagemaker:VolumeKmsKeyArn': rc?.VolumeKmsKeyId,
  });
}

export function createModelContext(input: CreateModelCommandInput): Context {
  return compact({
    ...tagContext(input.Tags),
    'sagemaker:VpcSubnets': input.VpcConfig?.Subnets,
    'sagemaker:VpcSecurityGroupIds': input.VpcConfig?.SecurityGroupIds,
    'sagemaker:NetworkIsolation': bool(input.EnableNetworkIsolation),
  });
}

/** `modelArn` turns a variant's ModelName into the model's ARN (same account and region as the call). */
export function createEndpointConfigContext(input: CreateEndpointConfigCommandInput, modelArn: (name: string) => string): Context {
  const variants = input.ProductionVariants ?? [];
  const models = variants.map((v) => v.ModelName).filter((m): m is string => !!m);
  return compact({
    ...tagContext(input.Tags),
    'sagemaker:InstanceTypes': variants.map((v) => v.InstanceType).filter((t): t is NonNullable<typeof t> => !!t),
    // One model per config in Tessera; the reference types the key as a single ARN.
    'sagemaker:ModelArn': models.length === 1 ? modelArn(models[0]) : models.map(modelArn),
    'sagemaker:VolumeKmsKeyArn': input.KmsKeyId,
  });
}

export function createEndpointContext(input: CreateEndpointCommandInput): Context {
  return tagContext(input.Tags);
}
