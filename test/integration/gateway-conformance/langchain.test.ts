import { encode as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it, vi } from 'vitest';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';
import { tenantEndUserId } from '../../../lambdas/inference/providers/tenant-end-user.js';
import type { ScriptedJson, UpstreamCall } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { PythonLangChainClient, type LangChainCall } from './langchain-clients.js';
import { plainTenant, useConformanceGateway } from './setup.js';
import { scriptedChat } from './scripted-chat.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 30_000 });

/**
 * LangChain's `langchain-openai` (Python: ChatOpenAI, OpenAIEmbeddings) against `tessera serve`, as
 * RAG pipelines and agents built on it call the gateway: test/conformance/python/langchain_driver.py
 * runs each call, the fake upstream (scripted, strict: what OpenAI refuses is OpenAI's 400) answers.
 * Each test asserts what the application saw and what reached the upstream. Every test passed against
 * the gateway as first written (2026-12-05): they stand as the proof that LangChain apps work unchanged,
 * and as the record of what LangChain sends (`max_tokens` as `max_completion_tokens`, tool-call
 * arguments re-serialized by json.dumps, `input: ""` for an empty text...).
 */
const EMBEDDING = { id: 'openai/text-embedding-3-small', upstream: 'text-embedding-3-small', kind: 'embedding' as const, inputPricePer1k: 0.00002, outputPricePer1k: 0, maxOutputTokens: 4096 };
/** A Hugging Face embedding model (a TEI Inference Endpoint: BGE's WordPiece vocabulary, not tiktoken's) and the same behind openai-compatible. */
const HF_EMBEDDING = { ...EMBEDDING, id: 'huggingface/bge-small', upstream: 'BAAI/bge-small-en-v1.5' };
const VLLM_EMBEDDING = { ...EMBEDDING, id: 'openai-compatible/bge-small', upstream: 'BAAI/bge-small-en-v1.5' };
/** A proxy in front of OpenAI's models, whose entry says the vocabulary it takes. */
const PROXIED_EMBEDDING = { ...EMBEDDING, id: 'openai-compatible/te3-proxy', tokenizer: 'cl100k_base' as const };
const config = () => {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, EMBEDDING, HF_EMBEDDING, VLLM_EMBEDDING, PROXIED_EMBEDDING] } };
};
const suite = useConformanceGateway(PythonLangChainClient.start, { config: config(), tenants: [plainTenant('acme')] });
const run = (call: LangChainCall, token?: string) => suite.python.call(suite.env.gw.url, token ?? suite.env.tokens.acme, call);
const sent = () => suite.env.upstream.calls.map((c) => c.body);

/** OpenAI's own model behind the gateway: the fake upstream applies OpenAI's request rules to it. */
const MODEL = 'openai/gpt-4o-mini';
/** What OpenAI on the platform's key gets when the caller sends no prompt_cache_key: the tenant's own (tenant-cache-key.ts). */
const TENANT_KEY = { prompt_cache_key: tenantPromptCacheKey('acme', '') };
const { answer, streamed } = scriptedChat('fp_lc');
const OSLO = { id: 'call_oslo', type: 'function', function: { name: 'GetWeather', arguments: '{"city":"Oslo"}' } };


/** LangChain's usage_metadata for USAGE. */
const USAGE_METADATA = { input_tokens: 12, output_tokens: 5, total_tokens: 17 };
/** The JSON schema pydantic makes of the driver's GetWeather tool, as LangChain's convert_to_openai_tool sends it. */
const GET_WEATHER = { name: 'GetWeather', description: 'Get the current weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string', description: 'The city, e.g. Oslo' } }, required: ['city'] } };
const PERSON_PROPERTIES = { name: { type: 'string', description: "The person's name" }, age: { type: 'integer', description: "The person's age in years" } };

