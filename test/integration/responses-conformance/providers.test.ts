import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand } from '@aws-sdk/client-sagemaker-runtime';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';
import { sseBytes } from '../../support/fake-upstream.js';
import { CLIENTS, type ClientName } from '../gateway-conformance/clients.js';
import { WEATHER_PARAMETERS, converseAnswerOf, converseEvents, converseOutput, openAiAnswer, openAiChunks, type Scenario } from '../gateway-conformance/matrix.js';
import { mockProviderSdks, useConformanceGateway } from '../gateway-conformance/setup.js';
import { CHAT_SCENARIO, MODES, RESPONSE_SCENARIOS, chatRequestOf, expectResponse, responsesCallOf, type Mode, type ResponseScenario } from './cases.js';
import { PythonResponsesClient, runResponses, type ResponsesCall } from './clients.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 30_000 });

/**
 * The Responses API on every chat provider, with the official Node and Python clients against
 * `tessera serve`: openai-compatible, openai and huggingface against the fake upstream over HTTP,
 * Bedrock (Converse, SDK mocked) and SageMaker (an OpenAI container, SDK mocked). Each cell
 * asserts the chat request the provider got (the Responses request mapped, nothing more) and the
 * Response (or event stream) the client saw; then chaining with `previous_response_id`,
 * `retrieve`, `input_items` and `delete` on each provider.
 */
const { bedrock, sagemaker } = mockProviderSdks();
const suite = useConformanceGateway(PythonResponsesClient.start);
beforeEach(() => {
  converseQueue.length = 0;
});

const run = (client: ClientName, call: ResponsesCall) => runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, call);

async function* iterate<T>(items: T[]) {
  for (const i of items) yield i;
}

const OPENAI_USAGE = { input: 31, output: 9, cached: 12, reasoning: 4 };
const STREAM_FLAGS = { stream: true, stream_options: { include_usage: true } };

/** What the client's json_schema turns into on the chat side (the SDKs build the schema themselves). */
const schemaFormat = (s: ResponseScenario) => (s === 'json_schema' ? { response_format: { type: 'json_schema', json_schema: expect.objectContaining({ name: 'Weather', strict: true, schema: expect.objectContaining({ type: 'object' }) }) } } : {});

interface Provider {
  name: string;
  model: string;
  /** Queues the provider's answer for a chat scenario. */
  script(s: Scenario, mode: Mode): void;
  /** Each request the provider got, as it got it. */
  sent(): Record<string, any>[];
  /** The request a provider must get for a chat request (`chat`: messages and the other fields). */
  expected(chat: Record<string, unknown>, mode: Mode): Record<string, unknown>;
  usage: typeof OPENAI_USAGE;
  callId: string;
}

/**
 * An upstream over HTTP; `adds` what the gateway adds besides the mapped request (OpenAI itself on the platform's key:
 * the tenant's own prompt_cache_key when the caller sent none, tenant-cache-key.ts).
 */
const http = (name: string, model: string, upstream: string, adds: Record<string, unknown> = {}): Provider => ({
  name, model, usage: OPENAI_USAGE, callId: 'call_oslo',
  script: (s, mode) => void (mode === 'whole' ? suite.env.upstream.script({ body: openAiAnswer(s) }) : suite.env.upstream.script({ events: [...openAiChunks(s).map((data) => ({ data })), { data: '[DONE]' }] })),
  sent: () => suite.env.upstream.calls.map((c) => c.body),
  expected: (chat, mode) => ({ model: upstream, ...adds, ...chat, ...(mode === 'streamed' ? STREAM_FLAGS : {}) }),
});

