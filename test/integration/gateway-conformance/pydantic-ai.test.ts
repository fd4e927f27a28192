import { ConverseCommand, ConverseStreamCommand, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it, vi } from 'vitest';
import { BEDROCK_USAGE, converseEvents, converseOutput, type ConverseAnswer } from './matrix.js';
import { PythonPydanticAiClient, type PydanticAiCall } from './pydantic-ai-clients.js';
import { mockProviderSdks, plainTenant, useConformanceGateway } from './setup.js';
import { scriptedChat } from './scripted-chat.js';
import { conformanceConfig, withOpenAIAlias } from '../../support/gateway-config.js';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 30_000 });

/**
 * Pydantic AI (`pydantic-ai-slim[openai]`: Agent on OpenAIChatModel and OpenAIResponsesModel, with
 * OpenAIProvider(base_url, api_key)) against `tessera serve`, as agents built on it call the gateway:
 * test/conformance/python/pydantic_ai_driver.py runs each agent, the fake upstream (scripted, strict:
 * what OpenAI refuses is OpenAI's 400) or the mocked Bedrock Runtime answers. Each test asserts what
 * the application saw (output, deltas, `result.usage()`, ModelHTTPError) and what reached the
 * provider. Every test passed against the gateway as first written (2026-12-05): they stand as the
 * proof that Pydantic AI agents work unchanged, and as the record of what Pydantic AI sends (the
 * tool output as a forced `final_result` tool, PromptedOutput as json_object with the schema in the
 * system message, `strict` only on tools whose schema allows it...).
 */
const { bedrock } = mockProviderSdks();
// o4-mini and gpt-5.4 by their bare ids: pydantic-ai's profile knows them as reasoning models (include
// reasoning.encrypted_content), and gpt-5.4 as one that takes reasoning.context 'all_turns', which it then sends by default.
const suite = useConformanceGateway(PythonPydanticAiClient.start, { tenants: [plainTenant('acme')], config: withOpenAIAlias(withOpenAIAlias(conformanceConfig(), 'o4-mini'), 'gpt-5.4') });
/** What OpenAI on the platform's key gets when the caller sends no prompt_cache_key: the tenant's own (tenant-cache-key.ts). */
const TENANT_KEY = { prompt_cache_key: tenantPromptCacheKey('acme', '') };
const run = (call: PydanticAiCall, token?: string) => suite.python.call(suite.env.gw.url, token ?? suite.env.tokens.acme, call);
const sent = () => suite.env.upstream.calls.map((c) => c.body);

/** OpenAI's own model behind the gateway: the fake upstream applies OpenAI's request rules to it. */
const MODEL = 'openai/gpt-4o-mini';
const { answer, streamed } = scriptedChat('fp_pa', 9);
const fn = (id: string, name: string, args: unknown) => ({ id, type: 'function', function: { name, arguments: JSON.stringify(args) } });

/** `result.usage()` for `n` model requests answered with USAGE each, `tools` tool calls run. */
const usage = (n: number, tools = 0) => ({ requests: n, tool_calls: tools, input_tokens: 12 * n, output_tokens: 5 * n, total_tokens: 17 * n });
const PERSON = { properties: { name: { description: "The person's name", type: 'string' }, age: { description: "The person's age in years", type: 'integer' } }, required: ['name', 'age'], type: 'object', additionalProperties: false };
/** The driver's tools as Pydantic AI declares them: get_weather (a pydantic argument with a default: not strict-compatible), utc_offset (plain, strict). */
const GET_WEATHER = { name: 'get_weather', description: 'Get the current weather in a city.', parameters: { description: 'Which city, in which unit.', properties: { city: { description: 'The city, e.g. Oslo', type: 'string' }, unit: { default: 'c', enum: ['c', 'f'], type: 'string' } }, required: ['city'], type: 'object', additionalProperties: false } };
const UTC_OFFSET = { name: 'utc_offset', description: 'The UTC offset of a city, in hours.', parameters: { additionalProperties: false, properties: { city: { type: 'string' } }, required: ['city'], type: 'object' }, strict: true };
const TOOL_LOOP = [fn('call_w', 'get_weather', { query: { city: 'Oslo' } }), fn('call_t', 'utc_offset', { city: 'Oslo' })];
/** The conversation the third request of the tool loop carries (chat completions as the gateway sends it upstream, either model class). */
const LOOP_HISTORY = [
  { role: 'user', content: 'Weather in Oslo?' },
  { role: 'assistant', content: null, tool_calls: [TOOL_LOOP[0]] },
  { role: 'tool', tool_call_id: 'call_w', content: '{"city":"Oslo","temp_c":3,"unit":"c"}' },
  { role: 'assistant', content: null, tool_calls: [TOOL_LOOP[1]] },
  { role: 'tool', tool_call_id: 'call_t', content: '1' },
];

