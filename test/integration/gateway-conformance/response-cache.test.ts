import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ChatCompletionStreamParams } from 'openai/lib/ChatCompletionStream';
import { describe, expect, it, vi } from 'vitest';
import { responseIdOfItem } from '../../../lambdas/inference/responses/ids.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { CLIENTS, PythonClient, runClient, type Outcome } from './clients.js';
import { openAiAnswer, openAiChunks, WEATHER_TOOL } from './matrix.js';
import { nodeClient, PythonDriver } from './official-clients.js';
import { plainTenant, useConformanceGateway } from './setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * The response cache (lambdas/inference/response-cache/, docs/gateway.md "Response cache") as applications see it through
 * the official clients on `tessera serve`: a MISS, then the same request answered from the cache (a HIT: no upstream
 * call, `x-tessera-cost-usd: 0`, `Age`), read back on the request's record; never across tenants. The fake upstream is
 * scripted-only: a request that reached it unscripted would fail, so a HIT is proved to make no upstream call.
 */
const MODEL = 'openai-compatible/default';
const CACHE = { responseCache: { ttlSeconds: 300, scope: 'caller' as const } };
const EMBEDDINGS = { id: 'openai-compatible/embeddings', upstream: 'bge', kind: 'embedding' as const, inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 };
const config = () => {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, EMBEDDINGS] } };
};
const suite = useConformanceGateway(PythonClient.start, { config: config(), tenants: [plainTenant('acme', CACHE), plainTenant('globex', CACHE), plainTenant('plain')] });
const ask = (text: string) => ({ model: MODEL, messages: [{ role: 'user', content: text }] });
/** The upstream's answer with one tool call, streamed as OpenAI streams it (a role chunk, the call's id and name, its arguments in two pieces, the finish, usage). */
const toolCallStream = () => ({ events: [...openAiChunks('one tool call').map((data) => ({ data })), { data: '[DONE]' }] });
/** A chunk without its `id` (a HIT's chunks carry the HIT's request id). */
const withoutId = ({ id: _id, ...rest }: Record<string, unknown>) => rest;

/** The request's record as its caller reads it back (the Node client's generic get). */
async function recordOf(tenant: string, id: string): Promise<Record<string, unknown>> {
  return nodeClient(suite.env.gw.url, suite.env.tokens[tenant]).get(`/tenant/requests/${id}`) as Promise<Record<string, unknown>>;
}