describe('ChatOpenAI on chat completions', () => {
  it('invoke: the AIMessage with content, usage and the catalog model; the upstream gets the messages and the settings', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }));
    const out = await run({ op: 'invoke', model: MODEL, messages: [['system', 'Be brief.'], ['human', 'Hi']], options: { temperature: 0.2, max_tokens: 64, stop: ['\n\n'] } });
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ content: 'Hei!', tool_calls: [], usage_metadata: USAGE_METADATA, response_metadata: { model_name: MODEL, finish_reason: 'stop', system_fingerprint: 'fp_lc', id: expect.stringMatching(/^chatcmpl-/) } });
    // LangChain sends `max_tokens` as `max_completion_tokens`, and `stream: false`
    expect(sent()).toEqual([{ model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }], stream: false, temperature: 0.2, max_completion_tokens: 64, stop: ['\n\n'] }]);
  });

  it('stream: the text in chunks, no usage chunk unless asked; the upstream is asked for usage all the same', async () => {
    suite.env.upstream.script(streamed(['Hei ', 'på ', 'deg!']));
    const out = await run({ op: 'stream', model: MODEL, messages: [['human', 'Hi']] });
    expect(out.error).toBeUndefined();
    expect(out.chunks!.map((c) => c.content).join('')).toBe('Hei på deg!');
    expect(out.result).toMatchObject({ content: 'Hei på deg!', response_metadata: { finish_reason: 'stop', model_name: MODEL } });
    expect(out.result.usage_metadata).toBeNull();
    expect(sent()[0]).toEqual({ model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } });
  });

  it('stream with stream_usage=True: usage on the last chunk, summed into the message', async () => {
    suite.env.upstream.script(streamed(['Hei ', 'på ', 'deg!']));
    const out = await run({ op: 'stream', model: MODEL, messages: [['human', 'Hi']], options: { stream_usage: true } });
    expect(out.error).toBeUndefined();
    // the usage chunk after the finish (then only langchain-core's own empty chunk_position="last" chunk), the one chunk with usage
    const withUsage = out.chunks!.filter((c) => c.usage_metadata !== null);
    expect(withUsage).toHaveLength(1);
    expect(withUsage[0].usage_metadata).toMatchObject(USAGE_METADATA);
    expect(out.chunks!.indexOf(withUsage[0])).toBe(out.chunks!.findIndex((c) => c.response_metadata.finish_reason === 'stop') + 1);
    expect(out.result).toMatchObject({ content: 'Hei på deg!', usage_metadata: USAGE_METADATA });
    expect(sent()[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('batch: one upstream call per input, each answer to its own input', async () => {
    suite.env.upstream.script(...[0, 1, 2].map(() => (call: UpstreamCall) => answer({ content: `echo ${call.body.messages.at(-1).content}` })));
    const out = await run({ op: 'batch', model: MODEL, inputs: [[['human', 'one']], [['human', 'two']], [['human', 'three']]] });
    expect(out.error).toBeUndefined();
    expect(out.result.map((m: any) => m.content)).toEqual(['echo one', 'echo two', 'echo three']);
    expect(sent().map((b) => b.messages[0].content).sort()).toEqual(['one', 'three', 'two']);
  });

  it.each(['whole', 'streamed'] as const)('bind_tools with a pydantic tool (strict, parallel_tool_calls=False): the tool call, a ToolMessage back, the final answer (%s)', async (mode) => {
    if (mode === 'whole') suite.env.upstream.script(answer({ tool_calls: [OSLO] }, 'tool_calls'), answer({ content: 'It is 3 °C in Oslo.' }));
    else suite.env.upstream.script(streamed([], OSLO), streamed(['It is 3 °C ', 'in Oslo.']));
    const bind = { strict: true, parallel_tool_calls: false, tool_choice: 'auto' };
    const out = mode === 'whole'
      ? await run({ op: 'tools', model: MODEL, messages: [['human', 'Weather in Oslo?']], bind, toolResult: '{"temp_c": 3}' })
      : await run({ op: 'stream', model: MODEL, messages: [['human', 'Weather in Oslo?']], bind });
    expect(out.error).toBeUndefined();
    const first = mode === 'whole' ? out.result.first : out.result;
    expect(first.tool_calls).toEqual([{ name: 'GetWeather', args: { city: 'Oslo' }, id: 'call_oslo', type: 'tool_call' }]);
    const tool = { type: 'function', function: { ...GET_WEATHER, strict: true, parameters: { ...GET_WEATHER.parameters, additionalProperties: false } } };
    expect(sent()[0]).toMatchObject({ model: 'gpt-4o-mini', tools: [tool], parallel_tool_calls: false, tool_choice: 'auto' });
    if (mode === 'streamed') return;
    expect(out.result.final).toMatchObject({ content: 'It is 3 °C in Oslo.', tool_calls: [] });
    expect(sent()[1].messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      // LangChain sends the call's args back as json.dumps makes them
      { role: 'assistant', content: null, tool_calls: [{ ...OSLO, function: { ...OSLO.function, arguments: '{"city": "Oslo"}' } }] },
      { role: 'tool', content: '{"temp_c": 3}', tool_call_id: 'call_oslo' },
    ]);
    expect(sent()[1]).toMatchObject({ tools: [tool], parallel_tool_calls: false });
  });
});

describe('ChatOpenAI.with_structured_output (pydantic schema)', () => {
  it('json_schema (the default): response_format json_schema, strict; the parsed object', async () => {
    suite.env.upstream.script(answer({ content: '{"name":"Ada","age":36}' }));
    const out = await run({ op: 'structured', model: MODEL, method: 'json_schema', messages: [['human', 'Ada is 36.']] });
    expect(out.error).toBeUndefined();
    expect(out.result.parsed).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'Person', strict: true, schema: { type: 'object', description: 'A person mentioned in the text.', title: 'Person', properties: { name: { ...PERSON_PROPERTIES.name, title: 'Name' }, age: { ...PERSON_PROPERTIES.age, title: 'Age' } }, required: ['name', 'age'], additionalProperties: false } },
    });
  });

  it('function_calling: the schema as a forced tool, parallel_tool_calls false; the parsed object', async () => {
    suite.env.upstream.script(answer({ tool_calls: [{ id: 'call_p', type: 'function', function: { name: 'Person', arguments: '{"name":"Ada","age":36}' } }] }, 'tool_calls'));
    const out = await run({ op: 'structured', model: MODEL, method: 'function_calling', messages: [['human', 'Ada is 36.']] });
    expect(out.error).toBeUndefined();
    expect(out.result.parsed).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].tools[0].function).not.toHaveProperty('strict');
    expect(sent()[0]).toMatchObject({ tool_choice: { type: 'function', function: { name: 'Person' } }, parallel_tool_calls: false, tools: [{ type: 'function', function: { name: 'Person', parameters: { properties: PERSON_PROPERTIES, required: ['name', 'age'] } } }] });
  });

  it('function_calling with strict=True: the tool strict, its schema closed', async () => {
    suite.env.upstream.script(answer({ tool_calls: [{ id: 'call_p', type: 'function', function: { name: 'Person', arguments: '{"name":"Ada","age":36}' } }] }, 'tool_calls'));
    const out = await run({ op: 'structured', model: MODEL, method: 'function_calling', strict: true, messages: [['human', 'Ada is 36.']] });
    expect(out.error).toBeUndefined();
    expect(out.result.parsed).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].tools[0].function).toMatchObject({ strict: true, parameters: { additionalProperties: false } });
  });

  it('json_mode: response_format json_object; the parsed object', async () => {
    suite.env.upstream.script(answer({ content: '{"name": "Ada", "age": 36}' }));
    const out = await run({ op: 'structured', model: MODEL, method: 'json_mode', messages: [['system', 'Answer in JSON with keys name and age.'], ['human', 'Ada is 36.']] });
    expect(out.error).toBeUndefined();
    expect(out.result.parsed).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toEqual({ type: 'json_object' });
  });
});

