import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, CreateTrainingJobCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand,
  DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../../support/strict-mock.js';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FINE_TUNED_NOT_YET } from '../../../lambdas/inference/openai-errors.js';
import type { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import type { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { TrainingEvents } from '../../../lambdas/fine-tuning/training-events.js';
import { EndpointEvents } from '../../../lambdas/fine-tuning/endpoint-events.js';
import { memoryTenantModels } from '../../../lambdas/fine-tuning/stores/tenant-models.js';
import type { FineTuningStore } from '../../../lambdas/fine-tuning/stores/job-store.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { trainedTenant } from '../../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';

/**
 * `DELETE /v1/models/{model}` (lambdas/fine-tuning/model-deletion.ts) through the official Node client
 * against the gateway in this process, SageMaker answered by aws-sdk-client-mock: what a delete
 * deletes, its refusals, replays and races with the training events.
 */
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';

const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const ACME = '444444444444';
const GLOBEX = '555555555555';
const notFound = (what: string) => Object.assign(new Error(`Could not find ${what}.`), { name: 'ValidationException' });

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};
const client = (who: string) => new OpenAI({ baseURL: gw.url, apiKey: tokens[who], maxRetries: 0 });
const base = gatewayConfig();
// An alias GET /v1/models lists (gateway.modelAliases), and one of globex's own model, which acme may not use.
const config = { ...base, gateway: { ...base.gateway, modelAliases: { 'gpt-4o-mini': 'openai/gpt-4o-mini', outside: 'sagemaker/ft:nova:globex:sales' } } };
const events = () => new TrainingEvents({ config, jobs: gw.jobs as FineTuningStore, tenants: memoryTenantModels(gw.store as MemoryStore), audit: gw.audit as MemoryAuditSink, sageMaker: async () => new SageMakerClient({}) });
const calls = (command: Parameters<typeof sageMaker.commandCalls>[0]) => sageMaker.commandCalls(command).map((c) => c.args[0].input);
const deletes = () => [DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand].flatMap((c) => calls(c));
const fineTuned = async (tenantId: string) => ((await gw.store.getTenant(tenantId))!.fineTunedModels ?? []).map((m) => m.id);

/** SageMaker as it is once an endpoint, its config and its model exist (`status` of the endpoint), and after each is deleted. */
function sageMakerHas(name: string, status = 'InService') {
  const gone = new Set<string>();
  sageMaker.on(DescribeEndpointCommand, { EndpointName: name }).callsFake(() => { if (gone.has('endpoint')) throw notFound('endpoint'); return { EndpointStatus: status }; });
  sageMaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: name }).callsFake(() => { if (gone.has('config')) throw notFound('endpoint configuration'); return {}; });
  sageMaker.on(DescribeModelCommand, { ModelName: name }).callsFake(() => { if (gone.has('model')) throw notFound('model'); return {}; });
  sageMaker.on(DeleteEndpointCommand, { EndpointName: name }).callsFake(() => { gone.add('endpoint'); return {}; });
  sageMaker.on(DeleteEndpointConfigCommand, { EndpointConfigName: name }).callsFake(() => { gone.add('config'); return {}; });
  sageMaker.on(DeleteModelCommand, { ModelName: name }).callsFake(() => { gone.add('model'); return {}; });
}

