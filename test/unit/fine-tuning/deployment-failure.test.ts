import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand,
  DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { trainingJobName, type FineTuningJob } from '../../../lib/fine-tuning.js';
import { MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import { memoryTenantModels } from '../../../lambdas/fine-tuning/stores/tenant-models.js';
import { TrainingEvents } from '../../../lambdas/fine-tuning/training-events.js';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

/**
 * A deployment SageMaker refuses part-way (training-events.ts): what it created is deleted (no model lists it, so
 * nothing else would until the tenant's offboarding), and the job's events say what happened, in order: its
 * training completed, then the deployment failed, then what was cleaned up. SageMaker is a small stateful fake.
 */
const ACCOUNT = '444444444444';
const sm = mockClient(SageMakerClient);
const sageMaker = async () => new SageMakerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const notFound = (what: string) => Object.assign(new Error(`Could not find ${what}.`), { name: 'ValidationException' });
const calls = (command: Parameters<typeof sm.commandCalls>[0]) => sm.commandCalls(command).map((c) => c.args[0].input);

/** What SageMaker has, by `<type>/<name>`, with the endpoint's status. */
let has: Map<string, string>;
let jobs: MemoryJobStore;
let registry: MemoryStore;
let audit: MemoryAuditSink;
const events = () => new TrainingEvents({ config: DEFAULT_CONFIG, jobs, tenants: memoryTenantModels(registry), audit, sageMaker });

const id = `ftjob-${'c'.repeat(24)}`;
const name = trainingJobName('acme', id);
const job: FineTuningJob = {
  id, tenantId: 'acme', userId: 'dev@acme', model: 'llama-3.1-8b-instruct', trainingFile: `s3://tessera-acme-data-${ACCOUNT}/training-data/a.jsonl`,
  hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, suffix: 'support', instanceType: 'ml.g5.2xlarge', spot: false,
  trainingJobName: name, status: 'running', createdAt: 1, events: [{ id: 'ftevent-1', created_at: 1, level: 'info', message: 'Training started (Starting)' }],
};
const completed = { TrainingJobName: name, TrainingJobStatus: 'Completed' as const, ModelArtifacts: { S3ModelArtifacts: `s3://tessera-acme-data-${ACCOUNT}/models/${name}/output/model.tar.gz` } };
const refused = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });

beforeEach(async () => {
  sm.reset();
  has = new Map();
  jobs = new MemoryJobStore();
  registry = new MemoryStore();
  audit = new MemoryAuditSink();
  registry.putTenant(trainedTenant('acme', 'enterprise', ACCOUNT));
  await jobs.create(job, 5);
  const describe = (type: string) => (input: Record<string, string>) => {
    const status = has.get(`${type}/${Object.values(input)[0]}`);
    if (status === undefined) throw notFound(type);
    return type === 'endpoint' ? { EndpointStatus: status } : {};
  };
  const remove = (type: string) => (input: Record<string, string>) => {
    const key = `${type}/${Object.values(input)[0]}`;
    // Under the launcher's tag condition a missing name has no tag: AccessDenied.
    if (!has.delete(key)) throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    return {};
  };
  sm.on(CreateModelCommand).callsFake((input) => { has.set(`model/${input.ModelName}`, 'x'); return {}; });
  sm.on(CreateEndpointConfigCommand).callsFake((input) => { has.set(`endpoint-config/${input.EndpointConfigName}`, 'x'); return {}; });
  sm.on(CreateEndpointCommand).callsFake((input) => { has.set(`endpoint/${input.EndpointName}`, 'Creating'); return {}; });
  sm.on(DescribeEndpointCommand).callsFake(describe('endpoint'));
  sm.on(DescribeEndpointConfigCommand).callsFake(describe('endpoint-config'));
  sm.on(DescribeModelCommand).callsFake(describe('model'));
  sm.on(DeleteEndpointCommand).callsFake(remove('endpoint'));
  sm.on(DeleteEndpointConfigCommand).callsFake(remove('endpoint-config'));
  sm.on(DeleteModelCommand).callsFake(remove('model'));
});