describe('ChatOpenAI with use_responses_api=True', () => {
  const responses = { use_responses_api: true };
  const RESPONSES_USAGE = { input_tokens: 12, output_tokens: 5, total_tokens: 17 };

  it('invoke: POST /v1/responses, the Response as the AIMessage (content blocks, usage, the resp_ id); the upstream gets chat messages', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }));
    const out = await run({ op: 'invoke', model: MODEL, messages: [['system', 'Be brief.'], ['human', 'Hi']], options: responses });
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ content: [{ type: 'text', text: 'Hei!' }], usage_metadata: RESPONSES_USAGE, response_metadata: { model_name: MODEL, status: 'completed', id: expect.stringMatching(/^resp_/) } });
    expect(suite.env.upstream.calls[0].path).toBe('/v1/chat/completions');
    expect(sent()).toEqual([{ model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] }]);
  });

  it('stream: the text and the usage from the typed events', async () => {
    suite.env.upstream.script(streamed(['Hei ', 'på ', 'deg!']));
    const out = await run({ op: 'stream', model: MODEL, messages: [['human', 'Hi']], options: responses });
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ content: [{ type: 'text', text: 'Hei på deg!' }], usage_metadata: RESPONSES_USAGE, response_metadata: { status: 'completed' } });
    expect(sent()).toEqual([{ model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } }]);
  });

  it('bind_tools round trip: the function_call item as AIMessage.tool_calls, the ToolMessage back as function_call_output', async () => {
    suite.env.upstream.script(answer({ tool_calls: [OSLO] }, 'tool_calls'), answer({ content: 'It is 3 °C in Oslo.' }));
    const out = await run({ op: 'tools', model: MODEL, messages: [['human', 'Weather in Oslo?']], bind: { strict: true, parallel_tool_calls: false }, toolResult: '{"temp_c": 3}', options: responses });
    expect(out.error).toBeUndefined();
    expect(out.result.first.tool_calls).toEqual([{ name: 'GetWeather', args: { city: 'Oslo' }, id: 'call_oslo', type: 'tool_call' }]);
    expect(out.result.final.content).toMatchObject([{ type: 'text', text: 'It is 3 °C in Oslo.' }]);
    const tool = { type: 'function', function: { ...GET_WEATHER, strict: true, parameters: { ...GET_WEATHER.parameters, additionalProperties: false } } };
    expect(sent()[0]).toEqual({ model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools: [tool], parallel_tool_calls: false });
    expect(sent()[1].messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: null, tool_calls: [OSLO] },
      { role: 'tool', tool_call_id: 'call_oslo', content: '{"temp_c": 3}' },
    ]);
  });

  it('with_structured_output (json_schema): text.format mapped to response_format, the parsed object', async () => {
    suite.env.upstream.script(answer({ content: '{"name":"Ada","age":36}' }));
    const out = await run({ op: 'structured', model: MODEL, method: 'json_schema', messages: [['human', 'Ada is 36.']], options: responses });
    expect(out.error).toBeUndefined();
    expect(out.result.parsed).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Person', strict: true, schema: { required: ['name', 'age'], additionalProperties: false } } });
  });
});