/** A job of `tenant` trained and deployed by its Completed event: its model in the registry. */
async function deployedModel(tenant: 'acme' | 'globex', suffix: string) {
  const job = await client(`${tenant}-developer`).fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix });
  const name = `${tenant}-ft-${job.id.slice(6)}`;
  const account = tenant === 'acme' ? ACME : GLOBEX;
  const completed = { TrainingJobName: name, TrainingJobStatus: 'Completed' as const, ModelArtifacts: { S3ModelArtifacts: `s3://tessera-${tenant}-data-${account}/models/${name}/output/model.tar.gz` } };
  // The endpoint comes into service at once (the job succeeds only then: endpoint-events.ts); the look is not a call of the test's.
  sageMaker.on(DescribeEndpointCommand, { EndpointName: name }).resolves({ EndpointStatus: 'InService' } as never);
  expect(await events().handle(completed, account)).toBe('succeeded');
  sageMaker.on(DescribeEndpointCommand, { EndpointName: name }).rejects(notFound('endpoint'));
  sageMaker.resetHistory();
  return { job, name, model: `ft:llama-3.1-8b-instruct:${tenant}:${suffix}:${job.id.slice(-8)}`, completed, account };
}

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(config, upstream.url, [trainedTenant('acme', 'enterprise', ACME), trainedTenant('globex', 'enterprise', GLOBEX)], { fineTuning: { sageMaker: async () => new SageMakerClient({}) } });
  for (const t of ['acme', 'globex']) for (const role of ['admin', 'developer', 'member', 'viewer']) tokens[`${t}-${role}`] = await gw.token(t, { role });
  tokens.acme = tokens['acme-admin']!;
  tokens.globex = tokens['globex-admin']!;
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => {
  sageMaker.reset();
  sageMaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:444444444444:training-job/x' });
  sageMaker.on(CreateModelCommand).resolves({});
  sageMaker.on(CreateEndpointConfigCommand).resolves({});
  sageMaker.on(CreateEndpointCommand).resolves({});
  // Every name unknown unless a test says otherwise.
  sageMaker.on(DescribeEndpointCommand).rejects(notFound('endpoint'));
  sageMaker.on(DescribeEndpointConfigCommand).rejects(notFound('endpoint configuration'));
  sageMaker.on(DescribeModelCommand).rejects(notFound('model'));
  // A Delete of a name SageMaker does not have: AccessDenied under the launcher's tag condition on AWS.
  const untagged = Object.assign(new Error('not authorized: no tessera:tenant-id tag'), { name: 'AccessDeniedException' });
  sageMaker.on(DeleteEndpointCommand).rejects(untagged);
  sageMaker.on(DeleteEndpointConfigCommand).rejects(untagged);
  sageMaker.on(DeleteModelCommand).rejects(untagged);
});

const lastAuditOf = (action: string) => gw.audit.records.findLast((r) => r.action === action);

