import OpenAI from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runPythonCode } from '../../support/python-zygote.js';
import { mockProviderSdks, startConformanceGateway } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * A strict JSON schema (a structured output's `response_format` / `text.format`, or a function tool sent with
 * `strict: true`) one of whose objects is open (no `additionalProperties: false`) or has an optional key (not in
 * `required`): OpenAI's 400 `Invalid schema for response_format 'x': In context=(...), ...`, for every provider, nothing
 * sent, as the official Node and Python clients see it. Before 2026-12-07 the gateway checked only the root's type and
 * passed the rest on: OpenAI refused it, but a self-hosted upstream or Bedrock answered, so an app tried against the
 * gateway met the 400 only in production on OpenAI. What the clients' own helpers write (zod, pydantic) is strict-valid
 * and goes on.
 */
const { bedrock, sagemaker } = mockProviderSdks();
let env: Awaited<ReturnType<typeof startConformanceGateway>>;
beforeAll(async () => {
  env = await startConformanceGateway();
});
afterAll(async () => env?.stop());
beforeEach(() => env.upstream.reset());

const client = () => new OpenAI({ baseURL: env.gw.url, apiKey: env.tokens.acme, maxRetries: 0 });
const MODELS = ['openai-compatible/default', 'openai/gpt-4o-mini', 'bedrock/amazon.nova-lite'];
type BadRequest = InstanceType<typeof OpenAI.BadRequestError>;

/** A nested object without additionalProperties: false (what a hand-written schema often is). */
const OPEN_NESTED = {
  type: 'object', additionalProperties: false, required: ['name', 'addr'],
  properties: { name: { type: 'string' }, addr: { type: 'object', properties: { street: { type: 'string' } }, required: ['street'] } },
};
/** An optional key inside an array's items: required misses it. */
const OPTIONAL_IN_ITEMS = {
  type: 'object', additionalProperties: false, required: ['issues'],
  properties: { issues: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { path: { type: 'string' }, note: { type: 'string' } }, required: ['note'] } } },
};
const OPEN_CONTEXT = `In context=('properties', 'addr'), 'additionalProperties' is required to be supplied and to be false. Add "additionalProperties": false to this object (a map with free keys has no strict form: send strict: false, or list its entries as objects with fixed keys).`;
const MISSING_CONTEXT = "In context=('properties', 'issues', 'items'), 'required' is required to be supplied and to be an array including every key in properties. Missing 'path'. To keep 'path' optional, list it in 'required' and let it be null: its type a list with \"null\" ([\"string\", \"null\"]) or anyOf with {\"type\": \"null\"}.";

function expectRefused(e: unknown, param: string, code: string, message: string): void {
  expect(e).toBeInstanceOf(OpenAI.BadRequestError);
  expect((e as BadRequest).error).toEqual({ message, type: 'invalid_request_error', param, code });
  expect(env.upstream.requests).toHaveLength(0);
  expect(bedrock.calls()).toHaveLength(0);
  expect(sagemaker.calls()).toHaveLength(0);
}

