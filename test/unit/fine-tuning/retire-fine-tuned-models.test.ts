import {
  DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand,
  DescribeTrainingJobCommand, SageMakerClient, StopTrainingJobCommand, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { trainingJobName, type FineTuningJob, type FineTuningStatus } from '../../../lib/fine-tuning.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import { MAX_WAIT_SECONDS, NAME_CONCURRENCY, OFFBOARDING_CANCEL_EVENT, RETIRE_ACTION, retireFineTunedModels, type RetireDeps } from '../../../lambdas/fine-tuning/retire-fine-tuned-models.js';
import { MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

/**
 * Offboarding's *Retire fine-tuned models* (lambdas/fine-tuning/retire-fine-tuned-models.ts), its
 * SageMaker calls answered by aws-sdk-client-mock: active jobs stopped and cancelled, each
 * fine-tuned model's endpoint, endpoint config and model deleted, a resource already gone taken as
 * success, an endpoint still deleting reported, a failure in the middle resumed by the next run.
 */
const ACCOUNT = '444444444444';
const EXECUTION = 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:req-1';
const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const notFound = (what: string) => Object.assign(new Error(`Could not find ${what}.`), { name: 'ValidationException' });

const jobId = (c: string) => `ftjob-${c.repeat(24)}`;
function job(c: string, status: FineTuningStatus, extra: Partial<FineTuningJob> = {}): FineTuningJob {
  const id = jobId(c);
  return {
    id, tenantId: 'acme', userId: 'dev@acme', model: 'llama-3.1-8b-instruct', trainingFile: 's3://b/training-data/a.jsonl',
    hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, suffix: c, instanceType: 'ml.g5.2xlarge', spot: false,
    trainingJobName: trainingJobName('acme', id), status, createdAt: 1, events: [], ...extra,
  };
}

let jobs: MemoryJobStore;
let tenant: TenantRecord;
let audit: MemoryAuditSink;
let launcherCalls: number;
const deps = (): RetireDeps => ({
  jobs, audit,
  tenants: { getTenant: async (id) => (id === tenant.tenantId ? structuredClone(tenant) : undefined) },
  sageMaker: async (target) => {
    expect(target).toEqual({ tenantId: 'acme', accountId: ACCOUNT });
    launcherCalls += 1;
    return new SageMakerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  },
});
const request = { action: RETIRE_ACTION, tenantId: 'acme', executionArn: EXECUTION, requestId: 'req-1' } as const;

const running = job('a', 'running');
const deployed = job('b', 'succeeded', { fineTunedModel: 'ft:llama-3.1-8b-instruct:acme:b', endpointName: trainingJobName('acme', jobId('b')) });
const endpointOf = (j: FineTuningJob) => j.trainingJobName;

beforeEach(async () => {
  sageMaker.reset();
  jobs = new MemoryJobStore();
  audit = new MemoryAuditSink();
  launcherCalls = 0;
  tenant = trainedTenant('acme', 'enterprise', ACCOUNT, {
    fineTunedModels: [{ id: deployed.fineTunedModel!, baseModel: deployed.model, jobId: deployed.id, endpointName: endpointOf(deployed), createdAt: '2026-11-01T00:00:00.000Z' }],
  });
  for (const j of [running, deployed]) await jobs.create(j, 10);
  // Every name unknown unless a test says otherwise.
  sageMaker.on(DescribeEndpointCommand).rejects(notFound('endpoint'));
  sageMaker.on(DeleteEndpointCommand).rejects(notFound('endpoint'));
  sageMaker.on(DeleteEndpointConfigCommand).rejects(notFound('endpoint configuration'));
  sageMaker.on(DeleteModelCommand).rejects(notFound('model'));
  sageMaker.on(StopTrainingJobCommand).resolves({});
});

const calls = (command: Parameters<typeof sageMaker.commandCalls>[0]) => sageMaker.commandCalls(command).map((c) => c.args[0].input);

describe('retire fine-tuned models (offboarding)', () => {
  it('stops the active job (cancelled, naming the offboarding) and deletes the deployed model\'s endpoint, endpoint config and model', async () => {
    // GIVEN the deployed model's endpoint in service
    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({ EndpointStatus: 'InService' } as never);
    sageMaker.on(DeleteEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({});
    sageMaker.on(DeleteEndpointConfigCommand, { EndpointConfigName: endpointOf(deployed) }).resolves({});
    sageMaker.on(DeleteModelCommand, { ModelName: endpointOf(deployed) }).resolves({});

    // WHEN
    const out = await retireFineTunedModels(deps(), request);

    // THEN the running job is stopped at SageMaker and cancelled in the jobs table, its slot given back
    expect(calls(StopTrainingJobCommand)).toEqual([{ TrainingJobName: running.trainingJobName }]);
    const cancelled = (await jobs.get('acme', running.id))!;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.finishedAt).toBeGreaterThan(0);
    expect(cancelled.events[0]).toMatchObject({ level: 'warn', message: `${OFFBOARDING_CANCEL_EVENT} (${EXECUTION})` });
    // the deployed model's three resources are deleted; the running job's names (never deployed) are looked at too
    expect(calls(DeleteEndpointCommand)).toEqual([{ EndpointName: endpointOf(deployed) }]);
    expect(calls(DeleteEndpointConfigCommand).map((i) => i.EndpointConfigName).sort()).toEqual([endpointOf(running), endpointOf(deployed)].sort());
    expect(calls(DeleteModelCommand).map((i) => i.ModelName).sort()).toEqual([endpointOf(running), endpointOf(deployed)].sort());
    expect(out).toEqual({
      state: 'IN_PROGRESS',
      stopped: [running.trainingJobName],
      deleted: [`endpoint/${endpointOf(deployed)}`, `endpoint-config/${endpointOf(deployed)}`, `model/${endpointOf(deployed)}`],
      deleting: [endpointOf(deployed)],
      cancelledJobs: [{ jobId: running.id, trainingJobName: running.trainingJobName }],
      retiredModels: [{ id: deployed.fineTunedModel, endpointName: endpointOf(deployed) }],
      checkedNames: [endpointOf(running), endpointOf(deployed)].sort(),
      waitingSince: expect.any(String),
    });
    // each action audited under the fine-tuning trail, naming the offboarding execution
    expect(audit.records.map((r) => [r.action, r.tenantId, r.outcome, r.detail?.executionArn])).toEqual([
      ['fine_tuning.job.cancelled', 'acme', 'offboarding', EXECUTION],
      ['fine_tuning.model.retired', 'acme', 'offboarding', EXECUTION],
    ]);
    expect(audit.records[1].detail).toMatchObject({ endpointName: endpointOf(deployed), fineTunedModel: deployed.fineTunedModel, deleted: out.deleted.join(',') });
  });

  it('reports an endpoint SageMaker is still deleting without deleting it again, and COMPLETE once it is gone', async () => {
    await jobs.update({ ...running, status: 'failed' }, 'running');
    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).resolvesOnce({ EndpointStatus: 'Deleting' } as never).rejects(notFound('endpoint'));

    const first = await retireFineTunedModels(deps(), request);
    expect(first).toMatchObject({ state: 'IN_PROGRESS', deleting: [endpointOf(deployed)], deleted: [], stopped: [] });
    expect(calls(DeleteEndpointCommand)).toEqual([]);

    const second = await retireFineTunedModels(deps(), request);
    expect(second).toMatchObject({ state: 'COMPLETE', deleting: [], deleted: [], stopped: [] });
    expect(calls(StopTrainingJobCommand)).toEqual([]);
  });

  it('takes what is already gone as success: every resource unknown to SageMaker, a job already finished there', async () => {
    sageMaker.on(StopTrainingJobCommand).rejects(Object.assign(new Error('The job status is Completed'), { name: 'ValidationException' }));

    const first = await retireFineTunedModels(deps(), request);
    // the job is cancelled all the same (it no longer runs); the run did work, so one more run verifies
    expect((await jobs.get('acme', running.id))!.status).toBe('cancelled');
    expect(first).toMatchObject({ state: 'IN_PROGRESS', stopped: [running.trainingJobName], deleted: [], deleting: [] });

    const second = await retireFineTunedModels(deps(), request);
    expect(second).toEqual({
      state: 'COMPLETE', stopped: [], deleted: [], deleting: [],
      cancelledJobs: [{ jobId: running.id, trainingJobName: running.trainingJobName }],
      retiredModels: [{ id: deployed.fineTunedModel, endpointName: endpointOf(deployed) }],
      checkedNames: [endpointOf(running), endpointOf(deployed)].sort(),
    });
    expect(calls(StopTrainingJobCommand)).toHaveLength(1);
  });

  it('resumes after a failure in the middle: what was deleted stays deleted, the rest is deleted by the next run', async () => {
    await jobs.update({ ...running, status: 'failed' }, 'running');
    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).resolvesOnce({ EndpointStatus: 'InService' } as never).resolves({ EndpointStatus: 'Deleting' } as never);
    sageMaker.on(DeleteEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({});
    sageMaker.on(DeleteEndpointConfigCommand, { EndpointConfigName: endpointOf(deployed) })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).resolves({});
    sageMaker.on(DeleteModelCommand, { ModelName: endpointOf(deployed) }).resolves({});

    // WHEN the first run fails after the endpoint's deletion
    await expect(retireFineTunedModels(deps(), request)).rejects.toThrow(/Rate exceeded/);
    expect(calls(DeleteEndpointCommand)).toHaveLength(1);
    expect(calls(DeleteModelCommand)).toEqual([]);

    // THEN the re-run does not delete the endpoint again (it is Deleting) and deletes the config and the model
    const again = await retireFineTunedModels(deps(), request);
    expect(calls(DeleteEndpointCommand)).toHaveLength(1);
    expect(again).toMatchObject({ state: 'IN_PROGRESS', deleted: [`endpoint-config/${endpointOf(deployed)}`, `model/${endpointOf(deployed)}`], deleting: [endpointOf(deployed)] });

    // and once SageMaker has deleted the endpoint, a run finds nothing left
    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).rejects(notFound('endpoint'));
    sageMaker.on(DeleteEndpointConfigCommand, { EndpointConfigName: endpointOf(deployed) }).rejects(notFound('endpoint configuration'));
    sageMaker.on(DeleteModelCommand, { ModelName: endpointOf(deployed) }).rejects(notFound('model'));
    expect(await retireFineTunedModels(deps(), request)).toMatchObject({ state: 'COMPLETE', deleted: [], deleting: [] });
  });

  it('also deletes what a job left that never reached the registry (a deployment that crashed before recording the model)', async () => {
    tenant = { ...tenant, fineTunedModels: [] };
    const half = job('d', 'failed', { error: { code: 'deployment_failed', message: 'could not deploy', param: null } });
    await jobs.create(half, 10);
    sageMaker.on(DeleteModelCommand, { ModelName: endpointOf(half) }).resolves({});

    const out = await retireFineTunedModels(deps(), request);
    expect(out.deleted).toEqual([`model/${endpointOf(half)}`]);
    expect(calls(DescribeEndpointCommand).map((i) => i.EndpointName)).toContain(endpointOf(half));
  });

  it('waits for an endpoint SageMaker is still creating or updating (which it refuses to delete) and deletes it once it can', async () => {
    await jobs.update({ ...running, status: 'failed' }, 'running');
    // SageMaker refuses DeleteEndpoint on an endpoint in Creating (it is deletable once InService or Failed)
    sageMaker.on(DeleteEndpointCommand, { EndpointName: endpointOf(deployed) })
      .rejects(Object.assign(new Error(`Cannot delete endpoint "${endpointOf(deployed)}" while it is in Creating status`), { name: 'ValidationException' }));
    for (const busy of ['Creating', 'Updating', 'SystemUpdating', 'RollingBack']) {
      sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({ EndpointStatus: busy } as never);
      const out = await retireFineTunedModels(deps(), request);
      expect(out).toMatchObject({ state: 'IN_PROGRESS', deleting: [endpointOf(deployed)] });
    }
    expect(calls(DeleteEndpointCommand)).toEqual([]);

    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({ EndpointStatus: 'InService' } as never);
    sageMaker.on(DeleteEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({});
    expect(await retireFineTunedModels(deps(), request)).toMatchObject({ state: 'IN_PROGRESS', deleted: [`endpoint/${endpointOf(deployed)}`], deleting: [endpointOf(deployed)] });
  });

  it('also deletes what a deployment left for a job its user cancelled meanwhile (the Completed event raced the cancellation)', async () => {
    tenant = { ...tenant, fineTunedModels: [] };
    const raced = job('c', 'cancelled', { finishedAt: 5, events: [{ id: 'ftevent-1', created_at: 5, level: 'warn', message: 'Job cancelled by the user' }] });
    await jobs.create(raced, 10);
    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(raced) }).resolves({ EndpointStatus: 'InService' } as never);
    sageMaker.on(DeleteEndpointCommand, { EndpointName: endpointOf(raced) }).resolves({});
    sageMaker.on(DeleteEndpointConfigCommand, { EndpointConfigName: endpointOf(raced) }).resolves({});
    sageMaker.on(DeleteModelCommand, { ModelName: endpointOf(raced) }).resolves({});

    const out = await retireFineTunedModels(deps(), request);
    expect(out.deleted).toEqual([`endpoint/${endpointOf(raced)}`, `endpoint-config/${endpointOf(raced)}`, `model/${endpointOf(raced)}`]);
    expect(out.state).toBe('IN_PROGRESS');
  });

  it('handles a tenant with hundreds of jobs behind it several names at once (one at a time outlasted the Lambda\'s minute on every run), in the names\' order', async () => {
    await jobs.update({ ...running, status: 'failed' }, 'running');
    const hexes = Array.from({ length: 300 }, (_, i) => i.toString(16).padStart(24, '0'));
    for (const h of hexes) await jobs.create({ ...job('c', 'succeeded'), id: `ftjob-${h}`, trainingJobName: trainingJobName('acme', `ftjob-${h}`) }, 10_000);
    let inFlight = 0;
    let most = 0;
    const slow = (what: string) => async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight -= 1;
      throw notFound(what);
    };
    sageMaker.on(DescribeEndpointCommand).callsFake(slow('endpoint'));
    sageMaker.on(DeleteEndpointConfigCommand).callsFake(slow('endpoint configuration'));
    sageMaker.on(DeleteModelCommand).callsFake(slow('model'));
    // the registry's model still in service: deleted, reported in its place among the names
    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({ EndpointStatus: 'InService' } as never);
    sageMaker.on(DeleteEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({});

    const out = await retireFineTunedModels(deps(), request);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(NAME_CONCURRENCY);
    expect(calls(DescribeEndpointCommand)).toHaveLength(301);
    expect(out).toMatchObject({ state: 'IN_PROGRESS', deleted: [`endpoint/${endpointOf(deployed)}`], deleting: [endpointOf(deployed)] });
    expect(out.checkedNames).toHaveLength(301);
  });

  it('stops the offboarding, naming the endpoints, when SageMaker has not deleted them within MAX_WAIT_SECONDS of the first run that waited (no polling until the two-day timeout)', async () => {
    await jobs.update({ ...running, status: 'failed' }, 'running');
    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({ EndpointStatus: 'Deleting' } as never);
    // the first run that waits says since when; the next ones carry it forward (the state machine passes $.fineTuning back)
    const first = await retireFineTunedModels(deps(), { ...request, previous: {} });
    expect(first).toMatchObject({ state: 'IN_PROGRESS', waitingSince: expect.any(String) });
    const second = await retireFineTunedModels(deps(), { ...request, previous: first });
    expect(second.waitingSince).toBe(first.waitingSince);
    // an hour on: still waiting
    const anHourAgo = new Date(Date.now() - 3600_000).toISOString();
    expect(await retireFineTunedModels(deps(), { ...request, previous: { waitingSince: anHourAgo } })).toMatchObject({ state: 'IN_PROGRESS', waitingSince: anHourAgo });
    // past the bound: the run fails, naming the endpoint (the workflow's Catch records it in the registry)
    const long = new Date(Date.now() - (MAX_WAIT_SECONDS + 60) * 1000).toISOString();
    await expect(retireFineTunedModels(deps(), { ...request, previous: { waitingSince: long } })).rejects.toMatchObject({ name: 'FineTuningRetirementStuck', message: expect.stringContaining(endpointOf(deployed)) });
    // a run that finds nothing left is COMPLETE whatever the time
    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).rejects(notFound('endpoint'));
    expect(await retireFineTunedModels(deps(), { ...request, previous: { waitingSince: long } })).toMatchObject({ state: 'COMPLETE' });
  });

  it('leaves a tenant without fine-tuning alone: COMPLETE without calling SageMaker or assuming its launcher', async () => {
    tenant = trainedTenant('acme', 'starter', ACCOUNT);
    jobs = new MemoryJobStore();
    expect(await retireFineTunedModels(deps(), request)).toEqual({ state: 'COMPLETE', cancelledJobs: [], retiredModels: [], deleted: [], deleting: [], stopped: [], checkedNames: [] });
    expect(launcherCalls).toBe(0);
    expect(sageMaker.calls()).toHaveLength(0);
  });

  it('a re-run looks again though the retirement was recorded: what was left after it (an endpoint a late deployment made) is found and deleted', async () => {
    // GIVEN a recorded retirement (the job cancelled by it, the model retired), and the deployed model's endpoint back in service since
    const recorded = { cancelledJobs: [{ jobId: running.id, trainingJobName: running.trainingJobName }], retiredModels: [{ id: deployed.fineTunedModel!, endpointName: endpointOf(deployed) }] };
    tenant = { ...tenant, offboarding: { liftedProtections: [], fineTuning: { ...recorded, at: '2026-12-01T00:00:00.000Z' } } };
    const cancelled = { ...running, status: 'cancelled' as const, events: [{ id: 'e', created_at: 1, level: 'warn' as const, message: `${OFFBOARDING_CANCEL_EVENT} (${EXECUTION})` }] };
    expect(await jobs.update(cancelled, 'running')).toBe(true);
    sageMaker.on(DescribeEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({ EndpointStatus: 'InService' } as never);
    sageMaker.on(DeleteEndpointCommand, { EndpointName: endpointOf(deployed) }).resolves({});
    // WHEN the offboarding runs again
    const out = await retireFineTunedModels(deps(), request);
    // THEN it assumed the launcher, looked, and deleted the endpoint: not COMPLETE until SageMaker has
    expect(launcherCalls).toBe(1);
    expect(calls(DeleteEndpointCommand)).toEqual([{ EndpointName: endpointOf(deployed) }]);
    expect(out).toMatchObject({ state: 'IN_PROGRESS', deleted: [`endpoint/${endpointOf(deployed)}`], deleting: [endpointOf(deployed)], ...recorded });
    expect(out.lookedAgain).toBeUndefined();
  });

  it('answers the recorded retirement, saying it did not look, when the launcher cannot be assumed any more (gone with the stack)', async () => {
    const recorded = { cancelledJobs: [{ jobId: running.id, trainingJobName: running.trainingJobName }], retiredModels: [{ id: deployed.fineTunedModel!, endpointName: endpointOf(deployed) }] };
    tenant = { ...tenant, offboarding: { liftedProtections: [], fineTuning: { ...recorded, at: '2026-12-01T00:00:00.000Z' } } };
    const gone: RetireDeps = { ...deps(), sageMaker: async () => { launcherCalls += 1; throw Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }); } };
    expect(await retireFineTunedModels(gone, request)).toEqual({ state: 'COMPLETE', ...recorded, deleted: [], deleting: [], stopped: [], checkedNames: [], lookedAgain: false });
    expect(launcherCalls).toBe(1);
    expect(sageMaker.calls()).toHaveLength(0);
    // the launcher assumed, but refused (its policies deleted before it by a stack deletion that then failed): the same answer
    const refused: RetireDeps = { ...deps(), sageMaker: async () => { launcherCalls += 1; return new SageMakerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }); } };
    sageMaker.on(DescribeTrainingJobCommand).rejects(Object.assign(new Error('not authorized to perform: sagemaker:DescribeTrainingJob'), { name: 'AccessDeniedException' }));
    expect(await retireFineTunedModels(refused, request)).toMatchObject({ state: 'COMPLETE', ...recorded, lookedAgain: false });
    // Not recorded: the same refusal is an error (a launcher that should be there)
    tenant = { ...tenant, offboarding: { liftedProtections: [] } };
    await expect(retireFineTunedModels(gone, request)).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('looks at a cancelled job\'s training job on every run: one still running is stopped, one SageMaker is still stopping is waited for', async () => {
    // GIVEN the running job cancelled (by an earlier run), its training job still InProgress at SageMaker (its creator's CreateTrainingJob landed late)
    expect(await jobs.update({ ...running, status: 'cancelled' }, 'running')).toBe(true);
    const states = ['InProgress', 'Stopping', 'Stopped'];
    sageMaker.on(DescribeTrainingJobCommand, { TrainingJobName: running.trainingJobName }).callsFake(async () => ({ TrainingJobStatus: states[0] }));
    sageMaker.on(StopTrainingJobCommand).callsFake(async () => { states.shift(); return {}; });
    // WHEN the retirement runs: stopped; then: still stopping; then: stopped
    const first = await retireFineTunedModels(deps(), request);
    expect(first).toMatchObject({ state: 'IN_PROGRESS', stopped: [running.trainingJobName] });
    expect(calls(StopTrainingJobCommand)).toEqual([{ TrainingJobName: running.trainingJobName }]);
    const second = await retireFineTunedModels(deps(), { ...request, previous: first });
    expect(second).toMatchObject({ state: 'IN_PROGRESS', stopped: [], stopping: [running.trainingJobName] });
    states.shift();
    expect(await retireFineTunedModels(deps(), { ...request, previous: second })).toMatchObject({ state: 'COMPLETE', stopped: [] });
    expect(calls(StopTrainingJobCommand)).toHaveLength(1);
    expect(audit.records.map((r) => r.action)).toContain('fine_tuning.job.stopped');
  });

  it('refuses a tenant the registry does not know', async () => {
    await expect(retireFineTunedModels(deps(), { ...request, tenantId: 'nobody' })).rejects.toMatchObject({ name: 'TenantNotFound' });
  });
});

