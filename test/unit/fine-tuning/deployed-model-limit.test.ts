import { CreateTrainingJobCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { PlatformConfigSchema, type PlatformConfig } from '../../../lib/config/schema.js';
import { legacyFineTunedModelId, type FineTuningJob } from '../../../lib/fine-tuning.js';
import type { FineTunedModel, TenantRecord } from '../../../lib/tenant-record.js';
import { FineTuningService } from '../../../lambdas/fine-tuning/fine-tuning-service.js';
import { deployedModelsOf, MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { mockStrict } from '../../support/strict-mock.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

/**
 * `tiers.<t>.training.maxDeployedModels`: each fine-tuned model runs an always-on SageMaker endpoint, billed hourly until
 * the model is deleted, so a tier bounds how many a tenant keeps deployed or being deployed (succeeded jobs whose model
 * was not deleted, active jobs, models the registry lists). A create beyond it is a 409 `deployed_model_limit` naming
 * the models and `client.models.delete`, with no CreateTrainingJob; a deletion frees its slot. Before, nothing bounded
 * them: the third create started a training job, the third endpoint. The embedded professional tier allows 2 (and runs
 * one job at a time).
 */
const ACCOUNT = '444444444444';
const sm = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
let jobs: MemoryJobStore;
let tenant: TenantRecord;
let config: PlatformConfig;
const caller = (role: 'developer' | 'admin' = 'developer'): Caller => ({ tenantId: 'acme', userId: `${role}@acme`, role, tenant });
const service = () => new FineTuningService({
  config, jobs,
  models: { removeFineTunedModel: async (_t, id) => { const before = tenant.fineTunedModels ?? []; tenant = { ...tenant, fineTunedModels: before.filter((m) => m.id !== id) }; return before.some((m) => m.id === id); } },
  sageMaker: async () => new SageMakerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
});
type Answer = { status?: number; code?: string; message?: string; headers?: Record<string, string>; id?: string; deleted?: boolean; object?: string };
const call = (method: string, path: string, body?: unknown, role?: 'developer' | 'admin', audit = {} as AuditRecord): Promise<Answer> =>
  service().handle({ method, path, query: {}, body: body === undefined ? undefined : JSON.stringify(body) }, caller(role), audit)
    .then((r) => JSON.parse(r.body as string), (e: { status: number; code: string; message: string; headers: Record<string, string> }) => ({ status: e.status, code: e.code, message: e.message, headers: e.headers }));
const create = (suffix: string, audit?: AuditRecord) => call('POST', '/v1/fine_tuning/jobs', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix }, undefined, audit);

/** A job that succeeded and whose model the registry lists, as the deployment leaves them (endpoint-events.ts). */
async function deployed(suffix: string, n: number): Promise<FineTunedModel> {
  const id = `ftjob-${String(n).padStart(24, '0')}`;
  const model = legacyFineTunedModelId('llama-3.1-8b-instruct', 'acme', suffix);
  const job: FineTuningJob = {
    id, tenantId: 'acme', userId: 'dev@acme', model: 'llama-3.1-8b-instruct', trainingFile: 's3://b/training-data/a.jsonl',
    hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, suffix, instanceType: 'ml.g5.2xlarge', spot: false,
    trainingJobName: `acme-ft-${id.slice(6)}`, status: 'running', createdAt: n, events: [],
  };
  await jobs.create(job, 10);
  await jobs.update({ ...job, status: 'succeeded', fineTunedModel: model, endpointName: job.trainingJobName }, 'running');
  const listed: FineTunedModel = { id: model, baseModel: 'llama-3.1-8b-instruct', jobId: id, endpointName: job.trainingJobName, createdAt: '2026-12-01T00:00:00.000Z' };
  tenant = { ...tenant, fineTunedModels: [...(tenant.fineTunedModels ?? []), listed] };
  return listed;
}

beforeEach(() => {
  sm.reset();
  jobs = new MemoryJobStore();
  config = DEFAULT_CONFIG;
  tenant = trainedTenant('acme', 'professional', ACCOUNT);
  sm.on(CreateTrainingJobCommand).resolves({});
  sm.on(DescribeEndpointCommand).callsFake(async (i) => ({ EndpointName: i.EndpointName, EndpointStatus: 'InService' }));
  sm.on(DescribeEndpointConfigCommand).callsFake(async (i) => ({ EndpointConfigName: i.EndpointConfigName }));
  sm.on(DescribeModelCommand).callsFake(async (i) => ({ ModelName: i.ModelName }));
  sm.on(DeleteEndpointCommand).resolves({});
  sm.on(DeleteEndpointConfigCommand).resolves({});
  sm.on(DeleteModelCommand).resolves({});
});

describe('tiers.<t>.training.maxDeployedModels bounds the fine-tuned models a tenant keeps deployed', () => {
  it('2 deployed: the 3rd create is a 409 deployed_model_limit naming the limit, the models and client.models.delete; no CreateTrainingJob, no job recorded', async () => {
    const [support, sales] = [await deployed('support', 1), await deployed('sales', 2)];
    const audit = {} as AuditRecord;
    const refused = await create('third', audit);
    expect(refused).toMatchObject({ status: 409, code: 'deployed_model_limit', headers: { 'x-should-retry': 'false' } });
    expect(refused.message).toBe(
      `tenant acme has 2 fine-tuned model(s) deployed or being deployed, and tier "professional" allows 2 (training.maxDeployedModels): deployed: ${support.id}, ${sales.id}. `
      + `Each runs an always-on SageMaker endpoint (ml.g5.xlarge), billed hourly until its model is deleted; delete one you no longer need with client.models.delete('${support.id}'), then create the job again`);
    expect(audit.outcome).toBe('deployed_model_limit');
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    expect((await jobs.list('acme')).map((j) => j.suffix)).toEqual(['sales', 'support']);
  });

  it('deleting one of them (client.models.delete) frees its slot: the create then starts its training job', async () => {
    const support = await deployed('support', 1);
    await deployed('sales', 2);
    expect(await create('third')).toMatchObject({ status: 409, code: 'deployed_model_limit' });
    expect(await call('DELETE', `/v1/models/${support.id}`, undefined, 'admin')).toEqual({ id: support.id, object: 'model', deleted: true });
    expect(await create('third')).toMatchObject({ object: 'fine_tuning.job', status: 'queued' });
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
  });

  it('an active job holds a slot (it deploys an endpoint when it succeeds); a failed or cancelled one does not', async () => {
    await deployed('support', 1);
    const running = await create('second');
    expect(running).toMatchObject({ status: 'queued' });
    const refused = await create('third');
    expect(refused).toMatchObject({ status: 409, code: 'deployed_model_limit' });
    expect(refused.message).toContain(`being trained, each deploying one when it succeeds: job ${running.id} (queued, ft:llama-3.1-8b-instruct:acme:second:${running.id!.slice(-8)})`);
    // cancelled: its slots (of the concurrent jobs too: professional runs one at a time) given back
    const [job] = await jobs.list('acme');
    await jobs.update({ ...job!, status: 'cancelled' }, 'queued');
    expect(await create('third')).toMatchObject({ status: 'queued' });
  });

  it('a model the registry lists counts even without a job holding it (a job ended otherwise, or none: serve\'s tenants file); one whose job says it was deleted does not', async () => {
    const listed = (id: string, jobId: string) => ({ id, jobId });
    const job = (id: string, status: FineTuningJob['status'], extra: Partial<FineTuningJob> = {}) => ({ id, tenantId: 'acme', model: 'm', suffix: id, status, ...extra }) as FineTuningJob;
    const models = deployedModelsOf(
      [job('j4', 'running'), job('j3', 'cancelled'), job('j2', 'succeeded', { fineTunedModel: 'ft:m:acme:j2' }), job('j1', 'succeeded', { modelDeletedAt: 1 })],
      [listed('ft:m:acme:j2', 'j2'), listed('ft:m:acme:j3', 'j3'), listed('ft:m:acme:gone', 'j1'), listed('ft:m:acme:nojob', 'j0')],
    );
    expect({ deployed: models.deployed, training: models.training.map((j) => j.id) }).toEqual({ deployed: ['ft:m:acme:j2', 'ft:m:acme:j3', 'ft:m:acme:nojob'], training: ['j4'] });
  });

  it('a tier lowered below what is deployed undeploys nothing: creates are refused until a deletion brings it under the bound', async () => {
    const models = [await deployed('a', 1), await deployed('b', 2), await deployed('c', 3)];
    const refused = await create('d');
    expect(refused.message).toContain('has 3 fine-tuned model(s) deployed or being deployed, and tier "professional" allows 2');
    expect(await call('DELETE', `/v1/models/${models[0]!.id}`, undefined, 'admin')).toMatchObject({ deleted: true });
    expect(await create('d')).toMatchObject({ status: 409, code: 'deployed_model_limit' });
    expect(await call('DELETE', `/v1/models/${models[1]!.id}`, undefined, 'admin')).toMatchObject({ deleted: true });
    expect(await create('d')).toMatchObject({ status: 'queued' });
  });

  it('concurrent creates at the bound (in memory, as `tessera serve` keeps jobs; DynamoDB: test/integration/fine-tuning-moto.test.ts): exactly one is admitted', async () => {
    // professional with 10 concurrent jobs: only the deployed-model bound (2) holds them back
    config = structuredClone(DEFAULT_CONFIG);
    config.tiers.professional!.training.maxConcurrentJobs = 10;
    await deployed('support', 1);
    const answers = await Promise.all(['x1', 'x2', 'x3', 'x4'].map((s) => create(s)));
    expect(answers.filter((a) => a.object === 'fine_tuning.job')).toHaveLength(1);
    expect(answers.filter((a) => a.object !== 'fine_tuning.job').map((a) => [a.status, a.code])).toEqual(Array(3).fill([409, 'deployed_model_limit']));
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
  });
});

describe('config: tiers.<t>.training.maxDeployedModels', () => {
  const withTraining = (training: Record<string, unknown>) => {
    const raw = structuredClone(DEFAULT_CONFIG) as unknown as { tiers: Record<string, { training: Record<string, unknown> }> };
    raw.tiers.professional!.training = { ...raw.tiers.professional!.training, ...training };
    return raw;
  };

  it('defaults to 2 when absent; the embedded enterprise tier allows 4 (its concurrent jobs)', () => {
    const raw = withTraining({});
    delete raw.tiers.professional!.training.maxDeployedModels;
    expect(PlatformConfigSchema.parse(raw).tiers.professional!.training.maxDeployedModels).toBe(2);
    expect(DEFAULT_CONFIG.tiers.enterprise!.training.maxDeployedModels).toBe(4);
  });

  it.each([[0], [1.5], [-1], ['2']])('refuses %j, naming the path', (value) => {
    const result = PlatformConfigSchema.safeParse(withTraining({ maxDeployedModels: value }));
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain('tiers.professional.training.maxDeployedModels');
  });
});