describe('less common parameters and inputs (probes: all passed as first written)', () => {
  it('logprobs and top_logprobs: sent on, the logprobs in response_metadata; streamed, logprobs sent on too', async () => {
    const top = [{ token: 'Hei', logprob: -0.5, bytes: [72, 101, 105] }, { token: 'Hi', logprob: -1.5, bytes: [72, 105] }];
    const body = answer({ content: 'Hei' }).body as any;
    suite.env.upstream.script({ body: { ...body, choices: [{ ...body.choices[0], logprobs: { content: [{ ...top[0], top_logprobs: top }], refusal: null } }] } }, streamed(['Hei']));
    const out = await run({ op: 'invoke', model: MODEL, messages: [['human', 'Hi']], options: { logprobs: true, top_logprobs: 2 } });
    expect(out.error).toBeUndefined();
    expect(out.result.response_metadata.logprobs).toEqual({ content: [{ ...top[0], top_logprobs: top }], refusal: null });
    const streamedOut = await run({ op: 'stream', model: MODEL, messages: [['human', 'Hi']], options: { logprobs: true } });
    expect(streamedOut.error).toBeUndefined();
    expect(sent()).toEqual([
      { model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Hi' }], stream: false, logprobs: true, top_logprobs: 2 },
      { model: 'gpt-4o-mini', ...TENANT_KEY, messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true }, logprobs: true },
    ]);
  });

  it('n=2: sent on; invoke gives the first choice', async () => {
    const body = answer({ content: 'Blue.' }).body as any;
    suite.env.upstream.script({ body: { ...body, choices: [body.choices[0], { ...body.choices[0], index: 1, message: { ...body.choices[0].message, content: 'Green.' } }] } });
    const out = await run({ op: 'invoke', model: MODEL, messages: [['human', 'A colour?']], options: { n: 2 } });
    expect(out.error).toBeUndefined();
    expect(out.result.content).toBe('Blue.');
    expect(sent()[0]).toMatchObject({ n: 2 });
  });

  it('seed, service_tier and model_kwargs reach OpenAI (metadata without store kept from it, as OpenAI refuses that); store: true is kept by the gateway, never sent on', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }), answer({ content: 'Hei!' }));
    const out = await run({ op: 'invoke', model: MODEL, messages: [['human', 'Hi']], options: { seed: 7, service_tier: 'flex', model_kwargs: { user: 'end-user-9', metadata: { app: 'rag' }, prompt_cache_key: 'k1', safety_identifier: 'u9' } } });
    expect(out.error).toBeUndefined();
    expect(sent()).toEqual([{ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: false, seed: 7, service_tier: 'flex', user: tenantEndUserId('acme', 'end-user-9'), prompt_cache_key: tenantPromptCacheKey('acme', 'k1'), safety_identifier: tenantEndUserId('acme', 'u9') }]);
    const stored = await run({ op: 'invoke', model: MODEL, messages: [['human', 'Hi']], options: { store: true } });
    expect(stored.error).toBeUndefined();
    expect(sent()).toHaveLength(2);
    expect(sent()[1]).not.toHaveProperty('store');
  });

  it('reasoning_effort to a reasoning model; extra_body (vLLM\'s top_k, chat_template_kwargs) to an openai-compatible server', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }), answer({ content: 'Hei!' }));
    const a = await run({ op: 'invoke', model: 'openai-compatible/reasoner', messages: [['human', 'Hi']], options: { reasoning_effort: 'low', max_tokens: 256 } });
    const b = await run({ op: 'invoke', model: 'openai-compatible/default', messages: [['human', 'Hi']], options: { extra_body: { top_k: 5, chat_template_kwargs: { enable_thinking: false } }, max_tokens: 32 } });
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(sent()).toEqual([
      { model: 'o-reasoner', messages: [{ role: 'user', content: 'Hi' }], stream: false, max_completion_tokens: 256, reasoning_effort: 'low' },
      { model: 'default', messages: [{ role: 'user', content: 'Hi' }], stream: false, max_completion_tokens: 32, top_k: 5, chat_template_kwargs: { enable_thinking: false } },
    ]);
  });

  it('structured output streamed (json_schema, then json_mode) and include_raw', async () => {
    suite.env.upstream.script(streamed(['{"name":"Ada",', '"age":36}']), streamed(['{"name": "Ada",', ' "age": 36}']), answer({ content: '{"name":"Ada","age":36}' }));
    const a = await run({ op: 'structured', model: MODEL, method: 'json_schema', stream: true, messages: [['human', 'Ada is 36.']] });
    const j = await run({ op: 'structured', model: MODEL, method: 'json_mode', stream: true, messages: [['system', 'Answer in JSON.'], ['human', 'Ada is 36.']] });
    const b = await run({ op: 'structured', model: MODEL, method: 'json_schema', includeRaw: true, messages: [['human', 'Ada is 36.']] });
    for (const out of [a, j, b]) expect(out.result?.parsed, JSON.stringify(out.error)).toEqual({ name: 'Ada', age: 36 });
    expect(b.result.raw).toMatchObject({ content: '{"name":"Ada","age":36}', usage_metadata: USAGE_METADATA });
    expect(sent()[0]).toMatchObject({ stream: true, stream_options: { include_usage: true }, response_format: { type: 'json_schema', json_schema: { name: 'Person', strict: true } } });
    expect(sent()[1]).toMatchObject({ stream: true, response_format: { type: 'json_object' } });
  });

  it('a refusal under json_schema: LangChain\'s OpenAIRefusalError with the model\'s words', async () => {
    suite.env.upstream.script(answer({ content: null, refusal: "I can't help with that." }));
    const out = await run({ op: 'structured', model: MODEL, method: 'json_schema', messages: [['human', 'Ada is 36.']] });
    expect(out.error).toMatchObject({ type: 'OpenAIRefusalError', message: "I can't help with that." });
  });

  it('image and PDF content blocks (LangChain\'s standard blocks) reach the upstream as image_url and file parts', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
    const pdf = Buffer.from('%PDF-1.4 hello').toString('base64');
    suite.env.upstream.script(answer({ content: 'A pixel.' }), answer({ content: 'A pdf.' }));
    const a = await run({ op: 'invoke', model: MODEL, messages: [['human', [{ type: 'text', text: 'What is it?' }, { type: 'image', base64: png, mime_type: 'image/png' }] as never]] });
    const b = await run({ op: 'invoke', model: MODEL, messages: [['human', [{ type: 'text', text: 'What is it?' }, { type: 'file', base64: pdf, mime_type: 'application/pdf', filename: 'a.pdf' }] as never]] });
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(sent().map((x) => x.messages[0].content[1])).toEqual([
      { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
      { type: 'file', file: { file_data: `data:application/pdf;base64,${pdf}`, filename: 'a.pdf' } },
    ]);
  });

  it.each([false, true])('Responses API, a conversation (use_previous_response_id=%s): the stored or resent history reaches the upstream whole', async (previous) => {
    suite.env.upstream.script(answer({ content: 'Hei!' }), answer({ content: 'Ada.' }));
    const out = await run({ op: 'turns', model: MODEL, turns: ['Hi, I am Ada.', 'What is my name?'], options: { use_responses_api: true, use_previous_response_id: previous } });
    expect(out.error).toBeUndefined();
    expect(out.result.map((m: any) => m.content[0].text)).toEqual(['Hei!', 'Ada.']);
    expect(sent()[1].messages).toEqual([{ role: 'user', content: 'Hi, I am Ada.' }, { role: 'assistant', content: 'Hei!' }, { role: 'user', content: 'What is my name?' }]);
  });

  it('Responses API, a reasoning model: reasoning items in the AIMessage, sent back on the next turn (and taken)', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!', reasoning_content: 'The user greets.' }), answer({ content: 'Ada.', reasoning_content: 'Name is Ada.' }));
    const out = await run({ op: 'turns', model: 'openai-compatible/reasoner', turns: ['Hi, I am Ada.', 'What is my name?'], options: { use_responses_api: true, reasoning: { effort: 'low' } } });
    expect(out.error).toBeUndefined();
    expect(out.result[0].content).toMatchObject([{ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'The user greets.' }] }, { type: 'text', text: 'Hei!' }]);
    expect(sent()[1]).toEqual({ model: 'o-reasoner', reasoning_effort: 'low', messages: [{ role: 'user', content: 'Hi, I am Ada.' }, { role: 'assistant', content: 'Hei!' }, { role: 'user', content: 'What is my name?' }] });
  });

  it('Responses API, LangChain\'s documented reasoning={"effort": "medium", "summary": "auto"}: served (no summarizer, the reasoning item\'s summary empty); "detailed" a 400 naming reasoning.summary', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!', reasoning_content: 'The user greets.' }));
    const out = await run({ op: 'invoke', model: 'openai-compatible/reasoner', messages: [['human', 'Hi']], options: { use_responses_api: true, reasoning: { effort: 'medium', summary: 'auto' } } });
    expect(out.error).toBeUndefined();
    expect(out.result.content).toMatchObject([{ type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'The user greets.' }] }, { type: 'text', text: 'Hei!' }]);
    expect(sent()).toEqual([{ model: 'o-reasoner', reasoning_effort: 'medium', messages: [{ role: 'user', content: 'Hi' }] }]);
    const detailed = await run({ op: 'invoke', model: 'openai-compatible/reasoner', messages: [['human', 'Hi']], options: { use_responses_api: true, reasoning: { effort: 'medium', summary: 'detailed' } } });
    expect(detailed.error).toMatchObject({ status: 400, body: { param: 'reasoning.summary', code: 'unsupported_parameter' } });
    expect(sent()).toHaveLength(1);
  });

  it.each([undefined, false])('Responses API, a reasoning model\'s tool loop (store %s)', async (store) => {
    suite.env.upstream.script(answer({ reasoning_content: 'Need weather.', tool_calls: [OSLO] }, 'tool_calls'), answer({ content: 'It is 3 °C in Oslo.' }));
    const out = await run({ op: 'tools', model: 'openai-compatible/reasoner', messages: [['human', 'Weather in Oslo?']], toolResult: '{"temp_c": 3}', options: { use_responses_api: true, reasoning: { effort: 'low' }, ...(store === undefined ? {} : { store }) } });
    expect(out.error).toBeUndefined();
    expect(out.result.final.content).toMatchObject([{ type: 'text', text: 'It is 3 °C in Oslo.' }]);
    expect(sent()[1].messages.slice(1)).toEqual([{ role: 'assistant', content: null, tool_calls: [OSLO] }, { role: 'tool', tool_call_id: 'call_oslo', content: '{"temp_c": 3}' }]);
  });

  it('Responses API, a streamed tool call (tool_choice="any" sent as required): the tool call summed from the chunks', async () => {
    suite.env.upstream.script(streamed([], OSLO));
    const out = await run({ op: 'stream', model: MODEL, messages: [['human', 'Weather in Oslo?']], bind: { tool_choice: 'any' }, options: { use_responses_api: true } });
    expect(out.error).toBeUndefined();
    expect(out.result.tool_calls).toEqual([{ name: 'GetWeather', args: { city: 'Oslo' }, id: 'call_oslo', type: 'tool_call' }]);
    expect(sent()[0]).toMatchObject({ tool_choice: 'required', stream: true });
  });

  it('Responses API, what the gateway does not serve is a 400 naming the field: truncation "auto" for a model without a catalog contextWindow, include reasoning.encrypted_content for OpenAI\'s non-reasoning gpt-4o-mini', async () => {
    const t = await run({ op: 'invoke', model: MODEL, messages: [['human', 'Hi']], options: { use_responses_api: true, truncation: 'auto' } });
    expect(t.error).toMatchObject({ status: 400, type: 'OpenAIInvalidRequestError', body: { param: 'truncation', code: 'unsupported_parameter' } });
    const i = await run({ op: 'invoke', model: 'openai/gpt-4o-mini', messages: [['human', 'Hi']], options: { use_responses_api: true, include: ['reasoning.encrypted_content'], store: false } });
    expect(i.error).toMatchObject({ status: 400, body: { param: 'include', code: null, message: 'Encrypted content is not supported with this model.' } });
    expect(sent()).toHaveLength(0);
  });
});

