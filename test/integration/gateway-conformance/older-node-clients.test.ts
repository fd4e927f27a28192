import OpenAIv4 from 'openai-v4';
import * as zodV4 from 'openai-v4/helpers/zod';
import OpenAIv5 from 'openai-v5';
import * as zodV5 from 'openai-v5/helpers/zod';
import OpenAIv6 from 'openai-v6';
import * as zodV6 from 'openai-v6/helpers/zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { tenantEndUserId } from '../../../lambdas/inference/providers/tenant-end-user.js';
import type { UpstreamCall } from '../../support/fake-upstream.js';
import { WEATHER_SCHEMA, WEATHER_TOOL } from './matrix.js';
import { plainTenant, startConformanceGateway, type ConformanceGateway } from './setup.js';
import { configWithEmbeddings, EMBEDDING_MODEL, MODEL, upstreamAnswers, USAGE } from './client-answers.js';

vi.setConfig({ testTimeout: 20_000 });

/**
 * Existing applications on older majors of the official `openai` Node package (4.104, 5.23, 6.49:
 * the `openai-v4`/`-v5`/`-v6` aliases) against `tessera serve` and the scripted fake upstream, as
 * real apps call them: chat whole and streamed (the usage chunk, the stream helper, runTools),
 * structured output by `parse`, embeddings with the client's default base64, `models.list()`
 * auto-paging, `/v1/responses`, and the errors (400 naming the field, 401, 404, 429 retried by the
 * client itself, a failure mid-stream, an abort). Each test asserts what the application saw and
 * what reached the upstream. CI's other suites run `openai` 7.55 only.
 *
 * Structured output: the apps write the strict json_schema themselves (`WEATHER_SCHEMA`), since the
 * `helpers/zod` of 4.x and 5.x read zod 3's internals against whatever `zod` resolves to: with this
 * project's zod 4 (even `zod/v3` objects) `zodResponseFormat` silently makes a schema that is not the
 * object's (`{"type":"string"}`, or `{}`), which OpenAI refuses and so does the gateway (a 400 naming
 * `response_format.json_schema.schema`: the last tests). An app on zod 3 gets the schema written here.
 */

const { whole, chunk, streamed } = upstreamAnswers('fp_old');
let env: ConformanceGateway;
beforeAll(async () => {
  env = await startConformanceGateway({ config: configWithEmbeddings(), tenants: [plainTenant('acme')] });
});
afterAll(async () => env?.stop());
beforeEach(() => env.upstream.reset());

const OSLO_CALL = { id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } };
const user = (content: string) => ({ role: 'user' as const, content });
/** The one request the upstream received (scripted), its body. */
const sentBody = (i = 0) => env.upstream.calls[i]!.body;
/** float32-exact vectors, so the client's base64 decoding gives the upstream's floats back. */
const vectorOf = (i: number, width = 4) => Array.from({ length: width }, (_, k) => [(i + 1) / 8, -(i + 1) / 16, 0.5, 1.25][k] ?? 0);

interface Version {
  major: number;
  OpenAI: any;
  /** The version's `helpers/zod` (zodResponseFormat, zodTextFormat). */
  zod: any;
  /** Where the structured-output and stream helpers live: `beta.chat.completions` in 4.x, `chat.completions` from 5.0. */
  helpers: (client: any) => any;
  /** Whether an `APIError`'s `headers` is a fetch `Headers` (5.0 on) or a plain object of lower-cased names (4.x). */
  fetchHeaders: boolean;
}
const VERSIONS: Version[] = [
  { major: 4, OpenAI: OpenAIv4, zod: zodV4, helpers: (c) => c.beta.chat.completions, fetchHeaders: false },
  { major: 5, OpenAI: OpenAIv5, zod: zodV5, helpers: (c) => c.chat.completions, fetchHeaders: true },
  { major: 6, OpenAI: OpenAIv6, zod: zodV6, helpers: (c) => c.chat.completions, fetchHeaders: true },
];

