import { request } from 'node:http';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TenantUserDirectory } from '../../../lambdas/identity/tenant-users.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { plainTenant, startConformanceGateway } from './setup.js';

vi.setConfig({ testTimeout: 20_000 });

/**
 * What the official Node client's resources that the gateway does not serve get, and a client whose
 * base URL is set wrong: OpenAI's 404 (NotFoundError, `route_not_found`) naming what is not served and
 * what is, or the setting to change, never only "no route". Nothing reaches the upstream.
 */
let env: Awaited<ReturnType<typeof startConformanceGateway>>;
beforeAll(async () => {
  env = await startConformanceGateway();
});
afterAll(async () => env?.stop());

const client = (baseURL = env.gw.url) => new OpenAI({ baseURL, apiKey: env.tokens.acme, maxRetries: 0 });
type NotFound = InstanceType<typeof OpenAI.NotFoundError>;
const notFound = async (call: () => Promise<unknown>): Promise<NotFound> => {
  const e = await call().then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(OpenAI.NotFoundError);
  expect((e as NotFound).error).toMatchObject({ type: 'invalid_request_error', code: 'route_not_found', param: null });
  return e as NotFound;
};
/** The router's routes every gateway serves (its tenant's own request records among them), before Tessera's tenant keys and users. */
const CORE = '/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/moderations, /v1/images/generations, /v1/images/edits, /v1/images/variations, /v1/audio/speech, /v1/audio/transcriptions, /v1/audio/translations, /v1/responses, /v1/conversations, /v1/models, /v1/usage, /v1/tenant/requests';
/** What `tessera serve` serves: the core, its tenant API keys, the Batch API (its files and uploads) and vector stores; no /v1/tenant/users (no Cognito user pool). */
const SERVED = `it serves ${CORE}, /v1/tenant/keys, /v1/batches, /v1/files, /v1/uploads and /v1/vector_stores`;

describe('an OpenAI API the gateway does not serve: a 404 naming it as the SDK calls it, and what is served', () => {
  it.each([
    ['client.evals.list', 'GET /v1/evals', 'evals (client.evals) are not served by this gateway; it serves', () => client().evals.list()],
    ['client.containers.create', 'POST /v1/containers', 'containers (client.containers) are not served by this gateway; it serves', () => client().containers.create({ name: 'c' })],
  ])('%s', async (_name, route, family, call) => {
    const e = await notFound(call);
    expect(e.error).toMatchObject({ message: expect.stringContaining(`no route ${route}: `) });
    expect(e.message).toContain(family);
    expect(e.message).toContain(SERVED);
  });

  it('an 8 MB client.uploads.parts part to an upload nobody made (the Uploads API is served without --fine-tuning, for batch and model input files): the 404 naming upload_id, not a 413 asking for a smaller part', async () => {
    const e = await client().uploads.parts.create('upload_abc', { data: await toFile(Buffer.alloc(8 * 1024 * 1024, 1), 'part.bin') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect((e as NotFound).error).toMatchObject({ code: 'upload_not_found', param: 'upload_id', message: 'No such Upload object: upload_abc' });
  });

  it('a body past the limit on a route that is served is still the 413', async () => {
    const e = await client().chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }] }).catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 413, error: { code: 'request_too_large' } });
  });

  it('a path that is nothing of OpenAI\'s: what is served', async () => {
    const res = await fetch(`${env.gw.url}/nothing/here`, { headers: { authorization: `Bearer ${env.tokens.acme}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(`no route GET /v1/nothing/here; ${SERVED}`);
    const root = await fetch(env.gw.url.replace(/\/v1$/, '/'), { headers: { authorization: `Bearer ${env.tokens.acme}` } });
    expect(((await root.json()) as { error: { message: string } }).error.message).toBe(`no route GET /; ${SERVED}`);
  });
});

/**
 * Under `tessera serve` without --fine-tuning, a member's client.files.create was a 403 "lacks permission
 * fine_tuning.write … ask your tenant admin", and a developer's a 404 "fine-tuning is not served on this endpoint (POST
 * /v1/files)" that did not say how to serve it. A route not served at all is the 404, whatever the role, saying how.
 */
describe('fine-tuning where tessera serve was started without --fine-tuning: the 404 before the role check', () => {
  const FINE_TUNING = 'fine-tuning (client.fine_tuning.jobs, client.uploads, client.models.delete) is not served by this gateway; tessera serve serves it when started with --fine-tuning';
  it.each(['member', 'developer', 'admin'])('a %s\'s client.files.create (purpose fine-tune), client.fineTuning.jobs.create and jobs.list', async (role) => {
    const c = new OpenAI({ baseURL: env.gw.url, apiKey: await env.gw.token('acme', { role }), maxRetries: 0 });
    // /v1/files is served for the Batch API (purpose "batch"): a fine-tune file is a 400 naming purpose and how to serve it.
    const e = await c.files.create({ file: await toFile(Buffer.from('{}\n'), 'train.jsonl'), purpose: 'fine-tune' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ param: 'purpose', code: 'unsupported_value', message: expect.stringContaining('fine-tuning files need fine-tuning served (tessera serve --fine-tuning') });
    expect((await notFound(() => c.fineTuning.jobs.create({ model: 'base', training_file: 'file-1' }))).message).toContain(`no route POST /v1/fine_tuning/jobs: ${FINE_TUNING}`);
    expect((await notFound(() => c.fineTuning.jobs.list())).message).toContain(`no route GET /v1/fine_tuning/jobs: ${FINE_TUNING}`);
  });

  it('a member\'s /v1/tenant/users (no Cognito pool under tessera serve): the 404, not a 403 asking for the admin role', async () => {
    const res = await fetch(`${env.gw.url}/tenant/users`, { headers: { authorization: `Bearer ${await env.gw.token('acme', { role: 'member' })}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'route_not_found', message: 'no route GET /v1/tenant/users: tenant users are not served on this endpoint (no Cognito user pool configured here; tessera serve has none)' });
  });
});