/** A vector per embedding input, float32-exact: its first four token ids (a string input: its cl100k ids), zeros after. */
const vectorOf = (input: string | number[]) => {
  const ids = typeof input === 'string' ? cl100k(input) : input;
  return [0, 1, 2, 3].map((k) => ids[k] ?? 0);
};
const embeddingsAnswer = (call: UpstreamCall): ScriptedJson => {
  const inputs: Array<string | number[]> = typeof call.body.input === 'string' || typeof call.body.input[0] === 'number' ? [call.body.input] : call.body.input;
  return { body: { object: 'list', model: 'text-embedding-3-small', data: inputs.map((input, index) => ({ object: 'embedding', index, embedding: vectorOf(input) })), usage: { prompt_tokens: 3 * inputs.length, total_tokens: 3 * inputs.length } } };
};

describe('OpenAIEmbeddings', () => {
  const texts = Array.from({ length: 2500 }, (_, i) => `document number ${i}`);

  it('embed_documents with the defaults (check_embedding_ctx_length): tiktoken cl100k_base token ids, 1000 inputs a request, the vectors in order', async () => {
    suite.env.upstream.script(embeddingsAnswer, embeddingsAnswer, embeddingsAnswer);
    const out = await run({ op: 'embed_documents', model: EMBEDDING.id, texts });
    expect(out.error).toBeUndefined();
    expect(sent().map((b) => b.input.length)).toEqual([1000, 1000, 500]);
    expect(sent()[0]).toMatchObject({ model: 'text-embedding-3-small', input: texts.slice(0, 1000).map((t) => cl100k(t)) });
    expect(out.result).toEqual(texts.map(vectorOf));
  });

  // OpenAI takes LangChain's default batch of 1000 such texts (~250k tokens, under its 300,000); the gateway's 1 MiB does
  // not, so its 413 gives the chunk_size that does. Until 2026-12-07 it said "a smaller chunk_size", and no number.
  it('embed_documents with the defaults on 1000 texts of ~250 tokens: the 413 names a chunk_size, and with it every text is embedded, each request under the limit', async () => {
    const prose = 'The committee reviewed the quarterly figures and agreed to revisit the budget in spring. ';
    const long = Array.from({ length: 1000 }, (_, i) => `Minutes ${i}. ${prose.repeat(16)}`);
    const refused = await run({ op: 'embed_documents', model: EMBEDDING.id, texts: long });
    expect(refused.error).toMatchObject({ status: 413, body: { code: 'request_too_large', message: expect.stringContaining('over the limit of 1048576 bytes') } });
    expect(sent()).toEqual([]);
    const advised = /chunk_size=(\d+) keeps its requests under this limit for texts of up to 1,000 tokens/.exec(refused.error!.body.message);
    expect(advised, refused.error!.body.message).not.toBeNull();
    const chunkSize = Number(advised![1]);
    expect(chunkSize).toBe(149);
    suite.env.upstream.script(...Array.from({ length: Math.ceil(1000 / chunkSize) }, () => embeddingsAnswer));
    const out = await run({ op: 'embed_documents', model: EMBEDDING.id, texts: long, options: { chunk_size: chunkSize } });
    expect(out.error).toBeUndefined();
    expect(sent().map((b) => b.input.length)).toEqual([149, 149, 149, 149, 149, 149, 106]);
    expect(out.result).toEqual(long.map(vectorOf));
  });

  it('embed_documents with check_embedding_ctx_length=False: the strings, chunk_size a request', async () => {
    suite.env.upstream.script(embeddingsAnswer, embeddingsAnswer, embeddingsAnswer);
    const out = await run({ op: 'embed_documents', model: EMBEDDING.id, texts: texts.slice(0, 5), options: { check_embedding_ctx_length: false, chunk_size: 2 } });
    expect(out.error).toBeUndefined();
    expect(sent().map((b) => b.input)).toEqual([texts.slice(0, 2), texts.slice(2, 4), texts.slice(4, 5)]);
    expect(out.result).toEqual(texts.slice(0, 5).map(vectorOf));
  });

  it('embed_query: one input; a text over embedding_ctx_length goes in pieces, averaged by LangChain', async () => {
    suite.env.upstream.script(embeddingsAnswer, embeddingsAnswer);
    const q = await run({ op: 'embed_query', model: EMBEDDING.id, text: 'Where is Oslo?' });
    expect(q.error).toBeUndefined();
    expect(sent()[0].input).toEqual([cl100k('Where is Oslo?')]);
    expect(q.result).toEqual(vectorOf('Where is Oslo?'));
    const long = 'one two three four five six seven eight';
    const ids = cl100k(long);
    const l = await run({ op: 'embed_query', model: EMBEDDING.id, text: long, options: { embedding_ctx_length: 4, dimensions: 4 } });
    expect(l.error).toBeUndefined();
    expect(sent()[1]).toMatchObject({ input: [ids.slice(0, 4), ids.slice(4, 8)], dimensions: 4 });
    expect(l.result).toHaveLength(4);
  });
});

