import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { GatewayPolicy } from '../../lib/tenant-record.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { configWith } from '../support/config-with.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { PythonClient, runClient } from './gateway-conformance/clients.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';

/**
 * `gateway.modelAliases` through `tessera serve`'s gateway and the official `openai` Node client:
 * an alias is served by its target and answered with the target's catalog id (as OpenAI answers a
 * request for `gpt-4o` with `gpt-4o-2024-08-06`), on chat completions (whole and streamed),
 * responses, embeddings and moderations; `models.list()` lists the caller's aliases; an alias of a
 * model the caller may not use is the target's 404; the audit record keeps both names.
 */
const ALIASES = {
  'gpt-4o-mini': 'openai/gpt-4o-mini',
  premium: 'openai-compatible/primary',
  'claude-haiku': 'bedrock/amazon.nova-lite',
  'text-embedding-3-small': 'openai-compatible/embed-small',
  'omni-moderation-latest': 'openai/omni-moderation-latest',
  spare: 'openai-compatible/backup',
  default: 'openai-compatible/default',
};

function aliasConfig(): PlatformConfig {
  const base = gatewayConfig();
  const price = { inputPricePer1k: 0.001, outputPricePer1k: 0, maxOutputTokens: 100 };
  return configWith({
    gateway: {
      ...base.gateway,
      models: [
        ...base.gateway.models,
        { id: 'openai-compatible/embed-small', upstream: 'embed-small', kind: 'embedding', ...price },
        { id: 'openai/omni-moderation-latest', upstream: 'omni-moderation-latest', kind: 'moderation', ...price, inputPricePer1k: 0 },
      ],
      modelAliases: ALIASES,
    },
    tiers: base.tiers,
  });
}

const policy = (extra: Partial<GatewayPolicy> = {}) => ({ gateway: GatewayPolicy.parse({ guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, ...extra }) });

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  // As `tessera serve` without AWS credentials: no bedrock or sagemaker model is served.
  gw = await serveGateway(aliasConfig(), upstream.url, [
    localTenant('acme', 'enterprise', policy()),
    localTenant('starterco', 'starter', policy()),
    // Its own default model, named by an alias: wins over the platform's `default`.
    localTenant('defco', 'enterprise', policy({ defaultModel: 'premium' })),
    // A fallback named by an alias.
    localTenant('flaky', 'enterprise', policy({ fallbacks: ['spare'] })),
  ], { providers: ['openai', 'openai-compatible', 'huggingface'] });
  for (const t of ['acme', 'starterco', 'defco', 'flaky']) tokens[t] = await gw.token(t);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.failures.clear());

const client = (tenant: string, apiKey = tokens[tenant]) => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 });
const recordOf = (id: string) => gw.audit.records.find((r) => r.requestId === id);
/** The error an SDK call rejects with. */
const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

