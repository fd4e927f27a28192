import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { ConfigError, loadConfig } from '../../../lib/config/load-config.js';
import type { FineTuningJob } from '../../../lib/fine-tuning.js';
import { CreateFineTuningJobRequest, sageMakerNamePattern, trainingJobName } from '../../../lib/fine-tuning.js';
import { parseWith } from '../../../lambdas/inference/request-body.js';
import { createTrainingJobInput, trainingTarget } from '../../../lambdas/fine-tuning/sagemaker-requests.js';
import { resolveTrainingFile } from '../../../lambdas/fine-tuning/training-file.js';
import { OFFBOARDING_CANCEL_EVENT } from '../../../lambdas/fine-tuning/retire-fine-tuned-models.js';
import { TrainingEvents } from '../../../lambdas/fine-tuning/training-events.js';
import { ConcurrentJobLimitError, MemoryJobStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import { memoryTenantModels } from '../../../lambdas/fine-tuning/stores/tenant-models.js';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';

process.env.AWS_REGION = 'us-east-1';
const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const BUCKET = 'tessera-acme-data-444444444444';

function job(overrides: Partial<FineTuningJob> = {}): FineTuningJob {
  const id = `ftjob-${'0'.repeat(12)}${Math.random().toString(16).slice(2, 14).padEnd(12, '0')}`;
  return {
    id, tenantId: 'acme', userId: 'u', model: 'llama-3.1-8b-instruct', trainingFile: `s3://${BUCKET}/training-data/a.jsonl`,
    hyperparameters: { n_epochs: 3, batch_size: 8, learning_rate_multiplier: 1 }, suffix: 'faq', instanceType: 'ml.g5.2xlarge', spot: false,
    trainingJobName: trainingJobName('acme', id), status: 'queued', createdAt: 1, events: [], ...overrides,
  };
}

describe('hyperparameters', () => {
  // A union of "auto" and a number answered 1.5 with `expected "auto"`; until session 50 every refusal was
  // `path = value: must be "auto" or …`, code invalid_request: now OpenAI's words for each branch, then what is accepted.
  it.each([
    [{ hyperparameters: { n_epochs: 0 } }, 'hyperparameters.n_epochs', 'integer_below_min_value', 'Invalid \'hyperparameters.n_epochs\': integer below minimum value. Expected a value >= 1, but got 0 instead. Must be "auto" or an integer from 1 to 20'],
    [{ hyperparameters: { n_epochs: 21 } }, 'hyperparameters.n_epochs', 'integer_above_max_value', 'Invalid \'hyperparameters.n_epochs\': integer above maximum value. Expected a value <= 20, but got 21 instead. Must be "auto" or an integer from 1 to 20'],
    [{ hyperparameters: { n_epochs: 'many' } }, 'hyperparameters.n_epochs', 'invalid_value', 'Invalid value: \'many\'. Supported values are: \'auto\'.'],
    [{ hyperparameters: { n_epochs: '3' } }, 'hyperparameters.n_epochs', 'invalid_value', 'Invalid value: \'3\'. Supported values are: \'auto\'.'],
    [{ hyperparameters: { batch_size: 1.5 } }, 'hyperparameters.batch_size', 'invalid_type', 'Invalid type for \'hyperparameters.batch_size\': expected one of \'auto\' or an integer, but got a decimal number instead. Must be "auto" or an integer from 1 to 256'],
    [{ hyperparameters: { batch_size: true } }, 'hyperparameters.batch_size', 'invalid_type', 'Invalid type for \'hyperparameters.batch_size\': expected one of \'auto\' or an integer, but got a boolean instead. Must be "auto" or an integer from 1 to 256'],
    [{ method: { type: 'supervised', supervised: { hyperparameters: { learning_rate_multiplier: '0.1' } } } }, 'method.supervised.hyperparameters.learning_rate_multiplier', 'invalid_value', 'Invalid value: \'0.1\'. Supported values are: \'auto\'.'],
    [{ hyperparameters: { learning_rate_multiplier: 0 } }, 'hyperparameters.learning_rate_multiplier', 'decimal_below_min_value', 'Invalid \'hyperparameters.learning_rate_multiplier\': decimal below minimum value. Expected a value > 0, but got 0 instead. Must be "auto" or a number above 0 up to 10'],
    [{ hyperparameters: { learning_rate_multiplier: 10.5 } }, 'hyperparameters.learning_rate_multiplier', 'decimal_above_max_value', 'Invalid \'hyperparameters.learning_rate_multiplier\': decimal above maximum value. Expected a value <= 10, but got 10.5 instead. Must be "auto" or a number above 0 up to 10'],
  ])('refuses %j in OpenAI\'s words, naming %s', (body, param, code, message) => {
    const e = (() => { try { parseWith(CreateFineTuningJobRequest, { model: 'm', training_file: 'training-data/a.jsonl', ...body }); } catch (x) { return x as GatewayError; } throw new Error('accepted'); })();
    expect(e).toMatchObject({ status: 400, param, code, message });
  });

  // OpenAI's Metadata, as the chat, responses and conversations endpoints take it: z.record dropped a `__proto__` key silently
  // (JSON.parse keeps it as an own key), so the job was created and listed without what the caller sent.
  it('refuses a metadata key __proto__, naming it, rather than creating the job without it', () => {
    const body = JSON.parse('{"model": "m", "training_file": "training-data/a.jsonl", "metadata": {"__proto__": "x", "team": "support"}}') as unknown;
    const e = (() => { try { parseWith(CreateFineTuningJobRequest, body); } catch (x) { return x as GatewayError; } throw new Error('accepted'); })();
    expect(e).toMatchObject({ status: 400, param: 'metadata.__proto__', message: expect.stringContaining('the metadata key __proto__ cannot be kept by this gateway') });
    expect(parseWith(CreateFineTuningJobRequest, { model: 'm', training_file: 'f', metadata: { constructor: 'x', team: 'support' } }).metadata).toEqual({ constructor: 'x', team: 'support' });
  });

  it('takes "auto" and numbers in range', () => {
    expect(parseWith(CreateFineTuningJobRequest, { model: 'm', training_file: 'f', hyperparameters: { n_epochs: 'auto', batch_size: 256, learning_rate_multiplier: 0.05 } }).hyperparameters)
      .toEqual({ n_epochs: 'auto', batch_size: 256, learning_rate_multiplier: 0.05 });
  });
});

describe('training file', () => {
  it.each([
    ['training-data/a.jsonl', `s3://${BUCKET}/training-data/a.jsonl`],
    [`s3://${BUCKET}/training-data/team/b.jsonl`, `s3://${BUCKET}/training-data/team/b.jsonl`],
    // 1024 characters as an S3 URI: the most a CreateTrainingJob channel takes.
    [`training-data/${'a'.repeat(968)}.jsonl`, `s3://${BUCKET}/training-data/${'a'.repeat(968)}.jsonl`],
    // An uploaded file's folder without its slash is no prefix of the uploads' (file ids start with file-).
    ['training-data/files/file-01a24a7b40a94f0280b0e449', `s3://${BUCKET}/training-data/files/file-01a24a7b40a94f0280b0e449`],
    ['training-data/fine.jsonl', `s3://${BUCKET}/training-data/fine.jsonl`],
  ])('accepts %s', (value, uri) => expect(resolveTrainingFile(value, BUCKET)).toBe(uri));

  it.each([
    ['s3://other-bucket/training-data/a.jsonl', /outside your tenant bucket/],
    ['training-data/../models/a', /"\." or "\.\."/],
    ['training-data/./a', /"\." or "\.\."/],
    ['training-data/%2e%2e/a', /encoded/],
    ['training-data\\a', /backslash/],
    ['models/a.jsonl', /under training-data\//],
    ['training-data/', /under training-data\//],
    ['training-data/dir/', /a file, not a folder/],
    ['file:///etc/passwd', /s3:\/\/ URI or a key/],
    ['s3://', /not an s3:\/\/bucket\/key URI/],
    // SageMaker's channel S3Uri is at most 1024 characters (CreateTrainingJob refuses a longer one: a 502 and a failed job).
    [`training-data/${'a'.repeat(969)}.jsonl`, /is 1025 characters as s3:\/\/tessera-acme-data-444444444444\/<key>; a SageMaker training channel's S3Uri takes at most 1024/],
    // S3 keys are at most 1024 bytes of UTF-8: no object has a longer one.
    [`training-data/${'é'.repeat(510)}.jsonl`, /is a key of 1040 bytes; S3 keys have at most 1024/],
    // The Uploads API's records and parts (training-data/files/uploads/): trained on, the job read upload.json records and parts
    // cut mid-line. A key inside, or a prefix of it (an S3Prefix channel reads every object under it), was accepted.
    ['training-data/files/uploads/upload_01a24a7b40a94f0280b0e449/parts/part_1', /is inside training-data\/files\/uploads\/, where the Uploads API keeps its uploads' records and parts/],
    [`s3://${BUCKET}/training-data/files/uploads/upload_01a24a7b40a94f0280b0e449/upload.json`, /is inside training-data\/files\/uploads\//],
    ['training-data/files', /is a prefix of training-data\/files\/uploads\/: a training channel reads every object whose key starts with it/],
    ['training-data/files/uploads', /is a prefix of training-data\/files\/uploads\//],
    ['training-data/f', /is a prefix of training-data\/files\/uploads\//],
  ])('refuses %s with a 400 naming the field and the value', (value, why) => {
    try {
      resolveTrainingFile(value, BUCKET);
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(GatewayError);
      expect((e as GatewayError).status).toBe(400);
      expect((e as GatewayError).param).toBe('training_file');
      expect((e as Error).message).toContain(`training_file "${value}"`);
      expect((e as Error).message).toMatch(why);
    }
  });
});

describe('CreateTrainingJob input', () => {
  const base = DEFAULT_CONFIG.fineTuning.baseModels[0];
  const target = trainingTarget(trainedTenant('acme', 'enterprise', '444444444444'));
  it('encrypts the volume with the tenant key only where the instance has no local NVMe storage', () => {
    expect(createTrainingJobInput(job({ instanceType: 'ml.m5.2xlarge' }), base, DEFAULT_CONFIG.tiers.enterprise, target).ResourceConfig?.VolumeKmsKeyId).toBe(target.keyArn);
    expect(createTrainingJobInput(job({ instanceType: 'ml.p4d.24xlarge' }), base, DEFAULT_CONFIG.tiers.enterprise, target).ResourceConfig).not.toHaveProperty('VolumeKmsKeyId');
  });
  it('trains on spot with checkpoints in the tenant bucket and a wait limit when the tier says so', () => {
    const input = createTrainingJobInput(job({ spot: true }), base, DEFAULT_CONFIG.tiers.professional, target);
    expect(input).toMatchObject({ EnableManagedSpotTraining: true, StoppingCondition: { MaxRuntimeInSeconds: 43_200, MaxWaitTimeInSeconds: 86_400 }, CheckpointConfig: { S3Uri: expect.stringMatching(new RegExp(`^s3://${BUCKET}/checkpoints/acme-ft-`)) } });
  });
  it('keeps a spot job\'s MaxWaitTimeInSeconds within SageMaker\'s limits: at least MaxRuntimeInSeconds, at most 28 days (a job\'s whole life is 30)', () => {
    const spotInput = (maxRuntimeHours: number) => {
      const tier = { ...DEFAULT_CONFIG.tiers.professional, training: { ...DEFAULT_CONFIG.tiers.professional.training, maxRuntimeHours } };
      return createTrainingJobInput(job({ spot: true }), base, tier, target).StoppingCondition;
    };
    expect(spotInput(672)).toEqual({ MaxRuntimeInSeconds: 2_419_200, MaxWaitTimeInSeconds: 2_419_200 });
    expect(spotInput(400)).toEqual({ MaxRuntimeInSeconds: 1_440_000, MaxWaitTimeInSeconds: 2_419_200 });
    expect(spotInput(336)).toEqual({ MaxRuntimeInSeconds: 1_209_600, MaxWaitTimeInSeconds: 2_419_200 });
    expect(spotInput(1)).toEqual({ MaxRuntimeInSeconds: 3600, MaxWaitTimeInSeconds: 7200 });
    const onDemand = { ...DEFAULT_CONFIG.tiers.professional, training: { ...DEFAULT_CONFIG.tiers.professional.training, maxRuntimeHours: 672 } };
    expect(createTrainingJobInput(job({ spot: false }), base, onDemand, target).StoppingCondition).toEqual({ MaxRuntimeInSeconds: 2_419_200 });
  });
  it('refuses a tenant whose blueprint has no training resources (403)', () => {
    expect(() => trainingTarget({ ...trainedTenant('acme', 'starter', '444444444444'), stackOutputs: { BucketName: BUCKET } })).toThrow(/KeyArn, TrainingRoleArn, ComputeSubnetIds, WorkloadSecurityGroupId missing/);
  });
  it('names SageMaker resources so that one tenant\'s IAM pattern cannot match another\'s', () => {
    const pattern = new RegExp(`^${sageMakerNamePattern('acme').replace(/\?/g, '.')}$`);
    expect(pattern.test(trainingJobName('acme', 'ftjob-0123456789abcdef01234567'))).toBe(true);
    expect(pattern.test(trainingJobName('acme-ft-x', 'ftjob-0123456789abcdef01234567'))).toBe(false);
    expect(pattern.test(trainingJobName('acme-ft-0123456789abcdef0123', 'ftjob-0123456789abcdef01234567'))).toBe(false);
  });
});

describe('job store (memory)', () => {
  it('admits exactly the limit of concurrent creations and gives a slot back when a job ends', async () => {
    const store = new MemoryJobStore();
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.create(job(), 3)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ConcurrentJobLimitError)).toBe(true);
    const [first] = await store.list('acme');
    expect(await store.update({ ...first, status: 'failed' }, 'running')).toBe(false); // stale expectation: nothing written
    expect(await store.update({ ...first, status: 'failed' }, 'queued')).toBe(true);
    await expect(store.create(job(), 3)).resolves.toBeUndefined();
    expect(await store.get('globex', first.id)).toBeUndefined();
  });
});

describe('training state changes', () => {
  let jobs: MemoryJobStore;
  let events: TrainingEvents;
  let audit: MemoryAuditSink;
  let registry: MemoryStore;
  beforeEach(() => {
    sageMaker.reset();
    jobs = new MemoryJobStore();
    audit = new MemoryAuditSink();
    registry = new MemoryStore();
    registry.putTenant(trainedTenant('acme', 'enterprise', '444444444444'));
    events = new TrainingEvents({ config: DEFAULT_CONFIG, jobs, tenants: memoryTenantModels(registry), audit, sageMaker: async () => new SageMakerClient({}) });
  });

  it('refuses to deploy artifacts outside the tenant bucket\'s models/ prefix', async () => {
    const j = job({ status: 'running' });
    await jobs.create(j, 5);
    expect(await events.handle({ TrainingJobName: j.trainingJobName, TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: 's3://tessera-globex-data-555555555555/models/x/model.tar.gz' } }, '444444444444')).toBe('failed');
    expect(await jobs.get('acme', j.id)).toMatchObject({ status: 'failed', error: { code: 'deployment_failed', message: expect.stringContaining('not in the tenant bucket') } });
    expect(sageMaker.commandCalls(CreateModelCommand)).toHaveLength(0);
    expect(audit.records[0]).toMatchObject({ action: 'fine_tuning.model.deployment_failed', outcome: 'deployment_failed' });
  });

  it('records a failed deployment with SageMaker\'s error, and tolerates what exists already from a repeated event', async () => {
    const j = job({ status: 'running' });
    await jobs.create(j, 5);
    sageMaker.on(CreateModelCommand).rejects(Object.assign(new Error(`Cannot create already existing model "${j.trainingJobName}"`), { name: 'ValidationException' }));
    sageMaker.on(CreateEndpointConfigCommand).resolves({});
    sageMaker.on(CreateEndpointCommand).rejects(Object.assign(new Error('The account-level service limit for ml.g5.2xlarge endpoint usage is 0'), { name: 'ResourceLimitExceeded' }));
    expect(await events.handle({ TrainingJobName: j.trainingJobName, TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: `s3://${BUCKET}/models/${j.trainingJobName}/output/model.tar.gz` } }, '444444444444')).toBe('failed');
    expect((await jobs.get('acme', j.id))?.error?.message).toBe('could not deploy the model: ResourceLimitExceeded: The account-level service limit for ml.g5.2xlarge endpoint usage is 0');
  });

  it('marks a stopped job cancelled, ignores unknown jobs and stale events', async () => {
    const j = job({ status: 'running' });
    await jobs.create(j, 5);
    expect(await events.handle({ TrainingJobName: 'someone-elses-job', TrainingJobStatus: 'Completed' }, '444444444444')).toBe('ignored');
    expect(await events.handle({ TrainingJobName: j.trainingJobName, TrainingJobStatus: 'Stopped' }, '444444444444')).toBe('cancelled');
    expect(await events.handle({ TrainingJobName: j.trainingJobName, TrainingJobStatus: 'InProgress' }, '444444444444')).toBe('stale');
    expect((await jobs.get('acme', j.id))?.status).toBe('cancelled');
  });

  it('deploys nothing for a tenant being offboarded: the job is cancelled as the retirement cancels one (no endpoint after the retirement)', async () => {
    registry.putTenant(trainedTenant('acme', 'enterprise', '444444444444', { status: 'OFFBOARDING' }));
    const j = job({ status: 'running' });
    await jobs.create(j, 5);
    sageMaker.on(CreateModelCommand).resolves({});
    sageMaker.on(CreateEndpointConfigCommand).resolves({});
    sageMaker.on(CreateEndpointCommand).resolves({});
    expect(await events.handle({ TrainingJobName: j.trainingJobName, TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: `s3://${BUCKET}/models/${j.trainingJobName}/output/model.tar.gz` } }, '444444444444')).toBe('cancelled');
    expect(sageMaker.commandCalls(CreateModelCommand)).toHaveLength(0);
    expect(sageMaker.commandCalls(CreateEndpointCommand)).toHaveLength(0);
    const after = (await jobs.get('acme', j.id))!;
    expect(after.status).toBe('cancelled');
    expect(after.events[0].message.startsWith(OFFBOARDING_CANCEL_EVENT)).toBe(true);
    expect((await registry.getTenant('acme'))?.fineTunedModels ?? []).toEqual([]);
  });

  it('records the training\'s own span for the statements: SageMaker\'s TrainingStartTime and TrainingEndTime (or when seen), not the deployment after it', async () => {
    const queued = job({ status: 'queued' });
    await jobs.create(queued, 5);
    // An event's times as epoch milliseconds; DescribeTrainingJob's (the local poller) as Dates.
    expect(await events.handle({ TrainingJobName: queued.trainingJobName, TrainingJobStatus: 'InProgress', TrainingStartTime: Date.parse('2026-10-05T00:30:00Z') }, '444444444444')).toBe('running');
    expect(await jobs.get('acme', queued.id)).toMatchObject({ status: 'running', trainingStartedAt: Date.parse('2026-10-05T00:30:00Z') / 1000 });
    registry.putTenant(trainedTenant('acme', 'enterprise', '444444444444', { status: 'OFFBOARDING' })); // ends at the deployment's tenant check: no SageMaker call here
    expect(await events.handle({ TrainingJobName: queued.trainingJobName, TrainingJobStatus: 'Completed', TrainingEndTime: new Date('2026-10-05T02:30:00Z') }, '444444444444')).toBe('cancelled');
    const ended = (await jobs.get('acme', queued.id))!;
    expect(ended).toMatchObject({ trainingStartedAt: Date.parse('2026-10-05T00:30:00Z') / 1000, trainingEndedAt: Date.parse('2026-10-05T02:30:00Z') / 1000 });
    // Without SageMaker's times: when the handler saw it.
    const other = job({ status: 'running' });
    await jobs.create(other, 5);
    const before = Math.floor(Date.now() / 1000);
    expect(await events.handle({ TrainingJobName: other.trainingJobName, TrainingJobStatus: 'Failed', FailureReason: 'x' }, '444444444444')).toBe('failed');
    expect((await jobs.get('acme', other.id))!.trainingEndedAt).toBeGreaterThanOrEqual(before);
  });

  it('a terminal event\'s TrainingStartTime replaces the start kept from an InProgress that had none (when it was seen, before the instances started)', async () => {
    const queued = job({ status: 'queued' });
    await jobs.create(queued, 5);
    const seen = Math.floor(Date.now() / 1000);
    expect(await events.handle({ TrainingJobName: queued.trainingJobName, TrainingJobStatus: 'InProgress', SecondaryStatus: 'Starting' }, '444444444444')).toBe('running');
    expect((await jobs.get('acme', queued.id))!.trainingStartedAt).toBeGreaterThanOrEqual(seen);
    const start = seen + 600;
    expect(await events.handle({ TrainingJobName: queued.trainingJobName, TrainingJobStatus: 'Stopped', TrainingStartTime: start * 1000, TrainingEndTime: (start + 3600) * 1000 }, '444444444444')).toBe('cancelled');
    expect(await jobs.get('acme', queued.id)).toMatchObject({ status: 'cancelled', trainingStartedAt: start, trainingEndedAt: start + 3600 });
  });

  it('keeps a job that ended as it ended: a late or repeated Failed event does not turn a cancelled or succeeded job into a failed one', async () => {
    const cancelled = job({ status: 'cancelled', events: [{ id: 'ftevent-1', created_at: 1, level: 'warn', message: `${OFFBOARDING_CANCEL_EVENT} (x)` }] });
    const succeeded = job({ status: 'succeeded' });
    for (const j of [cancelled, succeeded]) await jobs.create(j, 5);
    for (const j of [cancelled, succeeded]) {
      expect(await events.handle({ TrainingJobName: j.trainingJobName, TrainingJobStatus: 'Failed', FailureReason: 'late' }, '444444444444')).toBe('stale');
      expect((await jobs.get('acme', j.id))?.status).toBe(j.status);
    }
    expect(audit.records).toEqual([]);
  });
});

describe('fine-tuning config', () => {
  const errorOf = (overrides: unknown) => {
    try {
      loadConfig({ overrides });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  it.each([
    [{ tiers: { professional: { training: { baseModels: ['gpt-5'] } } } }, /tiers\.professional\.training\.baseModels\[0\] = "gpt-5": "gpt-5" is not a base model of fineTuning\.baseModels/],
    [{ tiers: { professional: { training: { endpointInstanceTypes: [] } } } }, /tiers\.professional\.training\.endpointInstanceTypes.*must name at least one instance type when training is enabled/],
    [{ tiers: { professional: { training: { instanceTypes: ['ml.g5.3xlarge'] } } } }, /tiers\.professional\.training\.instanceTypes\[0\] = "ml\.g5\.3xlarge": is not a SageMaker instance type AWS sells/],
    [{ fineTuning: { baseModels: [{ ...DEFAULT_CONFIG.fineTuning.baseModels[0], trainingImage: 'docker.io/evil:latest' }] } }, /fineTuning\.baseModels\[0\]\.trainingImage = "docker\.io\/evil:latest": must be an ECR image URI/],
  ])('refuses %j naming the key path', (overrides, message) => expect(errorOf(overrides)).toMatch(message));
});
