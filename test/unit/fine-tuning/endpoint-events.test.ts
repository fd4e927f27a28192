import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { trainingJobName } from '../../../lib/fine-tuning.js';
import { ENDPOINT_CHECK_DELAY_SECONDS, OVERDUE_ENDPOINT_CHECKS, parseEndpointCheck, runEndpointCheck, type EndpointCheck } from '../../../lambdas/fine-tuning/endpoint-checks.js';
import { EndpointEvents, endpointState } from '../../../lambdas/fine-tuning/endpoint-events.js';
import { retireFineTunedModels } from '../../../lambdas/fine-tuning/retire-fine-tuned-models.js';
import { memoryTenantModels } from '../../../lambdas/fine-tuning/stores/tenant-models.js';
import { TrainingEvents } from '../../../lambdas/fine-tuning/training-events.js';
import { ACCOUNT, completedEvent, deploymentWorld, runningJob, sageMaker, type DeploymentWorld } from '../../support/fine-tuning-deployment.js';

/**
 * A job is `succeeded` (its ft: model listed) only once its endpoint is InService; an endpoint that fails
 * fails it. SageMaker (aws-sdk-client-mock) keeps each endpoint's status as the test sets it; the job store and
 * the registry are the in-memory ones (`tessera serve`'s): test/support/fine-tuning-deployment.ts.
 */
const sm = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const id = `ftjob-${'e'.repeat(24)}`;
const job = runningJob(id);
const name = job.trainingJobName;
const model = 'ft:llama-3.1-8b-instruct:acme:support';
const completed = completedEvent(job);

let world: DeploymentWorld;
let has: DeploymentWorld['has'], jobs: DeploymentWorld['jobs'], registry: DeploymentWorld['registry'], audit: DeploymentWorld['audit'];
const deps = () => world.deps();
const calls = (command: Parameters<DeploymentWorld['calls']>[0]) => world.calls(command);
const endpoints = () => new EndpointEvents(deps());
const listed = async () => ((await registry.getTenant('acme'))!.fineTunedModels ?? []).map((m) => m.id);
const stored = async () => (await jobs.get('acme', id))!;
/** SageMaker's event for the endpoint, as EventBridge delivers its detail (upper snake case status). */
const event = (EndpointStatus: string, extra: Record<string, unknown> = {}) => ({ EndpointName: name, EndpointStatus, ...extra });

beforeEach(async () => {
  ({ has, jobs, registry, audit } = world = await deploymentWorld(sm, job));
});

/** The job's Completed event handled: the creates made, the endpoint Creating. */
async function deployed(): Promise<void> {
  expect(await new TrainingEvents(deps()).handle(completed, ACCOUNT, 'evt-completed')).toBe('running');
}

