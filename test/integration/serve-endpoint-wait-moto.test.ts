import { DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, SageMakerClient, type DescribeEndpointCommandOutput, type EndpointStatus } from '@aws-sdk/client-sagemaker';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { EndpointEvents } from '../../lambdas/fine-tuning/endpoint-events.js';
import { NOT_VISIBLE_YET_SECONDS, localTrainingPoller } from '../../lambdas/fine-tuning/local-training-poller.js';
import { nowSeconds } from '../../lambdas/fine-tuning/job-events.js';
import type { FineTuningStore } from '../../lambdas/fine-tuning/stores/job-store.js';
import { memoryTenantModels } from '../../lambdas/fine-tuning/stores/tenant-models.js';
import { TrainingEvents } from '../../lambdas/fine-tuning/training-events.js';
import type { MemoryAuditSink } from '../../lambdas/inference/audit.js';
import { FINE_TUNED_NOT_YET } from '../../lambdas/inference/openai-errors.js';
import type { MemoryStore } from '../../lambdas/inference/stores/memory-store.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { configWith } from '../support/config-with.js';
import { startMoto, pointSdkAtMoto, type MotoServer } from './support/moto-server.js';
import { runPythonCode } from '../support/python-zygote.js';

/**
 * `tessera serve --fine-tuning`'s path (the local gateway, its job store and registry, the poller and the
 * training and endpoint handlers as serve-command.ts wires them) against moto's SageMaker. moto marks a
 * training job Completed and an endpoint InService at once; Creating and Failed are SageMaker's states
 * for minutes, so this client rewrites DescribeEndpoint's answer for the names the test holds (a
 * middleware on the answer moto gave: EndpointStatus, FailureReason), everything else moto's own.
 */
const ACCOUNT = '123456789012'; // moto's account
let moto: MotoServer;
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let sageMaker: SageMakerClient;
/** DescribeEndpoint's status (and reason) by endpoint name, as the test says SageMaker has it. */
const held = new Map<string, { status: string; reason?: string }>();
/** Run before each CreateTrainingJob is sent to moto, while set: what happens while a job is recorded and its training job not created yet. */
let duringCreate: (() => Promise<void>) | undefined;
const config = configWith({
  ...gatewayConfig(),
  // moto's CreateEndpointConfig knows no g5 instance types (the README's local config gives the tier one it knows)
  tiers: { enterprise: { ...DEFAULT_CONFIG.tiers.enterprise, training: { ...DEFAULT_CONFIG.tiers.enterprise.training, endpointInstanceTypes: ['ml.g4dn.xlarge'] } } },
});

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  sageMaker = new SageMakerClient({});
  sageMaker.middlewareStack.add((next, context) => async (args) => {
    const out = await next(args);
    const h = context.commandName === 'DescribeEndpointCommand' ? held.get((args.input as { EndpointName: string }).EndpointName) : undefined;
    if (h) out.output = { ...(out.output as DescribeEndpointCommandOutput), EndpointStatus: h.status as EndpointStatus, ...(h.reason ? { FailureReason: h.reason } : {}) };
    return out;
  }, { step: 'initialize', name: 'heldEndpointStatus' });
  sageMaker.middlewareStack.add((next, context) => async (args) => {
    if (context.commandName === 'CreateTrainingJobCommand') await duringCreate?.();
    return next(args);
  }, { step: 'initialize', name: 'duringCreate' });
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(config, upstream.url, [trainedTenant('acme', 'enterprise', ACCOUNT)], { fineTuning: { sageMaker: async () => sageMaker } });
}, 120_000);
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  await moto?.stop();
});

const client = async () => new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme', { role: 'developer' }), maxRetries: 0 });
/** serve's poller, wired as serve-command.ts wires it (its warnings into `warnings`, serve's go to stderr); one look per call. */
function poller(warnings?: string[]) {
  const deps = { config, jobs: gw.jobs as FineTuningStore, tenants: memoryTenantModels(gw.store as MemoryStore), audit: gw.audit as MemoryAuditSink, sageMaker: async () => sageMaker };
  return localTrainingPoller({ jobs: gw.jobs as FineTuningStore, tenants: async () => [(await gw.store.getTenant('acme'))!], events: new TrainingEvents(deps), endpoints: new EndpointEvents(deps), sageMaker, warn: warnings && ((m) => warnings.push(m)) });
}
const exists = (p: Promise<unknown>) => p.then(() => true, (e: Error) => { if (/could not find/i.test(e.message)) return false; throw e; });

