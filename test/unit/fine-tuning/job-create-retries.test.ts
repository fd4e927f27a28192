import { CreateTrainingJobCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { FineTuningService, type FineTuningRequest } from '../../../lambdas/fine-tuning/fine-tuning-service.js';
import { MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { mockStrict } from '../../support/strict-mock.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

/**
 * An official client's retry of `POST /v1/fine_tuning/jobs` (`x-stainless-retry-count`, after API Gateway's 504 at 29 s,
 * a reset connection or the client's own timeout) when its first attempt had made the job: the retry is answered that
 * job, not a second job and SageMaker training job. And a create that reaches CreateTrainingJob past the fine-tuning
 * Lambda's deadline starts nothing and invites the retry. The tenant's tier (enterprise) runs several jobs at a time.
 */
const sm = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const tenant = trainedTenant('acme', 'enterprise', '444444444444');
const caller: Caller = { tenantId: 'acme', userId: 'dev@acme', role: 'developer', tenant };
let jobs: MemoryJobStore;
const service = () => new FineTuningService({
  config: DEFAULT_CONFIG, jobs, tenantStatus: async () => 'ACTIVE',
  sageMaker: async () => new SageMakerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
});
const BODY = { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' };
const create = (body: unknown, extra: Partial<FineTuningRequest> = {}, who: Caller = caller) => {
  const audit = {} as AuditRecord;
  return service().handle({ method: 'POST', path: '/v1/fine_tuning/jobs', query: {}, body: JSON.stringify(body), ...extra }, who, audit)
    .then((r) => ({ ...JSON.parse(r.body), audit }), (e: { status: number; code: string; headers: Record<string, string> }) => ({ status: e.status, code: e.code, headers: e.headers, audit }));
};

beforeEach(() => {
  sm.reset();
  jobs = new MemoryJobStore();
  sm.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:444444444444:training-job/x' });
});

describe('an SDK retry of a job create whose first attempt made the job', () => {
  it('is answered the first attempt\'s job: one job, one CreateTrainingJob (the old code made a second of each)', async () => {
    // GIVEN a create whose job was made and started, its answer lost on the way back (API Gateway's 504)
    const first = await create(BODY);
    expect(first).toMatchObject({ object: 'fine_tuning.job', status: 'queued' });
    // WHEN the client sends it again, as its retry (x-stainless-retry-count: 1)
    const retry = await create(BODY, { sdkRetry: 1 });
    // THEN the same job, nothing more made or started, the retry's audit naming the job it answered
    expect(retry).toMatchObject({ id: first.id, status: 'queued' });
    expect(retry.audit.detail).toMatchObject({ jobId: first.id, retryOf: first.id });
    expect(await jobs.list('acme')).toHaveLength(1);
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
    // and only the same user's same body is that create: a new call (no retry header), a retry of another body and
    // another user's retry each make a job of their own
    const others = [await create(BODY), await create({ ...BODY, seed: 7 }, { sdkRetry: 1 }), await create(BODY, { sdkRetry: 1 }, { ...caller, userId: 'ops@acme' })];
    expect(new Set([first.id, ...others.map((o) => o.id)]).size).toBe(4);
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(4);
  });

  it('with a suffix: the retry gets the job, not a second job of the suffix', async () => {
    const body = { ...BODY, suffix: 'support-bot' };
    const first = await create(body);
    expect(await create(body, { sdkRetry: 2 })).toMatchObject({ id: first.id, user_provided_suffix: 'support-bot' });
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
  });
});

describe('a job create past the fine-tuning Lambda\'s deadline', () => {
  it('starts no training job, fails the job it recorded and answers a 503 the client retries; the retry makes and starts a job', async () => {
    // GIVEN the request reached CreateTrainingJob with too little of the invocation left (the deadline's signal aborted)
    const late = new AbortController();
    late.abort();
    // WHEN it is created
    const first = await create(BODY, { deadline: late.signal });
    // THEN nothing started, an error the SDKs retry (the old code started the training job that the 504 hid)
    expect(first).toMatchObject({ status: 503, code: 'request_deadline_exceeded', headers: { 'x-should-retry': 'true' } });
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    const [failed] = await jobs.list('acme');
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'request_deadline_exceeded' } });
    // and the client's retry is not answered the failed job: it makes one and starts it
    const retry = await create(BODY, { sdkRetry: 1 });
    expect(retry).toMatchObject({ object: 'fine_tuning.job', status: 'queued' });
    expect(retry.id).not.toBe(failed!.id);
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
  });

  it('a deliberate second create of the same body, its first attempt past the deadline: the retry makes a job of its own, not the answer of the earlier create', async () => {
    // GIVEN a job an earlier create of the same body made and started
    const earlier = await create(BODY);
    expect(earlier).toMatchObject({ status: 'queued' });
    // (job ids are time-ordered to the millisecond: the next create's in a later one, as a call's after an earlier call's)
    for (const at = Date.now(); Date.now() === at;) await Promise.resolve();
    // WHEN the same user creates it again on purpose, and that call's first attempt reaches CreateTrainingJob too late
    const late = new AbortController();
    late.abort();
    expect(await create(BODY, { deadline: late.signal })).toMatchObject({ status: 503, code: 'request_deadline_exceeded' });
    // THEN its retry (the newest job of that body is its own first attempt's, failed) makes and starts a second job;
    // the old code answered the earlier job, and the second job asked for was never made
    const retry = await create(BODY, { sdkRetry: 1 });
    expect(retry).toMatchObject({ object: 'fine_tuning.job', status: 'queued' });
    expect(retry.id).not.toBe(earlier.id);
    expect(retry.audit.detail?.retryOf).toBeUndefined();
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(2);
  });
});
