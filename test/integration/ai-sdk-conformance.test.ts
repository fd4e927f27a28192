import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, Output, embed, embedMany, generateText, stepCountIs, streamText, tool, type LanguageModel } from 'ai';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { tenantPromptCacheKey } from '../../lambdas/inference/providers/tenant-cache-key.js';
import { tenantEndUserId } from '../../lambdas/inference/providers/tenant-end-user.js';
import { conformanceConfig, withOpenAIAlias } from '../support/gateway-config.js';
import { openAiAnswer, openAiChunks } from './gateway-conformance/matrix.js';
import { bedrockRoute, relayRoute, type ScenarioRoute } from './gateway-conformance/scenario-routes.js';
import { mockProviderSdks, useConformanceGateway } from './gateway-conformance/setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * The Vercel AI SDK (`ai` 7.0.173) against `tessera serve`, as applications run it: `@ai-sdk/openai`
 * 4.0.118's `createOpenAI({ baseURL, apiKey })` with `openai(model)` (the Responses API) and
 * `openai.chat(model)` (chat completions), and `@ai-sdk/openai-compatible` 3.0.92's
 * `createOpenAICompatible(...)` (chat completions). generateText, streamText (textStream, fullStream,
 * usage, finishReason), a two-step tool loop, structured output, embeddings, errors as `APICallError`
 * (whole, and an upstream failure mid-stream) and an aborted stream; the less common
 * `providerOptions.openai` settings, passed on, mapped or refused with a 400 naming the field; on the
 * OpenAI-shaped relay (the fake upstream, scripted) and on Bedrock (Converse mocked at the AWS SDK).
 * Each test asserts what the application saw and what reached the provider. docs/gateway.md: The
 * Vercel AI SDK.
 */
const { bedrock } = mockProviderSdks();

const embedding = (id: string, upstream: string) => ({ id, upstream, kind: 'embedding' as const, inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 });
const config = () => {
  const c = conformanceConfig();
  // gpt-5.4-mini: the README's default model, a reasoning model by OpenAI's bare id (the SDK knows it as one).
  return withOpenAIAlias({ ...c, gateway: { ...c.gateway, models: [...c.gateway.models, embedding('openai/text-embedding-3-small', 'text-embedding-3-small')] } }, 'gpt-5.4-mini');
};
const suite = useConformanceGateway(async () => ({ stop: async () => {} }), { config: config() });

/** The three ways an app makes a language model of the gateway. */
const APIS = ['responses', 'chat', 'compatible'] as const;
type Api = (typeof APIS)[number];

/** The AI SDK's model for `id` through `api`; `includeUsage` on the OpenAI-compatible provider (its streams report usage only then). */
function modelOf(api: Api, id: string, settings: { headers?: Record<string, string>; supportsStructuredOutputs?: boolean } = {}): LanguageModel {
  const { url } = suite.env.gw;
  const apiKey = suite.env.tokens.acme;
  if (api === 'compatible') return createOpenAICompatible({ name: 'tessera', baseURL: url, apiKey, includeUsage: true, ...settings })(id);
  const openai = createOpenAI({ baseURL: url, apiKey, headers: settings.headers });
  return api === 'responses' ? openai(id) : openai.chat(id);
}

// ---------------------------------------------------------------------------------------------
// The providers behind the gateway


const RELAY = relayRoute('openai-compatible relay', 'openai-compatible/default', () => suite.env.upstream);
const BEDROCK = bedrockRoute(bedrock);
const ROUTES = [RELAY, BEDROCK];

const cells = ROUTES.flatMap((route) => APIS.map((api) => ({ route, api })));
const relayCells = APIS.map((api) => ({ route: RELAY, api }));

const SYSTEM = 'You are terse.';
const PROMPT = 'Say hello in Norwegian.';
const HELLO = 'Hei! Hyggelig å møte deg.';