describe('a strict schema OpenAI refuses: its 400 naming the object, for every provider, nothing sent', () => {
  it.each(MODELS)('%s · chat response_format json_schema, a nested open object', async (model) => {
    const e = await client().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: OPEN_NESTED } } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    // OpenAI's chat API names `response_format`, code null (the Responses API `text.format.schema`, invalid_json_schema).
    expect((e as BadRequest).error).toEqual({ message: `Invalid schema for response_format 'person': ${OPEN_CONTEXT}`, type: 'invalid_request_error', param: 'response_format', code: null });
    // The message whole, as OpenAI's (the SDK prefixes the status): not a parse line `response_format.json_schema.schema = {...}: ...` cut at 300 characters.
    expect((e as BadRequest).message).toBe(`400 Invalid schema for response_format 'person': ${OPEN_CONTEXT}`);
    expect(env.upstream.requests).toHaveLength(0);
    expect(bedrock.calls()).toHaveLength(0);
  });

  it.each(MODELS)('%s · chat tools[i] strict, an optional key in items', async (model) => {
    const tools = [
      { type: 'function' as const, function: { name: 'ok', parameters: { type: 'object', properties: {}, additionalProperties: false }, strict: true } },
      { type: 'function' as const, function: { name: 'lint', parameters: OPTIONAL_IN_ITEMS, strict: true } },
    ];
    const e = await client().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], tools }).catch((x: unknown) => x);
    expectRefused(e, 'tools[1].function.parameters', 'invalid_function_parameters', `Invalid schema for function 'lint': ${MISSING_CONTEXT}`);
  });

  it.each(MODELS)('%s · responses text.format json_schema strict, and a strict function tool', async (model) => {
    const e1 = await client().responses.create({ model, input: 'hi', text: { format: { type: 'json_schema', name: 'person', strict: true, schema: OPEN_NESTED } } }).catch((x: unknown) => x);
    expectRefused(e1, 'text.format.schema', 'invalid_json_schema', `Invalid schema for response_format 'person': ${OPEN_CONTEXT}`);
    const e2 = await client().responses.create({ model, input: 'hi', tools: [{ type: 'function', name: 'lint', parameters: OPTIONAL_IN_ITEMS, strict: true }] }).catch((x: unknown) => x);
    expectRefused(e2, 'tools[0].parameters', 'invalid_function_parameters', `Invalid schema for function 'lint': ${MISSING_CONTEXT}`);
  });

  it('the Python client (openai 3.x): BadRequestError with the message and param', async () => {
    const script = String.raw`
import json, sys
import openai
base_url, api_key = sys.argv[1:3]
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
schema = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"], "additionalProperties": False}
out = []
for call in (
    lambda: client.chat.completions.create(model="openai-compatible/default", messages=[{"role": "user", "content": "hi"}], response_format={"type": "json_schema", "json_schema": {"name": "t", "strict": True, "schema": schema}}),
    lambda: client.responses.create(model="openai-compatible/default", input="hi", text={"format": {"type": "json_schema", "name": "t", "strict": True, "schema": schema}}),
):
    try:
        call()
        out.append({"ok": True})
    except openai.BadRequestError as e:
        out.append({"status": e.status_code, "param": e.param, "code": e.code, "message": e.message})
print(json.dumps(out))
`;
    const { stdout } = await runPythonCode(script, [env.gw.url, env.tokens.acme]);
    const missing = "In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'.";
    expect(JSON.parse(stdout)).toEqual([
      { status: 400, param: 'response_format', code: null, message: expect.stringContaining(`Invalid schema for response_format 't': ${missing}`) },
      { status: 400, param: 'text.format.schema', code: 'invalid_json_schema', message: expect.stringContaining(`Invalid schema for response_format 't': ${missing}`) },
    ]);
    expect(env.upstream.requests).toHaveLength(0);
  });
});

describe('what the clients\' helpers write is strict-valid and goes on', () => {
  const answer = (content: string) => ({ body: { id: 'up', object: 'chat.completion', created: 1, model: 'default', choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } } });
  const Person = z.object({ name: z.string(), nick: z.string().nullable(), color: z.enum(['red', 'green']), addr: z.object({ street: z.string() }), tags: z.array(z.object({ k: z.string() })) });
  const person = { name: 'Ada', nick: null, color: 'red', addr: { street: 'Main' }, tags: [{ k: 'x' }] };

  it('zodResponseFormat (chat.completions.parse) and zodTextFormat (responses.parse) of nested, nullable and enum fields', async () => {
    env.upstream.script(answer(JSON.stringify(person)));
    const chat = await client().chat.completions.parse({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], response_format: zodResponseFormat(Person, 'person') });
    expect(chat.choices[0]!.message.parsed).toEqual(person);
    env.upstream.script(answer(JSON.stringify(person)));
    const resp = await client().responses.parse({ model: 'openai-compatible/default', input: 'hi', text: { format: zodTextFormat(Person, 'person') } });
    expect(resp.output_parsed).toEqual(person);
    expect(env.upstream.requests).toHaveLength(2);
    expect(env.upstream.requests[0]!.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'person', strict: true } });
  });

  it('a strict: false (or unset) schema with optional keys goes on as sent', async () => {
    env.upstream.script(answer('{"name":"Ada"}'));
    const out = await client().chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'person', strict: false, schema: OPEN_NESTED } } });
    expect(out.choices[0]!.message.content).toBe('{"name":"Ada"}');
    expect(env.upstream.requests[0]!.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'person', strict: false, schema: OPEN_NESTED } });
  });
});