const SAGEMAKER: Provider = {
  name: 'sagemaker', model: 'sagemaker/ft:nova:acme:support', usage: OPENAI_USAGE, callId: 'call_oslo',
  script: (s, mode) => {
    if (mode === 'whole') sagemaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode(JSON.stringify(openAiAnswer(s))) as never, ContentType: 'application/json' });
    else sagemaker.on(InvokeEndpointWithResponseStreamCommand).callsFakeOnce(() => ({ Body: iterate([{ PayloadPart: { Bytes: new Uint8Array(sseBytes({ events: [...openAiChunks(s).map((data) => ({ data })), { data: '[DONE]' }] })) } }]) }));
  },
  sent: () => [...sagemaker.commandCalls(InvokeEndpointCommand), ...sagemaker.commandCalls(InvokeEndpointWithResponseStreamCommand)].map((c) => JSON.parse((c.args[0].input as { Body: string }).Body)),
  expected: (chat, mode) => ({ ...chat, ...(mode === 'streamed' ? STREAM_FLAGS : {}) }),
};

/** Chat messages as Converse's (the subset these cells send: text, tool calls, tool results). */
function converseOf(chat: Record<string, any>): Record<string, unknown> {
  const messages: any[] = [];
  const system: any[] = [];
  for (const m of chat.messages) {
    const text = typeof m.content === 'string' ? m.content : (m.content ?? []).map((p: any) => p.text).join('');
    if (m.role === 'system') system.push({ text });
    else if (m.role === 'user') messages.push({ role: 'user', content: [{ text }] });
    else if (m.role === 'assistant') messages.push({ role: 'assistant', content: [...(text ? [{ text }] : []), ...(m.tool_calls ?? []).map((t: any) => ({ toolUse: { toolUseId: t.id, name: t.function.name, input: JSON.parse(t.function.arguments) } }))] });
    else if (m.role === 'tool') messages.push({ role: 'user', content: [{ toolResult: { toolUseId: m.tool_call_id, content: [{ text: m.content }] } }] });
  }
  return {
    modelId: 'amazon.nova-lite-v1:0', messages,
    ...(system.length ? { system } : {}),
    ...(chat.temperature !== undefined ? { inferenceConfig: { temperature: chat.temperature } } : {}),
    ...(chat.tools ? { toolConfig: { tools: [{ toolSpec: { name: 'get_weather', description: 'Current weather in a city', inputSchema: { json: WEATHER_PARAMETERS }, strict: true } }] } } : {}),
    ...(chat.response_format ? { outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: expect.objectContaining({ name: 'Weather' }) } } } } : {}),
  };
}

/** Converse answers queued for the next calls, in order. */
const converseQueue: Array<() => unknown> = [];
const BEDROCK: Provider = {
  name: 'bedrock', model: 'bedrock/amazon.nova-lite', usage: { input: 27, output: 8, cached: 0, reasoning: 0 }, callId: 'tooluse_oslo',
  script: (s, mode) => {
    const answer = converseAnswerOf(s);
    converseQueue.push(mode === 'whole' ? () => converseOutput(answer) : () => ({ $metadata: { httpStatusCode: 200 }, stream: iterate(converseEvents(answer)) }));
    if (mode === 'whole') bedrock.on(ConverseCommand).callsFake(() => converseQueue.shift()?.());
    else bedrock.on(ConverseStreamCommand).callsFake(() => converseQueue.shift()?.());
  },
  sent: () => [...bedrock.commandCalls(ConverseCommand), ...bedrock.commandCalls(ConverseStreamCommand)].map((c) => c.args[0].input as Record<string, any>),
  expected: (chat) => converseOf(chat),
};

const PROVIDERS: Provider[] = [
  http('openai-compatible', 'openai-compatible/default', 'default'),
  http('openai', 'openai/gpt-4o-mini', 'gpt-4o-mini', { prompt_cache_key: tenantPromptCacheKey('acme', '') }),
  http('huggingface', 'huggingface/tgi-llama', 'meta-llama/Llama-3.1-8B-Instruct'),
  BEDROCK,
  SAGEMAKER,
];

interface Cell { provider: Provider; scenario: ResponseScenario; mode: Mode; client: ClientName }
const cells: Cell[] = PROVIDERS.flatMap((provider) => RESPONSE_SCENARIOS.flatMap((scenario) => MODES.flatMap((mode) => CLIENTS.map((client) => ({ provider, scenario, mode, client })))));