describe('a deployment waits for its endpoint', () => {
  it('Creating: the job stays running under its claim, finished_at unset, the model not listed (a chat for it cannot reach the endpoint)', async () => {
    await deployed();
    expect(await stored()).toMatchObject({ status: 'running', deploying: 'evt-completed', endpointName: name, awaitingEndpointSince: expect.any(Number) });
    expect((await stored()).finishedAt).toBeUndefined();
    expect((await stored()).fineTunedModel).toBeUndefined();
    expect(await listed()).toEqual([]);
    expect((await stored()).events[0]!.message).toBe(`Endpoint ${name} (ml.g5.2xlarge) is being created for model ${model}: the job succeeds once it is in service`);
    // A CREATING event (SageMaker sends one at CreateEndpoint) changes nothing
    expect(await endpoints().handle(event('CREATING'), ACCOUNT)).toBe('running');
    expect(await stored()).toMatchObject({ status: 'running', deploying: 'evt-completed' });
  });

  it('IN_SERVICE: succeeded, fine_tuned_model and finished_at set, "The job has successfully completed", the model listed once; a duplicate changes nothing', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'InService');
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('succeeded');
    const done = await stored();
    expect(done).toMatchObject({ status: 'succeeded', fineTunedModel: model, endpointName: name, finishedAt: expect.any(Number) });
    expect(done.deploying).toBeUndefined();
    expect(done.awaitingEndpointSince).toBeUndefined();
    expect(done.events[0]!.message).toBe(`The job has successfully completed: model ${model} is in service on endpoint ${name} (ml.g5.2xlarge), an always-on SageMaker endpoint billed hourly until the model is deleted (client.models.delete('${model}'))`);
    expect(await listed()).toEqual([model]);
    expect(audit.records.at(-1)).toMatchObject({ action: 'fine_tuning.model.deployed', detail: { fineTunedModel: model, endpointName: name } });
    // SageMaker may send several events per change, and EventBridge delivers at least once
    sm.resetHistory();
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('stale');
    expect(await listed()).toEqual([model]);
    expect(sm.calls()).toHaveLength(0);
    // ...and the slot is given back once
    await expect(jobs.create({ ...job, id: `ftjob-${'f'.repeat(24)}`, trainingJobName: trainingJobName('acme', `ftjob-${'f'.repeat(24)}`) }, 1)).resolves.toBeUndefined();
  });

  it('FAILED: failed with SageMaker\'s FailureReason (DescribeEndpoint\'s, the event may carry none), the endpoint, config and model deleted, nothing listed', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'Failed');
    const reason = world.failureReason = 'Image size 12345678901 is greater than supported size 10737418240';
    expect(await endpoints().handle(event('FAILED'), ACCOUNT)).toBe('failed');
    const failed = await stored();
    expect(failed).toMatchObject({ status: 'failed', finishedAt: expect.any(Number), error: { code: 'deployment_failed', message: `the model's endpoint ${name} is Failed: ${reason}`, param: null } });
    expect(failed.deploying).toBeUndefined();
    expect(failed.fineTunedModel).toBeUndefined();
    expect(await listed()).toEqual([]);
    expect([...has.keys()]).toEqual([]);
    expect(calls(DeleteEndpointCommand)).toEqual([{ EndpointName: name }]);
    expect(failed.events.map((e) => e.message).slice(0, 2)).toEqual([
      `Deleted what the deployment had created: endpoint/${name}, endpoint-config/${name}, model/${name}`, `Deploying the model failed: the model's endpoint ${name} is Failed: ${reason}`,
    ]);
    expect(audit.records.at(-1)).toMatchObject({ action: 'fine_tuning.model.deployment_failed', detail: { endpointStatus: 'Failed', cleanedUp: `endpoint/${name},endpoint-config/${name},model/${name}` } });
  });

  it('OUT_OF_SERVICE: not ready yet (SageMaker: "not available to take incoming requests", not Failed): the job keeps waiting under its claim, nothing deleted or listed; it succeeds once the endpoint is in service', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'OutOfService');
    // before: failed, deployment_failed, the endpoint, its config and its model deleted
    expect(await endpoints().handle(event('OUT_OF_SERVICE'), ACCOUNT)).toBe('running');
    const waiting = await stored();
    expect(waiting).toMatchObject({ status: 'running', deploying: 'evt-completed', endpointName: name, awaitingEndpointSince: expect.any(Number) });
    expect(waiting.error).toBeUndefined();
    expect(waiting.finishedAt).toBeUndefined();
    expect([...has.keys()].sort()).toEqual([`endpoint-config/${name}`, `endpoint/${name}`, `model/${name}`]);
    expect([DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand].flatMap((c) => calls(c))).toEqual([]);
    expect(await listed()).toEqual([]);
    has.set(`endpoint/${name}`, 'InService');
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('succeeded');
    expect(await listed()).toEqual([model]);
  });

  it('an OUT_OF_SERVICE event while the deployment still makes its creates is dropped as a CREATING one is, not thrown back', async () => {
    await jobs.claimDeployment('acme', id, 'running', 'evt-completed');
    has.set(`endpoint/${name}`, 'OutOfService');
    expect(await endpoints().handle(event('OUT_OF_SERVICE'), ACCOUNT)).toBe('stale');
    expect(await stored()).toMatchObject({ status: 'running', deploying: 'evt-completed' });
  });

  it('an IN_SERVICE event delivered after the endpoint failed (out of order): described Failed, so failed, never succeeded; a later IN_SERVICE changes nothing', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'Failed');
    world.failureReason = 'capacity';
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('failed');
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('stale');
    expect((await stored()).status).toBe('failed');
    expect(await listed()).toEqual([]);
  });

  it('an endpoint deleted before it came up (gone): failed saying so', async () => {
    await deployed();
    has.delete(`endpoint/${name}`);
    expect(await endpoints().handle(event('DELETING'), ACCOUNT)).toBe('failed');
    expect((await stored()).error!.message).toBe(`the model's endpoint ${name} no longer exists (it was deleted before it came into service)`);
  });

  it('the Completed event delivered again (same id: a retry after its look threw) once the endpoint failed: failed with SageMaker\'s FailureReason, as the endpoint\'s event would, nothing created again, the wait gone with the claim', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'Failed');
    const reason = world.failureReason = 'The primary container for production variant AllTraffic did not pass the ping health check.';
    sm.resetHistory();
    expect(await new TrainingEvents(deps()).handle(completed, ACCOUNT, 'evt-completed')).toBe('failed');
    const failed = await stored();
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'deployment_failed', message: `the model's endpoint ${name} is Failed: ${reason}`, param: null } });
    expect(failed.deploying).toBeUndefined();
    expect(failed.awaitingEndpointSince).toBeUndefined();
    expect([CreateModelCommand, CreateEndpointConfigCommand, CreateEndpointCommand].flatMap((c) => calls(c))).toEqual([]);
    expect([...has.keys()]).toEqual([]);
    expect(failed.events.filter((e) => e.message === 'Training completed')).toHaveLength(1);
  });

  it('the Completed event delivered again once the tenant is being offboarded: cancelled, the claim and the wait gone together', async () => {
    await deployed();
    registry.putTenant({ ...(await registry.getTenant('acme'))!, status: 'OFFBOARDING' });
    expect(await new TrainingEvents(deps()).handle(completed, ACCOUNT, 'evt-completed')).toBe('cancelled');
    const cancelled = await stored();
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.deploying).toBeUndefined();
    expect(cancelled.awaitingEndpointSince).toBeUndefined();
  });

  it('the Completed event delivered again once the endpoint is in service: succeeded, nothing created again', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'InService');
    sm.resetHistory();
    expect(await new TrainingEvents(deps()).handle(completed, ACCOUNT, 'evt-completed')).toBe('succeeded');
    expect(await stored()).toMatchObject({ status: 'succeeded', fineTunedModel: model });
    expect([CreateModelCommand, CreateEndpointConfigCommand, CreateEndpointCommand].flatMap((c) => calls(c))).toEqual([]);
    expect(await listed()).toEqual([model]);
  });

  it('an event for a model already deleted, for a job already ended, for no job, or from another account changes nothing and calls SageMaker not', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'InService');
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('succeeded');
    await jobs.update({ ...(await stored()), modelDeletedAt: 5 }, 'succeeded');
    sm.resetHistory();
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('stale');
    expect(await endpoints().handle(event('FAILED'), ACCOUNT)).toBe('stale');
    expect(await endpoints().handle({ EndpointName: `acme-ft-${'0'.repeat(24)}`, EndpointStatus: 'IN_SERVICE' }, ACCOUNT)).toBe('ignored');
    expect(await endpoints().handle({ EndpointName: 'someone-elses-endpoint', EndpointStatus: 'FAILED' }, ACCOUNT)).toBe('ignored');
    expect(sm.calls()).toHaveLength(0);
    expect((await stored()).status).toBe('succeeded');
  });

  it('an event from an account other than the job\'s tenant\'s is ignored: one tenant cannot end another\'s wait', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'Failed');
    expect(await endpoints().handle(event('FAILED'), '555555555555')).toBe('ignored');
    expect(await stored()).toMatchObject({ status: 'running', deploying: 'evt-completed' });
  });

  it('an ending event while the deployment still makes its creates (claimed, no wait recorded) is thrown back for Lambda to deliver again; a CREATING one is dropped', async () => {
    await jobs.claimDeployment('acme', id, 'running', 'evt-completed');
    has.set(`endpoint/${name}`, 'InService');
    await expect(endpoints().handle(event('IN_SERVICE'), ACCOUNT)).rejects.toMatchObject({ name: 'DeploymentInFlight' });
    expect(await endpoints().handle(event('CREATING'), ACCOUNT)).toBe('stale');
    expect(await stored()).toMatchObject({ status: 'running', deploying: 'evt-completed' });
  });

  it('a tenant being offboarded when its endpoint comes up: the job cancelled, its claim gone, the model not listed', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'InService');
    registry.putTenant({ ...(await registry.getTenant('acme'))!, status: 'OFFBOARDING' });
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('cancelled');
    expect(await stored()).toMatchObject({ status: 'cancelled' });
    expect((await stored()).deploying).toBeUndefined();
    expect(await listed()).toEqual([]);
  });

  it('the offboarding\'s retirement cancels a job waiting for its endpoint and lets go of its claim (it made all its creates): not IN_PROGRESS on a deployment', async () => {
    await deployed();
    registry.putTenant({ ...(await registry.getTenant('acme'))!, status: 'OFFBOARDING' });
    has.set(`endpoint/${name}`, 'InService');
    const progress = await retireFineTunedModels({ jobs, tenants: memoryTenantModels(registry), sageMaker, audit }, { action: 'retire-fine-tuned-models', tenantId: 'acme' });
    expect(progress.deployments).toBeUndefined();
    expect(await stored()).toMatchObject({ status: 'cancelled' });
    expect((await stored()).deploying).toBeUndefined();
    expect(calls(DeleteEndpointCommand)).toEqual([{ EndpointName: name }]);
    // The endpoint's event afterwards changes nothing
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('stale');
    expect(await listed()).toEqual([]);
  });
});

