import OpenAI from 'openai';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockProviderSdks, startConformanceGateway } from './setup.js';
import { converseOutput } from './matrix.js';

vi.setConfig({ testTimeout: 20_000 });

/**
 * A key inside a chat request's objects that OpenAI's types do not define (Anthropic's `cache_control` on a content
 * part or a tool, a made-up key in a tool call, a tool, `tool_choice` or `response_format`) on a Bedrock model, with
 * the official Node client against `tessera serve`: OpenAI's 400 for such a key, "Unknown parameter: '<path>'." (code
 * `unknown_parameter`, param the path: 'messages[1].tool_calls[0].index' in songquanpeng/one-api#1319), before any
 * Converse call (until 2026-12-07 `unsupported_parameter`, "<path> is not supported by the bedrock provider: …"). Before session 47 the Converse mapping left each such key out without a word and the
 * request was answered as if it had not been sent.
 */
const { bedrock } = mockProviderSdks();
let env: Awaited<ReturnType<typeof startConformanceGateway>>;
beforeAll(async () => {
  env = await startConformanceGateway();
});
afterAll(async () => env?.stop());
beforeEach(() => env.upstream.reset());

const client = () => new OpenAI({ baseURL: env.gw.url, apiKey: env.tokens.acme, maxRetries: 0 });
const MODEL = 'bedrock/amazon.nova-lite';
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const weather = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } };
const call = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } };
const answered = (extra: { call?: object; tool?: object }) => [
  { role: 'user', content: 'Weather in Oslo?' },
  { role: 'assistant', content: null, tool_calls: [{ ...call, ...extra.call }] },
  { role: 'tool', tool_call_id: 'call_1', content: '3°C', ...extra.tool },
];
const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };

