import { CreateTrainingJobCommand, SageMakerClient, SageMakerServiceException } from '@aws-sdk/client-sagemaker';
import { mockStrict } from '../support/strict-mock.js';
import { importJWK, generateKeyPair, SignJWT } from 'jose';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintApiKey } from '../../lib/identity/api-key.js';
import { TENANT_CLAIM } from '../../lambdas/inference/auth.js';
import { DEV_AUDIENCE, DEV_ISSUER, devKeys } from '../../lambdas/inference/dev-keys.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { fakeAwsEnv } from '../integration/gateway-conformance/setup.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { trainedTenant } from '../support/fine-tuning-tenants.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';

/**
 * Tenant B (globex) against tenant A's (acme's) data through `tessera serve` with fine-tuning: every
 * route that takes an id answers A's id exactly as an id that exists nowhere (status, type, code,
 * param and message with the id swapped), through the official client and with the path tricks it
 * cannot send (percent-encoding twice, a trailing slash, upper case, a Cyrillic look-alike); no
 * header or query parameter moves a request to another tenant; forged, expired and altered
 * credentials, and random keys of served, suspended, offboarded and unregistered tenants, are one
 * 401 each. A's data is unchanged afterwards. docs/isolation.md, the paragraph "At the gateway".
 */
fakeAwsEnv();

const sageMaker = mockStrict(SageMakerClient, 'sagemaker', SageMakerServiceException);
const ACME_FT = 'ft:llama-3.1-8b-instruct:acme:support';
const SECRET = 'acme-secret-4f1c';
/** Ten examples: a job trains on at least 10 (OpenAI's minimum). */
const JSONL = `${JSON.stringify({ messages: [{ role: 'user', content: SECRET }, { role: 'assistant', content: 'ok' }] })}\n`.repeat(10);

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
const tokens: Record<string, string> = {};
const acmeData = { file: '', job: '', response: '', keyId: '', key: '', conversation: '', conversationItem: '', globexConversation: '' };
const client = (tenant: string) => new OpenAI({ baseURL: gw.url, apiKey: tokens[tenant], maxRetries: 0 });

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  // One model of a vLLM server salted per tenant (prefixCacheSalt): the platform's self-hosted model, shared by every tenant.
  const config = gatewayConfig();
  config.gateway.models.push({ id: 'openai-compatible/salted', upstream: 'salted', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100, prefixCacheSalt: true });
  gw = await serveGateway(config, upstream.url, [
    trainedTenant('acme', 'enterprise', '444444444444', {
      fineTunedModels: [{ id: ACME_FT, baseModel: 'llama-3.1-8b-instruct', jobId: 'ftjob-000000000000000000000001', endpointName: 'acme-ft-000000000000000000000001', createdAt: '2026-12-01T00:00:00.000Z' }],
    }),
    trainedTenant('globex', 'enterprise', '555555555555'),
    localTenant('sleepy', 'enterprise', { status: 'SUSPENDED' }),
    localTenant('gone', 'enterprise', { status: 'OFFBOARDED' }),
    // Two tenants whose ids collide by prefix, on a tier of 2 requests a minute: counters of one never count the other's.
    localTenant('tiny', 'tiny'), localTenant('tiny-2', 'tiny'),
  ], { fineTuning: { sageMaker: async () => new SageMakerClient({}) } });
  for (const t of ['acme', 'globex', 'tiny', 'tiny-2']) tokens[t] = await gw.token(t, { role: 'admin' });
  sageMaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn:aws:sagemaker:us-east-1:444444444444:training-job/x' });
  const file = await client('acme').files.create({ file: await toFile(Buffer.from(JSONL), 'acme-secret.jsonl'), purpose: 'fine-tune' });
  const job = await client('acme').fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: file.id, suffix: 'secret' });
  const response = await client('acme').responses.create({ model: 'openai-compatible/default', input: SECRET });
  const key = await gw.apiKey('acme', { role: 'admin' });
  // A conversation of A's, holding SECRET, and one of B's own (B naming A's item id in its own conversation).
  const conversation = await client('acme').conversations.create({ items: [{ type: 'message', role: 'user', content: SECRET }], metadata: { owner: 'acme' } });
  const conversationItem = (await client('acme').conversations.items.list(conversation.id)).data[0]!.id!;
  const globexConversation = await client('globex').conversations.create({});
  Object.assign(acmeData, { file: file.id, job: job.id, response: response.id, keyId: key.record.keyId, key: key.key, conversation: conversation.id, conversationItem, globexConversation: globexConversation.id });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

