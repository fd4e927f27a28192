/**
 * Issue 12, item 1: the training pairs found allowed, each as a test through the IAM simulator
 * (lib/preflight/iam-eval.ts). Tenants `acme` (A) and `acme-ft` (B, whose SageMaker names start
 * with A's prefix `acme-ft-`) share one VPC-mode workload account; both are the professional
 * tier's blueprint (VPC isolation, training on), instantiated from the synthesized template.
 * Every attempt of A on B's resources is denied; A's own calls, built by the real request
 * builders with the context keys those requests carry, are allowed (positive controls).
 */
import type { SimulationIdentityPolicy, SimulationOrgPolicies } from '@cloud-copilot/iam-simulate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainingJobInput, deploymentInputs, type TrainingTarget } from '../../lambdas/fine-tuning/sagemaker-requests.js';
import type { BaseModel, PlatformConfig, TierConfig } from '../../lib/config/schema.js';
import { ENDPOINT_LOG_GROUP_PREFIX, trainingJobName, TRAINING_LOG_GROUP, type FineTuningJob } from '../../lib/fine-tuning.js';
import { evaluate, type EvalResult, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { findRole, identityOf, type RoleIdentity } from '../../lib/preflight/identity.js';
import { instantiate, type InstantiatedTemplate } from '../../lib/preflight/instantiate.js';
import { scpsInForce } from '../../lib/preflight/scps.js';
import { tenantRoleName } from '../../lib/tenant-naming.js';
import { configWith } from '../support/config-with.js';
import { cachedBlueprints } from '../preflight/support/cached-blueprints.js';
import { createEndpointConfigContext, createEndpointContext, createModelContext, createTrainingJobContext, type Context } from '../../lib/preflight/isolation/sagemaker-request-context.js';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const A = 'acme';
const B = 'acme-ft';
const HEX = (c: string) => c.repeat(24);

interface Estate {
  tenantId: string;
  inst: InstantiatedTemplate;
  training: RoleIdentity;
  launcher: RoleIdentity;
  target: TrainingTarget;
  vpcArn: string;
  computeSubnets: string[];
  dataSubnets: string[];
  keyPolicy: PolicyJson;
  bucketPolicy?: PolicyJson;
  tier: TierConfig;
  base: BaseModel;
  job: (instanceType?: string) => FineTuningJob;
}

const subnetArn = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/${id}`;
const sageMakerArn = (type: string, name: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${type}/${name}`;

function estate(config: PlatformConfig, template: unknown, tenantId: string, vpcCidr: string, jobHex: string): Estate {
  const inst = instantiate(template as never, { tenantId, vpcCidr, account: ACCOUNT, region: REGION });
  const res = Object.values(inst.resources);
  const one = (type: string, logical: RegExp) => {
    const found = res.filter((r) => r.type === type && logical.test(r.logicalId));
    if (found.length !== 1) throw new Error(`${tenantId}: expected one ${type} matching ${logical}, found ${found.length}`);
    return found[0];
  };
  const role = (purpose: 'training' | 'training-launcher') => {
    const r = findRole(inst, tenantRoleName(tenantId, purpose));
    if (!r) throw new Error(`${tenantId}: no ${purpose} role`);
    return identityOf(inst, r);
  };
  const key = one('AWS::KMS::Key', /^Key/);
  const bucket = one('AWS::S3::Bucket', /^StorageBucket/);
  const training = role('training');
  const computeSubnets = res.filter((r) => r.type === 'AWS::EC2::Subnet' && /computeSubnet/.test(r.logicalId)).map((r) => r.physicalId);
  const dataSubnets = res.filter((r) => r.type === 'AWS::EC2::Subnet' && /dataSubnet/.test(r.logicalId)).map((r) => r.physicalId);
  const tier = config.tiers.professional;
  const base = config.fineTuning.baseModels.find((b) => tier.training.baseModels.includes('*') || tier.training.baseModels.includes(b.id))!;
  const bucketPolicy = res.find((r) => r.type === 'AWS::S3::BucketPolicy' && r.props.Bucket === bucket.physicalId)?.props.PolicyDocument as PolicyJson | undefined;
  return {
    tenantId, inst, training, launcher: role('training-launcher'),
    target: {
      tenantId, accountId: ACCOUNT, bucket: bucket.physicalId, keyArn: key.arn, trainingRoleArn: training.role.arn,
      subnetIds: computeSubnets, securityGroupId: one('AWS::EC2::SecurityGroup', /^NetworkWorkloadSecurityGroup/).physicalId,
    },
    vpcArn: one('AWS::EC2::VPC', /^NetworkVpc/).arn,
    computeSubnets, dataSubnets,
    keyPolicy: key.props.KeyPolicy as PolicyJson,
    bucketPolicy, tier, base,
    job: (instanceType = tier.training.instanceTypes[0]) => {
      const id = `ftjob-${HEX(jobHex)}`;
      return {
        id, tenantId, userId: 'u-1', model: base.id, trainingFile: `s3://${bucket.physicalId}/training-data/train.jsonl`,
        hyperparameters: { n_epochs: 3, batch_size: 8, learning_rate_multiplier: 1 }, suffix: 'faq', instanceType, spot: tier.training.spot,
        trainingJobName: trainingJobName(tenantId, id), status: 'queued', createdAt: 1, events: [],
      };
    },
  };
}

let scps: SimulationOrgPolicies[];
const tally = { denied: 0, allowed: 0 };

interface Attempt { who: RoleIdentity; action: string; resource: string; context?: Context; resourcePolicy?: PolicyJson; principalTags?: Record<string, string> }

async function run(a: Attempt): Promise<EvalResult> {
  const [service] = a.action.split(':');
  const context: Context = {
    'aws:PrincipalArn': a.who.role.arn,
    'aws:PrincipalAccount': ACCOUNT,
    'aws:RequestedRegion': REGION,
    ...(service === 'ec2' ? { 'ec2:Region': REGION } : {}),
    ...Object.fromEntries(Object.entries(a.principalTags ?? {}).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
    ...a.context,
  };
  return evaluate({
    principalArn: a.who.role.arn, action: a.action, resource: a.resource, resourceAccount: ACCOUNT, context,
    identityPolicies: a.who.policies as SimulationIdentityPolicy[], scps, resourcePolicy: a.resourcePolicy,
  });
}

async function expectDenied(a: Attempt): Promise<void> {
  const r = await run(a);
  expect(r.result.startsWith('error'), `${a.action} ${a.resource}: ${r.result}`).toBe(false);
  expect(r.allowed, `${a.who.role.physicalId} ${a.action} on ${a.resource} ${JSON.stringify(a.context ?? {})} was ALLOWED`).toBe(false);
  tally.denied++;
}

async function expectAllowed(a: Attempt): Promise<void> {
  const r = await run(a);
  expect(r.allowed, `${a.who.role.physicalId} ${a.action} on ${a.resource} ${JSON.stringify(a.context ?? {})}: ${r.result} (${r.blockedBy.join(', ')})`).toBe(true);
  tally.allowed++;
}

/** The four SageMaker calls (plus the PassRole, AddTags and key grant they imply) of one fine-tuning job of `t`, as the launcher makes them. */
function ownCalls(t: Estate, job: FineTuningJob): Attempt[] {
  const launcher = t.launcher;
  const tags = { principalTags: { 'tessera:tenant-id': t.tenantId } };
  const create = createTrainingJobInput(job, t.base, t.tier, t.target);
  const deploy = deploymentInputs(job, t.base, t.tier, t.target, `s3://${t.target.bucket}/models/${job.trainingJobName}/output/model.tar.gz`);
  const name = job.trainingJobName;
  const tagging = (action: string, type: string) => ({ who: launcher, action: 'sagemaker:AddTags', resource: sageMakerArn(type, name), context: { ...createTrainingJobContext({ Tags: create.Tags } as never), 'sagemaker:TaggingAction': action }, ...tags });
  return [
    { who: launcher, action: 'sagemaker:CreateTrainingJob', resource: sageMakerArn('training-job', name), context: createTrainingJobContext(create), ...tags },
    tagging('CreateTrainingJob', 'training-job'),
    { who: launcher, action: 'iam:PassRole', resource: create.RoleArn!, context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' }, ...tags },
    {
      who: launcher, action: 'kms:CreateGrant', resource: t.target.keyArn, resourcePolicy: t.keyPolicy,
      context: { 'kms:GrantIsForAWSResource': 'true', 'kms:ViaService': `sagemaker.${REGION}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT }, ...tags,
    },
    { who: launcher, action: 'kms:DescribeKey', resource: t.target.keyArn, resourcePolicy: t.keyPolicy, ...tags },
    { who: launcher, action: 'sagemaker:CreateModel', resource: sageMakerArn('model', name), context: createModelContext(deploy.model), ...tags },
    tagging('CreateModel', 'model'),
    { who: launcher, action: 'iam:PassRole', resource: deploy.model.ExecutionRoleArn!, context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' }, ...tags },
    { who: launcher, action: 'sagemaker:CreateEndpointConfig', resource: sageMakerArn('endpoint-config', name), context: createEndpointConfigContext(deploy.endpointConfig, (m) => sageMakerArn('model', m)), ...tags },
    tagging('CreateEndpointConfig', 'endpoint-config'),
    ...['endpoint', 'endpoint-config'].map((type) => ({ who: launcher, action: 'sagemaker:CreateEndpoint', resource: sageMakerArn(type, type === 'endpoint' ? name : deploy.endpoint.EndpointConfigName!), context: createEndpointContext(deploy.endpoint), ...tags })),
    tagging('CreateEndpoint', 'endpoint'),
  ];
}

/** An ENI the way EC2 presents it to IAM: its ARN, and ec2:Vpc / ec2:Subnet / ec2:NetworkInterfaceID of where it lives. */
function eni(t: Estate, subnetId: string, id: string): { resource: string; context: Context } {
  return {
    resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/${id}`,
    context: { 'ec2:Vpc': t.vpcArn, 'ec2:Subnet': subnetArn(subnetId), 'ec2:NetworkInterfaceID': id, 'ec2:AvailabilityZone': `${REGION}a` },
  };
}
const ENI_ACTIONS = ['ec2:DeleteNetworkInterface', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterfacePermission'];
const eniContext = (action: string): Context => (action === 'ec2:CreateNetworkInterfacePermission' ? { 'ec2:Permission': 'INSTANCE-ATTACH' } : {});

describe.each([
  // The defaults: professional trains on ml.g5.2xlarge and serves on ml.g5.xlarge, both with
  // local NVMe storage, where SageMaker takes no volume key.
  ['the default professional tier', {}],
  // The same tier with EBS-backed types first: requests carry the tenant's volume key.
  ['professional with EBS-backed instance types', { tiers: { professional: { training: { instanceTypes: ['ml.m5.2xlarge', 'ml.g5.2xlarge'], endpointInstanceTypes: ['ml.m5.xlarge', 'ml.g5.xlarge'] } } } }],
])('%s: tenants acme and acme-ft in one workload account', (_label, overrides) => {
  let a: Estate;
  let b: Estate;
  beforeAll(async () => {
    const bp = await cachedBlueprints(configWith(overrides));
    const tier = bp.tiers.find((t) => t.tierName === 'professional')!;
    expect(tier.tier.isolation).toBe('vpc');
    expect(tier.tier.training.enabled).toBe(true);
    scps = scpsInForce(bp.config, 'vpc-mode');
    tally.denied = 0;
    tally.allowed = 0;
    a = estate(bp.config, tier.tenant, A, '10.1.0.0/16', 'a');
    b = estate(bp.config, tier.tenant, B, '10.2.0.0/16', 'b');
    expect(a.vpcArn).not.toBe(b.vpcArn);
    expect(a.computeSubnets.some((s) => b.computeSubnets.includes(s))).toBe(false);
  }, 120_000);

  it('A\'s training role cannot delete, or grant attachment of, a network interface in B\'s VPC; it can in its own subnets', async () => {
    for (const action of ENI_ACTIONS) {
      for (const [i, s] of b.computeSubnets.entries()) {
        const e = eni(b, s, `eni-0b00000000000000${i}`);
        await expectDenied({ who: a.training, action, resource: e.resource, context: { ...e.context, ...eniContext(action) } });
      }
      // Not even RDS's or ElastiCache's interfaces in A's own data subnets: only the job subnets.
      const data = eni(a, a.dataSubnets[0], 'eni-0a0000000000000d0');
      await expectDenied({ who: a.training, action, resource: data.resource, context: { ...data.context, ...eniContext(action) } });
      for (const [i, s] of a.computeSubnets.entries()) {
        const e = eni(a, s, `eni-0a00000000000000${i}`);
        await expectAllowed({ who: a.training, action, resource: e.resource, context: { ...e.context, ...eniContext(action) } });
      }
    }
  });

  it('A\'s training role creates network interfaces only in its own subnets and security group', async () => {
    const create = 'ec2:CreateNetworkInterface';
    for (const s of b.computeSubnets) await expectDenied({ who: a.training, action: create, resource: subnetArn(s), context: { 'ec2:Vpc': b.vpcArn, 'ec2:SubnetID': s } });
    await expectDenied({ who: a.training, action: create, resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/${b.target.securityGroupId}`, context: { 'ec2:Vpc': b.vpcArn, 'ec2:SecurityGroupID': b.target.securityGroupId } });
    for (const s of a.computeSubnets) await expectAllowed({ who: a.training, action: create, resource: subnetArn(s), context: { 'ec2:Vpc': a.vpcArn, 'ec2:SubnetID': s } });
    await expectAllowed({ who: a.training, action: create, resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/${a.target.securityGroupId}`, context: { 'ec2:Vpc': a.vpcArn, 'ec2:SecurityGroupID': a.target.securityGroupId } });
    await expectAllowed({ who: a.training, action: create, resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/*`, context: {} });
  });

  it('A\'s training role cannot write B\'s training-job or endpoint log streams (B\'s names start with A\'s prefix); it writes its own', async () => {
    const stream = (group: string, s: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}:log-stream:${s}`;
    const bJob = b.job().trainingJobName;
    const aJob = a.job().trainingJobName;
    expect(bJob.startsWith(`${A}-ft-`)).toBe(true); // the prefix collision this test is about
    for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
      await expectDenied({ who: a.training, action, resource: stream(TRAINING_LOG_GROUP, `${bJob}/algo-1-1767225600`) });
      await expectDenied({ who: a.training, action, resource: stream(`${ENDPOINT_LOG_GROUP_PREFIX}${bJob}`, 'AllTraffic/i-0b000000000000000') });
      // Nor B's role on A's streams, nor anyone on a stream that only starts with the job name.
      await expectDenied({ who: b.training, action, resource: stream(TRAINING_LOG_GROUP, `${aJob}/algo-1-1767225600`) });
      await expectDenied({ who: a.training, action, resource: stream(TRAINING_LOG_GROUP, `${aJob}x/algo-1-1767225600`) });
      await expectAllowed({ who: a.training, action, resource: stream(TRAINING_LOG_GROUP, `${aJob}/algo-1-1767225600`) });
      await expectAllowed({ who: a.training, action, resource: stream(`${ENDPOINT_LOG_GROUP_PREFIX}${aJob}`, 'AllTraffic/i-0a000000000000000') });
    }
    await expectDenied({ who: a.training, action: 'logs:CreateLogGroup', resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${ENDPOINT_LOG_GROUP_PREFIX}${bJob}` });
    await expectAllowed({ who: a.training, action: 'logs:CreateLogGroup', resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${ENDPOINT_LOG_GROUP_PREFIX}${aJob}` });
  });

  it('A\'s training role cannot read B\'s training data or model artifacts', async () => {
    for (const key of ['training-data/train.jsonl', 'models/x/output/model.tar.gz']) {
      await expectDenied({ who: a.training, action: 's3:GetObject', resource: `arn:aws:s3:::${b.target.bucket}/${key}`, resourcePolicy: b.bucketPolicy });
    }
  });

  it('A\'s launcher makes its own job, model, endpoint config and endpoint, as sagemaker-requests.ts builds them', async () => {
    for (const type of new Set([a.tier.training.instanceTypes[0], a.tier.training.instanceTypes.at(-1)!])) {
      for (const call of ownCalls(a, a.job(type))) await expectAllowed(call);
    }
  });

  it('A\'s launcher cannot create a training job naming B\'s key, network, role or name', async () => {
    const job = a.job();
    const withB = (t: Partial<TrainingTarget>) => createTrainingJobInput(job, a.base, a.tier, { ...a.target, ...t });
    const attempts = [
      withB({ keyArn: b.target.keyArn }),
      { ...withB({}), ResourceConfig: { ...withB({}).ResourceConfig!, VolumeKmsKeyId: b.target.keyArn } },
      withB({ subnetIds: b.target.subnetIds }),
      withB({ securityGroupId: b.target.securityGroupId }),
    ];
    for (const input of attempts) {
      await expectDenied({ who: a.launcher, action: 'sagemaker:CreateTrainingJob', resource: sageMakerArn('training-job', job.trainingJobName), context: createTrainingJobContext(input) });
    }
    const bName = b.job().trainingJobName;
    await expectDenied({ who: a.launcher, action: 'sagemaker:CreateTrainingJob', resource: sageMakerArn('training-job', bName), context: createTrainingJobContext({ ...withB({}), TrainingJobName: bName }) });
    await expectDenied({ who: a.launcher, action: 'kms:DescribeKey', resource: b.target.keyArn, resourcePolicy: b.keyPolicy });
    await expectDenied({ who: a.launcher, action: 'iam:PassRole', resource: b.target.trainingRoleArn, context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    await expectDenied({
      who: a.launcher, action: 'kms:CreateGrant', resource: b.target.keyArn, resourcePolicy: b.keyPolicy,
      context: { 'kms:GrantIsForAWSResource': 'true', 'kms:ViaService': `sagemaker.${REGION}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT },
    });
  });

  it('A\'s launcher cannot create a model in B\'s network or under B\'s name', async () => {
    const job = a.job();
    const art = `s3://${a.target.bucket}/models/x/model.tar.gz`;
    const model = (t: Partial<TrainingTarget>) => deploymentInputs(job, a.base, a.tier, { ...a.target, ...t }, art).model;
    for (const input of [model({ subnetIds: b.target.subnetIds }), model({ securityGroupId: b.target.securityGroupId }), { ...model({}), EnableNetworkIsolation: false }]) {
      await expectDenied({ who: a.launcher, action: 'sagemaker:CreateModel', resource: sageMakerArn('model', job.trainingJobName), context: createModelContext(input) });
    }
    await expectDenied({ who: a.launcher, action: 'sagemaker:CreateModel', resource: sageMakerArn('model', b.job().trainingJobName), context: createModelContext(model({})) });
  });

  it('A\'s launcher cannot create an endpoint config naming B\'s key or B\'s model', async () => {
    const job = a.job();
    const art = `s3://${a.target.bucket}/models/x/model.tar.gz`;
    const config = deploymentInputs(job, a.base, a.tier, a.target, art).endpointConfig;
    const resource = sageMakerArn('endpoint-config', job.trainingJobName);
    const modelArn = (m: string) => sageMakerArn('model', m);
    // B's key on every endpoint type of the tier, whether or not SageMaker would take a key there.
    for (const type of a.tier.training.endpointInstanceTypes) {
      const variant = { ...config.ProductionVariants![0], InstanceType: type as never };
      await expectDenied({ who: a.launcher, action: 'sagemaker:CreateEndpointConfig', resource, context: createEndpointConfigContext({ ...config, ProductionVariants: [variant], KmsKeyId: b.target.keyArn }, modelArn) });
    }
    const bModel = b.job().trainingJobName;
    await expectDenied({ who: a.launcher, action: 'sagemaker:CreateEndpointConfig', resource, context: createEndpointConfigContext({ ...config, ProductionVariants: [{ ...config.ProductionVariants![0], ModelName: bModel }] }, modelArn) });
    await expectDenied({ who: a.launcher, action: 'sagemaker:CreateEndpointConfig', resource: sageMakerArn('endpoint-config', bModel), context: createEndpointConfigContext(config, modelArn) });
  });

  it('A\'s launcher retires its own endpoint, endpoint config and model (offboarding); never B\'s (B\'s names start with A\'s prefix), nor one of its names tagged with another tenant', async () => {
    const RETIRE = [['sagemaker:DeleteEndpoint', 'endpoint'], ['sagemaker:DeleteEndpointConfig', 'endpoint-config'], ['sagemaker:DeleteModel', 'model']] as const;
    const tagged = (tenantId: string): Context => ({ 'aws:ResourceTag/tessera:tenant-id': tenantId });
    const tags = { principalTags: { 'tessera:tenant-id': a.tenantId } };
    for (const [action, type] of RETIRE) {
      // Positive control: what lambdas/fine-tuning/retire-fine-tuned-models.ts calls for A's own model.
      await expectAllowed({ who: a.launcher, action, resource: sageMakerArn(type, a.job().trainingJobName), context: tagged(A), ...tags });
      // B's resource, tagged B: its name (acme-ft-ft-<24 hex>) is outside A's exact-length pattern.
      await expectDenied({ who: a.launcher, action, resource: sageMakerArn(type, b.job().trainingJobName), context: tagged(B), ...tags });
      // B's resource even if it carried A's tag: the name pattern alone refuses it.
      await expectDenied({ who: a.launcher, action, resource: sageMakerArn(type, b.job().trainingJobName), context: tagged(A), ...tags });
      // A resource under A's name pattern that is not A's (tagged B, or untagged): the tag condition refuses it.
      await expectDenied({ who: a.launcher, action, resource: sageMakerArn(type, a.job().trainingJobName), context: tagged(B), ...tags });
      await expectDenied({ who: a.launcher, action, resource: sageMakerArn(type, a.job().trainingJobName), ...tags });
      // And B's launcher on A's.
      await expectDenied({ who: b.launcher, action, resource: sageMakerArn(type, a.job().trainingJobName), context: tagged(A), principalTags: { 'tessera:tenant-id': B } });
    }
  });

  it('A\'s launcher describes its own names without a tag (a name that does not exist has none: SageMaker then answers "Could not find", not AccessDenied); never B\'s', async () => {
    const DESCRIBE = [['sagemaker:DescribeTrainingJob', 'training-job'], ['sagemaker:DescribeEndpoint', 'endpoint'], ['sagemaker:DescribeEndpointConfig', 'endpoint-config'], ['sagemaker:DescribeModel', 'model']] as const;
    const tags = { principalTags: { 'tessera:tenant-id': a.tenantId } };
    for (const [action, type] of DESCRIBE) {
      await expectAllowed({ who: a.launcher, action, resource: sageMakerArn(type, a.job().trainingJobName), ...tags });
      await expectDenied({ who: a.launcher, action, resource: sageMakerArn(type, b.job().trainingJobName), context: { 'aws:ResourceTag/tessera:tenant-id': A }, ...tags });
      await expectDenied({ who: b.launcher, action, resource: sageMakerArn(type, a.job().trainingJobName), principalTags: { 'tessera:tenant-id': B } });
    }
  });

  afterAll(() => {
    console.log(`[training pairs] ${_label}: ${tally.denied} cross-tenant attempts denied, ${tally.allowed} own-tenant controls allowed`);
  });
});