const APIS = ['chat', 'responses'] as const;
/** What the upstream gets from either model class: the Responses API mapped by the gateway carries no `stream: false`. */
const nonStreaming = (api: (typeof APIS)[number]) => (api === 'chat' ? { stream: false } : {});

describe.each(APIS)('Agent on %s (OpenAIChatModel / OpenAIResponsesModel)', (api) => {
  it('run_sync: the text output and usage; instructions as the system message, ModelSettings (temperature, max_tokens, seed) reach the upstream', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }));
    const out = await run({ op: 'run', api, model: MODEL, prompt: 'Hi', instructions: 'Be brief.', settings: { temperature: 0.2, max_tokens: 64, seed: 7 } });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toBe('Hei!');
    expect(out.result.usage).toMatchObject(usage(1));
    expect(out.result.messages.at(-1)).toMatchObject({ kind: 'response', model_name: MODEL, finish_reason: 'stop', provider_response_id: expect.stringMatching(api === 'chat' ? /^chatcmpl-/ : /^resp_/) });
    expect(suite.env.upstream.calls[0].path).toBe('/v1/chat/completions');
    expect(sent()).toEqual([{
      model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], ...nonStreaming(api),
      // OpenAIResponsesModel drops `seed` itself (in its unsupported_settings: OpenAI's Responses API has none)
      max_completion_tokens: 64, ...(api === 'chat' ? { seed: 7 } : {}), temperature: 0.2,
    }]);
  });

  it('run_stream: the text deltas as streamed, the final output and usage', async () => {
    suite.env.upstream.script(streamed(['Hei ', 'på ', 'deg!']));
    const out = await run({ op: 'stream', api, model: MODEL, prompt: 'Hi' });
    expect(out.error).toBeUndefined();
    expect(out.result.deltas).toEqual(['Hei ', 'på ', 'deg!']);
    expect(out.result.output).toBe('Hei på deg!');
    expect(out.result.usage).toMatchObject(usage(1));
    expect(sent()).toEqual([{ model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } }]);
  });

  it('a multi-step tool loop (a tool with a pydantic argument, then a tool_plain one; parallel_tool_calls false): each result back by its call id, usage summed', async () => {
    suite.env.upstream.script(answer({ tool_calls: [TOOL_LOOP[0]] }, 'tool_calls'), answer({ tool_calls: [TOOL_LOOP[1]] }, 'tool_calls'), answer({ content: 'It is 3 °C in Oslo (UTC+1).' }));
    const out = await run({ op: 'run', api, model: MODEL, prompt: 'Weather in Oslo?', tools: true, settings: { parallel_tool_calls: false } });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toBe('It is 3 °C in Oslo (UTC+1).');
    expect(out.result.usage).toMatchObject(usage(3, 2));
    // chat completions leaves `strict` out of a tool its schema cannot make strict; the Responses API says strict: false
    const tools = [{ type: 'function', function: { ...GET_WEATHER, ...(api === 'responses' ? { strict: false } : {}) } }, { type: 'function', function: UTC_OFFSET }];
    expect(sent()).toHaveLength(3);
    for (const body of sent()) expect(body).toMatchObject({ model: 'gpt-4o-mini', tools, tool_choice: 'auto', parallel_tool_calls: false });
    expect(sent()[0].tools).toEqual(tools);
    expect(sent()[2].messages).toEqual(LOOP_HISTORY);
  });

  it('output_type a pydantic model (the default tool output): a forced final_result tool, strict; the validated object', async () => {
    suite.env.upstream.script(answer({ tool_calls: [fn('call_p', 'final_result', { name: 'Ada', age: 36 })] }, 'tool_calls'));
    const out = await run({ op: 'run', api, model: MODEL, prompt: 'Ada is 36.', output: 'tool' });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toEqual({ name: 'Ada', age: 36 });
    expect(out.result.usage).toMatchObject(usage(1));
    expect(sent()[0]).toMatchObject({ tools: [{ type: 'function', function: { name: 'final_result', description: 'A person mentioned in the text.', parameters: PERSON, strict: true } }], tool_choice: 'required' });
  });

  it('a tool output that fails validation: Pydantic AI\'s own retry (Agent retries=1) sends the error back as the tool result, the second answer is taken', async () => {
    suite.env.upstream.script(
      answer({ tool_calls: [fn('call_bad', 'final_result', { name: 'Ada', age: 'thirty-six' })] }, 'tool_calls'),
      answer({ tool_calls: [fn('call_ok', 'final_result', { name: 'Ada', age: 36 })] }, 'tool_calls'),
    );
    const out = await run({ op: 'run', api, model: MODEL, prompt: 'Ada is 36.', output: 'tool', agentRetries: 1 });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toEqual({ name: 'Ada', age: 36 });
    expect(out.result.usage).toMatchObject(usage(2));
    const retry = sent()[1].messages.at(-1);
    expect(retry).toMatchObject({ role: 'tool', tool_call_id: 'call_bad' });
    expect(JSON.parse(retry.content)).toMatchObject({ error: [{ type: 'int_parsing', loc: ['age'], input: 'thirty-six' }] });
  });

  it('NativeOutput: response_format json_schema (strict), the parsed object', async () => {
    suite.env.upstream.script(answer({ content: '{"name":"Ada","age":36}' }));
    const out = await run({ op: 'run', api, model: MODEL, prompt: 'Ada is 36.', output: 'native' });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toEqual({ type: 'json_schema', json_schema: { name: 'Person', description: 'A person mentioned in the text.', strict: true, schema: PERSON } });
  });

  it('PromptedOutput: json_object, the schema in the system message; the parsed object', async () => {
    suite.env.upstream.script(answer({ content: '{"name":"Ada","age":36}' }));
    const out = await run({ op: 'run', api, model: MODEL, prompt: 'Ada is 36.', output: 'prompted' });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toEqual({ type: 'json_object' });
    expect(sent()[0].messages[0]).toMatchObject({ role: 'system', content: expect.stringContaining('Always respond with a JSON object') });
    expect(sent()[0].messages[1]).toEqual({ role: 'user', content: 'Ada is 36.' });
  });

  it('run_stream of a tool output: the partial objects, then the validated one', async () => {
    suite.env.upstream.script(streamed([], fn('call_p', 'final_result', { name: 'Ada', age: 36 })));
    const out = await run({ op: 'stream', api, model: MODEL, prompt: 'Ada is 36.', output: 'tool' });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toEqual({ name: 'Ada', age: 36 });
    expect(out.result.deltas.at(-1)).toEqual({ name: 'Ada', age: 36 });
    expect(out.result.usage).toMatchObject(usage(1));
    expect(sent()[0]).toMatchObject({ stream: true, tool_choice: 'required' });
  });

  it('a streamed tool loop: the call summed from its chunks, run, the final text streamed', async () => {
    suite.env.upstream.script(streamed([], TOOL_LOOP[1]), streamed(['UTC', '+1.']));
    const out = await run({ op: 'stream', api, model: MODEL, prompt: 'Offset of Oslo?', tools: true });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toBe('UTC+1.');
    expect(out.result.usage).toMatchObject(usage(2, 1));
    expect(sent()[1].messages.slice(1)).toEqual([{ role: 'assistant', content: null, tool_calls: [TOOL_LOOP[1]] }, { role: 'tool', tool_call_id: 'call_t', content: '1' }]);
  });
});

