import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runPythonCode } from '../../support/python-zygote.js';
import { mockProviderSdks, startConformanceGateway } from './setup.js';

vi.setConfig({ testTimeout: 20_000 });

/**
 * A tool Chat Completions does not define (`ChatCompletionTool` is a function or a custom tool; `file_search` is the
 * Responses API's), or a `tool_choice` likewise, on `tessera serve` with the official Node client: OpenAI's 400
 * (`BadRequestError`, code `invalid_value`, `param` the field) for every provider, before any upstream call. Before
 * 2026-12-05 the OpenAI relay passed such a tool on (a lenient upstream answered as if no tool were offered) and Bedrock
 * refused it as `unsupported_parameter` naming `tools[i]`.
 */
const { bedrock, sagemaker } = mockProviderSdks();
let env: Awaited<ReturnType<typeof startConformanceGateway>>;
beforeAll(async () => {
  env = await startConformanceGateway();
});
afterAll(async () => env?.stop());
beforeEach(() => env.upstream.reset());

const client = () => new OpenAI({ baseURL: env.gw.url, apiKey: env.tokens.acme, maxRetries: 0 });
const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const MODELS = ['openai-compatible/default', 'openai/gpt-4o-mini', 'huggingface/tgi-llama', 'bedrock/amazon.nova-lite', 'sagemaker/ft:nova:acme:support'];

const CASES: Array<[string, Record<string, unknown>, string, string]> = [
  ['tools [file_search]', { tools: [{ type: 'file_search' }] }, 'tools[0].type', "Invalid value: 'file_search'. Supported values are: 'function' and 'custom'."],
  ['tools [function, bogus]', { tools: [weather, { type: 'bogus' }] }, 'tools[1].type', "Invalid value: 'bogus'. Supported values are: 'function' and 'custom'."],
  ['tool_choice {type: file_search}', { tools: [weather], tool_choice: { type: 'file_search' } }, 'tool_choice.type', "Invalid value: 'file_search'. Supported values are: 'function', 'custom', and 'allowed_tools'."],
  ['tool_choice "any"', { tools: [weather], tool_choice: 'any' }, 'tool_choice', "Invalid value: 'any'. Supported values are: 'none', 'auto', and 'required'."],
];

describe('a tool type Chat Completions does not define: OpenAI\'s 400 naming it, for every provider, nothing sent', () => {
  it.each(MODELS.flatMap((model) => CASES.map(([name, extra, param, message]) => ({ model, name, extra, param, message }))))(
    '$model · $name', async ({ model, extra, param, message }) => {
      const e = await client().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], ...extra } as never).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).error).toEqual({ message, type: 'invalid_request_error', param, code: 'invalid_value' });
      expect(env.upstream.requests).toHaveLength(0);
      expect(bedrock.calls()).toHaveLength(0);
      expect(sagemaker.calls()).toHaveLength(0);
    });

  it('a function and a custom tool still reach the upstream as sent', async () => {
    env.upstream.script({ body: { id: 'up', object: 'chat.completion', created: 1, model: 'default', choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } } });
    const tools = [weather, { type: 'custom' as const, custom: { name: 'grammar' } }];
    const out = await client().chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'custom', custom: { name: 'grammar' } }] } } });
    expect(out.choices[0].message.content).toBe('ok');
    expect(env.upstream.requests).toHaveLength(1);
    expect(env.upstream.requests[0]!.tools).toEqual(tools);
  });

  it.each([
    [{ type: 'custom', custom: { name: 5 } }, 'tools[1].custom.name', 'invalid_type'],
    [{ type: 'custom', custom: { name: 'run sql' } }, 'tools[1].custom.name', 'invalid_value'],
    [{ type: 'function', function: { name: 'files.read' } }, 'tools[1].function.name', 'invalid_value'],
  ])('a tool name OpenAI refuses (%j) is its 400 naming %s, for every provider, nothing sent', async (tool, param, code) => {
    for (const model of MODELS) {
      const e = await client().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], tools: [weather, tool] } as never).catch((x: unknown) => x);
      expect(e, model).toBeInstanceOf(OpenAI.BadRequestError);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).error, model).toMatchObject({ type: 'invalid_request_error', param, code });
    }
    expect(env.upstream.requests).toHaveLength(0);
    expect(bedrock.calls()).toHaveLength(0);
    expect(sagemaker.calls()).toHaveLength(0);
  });
});

/**
 * A `tool_choice` naming a tool that is not in `tools` (a function, a custom tool, an allowed_tools entry): OpenAI's 400
 * ("Tool choice 'function' not found in 'tools' parameter.", `param: tool_choice`) for every provider, nothing sent, as
 * `/v1/responses` refuses it. Before 2026-12-07 chat passed it upstream: OpenAI answered the 400 itself, a lenient
 * upstream or Bedrock answered a call to another tool.
 */
