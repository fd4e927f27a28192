import { CreateTrainingJobCommand, DescribeTrainingJobCommand, SageMakerClient, StopTrainingJobCommand, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import type { TenantRecord, TenantStatus } from '../../../lib/tenant-record.js';
import { FineTuningService } from '../../../lambdas/fine-tuning/fine-tuning-service.js';
import { MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

/**
 * A job that no training job runs for must not hold its tier's slot for good: the fence's status read
 * failing after the job was recorded, and the tenant's cancel of a job SageMaker has no training job of
 * (under the launcher's aws:ResourceTag condition a Stop of a missing, untagged name is AccessDenied, not
 * "Could not find"). SageMaker is a small stateful fake behind aws-sdk-client-mock. The tenant's tier
 * (professional) runs one job at a time.
 */
const ACCOUNT = '444444444444';
const sm = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
let trainingJobs: Map<string, string>;
let jobs: MemoryJobStore;
let status: () => Promise<TenantStatus | undefined>;
const tenant: TenantRecord = trainedTenant('acme', 'professional', ACCOUNT);
const caller: Caller = { tenantId: 'acme', userId: 'dev@acme', role: 'developer', tenant };
const service = () => new FineTuningService({
  config: DEFAULT_CONFIG, jobs, tenantStatus: () => status(),
  sageMaker: async () => new SageMakerClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
});
const call = (method: string, path: string, body?: unknown) => service().handle({ method, path, query: {}, body: body === undefined ? undefined : JSON.stringify(body) }, caller, {} as AuditRecord)
  .then((r) => JSON.parse(r.body as string), (e: { status: number; code: string }) => ({ status: e.status, code: e.code }));
const create = () => call('POST', '/v1/fine_tuning/jobs', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' });

beforeEach(() => {
  sm.reset();
  trainingJobs = new Map();
  jobs = new MemoryJobStore();
  status = async () => 'ACTIVE';
  sm.on(CreateTrainingJobCommand).callsFake(async (input) => { trainingJobs.set(input.TrainingJobName, 'InProgress'); return {}; });
  sm.on(DescribeTrainingJobCommand).callsFake(async (input) => {
    const s = trainingJobs.get(input.TrainingJobName);
    if (!s) throw Object.assign(new Error(`Requested resource not found: Could not find training job ${input.TrainingJobName}`), { name: 'ValidationException' });
    return { TrainingJobName: input.TrainingJobName, TrainingJobStatus: s };
  });
  sm.on(StopTrainingJobCommand).callsFake(async (input) => {
    const s = trainingJobs.get(input.TrainingJobName);
    if (s === undefined) throw Object.assign(new Error('User is not authorized to perform: sagemaker:StopTrainingJob (no identity-based policy allows it)'), { name: 'AccessDeniedException' });
    if (s !== 'InProgress') throw Object.assign(new Error(`The request was rejected because the training job is in status ${s}.`), { name: 'ValidationException' });
    trainingJobs.set(input.TrainingJobName, 'Stopping');
    return {};
  });
});

describe('a job no training job runs for gives its slot back', () => {
  it('the fence\'s status read failing (throttled, a network error) fails the job it had recorded: no training job, the next create admitted', async () => {
    // GIVEN the registry's consistent read fails once
    status = async () => { throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ProvisionedThroughputExceededException' }); };
    // WHEN a job is created
    const first = await create();
    // THEN an error the SDKs do not retry into more jobs, the job failed, nothing started
    expect(first).toMatchObject({ status: 503, code: 'tenant_status_unavailable' });
    const [recorded] = await jobs.list('acme');
    expect(recorded).toMatchObject({ status: 'failed', error: { code: 'tenant_status_unavailable' } });
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
    // and the tier's one slot is free again (the old code left the job validating_files for good: every later create a 429)
    status = async () => 'ACTIVE';
    expect(await create()).toMatchObject({ object: 'fine_tuning.job', status: 'queued' });
  });

  it('the tenant\'s cancel of a job SageMaker has no training job of (its creator died before CreateTrainingJob) cancels it instead of a 502', async () => {
    // GIVEN a job recorded whose creator died before its CreateTrainingJob (validating_files, nothing at SageMaker)
    const created = await create();
    trainingJobs.clear();
    const job = (await jobs.get('acme', created.id))!;
    await jobs.update({ ...job, status: 'validating_files' }, 'queued');
    // WHEN its tenant cancels it
    const cancelled = await call('POST', `/v1/fine_tuning/jobs/${created.id}/cancel`);
    // THEN cancelled, no Stop sent for a name SageMaker does not have (the old code: AccessDenied, a 502, the job never cancellable)
    expect(cancelled).toMatchObject({ status: 'cancelled' });
    expect(sm.commandCalls(StopTrainingJobCommand)).toHaveLength(0);
    expect(await create()).toMatchObject({ status: 'queued' });
  });

  it('a cancel of a job whose training job runs still stops it', async () => {
    const created = await create();
    expect(await call('POST', `/v1/fine_tuning/jobs/${created.id}/cancel`)).toMatchObject({ status: 'cancelled' });
    expect(trainingJobs.get((await jobs.get('acme', created.id))!.trainingJobName)).toBe('Stopping');
  });
});
