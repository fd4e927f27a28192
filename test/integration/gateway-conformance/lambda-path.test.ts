import { request } from 'node:http';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { usdDecimal } from '../../../lambdas/inference/audit.js';
import { SETTLE_MARGIN_MS } from '../../../lambdas/inference/lambda-deadline.js';
import { costOf } from '../../../lambdas/inference/pipeline.js';
import { DynamoDbStore } from '../../../lambdas/inference/stores/dynamodb-store.js';
import { unscopedDocumentClient } from '../../../lambdas/shared/tenant-credentials.js';
import { countCompletionTokens, countPromptTokens, loadTokenizer } from '../../../lambdas/inference/token-count.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { CLIENTS, PythonClient, runClient, type ClientName } from './clients.js';
import { MODES, SCENARIOS, callOf, expectRelayed, openAiAnswer, openAiChunks, wireBodyOf, type Mode, type Scenario } from './matrix.js';
import { plainTenant } from './setup.js';

/**
 * The conformance cells of the `openai-compatible` provider on the deployed path: API Gateway
 * (emulated on loopback) runs the REQUEST authorizer Lambda's handler, then the router Lambda's
 * streaming handler through `awslambda.HttpResponseStream`, with the registry, usage table, audit
 * bucket and provider key in moto. The deployed path must not fall behind `tessera serve`.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
let python: PythonClient;
let token: string;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.scriptOnly = true;
  [apigw, python] = await Promise.all([startApiGatewayEmulator(conformanceConfig(), upstream.url, [plainTenant('acme')]), PythonClient.start()]);
  token = await apigw.token('acme');
});
afterAll(async () => {
  await python?.stop();
  await apigw?.stop();
  await upstream?.stop();
});
beforeEach(() => upstream.reset());

interface Cell { mode: Mode; scenario: Scenario; client: ClientName }
const cells: Cell[] = MODES.flatMap((mode) => SCENARIOS.flatMap((scenario) => CLIENTS.map((client) => ({ mode, scenario, client }))));
const model = 'openai-compatible/default';


describe('conformance through the Lambda adapters (authorizer, streaming router)', () => {
  it.each(cells)('$mode · $scenario · $client client', async ({ mode, scenario, client }) => {
    const chunks = openAiChunks(scenario);
    if (mode === 'whole') upstream.script({ body: openAiAnswer(scenario) });
    else upstream.script({ events: [...chunks.map((data) => ({ data })), { data: '[DONE]' }] });
    const call = callOf(scenario, mode, model);

    const out = await runClient(client, python, apigw.url, token, call);

    expect(out.error).toBeUndefined();
    expect(upstream.calls).toHaveLength(1);
    // The tenant's own provider key, read from Secrets Manager by the router Lambda.
    expect(upstream.calls[0].headers.authorization).toBe('Bearer key-of-acme');
    const wire = wireBodyOf(call, client);
    const expected = mode === 'whole'
      ? { ...wire, model: 'default' }
      : { ...wire, model: 'default', stream: true, stream_options: { ...(wire.stream_options as object | undefined), include_usage: true } };
    expect(upstream.calls[0].body).toEqual(expected);
    expectRelayed(out, call, mode, scenario, model, client);
  });

  it('a whole answer\'s x-tessera-cost-usd and x-tessera-model pass API Gateway and the streaming router (official Node client .withResponse()); a stream\'s head has none', async () => {
    upstream.script({ body: openAiAnswer(SCENARIOS[0]) });
    const client = new OpenAI({ baseURL: apigw.url, apiKey: token, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'cost?' }] }).withResponse();
    const entry = conformanceConfig().gateway.models.find((m) => m.id === model)!;
    // The settled cost at the catalog's prices, as the audit record (S3) keeps it: nano-dollars, written as a plain decimal.
    expect(response.headers.get('x-tessera-cost-usd')).toBe(usdDecimal(costOf(entry, data.usage!.prompt_tokens, data.usage!.completion_tokens)));
    expect(Number(response.headers.get('x-tessera-cost-usd'))).toBeGreaterThan(0);
    expect(response.headers.get('x-tessera-model')).toBe(model);
    expect(response.headers.get('x-tessera-fallback-from')).toBeNull();
    upstream.script({ events: [...openAiChunks(SCENARIOS[0]).map((data) => ({ data })), { data: '[DONE]' }] });
    const { data: stream, response: head } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'cost?' }], stream: true }).withResponse();
    for await (const _chunk of stream) { /* to the end: the request settles */ }
    expect([...head.headers.keys()].filter((h) => h.startsWith('x-tessera-'))).toEqual([]);
  });

  it('refuses a bad token at the authorizer as API Gateway does (401), before the router runs', async () => {
    const res = await fetch(`${apigw.url}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer not.a.jwt' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(upstream.calls).toHaveLength(0);
  });

  it('answers an upstream 400 with the same 400 through the Lambda path', async () => {
    upstream.script({ status: 400, body: { error: { message: "This model's maximum context length is 8192 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } });
    const out = await runClient('node', python, apigw.url, token, { op: 'create', params: { model, messages: [{ role: 'user', content: 'long' }] } });
    expect(out.error).toMatchObject({ status: 400, body: { code: 'context_length_exceeded', param: 'messages', message: "This model's maximum context length is 8192 tokens." } });
  });

  it('a client that leaves mid-stream closes the Lambda response stream, which aborts the upstream call and bills what was produced', async () => {
    const chunk = (content: string | null, finish: string | null = null) => ({ id: 'up', object: 'chat.completion.chunk', created: 1, model: 'default', choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] });
    // An upstream that never ends by itself (a chunk every 0.1 s for 15 minutes, inside the idle timeout): its connection
    // closes only because the router aborted the call once the client left (awaited, no timer raced).
    const events = Array.from({ length: 9_000 }, () => ({ data: chunk(' the') }));
    upstream.script({ events, eventDelayMs: 100 });
    const client = new OpenAI({ baseURL: apigw.url, apiKey: token, maxRetries: 0 });
    const before = (await new DynamoDbStore('tessera-tenants', 'tessera-usage', unscopedDocumentClient()).usage('acme', new Date())).month.tokens;
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Count.' }], stream: true });
    let received = 0;
    for await (const _ of stream) if (++received === 3) break; // leaving the loop closes the connection
    await upstream.calls[0].closed;
    expect(upstream.calls[0].eventsWritten).toBeLessThan(events.length);
    // The month's tokens hold the request's reservation (prompt + the model's maximum output) until the router
    // settles it, after the stream closed and before its invocation returns: wait for the invocation (it used to
    // poll the usage for 2 s, then 10 s, and a cold, loaded machine took longer than the 2 s), then read it once.
    await apigw.settled();
    await loadTokenizer();
    const prompt = countPromptTokens({ model, messages: [{ role: 'user', content: 'Count.' }] });
    const billed = (await new DynamoDbStore('tessera-tenants', 'tessera-usage', unscopedDocumentClient()).usage('acme', new Date())).month.tokens;
    // The prompt and one token per chunk produced: never more than the upstream wrote, nor the reservation.
    expect(billed - before).toBeGreaterThanOrEqual(prompt + received);
    expect(billed - before).toBeLessThanOrEqual(prompt + upstream.calls[0].eventsWritten);
  });

  describe('the router\'s deadline (its remaining time less SETTLE_MARGIN_MS), seen by the official Node client', () => {
    const usage = () => new DynamoDbStore('tessera-tenants', 'tessera-usage', unscopedDocumentClient()).usage('acme', new Date());
    const chunk = (content: string) => ({ id: 'up', object: 'chat.completion.chunk', created: 1, model: 'default', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    // A Lambda with 1.5 s to spare past the margin: the deadline comes 1.5 s into the invocation.
    beforeEach(() => apigw.setRouterTimeout(SETTLE_MARGIN_MS + 1_500));
    afterEach(() => apigw.setRouterTimeout());

    it('a stream still running is cut with the error event (APIError request_deadline_exceeded), the words produced billed, nothing left held', async () => {
      const words = [' slow', ' thought', ' goes', ' on'];
      upstream.script({ events: words.map((w) => ({ data: chunk(w) })), hang: true });
      const before = await usage();
      const client = new OpenAI({ baseURL: apigw.url, apiKey: token });
      const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Think.' }], stream: true });
      const got: string[] = [];
      const err = await (async () => { for await (const c of stream) got.push(c.choices[0]?.delta.content ?? ''); })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err).toMatchObject({ code: 'request_deadline_exceeded', type: 'timeout_error' });
      expect(got.join('')).toBe(words.join(''));
      await loadTokenizer();
      const after = await usage();
      expect(after.held!.month.tokens).toBe(before.held!.month.tokens);
      expect(after.month.tokens - before.month.tokens).toBe(countPromptTokens({ model, messages: [{ role: 'user', content: 'Think.' }] }) + countCompletionTokens(words.join('')));
      expect(upstream.calls).toHaveLength(1);
    });

    it('a whole answer that has not come: one 504 request_deadline_exceeded (the SDK does not retry it: x-should-retry: false), the reservation released', async () => {
      upstream.script({ body: openAiAnswer(SCENARIOS[0]), delayMs: 30_000 });
      const before = await usage();
      const client = new OpenAI({ baseURL: apigw.url, apiKey: token });
      const err = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Think.' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err).toMatchObject({ status: 504, code: 'request_deadline_exceeded' });
      expect(upstream.calls).toHaveLength(1);
      const after = await usage();
      expect(after.held!.month.tokens).toBe(before.held!.month.tokens);
      expect(after.month.tokens).toBe(before.month.tokens);
    });
  });
});


/**
 * The Responses API's WebSocket handshake as openai-agents 0.25 opens it (`GET /v1/responses`, `Upgrade: websocket`),
 * through the authorizer and the router Lambda with the headers the emulator hands over as API Gateway's `headers`:
 * the router gives the 405 naming WebSocket mode, as `tessera serve` does (unserved-routes.test.ts). Whether a deployed
 * REST API passes `Upgrade` on was not measured; without it the router's plain 405 answers.
 */
describe('the Responses API\'s WebSocket handshake through the Lambda adapters', () => {
  it('405, allow POST, the message naming WebSocket mode; nothing reaches the upstream', async () => {
    const url = new URL(`${apigw.url}/responses`);
    const headers = {
      upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'Yl59AkYJP26VyN5NJUCnjA==', 'sec-websocket-version': '13',
      authorization: `Bearer ${token}`, 'user-agent': 'Agents/Python 0.25.0',
    };
    const answer = await new Promise<{ status: number; allow?: string; text: string }>((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: url.pathname, method: 'GET', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode!, allow: res.headers.allow, text }));
      }).on('error', reject).end();
    });
    expect([answer.status, answer.allow]).toEqual([405, 'POST, OPTIONS']);
    expect(JSON.parse(answer.text).error).toMatchObject({ code: 'method_not_allowed', message: expect.stringContaining("this request asked to upgrade to a WebSocket (Upgrade: websocket), the Responses API's WebSocket mode, which this gateway does not serve; send responses over HTTP, POST /v1/responses") });
    expect(upstream.calls).toHaveLength(0);
  });
});
