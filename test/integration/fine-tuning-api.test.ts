import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, CreateTrainingJobCommand, DescribeEndpointCommand, SageMakerClient, StopTrainingJobCommand, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient, SageMakerRuntimeServiceException } from '@aws-sdk/client-sagemaker-runtime';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../support/strict-mock.js';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryAuditSink } from '../../lambdas/inference/audit.js';
import type { MemoryStore } from '../../lambdas/inference/stores/memory-store.js';
import { EndpointEvents } from '../../lambdas/fine-tuning/endpoint-events.js';
import { TrainingEvents } from '../../lambdas/fine-tuning/training-events.js';
import { memoryTenantModels } from '../../lambdas/fine-tuning/stores/tenant-models.js';
import { MemoryJobStore, type FineTuningStore } from '../../lambdas/fine-tuning/stores/job-store.js';
import { DirPendingCreates } from '../../lambdas/inference/stores/dir-pending-creates.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { runPythonCode } from '../support/python-zygote.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';

const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const runtime = mockStrict(SageMakerRuntimeClient, 'sagemaker-runtime', SageMakerRuntimeServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const ACME = '444444444444';
const GLOBEX = '555555555555';

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};
const client = (tenant: string) => new OpenAI({ baseURL: gw.url, apiKey: tokens[tenant], maxRetries: 0 });
const config = gatewayConfig();
// acme's tests keep many jobs side by side; the deployed-model bound (training.maxDeployedModels) has its own tests
// (test/unit/fine-tuning/deployed-model-limit.test.ts).
config.tiers.enterprise!.training.maxDeployedModels = 100;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(config, upstream.url, [
    trainedTenant('acme', 'enterprise', ACME), trainedTenant('globex', 'professional', GLOBEX), trainedTenant('starterco', 'starter', '666666666666'),
    trainedTenant('umbrella', 'enterprise', '777777777777'), trainedTenant('hooli', 'enterprise', '888888888888'),
  ], { fineTuning: { sageMaker: async () => new SageMakerClient({}) } });
  // Creating and cancelling jobs needs fine_tuning.write: developers' tokens (a member may not).
  for (const t of ['acme', 'globex', 'starterco', 'umbrella', 'hooli']) tokens[t] = await gw.token(t, { role: 'developer' });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  sageMaker.reset();
  sageMaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:444444444444:training-job/x' });
});

const acmeBucket = `tessera-acme-data-${ACME}`;
const lastAudit = () => gw.audit.records.at(-1)!;
const lastAuditOf = (action: string) => gw.audit.records.findLast((r) => r.action === action);

