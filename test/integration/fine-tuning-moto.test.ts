import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, DescribeTrainingJobCommand, ListTagsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { TrainingEvents, type TrainingStateChange } from '../../lambdas/fine-tuning/training-events.js';
import { DynamoDbJobStore } from '../../lambdas/fine-tuning/stores/dynamodb-job-store.js';
import { DeployedModelLimitError } from '../../lambdas/fine-tuning/stores/job-store.js';
import { consistentTenantStatus, dynamoDbTenantModels } from '../../lambdas/fine-tuning/stores/dynamodb-tenant-models.js';
import { legacyFineTunedModelId, trainingJobName, type FineTuningJob } from '../../lib/fine-tuning.js';
import { MemoryAuditSink } from '../../lambdas/inference/audit.js';
import { TenantCredentials, tenantDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { configWith } from '../support/config-with.js';
import { runPythonCode } from '../support/python-zygote.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from './support/moto-server.js';

/**
 * The fine-tuning path against moto: jobs in DynamoDB (exact concurrent-job limit), the training
 * job, model, endpoint config and endpoint created in SageMaker, and read back with Describe* to
 * check every isolation parameter that SageMaker received.
 */
const ACCOUNT = '123456789012'; // moto's account: the training job's events come from it
const JOBS = 'tessera-fine-tuning-jobs';
/** The longest tenant id (24 characters): its SageMaker names stay within 63 whatever the suffix. */
const NIGHTLY = 'nightly-retrain-tenant24';
let moto: MotoServer;
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let sageMaker: SageMakerClient;
const sent: Array<{ command: string; input: Record<string, unknown> }> = [];
const config = configWith({
  ...gatewayConfig(),
  tiers: {
    // A CPU tier: ml.m5 has no local NVMe, so SageMaker takes the tenant key for the volume too.
    // acme's concurrent-job test: the deployed-model bound (which counts active jobs too) above the concurrent jobs, so that one is what holds.
    enterprise: { ...DEFAULT_CONFIG.tiers.enterprise, training: { ...DEFAULT_CONFIG.tiers.enterprise.training, maxDeployedModels: 20 } },
    cpu: { ...DEFAULT_CONFIG.tiers.enterprise, network: { ...DEFAULT_CONFIG.tiers.enterprise.network, tenantCidrPool: '10.128.0.0/12' }, training: { ...DEFAULT_CONFIG.tiers.enterprise.training, instanceTypes: ['ml.m5.2xlarge'], endpointInstanceTypes: ['ml.m5.xlarge'], maxConcurrentJobs: 4 } },
  },
});

beforeAll(async () => {
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  const ddb = await createGatewayTables([trainedTenant('acme', 'enterprise', ACCOUNT), trainedTenant('cpuco', 'cpu', ACCOUNT), trainedTenant(NIGHTLY, 'cpu', ACCOUNT)]);
  await ddb.send(new CreateTableCommand({
    TableName: JOBS, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'tenantId', AttributeType: 'S' }, { AttributeName: 'jobId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'tenantId', KeyType: 'HASH' }, { AttributeName: 'jobId', KeyType: 'RANGE' }],
  }));
  sageMaker = new SageMakerClient({});
  // What left for SageMaker, for the one parameter moto does not keep (CreateModel's EnableNetworkIsolation).
  sageMaker.middlewareStack.add((next, context) => async (args) => {
    sent.push({ command: context.commandName!, input: args.input as Record<string, unknown> });
    return next(args);
  }, { step: 'initialize' });
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(config, upstream.url, [], {
    dynamodb: { registryTable: 'tessera-tenants', usageTable: 'tessera-usage' },
    fineTuning: { sageMaker: async () => sageMaker, jobs: jobStore() },
  });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  await moto?.stop();
});

// As the Lambdas do: each tenant's items through a session of the tenant-data role (moto's STS), tagged with the tenant.
const tenantCredentials = new TenantCredentials({ roleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-tenant-data` });
const jobStore = () => new DynamoDbJobStore(JOBS, tenantDocumentClient(tenantCredentials, { marshallOptions: { removeUndefinedValues: true } }));

// Creating jobs needs fine_tuning.write: a developer's token.
const client = async (tenant: string) => new OpenAI({ baseURL: gw.url, apiKey: await gw.token(tenant, { role: 'developer' }), maxRetries: 0 });

describe('fine-tuning on SageMaker and DynamoDB (moto)', () => {
  it('creates the training job with the exact isolation parameters, deploys the finished model encrypted with the tenant key', async () => {
    const job = await (await client('cpuco')).fineTuning.jobs.create({ model: 'mistral-7b-instruct', training_file: 'training-data/tickets.jsonl', suffix: 'tickets' });
    const name = `cpuco-ft-${job.id.slice(6)}`;
    const key = trainedTenant('cpuco', 'cpu', ACCOUNT).stackOutputs.KeyArn;
    const bucket = `tessera-cpuco-data-${ACCOUNT}`;
    const described = await sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    expect(described).toMatchObject({
      TrainingJobName: name,
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-cpuco-training`,
      EnableNetworkIsolation: true,
      EnableInterContainerTrafficEncryption: true,
      EnableManagedSpotTraining: false,
      VpcConfig: { Subnets: ['subnet-cpucoa', 'subnet-cpucob'], SecurityGroupIds: ['sg-cpuco0001'] },
      OutputDataConfig: { S3OutputPath: `s3://${bucket}/models/`, KmsKeyId: key },
      ResourceConfig: { InstanceType: 'ml.m5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 200, VolumeKmsKeyId: key },
      StoppingCondition: { MaxRuntimeInSeconds: 72 * 3600 },
      AlgorithmSpecification: { TrainingImage: DEFAULT_CONFIG.fineTuning.baseModels[1].trainingImage, TrainingInputMode: 'File' },
    });
    expect(described.InputDataConfig?.map((c) => c.DataSource?.S3DataSource?.S3Uri)).toEqual([`s3://${bucket}/training-data/tickets.jsonl`, DEFAULT_CONFIG.fineTuning.baseModels[1].weightsS3Uri]);
    const tags = await sageMaker.send(new ListTagsCommand({ ResourceArn: described.TrainingJobArn }));
    expect(tags.Tags).toEqual(expect.arrayContaining([{ Key: 'tessera:tenant-id', Value: 'cpuco' }, { Key: 'tessera:fine-tuning-job', Value: job.id }]));

    // EventBridge delivers DescribeTrainingJob's shape as the event detail; moto finishes jobs at once.
    const audit = new MemoryAuditSink();
    const events = new TrainingEvents({ config, jobs: jobStore(), tenants: dynamoDbTenantModels('tessera-tenants', gw.store, tenantDocumentClient(tenantCredentials)), audit, sageMaker: async () => sageMaker });
    expect(await events.handle({ ...(described as unknown as TrainingStateChange), TrainingJobStatus: 'InProgress' }, ACCOUNT)).toBe('running');
    const outcome = await events.handle(described as unknown as TrainingStateChange, ACCOUNT);
    expect(outcome, JSON.stringify(audit.records.at(-1)?.detail)).toBe('succeeded');

    const model = await sageMaker.send(new DescribeModelCommand({ ModelName: name }));
    expect(sent.find((c) => c.command === 'CreateModelCommand')?.input).toMatchObject({ ModelName: name, EnableNetworkIsolation: true });
    expect(model).toMatchObject({
      ExecutionRoleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-cpuco-training`,
      VpcConfig: { Subnets: ['subnet-cpucoa', 'subnet-cpucob'], SecurityGroupIds: ['sg-cpuco0001'] },
      PrimaryContainer: { Image: DEFAULT_CONFIG.fineTuning.baseModels[1].servingImage, ModelDataUrl: described.ModelArtifacts!.S3ModelArtifacts },
    });
    expect(await sageMaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }))).toMatchObject({
      KmsKeyId: key, ProductionVariants: [expect.objectContaining({ ModelName: name, InstanceType: 'ml.m5.xlarge', InitialInstanceCount: 1 })],
    });
    expect(await sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }))).toMatchObject({ EndpointName: name, EndpointConfigName: name });

    const done = await (await client('cpuco')).fineTuning.jobs.retrieve(job.id);
    const modelId = `ft:mistral-7b-instruct:cpuco:tickets:${job.id.slice(-8)}`;
    expect(done).toMatchObject({ status: 'succeeded', fine_tuned_model: modelId });
    expect((await gw.store.getTenant('cpuco'))?.fineTunedModels).toEqual([expect.objectContaining({ id: modelId, endpointName: name, invokeRoleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-cpuco-model-invoker` })]);
    const models = await (await client('cpuco')).models.list();
    expect(models.data.map((m) => m.id)).toContain(modelId);
    expect(audit.records.map((r) => r.action)).toEqual(['fine_tuning.data.read', 'fine_tuning.model.endpoint_creating', 'fine_tuning.model.deployed']);
  });

  it('the same 64-character suffix twice (the Node and the Python client): two jobs, two models with their own ids and endpoints, served beside a legacy model of the old id shape', async () => {
    const suffix = `nightly_Retrain-v2.${'x'.repeat(45)}`;
    expect(suffix).toHaveLength(64);
    const bucket = `tessera-${NIGHTLY}-data-${ACCOUNT}`;
    const audit = new MemoryAuditSink();
    const events = new TrainingEvents({ config, jobs: jobStore(), tenants: dynamoDbTenantModels('tessera-tenants', gw.store, tenantDocumentClient(tenantCredentials)), audit, sageMaker: async () => sageMaker });
    // GIVEN a model of a job recorded before model ids had a job part (no modelId): it deploys as ft:<base>:<tenant>:<suffix>
    const legacyId = `ftjob-${'0'.repeat(12)}${'5'.repeat(12)}`;
    const legacy: FineTuningJob = {
      id: legacyId, tenantId: NIGHTLY, userId: 'dev', model: 'mistral-7b-instruct', trainingFile: `s3://${bucket}/training-data/a.jsonl`, hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 },
      suffix: 'support', instanceType: 'ml.m5.2xlarge', spot: false, trainingJobName: trainingJobName(NIGHTLY, legacyId), status: 'running', createdAt: 1, events: [],
    };
    await jobStore().create(legacy, 4);
    const legacyArtifacts = { S3ModelArtifacts: `s3://${bucket}/models/${legacy.trainingJobName}/output/model.tar.gz` };
    expect(await events.handle({ TrainingJobName: legacy.trainingJobName, TrainingJobStatus: 'Completed', ModelArtifacts: legacyArtifacts } as TrainingStateChange, ACCOUNT)).toBe('succeeded');
    const legacyModel = legacyFineTunedModelId('mistral-7b-instruct', NIGHTLY, 'support');

    // WHEN the Node client and the Python client each create a job with the same 64-character suffix (the old code: a 400
    // naming suffix for 64 characters, and 400 suffix_in_use for the second), and a third job reuses the legacy one's suffix
    const node = await client(NIGHTLY);
    const fromNode = await node.fineTuning.jobs.create({ model: 'mistral-7b-instruct', training_file: 'training-data/nightly.jsonl', suffix });
    const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
job = client.fine_tuning.jobs.create(model="mistral-7b-instruct", training_file="training-data/nightly.jsonl", suffix=sys.argv[3])
print(json.dumps({"id": job.id, "user_provided_suffix": job.user_provided_suffix}))
`;
    const fromPython = JSON.parse((await runPythonCode(script, [gw.url, await gw.token(NIGHTLY, { role: 'developer' }), suffix])).stdout) as { id: string; user_provided_suffix: string };
    const again = await node.fineTuning.jobs.create({ model: 'mistral-7b-instruct', training_file: 'training-data/nightly.jsonl', suffix: 'support' });
    // Not in the Node SDK's type, in OpenAI's answers (and the Python SDK's).
    expect((fromNode as { user_provided_suffix?: string | null }).user_provided_suffix).toBe(suffix);
    expect(fromPython.user_provided_suffix).toBe(suffix);
    expect(new Set([fromNode.id, fromPython.id, again.id]).size).toBe(3);

    // THEN each trains and deploys under its own SageMaker names (from the job id: at most 63 characters) and model id
    const ids: string[] = [];
    for (const id of [fromNode.id, fromPython.id, again.id]) {
      const name = trainingJobName(NIGHTLY, id);
      expect(name).toMatch(/^[a-zA-Z0-9-]{1,63}$/);
      const described = await sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
      expect(await events.handle({ ...(described as unknown as TrainingStateChange), TrainingJobStatus: 'InProgress' }, ACCOUNT)).toBe('running');
      expect(await events.handle(described as unknown as TrainingStateChange, ACCOUNT), JSON.stringify(audit.records.at(-1)?.detail)).toBe('succeeded');
      expect(await sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }))).toMatchObject({ EndpointName: name, EndpointStatus: 'InService' });
      const done = await node.fineTuning.jobs.retrieve(id);
      ids.push(done.fine_tuned_model!);
    }
    expect(ids).toEqual([
      `ft:mistral-7b-instruct:${NIGHTLY}:${suffix}:${fromNode.id.slice(-8)}`, `ft:mistral-7b-instruct:${NIGHTLY}:${suffix}:${fromPython.id.slice(-8)}`,
      `ft:mistral-7b-instruct:${NIGHTLY}:support:${again.id.slice(-8)}`,
    ]);
    // the registry lists the legacy model and the three new ones, each on its job's endpoint; GET /v1/models lists and retrieves them
    expect((await gw.store.getTenant(NIGHTLY))?.fineTunedModels?.map((m) => [m.id, m.endpointName])).toEqual([
      [legacyModel, legacy.trainingJobName], ...[fromNode.id, fromPython.id, again.id].map((id, i) => [ids[i], trainingJobName(NIGHTLY, id)]),
    ]);
    const listed = (await node.models.list()).data.map((m) => m.id);
    for (const id of [legacyModel, ...ids]) {
      expect(listed).toContain(id);
      expect((await node.models.retrieve(id)).id).toBe(id);
    }
    // deletion takes either shape: the legacy model and one of the twins go, the other twin stays served
    const admin = new OpenAI({ baseURL: gw.url, apiKey: await gw.token(NIGHTLY, { role: 'admin' }), maxRetries: 0 });
    expect(await admin.models.delete(legacyModel)).toEqual({ id: legacyModel, object: 'model', deleted: true });
    expect(await admin.models.delete(ids[0]!)).toEqual({ id: ids[0], object: 'model', deleted: true });
    expect((await node.models.list()).data.map((m) => m.id).filter((m) => m.startsWith('ft:'))).toEqual([ids[1], ids[2]]);
  });

  it('admits exactly the tier\'s concurrent-job limit (4) of 10 simultaneous creations', async () => {
    const acme = await client('acme');
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => acme.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: `training-data/${i}.jsonl` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason.error.code).toBe('rate_limit_exceeded');
    expect((await acme.fineTuning.jobs.list({ limit: 100 })).data).toHaveLength(4);
  });

  it('the deployed-model bound on DynamoDB: 1 deployed, bound 3, 6 simultaneous creations: exactly 2 recorded, the others DeployedModelLimitError; a deletion frees a slot', async () => {
    const jobs = jobStore();
    const job = (n: number, status: FineTuningJob['status'] = 'validating_files'): FineTuningJob => {
      const id = `ftjob-${String(n).padStart(24, '7')}`;
      return {
        id, tenantId: 'boundco', userId: 'dev@boundco', model: 'llama-3.1-8b-instruct', trainingFile: 's3://b/training-data/a.jsonl',
        hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, suffix: `s${n}`, instanceType: 'ml.g5.2xlarge', spot: false,
        trainingJobName: trainingJobName('boundco', id), status, createdAt: n, events: [],
      };
    };
    // one model deployed (its job succeeded), as the deployment leaves it
    await jobs.create(job(1), 20, { max: 3 });
    expect(await jobs.update({ ...job(1), status: 'succeeded', fineTunedModel: 'ft:llama-3.1-8b-instruct:boundco:s1' }, 'validating_files')).toBe(true);
    const results = await Promise.allSettled([2, 3, 4, 5, 6, 7].map((n) => jobs.create(job(n), 20, { max: 3 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason).toBeInstanceOf(DeployedModelLimitError);
    expect((await jobs.list('boundco')).filter((j) => j.status === 'validating_files')).toHaveLength(2);
    // the model deleted (model-deletion.ts marks its job): its slot is free
    const [deployed] = (await jobs.list('boundco')).filter((j) => j.status === 'succeeded');
    expect(await jobs.update({ ...deployed!, modelDeletedAt: 1 }, 'succeeded')).toBe(true);
    await jobs.create(job(8), 20, { max: 3 });
    await expect(jobs.create(job(9), 20, { max: 3 })).rejects.toBeInstanceOf(DeployedModelLimitError);
  });

  it('the offboarding fence\'s writes on DynamoDB: a deployment\'s claim, a writer that read the job before it refused, the claim kept by one that read it, released only by its token; the status read strongly consistent', async () => {
    const jobs = jobStore();
    const id = `ftjob-${'9'.repeat(24)}`;
    const job: FineTuningJob = {
      id, tenantId: 'acme', userId: 'dev@acme', model: 'llama-3.1-8b-instruct', trainingFile: 's3://b/training-data/a.jsonl', hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 },
      suffix: 'fence', instanceType: 'ml.g5.2xlarge', spot: false, trainingJobName: trainingJobName('acme', id), status: 'running', createdAt: 1, events: [],
    };
    await jobs.create({ ...job, status: 'validating_files' }, 100);
    expect(await jobs.update(job, 'validating_files')).toBe(true);
    const before = (await jobs.get('acme', id))!;
    // a deployment claims it (only while running, only one token at a time; its own token again: a redelivery)
    expect(await jobs.claimDeployment('acme', id, 'queued', 'event-1')).toBe(false);
    expect(await jobs.claimDeployment('acme', id, 'running', 'event-1')).toBe(true);
    expect(await jobs.claimDeployment('acme', id, 'running', 'event-2')).toBe(false);
    expect(await jobs.claimDeployment('acme', id, 'running', 'event-1')).toBe(true);
    // a cancel made from a copy read before the claim is refused (it would drop the claim); from a copy read after, it keeps it
    expect(await jobs.update({ ...before, status: 'cancelled' }, 'running')).toBe(false);
    const claimed = (await jobs.get('acme', id))!;
    expect(claimed.deploying).toBe('event-1');
    expect(await jobs.update({ ...claimed, status: 'cancelled' }, 'running')).toBe(true);
    expect((await jobs.get('acme', id))!).toMatchObject({ status: 'cancelled', deploying: 'event-1' });
    // the retirement's listing (strongly consistent) sees the claim
    expect((await jobs.list('acme')).find((j) => j.id === id)?.deploying).toBe('event-1');
    // the deployment's own end, expecting the job running, is refused; its release removes the claim, another token's does not
    expect(await jobs.update({ ...claimed, deploying: undefined, status: 'succeeded' }, 'running', 'event-1')).toBe(false);
    await jobs.releaseDeployment('acme', id, 'event-2');
    expect((await jobs.get('acme', id))!.deploying).toBe('event-1');
    await jobs.releaseDeployment('acme', id, 'event-1');
    expect((await jobs.get('acme', id))!.deploying).toBeUndefined();
    // the status, as the create paths read it (the tenant-data session, ConsistentRead, the status only)
    expect(await consistentTenantStatus('tessera-tenants', tenantDocumentClient(tenantCredentials), 'acme')).toBe('ACTIVE');
    expect(await consistentTenantStatus('tessera-tenants', tenantDocumentClient(tenantCredentials), 'nobody')).toBeUndefined();
  });
  it('the registry add lists a model once on DynamoDB: settles at once from records read without it, and again later (its conditions as DynamoDB evaluates them)', async () => {
    const docFor = tenantDocumentClient(tenantCredentials);
    const models = dynamoDbTenantModels('tessera-tenants', gw.store, docFor);
    const entry = (suffix: string) => ({ id: `ft:llama-3.1-8b-instruct:acme:${suffix}`, baseModel: 'llama-3.1-8b-instruct', jobId: `ftjob-${'7'.repeat(24)}`, endpointName: `acme-ft-${suffix}`, createdAt: new Date().toISOString() });
    const stale = trainedTenant('acme', 'enterprise', ACCOUNT); // lists no model: what a lagging read shows
    const listed = async () => ((await (await docFor('acme')).send(new GetCommand({ TableName: 'tessera-tenants', Key: { tenantId: 'acme' }, ConsistentRead: true }))).Item!.fineTunedModels as Array<{ id: string }>).map((m) => m.id);
    await models.addFineTunedModel(stale, entry('race-a'));
    // the add of a second model is conditional on the first's id and the list's size (moto parses and applies it)
    await Promise.all(Array.from({ length: 4 }, () => models.addFineTunedModel(stale, entry('race-b'))));
    await models.addFineTunedModel(stale, entry('race-a'));
    const ids = await listed();
    expect(ids.filter((id) => id === entry('race-a').id)).toHaveLength(1);
    expect(ids.filter((id) => id === entry('race-b').id)).toHaveLength(1);
  });

  it('a deployment whose answers are lost (a timeout after SageMaker did the work) is retried with the same event: what exists is reused, the endpoint found and followed, one of each', async () => {
    const job = await (await client('cpuco')).fineTuning.jobs.create({ model: 'mistral-7b-instruct', training_file: 'training-data/tickets.jsonl', suffix: 'lost' });
    const name = `cpuco-ft-${job.id.slice(6)}`;
    const described = await sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    // A client whose answer is lost once for CreateEndpointConfig, then once for CreateEndpoint: moto did the work, the caller sees a timeout
    const lossy = new SageMakerClient({ maxAttempts: 1 });
    const lose = new Set(['CreateEndpointConfigCommand', 'CreateEndpointCommand']);
    const creates: string[] = [];
    lossy.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName!.startsWith('Create')) creates.push(context.commandName!);
      const answer = await next(args);
      if (lose.delete(context.commandName!)) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return answer;
    }, { step: 'initialize' });
    const events = new TrainingEvents({ config, jobs: jobStore(), tenants: dynamoDbTenantModels('tessera-tenants', gw.store, tenantDocumentClient(tenantCredentials)), audit: new MemoryAuditSink(), sageMaker: async () => lossy });
    expect(await events.handle({ ...(described as unknown as TrainingStateChange), TrainingJobStatus: 'InProgress' }, ACCOUNT)).toBe('running');

    // Lambda's first try and its two retries, the same event id each time
    await expect(events.handle(described as unknown as TrainingStateChange, ACCOUNT, 'evt-lost')).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(await (await client('cpuco')).fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: 'running', error: null });
    await expect(events.handle(described as unknown as TrainingStateChange, ACCOUNT, 'evt-lost')).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(await events.handle(described as unknown as TrainingStateChange, ACCOUNT, 'evt-lost')).toBe('succeeded');

    // THEN one endpoint, created once (the third delivery described it and followed it); each delivery sends CreateModel and
    // CreateEndpointConfig again, which SageMaker answers "already exists" (reused: moto overwrites instead); the model listed
    const [cm, cc, ce] = ['CreateModelCommand', 'CreateEndpointConfigCommand', 'CreateEndpointCommand'];
    expect(creates).toEqual([cm, cc, cm, cc, ce, cm, cc]);
    expect(await sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }))).toMatchObject({ EndpointName: name, EndpointConfigName: name });
    expect((await (await client('cpuco')).fineTuning.jobs.retrieve(job.id))).toMatchObject({ status: 'succeeded', fine_tuned_model: `ft:mistral-7b-instruct:cpuco:lost:${job.id.slice(-8)}` });
    expect((await jobStore().get('cpuco', job.id))!.deploying).toBeUndefined();
    expect((await gw.store.getTenant('cpuco'))?.fineTunedModels?.map((m) => m.endpointName)).toContain(name);
    const listed = await (await client('cpuco')).fineTuning.jobs.listEvents(job.id);
    expect(listed.data.filter((e) => e.message.startsWith('Deploying the model was interrupted'))).toHaveLength(2);
    expect(listed.data.filter((e) => e.message === 'Training completed')).toHaveLength(1);
  });

  it('keeps integrations: [] on DynamoDB and answers it as sent on create, retrieve and list (it was answered null)', async () => {
    const cpuco = await client('cpuco');
    const job = await cpuco.fineTuning.jobs.create({ model: 'mistral-7b-instruct', training_file: 'training-data/tickets.jsonl', suffix: 'integrations', integrations: [] });
    expect(job.integrations).toEqual([]);
    expect((await cpuco.fineTuning.jobs.retrieve(job.id)).integrations).toEqual([]);
    expect((await cpuco.fineTuning.jobs.list({ limit: 100 })).data.find((j) => j.id === job.id)?.integrations).toEqual([]);
    expect((await jobStore().get('cpuco', job.id))?.integrations).toEqual([]);
    await cpuco.fineTuning.jobs.cancel(job.id).catch(() => undefined);
  });

  it('another tenant\'s job id, on DynamoDB through the tenant-data session, answers exactly as an id that exists nowhere: retrieve, cancel, events, list after it', async () => {
    const theirs = (await (await client('cpuco')).fineTuning.jobs.list({ limit: 100 })).data;
    expect(theirs.length).toBeGreaterThan(0);
    const acme = await client('acme');
    const unknown = `ftjob-${'0'.repeat(24)}`;
    const refusal = async (call: Promise<unknown>) => {
      const e = await call.then(() => { throw new Error('expected a refusal'); }, (x: unknown) => x);
      if (!(e instanceof OpenAI.APIError)) throw e;
      return JSON.stringify({ status: e.status, error: e.error });
    };
    const attempts: Array<[string, (id: string) => Promise<unknown>]> = [
      ['retrieve', (id) => acme.fineTuning.jobs.retrieve(id)],
      ['cancel', (id) => acme.fineTuning.jobs.cancel(id)],
      ['events', (id) => acme.fineTuning.jobs.listEvents(id)],
      ['list after', (id) => acme.fineTuning.jobs.list({ after: id })],
      ['pause', (id) => acme.fineTuning.jobs.pause(id)],
      ['resume', (id) => acme.fineTuning.jobs.resume(id)],
    ];
    for (const { id, status } of theirs) {
      for (const [what, call] of attempts) {
        const answer = await refusal(call(id));
        expect([what, answer.split(id).join(unknown)]).toEqual([what, await refusal(call(unknown))]);
        expect(answer, what).toContain('"status":404');
      }
      expect((await (await client('cpuco')).fineTuning.jobs.retrieve(id)).status).toBe(status);
    }
    expect((await acme.fineTuning.jobs.list({ limit: 100 })).data.map((j) => j.id)).not.toContain(theirs[0]!.id);
  });
});