describe('ModelSettings.extra_body', () => {
  it('chat completions: extra_body (vLLM\'s top_k) reaches an openai-compatible server as top-level fields', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }));
    const out = await run({ op: 'run', model: 'openai-compatible/default', prompt: 'Hi', settings: { extra_body: { top_k: 5, chat_template_kwargs: { enable_thinking: false } }, max_tokens: 32 } });
    expect(out.error).toBeUndefined();
    expect(sent()).toEqual([{ model: 'default', messages: [{ role: 'user', content: 'Hi' }], stream: false, max_completion_tokens: 32, top_k: 5, chat_template_kwargs: { enable_thinking: false } }]);
  });

  it('Responses API: a field /v1/responses does not define is OpenAI\'s 400 naming it (its Responses API has no top_k either: "Unknown parameter: \'top_k\'.", code unknown_parameter), a ModelHTTPError', async () => {
    const out = await run({ op: 'run', api: 'responses', model: 'openai-compatible/default', prompt: 'Hi', settings: { extra_body: { top_k: 5 } } });
    expect(out.error).toMatchObject({ type: 'ModelRequestRejectedError', status: 400, body: { type: 'invalid_request_error', param: 'top_k', code: 'unknown_parameter', message: expect.stringMatching(/^Unknown parameter: 'top_k'\. /) } });
    expect(sent()).toHaveLength(0);
  });
});