describe('fine-tuning through the official openai client against tessera serve', () => {
  it('creates a job: a training job in the tenant account with every isolation setting, recorded and audited', async () => {
    const job = await client('acme').fineTuning.jobs.create({
      model: 'llama-3.1-8b-instruct', training_file: `s3://${acmeBucket}/training-data/support.jsonl`, suffix: 'support',
      hyperparameters: { n_epochs: 2, batch_size: 16, learning_rate_multiplier: 0.5 },
    });
    expect(job).toMatchObject({ object: 'fine_tuning.job', model: 'llama-3.1-8b-instruct', status: 'queued', organization_id: 'acme', user_provided_suffix: 'support', fine_tuned_model: null });
    expect(job.id).toMatch(/^ftjob-[0-9a-f]{24}$/);
    const input = sageMaker.commandCalls(CreateTrainingJobCommand)[0].args[0].input;
    const key = `arn:aws:kms:us-east-1:${ACME}:key/acme-0000-0000-0000-000000000000`;
    expect(input).toMatchObject({
      TrainingJobName: `acme-ft-${job.id.slice(6)}`,
      RoleArn: `arn:aws:iam::${ACME}:role/tessera-acme-training`,
      EnableNetworkIsolation: true, EnableInterContainerTrafficEncryption: true, EnableManagedSpotTraining: false,
      VpcConfig: { Subnets: ['subnet-acmea', 'subnet-acmeb'], SecurityGroupIds: ['sg-acme0001'] },
      OutputDataConfig: { S3OutputPath: `s3://${acmeBucket}/models/`, KmsKeyId: key },
      StoppingCondition: { MaxRuntimeInSeconds: 72 * 3600 },
      HyperParameters: { n_epochs: '2', batch_size: '16', learning_rate_multiplier: '0.5', base_model: 'llama-3.1-8b-instruct' },
      Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:fine-tuning-job', Value: job.id }],
    });
    // ml.g5.2xlarge has local NVMe storage: SageMaker encrypts it in hardware and refuses a volume key.
    expect(input.ResourceConfig).toEqual({ InstanceType: 'ml.g5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 200 });
    expect(input.InputDataConfig?.map((c) => [c.ChannelName, c.DataSource?.S3DataSource?.S3Uri])).toEqual([
      ['train', `s3://${acmeBucket}/training-data/support.jsonl`], ['model', 's3://tessera-base-models-222222222222/llama-3.1-8b-instruct/'],
    ]);
    expect(lastAudit()).toMatchObject({ tenantId: 'acme', action: 'fine_tuning.job.create', status: 200, outcome: 'ok', detail: { jobId: job.id, trainingFile: `s3://${acmeBucket}/training-data/support.jsonl` } });
  });

  it('lists, reads and shows the events of the caller\'s jobs, newest first, and pages them', async () => {
    const second = await client('acme').fineTuning.jobs.create({ model: 'mistral-7b-instruct', training_file: 'training-data/sales.jsonl' });
    const page = await client('acme').fineTuning.jobs.list({ limit: 1 });
    expect(page.data.map((j) => j.id)).toEqual([second.id]);
    expect(page.has_more).toBe(true);
    const all = await client('acme').fineTuning.jobs.list();
    expect(all.data).toHaveLength(2);
    expect(all.data.every((j) => j.organization_id === 'acme')).toBe(true);
    const read = await client('acme').fineTuning.jobs.retrieve(second.id);
    expect(read).toMatchObject({ id: second.id, training_file: `s3://${acmeBucket}/training-data/sales.jsonl`, hyperparameters: { n_epochs: 3, batch_size: 8, learning_rate_multiplier: 1 } });
    const events = await client('acme').fineTuning.jobs.listEvents(second.id);
    expect(events.data.map((e) => e.message)).toEqual([expect.stringMatching(/^Training job acme-ft-[0-9a-f]{24} submitted on ml\.g5\.2xlarge$/), `Created fine-tuning job ${second.id}`]);
    expect(events.data[0]).toMatchObject({ object: 'fine_tuning.job.event', level: 'info' });
    const after = await client('acme').fineTuning.jobs.listEvents(second.id, { after: events.data[0].id });
    expect(after.data.map((e) => e.id)).toEqual([events.data[1].id]);
    // An event id the job does not have: refused naming `after`, as jobs.list refuses an unknown job (it answered the first page).
    const unknown = await client('acme').fineTuning.jobs.listEvents(second.id, { after: 'ftevent-000000000000000000000000' }).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.error).toMatchObject({ code: 'event_not_found', param: 'after' });
  });

  it('takes hyperparameters in OpenAI\'s current form (method.supervised), a seed and metadata, and answers them', async () => {
    const job = await client('acme').fineTuning.jobs.create({
      model: 'llama-3.1-8b-instruct', training_file: 'training-data/method.jsonl', seed: 42, metadata: { team: 'support', ticket: 'FT-7' },
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 4, batch_size: 'auto' } } },
    });
    expect(job).toMatchObject({ seed: 42, metadata: { team: 'support', ticket: 'FT-7' }, hyperparameters: { n_epochs: 4, batch_size: 8, learning_rate_multiplier: 1 }, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 4 } } } });
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)[0]!.args[0].input.HyperParameters).toMatchObject({ n_epochs: '4', batch_size: '8', seed: '42' });
    expect(await client('acme').fineTuning.jobs.retrieve(job.id)).toMatchObject({ seed: 42, metadata: { team: 'support', ticket: 'FT-7' } });
    // Without a seed, one is drawn (as OpenAI does), passed on and answered.
    const drawn = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/method.jsonl', suffix: 'drawn' });
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)[1]!.args[0].input.HyperParameters!.seed).toBe(String(drawn.seed));
    expect(drawn.metadata).toBeNull();
    await Promise.all([job, drawn].map((j) => client('acme').fineTuning.jobs.cancel(j.id).catch(() => undefined)));
    // No suffix given: the model id's suffix field is empty (ft:<base>:<tenant>::<job part>), and the job answers user_provided_suffix null, as OpenAI's.
    const unnamed = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/method.jsonl' });
    // Not in the SDK's type, in OpenAI's answers.
    const suffixOf = (j: object) => (j as { user_provided_suffix?: string | null }).user_provided_suffix;
    expect(suffixOf(unnamed)).toBeNull();
    expect(suffixOf(drawn)).toBe('drawn');
    await client('acme').fineTuning.jobs.cancel(unnamed.id);
    // jobs.list's metadata filter, as the SDK sends it (metadata[team]=support).
    expect((await client('acme').fineTuning.jobs.list({ metadata: { team: 'support' } })).data.map((j) => j.id)).toEqual([job.id]);
    expect((await client('acme').fineTuning.jobs.list({ metadata: { team: 'support', ticket: 'FT-8' } })).data).toEqual([]);
    expect((await client('acme').fineTuning.jobs.list({ metadata: null })).data.map((j) => j.id)).not.toContain(job.id);
    // The key "" (sent as metadata[]=…) filters too: no job has it, so none is listed (the filter was dropped and every job listed).
    expect((await client('acme').fineTuning.jobs.list({ metadata: { '': 'support' } })).data).toEqual([]);
    const res = await fetch(`${gw.url}/fine_tuning/jobs?metadata[]=support`, { headers: { authorization: `Bearer ${tokens.acme}` } });
    expect(((await res.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it('answers integrations as sent where OpenAI\'s FineTuningJob type allows it: [] as [] (it was null), absent as null (official Node and Python clients)', async () => {
    const sent = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/integrations.jsonl', integrations: [] });
    expect(sent.integrations).toEqual([]);
    expect((await client('acme').fineTuning.jobs.retrieve(sent.id)).integrations).toEqual([]);
    expect((await client('acme').fineTuning.jobs.list({ limit: 100 })).data.find((j) => j.id === sent.id)?.integrations).toEqual([]);
    const cancelled = await client('acme').fineTuning.jobs.cancel(sent.id);
    expect(cancelled.integrations).toEqual([]);
    const { stdout } = await runPythonCode(`
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
sent = c.fine_tuning.jobs.create(model="llama-3.1-8b-instruct", training_file="training-data/integrations.jsonl", integrations=[])
none = c.fine_tuning.jobs.create(model="llama-3.1-8b-instruct", training_file="training-data/integrations.jsonl")
out = [sent.integrations, c.fine_tuning.jobs.retrieve(sent.id).integrations, none.integrations]
for j in (sent, none): c.fine_tuning.jobs.cancel(j.id)
print(json.dumps(out))
`, [gw.url, tokens.acme!]);
    expect(JSON.parse(stdout)).toEqual([[], [], null]);
  });

  it('pages on from a job the metadata filter leaves out (the official client\'s after): a position among the jobs, not a 404 for a job that exists', async () => {
    const jobs = client('acme').fineTuning.jobs;
    const east = await jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/page.jsonl', suffix: 'page-east', metadata: { region: 'east' } });
    const west = await jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/page.jsonl', suffix: 'page-west', metadata: { region: 'west' } });
    // The west job, newest, is the cursor a caller holds from an unfiltered page; filtered on east, the page goes on past it
    // (it was a 404 job_not_found: "does not exist", for a job jobs.retrieve answers).
    expect((await jobs.list({ limit: 1 })).data.map((j) => j.id)).toEqual([west.id]);
    const east1 = await jobs.list({ after: west.id, metadata: { region: 'east' } });
    expect(east1.data.map((j) => j.id)).toEqual([east.id]);
    expect((await jobs.list({ after: west.id, metadata: { region: 'west' } })).data).toEqual([]);
    // The filter still applies after the cursor (jobs without metadata, then none of west's), and an id that is no job of the caller stays a 404.
    expect((await jobs.list({ after: west.id, metadata: null })).data.map((j) => j.id)).not.toContain(east.id);
    const unknown = await jobs.list({ after: 'ftjob-000000000000000000000000', metadata: { region: 'east' } }).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.error).toMatchObject({ code: 'job_not_found', param: 'after' });
    sageMaker.on(StopTrainingJobCommand).resolves({});
    for (const j of [east, west]) await jobs.cancel(j.id);
  });

  it('cancels a job: StopTrainingJob in the tenant account, the slot given back', async () => {
    sageMaker.on(StopTrainingJobCommand).resolves({});
    const first = await client('globex').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: `training-data/a.jsonl` });
    // professional allows one job at a time
    const refused = await client('globex').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/b.jsonl' }).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    // OpenAI's code for a rate limit (it was Tessera's own `concurrent_job_limit`), the limit said in the message.
    expect(refused.error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', message: 'This fine-tune request has been rate-limited: tenant globex already runs 1 fine-tuning job(s), the limit of tier "professional"; wait for one to finish or cancel one' });
    const cancelled = await client('globex').fineTuning.jobs.cancel(first.id);
    expect(cancelled.status).toBe('cancelled');
    expect(sageMaker.commandCalls(StopTrainingJobCommand)[0].args[0].input).toEqual({ TrainingJobName: `globex-ft-${first.id.slice(6)}` });
    // professional trains on spot, with checkpoints in its own bucket
    const next = await client('globex').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/b.jsonl' });
    const spot = sageMaker.commandCalls(CreateTrainingJobCommand).at(-1)!.args[0].input;
    expect(spot).toMatchObject({ EnableManagedSpotTraining: true, StoppingCondition: { MaxRuntimeInSeconds: 12 * 3600, MaxWaitTimeInSeconds: 24 * 3600 }, CheckpointConfig: { S3Uri: `s3://tessera-globex-data-${GLOBEX}/checkpoints/globex-ft-${next.id.slice(6)}/` } });
    const again = await client('globex').fineTuning.jobs.cancel(first.id).catch((e) => e);
    expect(again).toBeInstanceOf(OpenAI.BadRequestError);
    expect(again.code).toBe('job_not_cancellable');
    await client('globex').fineTuning.jobs.cancel(next.id);
  });

  it('tells the SDKs not to retry a refused create: one call, one CreateTrainingJob, one failed job (a retry is a new job)', async () => {
    const retrying = new OpenAI({ baseURL: gw.url, apiKey: tokens.globex, maxRetries: 2 }); // the SDK's default
    const jobsBefore = (await client('globex').fineTuning.jobs.list()).data.length;
    sageMaker.on(CreateTrainingJobCommand).rejects(Object.assign(new Error('No capacity'), { name: 'ResourceLimitExceeded' }));
    const capacity = await retrying.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/r.jsonl' }).catch((e) => e);
    expect([capacity.status, capacity.code, capacity.headers.get('x-should-retry')]).toEqual([429, 'training_capacity_exceeded', 'false']);
    sageMaker.on(CreateTrainingJobCommand).rejects(Object.assign(new Error('Could not assume role'), { name: 'ValidationException' }));
    const refused = await retrying.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/r.jsonl' }).catch((e) => e);
    expect([refused.status, refused.code, refused.headers.get('x-should-retry')]).toEqual([502, 'training_job_not_created', 'false']);
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(2);
    expect((await client('globex').fineTuning.jobs.list()).data.length).toBe(jobsBefore + 2);
    // The tier's limit: a job runs for hours, so no retry either.
    sageMaker.on(CreateTrainingJobCommand).resolves({});
    const running = await client('globex').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/r.jsonl' });
    const limited = await retrying.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/r2.jsonl' }).catch((e) => e);
    expect([limited.status, limited.code, limited.headers.get('x-should-retry')]).toEqual([429, 'rate_limit_exceeded', 'false']);
    expect(gw.audit.records.filter((r) => r.outcome === 'rate_limit_exceeded' && r.detail?.limit === 'concurrent_jobs' && r.tenantId === 'globex').length).toBeGreaterThanOrEqual(1);
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(3);
    await client('globex').fineTuning.jobs.cancel(running.id);
  });

  it('answers a cancel SageMaker refused 502 naming the cause, not to be retried (one StopTrainingJob per call), the job still active', async () => {
    const retrying = new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, maxRetries: 2 }); // the SDK's default
    const job = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/stop.jsonl', suffix: 'stopfail' });
    sageMaker.on(StopTrainingJobCommand).rejects(Object.assign(new Error('SageMaker is unavailable'), { name: 'ServiceUnavailable' }));
    const refused = await retrying.fineTuning.jobs.cancel(job.id).catch((e) => e);
    expect([refused.status, refused.code, refused.headers.get('x-should-retry')]).toEqual([502, 'upstream_error', 'false']);
    expect(refused.message).toMatch(/SageMaker did not stop acme-ft-[0-9a-f]{24} \(ServiceUnavailable: SageMaker is unavailable\); the job is still queued/);
    expect(sageMaker.commandCalls(StopTrainingJobCommand)).toHaveLength(1);
    expect((await client('acme').fineTuning.jobs.retrieve(job.id)).status).toBe('queued');
    sageMaker.on(StopTrainingJobCommand).resolves({});
    await client('acme').fineTuning.jobs.cancel(job.id);
  });

  it('stops the training job it just created when the job was cancelled meanwhile (by its user, or an offboarding\'s retirement)', async () => {
    const store = gw.jobs as FineTuningStore;
    sageMaker.on(StopTrainingJobCommand).resolves({});
    // The cancellation lands while CreateTrainingJob is in flight (the job still validating_files).
    sageMaker.on(CreateTrainingJobCommand).callsFake(async (input: { TrainingJobName: string }) => {
      const pending = (await store.findByTrainingJobName(input.TrainingJobName))!;
      expect(await store.update({ ...pending, status: 'cancelled', finishedAt: 1 }, 'validating_files')).toBe(true);
      return {};
    });
    const job = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/race.jsonl', suffix: 'race' });
    expect(job.status).toBe('cancelled');
    expect(sageMaker.commandCalls(StopTrainingJobCommand).map((c) => c.args[0].input.TrainingJobName)).toEqual([`acme-ft-${job.id.slice(6)}`]);
    expect((await client('acme').fineTuning.jobs.retrieve(job.id)).status).toBe('cancelled');
  });

  it('records SageMaker\'s refusal on the job and answers 502, releasing the slot', async () => {
    sageMaker.on(CreateTrainingJobCommand).rejects(Object.assign(new Error('Could not assume role'), { name: 'ValidationException' }));
    const e = await client('globex').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/c.jsonl' }).catch((x) => x);
    expect(e.status).toBe(502);
    const failed = (await client('globex').fineTuning.jobs.list()).data[0];
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'training_job_not_created', message: expect.stringContaining('ValidationException: Could not assume role') } });
    sageMaker.on(CreateTrainingJobCommand).resolves({});
    await client('globex').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/d.jsonl' }).then((j) => client('globex').fineTuning.jobs.cancel(j.id));
  });

  it('serves a finished job\'s model through the gateway: deployed in the tenant account, invoked as its model-invoker role', async () => {
    sageMaker.on(CreateModelCommand).resolves({}).on(CreateEndpointConfigCommand).resolves({}).on(CreateEndpointCommand).resolves({});
    sts.reset();
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'a', SecretAccessKey: 'b', SessionToken: 'c', Expiration: new Date(Date.now() + 900_000) } });
    runtime.reset();
    runtime.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode(JSON.stringify({ choices: [{ message: { content: 'tuned answer' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 2 } })) as never });
    const job = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/faq.jsonl', suffix: 'faq' });
    // The model id ends in the job's own part (its id's last 8 hex digits), as OpenAI's do.
    const faqModel = `ft:llama-3.1-8b-instruct:acme:faq:${job.id.slice(-8)}`;
    const events = new TrainingEvents({ config, jobs: gw.jobs as FineTuningStore, tenants: memoryTenantModels(gw.store as MemoryStore), audit: gw.audit as MemoryAuditSink, sageMaker: async () => new SageMakerClient({}) });
    const name = `acme-ft-${job.id.slice(6)}`;
    expect(await events.handle({ TrainingJobName: name, TrainingJobStatus: 'InProgress', SecondaryStatus: 'Downloading' }, ACME)).toBe('running');
    expect(lastAudit()).toMatchObject({ action: 'fine_tuning.data.read', tenantId: 'acme', detail: { trainingFile: `s3://${acmeBucket}/training-data/faq.jsonl`, readBy: 'tessera-acme-training' } });
    sageMaker.on(DescribeEndpointCommand, { EndpointName: name }).resolves({ EndpointStatus: 'Creating' } as never);
    expect(await events.handle({ TrainingJobName: name, TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: `s3://${acmeBucket}/models/${name}/output/model.tar.gz` } }, ACME)).toBe('running');

    // While the endpoint is Creating: the job is running, no fine_tuned_model, the model neither listed nor routed
    // (the old code answered succeeded here, and a chat reached the endpoint: SageMaker's ValidationError, a 502 upstream_misconfigured)
    expect(await client('acme').fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: 'running', fine_tuned_model: null, finished_at: null });
    expect((await client('acme').models.list()).data.map((m) => m.id)).not.toContain(faqModel);
    const early = await client('acme').chat.completions.create({ model: faqModel, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(early).toBeInstanceOf(OpenAI.NotFoundError);
    expect(early.error).toMatchObject({ code: 'model_not_found', param: 'model', message: expect.stringContaining('a fine-tuned model is served once its job has succeeded, its endpoint in service (GET /v1/fine_tuning/jobs)') });
    expect(runtime.commandCalls(InvokeEndpointCommand)).toHaveLength(0);

    // SageMaker's event once the endpoint is in service
    sageMaker.on(DescribeEndpointCommand, { EndpointName: name }).resolves({ EndpointStatus: 'InService' } as never);
    const endpoints = new EndpointEvents({ config, jobs: gw.jobs as FineTuningStore, tenants: memoryTenantModels(gw.store as MemoryStore), audit: gw.audit as MemoryAuditSink, sageMaker: async () => new SageMakerClient({}) });
    expect(await endpoints.handle({ EndpointName: name, EndpointStatus: 'IN_SERVICE' }, ACME)).toBe('succeeded');

    const done = await client('acme').fineTuning.jobs.retrieve(job.id);
    expect(done).toMatchObject({ status: 'succeeded', fine_tuned_model: faqModel });
    expect(sageMaker.commandCalls(CreateModelCommand)[0].args[0].input).toMatchObject({ ModelName: name, EnableNetworkIsolation: true, ExecutionRoleArn: `arn:aws:iam::${ACME}:role/tessera-acme-training`, VpcConfig: { Subnets: ['subnet-acmea', 'subnet-acmeb'] } });
    // enterprise's first endpoint type, ml.g5.2xlarge, has local NVMe: hardware-encrypted, no KmsKeyId accepted
    expect(sageMaker.commandCalls(CreateEndpointConfigCommand)[0].args[0].input).toMatchObject({ EndpointConfigName: name, ProductionVariants: [{ ModelName: name, InstanceType: 'ml.g5.2xlarge', InitialInstanceCount: 1 }] });
    expect(lastAuditOf('fine_tuning.model.deployed')).toMatchObject({ action: 'fine_tuning.model.deployed', detail: { fineTunedModel: faqModel, endpointName: name } });

    const models = await client('acme').models.list();
    expect(models.data.map((m) => m.id)).toContain(faqModel);
    const answer = await client('acme').chat.completions.create({ model: faqModel, messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0].message.content).toBe('tuned answer');
    expect(runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input.EndpointName).toBe(name);
    expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).toMatchObject({ RoleArn: `arn:aws:iam::${ACME}:role/tessera-acme-model-invoker`, Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }] });

    // The same event again changes nothing; globex cannot call acme's model.
    expect(await events.handle({ TrainingJobName: name, TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: `s3://${acmeBucket}/models/${name}/output/model.tar.gz` } }, ACME)).toBe('stale');
    const other = await client('globex').chat.completions.create({ model: faqModel, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(other).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('records a failed training with SageMaker\'s reason, shown by the API', async () => {
    const job = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/bad.jsonl' });
    const events = new TrainingEvents({ config, jobs: gw.jobs as FineTuningStore, tenants: memoryTenantModels(gw.store as MemoryStore), audit: gw.audit as MemoryAuditSink, sageMaker: async () => new SageMakerClient({}) });
    await events.handle({ TrainingJobName: `acme-ft-${job.id.slice(6)}`, TrainingJobStatus: 'Failed', FailureReason: 'AlgorithmError: training data line 3 is not JSON' }, ACME);
    const read = await client('acme').fineTuning.jobs.retrieve(job.id);
    expect(read).toMatchObject({ status: 'failed', error: { code: 'training_failed', message: 'AlgorithmError: training data line 3 is not JSON' } });
    expect(lastAuditOf('fine_tuning.job.failed')).toMatchObject({ action: 'fine_tuning.job.failed', outcome: 'training_failed' });
  });
});

