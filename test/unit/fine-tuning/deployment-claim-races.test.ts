import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, CreateTrainingJobCommand, DescribeEndpointCommand, DescribeTrainingJobCommand, SageMakerClient, StopTrainingJobCommand, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { legacyFineTunedModelId, type FineTuningJob } from '../../../lib/fine-tuning.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { FineTuningService } from '../../../lambdas/fine-tuning/fine-tuning-service.js';
import { MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import { memoryTenantModels } from '../../../lambdas/fine-tuning/stores/tenant-models.js';
import { TrainingEvents, type TrainingStateChange } from '../../../lambdas/fine-tuning/training-events.js';
import { MemoryAuditSink, type AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { ACCOUNT, completedEvent, runningJob, sageMaker } from '../../support/fine-tuning-deployment.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';
import { gate, type Gate } from '../../support/gate.js';

/**
 * A deployment's claim (`deploying`, training-events.ts) against the other writers of a job outside
 * any offboarding: SageMaker's other state-change events (EventBridge delivers them in no guaranteed
 * order, each to its own invocation) and the tenant's own cancel, then a job reusing the suffix.
 * SageMaker is a small stateful fake behind aws-sdk-client-mock; its CreateModel pauses on a gate the
 * test releases (no sleeps); jobs and registry are the in-memory stores (every read current).
 */
const sm = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);

let endpoints: Map<string, string>;
let trainingJobs: Map<string, string>;
let createModelGate: Gate | undefined;

let jobs: MemoryJobStore;
let registry: MemoryStore;
const tenant = () => registry.getTenant('acme') as Promise<TenantRecord>;
const events = () => new TrainingEvents({ config: DEFAULT_CONFIG, jobs, tenants: memoryTenantModels(registry), audit: new MemoryAuditSink(), sageMaker });

const jobId = (c: string) => `ftjob-${c.repeat(24)}`;
const job = (c: string, extra: Partial<FineTuningJob> = {}) => runningJob(jobId(c), extra);
const change = (j: FineTuningJob, status: TrainingStateChange['TrainingJobStatus']): TrainingStateChange => (status === 'Completed' ? completedEvent(j) : {
  TrainingJobName: j.trainingJobName, TrainingJobStatus: status, ...(status === 'Failed' ? { FailureReason: 'late' } : {}),
});

/** Handles a Completed event up to its CreateModel, paused there (the claim written, the tenant read ACTIVE). */
async function deploymentPausedAtCreateModel(j: FineTuningJob, eventId: string) {
  createModelGate = gate();
  const paused = createModelGate;
  const deployment = events().handle(change(j, 'Completed'), ACCOUNT, eventId);
  await paused.reached;
  expect((await jobs.get('acme', j.id))!.deploying).toBe(eventId);
  return { deployment, release: () => paused.release() };
}

beforeEach(() => {
  sm.reset();
  endpoints = new Map();
  trainingJobs = new Map();
  createModelGate = undefined;
  jobs = new MemoryJobStore();
  registry = new MemoryStore();
  registry.putTenant(trainedTenant('acme', 'enterprise', ACCOUNT));
  sm.on(CreateTrainingJobCommand).callsFake(async (input) => { trainingJobs.set(input.TrainingJobName, 'InProgress'); return { TrainingJobArn: `arn:${input.TrainingJobName}` }; });
  sm.on(StopTrainingJobCommand).callsFake(async (input) => {
    const s = trainingJobs.get(input.TrainingJobName);
    if (s !== 'InProgress') throw Object.assign(new Error(`The request was rejected because the training job is in status ${s}.`), { name: 'ValidationException' });
    trainingJobs.set(input.TrainingJobName, 'Stopping');
    return {};
  });
  sm.on(DescribeTrainingJobCommand).callsFake(async (input) => {
    const s = trainingJobs.get(input.TrainingJobName);
    if (!s) throw Object.assign(new Error(`Could not find training job "${input.TrainingJobName}".`), { name: 'ValidationException' });
    return { TrainingJobName: input.TrainingJobName, TrainingJobStatus: s };
  });
  sm.on(CreateModelCommand).callsFake(async () => { const g = createModelGate; createModelGate = undefined; if (g) await g.wait(); return {}; });
  sm.on(CreateEndpointConfigCommand).resolves({});
  // The endpoint in service at once (as moto's): these races are the claim's; the wait for a Creating endpoint is endpoint-events.test.ts's.
  sm.on(CreateEndpointCommand).callsFake(async (input) => { endpoints.set(input.EndpointName!, 'InService'); return {}; });
  sm.on(DescribeEndpointCommand).callsFake(async (input) => {
    const s = endpoints.get(input.EndpointName!);
    if (!s) throw Object.assign(new Error('Could not find endpoint.'), { name: 'ValidationException' });
    return { EndpointName: input.EndpointName, EndpointStatus: s };
  });
});

describe('a state-change event handled while a deployment holds its job', () => {
  it('a late InProgress event (delivered after Completed) does not move the claimed job: the deployment ends it succeeded and its slot is given back', async () => {
    // GIVEN a job still queued (its first InProgress event not handled yet) whose Completed event is deploying it, paused at CreateModel
    const j = job('a', { status: 'queued' });
    await jobs.create(j, 1);
    const { deployment, release } = await deploymentPausedAtCreateModel(j, 'event-completed');
    // WHEN the InProgress event is handled now (EventBridge keeps no order), then the deployment goes on
    const late = await events().handle(change(j, 'InProgress'), ACCOUNT, 'event-in-progress');
    release();
    await deployment;
    // THEN the job is succeeded with its model (the old code: left running with no claim, forever, holding the tier's one slot)
    expect(late).toBe('stale');
    const after = await jobs.get('acme', j.id);
    expect(after).toMatchObject({ status: 'succeeded', fineTunedModel: legacyFineTunedModelId(j.model, 'acme', 'support') });
    expect(after!.deploying).toBeUndefined();
    await expect(jobs.create(job('b', { status: 'validating_files' }), 1)).resolves.toBeUndefined();
  });

  it.each(['Failed', 'Stopped'] as const)('a %s event for a claimed job leaves it to its deployment (the job does not end failed or cancelled beside a listed, billed model)', async (status) => {
    const j = job('c');
    await jobs.create(j, 1);
    const { deployment, release } = await deploymentPausedAtCreateModel(j, 'event-completed');
    expect(await events().handle(change(j, status), ACCOUNT, `event-${status}`)).toBe('stale');
    release();
    expect(await deployment).toBe('succeeded');
    expect(await jobs.get('acme', j.id)).toMatchObject({ status: 'succeeded' });
    expect((await tenant()).fineTunedModels?.map((m) => m.id)).toEqual([legacyFineTunedModelId(j.model, 'acme', 'support')]);
  });
});

describe('the tenant\'s cancel racing a deployment, then a job reusing the suffix', () => {
  const caller = async (role: Caller['role'] = 'developer'): Promise<Caller> => ({ tenantId: 'acme', userId: 'dev@acme', role, tenant: await tenant() });
  const service = () => new FineTuningService({ config: DEFAULT_CONFIG, jobs, sageMaker, models: memoryTenantModels(registry) });
  const call = async (method: string, path: string, body?: unknown) => service().handle({ method, path, query: {}, body: body === undefined ? undefined : JSON.stringify(body) }, await caller(), {} as AuditRecord)
    .then((r) => JSON.parse(r.body as string), (e: { status: number; code: string }) => ({ status: e.status, code: e.code }));

  it('the tenant\'s cancel of a job its deployment holds is refused (400 job_not_cancellable): the job ends succeeded with its listed model, not cancelled beside it', async () => {
    const a = job('9');
    await jobs.create(a, 4);
    trainingJobs.set(a.trainingJobName, 'Completed');
    const { deployment, release } = await deploymentPausedAtCreateModel(a, 'event-9');
    // WHEN the tenant cancels it meanwhile (the old code: 200 cancelled, and the deployment listed the model all the same)
    expect(await call('POST', `/v1/fine_tuning/jobs/${a.id}/cancel`)).toEqual({ status: 400, code: 'job_not_cancellable' });
    release();
    expect(await deployment).toBe('succeeded');
    expect(await jobs.get('acme', a.id)).toMatchObject({ status: 'succeeded', fineTunedModel: legacyFineTunedModelId(a.model, 'acme', 'support') });
  });

  it('a cancel that read the job before the claim and wrote after it is refused as well (not a 200 with the job still running)', async () => {
    const a = job('8');
    await jobs.create(a, 4);
    trainingJobs.set(a.trainingJobName, 'InProgress');
    // the cancel's StopTrainingJob is answered after the training completed (the cancel's Describe saw it InProgress) and the deployment claimed the job
    let claimed!: Promise<unknown>;
    sm.on(StopTrainingJobCommand).callsFake(async () => {
      trainingJobs.set(a.trainingJobName, 'Completed');
      const { deployment, release } = await deploymentPausedAtCreateModel(a, 'event-8');
      claimed = deployment;
      release();
      throw Object.assign(new Error('The request was rejected because the training job is in status Completed.'), { name: 'ValidationException' });
    });
    expect(await call('POST', `/v1/fine_tuning/jobs/${a.id}/cancel`)).toEqual({ status: 400, code: 'job_not_cancellable' });
    expect(await claimed).toBe('succeeded');
  });

  it.each(['Completed', 'Failed'] as const)('a cancel of a job whose training job is %s at SageMaker, its event not handled yet, is refused (400 job_not_cancellable): the event settles the job', async (state) => {
    // GIVEN a job the record has running, whose training job SageMaker has ended (its state-change event still on its way)
    const a = job('7');
    await jobs.create(a, 4);
    trainingJobs.set(a.trainingJobName, state);
    // WHEN the tenant cancels it: refused, nothing changed (the old code: StopTrainingJob's ValidationException swallowed, the job
    // recorded cancelled, so the Completed event deployed nothing after a training that ran to its end, billed; a Failed one's reason hidden)
    expect(await call('POST', `/v1/fine_tuning/jobs/${a.id}/cancel`)).toEqual({ status: 400, code: 'job_not_cancellable' });
    expect(await jobs.get('acme', a.id)).toMatchObject({ status: 'running' });
    expect(sm.commandCalls(StopTrainingJobCommand)).toHaveLength(0);
    // THEN the event settles it: the model deployed and listed, or the job failed with SageMaker's reason
    expect(await events().handle(change(a, state), ACCOUNT, 'event-7')).toBe(state === 'Completed' ? 'succeeded' : 'failed');
    expect(await jobs.get('acme', a.id)).toMatchObject(state === 'Completed' ? { status: 'succeeded', fineTunedModel: legacyFineTunedModelId(a.model, 'acme', 'support') } : { status: 'failed', error: { message: 'late' } });
  });

  it('a cancel whose StopTrainingJob is refused because the training completed since the Describe is refused too; one still in progress is stopped and cancelled', async () => {
    const a = job('6');
    await jobs.create(a, 4);
    trainingJobs.set(a.trainingJobName, 'InProgress');
    // SageMaker completes the training between the cancel's Describe and its Stop
    sm.on(StopTrainingJobCommand).callsFakeOnce(async (input) => {
      trainingJobs.set(input.TrainingJobName, 'Completed');
      throw Object.assign(new Error('The request was rejected because the training job is in status Completed.'), { name: 'ValidationException' });
    });
    expect(await call('POST', `/v1/fine_tuning/jobs/${a.id}/cancel`)).toEqual({ status: 400, code: 'job_not_cancellable' });
    expect(await jobs.get('acme', a.id)).toMatchObject({ status: 'running' });
    // a training job still in progress is stopped, the job cancelled
    const b = job('5', { suffix: 'other' });
    await jobs.create(b, 4);
    trainingJobs.set(b.trainingJobName, 'InProgress');
    expect(await call('POST', `/v1/fine_tuning/jobs/${b.id}/cancel`)).toMatchObject({ id: b.id, status: 'cancelled' });
    expect(sm.commandCalls(StopTrainingJobCommand).map((c) => c.args[0].input.TrainingJobName)).toEqual([a.trainingJobName, b.trainingJobName]);
  });

  it('a legacy model listed for a job cancelled while it was deploying leaves its suffix usable: a new job of the suffix deploys under its own model id, both listed', async () => {
    // GIVEN job A (recorded before model ids had a job part) cancelled while its deployment went through, its model
    // ft:<base>:acme:support listed and its endpoint running
    const a = job('d', { status: 'cancelled' });
    await jobs.create(a, 4);
    const legacy = legacyFineTunedModelId(a.model, 'acme', 'support');
    registry.putTenant({ ...(await tenant()), fineTunedModels: [{ id: legacy, baseModel: a.model, jobId: a.id, endpointName: a.trainingJobName, createdAt: '2026-12-01T00:00:00.000Z' }] });
    endpoints.set(a.trainingJobName, 'InService');
    // WHEN the tenant creates a job with the same suffix (the old code: 400 suffix_in_use)
    const created = await call('POST', '/v1/fine_tuning/jobs', { model: a.model, training_file: 'training-data/a.jsonl', suffix: 'support' });
    expect(created).toMatchObject({ object: 'fine_tuning.job', status: 'queued', user_provided_suffix: 'support' });
    // THEN its model id has its own job part, and its deployment lists it beside the legacy one, each on its own endpoint
    const b = (await jobs.get('acme', created.id))!;
    expect(b.modelId).toBe(`ft:${a.model}:acme:support:${b.id.slice(-8)}`);
    expect(await events().handle(change(b, 'Completed'), ACCOUNT, 'event-b')).toBe('succeeded');
    expect(await jobs.get('acme', b.id)).toMatchObject({ status: 'succeeded', fineTunedModel: b.modelId });
    expect((await tenant()).fineTunedModels?.map((m) => [m.id, m.endpointName])).toEqual([[legacy, a.trainingJobName], [b.modelId, b.trainingJobName]]);
  });

  it('a deployment whose model id the registry already lists for another job creates nothing (fails, named) instead of an endpoint nothing lists', async () => {
    // GIVEN the registry lists model ft:...:support for job A (its endpoint A), and job B of the same suffix completes
    const a = job('e', { status: 'cancelled' });
    const b = job('f');
    await jobs.create(a, 4);
    await jobs.create(b, 4);
    registry.putTenant({ ...(await tenant()), fineTunedModels: [{ id: legacyFineTunedModelId(a.model, 'acme', 'support'), baseModel: a.model, jobId: a.id, endpointName: a.trainingJobName, createdAt: '2026-12-01T00:00:00.000Z' }] });
    // WHEN B's Completed event is handled
    const outcome = await events().handle(change(b, 'Completed'), ACCOUNT, 'event-b');
    // THEN nothing created for B; the job failed, saying why; the registry unchanged
    expect(outcome).toBe('failed');
    expect(sm.commandCalls(CreateEndpointCommand)).toHaveLength(0);
    expect(await jobs.get('acme', b.id)).toMatchObject({ status: 'failed', error: { code: 'deployment_failed', message: expect.stringMatching(/already lists .*ft:llama-3.1-8b-instruct:acme:support.* job ftjob-e/) } });
    expect((await tenant()).fineTunedModels).toHaveLength(1);
  });
});
