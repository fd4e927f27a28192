import { ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { UpstreamCall } from '../../support/fake-upstream.js';
import { nodeClient } from './official-clients.js';
import { converseEvents } from './matrix.js';
import { mockProviderSdks, plainTenant, startConformanceGateway, type ConformanceGateway } from './setup.js';
import { configWithEmbeddings, EMBEDDING_MODEL, MODEL, upstreamAnswers, USAGE } from './client-answers.js';

vi.setConfig({ testTimeout: 20_000 });

/**
 * The official Node client's (`openai` 7.x) HELPER methods against `tessera serve` and the scripted
 * fake upstream, as applications call them: `chat.completions.runTools` with `zodFunction` tools
 * (`functionToolCall` events, `finalContent()`), the `chat.completions.stream` events
 * (`content.delta`, `tool_calls.function.arguments.done` with `parsed_arguments`),
 * `chat.completions.parse` with `zodResponseFormat` and strict `zodFunction` tools, the
 * `responses.stream` events and `finalResponse()`, `responses.parse` with `zodTextFormat`,
 * `.withResponse()` / `.asResponse()`, embeddings' default base64, `models.list()` auto-paging and
 * an `AbortController` on a stream helper. One compact test per helper: what the application saw
 * and what reached the upstream. (older-node-clients.test.ts runs the 4.x-6.x majors.)
 */

const { bedrock } = mockProviderSdks();
const { whole, chunk, USAGE_CHUNK, streamed } = upstreamAnswers('fp_helpers');
let env: ConformanceGateway;
beforeAll(async () => {
  env = await startConformanceGateway({ config: configWithEmbeddings(), tenants: [plainTenant('acme')] });
});
afterAll(async () => env?.stop());
beforeEach(() => env.upstream.reset());

/** A streamed tool call of the upstream, its arguments in two pieces. */
const streamedCall = (id: string, name: string, args: [string, string]) => ({
  events: [
    chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: args[0] } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: args[1] } }] }),
    chunk({}, 'tool_calls'), USAGE_CHUNK, { data: '[DONE]' },
  ],
});
const user = (content: string) => ({ role: 'user' as const, content });
const sentBody = (i = 0) => env.upstream.calls[i]!.body;
const vectorOf = (i: number, width = 4) => Array.from({ length: width }, (_, k) => [(i + 1) / 8, -(i + 1) / 16, 0.5, 1.25][k] ?? 0);
const client = () => nodeClient(env.gw.url, env.tokens.acme);

const Weather = z.object({ city: z.string(), temp_c: z.number() });
const CityArgs = z.object({ city: z.string() });