const CASES: Array<[string, Record<string, unknown>]> = [
  ['messages[0].content[0].cache_control', { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }] }],
  ['messages[0].content[0].cache_control', { messages: [{ role: 'system', content: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }] }, { role: 'user', content: 'hi' }] }],
  ['messages[0].content[1].image_url.foo', { messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: PNG, foo: 'bar' } }] }] }],
  ['messages[0].content[0].input_audio.foo', { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav', foo: 'bar' } }] }] }],
  ['messages[0].content[1].file.foo', { messages: [{ role: 'user', content: [{ type: 'text', text: 'Read it.' }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf', foo: 'bar' } }] }] }],
  ['messages[1].tool_calls[0].foo', { tools: [weather], messages: answered({ call: { foo: 'bar' } }) }],
  ['messages[1].tool_calls[0].function.foo', { tools: [weather], messages: answered({ call: { function: { ...call.function, foo: 'bar' } } }) }],
  ['messages[2].content[0].foo', { tools: [weather], messages: answered({ tool: { content: [{ type: 'text', text: '3°C', foo: 'bar' }] } }) }],
  ['tools[0].cache_control', { tools: [{ ...weather, cache_control: { type: 'ephemeral' } }] }],
  ['tools[0].function.foo', { tools: [{ ...weather, function: { ...weather.function, foo: 'bar' } }] }],
  ['tool_choice.function.foo', { tools: [weather], tool_choice: { type: 'function', function: { name: 'get_weather', foo: 'bar' } } }],
  ['tool_choice.allowed_tools.foo', { tools: [weather], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_weather' } }], foo: 'bar' } } }],
  ['tool_choice.allowed_tools.tools[0].function.foo', { tools: [weather], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_weather', foo: 'bar' } }] } } }],
  ['response_format.foo', { response_format: { type: 'json_schema', json_schema: { name: 'out', schema }, foo: 'bar' } }],
  ['response_format.json_schema.foo', { response_format: { type: 'json_schema', json_schema: { name: 'out', schema, foo: 'bar' } } }],
];

describe('a key OpenAI\'s types do not define, inside a chat request on Bedrock: a 400 naming its path, nothing sent', () => {
  it.each(CASES.map(([param, fields]) => ({ param, fields })))('$param', async ({ param, fields }) => {
    const e = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...fields } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    const error = (e as InstanceType<typeof OpenAI.BadRequestError>).error as Record<string, unknown>;
    expect(error).toMatchObject({ type: 'invalid_request_error', param, code: 'unknown_parameter' });
    expect(error.message).toMatch(new RegExp(`^Unknown parameter: '${param.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'\\. Not a field of OpenAI's .*\\(the bedrock provider\\)$`));
    expect(bedrock.calls()).toHaveLength(0);
  });

  // A custom tool (ChatCompletionCustomTool), a custom tool choice and a custom tool call are OpenAI's, but Converse tools take
  // JSON input: each is a 400 naming the `type` that holds the value (before session 47: `tools[i]`, `tool_choice`, ...).
  it.each([
    ['tools[1].type', { tools: [weather, { type: 'custom', custom: { name: 'sql', format: { type: 'grammar', grammar: { definition: 'start: "a"', syntax: 'lark' } } } }] }],
    ['messages[1].tool_calls[0].type', { tools: [weather], messages: answered({ call: { type: 'custom', function: undefined, custom: { name: 'sql', input: 'select 1' } } }) }],
  ])('a custom tool: %s', async (param, fields) => {
    const e = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...fields } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', param, code: 'unsupported_parameter', message: expect.stringContaining(`${param} is not supported by the bedrock provider: is custom: Converse `) });
    expect(bedrock.calls()).toHaveLength(0);
  });

  // A custom tool choice needs its custom tool in `tools`, which Converse refuses first (`tools[i].type` above); one naming
  // a custom tool that is not there is the gateway's tool_not_found for every provider, before the Bedrock mapping
  // (chat/tool-choice-names.ts; until 2026-12-07 Bedrock's mapping answered it as `tool_choice.type`).
  it.each([
    ['tool_choice', { type: 'custom', custom: { name: 'sql' } }],
    ['tool_choice.allowed_tools.tools[0].custom.name', { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'custom', custom: { name: 'sql' } }] } }],
  ])('a custom tool choice naming no custom tool in tools: tool_not_found naming %s, before the Bedrock mapping', async (param, tool_choice) => {
    const e = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], tools: [weather], tool_choice } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect((e as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', param, code: 'tool_not_found', message: expect.stringContaining("Tool choice 'custom' not found in 'tools' parameter.") });
    expect(bedrock.calls()).toHaveLength(0);
  });

  it('an assistant message as the official clients\' parse helpers give it back (`parsed`, a tool call\'s `function.parsed_arguments`) is taken: they repeat content and arguments', async () => {
    bedrock.on(ConverseCommand).resolves(converseOutput({ text: ['3°C in Oslo.'], stopReason: 'end_turn' }) as never);
    const parsedCall = { ...call, function: { ...call.function, parsed_arguments: { city: 'Oslo' } } };
    const out = await client().chat.completions.create({
      model: MODEL, tools: [weather] as never,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: null, refusal: null, parsed: null, tool_calls: [parsedCall] },
        { role: 'tool', tool_call_id: 'call_1', content: '3°C' },
        { role: 'assistant', content: '{"a":"b"}', parsed: { a: 'b' } },
        { role: 'user', content: 'Thanks' },
      ] as never,
    });
    expect(out.choices[0].message.content).toBe('3°C in Oslo.');
    const input = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input.messages![1]).toEqual({ role: 'assistant', content: [{ toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Oslo' } } }] });
    expect(input.messages![3]).toEqual({ role: 'assistant', content: [{ text: '{"a":"b"}' }] });
  });

  it('the keys OpenAI\'s types define still reach Converse', async () => {
    bedrock.on(ConverseCommand).resolves(converseOutput({ text: ['{"a":"b"}'], stopReason: 'end_turn' }) as never);
    const out = await client().chat.completions.create({
      model: MODEL,
      messages: answered({}) as never,
      tools: [{ ...weather, function: { ...weather.function, description: 'Current weather', strict: true } }] as never,
      tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'get_weather' } }] } },
      response_format: { type: 'json_schema', json_schema: { name: 'out', description: 'The answer', schema, strict: true } },
    });
    expect(out.choices[0].message.content).toBe('{"a":"b"}');
    const input = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input.toolConfig).toEqual({ tools: [{ toolSpec: { name: 'get_weather', description: 'Current weather', inputSchema: { json: weather.function.parameters }, strict: true } }], toolChoice: { any: {} } });
    expect(input.outputConfig).toEqual({ textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'out', description: 'The answer', schema: JSON.stringify(schema) } } } });
  });
});