describe('the re-check of an endpoint whose event does not come (runEndpointCheck)', () => {
  const scheduled: EndpointCheck[] = [];
  const checkDeps = () => ({ jobs, tenants: memoryTenantModels(registry), endpoints: endpoints(), checks: { schedule: async (c: EndpointCheck) => { scheduled.push(c); } } });
  beforeEach(() => { scheduled.length = 0; });

  it('schedules a first look at the deployment (the Completed handling), the next while the endpoint is Creating, and says after OVERDUE_ENDPOINT_CHECKS that the wait is overdue, once', async () => {
    expect(await new TrainingEvents({ ...deps(), endpointChecks: checkDeps().checks }).handle(completed, ACCOUNT, 'evt-completed')).toBe('running');
    expect(scheduled).toEqual([{ tenantId: 'acme', jobId: id, check: 1 }]);
    expect(await runEndpointCheck(checkDeps(), { tenantId: 'acme', jobId: id, check: 1 })).toBe('running');
    expect(scheduled.at(-1)).toEqual({ tenantId: 'acme', jobId: id, check: 2 });
    expect(await runEndpointCheck(checkDeps(), { tenantId: 'acme', jobId: id, check: OVERDUE_ENDPOINT_CHECKS })).toBe('overdue');
    const overdue = `Endpoint ${name} is still not in service after ${OVERDUE_ENDPOINT_CHECKS * ENDPOINT_CHECK_DELAY_SECONDS / 60} minutes of looks: the platform goes on looking every 15 minutes; the job ends when SageMaker ends the endpoint's creation (in service or failed)`;
    expect((await stored()).events[0]!.message).toBe(overdue);
    expect(await stored()).toMatchObject({ status: 'running', deploying: 'evt-completed' });
    // The same look delivered again (its answer lost): the note is not written twice
    expect(await runEndpointCheck(checkDeps(), { tenantId: 'acme', jobId: id, check: OVERDUE_ENDPOINT_CHECKS })).toBe('overdue');
    expect((await stored()).events.filter((e) => e.message === overdue)).toHaveLength(1);
    // The event that comes at last still ends the wait
    has.set(`endpoint/${name}`, 'InService');
    expect(await endpoints().handle(event('IN_SERVICE'), ACCOUNT)).toBe('succeeded');
  });

  it('goes on looking past OVERDUE_ENDPOINT_CHECKS: an endpoint that comes into service after 3 hours, its event lost, ends the job at the next look (before, the looks stopped: the job running for good beside an endpoint in service, billed, no model listed to delete nor job to cancel)', async () => {
    await deployed();
    expect(await runEndpointCheck(checkDeps(), { tenantId: 'acme', jobId: id, check: OVERDUE_ENDPOINT_CHECKS })).toBe('overdue');
    expect(scheduled).toEqual([{ tenantId: 'acme', jobId: id, check: OVERDUE_ENDPOINT_CHECKS + 1 }]);
    // Still Creating at the next look: looked at again, the overdue note not written twice
    expect(await runEndpointCheck(checkDeps(), scheduled.at(-1)!)).toBe('running');
    expect(scheduled.at(-1)).toEqual({ tenantId: 'acme', jobId: id, check: OVERDUE_ENDPOINT_CHECKS + 2 });
    expect((await stored()).events.filter((e) => e.message.includes('minutes of looks'))).toHaveLength(1);
    // In service at last, no event: the next look ends the wait
    has.set(`endpoint/${name}`, 'InService');
    expect(await runEndpointCheck(checkDeps(), scheduled.at(-1)!)).toBe('succeeded');
    expect(await stored()).toMatchObject({ status: 'succeeded', fineTunedModel: model });
    expect(await listed()).toEqual([model]);
    expect(scheduled).toHaveLength(2);
  });

  it('a look that finds the endpoint OutOfService keeps looking (the next look scheduled, overdue after OVERDUE_ENDPOINT_CHECKS), the job running; the look that finds it in service ends the wait', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'OutOfService');
    expect(await runEndpointCheck(checkDeps(), { tenantId: 'acme', jobId: id, check: 1 })).toBe('running');
    expect(scheduled).toEqual([{ tenantId: 'acme', jobId: id, check: 2 }]);
    expect(await runEndpointCheck(checkDeps(), { tenantId: 'acme', jobId: id, check: OVERDUE_ENDPOINT_CHECKS })).toBe('overdue');
    expect((await stored()).events[0]!.message).toMatch(new RegExp(`^Endpoint ${name} is still not in service after 180 minutes of looks`));
    expect(await stored()).toMatchObject({ status: 'running', deploying: 'evt-completed' });
    expect(calls(DeleteEndpointCommand)).toEqual([]);
    has.set(`endpoint/${name}`, 'InService');
    expect(await runEndpointCheck(checkDeps(), scheduled.at(-1)!)).toBe('succeeded');
  });

  it('a look that finds the endpoint ended settles the job as its event would; one for a job no longer waiting does nothing', async () => {
    await deployed();
    has.set(`endpoint/${name}`, 'Failed');
    expect(await runEndpointCheck(checkDeps(), { tenantId: 'acme', jobId: id, check: 3 })).toBe('failed');
    sm.resetHistory();
    expect(await runEndpointCheck(checkDeps(), { tenantId: 'acme', jobId: id, check: 4 })).toBe('stale');
    expect(await runEndpointCheck(checkDeps(), { tenantId: 'acme', jobId: `ftjob-${'0'.repeat(24)}`, check: 1 })).toBe('stale');
    expect(sm.calls()).toHaveLength(0);
    expect(scheduled).toEqual([]);
  });

  it('refuses a message that is not a check, naming what it takes', () => {
    expect(() => parseEndpointCheck('nope')).toThrow(/must be JSON \{tenantId, jobId, check\}/);
    expect(() => parseEndpointCheck('{"tenantId":"acme","jobId":"x","check":0}')).toThrow(/check: integer >= 1/);
    expect(parseEndpointCheck('{"tenantId":"acme","jobId":"x","check":2}')).toEqual({ tenantId: 'acme', jobId: 'x', check: 2 });
  });
});

describe('endpointState', () => {
  it('spells the events\' upper snake case statuses as DescribeEndpoint does, and keeps those already so spelled', () => {
    expect(['IN_SERVICE', 'FAILED', 'CREATING', 'OUT_OF_SERVICE', 'SYSTEM_UPDATING', 'UPDATE_ROLLBACK_FAILED', 'InService'].map(endpointState))
      .toEqual(['InService', 'Failed', 'Creating', 'OutOfService', 'SystemUpdating', 'UpdateRollbackFailed', 'InService']);
  });
});