describe('a deployment refused after CreateModel', () => {
  it('CreateEndpointConfig refused: the model it created is deleted (described first), the job failed; its events: training completed, the failure, the cleanup', async () => {
    sm.on(CreateEndpointConfigCommand).rejects(refused("1 validation error detected: Value 'ml.g5.xlarge' at 'productionVariants.1.member.instanceType' failed to satisfy constraint"));

    expect(await events().handle(completed, ACCOUNT, 'evt-1')).toBe('failed');

    // THEN SageMaker has nothing of the name left, deleted as every deletion is: described, then deleted
    expect([...has.keys()]).toEqual([]);
    expect(calls(DeleteModelCommand)).toEqual([{ ModelName: name }]);
    expect(calls(DeleteEndpointConfigCommand)).toEqual([]);
    expect(calls(DeleteEndpointCommand)).toEqual([]);
    const stored = (await jobs.get('acme', id))!;
    expect(stored).toMatchObject({ status: 'failed', error: { code: 'deployment_failed', message: expect.stringMatching(/^could not deploy the model: ValidationException: 1 validation error/) } });
    expect(stored.deploying).toBeUndefined();
    // ...and the events (newest first, as the API lists them) tell the job's timeline
    expect(stored.events.map((e) => [e.level, e.message.replace(/:.*/s, '')])).toEqual([
      ['info', `Deleted what the deployment had created`],
      ['error', 'could not deploy the model'],
      ['info', 'Training completed'],
      ['info', 'Training started (Starting)'],
    ]);
    expect(stored.events[0]!.message).toBe(`Deleted what the deployment had created: model/${name}`);
    expect(audit.records.at(-1)).toMatchObject({ action: 'fine_tuning.model.deployment_failed', outcome: 'deployment_failed', detail: { cleanedUp: `model/${name}` } });
    expect(await registry.getTenant('acme')).not.toHaveProperty('fineTunedModels');
  });

  it('CreateEndpoint refused (a quota): the endpoint config and the model are deleted', async () => {
    sm.on(CreateEndpointCommand).rejects(Object.assign(new Error('The account-level service limit for ml.g5.2xlarge endpoint usage is 0'), { name: 'ResourceLimitExceeded' }));
    expect(await events().handle(completed, ACCOUNT, 'evt-2')).toBe('failed');
    expect([...has.keys()]).toEqual([]);
    expect((await jobs.get('acme', id))!.events[0]!.message).toBe(`Deleted what the deployment had created: endpoint-config/${name}, model/${name}`);
  });

  it('CreateEndpoint\'s answer lost (the endpoint exists, Creating): nothing is deleted under it, and the events say what is left', async () => {
    sm.on(CreateEndpointCommand).callsFake((input) => { has.set(`endpoint/${input.EndpointName}`, 'Creating'); throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }); });
    expect(await events().handle(completed, ACCOUNT, 'evt-6')).toBe('failed');
    expect([...has.keys()].sort()).toEqual([`endpoint-config/${name}`, `endpoint/${name}`, `model/${name}`]);
    expect([DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand].flatMap((c) => calls(c))).toEqual([]);
    expect((await jobs.get('acme', id))!.events[0]).toMatchObject({ level: 'warn', message: expect.stringMatching(new RegExp(`^Endpoint ${name} is Creating: it, its configuration and its model are left`)) });
    expect(audit.records.at(-1)).toMatchObject({ detail: { leftOver: name } });
  });

  it('CreateModel\'s answer lost (a timeout; a throttling after the SDK\'s retries, an earlier attempt landed): the model it may have created is looked for and deleted', async () => {
    const lost = [
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 3 } }),
      Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500, attempts: 1 } }),
    ];
    for (const [i, error] of lost.entries()) {
      sm.on(CreateModelCommand).callsFake((input) => { has.set(`model/${input.ModelName}`, 'x'); throw error; });
      if (i > 0) await jobs.update({ ...(await jobs.get('acme', id))!, ...job, status: 'running', error: undefined, finishedAt: undefined }, 'failed');
      expect(await events().handle(completed, ACCOUNT, `evt-lost-${i}`)).toBe('failed');
      // THEN SageMaker has nothing of the name left: the model was described and deleted, and the events say so
      expect([...has.keys()]).toEqual([]);
      expect(sm.commandCalls(DeleteModelCommand)).toHaveLength(i + 1);
      const stored = (await jobs.get('acme', id))!;
      expect(stored.events[0]!.message).toBe(`Deleted what the deployment had created: model/${name}`);
      expect(stored.deploying).toBeUndefined();
    }
  });

  it('CreateModel refused: nothing was created, nothing is deleted; the events still say the training completed', async () => {
    sm.on(CreateModelCommand).rejects(Object.assign(new Error('not authorized to perform: iam:PassRole'), { name: 'AccessDeniedException' }));
    expect(await events().handle(completed, ACCOUNT, 'evt-3')).toBe('failed');
    expect(sm.commandCalls(DescribeEndpointCommand)).toHaveLength(0);
    expect((await jobs.get('acme', id))!.events.map((e) => e.message.replace(/:.*/s, ''))).toEqual(['could not deploy the model', 'Training completed', 'Training started (Starting)']);
  });

  it('a deployment refused before SageMaker (artifacts outside the bucket) also says the training completed', async () => {
    expect(await events().handle({ ...completed, ModelArtifacts: { S3ModelArtifacts: 's3://elsewhere/models/x.tar.gz' } }, ACCOUNT, 'evt-4')).toBe('failed');
    expect((await jobs.get('acme', id))!.events.map((e) => e.level)).toEqual(['error', 'info', 'info']);
    expect((await jobs.get('acme', id))!.events[1]!.message).toBe('Training completed');
  });

  it('a tenant being offboarded: nothing is deployed, the job cancelled; its events too say the training completed, then the cancellation', async () => {
    registry.putTenant({ ...(await registry.getTenant('acme'))!, status: 'OFFBOARDING' });
    expect(await events().handle(completed, ACCOUNT, 'evt-7')).toBe('cancelled');
    expect(sm.commandCalls(CreateModelCommand)).toHaveLength(0);
    expect((await jobs.get('acme', id))!.events.map((e) => [e.level, e.message])).toEqual([
      ['warn', 'Job cancelled: the tenant is being offboarded: training completed, the model was not deployed'],
      ['info', 'Training completed'],
      ['info', 'Training started (Starting)'],
    ]);
  });

  it('a cleanup SageMaker refuses is said in the events and the audit record; the job still fails with the deployment\'s own error', async () => {
    sm.on(CreateEndpointConfigCommand).rejects(refused('instance type not supported'));
    sm.on(DeleteModelCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    expect(await events().handle(completed, ACCOUNT, 'evt-5')).toBe('failed');
    const stored = (await jobs.get('acme', id))!;
    expect(stored.error!.message).toBe('could not deploy the model: ValidationException: instance type not supported');
    expect(stored.events[0]).toMatchObject({ level: 'warn', message: expect.stringMatching(new RegExp(`^What the deployment created of ${name} could not be deleted \\(ThrottlingException: Rate exceeded\\)`)) });
    expect(audit.records.at(-1)).toMatchObject({ detail: { leftOver: name, cleanupError: 'ThrottlingException: Rate exceeded' } });
  });
});