/** What the provider must have got of the system prompt, the prompt and the sampling settings (temperature 0.2, top_p 0.9, 64 output tokens). */
function expectTextRequest(route: ScenarioRoute, api: Api, sent: Record<string, any>, streamed: boolean): void {
  if (route === BEDROCK) {
    expect(sent).toMatchObject({ modelId: 'amazon.nova-lite-v1:0', system: [{ text: SYSTEM }], messages: [{ role: 'user', content: [{ text: PROMPT }] }], inferenceConfig: { temperature: 0.2, topP: 0.9, maxTokens: 64 } });
    return;
  }
  // The Responses API's input parts become chat content parts; chat providers send the prompt as a string.
  const user = api === 'responses' ? { role: 'user', content: [{ type: 'text', text: PROMPT }] } : { role: 'user', content: PROMPT };
  expect(sent).toEqual({
    model: 'default', messages: [{ role: 'system', content: SYSTEM }, user], temperature: 0.2, top_p: 0.9,
    ...(api === 'responses' ? { max_completion_tokens: 64 } : { max_tokens: 64 }),
    ...(streamed ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

const ask = { system: SYSTEM, prompt: PROMPT, temperature: 0.2, topP: 0.9, maxOutputTokens: 64, maxRetries: 0 };

describe('the Vercel AI SDK against the gateway', () => {
  it.each(cells)('generateText: the answer, usage and finishReason ($route.name · $api)', async ({ route, api }) => {
    // GIVEN the provider's text answer
    route.script('text', false);

    // WHEN the app generates text
    const out = await generateText({ model: modelOf(api, route.model), ...ask });

    // THEN it sees the answer, a stop and the provider's usage, without warnings
    expect(out.text).toBe(HELLO);
    expect(out.finishReason).toBe('stop');
    expect(out.usage).toMatchObject(route.usage);
    expect(out.warnings).toEqual([]);
    expect(out.response.modelId).toBe(route.model);

    // AND the provider got the system prompt, the prompt and every setting
    expect(route.sent()).toHaveLength(1);
    expectTextRequest(route, api, route.sent()[0], false);
  });

  it.each(cells)('streamText: textStream and fullStream, usage and finishReason ($route.name · $api)', async ({ route, api }) => {
    // GIVEN the provider's streamed text answer
    route.script('text', true);
    route.script('text', true);

    // WHEN the app streams text, once read through textStream and once through fullStream
    const errors: unknown[] = [];
    const first = streamText({ model: modelOf(api, route.model), ...ask, onError: ({ error }) => void errors.push(error) });
    let text = '';
    for await (const delta of first.textStream) text += delta;
    const second = streamText({ model: modelOf(api, route.model), ...ask, onError: ({ error }) => void errors.push(error) });
    const parts: any[] = [];
    for await (const part of second.fullStream) parts.push(part);

    // THEN both read the whole answer, with a stop and the provider's usage
    expect(errors).toEqual([]);
    expect(text).toBe(HELLO);
    expect(await first.finishReason).toBe('stop');
    expect(await first.usage).toMatchObject(route.usage);
    const types = parts.map((p) => p.type).filter((t, i, all) => !(t === 'text-delta' && all[i - 1] === t));
    expect(types).toEqual(['start', 'start-step', 'text-start', 'text-delta', 'text-end', 'finish-step', 'finish']);
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => p.text).join('')).toBe(HELLO);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', totalUsage: route.usage });
    expect(await second.usage).toMatchObject(route.usage);

    // AND the provider got the same request as a stream
    expect(route.sent()).toHaveLength(2);
    expectTextRequest(route, api, route.sent()[0], true);
  });

  const weather = () => ({
    get_weather: tool({
      description: 'Current weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }: { city: string }) => ({ temp_c: 3, sky: 'sunny', city }),
    }),
  });
  const TOOL_RESULT = '{"temp_c":3,"sky":"sunny","city":"Oslo"}';

  it.each(cells.flatMap((c) => [{ ...c, streamed: false }, { ...c, streamed: true }]))('a two-step tool loop: the model calls the tool, the SDK sends its result back, the model answers ($route.name · $api · streamed $streamed)', async ({ route, api, streamed }) => {
    // GIVEN a provider that calls get_weather, then answers with what it returned
    route.script('one tool call', streamed);
    route.script('tool-result turn', streamed);

    // WHEN the app runs the loop (stopWhen: stepCountIs(3))
    const settings = { model: modelOf(api, route.model), prompt: 'What is the weather in Oslo?', tools: weather(), stopWhen: stepCountIs(3), maxRetries: 0 };
    let text: string;
    let steps: any[];
    if (streamed) {
      const errors: unknown[] = [];
      const out = streamText({ ...settings, onError: ({ error }) => void errors.push(error) });
      const types: string[] = [];
      for await (const part of out.fullStream) types.push(part.type);
      expect(errors).toEqual([]);
      expect(types).toEqual(expect.arrayContaining(['tool-input-start', 'tool-input-delta', 'tool-input-end', 'tool-call', 'tool-result', 'text-delta']));
      [text, steps] = [await out.text, await out.steps];
    } else {
      const out = await generateText(settings);
      [text, steps] = [out.text, out.steps];
    }

    // THEN it ran the tool with the model's arguments and reached the answer in two steps
    const callId = route === BEDROCK ? 'tooluse_oslo' : 'call_oslo';
    expect(text).toMatch(/It is 3 °C\s?and sunny in Oslo\./);
    expect(steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(steps[0].toolCalls).toMatchObject([{ toolCallId: callId, toolName: 'get_weather', input: { city: 'Oslo' } }]);
    expect(steps[0].toolResults).toMatchObject([{ toolCallId: callId, output: { temp_c: 3, sky: 'sunny', city: 'Oslo' } }]);

    // AND the provider got the tool in the first call, the call and its result in the second
    const sent = route.sent();
    expect(sent).toHaveLength(2);
    if (route === BEDROCK) {
      expect(sent[0].toolConfig.tools).toMatchObject([{ toolSpec: { name: 'get_weather', description: 'Current weather in a city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } } }]);
      expect(sent[1].messages.slice(1)).toEqual([
        { role: 'assistant', content: [{ toolUse: { toolUseId: callId, name: 'get_weather', input: { city: 'Oslo' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: callId, content: [{ text: TOOL_RESULT }] } }] },
      ]);
    } else {
      expect(sent[0]).toMatchObject({ tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }], tool_choice: 'auto' });
      expect(sent[1].messages.slice(1)).toEqual([
        { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: callId, content: TOOL_RESULT },
      ]);
    }
  });

  const Weather = z.object({ city: z.string(), temp_c: z.number() });

  it.each(relayCells)('structured output (Output.object with a zod schema): the parsed object; json_schema reaches the upstream strict ($api)', async ({ api }) => {
    // GIVEN the upstream's JSON answer
    RELAY.script('json_schema answer', false);

    // WHEN the app asks for an object (the OpenAI-compatible provider sends json_schema when told the server supports it)
    const out = await generateText({ model: modelOf(api, RELAY.model, { supportsStructuredOutputs: true }), prompt: 'The weather in Oslo, as JSON.', output: Output.object({ schema: Weather }), maxRetries: 0 });

    // THEN it sees the object
    expect(out.output).toEqual({ city: 'Oslo', temp_c: 3 });

    // AND the upstream got the schema as json_schema, strict
    expect(RELAY.sent()[0].response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'response', strict: true, schema: expect.objectContaining({ type: 'object', properties: { city: { type: 'string' }, temp_c: { type: 'number' } }, required: ['city', 'temp_c'], additionalProperties: false }) },
    });
  });

  it.each(relayCells)('embed and embedMany, with dimensions: the vectors and usage; the upstream got the texts and dimensions ($api)', async ({ api }) => {
    // GIVEN the upstream's vectors
    const vector = (i: number, width: number) => Array.from({ length: width }, (_, k) => (i + 1) / 8 + k / 4);
    suite.env.upstream.script(...[1, 2].map(() => (call: any) => ({ body: { object: 'list', model: call.body.model, data: [].concat(call.body.input).map((_, index) => ({ object: 'embedding', index, embedding: vector(index, call.body.dimensions ?? 4) })), usage: { prompt_tokens: 6, total_tokens: 6 } } })));
    const model = api === 'compatible'
      ? createOpenAICompatible({ name: 'tessera', baseURL: suite.env.gw.url, apiKey: suite.env.tokens.acme }).embeddingModel('openai/text-embedding-3-small')
      : createOpenAI({ baseURL: suite.env.gw.url, apiKey: suite.env.tokens.acme }).embedding('openai/text-embedding-3-small');
    const providerOptions = { openai: { dimensions: 3 }, tessera: { dimensions: 3 } };

    // WHEN the app embeds one text, then two with 3 dimensions
    const one = await embed({ model, value: 'alpha', maxRetries: 0 });
    const many = await embedMany({ model, values: ['alpha', 'beta'], providerOptions, maxRetries: 0 });

    // THEN it sees the upstream's vectors and usage
    expect(one.embedding).toEqual(vector(0, 4));
    expect(one.usage).toEqual({ tokens: 6 });
    expect(many.embeddings).toEqual([vector(0, 3), vector(1, 3)]);

    // AND the upstream got the texts (and the dimensions) as sent
    expect(suite.env.upstream.calls.map((c) => c.body)).toEqual([
      { model: 'text-embedding-3-small', input: ['alpha'], encoding_format: 'float' },
      { model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'float', dimensions: 3 },
    ]);
  });
});

describe('the less common settings: passed on, mapped, or refused by name', () => {
  /** The settings both @ai-sdk/openai models send of providerOptions.openai, and the upstream fields they must become. */
  const COMMON = { user: 'u-1', textVerbosity: 'low', logprobs: 2, promptCacheKey: 'k-1', safetyIdentifier: 's-1', promptCacheRetention: '24h', parallelToolCalls: false };
  const OPTIONS = {
    responses: { ...COMMON, store: false, metadata: { trace: 'abc' }, maxToolCalls: 3, truncation: 'disabled' },
    chat: { ...COMMON, logitBias: { 50256: -100 }, store: false, metadata: { trace: 'abc' }, prediction: { type: 'content', content: 'Hei' }, maxCompletionTokens: 50, reasoningEffort: 'low', serviceTier: 'default' },
  };
  // On the platform's key the prompt cache key and end-user ids go on scoped to the tenant (tenant-cache-key.ts, tenant-end-user.ts).
  const COMMON_SENT = { user: tenantEndUserId('acme', 'u-1'), verbosity: 'low', logprobs: true, top_logprobs: 2, prompt_cache_key: tenantPromptCacheKey('acme', 'k-1'), safety_identifier: tenantEndUserId('acme', 's-1'), prompt_cache_retention: '24h', parallel_tool_calls: false };
  const SENT = {
    // store, metadata and max_tool_calls describe the stored Response (kept by the gateway); truncation 'disabled' asks for nothing
    responses: { ...COMMON_SENT, max_completion_tokens: undefined },
    // store is never sent upstream (the gateway keeps a store: true completion itself)
    chat: { ...COMMON_SENT, logit_bias: { 50256: -100 }, store: undefined, metadata: { trace: 'abc' }, prediction: { type: 'content', content: 'Hei' }, max_completion_tokens: 50, reasoning_effort: 'low', service_tier: 'default' },
  };

  it.each(['responses', 'chat'] as const)('providerOptions.openai and headers reach the relay mapped onto chat completions (%s)', async (api) => {
    // GIVEN the upstream's answer
    RELAY.script('one tool call', false);

    // WHEN the app sends every setting (with a tool: parallel_tool_calls goes with tools only) and a header of its own
    const model = api === 'responses'
      ? createOpenAI({ baseURL: suite.env.gw.url, apiKey: suite.env.tokens.acme, headers: { 'x-app': 'demo' } })(RELAY.model)
      : createOpenAI({ baseURL: suite.env.gw.url, apiKey: suite.env.tokens.acme, headers: { 'x-app': 'demo' } }).chat(RELAY.model);
    const tools = { get_weather: tool({ description: 'Current weather in a city', inputSchema: z.object({ city: z.string() }) }) };
    const out = await generateText({ model, prompt: PROMPT, tools, maxRetries: 0, providerOptions: { openai: OPTIONS[api] as never } });

    // THEN the call succeeds without warnings, and the upstream got each setting as OpenAI's chat field
    expect(out.warnings).toEqual([]);
    expect(out.toolCalls).toMatchObject([{ toolName: 'get_weather', input: { city: 'Oslo' } }]);
    const sent = RELAY.sent()[0];
    for (const [field, value] of Object.entries(SENT[api])) expect(sent[field], field).toEqual(value);
    expect(suite.env.upstream.calls[0].headers['x-app']).toBeUndefined(); // the app's headers are the gateway's, not the upstream's
  });

  it('the OpenAI-compatible provider reads the upstream\'s reasoning_content as the answer\'s reasoning', async () => {
    suite.env.upstream.script({ body: { ...openAiAnswer('text'), choices: [{ index: 0, message: { role: 'assistant', content: 'Hei!', reasoning_content: 'A greeting, in Norwegian.' }, finish_reason: 'stop' }] } });
    const out = await generateText({ model: modelOf('compatible', RELAY.model), prompt: PROMPT, maxRetries: 0 });
    expect(out.text).toBe('Hei!');
    expect(out.reasoningText).toBe('A greeting, in Norwegian.');
  });

  const refusals = [
    { name: 'parallelToolCalls without tools (OpenAI refuses it too)', api: 'chat' as Api, route: RELAY, options: { openai: { parallelToolCalls: false } }, param: 'parallel_tool_calls' },
    { name: 'logitBias on Bedrock', api: 'chat' as Api, route: BEDROCK, options: { openai: { logitBias: { 50256: -100 } } }, param: 'logit_bias' },
    { name: 'prediction on Bedrock', api: 'chat' as Api, route: BEDROCK, options: { openai: { prediction: { type: 'content', content: 'Hei' } } }, param: 'prediction' },
    { name: 'textVerbosity on Bedrock', api: 'responses' as Api, route: BEDROCK, options: { openai: { textVerbosity: 'low' } }, param: 'text.verbosity' },
    { name: 'logprobs on Bedrock', api: 'responses' as Api, route: BEDROCK, options: { openai: { logprobs: 2 } }, param: 'include[0]' },
    { name: 'promptCacheKey on Bedrock', api: 'chat' as Api, route: BEDROCK, options: { openai: { promptCacheKey: 'k-1' } }, param: 'prompt_cache_key' },
  ];
  it.each(refusals)('refused with a 400 naming the field, nothing sent upstream: $name', async ({ api, route, options, param }) => {
    const e = await generateText({ model: modelOf(api, route.model), prompt: PROMPT, maxRetries: 0, providerOptions: options as never }).then(() => undefined, (err: unknown) => err);
    expect(APICallError.isInstance(e), String(e)).toBe(true);
    expect((e as APICallError).statusCode).toBe(400);
    expect(JSON.parse((e as APICallError).responseBody!).error).toMatchObject({ type: 'invalid_request_error', param });
    expect((e as APICallError).message).toContain(param);
    expect(route.sent()).toEqual([]);
  });

  it('structured output through the OpenAI-compatible provider without supportsStructuredOutputs is json_object: refused on Bedrock, naming response_format', async () => {
    const e = await generateText({ model: modelOf('compatible', BEDROCK.model), prompt: 'The weather in Oslo, as JSON.', output: Output.object({ schema: z.object({ city: z.string() }) }), maxRetries: 0 })
      .then(() => undefined, (err: unknown) => err);
    expect(APICallError.isInstance(e), String(e)).toBe(true);
    expect((e as APICallError).statusCode).toBe(400);
    expect((e as APICallError).message).toContain('response_format is not supported by the bedrock provider: JSON mode has no Converse equivalent');
    expect(BEDROCK.sent()).toEqual([]);
  });

  it.each(['responses', 'chat', 'compatible'] as const)('structured output on Bedrock: the zod schema as Converse structured output (%s)', async (api) => {
    BEDROCK.script('json_schema answer', false);
    const out = await generateText({ model: modelOf(api, BEDROCK.model, { supportsStructuredOutputs: true }), prompt: 'The weather in Oslo, as JSON.', output: Output.object({ schema: z.object({ city: z.string(), temp_c: z.number() }) }), maxRetries: 0 });
    expect(out.output).toEqual({ city: 'Oslo', temp_c: 3 });
    const format = BEDROCK.sent()[0].outputConfig.textFormat;
    expect(format).toMatchObject({ type: 'json_schema', structure: { jsonSchema: { name: 'response' } } });
    expect(JSON.parse(format.structure.jsonSchema.schema)).toMatchObject({ type: 'object', properties: { city: { type: 'string' }, temp_c: { type: 'number' } }, required: ['city', 'temp_c'], additionalProperties: false });
  });
});

describe('store: false on a reasoning model (zero data retention): include reasoning.encrypted_content', () => {
  const weather = () => ({
    get_weather: tool({
      description: 'Current weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }: { city: string }) => ({ temp_c: 3, sky: 'sunny', city }),
    }),
  });
  const THOUGHT = 'Oslo weather: call the tool.';

  it.each([false, true])('openai(\'gpt-5.4-mini\') with store: false runs a two-step tool loop; the reasoning item goes back sealed and is left out upstream (streamed %s)', async (streamed) => {
    // GIVEN an upstream that thinks and calls get_weather, then answers
    const call = openAiAnswer('one tool call');
    call.choices[0].message.reasoning_content = THOUGHT;
    if (streamed) {
      const chunks: Array<Record<string, any>> = openAiChunks('one tool call');
      const thinking = { ...chunks[0], choices: [{ index: 0, delta: { reasoning_content: THOUGHT }, logprobs: null, finish_reason: null }] };
      suite.env.upstream.script({ events: [...[chunks[0], thinking, ...chunks.slice(1)].map((data) => ({ data })), { data: '[DONE]' }] }, { events: [...openAiChunks('tool-result turn').map((data) => ({ data })), { data: '[DONE]' }] });
    } else {
      suite.env.upstream.script({ body: call }, { body: openAiAnswer('tool-result turn') });
    }

    // WHEN the app runs the loop with storage off, as the SDK's multi-step example does
    const bodies: Array<Record<string, any>> = [];
    const fetch: typeof globalThis.fetch = async (url, init) => {
      bodies.push(JSON.parse(String(init?.body)));
      return globalThis.fetch(url, init);
    };
    const openai = createOpenAI({ baseURL: suite.env.gw.url, apiKey: suite.env.tokens.acme, fetch });
    const settings = { model: openai('gpt-5.4-mini'), prompt: 'What is the weather in Oslo?', tools: weather(), stopWhen: stepCountIs(3), maxRetries: 0, providerOptions: { openai: { store: false } } };
    let text: string;
    let steps: any[];
    if (streamed) {
      const errors: unknown[] = [];
      const out = streamText({ ...settings, onError: ({ error }) => void errors.push(error) });
      for await (const _ of out.fullStream) void _;
      expect(errors).toEqual([]);
      [text, steps] = [await out.text, await out.steps];
    } else {
      const out = await generateText(settings);
      [text, steps] = [out.text, out.steps];
    }

    // THEN it reached the answer in two steps, the first with the model's reasoning
    expect(text).toMatch(/It is 3 °C\s?and sunny in Oslo\./);
    expect(steps.map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
    expect(steps[0].reasoning).toMatchObject([{ type: 'reasoning', providerOptions: { openai: { reasoningEncryptedContent: expect.any(String) } } }]);

    // AND the SDK asked for the sealed reasoning and sent the reasoning item back with it; the upstream got no reasoning
    const requests = suite.env.upstream.calls;
    expect(requests).toHaveLength(2);
    expect(requests[1].body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What is the weather in Oslo?' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_oslo', content: '{"temp_c":3,"sky":"sunny","city":"Oslo"}' },
    ]);
    expect(bodies.map((b) => [b.store, b.include])).toEqual([[false, ['reasoning.encrypted_content']], [false, ['reasoning.encrypted_content']]]);
    const sealed = steps[0].reasoning[0].providerOptions.openai.reasoningEncryptedContent;
    expect(bodies[1].input.filter((i: any) => i.type === 'reasoning')).toEqual([expect.objectContaining({ encrypted_content: sealed })]);
    expect(sealed).not.toContain(THOUGHT);
  });
});

describe('providerOptions.openai.reasoningContext (reasoning.context)', () => {
  it("'current_turn' and 'auto' are served: the answer, and providerMetadata.openai.reasoningContext 'current_turn', the Response's mode in effect (whole and streamed)", async () => {
    for (const [reasoningContext, streamed] of [['current_turn', false], ['auto', true]] as const) {
      suite.env.upstream.reset();
      suite.env.upstream.script(streamed ? { events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] } : { body: openAiAnswer('text') });
      const bodies: Array<Record<string, any>> = [];
      const fetch: typeof globalThis.fetch = async (url, init) => {
        bodies.push(JSON.parse(String(init?.body)));
        return globalThis.fetch(url, init);
      };
      const openai = createOpenAI({ baseURL: suite.env.gw.url, apiKey: suite.env.tokens.acme, fetch });
      const settings = { model: openai('gpt-5.4-mini'), prompt: 'Hei!', maxRetries: 0, providerOptions: { openai: { reasoningContext } } };
      const out = streamed ? streamText(settings) : await generateText(settings);
      expect(await out.text).toBe(openAiAnswer('text').choices[0].message.content);
      expect((await out.providerMetadata)?.openai).toMatchObject({ reasoningContext: 'current_turn' });
      expect(bodies[0].reasoning).toEqual({ context: reasoningContext });
      expect(suite.env.upstream.calls).toHaveLength(1);
    }
  });

  it("'all_turns' is an APICallError 400 naming reasoning.context and the value; nothing reaches the upstream", async () => {
    const openai = createOpenAI({ baseURL: suite.env.gw.url, apiKey: suite.env.tokens.acme });
    const e = await generateText({ model: openai('gpt-5.4-mini'), prompt: 'Hei!', maxRetries: 0, providerOptions: { openai: { reasoningContext: 'all_turns' } } }).catch((err: unknown) => err);
    expect(APICallError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ statusCode: 400, data: { error: { param: 'reasoning.context', code: 'unsupported_parameter' } } });
    expect((e as APICallError).message).toContain("reasoning.context 'all_turns' is not served");
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});

describe('errors and aborts, as the AI SDK surfaces them', () => {
  /** The APICallError an SDK call failed with. */
  async function failure(run: () => Promise<unknown>): Promise<APICallError> {
    const error = await run().then(() => undefined, (e: unknown) => e);
    expect(APICallError.isInstance(error), String(error)).toBe(true);
    return error as APICallError;
  }

  it.each(relayCells)('an upstream 400 is an APICallError 400 with the upstream\'s message and param ($api)', async ({ api }) => {
    // GIVEN an upstream that refuses the request
    suite.env.upstream.script({ status: 400, body: { error: { message: "Invalid 'temperature': 1.9 is too high for this model.", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } } });

    // WHEN the app generates text
    const e = await failure(() => generateText({ model: modelOf(api, RELAY.model), prompt: PROMPT, temperature: 1.9, maxRetries: 0 }));

    // THEN the error carries the status and the upstream's message; it is not retried
    expect(e.statusCode).toBe(400);
    expect(e.message).toContain("Invalid 'temperature': 1.9 is too high for this model.");
    expect(e.isRetryable).toBe(false);
    expect(JSON.parse(e.responseBody!).error).toMatchObject({ param: 'temperature', code: 'invalid_value' });
    expect(suite.env.upstream.calls).toHaveLength(1);
  });

  it.each(relayCells)('an upstream 429 is an APICallError 429 with retry-after, retryable ($api)', async ({ api }) => {
    // GIVEN an upstream over its rate limit for longer than the gateway waits
    suite.env.upstream.script({ status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'Rate limit reached for requests. Please try again in 7s.', type: 'requests', param: null, code: 'rate_limit_exceeded' } } });

    // WHEN the app streams text
    const errors: unknown[] = [];
    const out = streamText({ model: modelOf(api, RELAY.model), prompt: PROMPT, maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    const parts: any[] = [];
    for await (const part of out.fullStream) parts.push(part);

    // THEN the stream's error is an APICallError 429 with the upstream's message and its retry-after
    const e = parts.find((p) => p.type === 'error')?.error;
    expect(APICallError.isInstance(e), String(e)).toBe(true);
    expect(e.statusCode).toBe(429);
    expect(e.message).toContain('Rate limit reached for requests');
    expect(e.isRetryable).toBe(true);
    expect(e.responseHeaders['retry-after']).toBe('7');
    expect(errors).toEqual([e]);
    expect(suite.env.upstream.calls).toHaveLength(1);
  });

  it.each(relayCells)('an upstream error mid-stream: the text so far, then one error part with the upstream\'s message; onError called once ($api)', async ({ api }) => {
    // GIVEN an upstream that fails after the first words
    const head = openAiChunks('text').slice(0, 2);
    suite.env.upstream.script({ events: [...head.map((data) => ({ data })), { data: { error: { message: 'CUDA out of memory', type: 'server_error', code: 'engine_error' } } }] });

    // WHEN the app streams text
    const errors: unknown[] = [];
    const out = streamText({ model: modelOf(api, RELAY.model), prompt: PROMPT, maxRetries: 0, onError: ({ error }) => void errors.push(error) });
    const parts: any[] = [];
    for await (const part of out.fullStream) parts.push(part);

    // THEN it read the words sent, then one error (the Responses API: the error event, then response.failed, in OpenAI's order)
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => p.text).join('')).toBe(HELLO.slice(0, 13));
    const failures = parts.filter((p) => p.type === 'error');
    expect(failures).toHaveLength(1);
    expect(String(failures[0].error.message)).toContain('CUDA out of memory');
    expect(errors).toHaveLength(1);
    expect(parts.map((p) => p.type)).not.toContain('abort');
  });

  it.each(cells)('a request the gateway refuses is an APICallError 400 naming the field, nothing sent upstream ($route.name · $api)', async ({ route, api }) => {
    // WHEN the app asks for more output tokens than the model's limit (100 in the conformance catalog)
    const e = await failure(() => generateText({ model: modelOf(api, route.model), prompt: PROMPT, maxOutputTokens: 5000, maxRetries: 0 }));

    // THEN the error is the gateway's 400, naming the field the app's setting became
    expect(e.statusCode).toBe(400);
    const body = JSON.parse(e.responseBody!).error;
    expect(body).toMatchObject({ type: 'invalid_request_error', param: api === 'responses' ? 'max_output_tokens' : 'max_tokens' });
    expect(e.message).toContain(api === 'responses' ? 'max_output_tokens' : 'max_tokens');
    expect(route.sent()).toEqual([]);
  });

  it.each(relayCells)('abort mid-stream: the app sees the abort, the gateway lets go of the upstream ($api)', async ({ api }) => {
    // GIVEN an upstream that sends the first words, then nothing until the test is done
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const chunks = openAiChunks('text');
    suite.env.upstream.script({ events: [...chunks.slice(0, 2).map((data) => ({ data })), { until: gate }, ...chunks.slice(2).map((data) => ({ data })), { data: '[DONE]' }] });

    // WHEN the app aborts after the first text delta
    const controller = new AbortController();
    const aborted: unknown[] = [];
    const out = streamText({ model: modelOf(api, RELAY.model), prompt: PROMPT, maxRetries: 0, abortSignal: controller.signal, onAbort: (event) => void aborted.push(event), onError: () => {} });
    const parts: any[] = [];
    try {
      for await (const part of out.fullStream) {
        parts.push(part);
        if (part.type === 'text-delta') controller.abort();
      }
    } finally {
      release();
    }

    // THEN the stream ended with the SDK's abort part (after the first words), not an error
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => p.text).join('')).toBe(HELLO.slice(0, 13)); // the upstream's first content chunk
    expect(parts.at(-1).type).toBe('abort');
    expect(parts.some((p) => p.type === 'error')).toBe(false);
    expect(aborted).toHaveLength(1);

    // AND the gateway closed its upstream connection (the upstream call ends: no caller left to answer)
    await suite.env.upstream.calls[0].closed;
    await suite.env.gw.settled();
    const record = suite.env.gw.audit.records.at(-1)!;
    expect(record).toMatchObject({ tenantId: 'acme', model: RELAY.model });
  });
});
