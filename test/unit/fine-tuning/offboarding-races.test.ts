import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, CreateTrainingJobCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand,
  DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, DescribeTrainingJobCommand, SageMakerClient, StopTrainingJobCommand, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { trainingJobName, type FineTuningJob } from '../../../lib/fine-tuning.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { FineTuningService } from '../../../lambdas/fine-tuning/fine-tuning-service.js';
import { deleteFineTunedModel } from '../../../lambdas/fine-tuning/model-deletion.js';
import { RETIRE_ACTION, retireFineTunedModels, type RetireProgress } from '../../../lambdas/fine-tuning/retire-fine-tuned-models.js';
import { MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import { memoryTenantModels } from '../../../lambdas/fine-tuning/stores/tenant-models.js';
import { TrainingEvents } from '../../../lambdas/fine-tuning/training-events.js';
import { MemoryAuditSink, type AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { ACCOUNT, completedEvent as completed, notFound, runningJob, sageMaker } from '../../support/fine-tuning-deployment.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';
import { gate, type Gate } from '../../support/gate.js';

/**
 * The open races of the offboarding's *Retire fine-tuned models* with the fine-tuning create paths
 * (docs/fine-tuning.md, *At offboarding*), each driven deterministically: SageMaker is a small stateful fake
 * behind aws-sdk-client-mock whose handlers pause on gates the test releases in order (no sleeps),
 * the registry and jobs table are the in-memory stores (every read current, as a strongly consistent
 * DynamoDB read is). The offboarding is what its workflow does: the tenant OFFBOARDING, then the
 * retirement called until it answers COMPLETE (each "30 s" between calls is `advance()`: SageMaker
 * finishes what it was creating, deleting or stopping). Each test checks what is left in the
 * tenant's account once everything has run: nothing billed, nothing in its subnets.
 */
const EXECUTION = 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:req-1';
const sm = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
/** What IAM answers for a Delete of a name SageMaker does not have: it carries no tag (the launcher's aws:ResourceTag condition). */
const accessDenied = () => Object.assign(new Error('not authorized to perform this action: no identity-based policy allows it'), { name: 'AccessDeniedException' });

/** SageMaker in the tenant's account: what exists, and in which state. */
let trainingJobs: Map<string, string>;
let endpoints: Map<string, string>;
let configs: Set<string>;
let models: Set<string>;
/** SageMaker's time passing (the workflow's 30 s between calls). */
function advance() {
  for (const [n, s] of endpoints) if (s === 'Creating') endpoints.set(n, 'InService'); else if (s === 'Deleting') endpoints.delete(n);
  for (const [n, s] of trainingJobs) if (s === 'Stopping') trainingJobs.set(n, 'Stopped');
}

let gates: Partial<Record<string, Gate>>;
const pause = async (command: string) => {
  const g = gates[command];
  if (g) {
    delete gates[command]; // one call pauses, the next ones run
    await g.wait();
  }
};

let jobs: MemoryJobStore;
let registry: MemoryStore;
let audit: MemoryAuditSink;
const tenant = () => registry.getTenant('acme') as Promise<TenantRecord>;
const setStatus = async (status: TenantRecord['status']) => registry.putTenant({ ...(await tenant()), status });
const events = () => new TrainingEvents({ config: DEFAULT_CONFIG, jobs, tenants: memoryTenantModels(registry), audit, sageMaker });
const retire = (previous: RetireProgress | Record<string, never>) =>
  retireFineTunedModels({ jobs, tenants: { getTenant: (id) => registry.getTenant(id) }, sageMaker, audit }, { action: RETIRE_ACTION, tenantId: 'acme', executionArn: EXECUTION, requestId: 'req-1', previous });

/**
 * The offboarding's retirement loop as its workflow runs it: called until COMPLETE (at most `max` calls),
 * `between(i)` after call i when it was not COMPLETE, then SageMaker's time passes.
 */
async function offboard(between: (i: number) => Promise<void> = async () => {}, max = 12): Promise<RetireProgress[]> {
  await setStatus('OFFBOARDING'); // Begin offboarding, before the retirement step
  const answers: RetireProgress[] = [];
  let previous: RetireProgress | Record<string, never> = {};
  for (let i = 0; i < max; i++) {
    const out = await retire(previous);
    answers.push(out);
    if (out.state === 'COMPLETE') return answers;
    await between(i);
    advance();
    previous = out;
  }
  return answers;
}

const left = () => ({
  trainingJobs: [...trainingJobs].filter(([, s]) => s === 'InProgress' || s === 'Stopping').map(([n]) => n),
  endpoints: [...endpoints.keys()], configs: [...configs], models: [...models],
});
const nothingLeft = { trainingJobs: [], endpoints: [], configs: [], models: [] };

const jobId = (c: string) => `ftjob-${c.repeat(24)}`;
const job = (c: string, extra: Partial<FineTuningJob> = {}) => runningJob(jobId(c), { suffix: c, ...extra });

beforeEach(() => {
  sm.reset();
  trainingJobs = new Map();
  endpoints = new Map();
  configs = new Set();
  models = new Set();
  gates = {};
  jobs = new MemoryJobStore();
  audit = new MemoryAuditSink();
  registry = new MemoryStore();
  registry.putTenant(trainedTenant('acme', 'enterprise', ACCOUNT));

  sm.on(CreateTrainingJobCommand).callsFake(async (input) => { await pause('CreateTrainingJob'); trainingJobs.set(input.TrainingJobName, 'InProgress'); return { TrainingJobArn: `arn:${input.TrainingJobName}` }; });
  sm.on(DescribeTrainingJobCommand).callsFake(async (input) => {
    const s = trainingJobs.get(input.TrainingJobName);
    if (!s) throw notFound('training job');
    return { TrainingJobName: input.TrainingJobName, TrainingJobStatus: s };
  });
  sm.on(StopTrainingJobCommand).callsFake(async (input) => {
    const s = trainingJobs.get(input.TrainingJobName);
    if (s === undefined) throw accessDenied();
    if (s !== 'InProgress') throw Object.assign(new Error(`The request was rejected because the training job is in status ${s}.`), { name: 'ValidationException' });
    trainingJobs.set(input.TrainingJobName, 'Stopping');
    return {};
  });
  sm.on(CreateModelCommand).callsFake(async (input) => { await pause('CreateModel'); models.add(input.ModelName!); return {}; });
  sm.on(CreateEndpointConfigCommand).callsFake(async (input) => { configs.add(input.EndpointConfigName!); return {}; });
  sm.on(CreateEndpointCommand).callsFake(async (input) => { await pause('CreateEndpoint'); endpoints.set(input.EndpointName!, 'Creating'); return {}; });
  sm.on(DescribeEndpointCommand).callsFake(async (input) => {
    const s = endpoints.get(input.EndpointName!);
    if (!s) throw notFound('endpoint');
    return { EndpointName: input.EndpointName, EndpointStatus: s };
  });
  sm.on(DescribeEndpointConfigCommand).callsFake(async (input) => { if (!configs.has(input.EndpointConfigName!)) throw notFound('endpoint configuration'); return {}; });
  sm.on(DescribeModelCommand).callsFake(async (input) => { if (!models.has(input.ModelName!)) throw notFound('model'); return {}; });
  sm.on(DeleteEndpointCommand).callsFake(async (input) => {
    await pause('DeleteEndpoint');
    const s = endpoints.get(input.EndpointName!);
    if (s === undefined) throw accessDenied();
    if (s !== 'InService' && s !== 'Failed') throw Object.assign(new Error(`Cannot update in-progress endpoint "${input.EndpointName}".`), { name: 'ValidationException' });
    endpoints.set(input.EndpointName!, 'Deleting');
    return {};
  });
  sm.on(DeleteEndpointConfigCommand).callsFake(async (input) => { await pause('DeleteEndpointConfig'); if (!configs.delete(input.EndpointConfigName!)) throw accessDenied(); return {}; });
  sm.on(DeleteModelCommand).callsFake(async (input) => { await pause('DeleteModel'); if (!models.delete(input.ModelName!)) throw accessDenied(); return {}; });
});

describe('race C: a deployment (Completed event) that read the tenant before the offboarding began', () => {
  it('its endpoint, created after the retirement\'s calls had found nothing, is waited for and deleted before the retirement answers COMPLETE', async () => {
    // GIVEN a job whose training completed: its Completed event is being handled, the tenant read ACTIVE, paused before its first SageMaker create
    const j = job('a');
    await jobs.create(j, 4);
    trainingJobs.set(j.trainingJobName, 'Completed');
    gates.CreateModel = gate();
    const paused = gates.CreateModel;
    const deployment = events().handle(completed(j), ACCOUNT, 'event-1');
    await paused.reached;

    // WHEN the offboarding begins and its retirement runs; the deployment goes on after the retirement's second call
    let resumed = false;
    const answers = await offboard(async (i) => {
      if (i !== 1) return;
      paused.release();
      await deployment;
      resumed = true;
    });
    // (the old code answered COMPLETE at its second call, the deployment still paused: it resumes here)
    if (!resumed) {
      paused.release();
      await deployment;
    }

    // THEN the retirement answered COMPLETE only once the endpoint the deployment made was gone, and nothing is left
    expect(answers.at(-1)!.state).toBe('COMPLETE');
    expect(left()).toEqual(nothingLeft);
    expect(answers[0]).toMatchObject({ state: 'IN_PROGRESS', deployments: [j.trainingJobName] });
    expect(answers.some((a) => a.deleted.includes(`endpoint/${j.trainingJobName}`))).toBe(true);
    // the job: cancelled by the offboarding, its claim gone
    const after = await jobs.get('acme', j.id);
    expect(after?.status).toBe('cancelled');
    expect(after?.deploying).toBeUndefined();
  });

  it('a deployment whose claim comes after the retirement cancelled its job creates nothing', async () => {
    // GIVEN a Completed event handled up to its claim (the job read running), paused there
    const j = job('b');
    await jobs.create(j, 4);
    trainingJobs.set(j.trainingJobName, 'Completed');
    const claimGate = gate();
    const claim = jobs.claimDeployment.bind(jobs);
    jobs.claimDeployment = async (...args) => { await claimGate.wait(); return claim(...args); };
    const deployment = events().handle(completed(j), ACCOUNT, 'event-2');
    await claimGate.reached;
    // WHEN the retirement runs to COMPLETE, then the deployment goes on
    const answers = await offboard();
    claimGate.release();
    // THEN its claim is refused (the job is cancelled): nothing created
    expect(await deployment).toBe('stale');
    expect(answers.at(-1)!.state).toBe('COMPLETE');
    expect(left()).toEqual(nothingLeft);
  });

  it('a deployment whose tenant read comes after OFFBOARDING was written creates nothing (the job cancelled, recorded by the retirement)', async () => {
    const j = job('c');
    await jobs.create(j, 4);
    await setStatus('OFFBOARDING');
    expect(await events().handle(completed(j), ACCOUNT, 'event-3')).toBe('cancelled');
    expect(sm.commandCalls(CreateModelCommand)).toHaveLength(0);
    const answers = await offboard();
    expect(answers.at(-1)).toMatchObject({ state: 'COMPLETE', cancelledJobs: [{ jobId: j.id, trainingJobName: j.trainingJobName }] });
  });

  it('a delivery that crashed after its claim is resumed by the redelivered event (same id): the retirement waits for it, then deletes what it made', async () => {
    const j = job('d');
    await jobs.create(j, 4);
    trainingJobs.set(j.trainingJobName, 'Completed');
    // GIVEN the first delivery died after claiming and creating the model (its CreateEndpointConfig failed: Lambda retries the event)
    sm.on(CreateEndpointConfigCommand).rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })).callsFake(async (input) => { configs.add(input.EndpointConfigName!); return {}; });
    const failed = jobs.update.bind(jobs);
    let crash = true;
    // (the delivery's next job write, which records the interruption on the job since a transient error keeps it: it dies before it)
    jobs.update = async (...args) => { if (crash) { crash = false; throw new Error('Lambda timed out'); } return failed(...args); };
    await expect(events().handle(completed(j), ACCOUNT, 'event-4')).rejects.toThrow(/timed out/);
    expect((await jobs.get('acme', j.id))!.deploying).toBe('event-4');
    // WHEN the offboarding runs, and Lambda redelivers the event after its first call
    let outcome: string | undefined;
    const answers = await offboard(async (i) => { if (i === 0) outcome = await events().handle(completed(j), ACCOUNT, 'event-4'); });
    // THEN the retirement waited for the claim, the redelivery (the job cancelled meanwhile) let go of it, and what the first delivery made is gone
    expect(answers[0]).toMatchObject({ state: 'IN_PROGRESS', deployments: [j.trainingJobName] });
    expect(outcome).toBe('stale');
    expect(answers.at(-1)!.state).toBe('COMPLETE');
    expect(left()).toEqual(nothingLeft);
  });

  it('a delivery interrupted by a transient error (throttled) keeps its claim: the retirement waits for it, the retry lets go of it, what was made is deleted', async () => {
    const j = job('e');
    await jobs.create(j, 4);
    trainingJobs.set(j.trainingJobName, 'Completed');
    sm.on(CreateEndpointConfigCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 3 } }))
      .callsFake(async (input) => { configs.add(input.EndpointConfigName!); return {}; });
    await expect(events().handle(completed(j), ACCOUNT, 'event-5')).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect((await jobs.get('acme', j.id))!).toMatchObject({ status: 'running', deploying: 'event-5' });
    let outcome: string | undefined;
    const answers = await offboard(async (i) => { if (i === 0) outcome = await events().handle(completed(j), ACCOUNT, 'event-5'); });
    expect(answers[0]).toMatchObject({ state: 'IN_PROGRESS', deployments: [j.trainingJobName] });
    expect(outcome).toBe('stale');
    expect(answers.at(-1)!.state).toBe('COMPLETE');
    expect(left()).toEqual(nothingLeft);
  });
});