describe.each(VERSIONS)('openai Node v$major against the gateway', ({ major, OpenAI, zod, helpers, fetchHeaders }) => {
  const client = (options: Record<string, unknown> = {}) => new OpenAI({ baseURL: env.gw.url, apiKey: env.tokens.acme, maxRetries: 0, timeout: 20_000, ...options });
  const header = (e: any, name: string) => (fetchHeaders ? e.headers?.get(name) : e.headers?.[name]) ?? undefined;
  const caught = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as any);

  it('chat whole: the answer under the catalog id with usage; the upstream got the fields as sent (user scoped to the tenant)', async () => {
    env.upstream.script(whole({ content: 'Hei!' }));
    const out = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: 'Be terse.' }, user('Say hello in Norwegian.')], temperature: 0.2, max_tokens: 50, user: 'u-1', seed: 7 });
    expect(out).toMatchObject({ object: 'chat.completion', model: MODEL, choices: [{ index: 0, message: { role: 'assistant', content: 'Hei!' }, finish_reason: 'stop' }], usage: USAGE });
    expect(sentBody()).toMatchObject({ model: 'default', messages: [{ role: 'system', content: 'Be terse.' }, user('Say hello in Norwegian.')], temperature: 0.2, max_tokens: 50, user: tenantEndUserId('acme', 'u-1'), seed: 7 });
    expect(sentBody()).not.toHaveProperty('stream', true);
  });

  it('chat streamed with stream_options.include_usage: the deltas, then a chunk with choices [] and the usage', async () => {
    env.upstream.script(streamed(['Hei', ' på', ' deg']));
    const stream = await client().chat.completions.create({ model: MODEL, messages: [user('Hi')], stream: true, stream_options: { include_usage: true } });
    const chunks: any[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hei på deg');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: USAGE });
    expect(chunks.slice(0, -1).every((c) => c.usage == null && c.model === MODEL)).toBe(true);
    expect(sentBody()).toMatchObject({ model: 'default', stream: true, stream_options: { include_usage: true } });
  });

  it(`the stream helper (${major === 4 ? 'beta.' : ''}chat.completions.stream): content events and finalChatCompletion() with usage`, async () => {
    env.upstream.script(streamed(['Hei', ' der']));
    const stream = helpers(client()).stream({ model: MODEL, messages: [user('Hi')], stream_options: { include_usage: true } });
    const deltas: string[] = [];
    stream.on('content', (delta: string) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    expect(deltas.join('')).toBe('Hei der');
    expect(final).toMatchObject({ model: MODEL, choices: [{ message: { role: 'assistant', content: 'Hei der' }, finish_reason: 'stop' }], usage: USAGE });
    expect(sentBody()).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('tool calls round trip: the call reaches the app, its result goes back as a tool message', async () => {
    env.upstream.script(whole({ tool_calls: [OSLO_CALL] }, 'tool_calls'), whole({ content: 'Sunny, 3 °C.' }));
    const c = client();
    const first = await c.chat.completions.create({ model: MODEL, messages: [user('Weather in Oslo?')], tools: [WEATHER_TOOL], tool_choice: 'auto' });
    expect(first.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [OSLO_CALL] } });
    const messages = [user('Weather in Oslo?'), first.choices[0].message, { role: 'tool', tool_call_id: 'call_oslo', content: '{"temp_c":3}' }];
    const second = await c.chat.completions.create({ model: MODEL, messages, tools: [WEATHER_TOOL] });
    expect(second.choices[0].message.content).toBe('Sunny, 3 °C.');
    expect(sentBody(0)).toMatchObject({ tools: [WEATHER_TOOL], tool_choice: 'auto' });
    expect(sentBody(1).messages).toEqual([user('Weather in Oslo?'), expect.objectContaining({ role: 'assistant', tool_calls: [OSLO_CALL] }), { role: 'tool', tool_call_id: 'call_oslo', content: '{"temp_c":3}' }]);
  });

  it(`runTools (${major === 4 ? 'beta.' : ''}chat.completions.runTools), streamed: the function is called with its parsed arguments, its result sent back, the final content`, async () => {
    env.upstream.script(
      { events: [chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, ...OSLO_CALL, function: { name: 'get_weather', arguments: '' } }] }), chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }), chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }), chunk({}, 'tool_calls'), { data: '[DONE]' }] },
      streamed(['Sunny', ' in Oslo.']),
    );
    const calls: unknown[] = [];
    const tool = { type: 'function', function: { name: 'get_weather', parameters: WEATHER_TOOL.function.parameters, parse: JSON.parse, function: (args: unknown) => (calls.push(args), { temp_c: 3 }) } };
    const runner = helpers(client()).runTools({ model: MODEL, messages: [user('Weather in Oslo?')], tools: [tool], stream: true });
    expect(await runner.finalContent()).toBe('Sunny in Oslo.');
    expect(calls).toEqual([{ city: 'Oslo' }]);
    expect(sentBody(1).messages.slice(1)).toEqual([
      expect.objectContaining({ role: 'assistant', tool_calls: [OSLO_CALL] }),
      { role: 'tool', tool_call_id: 'call_oslo', content: '{"temp_c":3}' },
    ]);
  });

  it(`structured output (${major === 4 ? 'beta.' : ''}chat.completions.parse) with a strict json_schema: message.parsed, and the schema reached the upstream`, async () => {
    env.upstream.script(whole({ content: '{"city":"Oslo","temp_c":3}' }));
    const response_format = { type: 'json_schema', json_schema: { ...WEATHER_SCHEMA, strict: true } };
    const out = await helpers(client()).parse({ model: MODEL, messages: [user('Oslo weather as JSON')], response_format });
    expect(out.choices[0].message.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
    expect(sentBody().response_format).toEqual(response_format);
  });

  it('embeddings with the client\'s default encoding: base64 asked, decoded to the upstream\'s floats; dimensions passed on', async () => {
    env.upstream.script((call: UpstreamCall) => ({ body: { object: 'list', model: 'bge', data: call.body.input.map((_: string, index: number) => ({ object: 'embedding', index, embedding: vectorOf(index, call.body.dimensions) })), usage: { prompt_tokens: 4, total_tokens: 4 } } }));
    const out = await client().embeddings.create({ model: EMBEDDING_MODEL.id, input: ['alpha', 'beta'], dimensions: 6 });
    expect(out).toMatchObject({ object: 'list', model: EMBEDDING_MODEL.id, usage: { prompt_tokens: 4, total_tokens: 4 } });
    expect(out.data.map((d: any) => d.embedding)).toEqual([vectorOf(0, 6), vectorOf(1, 6)]);
    expect(env.upstream.calls.map((c) => ({ path: c.path, body: c.body }))).toEqual([{ path: '/v1/embeddings', body: { model: 'bge', input: ['alpha', 'beta'], dimensions: 6, encoding_format: 'base64' } }]);
  });

  it('models.list() auto-paging: every catalog model, nothing sent upstream', async () => {
    const ids: string[] = [];
    for await (const m of client().models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining([MODEL, EMBEDDING_MODEL.id]));
    expect(env.upstream.calls).toHaveLength(0);
  });

  it('responses.create: output_text, the instructions and input mapped to chat messages upstream', async () => {
    env.upstream.script(whole({ content: 'Hei!' }));
    const out = await client().responses.create({ model: MODEL, instructions: 'Be terse.', input: 'Say hello in Norwegian.', max_output_tokens: 40 });
    expect(out).toMatchObject({ object: 'response', status: 'completed', model: MODEL });
    expect(out.output_text).toBe('Hei!');
    expect(out.usage).toMatchObject({ input_tokens: 12, output_tokens: 5, total_tokens: 17 });
    expect(sentBody()).toMatchObject({ model: 'default', messages: [{ role: 'system', content: 'Be terse.' }, user('Say hello in Norwegian.')] });
  });

  it('responses.stream: output_text deltas and finalResponse()', async () => {
    env.upstream.script(streamed(['Hei', ' der']));
    const stream = client().responses.stream({ model: MODEL, input: 'Hi' });
    const deltas: string[] = [];
    for await (const event of stream) if (event.type === 'response.output_text.delta') deltas.push(event.delta);
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('Hei der');
    expect(final).toMatchObject({ status: 'completed', usage: { input_tokens: 12, output_tokens: 5 } });
    expect(final.output[0]).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hei der' }] });
    // output_text is the SDK's, not the API's: 4.x and 5.x add it to finalResponse() only with a parsed text format (fixed in 6.0).
    expect(final.output_text).toBe(major >= 6 ? 'Hei der' : undefined);
    expect(sentBody()).toMatchObject({ model: 'default', stream: true, messages: [user('Hi')] });
  });

  it('400 naming the field: BadRequestError with param and code, nothing sent upstream', async () => {
    const e = await caught(client().chat.completions.create({ model: MODEL, messages: [user('Hi')], n: 0 }));
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e).toMatchObject({ status: 400, param: 'n', type: 'invalid_request_error', error: { param: 'n' } });
    expect(typeof e.code).toBe('string');
    // The request id: `request_id` in 4.x, `requestID` from 5.0, both the x-request-id header (a plain object's in 4.x, a Headers' after).
    expect(header(e, 'x-request-id')).toEqual(expect.any(String));
    expect(major === 4 ? e.request_id : e.requestID).toBe(header(e, 'x-request-id'));
    expect(env.upstream.calls).toHaveLength(0);
  });

  it('401: AuthenticationError, nothing sent upstream', async () => {
    const e = await caught(client({ apiKey: 'not-a-key' }).chat.completions.create({ model: MODEL, messages: [user('Hi')] }));
    expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e).toMatchObject({ status: 401, error: { type: expect.any(String) } });
    expect(env.upstream.calls).toHaveLength(0);
  });

  it('404 of a route the gateway does not serve: NotFoundError route_not_found', async () => {
    const e = await caught(client().containers.create({ name: 'docs' }));
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    expect(e).toMatchObject({ status: 404, code: 'route_not_found', error: { message: expect.stringContaining('POST /v1/containers') } });
  });

  it('429 with retry-after-ms: the client\'s own retries honour it and get the answer; every attempt reached the upstream', async () => {
    const throttled = { status: 429, headers: { 'retry-after-ms': '20' }, body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };
    // The gateway's two attempts (upstreamRetries: 1) both throttled: its 429 carries retry-after-ms, the client waits it and retries.
    env.upstream.script(throttled, throttled, whole({ content: 'after the wait' }));
    const out = await client({ maxRetries: 2 }).chat.completions.create({ model: MODEL, messages: [user('Hi')] });
    expect(out.choices[0].message.content).toBe('after the wait');
    expect(env.upstream.calls).toHaveLength(3);
    // Without retries the application sees the RateLimitError and its retry headers.
    env.upstream.reset();
    env.upstream.script(throttled, throttled);
    const e = await caught(client().chat.completions.create({ model: MODEL, messages: [user('Hi')] }));
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e).toMatchObject({ status: 429, type: 'requests', code: 'rate_limit_exceeded', error: { type: 'requests', code: 'rate_limit_exceeded', param: null } });
    expect(header(e, 'retry-after-ms')).toBe('20');
    expect(header(e, 'retry-after')).toBe('1');
  });

  it('an upstream failure mid-stream: the chunks before it, then an APIError without status carrying the error', async () => {
    const error = { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: 'internal_error' };
    env.upstream.script({ events: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hei' }), { data: { error } }] });
    const stream = await client().chat.completions.create({ model: MODEL, messages: [user('Hi')], stream: true });
    const seen: string[] = [];
    const e = await caught((async () => { for await (const c of stream) seen.push(c.choices[0]?.delta?.content ?? ''); })());
    expect(seen.join('')).toBe('Hei');
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(e.status).toBeUndefined();
    expect(e.error).toMatchObject({ message: error.message, code: 'internal_error' });
  });

  it('abort via AbortController mid-stream: the loop ends, and the gateway closes the upstream stream', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    env.upstream.script({ events: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hei' }), { until: gate }, chunk({ content: ' never' }), chunk({}, 'stop'), { data: '[DONE]' }] });
    const controller = new AbortController();
    const stream = await client().chat.completions.create({ model: MODEL, messages: [user('Hi')], stream: true }, { signal: controller.signal });
    const seen: string[] = [];
    // The loop just ends: the clients' Stream iterator takes the AbortError as the end of the stream.
    for await (const c of stream) {
      seen.push(c.choices[0]?.delta?.content ?? '');
      if (seen.join('') === 'Hei') controller.abort();
    }
    expect(seen.join('')).toBe('Hei');
    await env.upstream.calls[0]!.closed; // the upstream's connection closed, with the gate still shut
    expect(env.upstream.calls[0]!.eventsWritten).toBe(2);
    open();
    await env.gw.settled();
  });

  // The version's zod helpers with the zod 4 an app installs today: 6.x writes the object's schema; 4.x and 5.x write
  // `{"type":"string"}` at the root, which OpenAI refuses ("schema must be a JSON Schema of 'type: \"object\"'"):
  // the gateway refuses it too, naming the field, instead of letting a lenient upstream answer a bare string.
  const Weather = z.object({ city: z.string(), temp_c: z.number() });
  it(`zodResponseFormat with a zod 4 object: ${major >= 6 ? 'parsed' : 'a 400 naming response_format (as OpenAI\'s chat API), nothing sent upstream'}`, async () => {
    env.upstream.script(whole({ content: '{"city":"Oslo","temp_c":3}' }));
    const call = helpers(client()).parse({ model: MODEL, messages: [user('Oslo weather as JSON')], response_format: zod.zodResponseFormat(Weather, 'Weather') });
    if (major >= 6) {
      expect((await call).choices[0].message.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
      expect(sentBody().response_format.json_schema.schema).toMatchObject({ type: 'object', required: ['city', 'temp_c'], additionalProperties: false });
      return;
    }
    const e = await caught(call);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e).toMatchObject({ status: 400, param: 'response_format', code: null });
    expect(e.message).toContain('Invalid schema for response_format \'Weather\': schema must be a JSON Schema of \'type: "object"\', got \'type: "string"\'');
    expect(env.upstream.calls).toHaveLength(0);
  });

  it(`responses.parse with zodTextFormat and a zod 4 object: ${major >= 6 ? 'output_parsed' : 'a 400 naming text.format.schema, nothing sent upstream'}`, async () => {
    env.upstream.script(whole({ content: '{"city":"Oslo","temp_c":3}' }));
    const call = client().responses.parse({ model: MODEL, input: 'Oslo weather as JSON', text: { format: zod.zodTextFormat(Weather, 'Weather') } });
    if (major >= 6) {
      expect((await call).output_parsed).toEqual({ city: 'Oslo', temp_c: 3 });
      expect(sentBody().response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Weather', strict: true, schema: { type: 'object' } } });
      return;
    }
    const e = await caught(call);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e).toMatchObject({ status: 400, param: 'text.format.schema' });
    expect(env.upstream.calls).toHaveLength(0);
  });
});