describe('OpenAIResponsesModel on o4-mini, a reasoning model by its profile: include reasoning.encrypted_content', () => {
  it('a tool loop: the reasoning comes back sealed (the ThinkingPart\'s signature), goes back next request, and is left out upstream', async () => {
    suite.env.upstream.script(answer({ reasoning_content: 'Ask the offset tool.', tool_calls: [TOOL_LOOP[1]] } as never, 'tool_calls'), answer({ content: 'UTC+1.' }));
    const out = await run({ op: 'run', api: 'responses', model: 'o4-mini', prompt: 'Offset of Oslo?', tools: true });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(out.result.output).toBe('UTC+1.');
    const thinking = out.result.messages[1].parts.find((p: any) => p.part_kind === 'thinking');
    expect(thinking).toMatchObject({ provider_details: { raw_content: ['Ask the offset tool.'] }, signature: expect.stringMatching(/^[A-Za-z0-9+/]{40,}={0,2}$/), provider_name: 'openai' });
    expect(sent()).toHaveLength(2);
    expect(sent()[1].messages.slice(-3)).toEqual([{ role: 'user', content: 'Offset of Oslo?' }, { role: 'assistant', content: null, tool_calls: [TOOL_LOOP[1]] }, { role: 'tool', tool_call_id: 'call_t', content: '1' }]);
    expect(JSON.stringify(sent()[1])).not.toContain('Ask the offset tool.');
  });
});

describe('OpenAIResponsesModel on gpt-5.4, whose profile sends reasoning.context (pydantic-ai\'s openai_reasoning_context)', () => {
  it("its default 'all_turns' is a 400 naming reasoning.context and the setting that sends another value; nothing sent", async () => {
    const out = await run({ op: 'run', api: 'responses', model: 'gpt-5.4', prompt: 'Offset of Oslo?', tools: true });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'reasoning.context', code: 'unsupported_parameter' } });
    expect(out.error!.body.message).toContain("reasoning.context 'all_turns' is not served");
    expect(out.error!.body.message).toContain("model_settings={'openai_reasoning_context': 'current_turn'}");
    expect(sent()).toHaveLength(0);
  });

  it.each(['current_turn', 'auto'])("openai_reasoning_context '%s': a tool loop runs, the sealed reasoning goes back and is left out upstream", async (context) => {
    suite.env.upstream.script(answer({ reasoning_content: 'Ask the offset tool.', tool_calls: [TOOL_LOOP[1]] } as never, 'tool_calls'), answer({ content: 'UTC+1.' }));
    const out = await run({ op: 'run', api: 'responses', model: 'gpt-5.4', prompt: 'Offset of Oslo?', tools: true, settings: { openai_reasoning_context: context } });
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    expect(out.result.output).toBe('UTC+1.');
    const thinking = out.result.messages[1].parts.find((p: any) => p.part_kind === 'thinking');
    expect(thinking).toMatchObject({ signature: expect.stringMatching(/^[A-Za-z0-9+/]{40,}={0,2}$/), provider_name: 'openai' });
    expect(sent()).toHaveLength(2);
    expect(sent()[0]).toMatchObject({ model: 'gpt-5.4' });
    expect(sent()[1].messages.slice(-3)).toEqual([{ role: 'user', content: 'Offset of Oslo?' }, { role: 'assistant', content: null, tool_calls: [TOOL_LOOP[1]] }, { role: 'tool', tool_call_id: 'call_t', content: '1' }]);
    expect(JSON.stringify(sent()[1])).not.toContain('Ask the offset tool.');
  });
});