/**
 * LangChain's defaults on a model tiktoken does not know send cl100k ids (its fallback encoding). A `huggingface`
 * model takes no tiktoken ids (the Inference API's inputs are text; a TEI endpoint decodes ids with its own WordPiece
 * vocabulary, where cl100k's ids are other words): the gateway decodes them with the entry's tokenizer (cl100k_base by
 * default) and sends the texts, as LiteLLM's proxy does. Before 2026-12-06 the ids went through, answered 200 with
 * vectors of other text. `openai-compatible` relays them (vLLM and TEI take ids for their own tokenizer).
 */
describe('OpenAIEmbeddings (defaults: cl100k ids) on Hugging Face and openai-compatible embedding models', () => {
  const texts = ['The CFO reported Q3 revenue of 41.2 million.', 'naïve café — 東京'];

  it('huggingface: embed_documents and embed_query reach the upstream as their texts, the audit naming cl100k_base', async () => {
    suite.env.upstream.script(embeddingsAnswer, embeddingsAnswer);
    const docs = await run({ op: 'embed_documents', model: HF_EMBEDDING.id, texts });
    expect(docs.error).toBeUndefined();
    const q = await run({ op: 'embed_query', model: HF_EMBEDDING.id, text: 'Where is Oslo?' });
    expect(q.error).toBeUndefined();
    expect(sent().map((b) => [b.model, b.input])).toEqual([['BAAI/bge-small-en-v1.5', texts], ['BAAI/bge-small-en-v1.5', ['Where is Oslo?']]]);
    expect(docs.result).toEqual(texts.map(vectorOf));
    const audit = suite.env.gw.audit.records.filter((a) => a.path === '/v1/embeddings').at(-1)!;
    expect(audit).toMatchObject({ status: 200, model: HF_EMBEDDING.id, detail: { tokenIdsDecodedWith: 'cl100k_base' } });
  });

  // Until session 41 the ids went on untouched, and a BGE server embedded other words than the texts, answered 200.
  it('openai-compatible without a tokenizer: 400 unknown_token_vocabulary naming input, nothing sent; with check_embedding_ctx_length=False the texts', async () => {
    const refused = await run({ op: 'embed_documents', model: VLLM_EMBEDDING.id, texts });
    expect(refused.error).toMatchObject({ status: 400, type: 'BadRequestError', body: { param: 'input', type: 'invalid_request_error', code: 'unknown_token_vocabulary' } });
    expect(sent()).toEqual([]);
    suite.env.upstream.script(embeddingsAnswer);
    const asText = await run({ op: 'embed_documents', model: VLLM_EMBEDDING.id, texts, options: { check_embedding_ctx_length: false } });
    expect(asText.error).toBeUndefined();
    expect(sent().map((b) => b.input)).toEqual([texts]);
  });

  it('openai-compatible with tokenizer: cl100k_base (a proxy in front of OpenAI\'s models): the ids relayed untouched', async () => {
    suite.env.upstream.script(embeddingsAnswer);
    const relayed = await run({ op: 'embed_documents', model: PROXIED_EMBEDDING.id, texts });
    expect(relayed.error).toBeUndefined();
    expect(sent().map((b) => [b.model, b.input])).toEqual([['text-embedding-3-small', texts.map((t) => cl100k(t))]]);
  });
});

