import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { loadConfig } from '../../lib/config/load-config.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';

// The fake upstream's tool-calling mode (`npx tsx test/bench/fake-upstream-main.ts --tools`, docs/gateway.md
// "tessera serve"), which lets a tenant developer try an agent loop locally: the official Node
// client's runTools helper, whole and streamed, and the Responses API's function_call round trip
// through `tessera serve`.

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;
let client: OpenAI;
const model = 'openai-compatible/default';
type RunnableTool = Parameters<OpenAI['chat']['completions']['runTools']>[0]['tools'][number];
const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] } } };

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  upstream.callTools = true;
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')]);
  client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme', { 'tessera:role': 'developer' }), maxRetries: 0 });
}, 60_000);
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

describe('the fake upstream with --tools through tessera serve', () => {
  /** The arguments of the fake's call of a tool `t` with these parameters, asked with the message `x`. */
  const argsOf = async (parameters: Record<string, unknown>) => {
    const r = await client.chat.completions.create({ model, tools: [{ type: 'function', function: { name: 't', parameters } }], tool_choice: 'auto', messages: [{ role: 'user', content: 'x' }] });
    const call = r.choices[0]!.message.tool_calls?.[0];
    return JSON.parse(call?.type === 'function' ? call.function.arguments : 'null') as unknown;
  };
  it('calls the offered tool with arguments from its schema, then answers the tool\'s result: runTools, whole and streamed', async () => {
    for (const stream of [false, true]) {
      const calls: Array<{ city: string; days: number }> = [];
      const tool: RunnableTool = { type: 'function', function: { ...weather.function, description: 'The weather in a city for some days', parse: JSON.parse, function: (args: { city: string; days: number }) => { calls.push(args); return 'sunny'; } } };
      const runner = stream
        ? client.chat.completions.runTools({ model, stream: true, tools: [tool], messages: [{ role: 'user', content: 'Paris' }] })
        : client.chat.completions.runTools({ model, tools: [tool], messages: [{ role: 'user', content: 'Paris' }] });
      expect(await runner.finalContent(), `stream ${stream}`).toBe('echo: the tool answered sunny');
      expect(calls, `stream ${stream}`).toEqual([{ city: 'Paris', days: 1 }]);
    }
  });

  it('arguments valid under a nested schema: enums, objects, arrays of objects, $ref (what zod and pydantic write)', async () => {
    // The Vercel AI SDK's tool of z.object({ a: z.object({ b: z.string() }), list: z.array(z.object({ c: z.number() })), unit: z.enum(['c', 'f']) }),
    // and LangChain's of a pydantic model with a nested one ($defs): before, the fake called them with {a: {}, list: [], unit: "<text>"}, which the SDK's validation refused.
    const zod = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } }, required: ['b'], additionalProperties: false }, list: { type: 'array', items: { type: 'object', properties: { c: { type: 'number' } }, required: ['c'], additionalProperties: false } }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['a', 'list', 'unit'], additionalProperties: false };
    const pydantic = { $defs: { Place: { properties: { city: { title: 'City', type: 'string' } }, required: ['city'], title: 'Place', type: 'object' } }, properties: { place: { $ref: '#/$defs/Place' }, days: { anyOf: [{ type: 'integer' }, { type: 'null' }], default: null } }, required: ['place'], type: 'object' };
    expect(await argsOf(zod)).toEqual({ a: { b: 'x' }, list: [{ c: 1 }], unit: 'c' });
    expect(await argsOf(pydantic)).toEqual({ place: { city: 'x' } });
  });

  // hmerge2: a recursive schema was valued 16 levels deep and then ended with the user's text where an object or array
  // belonged; pydantic v1's allOf-wrapped $ref, bounds and string formats were ignored: arguments the tool's own validation refused.
  it('arguments valid under recursive schemas, allOf, bounds and string formats', async () => {
    const zodTree = { type: 'object', properties: { name: { type: 'string' }, sub: { type: 'array', items: { $ref: '#' } } }, required: ['name', 'sub'] };
    const pydanticNode = { $defs: { Node: { type: 'object', properties: { v: { type: 'integer' }, child: { anyOf: [{ $ref: '#/$defs/Node' }, { type: 'null' }] } }, required: ['v', 'child'] } }, type: 'object', properties: { root: { $ref: '#/$defs/Node' } }, required: ['root'] };
    const pydanticV1 = { definitions: { P: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }, type: 'object', properties: { p: { allOf: [{ $ref: '#/definitions/P' }], description: 'where' } }, required: ['p'] };
    const bounded = { type: 'object', properties: { k: { type: 'integer', minimum: 5, maximum: 10 }, f: { type: 'number', exclusiveMaximum: 0 }, l: { type: 'array', items: { type: 'string' }, minItems: 2 }, at: { type: 'string', format: 'date-time' }, s: { type: 'string', minLength: 3 } }, required: ['k', 'f', 'l', 'at', 's'] };
    expect(await argsOf(zodTree)).toEqual({ name: 'x', sub: [{ name: 'x', sub: [] }] });
    expect(await argsOf(pydanticNode)).toEqual({ root: { v: 1, child: null } });
    expect(await argsOf(pydanticV1)).toEqual({ p: { city: 'x' } });
    expect(await argsOf(bounded)).toEqual({ k: 5, f: -1, l: ['x', 'x'], at: '2026-01-01T00:00:00Z', s: 'xxx' });
  });

  it('numbers a later turn\'s call ids after the conversation\'s earlier calls: no id repeats, as OpenAI\'s do not', async () => {
    const tools = [weather];
    const first = (await client.chat.completions.create({ model, tools, messages: [{ role: 'user', content: 'Oslo' }] })).choices[0]!.message;
    const answered = [{ role: 'user' as const, content: 'Oslo' }, { role: 'assistant' as const, content: null, tool_calls: first.tool_calls }, { role: 'tool' as const, tool_call_id: first.tool_calls![0]!.id, content: 'sunny' }];
    const text = (await client.chat.completions.create({ model, tools, messages: answered })).choices[0]!.message;
    const next = [...answered, { role: 'assistant' as const, content: text.content }, { role: 'user' as const, content: 'Paris' }];
    for (const stream of [false, true]) {
      const second = stream
        ? (await client.chat.completions.stream({ model, tools, messages: next, stream: true }).finalChatCompletion()).choices[0]!.message
        : (await client.chat.completions.create({ model, tools, messages: next })).choices[0]!.message;
      expect([first.tool_calls![0]!.id, second.tool_calls![0]!.id], `stream ${stream}`).toEqual(['call_fake_1', 'call_fake_2']);
    }
  });

  it('calls only a tool an allowed_tools choice lists, a function or a custom one, on chat and through /v1/responses (it called the first offered)', async () => {
    const sql = { type: 'custom' as const, custom: { name: 'sql' } };
    const r = await client.chat.completions.create({ model, tools: [weather, sql], messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'custom', custom: { name: 'sql' } }] } } });
    expect(r.choices[0]!.message.tool_calls).toEqual([{ id: 'call_fake_1', type: 'custom', custom: { name: 'sql', input: 'x' } }]);
    const customTool = { type: 'custom' as const, name: 'sql' };
    const functionTool = { type: 'function' as const, name: 'get_weather', parameters: weather.function.parameters, strict: false };
    // The allowed tool offered second each time: the first offered is the one a fake reading no allowed_tools calls.
    const cases = [
      { tools: [customTool, functionTool], allowed: { type: 'function' as const, name: 'get_weather' }, want: 'function_call' },
      { tools: [functionTool, customTool], allowed: { type: 'custom' as const, name: 'sql' }, want: 'custom_tool_call' },
    ];
    for (const { tools, allowed, want } of cases) {
      const resp = await client.responses.create({ model, input: 'x', tools, tool_choice: { type: 'allowed_tools', mode: 'required', tools: [allowed] } });
      expect(resp.output.map((o) => [o.type, 'name' in o ? o.name : undefined]), allowed.name).toEqual([[want, allowed.name]]);
    }
  });

  it('answers text when no tool is offered, or tool_choice is none', async () => {
    const plain = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    const none = await client.chat.completions.create({ model, tools: [weather], tool_choice: 'none', messages: [{ role: 'user', content: 'hi' }] });
    expect([plain.choices[0]!.message.content, none.choices[0]!.message.content]).toEqual(['echo: hi', 'echo: hi']);
  });

  it('a Responses API function_call, then its function_call_output, through the gateway', async () => {
    const first = await client.responses.create({ model, input: 'Oslo', tools: [{ type: 'function', name: 'get_weather', parameters: weather.function.parameters, strict: false }] });
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo","days":1}' });
    const second = await client.responses.create({ model, previous_response_id: first.id, input: [{ type: 'function_call_output', call_id: (call as { call_id: string }).call_id, output: 'snow' }] });
    expect(second.output_text).toBe('echo: the tool answered snow');
  });
});

