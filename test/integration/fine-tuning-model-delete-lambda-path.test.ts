import { DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, DescribeTrainingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingEvents, type TrainingStateChange } from '../../lambdas/fine-tuning/training-events.js';
import { DynamoDbJobStore } from '../../lambdas/fine-tuning/stores/dynamodb-job-store.js';
import { dynamoDbTenantModels } from '../../lambdas/fine-tuning/stores/dynamodb-tenant-models.js';
import { MemoryAuditSink } from '../../lambdas/inference/audit.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import { TenantCredentials, tenantDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { configWith } from '../support/config-with.js';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { startApiGatewayEmulator } from './support/api-gateway-emulator.js';

/**
 * `DELETE /v1/models/{model}` on the deployed path, against moto: API Gateway (DELETE on the router's
 * `/v1/models/{proxy+}` goes to the fine-tuning API Lambda), the authorizer Lambda, then the
 * fine-tuning Lambda's handler, which deletes the endpoint, endpoint config and model as the tenant's
 * training-launcher role (moto's STS and SageMaker) and takes the model out of the registry as the
 * tenant (the tenant-data role, DynamoDB `REMOVE fineTunedModels[i]`). The model was deployed by the
 * training events code on the same moto.
 */
const ACCOUNT = '123456789012'; // moto's account
// moto's CreateEndpointConfig knows no g5 instance type: a CPU tier, as fine-tuning-moto.test.ts has.
const config = configWith({
  ...gatewayConfig(),
  tiers: {
    cpu: { ...DEFAULT_CONFIG.tiers.enterprise, network: { ...DEFAULT_CONFIG.tiers.enterprise.network, tenantCidrPool: '10.128.0.0/12' }, training: { ...DEFAULT_CONFIG.tiers.enterprise.training, instanceTypes: ['ml.m5.2xlarge'], endpointInstanceTypes: ['ml.m5.xlarge'], maxConcurrentJobs: 4 } },
  },
});
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let admin: OpenAI;
const sageMaker = () => new SageMakerClient({});
const tenantCredentials = () => new TenantCredentials({ roleArn: `arn:aws:iam::${ACCOUNT}:role/tessera-tenant-data` });
const events = () => {
  const docs = tenantDocumentClient(tenantCredentials(), { marshallOptions: { removeUndefinedValues: true } });
  return new TrainingEvents({
    config, jobs: new DynamoDbJobStore('tessera-fine-tuning-jobs', docs), audit: new MemoryAuditSink(), sageMaker: async () => sageMaker(),
    tenants: dynamoDbTenantModels('tessera-tenants', new DynamoDbStore('tessera-tenants', 'tessera-usage', tenantDocumentClient(tenantCredentials())), tenantDocumentClient(tenantCredentials())),
  });
};
const registryModels = async () => {
  const item = await new DynamoDBClient({}).send(new GetItemCommand({ TableName: 'tessera-tenants', Key: { tenantId: { S: 'acme' } } }));
  return (item.Item?.fineTunedModels?.L ?? []).map((m) => m.M!.id!.S);
};
const exists = async (describe: () => Promise<unknown>) => describe().then(() => true, (e: Error) => {
  if (/could not find/i.test(e.message)) return false;
  throw e;
});

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(config, upstream.url, [trainedTenant('acme', 'cpu', ACCOUNT)], { fineTuning: true });
  admin = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('acme', { role: 'admin' }), maxRetries: 0, timeout: 20_000 });
}, 120_000);
afterAll(async () => {
  await apigw?.stop();
  await upstream?.stop();
});

async function deployed(suffix: string) {
  const job = await admin.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix });
  const name = `acme-ft-${job.id.slice(6)}`;
  // moto finishes a training job at once; EventBridge delivers DescribeTrainingJob's shape as the detail.
  const described = await sageMaker().send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
  const completed = { ...(described as unknown as TrainingStateChange), TrainingJobStatus: 'Completed' as const, ModelArtifacts: { S3ModelArtifacts: `s3://tessera-acme-data-${ACCOUNT}/models/${name}/output/model.tar.gz` } };
  const outcome = await events().handle(completed, ACCOUNT);
  expect(outcome, JSON.stringify((await admin.fineTuning.jobs.retrieve(job.id)).error)).toBe('succeeded');
  return { job, name, completed, model: `ft:llama-3.1-8b-instruct:acme:${suffix}:${job.id.slice(-8)}` };
}

