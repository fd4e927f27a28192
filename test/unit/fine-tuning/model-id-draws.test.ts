import { CreateTrainingJobCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { FineTuningService } from '../../../lambdas/fine-tuning/fine-tuning-service.js';
import { MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import { memoryTenantModels } from '../../../lambdas/fine-tuning/stores/tenant-models.js';
import type { AuditRecord } from '../../../lambdas/inference/audit.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { mockStrict } from '../../support/strict-mock.js';
import { ACCOUNT, sageMaker } from '../../support/fine-tuning-deployment.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

/**
 * A new job's model id ends in 8 random hex digits of its job id: a create whose digits would repeat a model id a listed
 * model (or a recorded job) has draws another job id, so two jobs never share a model id. The job ids' random bytes
 * (node:crypto randomBytes(6)) are scripted here; every other randomBytes call is the real one.
 */
const drawn: string[] = [];
vi.mock('node:crypto', async (original) => {
  const real = await original<typeof import('node:crypto')>();
  return { ...real, randomBytes: (size: number) => (size === 6 && drawn.length ? Buffer.from(drawn.shift()!, 'hex') : real.randomBytes(size)) };
});

const sm = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const BASE = 'llama-3.1-8b-instruct';
let jobs: MemoryJobStore;
let registry: MemoryStore;

beforeEach(() => {
  sm.reset();
  sm.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:x' });
  drawn.length = 0;
  jobs = new MemoryJobStore();
  registry = new MemoryStore();
  // a model listed under job part 0000aaaa (its job's id ends so)
  registry.putTenant({ ...trainedTenant('drawco', 'enterprise', ACCOUNT), fineTunedModels: [{ id: `ft:${BASE}:drawco:nightly:0000aaaa`, baseModel: BASE, jobId: 'ftjob-00000000000000000000aaaa', endpointName: 'drawco-ft-x', createdAt: '2026-12-01T00:00:00.000Z' }] });
});

const create = async () => {
  const tenant = await registry.getTenant('drawco') as TenantRecord;
  const caller: Caller = { tenantId: 'drawco', userId: 'dev@drawco', role: 'developer', tenant } as Caller;
  const service = new FineTuningService({ config: DEFAULT_CONFIG, jobs, sageMaker, models: memoryTenantModels(registry) });
  return service.handle({ method: 'POST', path: '/v1/fine_tuning/jobs', query: {}, body: JSON.stringify({ model: BASE, training_file: 'training-data/a.jsonl', suffix: 'nightly' }) }, caller, {} as AuditRecord)
    .then((r) => JSON.parse(r.body as string), (e: { status: number; code: string }) => ({ status: e.status, code: e.code }));
};

describe('a new job\'s model id', () => {
  it('whose job part a listed model has already is drawn again: the job gets the next id, its model an id of its own', async () => {
    drawn.push('00000000aaaa', '00000000bbbb');
    const job = await create();
    expect(job).toMatchObject({ object: 'fine_tuning.job', status: 'queued' });
    expect(job.id).toMatch(/0000bbbb$/);
    expect((await jobs.get('drawco', job.id))?.modelId).toBe(`ft:${BASE}:drawco:nightly:0000bbbb`);
  });

  it('whose job part a recorded job has already is drawn again as well (its model not deployed yet)', async () => {
    drawn.push('00000000cccc');
    const first = await create();
    drawn.push('00000000cccc', '00000000dddd');
    const second = await create();
    expect([first.id.slice(-8), second.id.slice(-8)]).toEqual(['0000cccc', '0000dddd']);
  });

  it('that finds no free id in 8 draws (never, with real randomness) is a 500 that creates nothing', async () => {
    drawn.push(...Array.from({ length: 8 }, () => '00000000aaaa'));
    expect(await create()).toEqual({ status: 500, code: 'internal_error' });
    expect(await jobs.list('drawco')).toEqual([]);
    expect(sm.commandCalls(CreateTrainingJobCommand)).toHaveLength(0);
  });
});