describe('DELETE /v1/models/{model}: client.models.delete of a fine-tuned model', () => {
  it('answers OpenAI\'s ModelDeleted, deletes the endpoint, its config and model (each described first), unlists and unroutes the model; the job keeps fine_tuned_model', async () => {
    // GIVEN acme's deployed model, listed and routed
    const { job, name, model } = await deployedModel('acme', 'del1');
    sageMakerHas(name);
    expect((await client('acme').models.list()).data.map((m) => m.id)).toContain(model);

    // WHEN its admin deletes it
    const answer = await client('acme').models.delete(model);

    // THEN OpenAI's ModelDeleted, exactly
    expect(answer).toEqual({ id: model, object: 'model', deleted: true });
    expect(calls(DescribeEndpointCommand)).toEqual([{ EndpointName: name }]);
    expect(calls(DeleteEndpointCommand)).toEqual([{ EndpointName: name }]);
    expect(calls(DeleteEndpointConfigCommand)).toEqual([{ EndpointConfigName: name }]);
    expect(calls(DeleteModelCommand)).toEqual([{ ModelName: name }]);
    // ...gone from the registry, the list, retrieve and chat (OpenAI's 404 for an unknown model)
    expect(await fineTuned('acme')).not.toContain(model);
    expect((await client('acme').models.list()).data.map((m) => m.id)).not.toContain(model);
    const retrieved = await client('acme').models.retrieve(model).catch((e) => e);
    expect(retrieved).toBeInstanceOf(OpenAI.NotFoundError);
    const chat = await client('acme').chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    expect(chat).toBeInstanceOf(OpenAI.NotFoundError);
    expect(chat.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    // ...the job still names its model, as OpenAI's does, and says it was deleted
    const read = await client('acme').fineTuning.jobs.retrieve(job.id);
    expect(read).toMatchObject({ status: 'succeeded', fine_tuned_model: model });
    expect((await client('acme').fineTuning.jobs.listEvents(job.id)).data[0]!.message).toMatch(new RegExp(`^Model ${model} deleted by `));
    // ...and audited as the other fine-tuning actions are
    expect(lastAuditOf('fine_tuning.model.delete')).toMatchObject({
      tenantId: 'acme', role: 'admin', status: 200, outcome: 'ok', method: 'DELETE',
      detail: { fineTunedModel: model, endpointName: name, jobId: job.id, deleted: `endpoint/${name},endpoint-config/${name},model/${name}` },
    });
  });

  it('answers a replayed delete with OpenAI\'s 404 for a model that does not exist, calling SageMaker no more', async () => {
    const { name, model } = await deployedModel('acme', 'replay');
    sageMakerHas(name);
    await client('acme').models.delete(model);
    sageMaker.resetHistory();

    const again = await client('acme').models.delete(model).catch((e) => e);
    expect(again).toBeInstanceOf(OpenAI.NotFoundError);
    expect(again.error).toEqual({ message: `The model '${model}' does not exist or you do not have access to it; ${FINE_TUNED_NOT_YET} GET /v1/models lists yours`, type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(lastAuditOf('fine_tuning.model.delete')).toMatchObject({ status: 404, outcome: 'model_not_found', detail: { fineTunedModel: model } });
  });

  it('refuses to delete while SageMaker updates the endpoint (409 model_not_ready, not retried): nothing deleted, the model still listed; deleted once in service', async () => {
    // A model is listed only once its endpoint is InService: what a delete meets is an update (SageMaker's own maintenance here).
    const { name, model } = await deployedModel('acme', 'updating');
    sageMaker.on(DescribeEndpointCommand, { EndpointName: name }).resolves({ EndpointStatus: 'SystemUpdating' } as never);
    sageMaker.on(DescribeEndpointConfigCommand, { EndpointConfigName: name }).resolves({} as never);
    sageMaker.on(DescribeModelCommand, { ModelName: name }).resolves({} as never);

    const refused = await new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, maxRetries: 2 }).models.delete(model).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.ConflictError);
    expect(refused.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_ready' });
    expect(refused.error.message).toBe(`The model '${model}' cannot be deleted yet: its endpoint is SystemUpdating (SageMaker deletes an endpoint only once it is in service or failed); delete it again once it is`);
    expect(refused.headers.get('x-should-retry')).toBe('false');
    expect(calls(DescribeEndpointCommand)).toHaveLength(1); // the SDK did not retry
    expect(deletes()).toEqual([]);
    expect(await fineTuned('acme')).toContain(model);

    // ...and once SageMaker has it in service, the delete goes through
    sageMakerHas(name);
    expect(await client('acme').models.delete(model)).toEqual({ id: model, object: 'model', deleted: true });
    expect(await fineTuned('acme')).not.toContain(model);
  });

  it('a Completed event delivered again after the delete deploys nothing and puts nothing back in the registry', async () => {
    const { name, model, completed, account } = await deployedModel('acme', 'redeliver');
    sageMakerHas(name);
    await client('acme').models.delete(model);
    sageMaker.resetHistory();

    expect(await events().handle(completed, account)).toBe('stale');
    expect(calls(CreateModelCommand)).toEqual([]);
    expect(calls(CreateEndpointCommand)).toEqual([]);
    expect(await fineTuned('acme')).not.toContain(model);
  });

  it('a deployment that crashed after its registry write (job still running): the delete records the job succeeded and deleted, so the event\'s retry deploys nothing', async () => {
    // GIVEN a job whose Completed handling wrote the registry, then crashed before recording the job's end
    const job = await client('acme-developer').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix: 'crashed' });
    const name = `acme-ft-${job.id.slice(6)}`;
    const model = `ft:llama-3.1-8b-instruct:acme:crashed:${job.id.slice(-8)}`;
    expect(await events().handle({ TrainingJobName: name, TrainingJobStatus: 'InProgress' }, ACME)).toBe('running');
    await memoryTenantModels(gw.store as MemoryStore).addFineTunedModel((await gw.store.getTenant('acme'))!, { id: model, baseModel: 'llama-3.1-8b-instruct', jobId: job.id, endpointName: name, createdAt: new Date().toISOString() });
    sageMakerHas(name);

    // WHEN the admin deletes it, then EventBridge retries the Completed event
    await client('acme').models.delete(model);
    const completed = { TrainingJobName: name, TrainingJobStatus: 'Completed' as const, ModelArtifacts: { S3ModelArtifacts: `s3://tessera-acme-data-${ACME}/models/${name}/output/model.tar.gz` } };
    sageMaker.resetHistory();
    expect(await events().handle(completed, ACME)).toBe('stale');

    // THEN nothing was deployed again, and the job reads as OpenAI's would
    expect(calls(CreateEndpointCommand)).toEqual([]);
    expect(await fineTuned('acme')).not.toContain(model);
    expect(await client('acme').fineTuning.jobs.retrieve(job.id)).toMatchObject({ status: 'succeeded', fine_tuned_model: model });
  });

  it('an endpoint\'s settle that crashed after its registry write (job running, waiting for its endpoint under its claim): the delete records the job succeeded without the claim and the wait, which no event or look would release (the offboarding\'s retirement waited on it for good)', async () => {
    // GIVEN a job whose deployment made its creates and waits for its endpoint (Creating), whose IN_SERVICE handling
    // then listed the model and crashed before recording the job's end
    const job = await client('acme-developer').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix: 'settlecrash' });
    const name = `acme-ft-${job.id.slice(6)}`;
    const model = `ft:llama-3.1-8b-instruct:acme:settlecrash:${job.id.slice(-8)}`;
    const completed = { TrainingJobName: name, TrainingJobStatus: 'Completed' as const, ModelArtifacts: { S3ModelArtifacts: `s3://tessera-acme-data-${ACME}/models/${name}/output/model.tar.gz` } };
    sageMaker.on(DescribeEndpointCommand, { EndpointName: name }).resolves({ EndpointStatus: 'Creating' } as never);
    expect(await events().handle(completed, ACME, 'evt-settle-crash')).toBe('running');
    expect(await (gw.jobs as FineTuningStore).get('acme', job.id)).toMatchObject({ status: 'running', deploying: 'evt-settle-crash', awaitingEndpointSince: expect.any(Number) });
    await memoryTenantModels(gw.store as MemoryStore).addFineTunedModel((await gw.store.getTenant('acme'))!, { id: model, baseModel: 'llama-3.1-8b-instruct', jobId: job.id, endpointName: name, createdAt: new Date().toISOString() });
    sageMakerHas(name);

    // WHEN the admin deletes the model before the event's retry (or the next look) comes
    await client('acme').models.delete(model);

    // THEN the job ended succeeded and marked, its claim and its wait gone with its activity
    const stored = (await (gw.jobs as FineTuningStore).get('acme', job.id))!;
    expect(stored).toMatchObject({ status: 'succeeded', fineTunedModel: model, modelDeletedAt: expect.any(Number) });
    expect(stored.deploying).toBeUndefined();
    expect(stored.awaitingEndpointSince).toBeUndefined();
    // ...and the event's retry changes nothing
    expect(await new EndpointEvents({ config, jobs: gw.jobs as FineTuningStore, tenants: memoryTenantModels(gw.store as MemoryStore), audit: gw.audit as MemoryAuditSink, sageMaker: async () => new SageMakerClient({}) }).handle({ EndpointName: name, EndpointStatus: 'IN_SERVICE' }, ACME)).toBe('stale');
    expect(await fineTuned('acme')).not.toContain(model);
  });

  it('a model whose job was cancelled while its deployment went through (listed beside a cancelled job): deleted; the job stays cancelled, marked', async () => {
    const { job, name, model } = await deployedModel('acme', 'wascancelled');
    const jobs = gw.jobs as FineTuningStore;
    const stored = (await jobs.get('acme', job.id))!;
    expect(await jobs.update({ ...stored, status: 'cancelled' }, 'succeeded')).toBe(true);
    sageMakerHas(name);
    expect(await client('acme').models.delete(model)).toEqual({ id: model, object: 'model', deleted: true });
    expect(deletes()).toHaveLength(3);
    expect(await fineTuned('acme')).not.toContain(model);
    expect(await jobs.get('acme', job.id)).toMatchObject({ status: 'cancelled', modelDeletedAt: expect.any(Number) });
  });

  it('a job still running has no model yet: 404, no SageMaker call', async () => {
    const job = await client('acme-developer').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/a.jsonl', suffix: 'running' });
    await events().handle({ TrainingJobName: `acme-ft-${job.id.slice(6)}`, TrainingJobStatus: 'InProgress' }, ACME);
    sageMaker.resetHistory();
    const refused = await client('acme').models.delete(`ft:llama-3.1-8b-instruct:acme:running:${job.id.slice(-8)}`).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    expect(refused.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(sageMaker.calls()).toHaveLength(0);
  });

  it('another tenant\'s model reads exactly like an unknown one (no existence oracle), and is left running', async () => {
    const { name, model } = await deployedModel('globex', 'theirs');
    sageMakerHas(name);
    sageMaker.resetHistory();
    const theirs = await client('acme').models.delete(model).catch((e) => e);
    const unknown = await client('acme').models.delete('ft:llama-3.1-8b-instruct:globex:nosuch').catch((e) => e);
    expect(theirs).toBeInstanceOf(OpenAI.NotFoundError);
    expect(theirs.status).toBe(unknown.status);
    expect(theirs.error).toEqual({ ...unknown.error, message: unknown.error.message.replace('ft:llama-3.1-8b-instruct:globex:nosuch', model) });
    // The same id with acme's name in it is not globex's model either.
    expect(await client('acme').models.delete(model.replace(':globex:', ':acme:')).catch((e) => e.status)).toBe(404);
    expect(sageMaker.calls()).toHaveLength(0);
    expect(await fineTuned('globex')).toContain(model);
  });

  it('a catalog or base model is a 403 model_not_deletable naming model; look-alike ft: ids and odd ids are 404s', async () => {
    for (const base of ['openai/gpt-4o-mini', 'llama-3.1-8b-instruct']) {
      const refused = await client('acme').models.delete(base).catch((e) => e);
      expect(refused, base).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect(refused.error, base).toMatchObject({ type: 'permission_error', param: 'model', code: 'model_not_deletable' });
      expect(refused.error.message, base).toContain(`'${base}'`);
      // ...audited as what it is, a catalog model, not as a fine-tuned one
      const record = lastAuditOf('fine_tuning.model.delete')!;
      expect([record.status, record.outcome, record.detail], base).toEqual([403, 'model_not_deletable', { catalogModel: base }]);
    }
    // An alias models.retrieve answers (it said "does not exist"): named with what it stands for.
    expect((await client('acme').models.retrieve('gpt-4o-mini')).owned_by).toBe('alias:openai/gpt-4o-mini');
    const alias = await client('acme').models.delete('gpt-4o-mini').catch((e) => e);
    expect(alias).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(alias.error).toEqual({ type: 'permission_error', param: 'model', code: 'model_not_deletable', message: "The model 'gpt-4o-mini' is an alias of openai/gpt-4o-mini, a model of the platform's catalog, not one of your fine-tuned models; only fine-tuned models (ft:<base>:acme:<suffix>:<job>) can be deleted" });
    expect(lastAuditOf('fine_tuning.model.delete')!.detail).toEqual({ catalogModel: 'openai/gpt-4o-mini', alias: 'gpt-4o-mini' });
    // An alias of a model the tenant may not use stays the 404 its target gives.
    expect(await client('acme').models.delete('outside').catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    const long = `ft:llama-3.1-8b-instruct:acme:${'x'.repeat(5000)}`;
    for (const id of ['ft:llama-3.1-8b-instruct', 'ft:llama-3.1-8b-instruct:acme', 'ft:llama-3.1-8b-instruct:acme:', 'ft:openai/gpt-4o-mini:acme:x', 'FT:llama-3.1-8b-instruct:acme:del1', long, '%E0%A4%A', '..%2F..%2Fv1%2Ffiles']) {
      const refused = await client('acme').models.delete(id).catch((e) => e);
      expect(refused, id.slice(0, 60)).toBeInstanceOf(OpenAI.NotFoundError);
      expect(refused.error, id.slice(0, 60)).toMatchObject({ code: 'model_not_found', param: 'model' });
      expect(refused.error.message.length, id.slice(0, 60)).toBeLessThan(300);
    }
    expect(sageMaker.calls()).toHaveLength(0);
  });

  it('decodes a percent-encoded id (`:` as %3A): the model is deleted once', async () => {
    const { name, model } = await deployedModel('acme', 'encoded');
    sageMakerHas(name);
    const res = await fetch(`${gw.url}/models/${encodeURIComponent(model)}`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens.acme}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: model, object: 'model', deleted: true });
    expect(await fineTuned('acme')).not.toContain(model);
  });

  it('names DELETE beside GET where fine-tuning is served: a 405\'s Allow and the preflight\'s methods', async () => {
    const res = await fetch(`${gw.url}/models/ft:llama-3.1-8b-instruct:acme:x`, { method: 'PUT', headers: { authorization: `Bearer ${tokens.acme}` }, body: '{}' });
    expect([res.status, res.headers.get('allow')]).toEqual([405, 'GET, DELETE, OPTIONS']);
    const options = await fetch(`${gw.url}/models/ft:llama-3.1-8b-instruct:acme:x`, { method: 'OPTIONS' });
    expect(options.headers.get('allow')).toBe('GET, DELETE, OPTIONS');
  });

  it('needs models.delete (admin only, as OpenAI asks its Owner role): developer, member and viewer get 403 before any lookup', async () => {
    const { name, model } = await deployedModel('acme', 'roles');
    sageMakerHas(name);
    sageMaker.resetHistory();
    for (const role of ['developer', 'member', 'viewer']) {
      for (const id of [model, 'ft:llama-3.1-8b-instruct:globex:theirs', 'nosuch']) {
        const refused = await client(`acme-${role}`).models.delete(id).catch((e) => e);
        expect(refused, `${role} ${id}`).toBeInstanceOf(OpenAI.PermissionDeniedError);
        expect(refused.error, `${role} ${id}`).toMatchObject({ code: 'permission_denied' });
        expect(refused.error.message).toContain('models.delete');
      }
    }
    expect(sageMaker.calls()).toHaveLength(0);
    expect(await fineTuned('acme')).toContain(model);
  });

  it('an admin API key narrowed to some models deletes only those: another model of the tenant reads as unknown (404)', async () => {
    const { name, model } = await deployedModel('acme', 'keyed');
    sageMakerHas(name);
    sageMaker.resetHistory();
    const narrowed = await gw.apiKey('acme', { role: 'admin', models: ['openai/gpt-4o-mini'] });
    const refused = await new OpenAI({ baseURL: gw.url, apiKey: narrowed.key, maxRetries: 0 }).models.delete(model).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    expect(refused.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(sageMaker.calls()).toHaveLength(0);
    expect(await fineTuned('acme')).toContain(model);
    const allowed = await gw.apiKey('acme', { role: 'admin', models: [model] });
    expect(await new OpenAI({ baseURL: gw.url, apiKey: allowed.key, maxRetries: 0 }).models.delete(model)).toEqual({ id: model, object: 'model', deleted: true });
  });

  it('two deletes at once: one answers deleted, the other 404; SageMaker deletes each resource once', async () => {
    const { name, model } = await deployedModel('acme', 'twice');
    sageMakerHas(name);
    sageMaker.resetHistory();
    const answers = await Promise.all([0, 1].map(() => client('acme').models.delete(model).then((d) => d.deleted, (e) => e.status)));
    expect(answers.sort()).toEqual([404, true].sort());
    expect(deletes()).toHaveLength(3);
    expect(await fineTuned('acme')).not.toContain(model);
  });

  it('the job or registry write failing after SageMaker deleted the endpoint: a 503 saying so, which the SDK retries and the retry finishes (no opaque 500)', async () => {
    // GIVEN a deployed model, and a jobs table that refuses the job's write (a DynamoDB transaction conflict, past the store's own retries)
    const { job, name, model } = await deployedModel('acme', 'conflict');
    sageMakerHas(name);
    const jobs = gw.jobs as FineTuningStore;
    const update = jobs.update.bind(jobs);
    const conflict = Object.assign(new Error('Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]'), { name: 'TransactionCanceledException' });
    let refusals = 1;
    jobs.update = async (...args) => { if (refusals-- > 0) throw conflict; return update(...args); };
    try {
      // WHEN the admin deletes it without retries
      const failed = await client('acme').models.delete(model).catch((e) => e);

      // THEN a 503 naming what happened (the endpoint deleted, the model still listed), that the SDKs retry
      expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
      expect(failed.status).toBe(503);
      expect(failed.error).toMatchObject({ type: 'server_error', code: 'model_deletion_incomplete', param: 'model' });
      expect(failed.error.message).toMatch(/endpoint of model .* was deleted.*still listed: delete it again/);
      expect(failed.headers.get('x-should-retry')).toBeNull();
      expect(await fineTuned('acme')).toContain(model);
      expect(lastAuditOf('fine_tuning.model.delete')).toMatchObject({ status: 503, outcome: 'model_deletion_incomplete', detail: { fineTunedModel: model, deleted: `endpoint/${name},endpoint-config/${name},model/${name}` } });

      // ...and the retry (what an SDK with its default retries sends) finishes: deleted, unlisted, the job marked
      refusals = 1;
      const answered = await new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, maxRetries: 2 }).models.delete(model);
      expect(answered).toEqual({ id: model, object: 'model', deleted: true });
    } finally {
      jobs.update = update;
    }
    expect(await fineTuned('acme')).not.toContain(model);
    expect(deletes()).toHaveLength(3); // SageMaker deleted each resource once; the retries described them gone
    expect((await client('acme').fineTuning.jobs.retrieve(job.id))).toMatchObject({ status: 'succeeded', fine_tuned_model: model });
    expect((await client('acme').fineTuning.jobs.listEvents(job.id)).data[0]!.message).toMatch(new RegExp(`^Model ${model} deleted by `));
  });

  it('the registry write landed but its answer was lost (an error after the write): deleted: true, not a 503 whose retry would be a 404', async () => {
    // GIVEN a deployed model, and a registry whose next write is carried out and then answered with an error
    const { job, name, model } = await deployedModel('acme', 'lostanswer');
    sageMakerHas(name);
    const store = gw.store as MemoryStore;
    const put = store.putTenant.bind(store);
    let lost = 1;
    store.putTenant = (record) => {
      put(record);
      if (lost-- > 0) throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalServerError' });
    };
    try {
      // WHEN the admin deletes it, with the SDK's default retries
      const answered = await new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, maxRetries: 2 }).models.delete(model).catch((e) => e);

      // THEN the model is deleted, and the answer says so (the model is no longer listed: a 503 retried would find it unknown, a 404)
      expect(answered).toEqual({ id: model, object: 'model', deleted: true });
    } finally {
      store.putTenant = put;
    }
    expect(await fineTuned('acme')).not.toContain(model);
    expect(deletes()).toHaveLength(3);
    expect(lastAuditOf('fine_tuning.model.delete')).toMatchObject({ status: 200, detail: { fineTunedModel: model, jobId: job.id } });
  });

  it('a SageMaker failure is a 502 naming the cause, not retried; the model stays listed and a later delete finishes', async () => {
    const { name, model } = await deployedModel('acme', 'throttled');
    sageMakerHas(name);
    sageMaker.on(DeleteEndpointCommand, { EndpointName: name }).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const failed = await new OpenAI({ baseURL: gw.url, apiKey: tokens.acme, maxRetries: 2 }).models.delete(model).catch((e) => e);
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    expect(failed.status).toBe(502);
    expect(failed.error.message).toMatch(/ThrottlingException/);
    expect(calls(DeleteEndpointCommand)).toHaveLength(1);
    expect(await fineTuned('acme')).toContain(model);
    expect(await client('acme').models.delete(model)).toEqual({ id: model, object: 'model', deleted: true });
  });
});