/**
 * A 400 quotes a caller's value bounded (openai-errors.ts `quoted`): a schema nested deep with long keys, a megabyte
 * key, a value outside an enum of a megabyte, thousands of bad messages. Before 2026-12-07 each was sent back whole
 * (the context tuple, the missing key, the value, one line per issue), a 400 of megabytes.
 */
describe('a 400 about a huge or deep value stays small and still names the field', () => {
  type Refused = { message: string; param: string; code: string };
  const refused = async (extra: Record<string, unknown>): Promise<Refused> => {
    const e = await client().chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], ...extra } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(env.upstream.requests).toHaveLength(0);
    return (e as BadRequest).error as Refused;
  };

  it('a strict schema 25 levels deep, each key 5,000 characters: the context is cut, its length said', async () => {
    let schema: Record<string, unknown> = { type: 'object', properties: {} }; // the innermost object is open
    for (let i = 0; i < 25; i++) {
      const key = `${i}`.padEnd(5_000, 'k');
      schema = { type: 'object', additionalProperties: false, required: [key], properties: { [key]: schema } };
    }
    const error = await refused({ tools: [{ type: 'function', function: { name: 'f', strict: true, parameters: schema } }] });
    expect(error.param).toBe('tools[0].function.parameters');
    expect(error.code).toBe('invalid_function_parameters');
    expect(error.message).toMatch(/^Invalid schema for function 'f': In context=\('properties', '24k{62}… \(5000 characters\)', /);
    expect(error.message).toMatch(/… \(\d{4,} characters\), 'additionalProperties' is required to be supplied and to be false\. Add "additionalProperties": false to this object /);
    expect(error.message.length).toBeLessThan(1_000);
  });

  it('a format name of 300,000 characters, and a strict tool\'s missing key of 300,000: each cut, with its length', async () => {
    const key = 'p'.repeat(300_000);
    const schema = { type: 'object', additionalProperties: false, required: [], properties: { [key]: { type: 'string' } } };
    const format = await refused({ response_format: { type: 'json_schema', json_schema: { name: 'n'.repeat(300_000), strict: true, schema: { ...schema, properties: { a: { type: 'string' } } } } } });
    expect(format).toMatchObject({ param: 'response_format', code: null });
    expect(format.message).toContain(`Invalid schema for response_format '${'n'.repeat(64)}… (300000 characters)': In context=(), 'required' is required`);
    expect(format.message.length).toBeLessThan(1_000);
    const tool = await refused({ tools: [{ type: 'function', function: { name: 'f', strict: true, parameters: schema } }] });
    expect(tool).toMatchObject({ param: 'tools[0].function.parameters', code: 'invalid_function_parameters' });
    expect(tool.message).toBe(`Invalid schema for function 'f': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing '${'p'.repeat(64)}… (300000 characters)'. To keep '${'p'.repeat(64)}… (300000 characters)' optional, list it in 'required' and let it be null: its type a list with "null" (["string", "null"]) or anyOf with {"type": "null"}.`);
  });

  it('a tool_choice string of 1,000,000 characters: OpenAI\'s invalid_value, the value cut', async () => {
    const error = await refused({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'a'.repeat(1_000_000) });
    expect(error).toMatchObject({ param: 'tool_choice', code: 'invalid_value' });
    expect(error.message).toBe(`Invalid value: '${'a'.repeat(200)}… (1000000 characters)'. Supported values are: 'none', 'auto', and 'required'.`);
  });

  it('20,000 bad messages: the first ten issues, then how many more', async () => {
    const messages = Array.from({ length: 20_000 }, () => ({ role: 'user', content: 5 }));
    const e = await client().chat.completions.create({ model: 'openai-compatible/default', messages } as never).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    const error = (e as BadRequest).error as Refused;
    expect(error).toMatchObject({ param: 'messages[0].content', code: 'invalid_type' });
    // OpenAI's words for the first, then nine more, then how many more.
    const sentence = (i: number) => `Invalid type for 'messages[${i}].content': expected one of a string or an array, but got an integer instead.`;
    expect(error.message).toBe(`${sentence(0)} Also: ${Array.from({ length: 9 }, (_, i) => sentence(i + 1)).join(' ')} And 19990 more issues.`);
    expect(error.message.length).toBeLessThan(4_000);
  });
});