describe('fine-tuning refusals: a 4xx in OpenAI\'s shape, nothing started, every one audited', () => {
  const cases: Array<[string, string, Record<string, unknown>, number, string, string | null]> = [
    ['another tenant\'s bucket', 'globex', { model: 'llama-3.1-8b-instruct', training_file: `s3://${acmeBucket}/training-data/support.jsonl` }, 400, 'invalid_training_file', 'training_file'],
    ['another bucket altogether', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 's3://public-datasets/training-data/x.jsonl' }, 400, 'invalid_training_file', 'training_file'],
    ['a path escaping the prefix', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/../models/other.tar.gz' }, 400, 'invalid_training_file', 'training_file'],
    ['a file outside training-data/', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'models/x.jsonl' }, 400, 'invalid_training_file', 'training_file'],
    ['an encoded path', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/%2e%2e/x' }, 400, 'invalid_training_file', 'training_file'],
    ['an https URL', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'https://example.com/x.jsonl' }, 400, 'invalid_training_file', 'training_file'],
    ['another tenant\'s validation file', 'globex', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', validation_file: `s3://${acmeBucket}/training-data/v.jsonl` }, 400, 'invalid_training_file', 'validation_file'],
    ['another tenant\'s role', 'globex', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', role_arn: `arn:aws:iam::${ACME}:role/tessera-acme-training` }, 400, 'field_not_allowed', 'role_arn'],
    ['another tenant\'s key', 'globex', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', kms_key_id: `arn:aws:kms:us-east-1:${ACME}:key/x` }, 400, 'field_not_allowed', 'kms_key_id'],
    ['another tenant\'s subnets', 'globex', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', subnets: ['subnet-acmea'] }, 400, 'field_not_allowed', 'subnets'],
    // OpenAI's answer to a model it does not fine-tune: 400 model_not_available, param null (modelNotAvailable); it was a 404 model_not_found
    ['an unknown base model', 'acme', { model: 'gpt-4o', training_file: 'training-data/a.jsonl' }, 400, 'model_not_available', null],
    ['a base model the tier does not allow', 'globex', { model: 'mistral-7b-instruct', training_file: 'training-data/a.jsonl' }, 403, 'model_not_allowed', 'model'],
    ['a tier without training', 'starterco', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' }, 403, 'fine_tuning_not_allowed', null],
    ['an instance type the tier does not allow', 'globex', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', instance_type: 'ml.p4d.24xlarge' }, 400, 'instance_type_not_allowed', 'instance_type'],
    ['epochs out of range', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', hyperparameters: { n_epochs: 50 } }, 400, 'integer_above_max_value', 'hyperparameters.n_epochs'],
    ['a negative learning rate', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', hyperparameters: { learning_rate_multiplier: -1 } }, 400, 'decimal_below_min_value', 'hyperparameters.learning_rate_multiplier'],
    ['an unknown hyperparameter', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', hyperparameters: { warmup: 3 } }, 400, 'unknown_parameter', 'hyperparameters.warmup'], // parseWith names an unknown nested field (s31l)
    ['a suffix with ":" (it separates the model id\'s parts)', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix: 'team:support' }, 400, 'invalid_request', 'suffix'],
    ['a suffix of 65 characters (OpenAI takes up to 64)', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix: 's'.repeat(65) }, 400, 'string_above_max_length', 'suffix'],
    ['no training file', 'acme', { model: 'llama-3.1-8b-instruct' }, 400, 'missing_required_parameter', 'training_file'],
    ['a field OpenAI does not define', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', epochs: 3 }, 400, 'unknown_parameter', 'epochs'],
    // named like a property of every object (the old check's `in` found it on the schema's prototype: param null, code invalid_request)
    ['a field named constructor', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', constructor: 1 }, 400, 'unknown_parameter', 'constructor'],
    ['a field named toString', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', toString: 'x' }, 400, 'unknown_parameter', 'toString'],
    ['preference (DPO) training', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', method: { type: 'dpo', dpo: { hyperparameters: { beta: 0.1 } } } }, 400, 'unsupported_value', 'method.type'],
    ['reinforcement training', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', method: { type: 'reinforcement' } }, 400, 'unsupported_value', 'method.type'],
    ['a DPO section under supervised', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', method: { type: 'supervised', dpo: {} } }, 400, 'invalid_value', 'method.dpo'],
    ['both forms of hyperparameters', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', hyperparameters: { n_epochs: 2 }, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3 } } } }, 400, 'invalid_value', 'hyperparameters'],
    ['supervised epochs out of range', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 0 } } } }, 400, 'integer_below_min_value', 'method.supervised.hyperparameters.n_epochs'],
    ['a Weights & Biases integration', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', integrations: [{ type: 'wandb', wandb: { project: 'p' } }] }, 400, 'unsupported_parameter', 'integrations'],
    ['17 metadata pairs', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 400, 'object_above_max_properties', 'metadata'],
    // param names the field whole (it was cut to its first 61 characters and "..."); the message may shorten it
    ['a metadata key of 65 characters', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', metadata: { ['k'.repeat(65)]: 'v' } }, 400, 'property_name_above_max_length', 'metadata'],
    ['a metadata key of 300 characters', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', metadata: { ['q'.repeat(300)]: 'v' } }, 400, 'property_name_above_max_length', 'metadata'],
    ['a negative seed', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', seed: -1 }, 400, 'integer_below_min_value', 'seed'],
    ['an empty suffix', 'acme', { model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix: '' }, 400, 'string_below_min_length', 'suffix'],
  ];
  it.each(cases)('refuses %s', async (_, tenant, body, status, code, param) => {
    const before = sageMaker.commandCalls(CreateTrainingJobCommand).length;
    const res = await fetch(`${gw.url}/fine_tuning/jobs`, { method: 'POST', headers: { authorization: `Bearer ${tokens[tenant]}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(status);
    const { error } = await res.json() as { error: { code: string; param: string | null; message: string; type: string } };
    expect(error).toMatchObject({ code, param });
    expect(error.message.length).toBeGreaterThan(10);
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(before);
    expect(lastAudit()).toMatchObject({ tenantId: tenant, action: 'fine_tuning.job.create', status, outcome: code });
  });

  it('refuses an empty suffix through the Node client in OpenAI\'s words for a string under its minimum (it was Tessera\'s suffix rule), nothing started', async () => {
    const before = sageMaker.commandCalls(CreateTrainingJobCommand).length;
    const e = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix: '' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'suffix', code: 'string_below_min_length', message: "Invalid 'suffix': string too short. Expected a string with minimum length 1, but got an empty string instead." });
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(before);
  });

  it('refuses a model that cannot be fine-tuned here as OpenAI does (official clients\' BadRequestError, 400 model_not_available, param null), naming what can be', async () => {
    const before = sageMaker.commandCalls(CreateTrainingJobCommand).length;
    const cases: Array<[string, string]> = [
      ['gpt-4o-mini', 'Model gpt-4o-mini is not available for fine-tuning or does not exist.'],
      ['no-such-model', 'Model no-such-model is not available for fine-tuning or does not exist.'],
      ['ft:llama-3.1-8b-instruct:acme:support', 'A fine-tuned model cannot be fine-tuned again on this platform'],
    ];
    for (const [model, said] of cases) {
      const e = await client('acme').fineTuning.jobs.create({ model, training_file: 'training-data/a.jsonl' }).catch((x) => x);
      expect(e, model).toBeInstanceOf(OpenAI.BadRequestError);
      expect([model, e.status, e.type, e.code, e.param]).toEqual([model, 400, 'invalid_request_error', 'model_not_available', null]);
      expect(e.message, model).toContain(said);
      expect(e.message, model).toContain('The base models of this platform are llama-3.1-8b-instruct, mistral-7b-instruct');
      expect(lastAudit()).toMatchObject({ action: 'fine_tuning.job.create', status: 400, outcome: 'model_not_available' });
    }
    const { stdout } = await runPythonCode(`
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
try:
    c.fine_tuning.jobs.create(model="gpt-4o-mini", training_file="training-data/a.jsonl")
    print(json.dumps(None))
except openai.BadRequestError as e:
    print(json.dumps([e.status_code, e.code, e.param, e.type]))
`, [gw.url, tokens.acme!]);
    expect(JSON.parse(stdout)).toEqual([400, 'model_not_available', null, 'invalid_request_error']);
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(before);
  });

  it('refuses a job from a key with a models subset (its base model is outside it) with 403 naming model; a key without one starts it', async () => {
    const narrowed = await gw.apiKey('acme', { role: 'developer', models: ['openai/gpt-4o-mini'] });
    const before = sageMaker.commandCalls(CreateTrainingJobCommand).length;
    const e = await new OpenAI({ baseURL: gw.url, apiKey: narrowed.key, maxRetries: 0 }).fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' }).catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(e).toMatchObject({ status: 403, code: 'model_not_allowed', param: 'model' });
    expect(e.message).toContain(`API key ${narrowed.record.keyId} (openai/gpt-4o-mini)`);
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(before);
    expect(lastAudit()).toMatchObject({ tenantId: 'acme', keyId: narrowed.record.keyId, action: 'fine_tuning.job.create', status: 403, outcome: 'model_not_allowed' });
    const whole = await gw.apiKey('acme', { role: 'developer' });
    const job = await new OpenAI({ baseURL: gw.url, apiKey: whole.key, maxRetries: 0 }).fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' });
    expect(job).toMatchObject({ model: 'llama-3.1-8b-instruct', status: expect.any(String) });
  });

  it('answers a member\'s and a viewer\'s fine-tuning calls 403 naming the permission and the roles that hold it (what to ask the tenant admin for)', async () => {
    const as = async (role: string) => new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme', { role }), maxRetries: 0 });
    const member = await as('member');
    const viewer = await as('viewer');
    const before = sageMaker.commandCalls(CreateTrainingJobCommand).length;
    const cases: Array<[string, () => Promise<unknown>, string, string]> = [
      ['member jobs.list', () => member.fineTuning.jobs.list(), 'fine_tuning.read', 'admin, developer, viewer'],
      ['member jobs.create', () => member.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' }), 'fine_tuning.write', 'admin, developer'],
      ['viewer jobs.create', () => viewer.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl' }), 'fine_tuning.write', 'admin, developer'],
      ['viewer jobs.cancel', () => viewer.fineTuning.jobs.cancel('ftjob-0123456789abcdef'), 'fine_tuning.write', 'admin, developer'],
      ['viewer jobs.pause', () => viewer.fineTuning.jobs.pause('ftjob-0123456789abcdef'), 'fine_tuning.write', 'admin, developer'],
      // A member lists the tenant's batch files (the Batch API's); a fine-tune file is still fine_tuning.read's.
      ['member files.retrieve', () => member.files.retrieve('file-0123456789abcdef01234567'), 'fine_tuning.read', 'admin, developer, viewer'],
      ['viewer files.content', () => viewer.files.content('file-0123456789abcdef01234567'), 'fine_tuning.write', 'admin, developer'],
    ];
    for (const [what, call, permission, holders] of cases) {
      const e = await call().then(() => { throw new Error(`${what} was answered`); }, (x: unknown) => x);
      expect(e, what).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect([what, (e as InstanceType<typeof OpenAI.APIError>).code, (e as InstanceType<typeof OpenAI.APIError>).param]).toEqual([what, 'permission_denied', null]);
      expect((e as Error).message, what).toContain(`lacks permission "${permission}"`);
      expect((e as Error).message, what).toContain(`roles with it: ${holders}; ask your tenant admin`);
    }
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(before);
  });

  it('refuses pause and resume of a job (official Node and Python clients) as an operation the job does not allow: 400 naming the job and why, nothing changed; another tenant\'s job is a 404', async () => {
    const job = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/pause.jsonl' });
    const stops = sageMaker.commandCalls(StopTrainingJobCommand).length;
    const cases = [
      [() => client('acme').fineTuning.jobs.pause(job.id), 'job_not_pausable', `fine-tuning job ${job.id} (queued) cannot be paused: it trains as a SageMaker training job, which can only be stopped`],
      [() => client('acme').fineTuning.jobs.resume(job.id), 'job_not_resumable', `fine-tuning job ${job.id} (queued) cannot be resumed`],
    ] as const;
    for (const [call, code, why] of cases) {
      const e = await call().catch((x) => x);
      expect(e, code).toBeInstanceOf(OpenAI.BadRequestError);
      expect([e.status, e.type, e.code, e.param]).toEqual([400, 'invalid_request_error', code, 'fine_tuning_job_id']);
      expect(e.message).toContain(why);
      expect(lastAudit()).toMatchObject({ tenantId: 'acme', action: `fine_tuning.job.${code === 'job_not_pausable' ? 'pause' : 'resume'}`, status: 400, outcome: code, detail: { jobId: job.id } });
    }
    expect(await client('acme').fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: 'queued' });
    expect(sageMaker.commandCalls(StopTrainingJobCommand)).toHaveLength(stops);
    // Another tenant's job reads like an unknown one.
    const other = await client('globex').fineTuning.jobs.pause(job.id).catch((x) => x);
    expect([other.status, other.code]).toEqual([404, 'job_not_found']);
    const { stdout } = await runPythonCode(`
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
out = []
for call in (c.fine_tuning.jobs.pause, c.fine_tuning.jobs.resume):
    try:
        call(sys.argv[3])
        out.append(None)
    except openai.BadRequestError as e:
        out.append([e.status_code, e.code, e.param])
print(json.dumps(out))
`, [gw.url, tokens.acme!, job.id]);
    expect(JSON.parse(stdout)).toEqual([[400, 'job_not_pausable', 'fine_tuning_job_id'], [400, 'job_not_resumable', 'fine_tuning_job_id']]);
    await client('acme').fineTuning.jobs.cancel(job.id);
  });

  it('answers OpenAI\'s checkpoints (official client) with 404 route_not_found saying why', async () => {
    const e = await client('acme').fineTuning.jobs.checkpoints.list('ftjob-0123456789abcdef').catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect([e.code, e.param]).toEqual(['route_not_found', null]);
    expect(e.message).toContain('checkpoints are not served');
  });

  it('refuses a query parameter the route does not take with 400 unknown_parameter naming it (it was dropped: ?status=running listed every job)', async () => {
    const job = (await client('acme').fineTuning.jobs.list()).data[0]!;
    const cases = [
      [() => client('acme').fineTuning.jobs.list({ limit: 1 }, { query: { status: 'running' } }), 'status', 'GET /v1/fine_tuning/jobs takes after, limit, metadata, metadata[<key>]'],
      [() => client('acme').fineTuning.jobs.listEvents(job.id, {}, { query: { order: 'asc' } }), 'order', 'GET /v1/fine_tuning/jobs/{id}/events takes after, limit'],
      [() => client('acme').fineTuning.jobs.retrieve(job.id, { query: { expand: 'events' } }), 'expand', 'GET /v1/fine_tuning/jobs/{id} takes none'],
      [() => client('acme').files.list({ limit: 1 }, { query: { filename: 'a.jsonl' } }), 'filename', 'GET /v1/files takes after, limit, order, purpose'],
    ] as const;
    for (const [call, param, says] of cases) {
      const e = await call().catch((x) => x);
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect([e.code, e.param]).toEqual(['unknown_parameter', param]);
      expect(e.error.message).toBe(`unknown query parameter "${param}": ${says}`);
    }
    // What the SDKs send is taken: limit, after, the metadata filter (metadata[key]=value), files' order and purpose.
    expect((await client('acme').fineTuning.jobs.list({ limit: 1, metadata: { team: 'nobody' } })).data).toEqual([]);
    expect((await client('acme').files.list({ limit: 1, order: 'asc', purpose: 'fine-tune' })).data).toEqual(expect.any(Array));
  });

  it('takes limit as a decimal integer only, each list parameter once, and refuses an empty after (400 naming the parameter) on files, jobs and events', async () => {
    const job = (await client('acme').fineTuning.jobs.list()).data[0]!;
    const lists = {
      'files.list': (query: Record<string, string>) => client('acme').files.list({}, { query }),
      'jobs.list': (query: Record<string, string>) => client('acme').fineTuning.jobs.list({}, { query }),
      'jobs.listEvents': (query: Record<string, string>) => client('acme').fineTuning.jobs.listEvents(job.id, {}, { query }),
    };
    for (const [what, list] of Object.entries(lists)) {
      // Read with Number(), these were taken as 10, 16, 5 and 5.
      for (const limit of ['1e1', '0x10', '5.0', ' 5', '+5', '']) {
        const e = await list({ limit }).catch((x) => x);
        expect(e, `${what} limit=${JSON.stringify(limit)}`).toBeInstanceOf(OpenAI.BadRequestError);
        expect([what, e.code, e.param]).toEqual([what, 'invalid_value', 'limit']);
        expect(e.error.message).toMatch(new RegExp(`^limit "${limit.replace('+', '\\+')}" must be a decimal integer from 1 to (100|10000)$`));
      }
      // Out of range: OpenAI's words and code (it was invalid_limit here, invalid_value on the stored chat completions' list).
      const above = await list({ limit: '10001' }).catch((x) => x);
      expect([what, above.code, above.param, above.error.message]).toEqual([what, 'integer_above_max_value', 'limit', expect.stringMatching(/^Invalid 'limit': integer above maximum value\. Expected a value <= (100|10000), but got 10001 instead\.$/)]);
      const below = await list({ limit: '0' }).catch((x) => x);
      expect([what, below.code, below.param]).toEqual([what, 'integer_below_min_value', 'limit']);
      expect((await list({ limit: '1' })).data.length, what).toBeLessThanOrEqual(1);
      // A leading zero is taken (`02` is 2), as every list reads its limit (it was invalid_value here, taken by the key list).
      expect((await list({ limit: '02' })).data.length, what).toBeLessThanOrEqual(2);
      // An empty cursor: the jobs and events lists answered the first page, the files list a 404 file_not_found.
      const empty = await list({ after: '' }).catch((x) => x);
      expect(empty, what).toBeInstanceOf(OpenAI.BadRequestError);
      expect([what, empty.code, empty.param]).toEqual([what, 'invalid_value', 'after']);
      expect(empty.error.message).toContain('after is empty');
    }
    // A repeated parameter (the client never sends one; a hand-made URL does): the last value was taken, the others dropped.
    for (const path of ['/files?limit=1&limit=2', `/fine_tuning/jobs?limit=1&limit=2`, `/fine_tuning/jobs/${job.id}/events?after=x&limit=1&after=y`, '/fine_tuning/jobs?metadata[team]=a&metadata[team]=b', '/files?order=asc&order=desc']) {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${tokens.acme}` } });
      const { error } = await res.json() as { error: { code: string; param: string; message: string } };
      const name = /[?&]([^=]+)=[^&]*&(?:.*&)?\1=/.exec(path)![1]!;
      expect([path, res.status, error.code, error.param]).toEqual([path, 400, 'invalid_value', name]);
      expect(error.message).toBe(`query parameter "${name}" is given more than once; give it once`);
    }
  });

  it('answers another tenant\'s job id exactly like an unknown one, for read, cancel and events, and audits the attempt', async () => {
    const acmeJob = (await client('acme').fineTuning.jobs.list()).data[0];
    for (const attempt of [() => client('globex').fineTuning.jobs.retrieve(acmeJob.id), () => client('globex').fineTuning.jobs.cancel(acmeJob.id), () => client('globex').fineTuning.jobs.listEvents(acmeJob.id)]) {
      const e = await attempt().catch((x) => x);
      expect(e).toBeInstanceOf(OpenAI.NotFoundError);
      expect(e.code).toBe('job_not_found');
      expect(lastAudit()).toMatchObject({ tenantId: 'globex', status: 404, outcome: 'job_not_found', detail: { jobId: acmeJob.id } });
    }
    expect((await client('acme').fineTuning.jobs.retrieve(acmeJob.id)).id).toBe(acmeJob.id);
    expect((await client('globex').fineTuning.jobs.list()).data.some((j) => j.id === acmeJob.id)).toBe(false);
  });

  it('ignores a training event for acme\'s job sent from globex\'s account', async () => {
    const job = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/x.jsonl' });
    const events = new TrainingEvents({ config, jobs: gw.jobs as FineTuningStore, tenants: memoryTenantModels(gw.store as MemoryStore), audit: gw.audit as MemoryAuditSink, sageMaker: async () => new SageMakerClient({}) });
    expect(await events.handle({ TrainingJobName: `acme-ft-${job.id.slice(6)}`, TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: `s3://${acmeBucket}/models/x/model.tar.gz` } }, GLOBEX)).toBe('ignored');
    expect((await client('acme').fineTuning.jobs.retrieve(job.id)).status).toBe('queued');
  });
});

describe('fine_tuning.jobs.create: an SDK retry while its first attempt is still running (serve)', () => {
  /**
   * The first attempt's record of its job (the job store's create) waits until a retry has read the attempt's note
   * (pending-creates.ts, serve's DirPendingCreates): the client's timeout (1 s) cuts it meanwhile. `creates`: the job
   * of each create, in order. The old code never reads a note: its retry found no job recorded and made a second one.
   */
  const holdFirstCreate = () => {
    const create = MemoryJobStore.prototype.create;
    const read = DirPendingCreates.prototype.read;
    const creates: string[] = [];
    let opened: () => void = () => undefined;
    const gate = new Promise<void>((ok) => (opened = ok));
    vi.spyOn(MemoryJobStore.prototype, 'create').mockImplementation(async function (this: MemoryJobStore, job, ...rest) {
      if (creates.push(job.id) === 1) await gate;
      return create.call(this, job, ...rest);
    });
    vi.spyOn(DirPendingCreates.prototype, 'read').mockImplementation(async function (this: DirPendingCreates, tenantId, key) {
      if (key.startsWith('jobs#')) opened();
      return read.call(this, tenantId, key);
    });
    return { creates, open: () => opened() };
  };
  const BODY = { model: 'llama-3.1-8b-instruct', training_file: 'training-data/slow.jsonl', seed: 7, hyperparameters: { n_epochs: 2 }, metadata: { run: 'slow' } };

  it('the Node client (timeout 1 s) is answered the job its first attempt made: one job, one training job; a new call of the same body is a job of its own', async () => {
    const held = holdFirstCreate();
    try {
      const job = await new OpenAI({ baseURL: gw.url, apiKey: tokens.umbrella, timeout: 1000 }).fineTuning.jobs.create(BODY);
      // The old code: the retry recorded and started a second job (two SageMaker training jobs billed).
      expect(held.creates).toEqual([job.id]);
      expect((await client('umbrella').fineTuning.jobs.list()).data.map((j) => j.id)).toEqual([job.id]);
      expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
      expect(gw.audit.records.filter((r) => r.action === 'fine_tuning.job.create' && r.tenantId === 'umbrella').at(-1)).toMatchObject({ status: 200, detail: { jobId: job.id, retryOf: job.id } });
    } finally {
      held.open();
      vi.restoreAllMocks();
    }
    // A new call of the same body (x-stainless-retry-count: 0) while an attempt of it is still held neither waits nor is
    // answered that attempt's job: it is a job of its own, as asked.
    const again = holdFirstCreate();
    try {
      const first = client('umbrella').fineTuning.jobs.create(BODY);
      await vi.waitFor(() => expect(again.creates).toHaveLength(1));
      const second = await client('umbrella').fineTuning.jobs.create(BODY);
      again.open();
      expect(second.id).not.toBe((await first).id);
      expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(3);
    } finally {
      again.open();
      vi.restoreAllMocks();
    }
  });

  it('the Python client (timeout 1 s) is answered the job its first attempt made: one job, one training job', async () => {
    const held = holdFirstCreate();
    try {
      const script = `
import json, sys
from openai import OpenAI
client = OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], timeout=1.0, max_retries=2)
job = client.fine_tuning.jobs.create(model="llama-3.1-8b-instruct", training_file="training-data/slow.jsonl", suffix="slow-python", validation_file="training-data/slow-validation.jsonl", method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}})
print(json.dumps({"id": job.id}))
`;
      const job = JSON.parse((await runPythonCode(script, [gw.url, tokens.hooli!])).stdout) as { id: string };
      expect(held.creates).toEqual([job.id]);
      expect((await client('hooli').fineTuning.jobs.list()).data.map((j) => j.id)).toEqual([job.id]);
      expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(1);
    } finally {
      held.open();
      vi.restoreAllMocks();
    }
  });
});