describe('model aliases (gateway.modelAliases) through the official openai Node client', () => {
  it('chat.completions.create({model: alias}) is served by the target: the upstream gets its upstream id, the answer names the catalog id, the audit record both', async () => {
    const before = upstream.requests.length;
    const out = await client('acme').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'alias whole' }] });
    expect(out.model).toBe('openai/gpt-4o-mini');
    expect(out.choices[0].message.content).toBe('echo: alias whole');
    expect(upstream.requests.slice(before).map((b) => b.model)).toEqual(['gpt-4o-mini']);
    expect(recordOf(out.id)).toMatchObject({ requestedModel: 'gpt-4o-mini', model: 'openai/gpt-4o-mini', provider: 'openai', status: 200 });
  });

  it('streams under an alias: every chunk names the catalog id served', async () => {
    const stream = await client('acme').chat.completions.create({ model: 'premium', messages: [{ role: 'user', content: 'alias stream' }], stream: true, stream_options: { include_usage: true } });
    const models = new Set<string>();
    let text = '';
    let id = '';
    for await (const chunk of stream) {
      models.add(chunk.model);
      id = chunk.id;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(text).toBe('echo: alias stream');
    expect([...models]).toEqual(['openai-compatible/primary']);
    await gw.settled();
    expect(recordOf(id)).toMatchObject({ requestedModel: 'premium', model: 'openai-compatible/primary', stream: true });
  });

  it('the usage ledger counts the catalog model served (its prices), not the alias', async () => {
    await client('acme').chat.completions.create({ model: 'premium', messages: [{ role: 'user', content: 'ledger row' }] });
    const rows = await gw.store.modelUsage('acme', new Date().toISOString().slice(0, 7));
    expect(rows.map((r) => r.model)).toContain('openai-compatible/primary');
    expect(rows.map((r) => r.model)).not.toContain('premium');
  });

  it('responses, embeddings and moderations take aliases too, each answering with the catalog id', async () => {
    const response = await client('acme').responses.create({ model: 'gpt-4o-mini', input: 'alias response', store: false });
    expect(response.model).toBe('openai/gpt-4o-mini');
    const embedding = await client('acme').embeddings.create({ model: 'text-embedding-3-small', input: 'alias embedding' });
    expect(embedding.model).toBe('openai-compatible/embed-small');
    const moderation = await client('acme').moderations.create({ model: 'omni-moderation-latest', input: 'alias moderation' });
    expect(moderation.model).toBe('openai/omni-moderation-latest');
    const records = gw.audit.records.filter((r) => ['/v1/responses', '/v1/embeddings', '/v1/moderations'].includes(r.path!) && r.tenantId === 'acme');
    expect(records.map((r) => [r.path, r.requestedModel, r.model])).toEqual([
      ['/v1/responses', 'gpt-4o-mini', 'openai/gpt-4o-mini'],
      ['/v1/embeddings', 'text-embedding-3-small', 'openai-compatible/embed-small'],
      ['/v1/moderations', 'omni-moderation-latest', 'openai/omni-moderation-latest'],
    ]);
  });

  it('an alias of another kind\'s model is the 400 model_kind_mismatch, naming the alias and its target', async () => {
    const err = await refusal(client('acme').chat.completions.create({ model: 'text-embedding-3-small', messages: [{ role: 'user', content: 'x' }] }));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toMatchObject({ code: 'model_kind_mismatch', param: 'model', message: 'model "text-embedding-3-small" (openai-compatible/embed-small) is an embedding model: it serves embeddings (POST /v1/embeddings), not chat' });
  });

  it('models.list() lists the caller\'s aliases after its models, owned_by alias:<catalog id>; models.retrieve(alias) answers the same object', async () => {
    const listed = (await client('acme').models.list()).data;
    const aliases = listed.filter((m) => m.owned_by.startsWith('alias:'));
    // claude-haiku's target is a bedrock model this serve does not serve: not listed. Config order: the embedded
    // default's keys first (gpt-4o-mini, text-embedding-3-small and omni-moderation-latest, the last two set again by
    // this config; its gpt-5.4-mini and gpt-image-2.5-flare dropped with their models), then this config's own.
    expect(aliases).toEqual([
      // Its target's OpenAI shutdown date (lib/config/openai-model-shutdowns.ts), as OpenAI's Model.shutdown_date.
      { id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'alias:openai/gpt-4o-mini', shutdown_date: '2027-01-14' },
      { id: 'text-embedding-3-small', object: 'model', created: 0, owned_by: 'alias:openai-compatible/embed-small' },
      { id: 'omni-moderation-latest', object: 'model', created: 0, owned_by: 'alias:openai/omni-moderation-latest' },
      { id: 'premium', object: 'model', created: 0, owned_by: 'alias:openai-compatible/primary' },
      { id: 'spare', object: 'model', created: 0, owned_by: 'alias:openai-compatible/backup' },
      { id: 'default', object: 'model', created: 0, owned_by: 'alias:openai-compatible/default' },
    ]);
    expect(listed.indexOf(listed.find((m) => m.owned_by.startsWith('alias:'))!)).toBe(listed.length - aliases.length);
    expect(await client('acme').models.retrieve('gpt-4o-mini')).toEqual({ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'alias:openai/gpt-4o-mini', shutdown_date: '2027-01-14' });
  });

  it('an alias of a model outside the caller\'s tier is the 404 its target gives, naming the alias, and is not listed', async () => {
    // starter: bedrock and openai only, so premium (openai-compatible/primary) is outside it.
    const viaAlias = await refusal(client('starterco').chat.completions.create({ model: 'premium', messages: [{ role: 'user', content: 'x' }] }));
    const viaTarget = await refusal(client('starterco').chat.completions.create({ model: 'openai-compatible/primary', messages: [{ role: 'user', content: 'x' }] }));
    expect(viaAlias).toBeInstanceOf(OpenAI.NotFoundError);
    expect(viaTarget).toBeInstanceOf(OpenAI.NotFoundError);
    const shape = (e: InstanceType<typeof OpenAI.APIError>) => ({ status: e.status, type: e.type, code: e.code, param: e.param });
    expect(shape(viaAlias)).toEqual(shape(viaTarget));
    expect(viaAlias.error).toMatchObject({ message: "The model 'premium' does not exist or you do not have access to it; GET /v1/models lists yours" });
    expect(gw.audit.records.find((r) => r.tenantId === 'starterco' && r.requestedModel === 'premium')).toMatchObject({ model: 'openai-compatible/primary', status: 404, outcome: 'model_not_found' });
    const retrieved = await refusal(client('starterco').models.retrieve('premium'));
    expect(retrieved).toBeInstanceOf(OpenAI.NotFoundError);
    const starterAliases = (await client('starterco').models.list()).data.filter((m) => m.owned_by.startsWith('alias:')).map((m) => m.id);
    expect(starterAliases).toEqual(['gpt-4o-mini', 'omni-moderation-latest']);
  });

  it('an alias of a model this serve does not reach is the target\'s 404, which says so', async () => {
    const err = await refusal(client('acme').chat.completions.create({ model: 'claude-haiku', messages: [{ role: 'user', content: 'x' }] }));
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.error).toMatchObject({ code: 'model_not_found', param: 'model', message: "The model 'claude-haiku' is not served by this gateway: it does not reach provider bedrock (tessera serve's start-up lines say why); GET /v1/models lists what it serves" });
  });

  it('`default`: the platform alias for a tenant without a default model; a tenant\'s own defaultModel (here itself an alias) wins', async () => {
    const platform = await client('acme').chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'platform default' }] });
    expect(platform.model).toBe('openai-compatible/default');
    const own = await client('defco').chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'own default' }] });
    expect(own.model).toBe('openai-compatible/primary');
    expect(recordOf(own.id)).toMatchObject({ requestedModel: 'default', model: 'openai-compatible/primary' });
    expect((await client('defco').models.list()).data.find((m) => m.id === 'default')).toEqual({ id: 'default', object: 'model', created: 0, owned_by: 'alias:openai-compatible/primary' });
  });

  it('a fallback named by an alias is tried as its target', async () => {
    upstream.failures.set('primary', { status: 503, times: 2 });
    const out = await client('flaky').chat.completions.create({ model: 'premium', messages: [{ role: 'user', content: 'fall back' }] });
    expect(out.model).toBe('openai-compatible/backup');
    expect(recordOf(out.id)).toMatchObject({ requestedModel: 'premium', fallbackFrom: 'openai-compatible/primary', model: 'openai-compatible/backup' });
  });

  it('the official Python client (conformance driver): create and stream by alias answer the catalog id served', async () => {
    const python = await PythonClient.start();
    try {
      const params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'python alias' }] };
      const whole = await runClient('python', python, gw.url, tokens.acme, { op: 'create', params });
      expect(whole).toMatchObject({ ok: true, result: { model: 'openai/gpt-4o-mini', choices: [{ message: { content: 'echo: python alias' } }] } });
      const streamed = await runClient('python', python, gw.url, tokens.acme, { op: 'stream', params: { ...params, messages: [{ role: 'user', content: 'python alias stream' }] } });
      expect(streamed.ok).toBe(true);
      expect(new Set(streamed.chunks!.map((c) => c.model))).toEqual(new Set(['openai/gpt-4o-mini']));
    } finally {
      await python.stop();
    }
  });

  it('POST /v1/tenant/keys with an alias models.list() lists in models: the 400 names the catalog id to write, which then reaches the alias', async () => {
    const admin = await gw.apiKey('acme', { role: 'admin' });
    expect((await client('acme', admin.key).models.list()).data.map((m) => m.id)).toContain('gpt-4o-mini');
    const create = async (models: string[]) => {
      const res = await fetch(`${gw.url}/tenant/keys`, { method: 'POST', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci', models }) });
      return { status: res.status, body: await res.json() as { key?: string; error?: Record<string, unknown> } };
    };
    // It said "not a model of tenant acme (…; GET /v1/models lists them)", and GET /v1/models does list it.
    expect(await create(['openai-compatible/primary', 'gpt-4o-mini'])).toEqual({ status: 400, body: { error: {
      message: 'models[1] = "gpt-4o-mini": an alias of openai/gpt-4o-mini (gateway.modelAliases), and a key\'s models are catalog ids (a call by an alias is checked against the model it names, so a key with "openai/gpt-4o-mini" calls it by both names): write "openai/gpt-4o-mini"',
      type: 'invalid_request_error', param: 'models[1]', code: 'unknown_model',
    } } });
    expect((await create(['default'])).body.error).toMatchObject({ param: 'models[0]', message: expect.stringMatching(/^models\[0\] = "default": an alias of openai-compatible\/default .*: write "openai-compatible\/default"$/) });
    // An alias of a model the tenant may not use is no model of its own, as before.
    expect((await create(['claude-haiku'])).body.error).toMatchObject({ param: 'models[0]', message: expect.stringMatching(/^models\[0\] = "claude-haiku": not a model of tenant acme/) });
    const made = await create(['openai/gpt-4o-mini']);
    expect(made.status).toBe(201);
    expect((await client('acme', made.body.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'key by id' }] })).model).toBe('openai/gpt-4o-mini');
  });

  it('an API key limited to a models list reaches an alias of a model in the list, not of one outside it', async () => {
    const { key } = await gw.apiKey('acme', { models: ['openai/gpt-4o-mini'] });
    const out = await client('acme', key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'key alias' }] });
    expect(out.model).toBe('openai/gpt-4o-mini');
    expect(await refusal(client('acme', key).chat.completions.create({ model: 'premium', messages: [{ role: 'user', content: 'x' }] }))).toBeInstanceOf(OpenAI.NotFoundError);
    expect((await client('acme', key).models.list()).data.map((m) => m.id)).toEqual(['openai/gpt-4o-mini', 'gpt-4o-mini']);
  });
});