describe('the response cache through the official clients (tessera serve)', () => {
  it.each(CLIENTS)('chat completions: MISS, then HIT with the same answer and no upstream call, cost 0, on the record (%s client)', async (client) => {
    const params = ask(`What is 2 + 2? (${client})`);
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const miss = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'create', params, headers: true });
    expect(miss.error).toBeUndefined();
    expect(miss.headers!['x-tessera-cache-status']).toBe('MISS');
    const hit = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'create', params, headers: true });
    expect(hit.error).toBeUndefined();
    expect(hit.headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', 'x-tessera-cost-usd': '0', 'x-tessera-model': MODEL });
    expect(hit.headers!.age).toMatch(/^\d+$/);
    // RFC 9211's Cache-Status beside Tessera's header; and both answers state the tokens group of x-ratelimit-* (the
    // limit as it stands: the HIT reserved nothing, so it states what the MISS's settle left).
    expect(miss.headers!['cache-status']).toBe('tessera; fwd=miss; stored');
    expect(hit.headers!['cache-status']).toMatch(/^tessera; hit; ttl=\d+$/);
    for (const h of [miss.headers!, hit.headers!]) {
      expect(h).toMatchObject({ 'x-ratelimit-limit-tokens': expect.stringMatching(/^\d+$/), 'x-ratelimit-remaining-tokens': expect.stringMatching(/^\d+$/), 'x-ratelimit-reset-tokens': expect.any(String) });
    }
    expect(Number(hit.headers!['x-ratelimit-remaining-tokens'])).toBeGreaterThan(Number(miss.headers!['x-ratelimit-remaining-tokens']));
    expect(suite.env.upstream.calls).toHaveLength(1);
    expect(hit.result.choices).toEqual(miss.result.choices);
    expect(hit.result.usage).toEqual(miss.result.usage);
    expect(hit.result.id).toBe(hit.headers!['x-request-id']);
    await suite.env.gw.settled();
    expect(await recordOf('acme', miss.headers!['x-request-id'])).toMatchObject({ status: 200, response_cache: { status: 'MISS', stored: true } });
    const record = await recordOf('acme', hit.headers!['x-request-id']);
    expect(record).toMatchObject({ status: 200, outcome: 'ok', cost_usd: 0, response_cache: { status: 'HIT' } });
    expect(record.usage).toBeUndefined();
  });

  it.each(CLIENTS)('no HIT across tenants: the same request of another tenant calls the upstream (%s client)', async (client) => {
    const params = ask(`The capital of France? (${client})`);
    suite.env.upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    const acme = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'create', params, headers: true });
    const globex = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.globex, { op: 'create', params, headers: true });
    expect([acme.headers!['x-tessera-cache-status'], globex.headers!['x-tessera-cache-status']]).toEqual(['MISS', 'MISS']);
    expect(suite.env.upstream.calls).toHaveLength(2);
    // Each tenant now has its own answer.
    const again = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.globex, { op: 'create', params, headers: true });
    expect(again.headers!['x-tessera-cache-status']).toBe('HIT');
    expect(suite.env.upstream.calls).toHaveLength(2);
  });

  it.each(CLIENTS)('x-tessera-cache: no-cache, sent per call, answers fresh (REFRESH); a tenant without the cache gets no cache header (%s client)', async (client) => {
    const params = ask(`Refresh me (${client})`);
    suite.env.upstream.script({ body: openAiAnswer('text') }, { body: openAiAnswer('text') }, { body: openAiAnswer('text') });
    await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'create', params });
    const refreshed = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'create', params, headers: true, extraHeaders: { 'x-tessera-cache': 'no-cache' } });
    expect(refreshed.headers!['x-tessera-cache-status']).toBe('REFRESH');
    const plain = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.plain, { op: 'create', params, headers: true });
    expect(plain.headers!['x-tessera-cache-status']).toBeUndefined();
    expect(suite.env.upstream.calls).toHaveLength(3);
  });

  it.each(CLIENTS)('a bad x-tessera-cache-ttl is a 400 in OpenAI\'s shape naming the header, before any upstream call (%s client)', async (client) => {
    const out = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'create', params: ask('hi'), extraHeaders: { 'x-tessera-cache-ttl': '301' } });
    expect(out.error).toMatchObject({ status: 400, type: 'BadRequestError', body: { type: 'invalid_request_error', param: 'x-tessera-cache-ttl', code: 'invalid_value' } });
    expect(out.error!.body.message).toContain('at most 300 seconds');
    expect(suite.env.upstream.calls).toHaveLength(0);
  });

  it('embeddings (Node client): MISS, then HIT with the same vectors and no upstream call', async () => {
    const client = nodeClient(suite.env.gw.url, suite.env.tokens.acme);
    suite.env.upstream.script({ body: { object: 'list', model: 'bge', data: [{ object: 'embedding', index: 0, embedding: [0.5, -0.25, 1, 2] }], usage: { prompt_tokens: 2, total_tokens: 2 } } });
    const params = { model: 'openai-compatible/embeddings', input: 'a document to embed', encoding_format: 'float' as const };
    const miss = await client.embeddings.create(params).withResponse();
    const hit = await client.embeddings.create(params).withResponse();
    expect(miss.response.headers.get('x-tessera-cache-status')).toBe('MISS');
    expect(hit.response.headers.get('x-tessera-cache-status')).toBe('HIT');
    expect(hit.data.data[0].embedding).toEqual([0.5, -0.25, 1, 2]);
    expect(suite.env.upstream.calls).toHaveLength(1);
  });

  it.each(CLIENTS)('streamed chat completions (a tool call, include_usage): MISS, then HIT replayed as the same chunks with no upstream call (%s client)', async (client) => {
    const params = { ...ask(`Weather in Oslo? (${client})`), tools: [WEATHER_TOOL], stream: true, stream_options: { include_usage: true } };
    suite.env.upstream.script(toolCallStream());
    const miss = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'stream', params, headers: true });
    expect(miss.error).toBeUndefined();
    expect(miss.headers!['x-tessera-cache-status']).toBe('MISS');
    const hit = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'stream', params, headers: true });
    expect(hit.error).toBeUndefined();
    expect(hit.headers!['x-tessera-cache-status']).toBe('HIT');
    expect(hit.headers!.age).toMatch(/^\d+$/);
    expect(suite.env.upstream.calls).toHaveLength(1);
    expect(hit.chunks!.map(withoutId)).toEqual(miss.chunks!.map(withoutId));
    expect(new Set(hit.chunks!.map((c) => c.id))).toEqual(new Set([hit.headers!['x-request-id']]));
    expect(hit.chunks!.at(-1)).toMatchObject({ choices: [], usage: miss.chunks!.at(-1).usage });
    // The same request, not streamed: another entry (a MISS).
    suite.env.upstream.script({ body: openAiAnswer('one tool call') });
    const whole = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'create', params: { ...params, stream: undefined, stream_options: undefined }, headers: true });
    expect(whole.headers!['x-tessera-cache-status']).toBe('MISS');
    await suite.env.gw.settled();
    expect(await recordOf('acme', hit.headers!['x-request-id'])).toMatchObject({ status: 200, cost_usd: 0, response_cache: { status: 'HIT' } });
  });

  it('identical streamed requests at once, from both clients: each reaches the upstream while the first still streams (none waits silent for another\'s whole stream), each a MISS under its own ids; the next is a HIT', async () => {
    const params = { ...ask('Weather in Bergen, asked three times at once?'), tools: [WEATHER_TOOL], stream: true };
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // The upstream holds each stream until all three reached it (the gate), then streams the tool call.
    for (let i = 0; i < 3; i++) suite.env.upstream.script({ events: [{ until: gate }, ...toolCallStream().events] });
    const before = suite.env.upstream.calls.length;
    const call = (client: (typeof CLIENTS)[number]) => runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'stream', params, headers: true });
    const first = call('node');
    await vi.waitFor(() => expect(suite.env.upstream.calls.length).toBe(before + 1));
    const others = [call('python'), call('node')];
    // Until 2026-12-07 the two others waited on the first's flight, silent until its stream ended: one upstream call.
    await vi.waitFor(() => expect(suite.env.upstream.calls.length).toBe(before + 3), { timeout: 10_000 });
    expect(suite.env.gw.cacheFlights!.waiting).toBe(0);
    open();
    const answers = await Promise.all([first, ...others]);
    for (const a of answers) {
      expect(a.error).toBeUndefined();
      expect(a.headers).toMatchObject({ 'x-tessera-cache-status': 'MISS', 'cache-status': 'tessera; fwd=miss' });
      expect(a.chunks!.map(withoutId)).toEqual(answers[0].chunks!.map(withoutId));
      expect(new Set(a.chunks!.map((c) => c.id))).toEqual(new Set([a.headers!['x-request-id']]));
    }
    // Each kept its answer (the same key, overwritten): the next identical stream is a HIT, no upstream call.
    const hit = await call('python');
    expect(hit.headers!['x-tessera-cache-status']).toBe('HIT');
    expect(suite.env.upstream.calls.length).toBe(before + 3);
  });

  it('streamed chat completions (Node client): the stream helper parses a HIT, finalChatCompletion() is the MISS\'s answer under the HIT\'s id', async () => {
    const client = nodeClient(suite.env.gw.url, suite.env.tokens.acme);
    const params: ChatCompletionStreamParams = { model: MODEL, messages: [{ role: 'user', content: 'Weather in Bergen? (stream helper)' }], tools: [WEATHER_TOOL as ChatCompletionTool], stream_options: { include_usage: true } };
    suite.env.upstream.script(toolCallStream());
    const miss = await client.chat.completions.stream(params).finalChatCompletion();
    const helper = client.chat.completions.stream(params);
    const deltas: string[] = [];
    helper.on('tool_calls.function.arguments.delta', (e) => deltas.push(e.arguments_delta));
    const hit = await helper.finalChatCompletion();
    expect(suite.env.upstream.calls).toHaveLength(1);
    expect(hit.id).not.toBe(miss.id);
    expect({ ...hit, id: miss.id }).toEqual(miss);
    expect(hit.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [{ type: 'function', function: { name: 'get_weather' } }] } });
    expect(deltas.join('')).toBe(hit.choices[0].message.tool_calls![0].type === 'function' ? hit.choices[0].message.tool_calls![0].function.arguments : '');
    expect(hit.usage).toEqual(miss.usage);
  });

  it('a stream cut by the upstream before its finish_reason is not kept: the same request calls the upstream again (Node client)', async () => {
    const client = nodeClient(suite.env.gw.url, suite.env.tokens.acme);
    const params = { model: MODEL, messages: [{ role: 'user' as const, content: 'Cut me short' }], stream: true as const };
    const chunks = openAiChunks('text');
    suite.env.upstream.script({ events: chunks.slice(0, 2).map((data) => ({ data })) }, { events: [...chunks.map((data) => ({ data })), { data: '[DONE]' }] });
    const cut = await client.chat.completions.create(params).withResponse();
    await expect((async () => { for await (const _ of cut.data); })()).rejects.toThrow();
    const again = await client.chat.completions.create(params).withResponse();
    expect(again.response.headers.get('x-tessera-cache-status')).toBe('MISS');
    for await (const _ of again.data);
    expect(suite.env.upstream.calls).toHaveLength(2);
  });

  it('the Responses API with store: false (Node client): whole and streamed, MISS then HIT with no upstream call; store left out (true) is BYPASS', async () => {
    const client = nodeClient(suite.env.gw.url, suite.env.tokens.acme);
    const params = { model: MODEL, input: 'Say hi from the Responses API', store: false };
    suite.env.upstream.script({ body: openAiAnswer('text') }, { events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] }, { body: openAiAnswer('text') });
    const miss = await client.responses.create(params).withResponse();
    const hit = await client.responses.create(params).withResponse();
    expect([miss.response.headers.get('x-tessera-cache-status'), hit.response.headers.get('x-tessera-cache-status')]).toEqual(['MISS', 'HIT']);
    expect(hit.response.headers.get('x-tessera-cost-usd')).toBe('0');
    expect(hit.data.id).not.toBe(miss.data.id);
    // The same Response under the HIT's id, its items' ids derived from it (never naming the MISS's response).
    const hex = (id: string) => id.slice('resp_'.length);
    expect(JSON.stringify(hit.data)).not.toContain(hex(miss.data.id));
    expect(hit.data.output.map((i) => i.id && responseIdOfItem(i.id))).toEqual(miss.data.output.map(() => hit.data.id));
    expect(JSON.parse(JSON.stringify(hit.data).replaceAll(hex(hit.data.id), hex(miss.data.id)))).toEqual(miss.data);
    expect(hit.data.output_text).toBe(miss.data.output_text);

    const streamedMiss = await client.responses.stream(params).finalResponse();
    const helper = client.responses.stream(params);
    const types: string[] = [];
    helper.on('event', (e) => types.push(e.type));
    const streamedHit = await helper.finalResponse();
    expect(suite.env.upstream.calls).toHaveLength(2);
    expect(types.at(-1)).toBe('response.completed');
    expect(streamedHit.id).not.toBe(streamedMiss.id);
    expect(JSON.stringify(streamedHit)).not.toContain(hex(streamedMiss.id));
    expect(JSON.parse(JSON.stringify(streamedHit).replaceAll(hex(streamedHit.id), hex(streamedMiss.id)))).toEqual(streamedMiss);

    const stored = await client.responses.create({ ...params, store: undefined }).withResponse();
    expect(stored.response.headers.get('x-tessera-cache-status')).toBe('BYPASS');
    expect(suite.env.upstream.calls).toHaveLength(3);
  });

  it.each(CLIENTS)('a stream the caller closes midway is not kept, though the upstream would have finished it: the same request calls the upstream again (%s client)', async (client) => {
    const params = { ...ask(`Leave me midway (${client})`), stream: true };
    const chunks = openAiChunks('text');
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // Two chunks, then the upstream holds the rest (its finish, usage, [DONE]) until the caller has gone.
    suite.env.upstream.script(
      { events: [{ data: chunks[0] }, { data: chunks[1] }, { until: gate }, ...chunks.slice(2).map((data) => ({ data })), { data: '[DONE]' }] },
      { events: [...chunks.map((data) => ({ data })), { data: '[DONE]' }] },
    );
    const left = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'stream', params, closeAfter: 2, headers: true });
    expect(left.chunks).toHaveLength(2);
    // The gateway closes its upstream call once it saw the caller go: only then is the rest let through.
    await suite.env.upstream.calls[0].closed;
    open();
    await suite.env.gw.settled();
    expect(await recordOf('acme', left.headers!['x-request-id'])).toMatchObject({ outcome: 'cancelled', response_cache: { status: 'MISS' } });
    const again = await runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, { op: 'stream', params, headers: true });
    expect(again.error).toBeUndefined();
    expect(again.headers!['x-tessera-cache-status']).toBe('MISS');
    expect(suite.env.upstream.calls).toHaveLength(2);
  });

  it('the Responses API with store: false (Python client): create and the stream helper\'s get_final_response(), MISS then HIT with no upstream call, the HIT\'s items its own', async () => {
    const responses = await PythonDriver.start<Outcome & { events?: Array<Record<string, any>> }>('responses_driver.py', 'the Python responses driver');
    try {
      const respond = (op: 'create' | 'stream') => responses.send({ op, base_url: suite.env.gw.url, api_key: suite.env.tokens.acme, params: { model: MODEL, input: 'Say hi to Python', store: false } });
      suite.env.upstream.script({ body: openAiAnswer('text') }, { events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] });
      const hex = (id: string) => id.slice('resp_'.length);
      for (const op of ['create', 'stream'] as const) {
        const miss = await respond(op);
        const hit = await respond(op);
        expect(miss.error).toBeUndefined();
        expect(hit.error).toBeUndefined();
        expect(hit.result.id).not.toBe(miss.result.id);
        expect(hit.result.output_text ?? hit.result.output[0].content[0].text).toBe(miss.result.output_text ?? miss.result.output[0].content[0].text);
        expect(JSON.stringify(hit)).not.toContain(hex(miss.result.id));
        expect(hit.result.output.map((i: { id: string }) => responseIdOfItem(i.id))).toEqual(miss.result.output.map(() => hit.result.id));
        if (op === 'stream') expect(hit.events!.at(-1)).toMatchObject({ type: 'response.completed', response: { id: hit.result.id } });
      }
      expect(suite.env.upstream.calls).toHaveLength(2);
    } finally {
      await responses.stop();
    }
  });
});