// s39a: `--parallel-tool-calls` (FakeUpstream.parallelToolCalls), so that a new user sees the gateway hold
// `parallel_tool_calls: false` (docs/gateway.md) without writing an upstream: the fake answers two calls whatever the
// request says, as TGI, SGLang and older vLLM did; through tessera serve, false gives the first, default and true both.
describe('the fake upstream with --parallel-tool-calls through tessera serve', () => {
  let two: FakeUpstream;
  let gw2: Awaited<ReturnType<typeof serveGateway>>;
  let client2: OpenAI;
  const time = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
  beforeAll(async () => {
    two = await new FakeUpstream().start();
    two.callTools = true;
    two.parallelToolCalls = true;
    // The embedded default, as the README's quick start serves it (its example names gpt-5.4-mini).
    gw2 = await serveGateway(loadConfig(), two.url, [localTenant('acme', 'enterprise')], { providers: ['openai', 'openai-compatible'] });
    client2 = new OpenAI({ baseURL: gw2.url, apiKey: await gw2.token('acme', { 'tessera:role': 'developer' }), maxRetries: 0 });
  }, 60_000);
  afterAll(async () => {
    await gw2?.stop();
    await two?.stop();
  });
  /** The calls (name and arguments) of the answer to "Paris" with both tools offered, whole or streamed (the SDK's stream helper gathers the deltas). */
  const callsOf = async (stream: boolean, parallel?: boolean) => {
    const body = { model, tools: [weather, time], messages: [{ role: 'user' as const, content: 'Paris' }], ...(parallel === undefined ? {} : { parallel_tool_calls: parallel }) };
    const message = stream
      ? (await client2.chat.completions.stream({ ...body, stream: true }).finalChatCompletion()).choices[0]!.message
      : (await client2.chat.completions.create(body)).choices[0]!.message;
    return (message.tool_calls ?? []).map((c) => (c.type === 'function' ? [c.id, c.function.name, c.function.arguments] : [c.type]));
  };
  const weatherCall = ['call_fake_1', 'get_weather', '{"city":"Paris","days":1}'];
  const timeCall = ['call_fake_2', 'get_time', '{"city":"Paris"}'];

  it('answers two calls, whole and streamed: parallel_tool_calls false keeps the first, absent or true both', async () => {
    for (const stream of [false, true]) {
      expect(await callsOf(stream, false), `stream ${stream}, false`).toEqual([weatherCall]);
      expect(await callsOf(stream), `stream ${stream}, absent`).toEqual([weatherCall, timeCall]);
      expect(await callsOf(stream, true), `stream ${stream}, true`).toEqual([weatherCall, timeCall]);
    }
    // The fake was asked with the field as sent: it is the gateway that kept one call.
    expect(two.requests.filter((r) => r.parallel_tool_calls === false)).toHaveLength(2);
  });

  it('calls the one tool offered (or the one tool_choice names) twice, and answers both results', async () => {
    const one = await client2.chat.completions.create({ model, tools: [weather], messages: [{ role: 'user', content: 'Oslo' }] });
    const named = await client2.chat.completions.create({ model, tools: [weather, time], tool_choice: { type: 'function', function: { name: 'get_time' } }, messages: [{ role: 'user', content: 'Oslo' }] });
    const names = (r: typeof one) => r.choices[0]!.message.tool_calls!.map((c) => (c.type === 'function' ? c.function.name : c.type));
    expect([names(one), names(named)]).toEqual([['get_weather', 'get_weather'], ['get_time', 'get_time']]);
    const calls = one.choices[0]!.message.tool_calls!;
    const after = await client2.chat.completions.create({ model, tools: [weather], messages: [
      { role: 'user', content: 'Oslo' }, one.choices[0]!.message,
      { role: 'tool', tool_call_id: calls[0]!.id, content: 'snow' }, { role: 'tool', tool_call_id: calls[1]!.id, content: 'rain' },
    ] });
    expect(after.choices[0]!.message.content).toBe('echo: the tool answered snow; the tool answered rain');
  });

  it('the README quick start\'s example, run as written (its baseURL the test\'s serve), prints one call for false and two by default', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith('npx node -e "') && l.includes('parallel_tool_calls: false'));
    const code = /^npx node -e "(.*)"$/.exec(line ?? '')?.[1];
    expect(code, 'the README\'s npx node -e line with parallel_tool_calls: false').toContain("baseURL: 'http://127.0.0.1:8787/v1'");
    // Not spawnSync: the gateway answering it runs in this process.
    const run = await promisify(execFile)(process.execPath, ['-e', code!.replace('http://127.0.0.1:8787/v1', gw2.url)], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TOKEN: await gw2.token('acme') } });
    expect([run.stderr, run.stdout]).toEqual(['', 'false: get_weather | default: get_weather + get_time\n']);
    expect(readme).toContain('prints `false: get_weather | default: get_weather + get_time`');
  }, 30_000);
});