describe('OpenAIEmbeddings: an empty text', () => {
  // LangChain embeds a text of no tokens by calling create(input="") (its "empty embedding"); OpenAI refuses an empty
  // string ("cannot be an empty string", API reference), and so does the gateway, naming the field.
  it('is LangChain\'s input "", the 400 OpenAI answers, naming input', async () => {
    suite.env.upstream.script(embeddingsAnswer);
    const out = await run({ op: 'embed_documents', model: EMBEDDING.id, texts: ['alpha', ''] });
    expect(out.error).toMatchObject({ status: 400, type: 'BadRequestError', body: { param: 'input', type: 'invalid_request_error' } });
    expect(sent()).toEqual([{ model: 'text-embedding-3-small', input: [cl100k('alpha')], encoding_format: 'base64' }]);
  });
});

describe('errors as LangChain raises them', () => {
  const ask: LangChainCall = { op: 'invoke', model: MODEL, messages: [['human', 'Hi']] };

  it('401: a bad key is openai.AuthenticationError (LangChain OpenAIAuthenticationError) with the status and message', async () => {
    const out = await run(ask, 'not-a-token');
    expect(out.error).toMatchObject({ status: 401, type: 'OpenAIAuthenticationError', openai_type: 'AuthenticationError', body: { type: 'invalid_request_error', code: 'invalid_api_key' } });
    expect(out.error!.message).toMatch(/^Error code: 401 - Incorrect API key provided: not-a-token\. /);
    expect(sent()).toHaveLength(0);
  });

  // LangChain looks for "context_length_exceeded" in str(e) to raise its context-overflow error; openai 3.x puts only
  // `error.message` in str(e), so against OpenAI itself too this is the plain invalid-request error, the code kept in the body.
  it('400 from the upstream, context_length_exceeded: openai.BadRequestError with the status, the message and OpenAI\'s code', async () => {
    suite.env.upstream.script({ status: 400, body: { error: { message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } });
    const out = await run(ask);
    expect(out.error).toMatchObject({ status: 400, type: 'OpenAIInvalidRequestError', openai_type: 'BadRequestError', body: { type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' } });
    expect(out.error!.message).toBe("Error code: 400 - This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.");
  });

  it('400: the gateway\'s own refusal (top_logprobs over OpenAI\'s 20) names the field and the value; nothing reaches the upstream', async () => {
    const out = await run({ ...ask, options: { logprobs: true, top_logprobs: 25 } });
    expect(out.error).toMatchObject({ status: 400, type: 'OpenAIInvalidRequestError', openai_type: 'BadRequestError', body: { type: 'invalid_request_error', param: 'top_logprobs', message: expect.stringContaining('25') } });
    expect(sent()).toHaveLength(0);
  });

  const throttled = { status: 429, headers: { 'retry-after-ms': '20' }, body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };
  it('429: openai.RateLimitError (LangChain OpenAIRateLimitError); with max_retries LangChain calls again and gets the answer', async () => {
    suite.env.upstream.script(throttled, throttled);
    const out = await run(ask);
    expect(out.error).toMatchObject({ status: 429, type: 'OpenAIRateLimitError', openai_type: 'RateLimitError', body: { code: 'rate_limit_exceeded', message: expect.stringContaining('Rate limit reached') } });
    suite.env.upstream.reset();
    suite.env.upstream.script(throttled, throttled, answer({ content: 'Hei!' }));
    const retried = await run({ ...ask, options: { max_retries: 1 } });
    expect(retried.error).toBeUndefined();
    expect(retried.result.content).toBe('Hei!');
    expect(sent()).toHaveLength(3); // the gateway's two attempts, then LangChain's retry
  });

  it('500 upstream: openai.InternalServerError (LangChain OpenAIAPIError), 502; LangChain\'s retries do not multiply the upstream calls', async () => {
    const failure = { status: 500, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } } };
    suite.env.upstream.script(failure, failure, failure, failure, failure, failure);
    const out = await run({ ...ask, options: { max_retries: 2 } });
    expect(out.error).toMatchObject({ status: 502, type: 'OpenAIAPIError', openai_type: 'InternalServerError', body: { code: 'upstream_error', message: expect.stringContaining('The server had an error') } });
    expect(out.error!.headers['x-should-retry']).toBe('false');
    expect(sent()).toHaveLength(2);
  });
});