describe('tessera serve --fine-tuning: the job waits for its endpoint (moto, its endpoint held Creating, then InService or Failed)', () => {
  it('Creating: running, not listed, a chat for the model a 404 model_not_found (not a 502); InService: succeeded, finished_at set, listed', async () => {
    const openai = await client();
    const job = await openai.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix: 'wait' });
    const name = `acme-ft-${job.id.slice(6)}`;
    const model = `ft:llama-3.1-8b-instruct:acme:wait:${job.id.slice(-8)}`;
    held.set(name, { status: 'Creating' });
    const poll = poller();
    await poll.look(); // the training job: Completed at moto, its model deployed, its endpoint Creating
    await poll.look(); // the endpoint described again: still Creating
    expect(await exists(sageMaker.send(new DescribeEndpointCommand({ EndpointName: name })))).toBe(true);
    expect(await openai.fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: 'running', fine_tuned_model: null, finished_at: null, error: null });
    expect((await openai.models.list()).data.map((m) => m.id)).not.toContain(model);
    const early = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(early).toBeInstanceOf(OpenAI.NotFoundError);
    expect(early.error).toMatchObject({ code: 'model_not_found', param: 'model', message: `The model '${model}' does not exist or you do not have access to it; ${FINE_TUNED_NOT_YET} GET /v1/models lists yours` });

    // The official Python client: the waiting job validates as its FineTuningJob (pydantic, strict on the wire shape), active, no model yet
    const script = `
import json, sys, openai
from openai.types.fine_tuning import FineTuningJob
c = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
raw = c.fine_tuning.jobs.with_raw_response.retrieve(sys.argv[3]).http_response.json()
j = FineTuningJob.model_validate(raw)
listed = [x.id for x in c.fine_tuning.jobs.list().data]
print(json.dumps({"status": j.status, "fine_tuned_model": j.fine_tuned_model, "finished_at": j.finished_at, "estimated_finish": j.estimated_finish, "error": j.error, "listed": sys.argv[3] in listed, "events": [e.message for e in c.fine_tuning.jobs.list_events(sys.argv[3]).data][:1]}))
`;
    const { stdout } = await runPythonCode(script, [gw.url, await gw.token('acme', { role: 'developer' }), job.id]);
    expect(JSON.parse(stdout)).toEqual({
      status: 'running', fine_tuned_model: null, finished_at: null, estimated_finish: null, error: null, listed: true,
      events: [`Endpoint ${name} (ml.g4dn.xlarge) is being created for model ${model}: the job succeeds once it is in service`],
    });

    held.set(name, { status: 'InService' });
    await poll.look();
    const done = await openai.fineTuning.jobs.retrieve(job.id);
    expect(done).toMatchObject({ status: 'succeeded', fine_tuned_model: model, error: null });
    expect(done.finished_at).toEqual(expect.any(Number));
    expect((await openai.fineTuning.jobs.listEvents(job.id)).data[0]!.message).toBe(`The job has successfully completed: model ${model} is in service on endpoint ${name} (ml.g4dn.xlarge), an always-on SageMaker endpoint billed hourly until the model is deleted (client.models.delete('${model}'))`);
    expect((await openai.models.list()).data.map((m) => m.id)).toContain(model);
  });

  it('Failed: failed with SageMaker\'s FailureReason in error.message, the model never listed, its endpoint, config and model deleted at moto', async () => {
    const openai = await client();
    const job = await openai.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/b.jsonl', suffix: 'broken' });
    const name = `acme-ft-${job.id.slice(6)}`;
    const reason = 'The primary container for production variant AllTraffic did not pass the ping health check.';
    held.set(name, { status: 'Creating' });
    const poll = poller();
    await poll.look();
    expect((await openai.fineTuning.jobs.retrieve(job.id)).status).toBe('running');
    held.set(name, { status: 'Failed', reason });
    await poll.look();
    const failed = await openai.fineTuning.jobs.retrieve(job.id);
    expect(failed).toMatchObject({ status: 'failed', fine_tuned_model: null, error: { code: 'deployment_failed', message: `the model's endpoint ${name} is Failed: ${reason}`, param: null } });
    expect((await openai.models.list()).data.map((m) => m.id)).not.toContain(`ft:llama-3.1-8b-instruct:acme:broken:${job.id.slice(-8)}`);
    held.delete(name);
    expect(await Promise.all([
      exists(sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }))),
      exists(sageMaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name }))),
      exists(sageMaker.send(new DescribeModelCommand({ ModelName: name }))),
    ])).toEqual([false, false, false]);
  });
});

describe('tessera serve --fine-tuning: a training job SageMaker does not show yet (moto)', () => {
  it('a look between the job\'s record and its CreateTrainingJob reports nothing; the next look follows the job to succeeded', async () => {
    const openai = await client();
    const warnings: string[] = [];
    const poll = poller(warnings);
    let looked = false;
    // serve's follower looks every 2 s: here its look lands while the job is recorded (validating_files) and its
    // CreateTrainingJob not sent yet, where moto answers DescribeTrainingJob "Could not find training job".
    duringCreate = async () => { await poll.look(); looked = true; };
    const job = await openai.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/c.jsonl', suffix: 'early' }).finally(() => { duringCreate = undefined; });
    expect(looked).toBe(true);
    expect(warnings).toEqual([]);
    const name = `acme-ft-${job.id.slice(6)}`;
    held.set(name, { status: 'InService' });
    await poll.look(); // the training job: Completed at moto, its model deployed, its endpoint in service
    expect(await openai.fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: 'succeeded', fine_tuned_model: `ft:llama-3.1-8b-instruct:acme:early:${job.id.slice(-8)}` });
    expect(warnings).toEqual([]);
  });

  it(`a job recorded over NOT_VISIBLE_YET_SECONDS (${NOT_VISIBLE_YET_SECONDS} s) ago that SageMaker still does not know is reported, naming it and SageMaker's answer`, async () => {
    const openai = await client();
    const created = await openai.fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/d.jsonl', suffix: 'lost' });
    const jobs = gw.jobs as FineTuningStore;
    const job = (await jobs.get('acme', created.id))!;
    // Its training job gone from SageMaker (another SageMaker than the one that created it, or deleted): another name, recorded long ago.
    const lost = { ...job, trainingJobName: 'acme-ft-0000000000000000000000ff', createdAt: nowSeconds() - NOT_VISIBLE_YET_SECONDS - 1 };
    expect(await jobs.update(lost, 'queued')).toBe(true);
    const warnings: string[] = [];
    await poller(warnings).look();
    expect(warnings).toEqual([expect.stringMatching(/^fine-tuning: could not follow training job \(or endpoint\) acme-ft-0000000000000000000000ff of acme: ValidationException: .*[Cc]ould not find training job/)]);
    await openai.fineTuning.jobs.cancel(created.id); // its slot given back for the other tests
  });
});