describe('race D: a job created through an authorizer verdict cached before the usage key was revoked', () => {
  const caller = (t: TenantRecord): Caller => ({ tenantId: 'acme', userId: 'dev@acme', role: 'developer', tenant: t });
  const service = () => new FineTuningService({ config: DEFAULT_CONFIG, jobs, sageMaker, tenantStatus: async (id) => (await registry.getTenant(id))?.status });
  const create = async (t: TenantRecord) => service().handle(
    { method: 'POST', path: '/v1/fine_tuning/jobs', query: {}, body: JSON.stringify({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' }) },
    caller(t), {} as AuditRecord,
  );

  it('a create after the retirement ended (the caller\'s tenant record still ACTIVE) starts no training job', async () => {
    // GIVEN the request authorized with the tenant as it was before the offboarding
    const cached = await tenant();
    // WHEN the offboarding's retirement has run to COMPLETE, then the request is handled
    const answers = await offboard();
    expect(answers.at(-1)!.state).toBe('COMPLETE');
    const answer = await create(cached).catch((e: { status: number; code: string }) => e);
    // THEN refused, nothing started in the tenant's account
    expect(answer).toMatchObject({ status: 403, code: 'tenant_not_active' });
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    expect(left()).toEqual(nothingLeft);
    expect((await jobs.list('acme'))[0]).toMatchObject({ status: 'failed', error: { code: 'tenant_not_active' } });
  });

  it('a create whose CreateTrainingJob lands after the retirement cancelled its job stops it (the record wins), and the retirement saw the job', async () => {
    const cached = await tenant();
    gates.CreateTrainingJob = gate();
    const paused = gates.CreateTrainingJob;
    const request = create(cached);
    await paused.reached; // the job recorded, the tenant read ACTIVE, CreateTrainingJob sent
    const answers = await offboard();
    paused.release();
    await request;
    // the retirement had answered COMPLETE before the create landed; the creator stopped it (Stopping, then Stopped)
    expect(trainingJobs.get(answers[0].cancelledJobs[0]!.trainingJobName)).toBe('Stopping');
    advance();
    expect(answers[0].cancelledJobs).toHaveLength(1);
    expect(left()).toEqual(nothingLeft);
  });

  it('a training job whose creator died after CreateTrainingJob landed (its job cancelled by the retirement) is stopped by the retirement\'s next look', async () => {
    const cached = await tenant();
    gates.CreateTrainingJob = gate();
    const paused = gates.CreateTrainingJob;
    // the creator dies once its CreateTrainingJob is answered: its own stop never runs
    const request = create(cached);
    await paused.reached;
    let calls = 0;
    const answers = await offboard(async (i) => {
      calls = i;
      if (i === 0) {
        // after the retirement cancelled the (validating_files) job, the create lands; the creator's Lambda then dies
        jobs.update = async () => { throw new Error('Lambda timed out'); };
        paused.release();
        await request.catch(() => undefined);
        jobs.update = MemoryJobStore.prototype.update.bind(jobs);
      }
    });
    // THEN nothing runs in the tenant's subnets once the retirement answered COMPLETE: a later call stopped it
    expect(left()).toEqual(nothingLeft);
    expect(answers.at(-1)!.state).toBe('COMPLETE');
    expect(calls).toBeGreaterThan(0);
    expect(answers.slice(1).some((a) => a.stopped.length)).toBe(true);
  });
});

describe('a model deletion during the retirement', () => {
  /** A job of acme whose model is deployed and in service (its endpoint, config and model exist), and acme's record as the deletion's caller read it. */
  async function deployedInService(c: string) {
    const j = job(c, { status: 'succeeded', fineTunedModel: `ft:llama-3.1-8b-instruct:acme:${c}`, endpointName: trainingJobName('acme', jobId(c)) });
    await jobs.create(j, 4);
    const name = j.trainingJobName;
    registry.putTenant({ ...(await tenant()), fineTunedModels: [{ id: j.fineTunedModel!, baseModel: j.model, jobId: j.id, endpointName: name, createdAt: '2026-12-01T00:00:00.000Z' }] });
    endpoints.set(name, 'InService');
    configs.add(name);
    models.add(name);
    return { j, name, cached: await tenant() };
  }

  it('both deleting the endpoint at once: the one refused because the other\'s made it Deleting takes that as success', async () => {
    const { j, name, cached } = await deployedInService('f');
    // WHEN the retirement described the endpoint InService and is paused before its DeleteEndpoint, while the admin's deletion runs
    gates.DeleteEndpoint = gate();
    const paused = gates.DeleteEndpoint;
    await setStatus('OFFBOARDING');
    const first = retire({});
    await paused.reached;
    const deleted = await deleteFineTunedModel({ config: DEFAULT_CONFIG, jobs, models: memoryTenantModels(registry), sageMaker }, { tenantId: 'acme', userId: 'admin@acme', role: 'admin', tenant: cached }, j.fineTunedModel!, {} as AuditRecord);
    paused.release();
    // THEN SageMaker's "Cannot update in-progress endpoint" to the retirement is success (the endpoint is Deleting): it waits, then COMPLETE
    expect(deleted).toMatchObject({ deleted: true });
    const out = await first;
    expect(out).toMatchObject({ state: 'IN_PROGRESS', deleting: [name] });
    advance();
    expect(await retire(out)).toMatchObject({ state: 'COMPLETE' });
    expect(left()).toEqual(nothingLeft);
  });

  it('neither fails the retirement nor leaves anything: a name the other deleted between a describe and a delete is success', async () => {
    // GIVEN a deployed model, in service
    const { j, name, cached } = await deployedInService('e');
    // WHEN the retirement's call is paused between its describe of the endpoint config and its delete, and the tenant's admin deletes the model then
    gates.DeleteEndpointConfig = gate();
    const paused = gates.DeleteEndpointConfig;
    await setStatus('OFFBOARDING');
    const first = retire({});
    await paused.reached;
    const deleted = await deleteFineTunedModel({ config: DEFAULT_CONFIG, jobs, models: memoryTenantModels(registry), sageMaker }, { tenantId: 'acme', userId: 'admin@acme', role: 'admin', tenant: cached }, j.fineTunedModel!, {} as AuditRecord);
    paused.release();
    // THEN both answer: the deletion deleted:true, the retirement its progress (no AccessDenied), and the next calls end with nothing left
    expect(deleted).toEqual({ id: j.fineTunedModel, object: 'model', deleted: true });
    const out = await first;
    expect(out).toMatchObject({ state: 'IN_PROGRESS', deleting: [name] });
    advance();
    expect(await retire(out)).toMatchObject({ state: 'COMPLETE' });
    expect(left()).toEqual(nothingLeft);
  });
});