describe('DELETE /v1/models/{model} through API Gateway and the fine-tuning Lambda (moto)', () => {
  it('deletes the endpoint, endpoint config and model in the tenant account and the registry entry; a replay is a 404, a redelivered Completed event deploys nothing', async () => {
    const { job, name, completed, model } = await deployed('lambda');
    expect(await exists(() => sageMaker().send(new DescribeEndpointCommand({ EndpointName: name })))).toBe(true);
    expect((await admin.models.list()).data.map((m) => m.id)).toContain(model);

    expect(await admin.models.delete(model)).toEqual({ id: model, object: 'model', deleted: true });

    for (const describe of [
      () => sageMaker().send(new DescribeEndpointCommand({ EndpointName: name })),
      () => sageMaker().send(new DescribeEndpointConfigCommand({ EndpointConfigName: name })),
      () => sageMaker().send(new DescribeModelCommand({ ModelName: name })),
    ]) expect(await exists(describe)).toBe(false);
    expect(await registryModels()).not.toContain(model);
    expect((await admin.models.list()).data.map((m) => m.id)).not.toContain(model);
    expect(await admin.fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: 'succeeded', fine_tuned_model: model });

    const again = await admin.models.delete(model).catch((e) => e);
    expect(again).toBeInstanceOf(OpenAI.NotFoundError);
    expect(again.error).toMatchObject({ code: 'model_not_found', param: 'model' });

    expect(await events().handle(completed, ACCOUNT)).toBe('stale');
    expect(await exists(() => sageMaker().send(new DescribeEndpointCommand({ EndpointName: name })))).toBe(false);
    expect(await registryModels()).not.toContain(model);
  });

  it('keeps GET /v1/models/{model} the router\'s, refuses a developer, and answers the preflight with GET and DELETE', async () => {
    const { model } = await deployed('kept');
    expect(await admin.models.retrieve(model)).toMatchObject({ id: model, object: 'model', owned_by: 'acme' });
    const developer = new OpenAI({ baseURL: apigw.url, apiKey: await apigw.token('acme', { role: 'developer' }), maxRetries: 0 });
    const refused = await developer.models.delete(model).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(refused.error.message).toContain('models.delete');
    expect(await registryModels()).toContain(model);
    const post = await fetch(`${apigw.url}/models/${model}`, { method: 'POST', headers: { authorization: `Bearer ${await apigw.token('acme', { role: 'admin' })}` } });
    // /v1/models/{proxy+} has no POST: API Gateway passes it on to /v1/{proxy+} ANY, the router, which names both Lambdas' methods.
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, DELETE, OPTIONS']);
    expect(((await post.json()) as { error: unknown }).error).toMatchObject({ code: 'method_not_allowed' });
    expect(await admin.models.delete(model)).toEqual({ id: model, object: 'model', deleted: true });
  });
});

describe('pause and resume of a job through API Gateway and the fine-tuning Lambda (moto)', () => {
  it('refuses them 400 job_not_pausable / job_not_resumable naming the job, which stays as it was (they reached the router, a 404 saying nothing of the job)', async () => {
    const { job } = await deployed('paused');
    for (const [call, code] of [[() => admin.fineTuning.jobs.pause(job.id), 'job_not_pausable'], [() => admin.fineTuning.jobs.resume(job.id), 'job_not_resumable']] as const) {
      const e = await call().catch((x) => x);
      expect(e, code).toBeInstanceOf(OpenAI.BadRequestError);
      expect([e.code, e.param]).toEqual([code, 'fine_tuning_job_id']);
      expect(e.message).toContain(`fine-tuning job ${job.id} (succeeded) cannot be`);
    }
    expect(await admin.fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: 'succeeded' });
    await admin.models.delete(`ft:llama-3.1-8b-instruct:acme:paused:${job.id.slice(-8)}`);
  });
});
