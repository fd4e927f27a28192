import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand,
  DescribeEndpointCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { EndpointEvents } from '../../../lambdas/fine-tuning/endpoint-events.js';
import { TrainingEvents } from '../../../lambdas/fine-tuning/training-events.js';
import { ACCOUNT, completedEvent, deploymentWorld, runningJob, validationError as refused, type DeploymentWorld } from '../../support/fine-tuning-deployment.js';

/**
 * A deployment SageMaker refuses part-way (training-events.ts): what it created is deleted (no model lists it, so
 * nothing else would until the tenant's offboarding), and the job's events say what happened, in order: its
 * training completed, then the deployment failed, then what was cleaned up. SageMaker is a small stateful fake
 * (test/support/fine-tuning-deployment.ts).
 */
const sm = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const id = `ftjob-${'c'.repeat(24)}`;
const job = runningJob(id, { events: [{ id: 'ftevent-1', created_at: 1, level: 'info', message: 'Training started (Starting)' }] });
const name = job.trainingJobName;
const completed = completedEvent(job);

let world: DeploymentWorld;
let has: DeploymentWorld['has'], jobs: DeploymentWorld['jobs'], registry: DeploymentWorld['registry'], audit: DeploymentWorld['audit'];
const calls = (command: Parameters<DeploymentWorld['calls']>[0]) => world.calls(command);
const events = () => new TrainingEvents(world.deps());
const endpoints = () => new EndpointEvents(world.deps());
/** SageMaker brings the endpoint into service and says so (its "SageMaker Endpoint State Change" event, upper snake case). */
const inService = async () => {
  has.set(`endpoint/${name}`, 'InService');
  return endpoints().handle({ EndpointName: name, EndpointStatus: 'IN_SERVICE' }, ACCOUNT);
};