describe('a base URL set wrong: the 404 says what to set', () => {
  it('without /v1 (http://host:port): end it with /v1', async () => {
    const e = await notFound(() => client(env.gw.url.replace(/\/v1$/, '')).chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'Hi' }] }));
    expect(e.message).toContain("no route POST /chat/completions: the gateway's paths start with /v1; end the client's base URL with /v1");
  });

  it('with /v1 twice (http://host:port/v1/v1): once', async () => {
    const e = await notFound(() => client(`${env.gw.url}/v1`).embeddings.create({ model: 'openai-compatible/embeddings', input: 'Hi' }));
    expect(e.message).toContain('no route POST /v1/v1/embeddings: the path holds /v1 twice');
  });

  it('nothing reached the upstream', () => {
    expect(env.upstream.calls).toHaveLength(0);
  });
});

/**
 * `tessera serve`'s 404 listed /v1/tenant/users (and /v1/tenant/keys where no key store is configured), which the
 * same gateway then refused as not served there. The list names what this gateway serves: the route families it has.
 */
describe('the 404 lists what this gateway serves, not what another would', () => {
  const images = async (url: string, apiKey: string) => (await notFound(async () => new OpenAI({ baseURL: url, apiKey, maxRetries: 0 }).containers.create({ name: 'docs' }))).message;
  const served = (message: string) => message.slice(message.indexOf('it serves '));

  it('tessera serve (no user pool): its tenant keys, not /v1/tenant/users, which it refuses', async () => {
    expect(served(await images(env.gw.url, env.tokens.acme))).toBe(SERVED);
    const users = await fetch(`${env.gw.url}/tenant/users`, { headers: { authorization: `Bearer ${await env.gw.token('acme', { role: 'admin' })}` } });
    expect([users.status, ((await users.json()) as { error: { code: string } }).error.code]).toEqual([404, 'route_not_found']);
  });

  it.each([
    ['with --fine-tuning: the fine-tuning routes too', { fineTuning: { sageMaker: async () => { throw new Error('not called'); } } }, `it serves ${CORE}, /v1/tenant/keys, /v1/batches, /v1/files, /v1/uploads, /v1/vector_stores and /v1/fine_tuning/jobs`],
    ['without a key store: neither /v1/tenant/keys nor /v1/tenant/users', { apiKeys: false as const }, `it serves ${CORE}, /v1/batches, /v1/files, /v1/uploads and /v1/vector_stores`],
    ['with a user directory (as the router has its Cognito pool): /v1/tenant/users too', { users: {} as TenantUserDirectory }, `it serves ${CORE}, /v1/tenant/keys, /v1/tenant/users, /v1/batches, /v1/files, /v1/uploads and /v1/vector_stores`],
  ])('%s', async (_name, extra, expected) => {
    const upstream = await new FakeUpstream().start();
    const gw = await serveGateway(conformanceConfig(), upstream.url, [plainTenant('acme')], extra);
    try {
      expect(served(await images(gw.url, await gw.token('acme')))).toBe(expected);
    } finally {
      await gw.stop();
      await upstream.stop();
    }
  });
});

/**
 * `tessera serve`'s OPTIONS (and a CORS preflight) answered from the router's whole route table: `/v1/tenant/users`
 * (and `/v1/tenant/keys` without a key store) got 204 `Allow: GET, POST, OPTIONS`, though every other method there is
 * the 404 and its list leaves them out. OPTIONS names what this gateway serves, as its 404 does.
 */
