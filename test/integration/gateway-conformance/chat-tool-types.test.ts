import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
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