describe('what SageMaker does not have is never stopped or deleted (IAM would refuse it: a missing name has no tag)', () => {
  it('describes each job, endpoint config and model first, and sends no Stop or Delete for one SageMaker cannot find', async () => {
    // GIVEN an active job SageMaker never created (its CreateTrainingJob still in flight) and a model whose deployment never got far
    await jobs.create(running, 10);
    await jobs.update(running, 'validating_files');
    sageMaker.on(DescribeTrainingJobCommand).rejects(notFound('training job'))
      .on(DescribeEndpointCommand).rejects(notFound('endpoint'))
      .on(DescribeEndpointConfigCommand).rejects(notFound('endpoint configuration'))
      .on(DescribeModelCommand).rejects(notFound('model'))
      // under the launcher's tag condition, a Stop or Delete of a name that does not exist is AccessDenied
      .on(StopTrainingJobCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }))
      .on(DeleteEndpointCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }))
      .on(DeleteEndpointConfigCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }))
      .on(DeleteModelCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    // WHEN
    const progress = await retireFineTunedModels(deps(), request);
    // THEN nothing was stopped or deleted, the job is cancelled all the same, and nothing is left
    for (const command of [StopTrainingJobCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand]) expect(sageMaker.commandCalls(command as never)).toHaveLength(0);
    expect(sageMaker.commandCalls(DescribeTrainingJobCommand)).toHaveLength(1);
    expect((await jobs.get('acme', running.id))!.status).toBe('cancelled');
    expect(progress.deleted).toEqual([]);
    expect(progress.deleting).toEqual([]);
  });
});