describe.each(APIS)('errors as Pydantic AI raises them (%s)', (api) => {
  const ask: PydanticAiCall = { op: 'run', api, model: MODEL, prompt: 'Hi' };

  it('401: a bad key is a ModelHTTPError (ModelAuthenticationError) with status_code and the gateway\'s body', async () => {
    const out = await run(ask, 'not-a-token');
    expect(out.error).toMatchObject({ type: 'ModelAuthenticationError', status: 401, cause_type: 'AuthenticationError', body: { type: 'invalid_request_error', code: 'invalid_api_key' } });
    expect(out.error!.message).toMatch(/^status_code: 401, model_name: openai\/gpt-4o-mini, body: /);
    expect(sent()).toHaveLength(0);
  });

  it('400 from the upstream (context_length_exceeded): status_code 400, OpenAI\'s body (param `input` on the Responses API, the request\'s own field)', async () => {
    suite.env.upstream.script({ status: 400, body: { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } });
    const out = await run(ask);
    expect(out.error).toMatchObject({ status: 400, cause_type: 'BadRequestError', body: { type: 'invalid_request_error', code: 'context_length_exceeded', param: api === 'chat' ? 'messages' : 'input', message: "This model's maximum context length is 128000 tokens." } });
  });

  it('400: the gateway\'s own refusal (temperature over OpenAI\'s 2) names the field and the value; nothing reaches the upstream', async () => {
    const out = await run({ ...ask, settings: { temperature: 3 } });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param: 'temperature', message: expect.stringContaining('3') } });
    expect(sent()).toHaveLength(0);
  });

  const throttled = { status: 429, headers: { 'retry-after-ms': '20' }, body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };
  it('429: ModelRateLimitError with status_code, body and the rate headers; with ModelSettings.max_retries the SDK calls again and gets the answer', async () => {
    suite.env.upstream.script(throttled, throttled);
    const out = await run(ask);
    expect(out.error).toMatchObject({ type: 'ModelRateLimitError', status: 429, body: { code: 'rate_limit_exceeded', message: expect.stringContaining('Rate limit reached') }, headers: { 'retry-after-ms': '20' } });
    suite.env.upstream.reset();
    suite.env.upstream.script(throttled, throttled, answer({ content: 'Hei!' }));
    const retried = await run({ ...ask, settings: { max_retries: 1 } });
    expect(retried.error).toBeUndefined();
    expect(retried.result.output).toBe('Hei!');
    expect(retried.result.usage).toMatchObject(usage(1));
    expect(sent()).toHaveLength(3); // the gateway's two attempts, then the SDK's retry
  });

  it('429 on run_stream: the ModelHTTPError before any delta', async () => {
    suite.env.upstream.script(throttled, throttled);
    const out = await run({ ...ask, op: 'stream' });
    expect(out.error).toMatchObject({ type: 'ModelRateLimitError', status: 429, body: { code: 'rate_limit_exceeded' } });
    expect((out as any).deltas).toEqual([]);
  });

  it('500 upstream: status_code 502 (upstream_error); max_retries does not multiply the upstream calls (x-should-retry: false)', async () => {
    const failure = { status: 500, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } } };
    suite.env.upstream.script(failure, failure, failure, failure, failure, failure);
    const out = await run({ ...ask, settings: { max_retries: 2 } });
    expect(out.error).toMatchObject({ status: 502, body: { code: 'upstream_error', message: expect.stringContaining('The server had an error') }, headers: { 'x-should-retry': 'false' } });
    expect(sent()).toHaveLength(2);
  });
});

