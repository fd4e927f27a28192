import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintApiKey } from '../../../lib/identity/api-key.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { CLIENTS, PythonClient, runClient, type ClientCall } from '../gateway-conformance/clients.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { KEY_SET_RETRY_MS } from '../../../lambdas/inference/key-set-retry.js';

// The errors API Gateway answers itself, through the emulated deployed path with the API's
// gateway responses (lambdas/inference/gateway-responses.ts), as the official Node and Python
// clients see them: the class each raises, OpenAI's `code` and `type`, the request id in the
// message, and what each retries. Without the gateway responses these were `{"message":
// "Unauthorized"}` and the like: no code, no type, 429s without retry-after.

let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let python: PythonClient;
const chat = (maxRetries = 0): ClientCall => ({ op: 'create', params: { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }] }, maxRetries });
const REQUEST_ID = /\(request [0-9a-f-]{36}\)/;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  [apigw, python] = await Promise.all([
    startApiGatewayEmulator(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise'), localTenant('sleepy', 'enterprise', { status: 'SUSPENDED' })]),
    PythonClient.start(),
  ]);
}, 120_000);
afterAll(async () => {
  await python?.stop();
  await apigw?.stop();
  await upstream?.stop();
});

describe('API Gateway\'s own errors reach the official clients in OpenAI\'s shape', () => {
  // First in the file: the authorizer's key set is fetched once it is up, then cached.
  it('the issuer\'s key set unreachable: 500 authorizer_failed, which both clients retry (not a 401 for a good token) once the authorizer reads the key set again; then it serves', async () => {
    apigw.setJwksStatus(503);
    const token = await apigw.token('acme');
    const readsBefore = apigw.jwksReads();
    for (const client of CLIENTS) {
      const before = apigw.authorizerCalls();
      const out = await runClient(client, python, apigw.url, token, chat(1));
      expect(out.error, client).toMatchObject({ status: 500, type: 'InternalServerError', body: { type: 'server_error', code: 'authorizer_failed' } });
      expect(out.error!.body.message, client).toMatch(REQUEST_ID);
      // An authorizer that throws anything but "Unauthorized" is AuthorizerConfigurationException in AWS.
      expect(out.error!.body.message, client).toContain('(its authorizer failed: AUTHORIZER_CONFIGURATION_ERROR)');
      // The wait the warm authorizer answers a failed key set from memory (KEY_SET_RETRY_MS), which the SDKs honour.
      expect([out.error!.headers['retry-after-ms'], out.error!.headers['retry-after']], client).toEqual([String(KEY_SET_RETRY_MS), '5']);
      expect(apigw.authorizerCalls() - before, `${client} retried once`).toBe(2);
    }
    // Each client's retry reached a read of the key set (node's first attempt read it, then each retry): with the 2 s
    // sent before, the retries came while the authorizer still answered the failure from memory, and none read it again.
    expect(apigw.jwksReads() - readsBefore).toBeGreaterThanOrEqual(1 + CLIENTS.length);
    // The authorizer answers a key set that failed again at once for KEY_SET_RETRY_MS (5 s), then reads it again.
    apigw.setJwksStatus(200);
    await expect.poll(async () => (await runClient('node', python, apigw.url, token, chat())).ok, { timeout: 20_000, interval: 1_000 }).toBe(true);
  });

  it('a refused credential: 401 AuthenticationError, code invalid_api_key, WWW-Authenticate Bearer; no header at all the same, without calling the authorizer', async () => {
    for (const client of CLIENTS) {
      for (const key of [mintApiKey('acme').key, 'not-a-token']) {
        const out = await runClient(client, python, apigw.url, key, chat(2));
        // OpenAI's type and first words for a credential it does not take (they were authentication_error, "Incorrect or missing credentials").
        expect(out.error, `${client} ${key}`).toMatchObject({ status: 401, type: 'AuthenticationError', body: { type: 'invalid_request_error', code: 'invalid_api_key', param: null, message: expect.stringMatching(/^Incorrect API key provided, or none: /) } });
        expect(out.error!.body.message).toMatch(REQUEST_ID);
        // The SDKs' request id (x-request-id) is API Gateway's, the one the message names.
        expect(out.error!.body.message).toContain(`(request ${out.error!.headers['x-request-id']})`);
      }
    }
    const before = apigw.authorizerCalls();
    const res = await fetch(`${apigw.url}/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect([res.status, res.headers.get('www-authenticate'), ((await res.json()) as { error: { code: string } }).error.code]).toEqual([401, 'Bearer', 'invalid_api_key']);
    expect(apigw.authorizerCalls()).toBe(before);
  });

  it('a suspended tenant (the authorizer\'s Deny): 403 PermissionDeniedError with the authorizer\'s code and message', async () => {
    const token = await apigw.token('sleepy');
    for (const client of CLIENTS) {
      const out = await runClient(client, python, apigw.url, token, chat());
      expect(out.error, client).toMatchObject({ status: 403, type: 'PermissionDeniedError', body: { type: 'permission_error', code: 'tenant_not_active' } });
      expect(out.error!.body.message, client).toMatch(/^tenant "sleepy" is SUSPENDED; .* \(request [0-9a-f-]{36}\)$/);
    }
  });

  it('a path the API has no resource for (outside /v1): 404 NotFoundError, route_not_found, before any authorizer', async () => {
    const token = await apigw.token('acme');
    const before = apigw.authorizerCalls();
    // A client whose base URL lacks /v1: /v1/{proxy+} does not take these, no resource does (MISSING_AUTHENTICATION_TOKEN).
    const root = apigw.url.replace(/\/v1$/, '');
    for (const [method, path] of [['POST', '/chat/completions'], ['GET', '/models'], ['POST', '/v1']]) {
      const res = await fetch(`${root}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
      const error = ((await res.json()) as { error: { message: string } }).error;
      expect([res.status, error], `${method} ${path}`).toEqual([404, expect.objectContaining({ type: 'invalid_request_error', code: 'route_not_found' })]);
      expect(error.message, `${method} ${path}`).toContain('/v1/chat/completions');
    }
    expect(apigw.authorizerCalls()).toBe(before);
  });

  // Every /v1 path no explicit resource takes reaches the router through /v1/{proxy+} (lib/inference-api-methods.ts),
  // behind the authorizer: a caller without credentials is told so (401), an authenticated one gets the router's 404
  // naming what the platform serves (the fine-tuning Lambda's routes too), or its 405 with Allow.
  it('a /v1 route nobody serves: the authorizer first (401 without credentials), then the router\'s 404 naming what is served, or its 405', async () => {
    const anonymous = await fetch(`${apigw.url}/assistants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([anonymous.status, ((await anonymous.json()) as { error: unknown }).error]).toEqual([401, expect.objectContaining({ type: 'invalid_request_error', code: 'invalid_api_key' })]);
    const token = await apigw.token('acme');
    const before = apigw.authorizerCalls();
    for (const [path, said] of [['/assistants', 'the Assistants API (client.beta.assistants) is not served'], ['/widgets', 'it serves /v1/chat/completions']]) {
      const res = await fetch(`${apigw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      const error = ((await res.json()) as { error: { message: string } }).error;
      expect([res.status, error], `POST ${path}`).toEqual([404, expect.objectContaining({ type: 'invalid_request_error', code: 'route_not_found' })]);
      expect(error.message, `POST ${path}`).toContain(said);
      expect(res.headers.get('x-request-id'), `POST ${path}`).toMatch(/^req_/);
    }
    const widgets = await fetch(`${apigw.url}/widgets`, { headers: { authorization: `Bearer ${token}` } });
    // What the platform serves, the fine-tuning Lambda's files and uploads beside the router's routes.
    expect(((await widgets.json()) as { error: { message: string } }).error.message).toMatch(/it serves \/v1\/chat\/completions, .*\/v1\/files and \/v1\/uploads$/);
    expect(apigw.authorizerCalls()).toBe(before + 3);
    const list = await fetch(`${apigw.url}/embeddings`, { headers: { authorization: `Bearer ${token}` } });
    expect([list.status, list.headers.get('allow')]).toEqual([405, 'POST, OPTIONS']);
    expect(((await list.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });

  // s28: a resource with several routes has one ANY method (constructs/inference-api.ts): API Gateway passes another
  // method to the router after the authorizer, and the router answers 405 naming what the path takes (RFC 9110: Allow).
  it('another method on a resource of several routes: 405 method_not_allowed with Allow, from the router', async () => {
    const token = await apigw.token('acme');
    for (const path of ['/conversations/conv_x', '/conversations/conv_x/items', '/responses/resp_x']) {
      const res = await fetch(`${apigw.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      expect([res.status, ((await res.json()) as { error: unknown }).error], `PUT ${path}`).toEqual([405, expect.objectContaining({ type: 'invalid_request_error', code: 'method_not_allowed' })]);
      expect(res.headers.get('allow'), `PUT ${path}`).toMatch(/GET/);
    }
  });

  it('the usage plan\'s throttle: 429 RateLimitError with retry-after 1, retried by both clients; its daily quota: x-should-retry false, not retried', async () => {
    const token = await apigw.token('acme');
    for (const client of CLIENTS) {
      let refused = 0;
      apigw.refuseAtEdge(() => (refused++ < 1 ? 'THROTTLED' : undefined));
      const throttledOnce = await runClient(client, python, apigw.url, token, chat(1));
      expect(throttledOnce.ok, `${client} succeeds on its retry after the throttle`).toBe(true);
      apigw.refuseAtEdge(() => 'THROTTLED');
      const throttled = await runClient(client, python, apigw.url, token, chat(0));
      expect(throttled.error, client).toMatchObject({ status: 429, type: 'RateLimitError', body: { type: 'rate_limit_error', code: 'rate_limit_exceeded' }, headers: { 'retry-after': '1' } });
      let quota = 0;
      apigw.refuseAtEdge(() => { quota++; return 'QUOTA_EXCEEDED'; });
      const exhausted = await runClient(client, python, apigw.url, token, chat(2));
      expect(exhausted.error, client).toMatchObject({ status: 429, type: 'RateLimitError', body: { code: 'rate_limit_exceeded' }, headers: { 'x-should-retry': 'false' } });
      expect(exhausted.error!.body.message).toContain('renews at 00:00 UTC');
      expect(quota, `${client} did not retry the quota`).toBe(1);
    }
    apigw.refuseAtEdge();
  });

  it('the WAF, the payload limit and an integration timeout: 403 request_blocked, 413 request_too_large, 504 gateway_timeout', async () => {
    const token = await apigw.token('acme');
    const cases = [['WAF_FILTERED', 403, 'PermissionDeniedError', 'request_blocked'], ['REQUEST_TOO_LARGE', 413, 'APIError', 'request_too_large'], ['INTEGRATION_TIMEOUT', 504, 'InternalServerError', 'gateway_timeout']] as const;
    for (const [type, status, errorClass, code] of cases) {
      apigw.refuseAtEdge(() => type);
      const out = await runClient('node', python, apigw.url, token, chat());
      expect(out.error, type).toMatchObject({ status, type: errorClass, body: { code } });
    }
    apigw.refuseAtEdge();
  });

  it('a body whose API Gateway event is past Lambda\'s 6 MB invocation payload: 413 request_too_large naming Lambda\'s limit, not only API Gateway\'s 10 MB', async () => {
    const token = await apigw.token('acme');
    const sent = upstream.requests.length;
    // 1,000,000 control characters: each sent as \u0001 (6 bytes, a 6 MB body, under API Gateway's 10 MB), each 7 bytes in the event.
    const call: ClientCall = { op: 'create', params: { model: 'openai-compatible/default', messages: [{ role: 'user', content: '\u0001'.repeat(1_000_000) }] }, maxRetries: 0 };
    for (const client of CLIENTS) {
      const out = await runClient(client, python, apigw.url, token, call);
      expect(out.error, client).toMatchObject({ status: 413, body: { type: 'request_too_large', code: 'request_too_large' } });
      expect(out.error!.body.message, client).toContain("over Lambda's invocation payload limit of 6 MB (6,291,456 bytes)");
      expect(out.error!.body.message, client).toMatch(REQUEST_ID);
    }
    // A body under gateway.maxRequestBytes (1 MiB) that is not JSON: raw control characters are 6 bytes each in the event.
    const raw = `{"model":"openai-compatible/default","messages":[{"role":"user","content":"${'\u0001'.repeat(1_048_450)}"}]}`;
    expect(Buffer.byteLength(raw)).toBeLessThan(gatewayConfig().gateway.maxRequestBytes);
    const res = await fetch(`${apigw.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: raw });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { type: 'request_too_large', code: 'request_too_large', param: null } });
    expect(upstream.requests).toHaveLength(sent);
  });
});