type Answer = { status: number; body: string };
/** A raw request as `who` (a tenant's token, or a bearer credential itself). */
async function send(method: string, path: string, who: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${gw.url}${path}`, {
    method, headers: { authorization: `Bearer ${tokens[who] ?? who}`, 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.text() };
}
/** What the official client threw: its status and the error object of the body. */
const refusalOf = async (call: Promise<unknown>) => {
  const e = await call.then(() => { throw new Error('expected a refusal'); }, (x: unknown) => x);
  if (!(e instanceof OpenAI.APIError)) throw e;
  return { status: e.status, error: e.error as Record<string, unknown> };
};
/** `text` with every spelling of `id` (raw, percent-encoded once and twice) replaced by `by`. */
const swap = (text: string, id: string, by: string) => [encodeURIComponent(encodeURIComponent(id)), encodeURIComponent(id), id]
  .reduce((t, s, i) => t.split(s).join([encodeURIComponent(encodeURIComponent(by)), encodeURIComponent(by), by][i]!), text);

const UNKNOWN = { conversation: `conv_${'0'.repeat(48)}`, conversationItem: `msg_${'0'.repeat(48)}`, file: `file-${'0'.repeat(24)}`, job: `ftjob-${'0'.repeat(24)}`, response: `resp_${'0'.repeat(48)}`, keyId: `key_${'0'.repeat(16)}`, model: 'ft:llama-3.1-8b-instruct:acme:nosuch' };

describe('tenant B against tenant A\'s data at the gateway (tessera serve, fine-tuning on)', () => {
  it('the official client: every route answers A\'s id exactly as an id that exists nowhere', async () => {
    const g = () => client('globex');
    const cases: Array<[what: string, theirs: string, unknown: string, call: (id: string) => Promise<unknown>]> = [
      ['files.retrieve', acmeData.file, UNKNOWN.file, (id) => g().files.retrieve(id)],
      ['files.content', acmeData.file, UNKNOWN.file, (id) => g().files.content(id)],
      ['files.delete', acmeData.file, UNKNOWN.file, (id) => g().files.delete(id)],
      ['fineTuning.jobs.create on A\'s file id', acmeData.file, UNKNOWN.file, (id) => g().fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: id })],
      ['fineTuning.jobs.create on A\'s file folder', acmeData.file, UNKNOWN.file, (id) => g().fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: `training-data/files/${id}/data.jsonl` })],
      ['fineTuning.jobs.create validating on A\'s file', acmeData.file, UNKNOWN.file, (id) => g().fineTuning.jobs.create({ model: 'llama-3.1-8b-instruct', training_file: 'training-data/mine.jsonl', validation_file: id })],
      ['fineTuning.jobs.retrieve', acmeData.job, UNKNOWN.job, (id) => g().fineTuning.jobs.retrieve(id)],
      ['fineTuning.jobs.cancel', acmeData.job, UNKNOWN.job, (id) => g().fineTuning.jobs.cancel(id)],
      ['fineTuning.jobs.listEvents', acmeData.job, UNKNOWN.job, (id) => g().fineTuning.jobs.listEvents(id)],
      ['fineTuning.jobs.list after A\'s job', acmeData.job, UNKNOWN.job, (id) => g().fineTuning.jobs.list({ after: id })],
      ['fineTuning.jobs.checkpoints.list', acmeData.job, UNKNOWN.job, (id) => g().fineTuning.jobs.checkpoints.list(id)],
      ['fineTuning.jobs.pause', acmeData.job, UNKNOWN.job, (id) => g().fineTuning.jobs.pause(id)],
      ['fineTuning.jobs.resume', acmeData.job, UNKNOWN.job, (id) => g().fineTuning.jobs.resume(id)],
      ['responses.retrieve', acmeData.response, UNKNOWN.response, (id) => g().responses.retrieve(id)],
      ['responses.delete', acmeData.response, UNKNOWN.response, (id) => g().responses.delete(id)],
      ['responses.inputItems.list', acmeData.response, UNKNOWN.response, (id) => g().responses.inputItems.list(id)],
      ['responses.create with previous_response_id', acmeData.response, UNKNOWN.response, (id) => g().responses.create({ model: 'openai-compatible/default', input: 'continue', previous_response_id: id })],
      ['responses.create streamed with previous_response_id', acmeData.response, UNKNOWN.response, (id) => g().responses.create({ model: 'openai-compatible/default', input: 'continue', previous_response_id: id, stream: true })],
      // OpenAI's Conversations API: A's conversation id, and A's item id in A's conversation or in B's own.
      ['conversations.retrieve', acmeData.conversation, UNKNOWN.conversation, (id) => g().conversations.retrieve(id)],
      ['conversations.update', acmeData.conversation, UNKNOWN.conversation, (id) => g().conversations.update(id, { metadata: { owner: 'globex' } })],
      ['conversations.delete', acmeData.conversation, UNKNOWN.conversation, (id) => g().conversations.delete(id)],
      ['conversations.items.list', acmeData.conversation, UNKNOWN.conversation, (id) => g().conversations.items.list(id)],
      ['conversations.items.create', acmeData.conversation, UNKNOWN.conversation, (id) => g().conversations.items.create(id, { items: [{ type: 'message', role: 'user', content: 'mine now' }] })],
      ['conversations.items.retrieve', acmeData.conversation, UNKNOWN.conversation, (id) => g().conversations.items.retrieve(acmeData.conversationItem, { conversation_id: id })],
      ['conversations.items.delete', acmeData.conversation, UNKNOWN.conversation, (id) => g().conversations.items.delete(acmeData.conversationItem, { conversation_id: id })],
      ['conversations.items.retrieve of A\'s item in B\'s conversation', acmeData.conversationItem, UNKNOWN.conversationItem, (id) => g().conversations.items.retrieve(id, { conversation_id: acmeData.globexConversation })],
      ['conversations.items.delete of A\'s item in B\'s conversation', acmeData.conversationItem, UNKNOWN.conversationItem, (id) => g().conversations.items.delete(id, { conversation_id: acmeData.globexConversation })],
      ['conversations.items.list of B\'s conversation after A\'s item', acmeData.conversationItem, UNKNOWN.conversationItem, (id) => g().conversations.items.list(acmeData.globexConversation, { after: id })],
      ['responses.create with conversation', acmeData.conversation, UNKNOWN.conversation, (id) => g().responses.create({ model: 'openai-compatible/default', input: 'continue', conversation: id })],
      ['responses.create streamed with conversation', acmeData.conversation, UNKNOWN.conversation, (id) => g().responses.create({ model: 'openai-compatible/default', input: 'continue', conversation: { id }, stream: true })],
      ['models.retrieve', ACME_FT, UNKNOWN.model, (id) => g().models.retrieve(id)],
      ['models.delete', ACME_FT, UNKNOWN.model, (id) => g().models.delete(id)],
      ['chat.completions.create', ACME_FT, UNKNOWN.model, (id) => g().chat.completions.create({ model: id, messages: [{ role: 'user', content: 'hi' }] })],
      ['chat.completions.create streamed', ACME_FT, UNKNOWN.model, (id) => g().chat.completions.create({ model: id, messages: [{ role: 'user', content: 'hi' }], stream: true })],
      ['responses.create', ACME_FT, UNKNOWN.model, (id) => g().responses.create({ model: id, input: 'hi' })],
      ['embeddings.create', ACME_FT, UNKNOWN.model, (id) => g().embeddings.create({ model: id, input: 'hi' })],
      ['moderations.create', ACME_FT, UNKNOWN.model, (id) => g().moderations.create({ model: id, input: 'hi' })],
    ];
    const calls = upstream.calls.length;
    for (const [what, theirs, unknown, call] of cases) {
      const a = await refusalOf(call(theirs));
      const b = await refusalOf(call(unknown));
      expect(a.status, what).toBeGreaterThanOrEqual(400);
      expect(a.status, what).toBeLessThan(500);
      expect(swap(JSON.stringify(a), theirs, unknown), what).toBe(JSON.stringify(b));
      expect(JSON.stringify(a), what).not.toContain(SECRET);
      expect(JSON.stringify(a), what).not.toContain('acme-secret.jsonl');
    }
    expect(upstream.calls.length).toBe(calls);
    expect(sageMaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(1); // acme's own job only
  });

  it('path tricks: A\'s ids percent-encoded twice, with a trailing slash, upper case or a look-alike answer as ids that exist nowhere', async () => {
    const spellings: Array<[string, (id: string) => string]> = [
      ['raw', (id) => id], ['encoded', encodeURIComponent], ['encoded twice', (id) => encodeURIComponent(encodeURIComponent(id))],
      ['trailing slash', (id) => `${id}/`], ['upper case', (id) => id.toUpperCase()], ['Cyrillic а', (id) => id.replace('a', '\u0430')],
    ];
    const routes: Array<[string, string, string, (id: string) => [string, string]]> = [
      [acmeData.file, UNKNOWN.file, 'file', (id) => ['GET', `/files/${id}`]],
      [acmeData.file, UNKNOWN.file, 'file content', (id) => ['GET', `/files/${id}/content`]],
      [acmeData.file, UNKNOWN.file, 'file delete', (id) => ['DELETE', `/files/${id}`]],
      [acmeData.job, UNKNOWN.job, 'job', (id) => ['GET', `/fine_tuning/jobs/${id}`]],
      [acmeData.job, UNKNOWN.job, 'job events', (id) => ['GET', `/fine_tuning/jobs/${id}/events`]],
      [acmeData.job, UNKNOWN.job, 'job cancel', (id) => ['POST', `/fine_tuning/jobs/${id}/cancel`]],
      [acmeData.response, UNKNOWN.response, 'response', (id) => ['GET', `/responses/${id}`]],
      [acmeData.response, UNKNOWN.response, 'response delete', (id) => ['DELETE', `/responses/${id}`]],
      [acmeData.response, UNKNOWN.response, 'input items', (id) => ['GET', `/responses/${id}/input_items`]],
      [acmeData.conversation, UNKNOWN.conversation, 'conversation', (id) => ['GET', `/conversations/${id}`]],
      [acmeData.conversation, UNKNOWN.conversation, 'conversation delete', (id) => ['DELETE', `/conversations/${id}`]],
      [acmeData.conversation, UNKNOWN.conversation, 'conversation items', (id) => ['GET', `/conversations/${id}/items`]],
      [acmeData.conversation, UNKNOWN.conversation, 'conversation item', (id) => ['GET', `/conversations/${id}/items/${acmeData.conversationItem}`]],
      [acmeData.conversationItem, UNKNOWN.conversationItem, 'A\'s item in B\'s conversation', (id) => ['GET', `/conversations/${acmeData.globexConversation}/items/${id}`]],
      [ACME_FT, UNKNOWN.model, 'model', (id) => ['GET', `/models/${id}`]],
      [ACME_FT, UNKNOWN.model, 'model delete', (id) => ['DELETE', `/models/${id}`]],
      [acmeData.keyId, UNKNOWN.keyId, 'key', (id) => ['GET', `/tenant/keys/${id}`]],
      [acmeData.keyId, UNKNOWN.keyId, 'key delete', (id) => ['DELETE', `/tenant/keys/${id}`]],
      [acmeData.keyId, UNKNOWN.keyId, 'key rotate', (id) => ['POST', `/tenant/keys/${id}/rotate`]],
    ];
    for (const [theirs, unknown, what, request] of routes) {
      for (const [how, spell] of spellings) {
        const [method, path] = request(spell(theirs));
        const a = await send(method, path, 'globex');
        const b = await send(...request(spell(unknown)), 'globex');
        expect([`${what} ${how}`, a.status < 500], a.body).toEqual([`${what} ${how}`, true]);
        expect(swap(swap(`${a.status} ${a.body}`, spell(theirs), spell(unknown)), theirs, unknown), `${what} ${how}`).toBe(`${b.status} ${b.body}`);
        expect(a.status, `${what} ${how}: ${a.body}`).not.toBe(200);
      }
    }
  });

  it('no header or query parameter moves a request to tenant A: each answers B\'s own data, or names the parameter it refuses', async () => {
    const tricks = { 'x-tenant-id': 'acme', 'x-tessera-tenant-id': 'acme', 'tessera-tenant': 'acme', 'x-forwarded-for': '10.0.0.1', 'x-forwarded-host': 'acme.example.com', 'x-amzn-oidc-identity': 'acme', 'openai-organization': 'acme', 'openai-project': 'acme' };
    const usage = JSON.parse((await send('GET', '/usage', 'globex', undefined, tricks)).body) as { tenant: string };
    expect(usage.tenant).toBe('globex');
    for (const path of ['/files', '/fine_tuning/jobs', '/tenant/keys']) {
      const answer = await send('GET', path, 'globex', undefined, tricks);
      expect([path, answer.status]).toEqual([path, 200]);
      for (const id of [acmeData.file, acmeData.job, acmeData.keyId]) expect(answer.body, path).not.toContain(id);
    }
    const models = await send('GET', '/models', 'globex', undefined, tricks);
    expect(models.body).not.toContain(':acme:');
    expect((await send('GET', `/responses/${acmeData.response}`, 'globex', undefined, tricks)).status).toBe(404);
    const chat = await send('POST', '/chat/completions', 'globex', { model: ACME_FT, messages: [{ role: 'user', content: 'hi' }] }, tricks);
    expect([chat.status, JSON.parse(chat.body).error.code]).toEqual([404, 'model_not_found']);
    for (const [path, param] of [['/usage?tenant=acme', 'tenant'], ['/files?tenant_id=acme', 'tenant_id'], ['/fine_tuning/jobs?tenant=acme', 'tenant'], [`/files/${acmeData.file}?tenant=acme`, 'tenant']] as const) {
      const answer = await send('GET', path, 'globex');
      expect([path, answer.status, JSON.parse(answer.body).error?.param]).toEqual([path, 400, param]);
    }
    // Tenant fields in a body are unknown parameters, never a tenant.
    const keyFor = await send('POST', '/tenant/keys', 'globex', { name: 'x', tenantId: 'acme' });
    expect([keyFor.status, JSON.parse(keyFor.body).error.code]).toEqual([400, 'unknown_parameter']);
    expect((await gw.apiKeys.list('acme')).map((k) => k.keyId)).toEqual([acmeData.keyId]);
  });

  it('credentials: forged, altered and expired tokens, and random keys of any tenant\'s status, are one 401 each and reach nothing', async () => {
    const [h, p, s] = tokens.acme!.split('.') as [string, string, string];
    const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const globexPayload = json(tokens.globex!.split('.')[1]!);
    const foreign = (await generateKeyPair('ES256')).privateKey;
    const devKey = await importJWK((await devKeys(gw.keysFile)).privateJwk, 'ES256');
    const signed = (claims: Record<string, unknown>, key = foreign, exp = '1h') => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'tessera-dev' })
      .setIssuer(DEV_ISSUER).setAudience(DEV_AUDIENCE).setSubject('mallory@globex').setIssuedAt().setExpirationTime(exp).sign(key);
    const now = Math.floor(Date.now() / 1000);
    const forged: Array<[string, string, string]> = [
      ['A\'s tenant claim signed with another key', await signed({ [TENANT_CLAIM]: 'acme', 'tessera:role': 'admin' }), 'invalid_token'],
      ['A\'s tenant claim, alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...json(p), sub: 'mallory@globex' })}.`, 'invalid_api_key'],
      ['A\'s tenant claim, alg HS256 keyed with the gateway\'s public key', await new SignJWT({ ...json(p), sub: 'mallory@globex' }).setProtectedHeader({ alg: 'HS256', kid: 'tessera-dev' }).sign(Buffer.from(JSON.stringify((await devKeys(gw.keysFile)).publicJwk))), 'invalid_token'],
      ['B\'s token with A\'s tenant claim put in (signature of B\'s)', `${tokens.globex!.split('.')[0]}.${b64({ ...globexPayload, [TENANT_CLAIM]: 'acme' })}.${tokens.globex!.split('.')[2]}`, 'invalid_token'],
      ['A\'s token with another kid', `${b64({ ...json(h), kid: 'other' })}.${p}.${s}`, 'invalid_token'],
      ['A\'s tenant claim, expired (the platform\'s own key)', await new SignJWT({ [TENANT_CLAIM]: 'acme' }).setProtectedHeader({ alg: 'ES256', kid: 'tessera-dev' }).setIssuer(DEV_ISSUER).setAudience(DEV_AUDIENCE).setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(devKey), 'token_expired'],
      ['A\'s tenant claim from another issuer (the platform\'s own key)', await new SignJWT({ [TENANT_CLAIM]: 'acme' }).setProtectedHeader({ alg: 'ES256', kid: 'tessera-dev' }).setIssuer('https://evil.example.com').setAudience(DEV_AUDIENCE).setExpirationTime('1h').sign(devKey), 'invalid_token'],
      ['A\'s key with its tenant swapped for B\'s', acmeData.key.replace('tsk_acme_', 'tsk_globex_'), 'invalid_api_key'],
    ];
    for (const [what, bearer, code] of forged) {
      const answer = await send('GET', `/responses/${acmeData.response}`, bearer);
      expect([what, answer.status, JSON.parse(answer.body).error.code]).toEqual([what, 401, code]);
      expect(answer.body, what).not.toContain(SECRET);
    }
    // A random key answers the same whether its tenant is served, suspended, offboarded or not registered: no status oracle.
    const answers = new Set<string>();
    for (const tenant of ['acme', 'globex', 'sleepy', 'gone', 'nobody']) {
      const answer = await send('GET', '/models', mintApiKey(tenant).key);
      answers.add(`${answer.status} ${answer.body}`);
    }
    expect([...answers]).toEqual([expect.stringMatching(/^401 .*"invalid_api_key"/)]);
  });

  it('rate-limit counters and usage are per tenant: B spending its quota leaves A\'s untouched, whose ids share a prefix', async () => {
    const chat = { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }] };
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${tokens['tiny-2']}`, 'content-type': 'application/json' }, body: JSON.stringify(chat) });
      answers.push(res.status);
      await res.arrayBuffer();
    }
    expect(answers).toEqual([200, 200, 429]);
    const res = await fetch(`${gw.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${tokens.tiny}`, 'content-type': 'application/json' }, body: JSON.stringify(chat) });
    await res.arrayBuffer();
    expect([res.status, res.headers.get('x-ratelimit-remaining-requests')]).toEqual([200, '1']);
    const usage = (tenant: string) => send('GET', '/usage', tenant).then((a) => JSON.parse(a.body) as { tenant: string; day: { requests: number } });
    expect(await usage('tiny')).toMatchObject({ tenant: 'tiny', day: { requests: 1 } });
    expect(await usage('tiny-2')).toMatchObject({ tenant: 'tiny-2', day: { requests: 2 } });
  });

  it('a prompt cache key is scoped to the tenant upstream: A\'s key sent by B is another key there, each tenant\'s the same on every request', async () => {
    // The upstream is the platform's, on the platform's key: one prompt cache for every tenant, routed by prompt_cache_key.
    const key = 'support-bot-v1';
    const chat = (tenant: string) => client(tenant).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: SECRET }], prompt_cache_key: key });
    const from = upstream.requests.length;
    await chat('acme');
    await chat('globex');
    await chat('acme');
    const streamed = await client('globex').chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: SECRET }], prompt_cache_key: key, stream: true });
    for await (const _ of streamed);
    const response = await client('globex').responses.create({ model: 'openai-compatible/default', input: SECRET, prompt_cache_key: key, store: false });
    expect(response.prompt_cache_key).toBe(key); // the caller's own, on the Response
    const sent = upstream.requests.slice(from).map((body) => body.prompt_cache_key as string);
    expect(sent).toHaveLength(5);
    const [acme, globex] = [sent[0], sent[1]];
    expect(sent).toEqual([acme, globex, acme, globex, globex]);
    expect(acme).not.toBe(globex);
    for (const k of sent) expect(k).toMatch(/^[A-Za-z0-9_-]{1,64}$/); // within OpenAI's 64 characters
    expect(sent.join(' ')).not.toContain(key);
  });

  it('with no prompt cache key, OpenAI gets each tenant\'s own: two tenants never share a cache routing key, each tenant\'s the same on every request', async () => {
    // OpenAI routes a request by a hash of its prompt's prefix and its prompt_cache_key; with no key, by the prefix
    // alone across the platform's whole organisation, so B could probe A's prompts through cached_tokens.
    const chat = (tenant: string) => client(tenant).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: SECRET }] });
    const from = upstream.requests.length;
    await chat('acme');
    await chat('globex');
    await chat('acme');
    const streamed = await client('globex').chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: SECRET }], stream: true });
    for await (const _ of streamed);
    const response = await client('globex').responses.create({ model: 'openai/gpt-4o-mini', input: SECRET, store: false });
    expect(response.prompt_cache_key ?? null).toBeNull(); // the caller sent none: the Response says so
    const sent = upstream.requests.slice(from).map((body) => body.prompt_cache_key as string | undefined);
    expect(sent).toHaveLength(5);
    const [acme, globex] = [sent[0], sent[1]];
    expect(sent).toEqual([acme, globex, acme, globex, globex]);
    expect(acme).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(globex).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(acme).not.toBe(globex);
  });

  it('a model with prefixCacheSalt gets each tenant\'s own cache_salt, the same on every request; a caller\'s cache_salt (A\'s sent by B) is scoped to its tenant', async () => {
    // vLLM's automatic prefix caching shares KV blocks across every request unless a cache_salt separates them.
    const chat = (tenant: string, extra: Record<string, unknown> = {}, model = 'openai-compatible/salted') => client(tenant).chat.completions.create({ model, messages: [{ role: 'user', content: SECRET }], ...extra } as never);
    const from = upstream.requests.length;
    await chat('acme');
    await chat('globex');
    await chat('acme');
    const streamed = await client('globex').chat.completions.create({ model: 'openai-compatible/salted', messages: [{ role: 'user', content: SECRET }], stream: true });
    for await (const _ of streamed);
    await client('globex').responses.create({ model: 'openai-compatible/salted', input: SECRET, store: false });
    const salts = upstream.requests.slice(from).map((body) => body.cache_salt as string | undefined);
    expect(salts).toHaveLength(5);
    const [acme, globex] = [salts[0]!, salts[1]!];
    expect(salts).toEqual([acme, globex, acme, globex, globex]);
    expect(acme).not.toBe(globex);
    for (const salt of [acme, globex]) expect(salt).toMatch(/^tcs_[A-Za-z0-9_-]{43}$/); // within vLLM's 1-1024 characters
    expect(`${acme} ${globex}`).not.toMatch(/acme|globex/); // the tenant id is not written to the model server
    // B sending A's salt, on the salted model or on one without the opt-in (the same server behind another id), gets
    // a salt of its own; a caller's salt stays one salt inside its tenant.
    const own = upstream.requests.length;
    await chat('globex', { cache_salt: acme });
    await chat('globex', { cache_salt: acme }, 'openai-compatible/default');
    await chat('acme', { cache_salt: 'session-1' });
    await chat('acme', { cache_salt: 'session-1' }, 'openai-compatible/default');
    const scoped = upstream.requests.slice(own).map((body) => body.cache_salt as string);
    expect(scoped[0]).toBe(scoped[1]);
    expect(scoped[2]).toBe(scoped[3]);
    expect(new Set([acme, globex, scoped[0], scoped[2]]).size).toBe(4);
    expect(scoped.join(' ')).not.toContain('session-1');
  });

  it('end-user ids are scoped to the tenant upstream: A\'s user and safety_identifier sent by B are other values there, each tenant\'s the same on every request', async () => {
    // The platform's key: one provider account, so one cache bucketed by `user` and one abuse namespace of `safety_identifier`, for every tenant.
    const [user, safety] = ['alice@acme.example', 'a1b2c3-alice'];
    const chat = (tenant: string) => client(tenant).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: SECRET }], user, safety_identifier: safety });
    const from = upstream.requests.length;
    await chat('acme');
    await chat('globex');
    await chat('acme');
    const streamed = await client('globex').chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: SECRET }], user, safety_identifier: safety, stream: true });
    for await (const _ of streamed);
    const response = await client('globex').responses.create({ model: 'openai-compatible/default', input: SECRET, user, safety_identifier: safety, store: false });
    expect([response.user, response.safety_identifier]).toEqual([user, safety]); // the caller's own, on the Response
    const sent = upstream.requests.slice(from).map((body) => [body.user as string, body.safety_identifier as string] as const);
    expect(sent).toHaveLength(5);
    const [acme, globex] = [sent[0]!, sent[1]!];
    expect(sent).toEqual([acme, globex, acme, globex, globex]);
    expect(acme[0]).not.toBe(globex[0]);
    expect(acme[1]).not.toBe(globex[1]);
    // The tenant before the hash (the platform's operator reads it off an abuse notice), within 64 characters, the ids' text not sent.
    for (const [tenant, values] of [['acme', acme], ['globex', globex]] as const) for (const v of values) expect(v).toMatch(new RegExp(`^${tenant}-[0-9a-f]{32}$`));
    expect(JSON.stringify(sent)).not.toContain('alice');
  });

  it('leaves A\'s data as it was, and audits B\'s attempts as B\'s', async () => {
    expect(await (await client('acme').files.content(acmeData.file)).text()).toBe(JSONL);
    expect((await client('acme').fineTuning.jobs.retrieve(acmeData.job)).status).toBe('queued');
    expect((await client('acme').responses.retrieve(acmeData.response)).id).toBe(acmeData.response);
    expect((await client('acme').conversations.retrieve(acmeData.conversation)).metadata).toEqual({ owner: 'acme' });
    expect((await client('acme').conversations.items.list(acmeData.conversation)).data.map((i: any) => i.content[0].text)).toEqual([SECRET]);
    expect((await client('acme').models.list()).data.map((m) => m.id)).toContain(ACME_FT);
    const [key] = await gw.apiKeys.list('acme');
    expect([key?.keyId, key?.revokedAt, key?.rotatedTo]).toEqual([acmeData.keyId, undefined, undefined]);
    await gw.settled();
    const mentions = gw.audit.records.filter((r) => JSON.stringify(r).includes(acmeData.job) && r.tenantId !== 'acme');
    expect(mentions.length).toBeGreaterThan(0);
    for (const r of mentions) expect([r.tenantId, r.status]).toEqual(['globex', expect.any(Number)]);
  });
});