describe('conformance: the Responses API on every chat provider', () => {
  it.each(cells)('$provider.name · $scenario · $mode · $client client', async ({ provider, scenario, mode, client }) => {
    // GIVEN the provider's answer for the scenario
    provider.script(CHAT_SCENARIO[scenario], mode);

    // WHEN the client calls POST /v1/responses
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, responsesCallOf(scenario, mode, provider.model));

    // THEN the provider got the Responses request mapped onto chat completions, nothing more
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    const sent = provider.sent();
    expect(sent).toHaveLength(1);
    const chat = { ...chatRequestOf(scenario), ...schemaFormat(scenario) };
    expect(sent[0]).toEqual(provider.expected(chat, mode));

    // AND the client saw a Response (or its events, in order) in OpenAI's shapes
    expectResponse(out, scenario, mode, provider.model, provider.usage, provider.callId);
  });
});

describe('parallel_tool_calls false on a server that may ignore it (TGI, a vLLM container; Bedrock\'s answers are held by its provider: bedrock.test.ts)', () => {
  const held = PROVIDERS.filter((p) => ['huggingface', 'sagemaker'].includes(p.name)).flatMap((provider) => MODES.flatMap((mode) => CLIENTS.map((client) => ({ provider, mode, client }))));
  it.each(held)('$provider.name · $mode · $client client: the field goes on, and two calls answered are one function_call item', async ({ provider, mode, client }) => {
    // GIVEN an upstream that answers two calls whatever the request said
    provider.script('parallel tool calls', mode);
    const call = responsesCallOf('function call', mode, provider.model);
    call.params = { ...call.params, parallel_tool_calls: false };

    // WHEN the client asks for one call per turn
    const out = await runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, call);

    // THEN the chat request carried the field, and the client saw one function_call
    expect(out.error, JSON.stringify(out.error)).toBeUndefined();
    const sent = provider.sent();
    expect(sent).toHaveLength(1);
    expect(sent[0].parallel_tool_calls).toBe(false);
    expectResponse(out, 'function call', mode, provider.model, provider.usage, provider.callId);
  });
});

describe('stored responses on every provider', () => {
  const cells2 = PROVIDERS.flatMap((provider) => CLIENTS.map((client) => ({ provider, client })));
  it.each(cells2)('$provider.name · $client client: previous_response_id chains; retrieve, input_items and delete', async ({ provider, client }) => {
    // GIVEN a first turn, stored (store defaults to true)
    provider.script('text', 'whole');
    const first = await run(client, { op: 'create', params: { model: provider.model, instructions: 'You are terse.', input: 'Say hello in Norwegian.' } });
    expect(first.error).toBeUndefined();
    const firstId = first.result.id;

    // WHEN the next turn chains from it
    provider.script('text', 'whole');
    const second = await run(client, { op: 'create', params: { model: provider.model, previous_response_id: firstId, input: 'And in Swedish?' } });

    // THEN the provider got the first turn's input and answer before the new input (not its instructions)
    expect(second.error).toBeUndefined();
    expect(second.result.previous_response_id).toBe(firstId);
    const user = (text: string) => ({ role: 'user', content: text }); // sent as a string, passed on as one
    const chat = { messages: [user('Say hello in Norwegian.'), { role: 'assistant', content: 'Hei! Hyggelig å møte deg.' }, user('And in Swedish?')] };
    expect(provider.sent()[1]).toEqual(provider.expected(chat, 'whole'));

    // AND the stored response is retrieved as it was answered, with its input items
    const got = await run(client, { op: 'retrieve', responseId: firstId });
    expect(got.result).toEqual(first.result);
    const items = await run(client, { op: 'input_items', responseId: firstId, params: { order: 'asc' } });
    expect(items.result.data).toEqual([{ id: expect.stringMatching(/^msg_/), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'Say hello in Norwegian.' }] }]);

    // AND deleted: it is gone (404) and can no longer be chained from
    const deleted = await run(client, { op: 'delete', responseId: firstId });
    expect(deleted.error).toBeUndefined();
    const again = await run(client, { op: 'retrieve', responseId: firstId });
    expect(again.error).toMatchObject({ status: 404, body: { code: 'response_not_found' } });
    expect(provider.sent()).toHaveLength(2);
  });
});