describe('a chat tool_choice naming a tool not in tools: OpenAI\'s 400, for every provider, nothing sent', () => {
  const grammar = { type: 'custom' as const, custom: { name: 'grammar' } };
  const NAMED: Array<[string, Record<string, unknown>, string, string]> = [
    ['a function not in tools', { tools: [weather], tool_choice: { type: 'function', function: { name: 'get_time' } } }, 'tool_choice',
      "Tool choice 'function' not found in 'tools' parameter. tool_choice.function.name 'get_time' is not a function in tools (functions: get_weather); name one of them, or send tool_choice 'auto' or 'required'"],
    ['a custom tool naming a function', { tools: [weather, grammar], tool_choice: { type: 'custom', custom: { name: 'get_weather' } } }, 'tool_choice',
      "Tool choice 'custom' not found in 'tools' parameter. tool_choice.custom.name 'get_weather' is not a custom tool in tools (custom tools: grammar); name one of them, or send tool_choice 'auto' or 'required'"],
    ['an allowed function not in tools', { tools: [weather, grammar], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'get_weather' } }, { type: 'function', function: { name: 'get_time' } }] } } },
      'tool_choice.allowed_tools.tools[1].function.name',
      "Tool choice 'function' not found in 'tools' parameter. tool_choice.allowed_tools.tools[1].function.name 'get_time' is not a function in tools (functions: get_weather); name one of them, or send tool_choice 'auto' or 'required'"],
    ['an allowed custom tool not in tools', { tools: [weather], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'custom', custom: { name: 'grammar' } }] } } },
      'tool_choice.allowed_tools.tools[0].custom.name',
      "Tool choice 'custom' not found in 'tools' parameter. tool_choice.allowed_tools.tools[0].custom.name 'grammar' is not a custom tool in tools (custom tools: none); name one of them, or send tool_choice 'auto' or 'required'"],
  ];
  it.each(MODELS.flatMap((model) => NAMED.map(([name, extra, param, message]) => ({ model, name, extra, param, message }))))(
    '$model · $name', async ({ model, extra, param, message }) => {
      const e = await client().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], ...extra } as never).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect((e as InstanceType<typeof OpenAI.BadRequestError>).error).toEqual({ message, type: 'invalid_request_error', param, code: 'tool_not_found' });
      expect(env.upstream.requests).toHaveLength(0);
      expect(bedrock.calls()).toHaveLength(0);
      expect(sagemaker.calls()).toHaveLength(0);
    });

  it('a huge name is quoted cut, with its length: the 400 stays small', async () => {
    const name = 'x'.repeat(500_000);
    const e = await client().chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], tools: [weather], tool_choice: { type: 'function', function: { name } } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    const error = (e as InstanceType<typeof OpenAI.BadRequestError>).error as { message: string; param: string };
    expect(error.param).toBe('tool_choice');
    expect(error.message).toContain(`tool_choice.function.name '${'x'.repeat(200)}… (500000 characters)'`);
    expect(error.message.length).toBeLessThan(600);
    expect(env.upstream.requests).toHaveLength(0);
  });

  it('a choice naming a tool in tools still goes on as sent', async () => {
    env.upstream.script({ body: { id: 'up', object: 'chat.completion', created: 1, model: 'default', choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } } });
    const tool_choice = { type: 'function' as const, function: { name: 'get_weather' } };
    await client().chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], tools: [weather], tool_choice });
    expect(env.upstream.requests).toHaveLength(1);
    expect(env.upstream.requests[0]!.tool_choice).toEqual(tool_choice);
  });

  it('the official Python client: BadRequestError with param tool_choice and code tool_not_found, nothing sent', async () => {
    const script = `
import json, sys
import openai
base_url, api_key = sys.argv[1:3]
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]
out = []
for model in ("openai-compatible/default", "bedrock/amazon.nova-lite"):
    try:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], tools=tools, tool_choice={"type": "function", "function": {"name": "get_time"}})
        out.append({"ok": True})
    except openai.BadRequestError as e:
        out.append({"status": e.status_code, "param": e.param, "code": e.code, "message": e.message})
print(json.dumps(out))
`;
    const { stdout } = await runPythonCode(script, [env.gw.url, env.tokens.acme]);
    const refused = { status: 400, param: 'tool_choice', code: 'tool_not_found', message: expect.stringContaining("Tool choice 'function' not found in 'tools' parameter. tool_choice.function.name 'get_time'") };
    expect(JSON.parse(stdout)).toEqual([refused, refused]);
    expect(env.upstream.requests).toHaveLength(0);
    expect(bedrock.calls()).toHaveLength(0);
  });
});