describe('openai Node 7.x helper methods against the gateway', () => {
  it('chat.completions.runTools with a zodFunction: functionToolCall event, the callback gets the parsed arguments, its result goes back, finalContent()', async () => {
    env.upstream.script(whole({ tool_calls: [{ id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] }, 'tool_calls'), whole({ content: 'Sunny in Oslo.' }));
    const got: unknown[] = [];
    const seen: unknown[] = [];
    const runner = client().chat.completions.runTools({
      model: MODEL, messages: [user('Weather in Oslo?')],
      tools: [zodFunction({ name: 'get_weather', parameters: CityArgs, function: (args) => (got.push(args), { temp_c: 3 }) })],
    });
    runner.on('functionToolCall', (call) => seen.push(call));
    expect(await runner.finalContent()).toBe('Sunny in Oslo.');
    expect(got).toEqual([{ city: 'Oslo' }]);
    expect(seen).toEqual([{ name: 'get_weather', arguments: '{"city":"Oslo"}', parsed_arguments: { city: 'Oslo' } }]);
    expect(sentBody(0).tools).toEqual([{ type: 'function', function: expect.objectContaining({ name: 'get_weather', strict: true, parameters: expect.objectContaining({ type: 'object', required: ['city'], additionalProperties: false }) }) }]);
    expect(sentBody(1).messages.slice(1)).toEqual([
      expect.objectContaining({ role: 'assistant', tool_calls: [expect.objectContaining({ id: 'call_oslo', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } })] }),
      { role: 'tool', tool_call_id: 'call_oslo', content: '{"temp_c":3}' },
    ]);
  });

  it('chat.completions.stream events: content.delta / content.done, tool_calls.function.arguments.done with parsed_arguments, finalChatCompletion()', async () => {
    env.upstream.script(streamed(['Hei', ' der']));
    const text = client().chat.completions.stream({ model: MODEL, messages: [user('Hi')], stream_options: { include_usage: true } });
    const deltas: string[] = [];
    let done: string | undefined;
    text.on('content.delta', (e) => deltas.push(e.delta)).on('content.done', (e) => (done = e.content));
    const final = await text.finalChatCompletion();
    expect([deltas, done]).toEqual([['Hei', ' der'], 'Hei der']);
    expect(final).toMatchObject({ model: MODEL, usage: USAGE, choices: [{ message: { content: 'Hei der' }, finish_reason: 'stop' }] });

    env.upstream.script(streamedCall('call_oslo', 'get_weather', ['{"city":', '"Oslo"}']));
    const tools = client().chat.completions.stream({ model: MODEL, messages: [user('Weather?')], tools: [zodFunction({ name: 'get_weather', parameters: CityArgs })] });
    const argDeltas: string[] = [];
    const argsDone: unknown[] = [];
    tools.on('tool_calls.function.arguments.delta', (e) => argDeltas.push(e.arguments_delta)).on('tool_calls.function.arguments.done', (e) => argsDone.push({ name: e.name, parsed: e.parsed_arguments }));
    const call = (await tools.finalChatCompletion()).choices[0]!;
    // The first delta is the head chunk's `arguments: ""`, as OpenAI streams it.
    expect(argDeltas).toEqual(['', '{"city":', '"Oslo"}']);
    expect(argsDone).toEqual([{ name: 'get_weather', parsed: { city: 'Oslo' } }]);
    expect(call).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [{ id: 'call_oslo', function: { name: 'get_weather', parsed_arguments: { city: 'Oslo' } } }] } });
  });

  it('chat.completions.parse with zodResponseFormat and a strict zodFunction: message.parsed, and parsed_arguments of a tool call', async () => {
    env.upstream.script(whole({ content: '{"city":"Oslo","temp_c":3}' }));
    const tools = [zodFunction({ name: 'get_weather', parameters: CityArgs })];
    const out = await client().chat.completions.parse({ model: MODEL, messages: [user('Oslo as JSON')], response_format: zodResponseFormat(Weather, 'Weather'), tools });
    expect(out.choices[0]!.message.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
    expect(sentBody().response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Weather', strict: true, schema: { type: 'object', additionalProperties: false } } });
    expect(sentBody().tools[0].function).toMatchObject({ name: 'get_weather', strict: true });

    env.upstream.script(whole({ tool_calls: [{ id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] }, 'tool_calls'));
    const called = await client().chat.completions.parse({ model: MODEL, messages: [user('Weather?')], response_format: zodResponseFormat(Weather, 'Weather'), tools });
    expect(called.choices[0]!.message.tool_calls![0]).toMatchObject({ function: { name: 'get_weather', parsed_arguments: { city: 'Oslo' } } });
  });

  it('responses.stream events (created, output_text.delta/done, completed) and finalResponse()', async () => {
    env.upstream.script(streamed(['Hei', ' der']));
    const stream = client().responses.stream({ model: MODEL, input: 'Hi' });
    const types: string[] = [];
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    for await (const e of stream) types.push(e.type);
    const final = await stream.finalResponse();
    expect(deltas).toEqual(['Hei', ' der']);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toEqual(expect.arrayContaining(['response.output_item.added', 'response.content_part.added', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done']));
    expect(final).toMatchObject({ object: 'response', status: 'completed', model: MODEL, output_text: 'Hei der', usage: { input_tokens: 12, output_tokens: 5, total_tokens: 17 } });
  });

  it('responses.parse with zodTextFormat: output_parsed, the strict schema upstream', async () => {
    env.upstream.script(whole({ content: '{"city":"Oslo","temp_c":3}' }));
    const out = await client().responses.parse({ model: MODEL, input: 'Oslo as JSON', text: { format: zodTextFormat(Weather, 'Weather') } });
    expect(out.output_parsed).toEqual({ city: 'Oslo', temp_c: 3 });
    expect(sentBody().response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Weather', strict: true } });
  });

  it('.withResponse() and .asResponse(): x-request-id (= requestID / _request_id) and the x-ratelimit-* headers', async () => {
    env.upstream.script(whole({ content: 'A' }), whole({ content: 'B' }));
    const { data, response, request_id } = await client().chat.completions.create({ model: MODEL, messages: [user('Hi')] }).withResponse();
    expect(data.choices[0]!.message.content).toBe('A');
    expect(response.headers.get('x-request-id')).toEqual(expect.any(String));
    expect(request_id).toBe(response.headers.get('x-request-id'));
    expect((data as any)._request_id).toBe(request_id);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toMatch(/^\d+$/);
    const raw = await client().chat.completions.create({ model: MODEL, messages: [user('Hi')] }).asResponse();
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toMatch(/^application\/json/);
    expect(raw.headers.get('x-request-id')).toEqual(expect.any(String));
    expect(((await raw.json()) as OpenAI.ChatCompletion).choices[0]!.message.content).toBe('B');
  });

  it('embeddings.create with the default encoding: base64 asked upstream, decoded back to the floats', async () => {
    env.upstream.script((call: UpstreamCall) => ({ body: { object: 'list', model: 'bge', data: call.body.input.map((_: string, index: number) => ({ object: 'embedding', index, embedding: vectorOf(index) })), usage: { prompt_tokens: 4, total_tokens: 4 } } }));
    const out = await client().embeddings.create({ model: EMBEDDING_MODEL.id, input: ['alpha', 'beta'] });
    expect(out.data.map((d) => d.embedding)).toEqual([vectorOf(0), vectorOf(1)]);
    expect(sentBody()).toMatchObject({ encoding_format: 'base64' });
  });

  it('models.list() auto-paging (for await): every catalog model once, nothing upstream', async () => {
    const ids: string[] = [];
    for await (const m of client().models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining([MODEL, EMBEDDING_MODEL.id]));
    expect(new Set(ids).size).toBe(ids.length);
    expect(env.upstream.calls).toHaveLength(0);
  });

  it('AbortController on chat.completions.stream: the helper rejects with APIUserAbortError, the gateway closes the upstream stream', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    env.upstream.script({ events: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hei' }), { until: gate }, chunk({ content: ' never' }), chunk({}, 'stop'), { data: '[DONE]' }] });
    const controller = new AbortController();
    const stream = client().chat.completions.stream({ model: MODEL, messages: [user('Hi')] }, { signal: controller.signal });
    stream.on('content.delta', (e) => e.snapshot === 'Hei' && controller.abort());
    const e = await stream.finalChatCompletion().then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.APIUserAbortError);
    await env.upstream.calls[0]!.closed;
    expect(env.upstream.calls[0]!.eventsWritten).toBe(2);
    open();
    await env.gw.settled();
  });
});

describe('openai Node 7.x helper methods against the gateway, Bedrock (ConverseStream mocked at the SDK)', () => {
  const BEDROCK = 'bedrock/amazon.nova-lite';
  const OSLO = { id: 'tooluse_oslo', name: 'get_weather', input: { city: 'Oslo' }, fragments: ['{"city":', '"Oslo"}'] };
  const ROME = { id: 'tooluse_rome', name: 'get_weather', input: { city: 'Rome' }, fragments: ['{"ci', 'ty":"Rome"}'] };
  /** ConverseStream answers the calls in turn with these answers' events. */
  const answers = (...list: Array<Parameters<typeof converseEvents>[0]>) => {
    let i = 0;
    bedrock.on(ConverseStreamCommand).callsFake(() => ({ $metadata: { httpStatusCode: 200, requestId: `bedrock-${i}` }, stream: (async function* () { yield* converseEvents(list[i++]!); })() }));
  };

  it('runTools streamed with two parallel tool calls: each callback once with its arguments, both results back as toolResults, finalContent()', async () => {
    answers({ tools: [OSLO, ROME], stopReason: 'tool_use' }, { text: ['Oslo 3, ', 'Rome 18.'], stopReason: 'end_turn' });
    const got: unknown[] = [];
    const runner = client().chat.completions.runTools({
      model: BEDROCK, messages: [user('Weather in Oslo and Rome?')], stream: true,
      tools: [zodFunction({ name: 'get_weather', parameters: CityArgs, function: (args) => (got.push(args), { temp_c: args.city === 'Oslo' ? 3 : 18 }) })],
    });
    const done: unknown[] = [];
    runner.on('tool_calls.function.arguments.done', (e) => done.push([e.index, e.parsed_arguments]));
    expect(await runner.finalContent()).toBe('Oslo 3, Rome 18.');
    expect(got).toEqual([{ city: 'Oslo' }, { city: 'Rome' }]);
    expect(done).toEqual([[0, { city: 'Oslo' }], [1, { city: 'Rome' }]]);
    const second = bedrock.commandCalls(ConverseStreamCommand)[1]!.args[0].input as any;
    expect(second.messages.at(-1)).toEqual({ role: 'user', content: [
      { toolResult: { toolUseId: 'tooluse_oslo', content: [{ text: '{"temp_c":3}' }] } },
      { toolResult: { toolUseId: 'tooluse_rome', content: [{ text: '{"temp_c":18}' }] } },
    ] });
  });

  it('responses.stream of a tool call: function_call_arguments delta/done events, the function_call item in finalResponse()', async () => {
    answers({ tools: [OSLO], stopReason: 'tool_use' });
    const stream = client().responses.stream({ model: BEDROCK, input: 'Weather in Oslo?', tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true }] });
    const deltas: string[] = [];
    let args: string | undefined;
    stream.on('response.function_call_arguments.delta', (e) => deltas.push(e.delta)).on('response.function_call_arguments.done', (e) => (args = e.arguments));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('{"city":"Oslo"}');
    expect(args).toBe('{"city":"Oslo"}');
    expect(final.output).toEqual([expect.objectContaining({ type: 'function_call', call_id: 'tooluse_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' })]);
  });
});