beforeEach(async () => {
  ({ has, jobs, registry, audit } = world = await deploymentWorld(sm, job));
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

  it('a permanent refusal after the SDK\'s own retries (an earlier attempt may have landed): the model it may have created is looked for and deleted', async () => {
    sm.on(CreateModelCommand).callsFake((input) => {
      has.set(`model/${input.ModelName}`, 'x');
      throw Object.assign(new Error('not authorized to perform: iam:PassRole'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 2 } });
    });
    expect(await events().handle(completed, ACCOUNT, 'evt-lost-p')).toBe('failed');
    expect([...has.keys()]).toEqual([]);
    const stored = (await jobs.get('acme', id))!;
    expect(stored.events[0]!.message).toBe(`Deleted what the deployment had created: model/${name}`);
    expect(stored.deploying).toBeUndefined();
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

/**
 * A transient error (a throttling, a 5xx, a timeout) at the deployment ends no job: its training completed and was billed.
 * The job keeps its claim and what was created, the error goes back to Lambda (rethrown), and its retry of the same event
 * (or a redrive from the dead-letter queue: the same event, the same id) resumes the deployment where it stopped.
 */
describe('a transient error at the deployment', () => {
  const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 3 } });
  const timedOut = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
  const serverFault = () => Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500, attempts: 1 } });
  /** The create fails once with `error` (after doing its work when `lands`), then behaves as SageMaker does. */
  const once = (command: typeof CreateModelCommand | typeof CreateEndpointConfigCommand | typeof CreateEndpointCommand, type: string, status: string, error: () => Error, lands: boolean) => {
    const create = world.create(type, status);
    let failed = false;
    sm.on(command as typeof CreateModelCommand).callsFake((input: Record<string, unknown>) => {
      if (failed) return create(input);
      failed = true;
      if (lands) create(input);
      throw error();
    });
  };
  const timeline = async () => (await jobs.get('acme', id))!.events.map((e) => [e.level, e.message.replace(/ \(.*/s, '')]);

  it('CreateModel\'s answer lost (a timeout, a throttling after the SDK\'s retries, a 5xx): the job stays running with its claim, nothing is deleted; the retry reuses the model and deploys', async () => {
    for (const [i, error] of [timedOut, throttled, serverFault].entries()) {
      // A fresh job of the same name for each error
      if (i > 0) ({ has, jobs, registry, audit } = world = await deploymentWorld(sm, job));
      once(CreateModelCommand, 'model', 'x', error, true);
      const token = `evt-transient-${i}`;

      // WHEN the first delivery meets the transient error THEN it is rethrown (Lambda retries the event), the job kept
      await expect(events().handle(completed, ACCOUNT, token)).rejects.toMatchObject({ name: error().name });
      let stored = (await jobs.get('acme', id))!;
      expect(stored).toMatchObject({ status: 'running', deploying: token });
      expect(stored.error).toBeUndefined();
      expect([...has.keys()]).toEqual([`model/${name}`]);
      expect(sm.commandCalls(DeleteModelCommand)).toHaveLength(0);
      // ...and the tenant reads why it is still running
      expect(await timeline()).toEqual([['warn', 'Deploying the model was interrupted'], ['info', 'Training completed'], ['info', 'Training started']]);
      expect(stored.events[0]!.message).toContain(`${error().name}: ${error().message}`);
      expect(audit.records.at(-1)).toMatchObject({ action: 'fine_tuning.model.deployment_interrupted', outcome: 'retrying' });

      // WHEN Lambda retries the same event THEN the claim is resumed, the model reused (not failed on), the endpoint created
      expect(await events().handle(completed, ACCOUNT, token)).toBe('running');
      // ...and once it is in service, the model deployed
      expect(await inService()).toBe('succeeded');
      stored = (await jobs.get('acme', id))!;
      expect(stored).toMatchObject({ status: 'succeeded', fineTunedModel: 'ft:llama-3.1-8b-instruct:acme:support', endpointName: name });
      expect(stored.deploying).toBeUndefined();
      expect([...has.keys()].sort()).toEqual([`endpoint-config/${name}`, `endpoint/${name}`, `model/${name}`]);
      expect(await timeline()).toEqual([
        ['info', `The job has successfully completed: model ft:llama-3.1-8b-instruct:acme:support is in service on endpoint ${name}`], ['info', `Endpoint ${name}`], ['warn', 'Deploying the model was interrupted'], ['info', 'Training completed'], ['info', 'Training started'],
      ]);
      expect((await registry.getTenant('acme'))!.fineTunedModels!.map((m) => m.endpointName)).toEqual([name]);
    }
  });

  it('the retry keeps the training\'s end the interrupted delivery recorded (an event without TrainingEndTime: when it was seen), not its own later time', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-12-03T10:00:00Z'));
      once(CreateEndpointConfigCommand, 'endpoint-config', 'x', throttled, false);
      await expect(events().handle(completed, ACCOUNT, 'evt-end')).rejects.toMatchObject({ name: 'ThrottlingException' });
      const end = Date.parse('2026-12-03T10:00:00Z') / 1000;
      expect((await jobs.get('acme', id))!.trainingEndedAt).toBe(end);
      vi.setSystemTime(new Date('2026-12-03T10:03:00Z')); // Lambda's second retry, three minutes on
      expect(await events().handle(completed, ACCOUNT, 'evt-end')).toBe('running');
      expect(await inService()).toBe('succeeded');
      expect((await jobs.get('acme', id))!.trainingEndedAt).toBe(end);
    } finally {
      vi.useRealTimers();
    }
  });

  it('CreateEndpoint\'s answer lost (the endpoint exists, Creating): the retry finds it (DescribeEndpoint) and follows it, not created twice, and lists the model', async () => {
    once(CreateEndpointCommand, 'endpoint', 'Creating', timedOut, true);
    await expect(events().handle(completed, ACCOUNT, 'evt-ep')).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await jobs.get('acme', id))!).toMatchObject({ status: 'running', deploying: 'evt-ep' });
    expect([DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand].flatMap((c) => calls(c))).toEqual([]);

    expect(await events().handle(completed, ACCOUNT, 'evt-ep')).toBe('running');
    // THEN one CreateEndpoint in all: the retry described the endpoint and followed it (and looked once more, still Creating)
    expect(calls(CreateEndpointCommand)).toHaveLength(1);
    expect(calls(DescribeEndpointCommand)).toEqual([{ EndpointName: name }, { EndpointName: name }]);
    expect((await registry.getTenant('acme'))!.fineTunedModels ?? []).toEqual([]);
    expect(await inService()).toBe('succeeded');
    expect((await registry.getTenant('acme'))!.fineTunedModels!.map((m) => m.endpointName)).toEqual([name]);
    expect((await jobs.get('acme', id))!.deploying).toBeUndefined();
  });

  it('a throttled CreateEndpointConfig: the retry reuses the model ("already exists" is its own), creates the rest once', async () => {
    once(CreateEndpointConfigCommand, 'endpoint-config', 'x', throttled, false);
    await expect(events().handle(completed, ACCOUNT, 'evt-cfg')).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(await events().handle(completed, ACCOUNT, 'evt-cfg')).toBe('running');
    expect(calls(CreateModelCommand)).toHaveLength(2); // the second answered "already exists": reused
    expect(calls(CreateEndpointConfigCommand)).toHaveLength(2);
    expect(calls(CreateEndpointCommand)).toHaveLength(1);
    expect([DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand].flatMap((c) => calls(c))).toEqual([]);
  });

  it('the endpoint an earlier delivery created failed: the retry fails the job and deletes the endpoint, its config and its model', async () => {
    once(CreateEndpointCommand, 'endpoint', 'Creating', timedOut, true);
    await expect(events().handle(completed, ACCOUNT, 'evt-epf')).rejects.toMatchObject({ name: 'TimeoutError' });
    has.set(`endpoint/${name}`, 'Failed');
    expect(await events().handle(completed, ACCOUNT, 'evt-epf')).toBe('failed');
    const stored = (await jobs.get('acme', id))!;
    expect(stored.error!.message).toBe(`could not deploy the model: EndpointNotUsable: endpoint ${name}, created by an earlier delivery of this deployment, is Failed`);
    expect([...has.keys()]).toEqual([]);
    expect(calls(CreateEndpointCommand)).toHaveLength(1);
    expect(await timeline()).toEqual([
      ['info', `Deleted what the deployment had created: endpoint/${name}, endpoint-config/${name}, model/${name}`],
      ['error', 'could not deploy the model: EndpointNotUsable: endpoint ' + name + ', created by an earlier delivery of this deployment, is Failed'],
      ['warn', 'Deploying the model was interrupted'], ['info', 'Training completed'], ['info', 'Training started'],
    ]);
  });

  it('the endpoint an earlier delivery created is OutOfService: the retry follows it (no end: SageMaker says only "not available to take incoming requests"), nothing failed or deleted', async () => {
    once(CreateEndpointCommand, 'endpoint', 'Creating', timedOut, true);
    await expect(events().handle(completed, ACCOUNT, 'evt-oos')).rejects.toMatchObject({ name: 'TimeoutError' });
    has.set(`endpoint/${name}`, 'OutOfService');
    // before: failed, "EndpointNotUsable: ... is OutOfService", the endpoint, its config and its model deleted
    expect(await events().handle(completed, ACCOUNT, 'evt-oos')).toBe('running');
    const stored = (await jobs.get('acme', id))!;
    expect(stored).toMatchObject({ status: 'running', deploying: 'evt-oos', endpointName: name, awaitingEndpointSince: expect.any(Number) });
    expect(stored.error).toBeUndefined();
    expect(calls(CreateEndpointCommand)).toHaveLength(1);
    expect([DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand].flatMap((c) => calls(c))).toEqual([]);
  });

  it('a permanent refusal on the retry still fails the job and deletes what the earlier delivery created', async () => {
    once(CreateEndpointConfigCommand, 'endpoint-config', 'x', serverFault, false);
    await expect(events().handle(completed, ACCOUNT, 'evt-perm')).rejects.toMatchObject({ name: 'InternalFailure' });
    sm.on(CreateEndpointConfigCommand).rejects(Object.assign(new Error('The account-level service limit is 0'), { name: 'ResourceLimitExceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    expect(await events().handle(completed, ACCOUNT, 'evt-perm')).toBe('failed');
    const stored = (await jobs.get('acme', id))!;
    expect(stored).toMatchObject({ status: 'failed', error: { code: 'deployment_failed' } });
    expect(stored.deploying).toBeUndefined();
    expect([...has.keys()]).toEqual([]);
    expect(stored.events.map((e) => e.message.replace(/[:(].*/s, '').trim())).toEqual(['Deleted what the deployment had created', 'could not deploy the model', 'Deploying the model was interrupted', 'Training completed', 'Training started']);
  });

  it('the offboarding\'s retirement cancels the job between two deliveries: the retry creates nothing more and lets go of its claim', async () => {
    once(CreateEndpointConfigCommand, 'endpoint-config', 'x', throttled, false);
    await expect(events().handle(completed, ACCOUNT, 'evt-off')).rejects.toMatchObject({ name: 'ThrottlingException' });
    // The retirement waits on the claim and cancels the job as it cancels an active one (a write conditional on the claim it read)
    const held = (await jobs.get('acme', id))!;
    expect(held.deploying).toBe('evt-off');
    expect(await jobs.update({ ...held, status: 'cancelled', finishedAt: 2, events: [{ id: 'ftevent-x', created_at: 2, level: 'warn', message: 'Job cancelled: the tenant is being offboarded (x)' }, ...held.events] }, 'running')).toBe(true);
    registry.putTenant({ ...(await registry.getTenant('acme'))!, status: 'OFFBOARDING' });

    expect(await events().handle(completed, ACCOUNT, 'evt-off')).toBe('stale');
    expect((await jobs.get('acme', id))!).toMatchObject({ status: 'cancelled' });
    expect((await jobs.get('acme', id))!.deploying).toBeUndefined(); // the retirement's next look finds no claim, and deletes the model
    expect(calls(CreateEndpointConfigCommand)).toHaveLength(1);
    expect([...has.keys()]).toEqual([`model/${name}`]);
  });

  it('the tenant is being offboarded at the retry: nothing more is created, the job cancelled with the offboarding\'s event (the retirement deletes the model)', async () => {
    once(CreateEndpointConfigCommand, 'endpoint-config', 'x', throttled, false);
    await expect(events().handle(completed, ACCOUNT, 'evt-off2')).rejects.toMatchObject({ name: 'ThrottlingException' });
    registry.putTenant({ ...(await registry.getTenant('acme'))!, status: 'OFFBOARDING' });
    expect(await events().handle(completed, ACCOUNT, 'evt-off2')).toBe('cancelled');
    const stored = (await jobs.get('acme', id))!;
    expect(stored.deploying).toBeUndefined();
    expect(stored.events.map((e) => e.message.replace(/ \(.*/s, ''))).toEqual(['Job cancelled: the tenant is being offboarded: training completed, the model was not deployed', 'Deploying the model was interrupted', 'Training completed', 'Training started']);
  });

  it('the job cancelled while the interrupted delivery ran: no error goes back, the claim goes', async () => {
    sm.on(CreateEndpointConfigCommand).callsFake(async () => {
      const current = (await jobs.get('acme', id))!;
      await jobs.update({ ...current, status: 'cancelled', finishedAt: 2 }, 'running');
      throw throttled();
    });
    expect(await events().handle(completed, ACCOUNT, 'evt-race')).toBe('stale');
    expect((await jobs.get('acme', id))!).toMatchObject({ status: 'cancelled' });
    expect((await jobs.get('acme', id))!.deploying).toBeUndefined();
  });
});

describe('isTransientError (the SDK\'s own classification, lambdas/shared/errors.ts)', () => {
  it('throttling, 5xx and server faults, timeouts and broken connections are transient; refusals are not', async () => {
    const { isTransientError: isTransient } = await import('../../../lambdas/shared/errors.js');
    const e = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });
    for (const t of [e('ThrottlingException'), e('X', { $retryable: { throttling: true } }), e('InternalFailure', { $fault: 'server' }), e('ServiceUnavailable', { $metadata: { httpStatusCode: 503 } }),
      e('X', { $metadata: { httpStatusCode: 429 } }), e('TimeoutError'), e('Error', { code: 'ECONNRESET' })]) expect(isTransient(t), t.name).toBe(true);
    for (const p of [e('ValidationException', { $fault: 'client', $metadata: { httpStatusCode: 400 } }), e('AccessDeniedException', { $fault: 'client' }), e('ResourceLimitExceeded', { $fault: 'client', $metadata: { httpStatusCode: 400 } }),
      e('ResourceInUse'), undefined, 'text']) expect(isTransient(p)).toBe(false);
  });
});