describe('OPTIONS names the methods of what this gateway serves, as its 404 lists it', () => {
  const options = (url: string) => fetch(url, { method: 'OPTIONS' });

  it('tessera serve (no user pool): /v1/tenant/users is the 404, /v1/tenant/keys answers its methods', async () => {
    const users = await options(`${env.gw.url}/tenant/users`);
    expect([users.status, users.headers.get('allow'), ((await users.json()) as { error: { code: string } }).error.code]).toEqual([404, null, 'route_not_found']);
    const user = await options(`${env.gw.url}/tenant/users/u-1/role`);
    expect([user.status, user.headers.get('allow')]).toEqual([404, null]);
    const keys = await options(`${env.gw.url}/tenant/keys`);
    expect([keys.status, keys.headers.get('allow')]).toEqual([204, 'GET, POST, OPTIONS']);
  });

  it.each([
    ['without a key store: /v1/tenant/keys is the 404 too', { apiKeys: false as const }, '/tenant/keys', 404, null],
    ['with a user directory (as the router has its Cognito pool): /v1/tenant/users answers its methods', { users: {} as TenantUserDirectory }, '/tenant/users', 204, 'GET, POST, OPTIONS'],
  ])('%s', async (_name, extra, path, status, allow) => {
    const upstream = await new FakeUpstream().start();
    const gw = await serveGateway(conformanceConfig(), upstream.url, [plainTenant('acme')], extra);
    try {
      const res = await options(`${gw.url}${path}`);
      expect([res.status, res.headers.get('allow')]).toEqual([status, allow]);
      // and the 404 of another method agrees: the path is not in its list
      if (status === 404) {
        const apiKey = await gw.token('acme');
        const e = await notFound(async () => new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 }).containers.create({ name: 'docs' }));
        expect(e.message).not.toContain(`/v1${path}`);
      }
    } finally {
      await gw.stop();
      await upstream.stop();
    }
  });
});

/**
 * The missing-/v1 hint was given for any path of the router's table: `/tenant/users` on `tessera serve` was told to add
 * /v1, where `/v1/tenant/users` is not served either. The hint is for a path this gateway serves once /v1 is added.
 */
describe('the missing-/v1 hint only for a path this gateway serves under /v1', () => {
  const noV1 = () => client(env.gw.url.replace(/\/v1$/, ''));
  it('tessera serve (no user pool): /tenant/users is told what is served, not to add /v1', async () => {
    const e = await notFound(() => noV1().get('/tenant/users'));
    expect(e.error).toMatchObject({ message: `no route GET /tenant/users; ${SERVED}` });
  });
  it('/tenant/keys, served under /v1 here, is told to add /v1', async () => {
    const e = await notFound(() => noV1().get('/tenant/keys'));
    expect(e.message).toContain("no route GET /tenant/keys: the gateway's paths start with /v1; end the client's base URL with /v1");
  });
});

/**
 * The Responses API's WebSocket mode, which the OpenAI Agents SDK for Python (0.25) opens with
 * `responses_websocket_session(...)` or `set_default_openai_responses_transport("websocket")`: a GET of /v1/responses
 * asking `Upgrade: websocket`, its headers replayed here as openai-agents 0.25.0 (openai 3.63) sent them (through
 * node:http: fetch refuses to send `Upgrade` and `Connection`). Not served (no WebSocket route here or on API Gateway's
 * REST API): the 405 every GET there gets, but saying it was a WebSocket handshake and what to set, where the SDK showed
 * the app a bare "GET is not supported on /v1/responses". Nothing reaches the upstream.
 */
describe('the Responses API\'s WebSocket mode: a 405 naming it and the HTTP transport', () => {
  const get = (path: string, headers: Record<string, string>) => new Promise<{ status: number; allow?: string; body: { error: { message: string; code: string; param: null } } }>((resolve, reject) => {
    const url = new URL(`${env.gw.url}${path}`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'GET', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode!, allow: res.headers.allow, body: JSON.parse(text) }));
    });
    req.on('error', reject).end();
  });
  const handshake = () => ({
    upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'Yl59AkYJP26VyN5NJUCnjA==', 'sec-websocket-version': '13',
    'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits', authorization: `Bearer ${env.tokens.acme}`,
    accept: 'application/json', 'content-type': 'application/json', 'x-stainless-lang': 'python', 'x-stainless-package-version': '3.63.0',
    'x-stainless-async': 'async:asyncio', 'user-agent': 'Agents/Python 0.25.0',
  });

  it('the Agents SDK\'s handshake: 405, allow POST, the message naming WebSocket mode and the transport to set', async () => {
    env.upstream.reset();
    const answer = await get('/responses', handshake());
    expect([answer.status, answer.allow]).toEqual([405, 'POST, OPTIONS']);
    expect(answer.body.error).toEqual({
      type: 'invalid_request_error', code: 'method_not_allowed', param: null,
      message: "GET is not supported on /v1/responses: this request asked to upgrade to a WebSocket (Upgrade: websocket), the Responses API's WebSocket mode, which this gateway does not serve; send responses over HTTP, POST /v1/responses (the OpenAI Agents SDK's default transport: no responses_websocket_session, and set_default_openai_responses_transport('http'))",
    });
    expect(env.upstream.calls).toHaveLength(0);
  });

  it('a plain GET of /v1/responses (no Upgrade) keeps the plain 405', async () => {
    const { upgrade: _u, connection: _c, ...plain } = handshake();
    const answer = await get('/responses', plain);
    expect([answer.status, answer.body.error.message]).toEqual([405, 'GET is not supported on /v1/responses']);
  });
});