describe.each(APIS)('on Bedrock (bedrock/amazon.nova-lite, Converse mocked; %s)', (api) => {
  const BEDROCK = 'bedrock/amazon.nova-lite';
  const BEDROCK_RUN_USAGE = { requests: 1, input_tokens: BEDROCK_USAGE.inputTokens, output_tokens: BEDROCK_USAGE.outputTokens, total_tokens: BEDROCK_USAGE.totalTokens };
  const converse = (a: ConverseAnswer) => converseOutput(a);
  async function* events(a: ConverseAnswer) {
    for (const e of converseEvents(a)) yield e;
  }

  it('run_sync with settings: Converse gets the system text and inferenceConfig; the output and usage come back', async () => {
    bedrock.on(ConverseCommand).resolves(converse({ text: ['Hei!'], stopReason: 'end_turn' }) as never);
    const out = await run({ op: 'run', api, model: BEDROCK, prompt: 'Hi', instructions: 'Be brief.', settings: { temperature: 0.2, max_tokens: 64 } });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toBe('Hei!');
    expect(out.result.usage).toMatchObject(BEDROCK_RUN_USAGE);
    expect(bedrock.commandCalls(ConverseCommand).map((c) => c.args[0].input)).toEqual([{
      modelId: 'amazon.nova-lite-v1:0', system: [{ text: 'Be brief.' }], messages: [{ role: 'user', content: [{ text: 'Hi' }] }], inferenceConfig: { temperature: 0.2, maxTokens: 64 },
    }]);
  });

  it('run_stream: the deltas from ConverseStream, the usage from its metadata event', async () => {
    bedrock.on(ConverseStreamCommand).callsFake(() => ({ $metadata: { httpStatusCode: 200 }, stream: events({ text: ['Hei ', 'på deg!'], stopReason: 'end_turn' }) }));
    const out = await run({ op: 'stream', api, model: BEDROCK, prompt: 'Hi' });
    expect(out.error).toBeUndefined();
    expect(out.result.deltas).toEqual(['Hei ', 'på deg!']);
    expect(out.result.usage).toMatchObject(BEDROCK_RUN_USAGE);
  });

  it('the multi-step tool loop: toolUse in, toolResult back by its id, the final text', async () => {
    bedrock.on(ConverseCommand)
      .resolvesOnce(converse({ tools: [{ id: 'tooluse_w', name: 'get_weather', input: { query: { city: 'Oslo' } }, fragments: [] }], stopReason: 'tool_use' }) as never)
      .resolvesOnce(converse({ tools: [{ id: 'tooluse_t', name: 'utc_offset', input: { city: 'Oslo' }, fragments: [] }], stopReason: 'tool_use' }) as never)
      .resolvesOnce(converse({ text: ['It is 3 °C in Oslo.'], stopReason: 'end_turn' }) as never);
    const out = await run({ op: 'run', api, model: BEDROCK, prompt: 'Weather in Oslo?', tools: true });
    expect(out.error).toBeUndefined();
    expect(out.result.output).toBe('It is 3 °C in Oslo.');
    expect(out.result.usage).toMatchObject({ requests: 3, tool_calls: 2, input_tokens: 3 * BEDROCK_USAGE.inputTokens });
    const inputs = bedrock.commandCalls(ConverseCommand).map((c) => c.args[0].input as any);
    expect(inputs[0].toolConfig.tools.map((t: any) => t.toolSpec.name)).toEqual(['get_weather', 'utc_offset']);
    expect(inputs[2].messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_w', name: 'get_weather', input: { query: { city: 'Oslo' } } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_w', content: [{ text: '{"city":"Oslo","temp_c":3,"unit":"c"}' }] } }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_t', name: 'utc_offset', input: { city: 'Oslo' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_t', content: [{ text: '1' }] } }] },
    ]);
  });

  it('output_type a pydantic model (tool output) and NativeOutput: a forced tool, then Converse\'s json_schema textFormat', async () => {
    bedrock.on(ConverseCommand)
      .resolvesOnce(converse({ tools: [{ id: 'tooluse_p', name: 'final_result', input: { name: 'Ada', age: 36 }, fragments: [] }], stopReason: 'tool_use' }) as never)
      .resolvesOnce(converse({ text: ['{"name":"Ada","age":36}'], stopReason: 'end_turn' }) as never);
    const tool = await run({ op: 'run', api, model: BEDROCK, prompt: 'Ada is 36.', output: 'tool' });
    const native = await run({ op: 'run', api, model: BEDROCK, prompt: 'Ada is 36.', output: 'native' });
    expect(tool.error).toBeUndefined();
    expect(native.error).toBeUndefined();
    expect([tool.result.output, native.result.output]).toEqual([{ name: 'Ada', age: 36 }, { name: 'Ada', age: 36 }]);
    const inputs = bedrock.commandCalls(ConverseCommand).map((c) => c.args[0].input as any);
    expect(inputs[0].toolConfig).toMatchObject({ tools: [{ toolSpec: { name: 'final_result' } }], toolChoice: { any: {} } });
    expect(inputs[1].outputConfig).toMatchObject({ textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'Person' } } } });
  });

  it('a ThrottlingException: ModelRateLimitError, status_code 429', async () => {
    bedrock.on(ConverseCommand).rejects(new ThrottlingException({ message: 'Too many requests, please wait before trying again.', $metadata: { httpStatusCode: 429 } }));
    const out = await run({ op: 'run', api, model: BEDROCK, prompt: 'Hi' });
    expect(out.error).toMatchObject({ type: 'ModelRateLimitError', status: 429, body: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: expect.stringContaining('Too many requests') } });
  });
});
