import { Agent, MaxTurnsExceededError, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { conformanceConfig } from '../support/gateway-config.js';
import { openAiChunks } from './gateway-conformance/matrix.js';
import { bedrockRoute, relayRoute } from './gateway-conformance/scenario-routes.js';
import { mockProviderSdks, useConformanceGateway } from './gateway-conformance/setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * The OpenAI Agents SDK for JS (`@openai/agents` 0.20.0, on the project's `openai` 7.55.0) against
 * `tessera serve`, as applications run it: `setDefaultOpenAIClient(new OpenAI({ baseURL, apiKey }))`,
 * `new Agent({ name, instructions, model, tools, outputType, handoffs })` and `run(agent, input)`,
 * whole and `{ stream: true }`, with the Responses model (the SDK's default) and the Chat Completions
 * model (`setOpenAIAPI('chat_completions')`): a multi-step tool loop, a zod `outputType` (strict
 * json_schema), a handoff, `previousResponseId` continuation, usage, an upstream 400 and 429, maxTurns,
 * an abort; on the OpenAI-shaped relay (the fake upstream, scripted) and, for the tool loop, on Bedrock
 * (Converse mocked at the AWS SDK). Each test asserts what the application saw and what reached the
 * provider; no request leaves 127.0.0.1 (tracing export off). docs/gateway.md: OpenAI Agents SDK (JS).
 */
const { bedrock } = mockProviderSdks();
const suite = useConformanceGateway(async () => ({ stop: async () => {} }), { config: conformanceConfig() });

/** Every URL the process fetched during this file (the `openai` client and the SDK's trace exporter both use fetch). */
const fetched: string[] = [];
const realFetch = globalThis.fetch;
beforeAll(() => {
  // No trace export to api.openai.com: the SDK is off in tests (NODE_ENV=test) anyway, an app sets it itself.
  setTracingDisabled(true);
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    fetched.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    return realFetch(input, init);
  }) as typeof fetch;
  setDefaultOpenAIClient(new OpenAI({ baseURL: suite.env.gw.url, apiKey: suite.env.tokens.acme, maxRetries: 0 }));
});
afterAll(() => {
  globalThis.fetch = realFetch;
  // THEN (the whole file) nothing went anywhere but the gateway on loopback
  expect(fetched.length).toBeGreaterThan(0);
  expect(fetched.filter((u) => !u.startsWith('http://127.0.0.1:'))).toEqual([]);
});

const APIS = ['responses', 'chat_completions'] as const;
beforeEach(() => setOpenAIAPI('responses'));

// ---------------------------------------------------------------------------------------------
// The providers behind the gateway

const RELAY = relayRoute('relay', 'openai/gpt-4o-mini', () => suite.env.upstream); // OpenAI's own id: the fake upstream applies OpenAI's request rules
const BEDROCK = bedrockRoute(bedrock);

/** The tool of the loop: what it was called with, each call. */
function weatherTool(calls: string[] = []) {
  return tool({
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => {
      calls.push(city);
      return { temp_c: 3, sky: 'sunny', city };
    },
  });
}
const TOOL_RESULT = '{"temp_c":3,"sky":"sunny","city":"Oslo"}';

/** Runs `agent` on `input`, whole or streamed (reading every event and the text stream), and answers with the result and the stream's event types. */
async function runAgent(agent: Agent<any, any>, input: any, streamed: boolean, options: Record<string, unknown> = {}) {
  if (!streamed) return { result: await run(agent, input, options), events: [] as string[] };
  const result = await run(agent, input, { ...options, stream: true });
  const events: string[] = [];
  for await (const event of result) events.push(event.type === 'raw_model_stream_event' ? `raw:${event.data.type}` : event.type);
  await result.completed;
  return { result, events };
}

const cells = [RELAY, BEDROCK].flatMap((route) => APIS.flatMap((api) => [false, true].map((streamed) => ({ route, api, streamed }))));

describe('the OpenAI Agents SDK for JS against the gateway', () => {
  it.each(cells)('a tool loop: the model calls get_weather, the SDK runs it and sends its result back, the model answers ($route.name · $api · streamed $streamed)', async ({ route, api, streamed }) => {
    // GIVEN a provider that calls get_weather, then answers with what it returned
    setOpenAIAPI(api);
    route.script('one tool call', streamed);
    route.script('tool-result turn', streamed);
    const calls: string[] = [];
    const agent = new Agent({ name: 'Weather agent', instructions: 'Use the weather tool.', model: route.model, tools: [weatherTool(calls)] });

    // WHEN the app runs the agent
    const { result, events } = await runAgent(agent, 'What is the weather in Oslo?', streamed);

    // THEN it ran the tool with the model's arguments and reached the answer in two model calls
    expect(result.finalOutput).toBe('It is 3 °C and sunny in Oslo.');
    expect(calls).toEqual(['Oslo']);
    expect(result.rawResponses).toHaveLength(2);
    const callId = route === BEDROCK ? 'tooluse_oslo' : 'call_oslo';
    expect(result.newItems.map((i) => i.type)).toEqual(['tool_call_item', 'tool_call_output_item', 'message_output_item']);
    expect(result.newItems[0].rawItem).toMatchObject({ type: 'function_call', callId, name: 'get_weather', arguments: '{"city":"Oslo"}' });
    if (api === 'responses') expect(result.rawResponses.every((r) => /^resp_/.test(r.responseId!))).toBe(true);
    if (streamed) expect(events).toEqual(expect.arrayContaining(['raw:response_started', 'run_item_stream_event', 'raw:output_text_delta', 'raw:response_done']));

    // AND the usage the SDK summed is both calls' (the provider's usage, twice)
    expect(result.state.usage).toMatchObject({ requests: 2, inputTokens: 2 * route.usage.inputTokens, outputTokens: 2 * route.usage.outputTokens, totalTokens: 2 * route.usage.totalTokens });

    // AND metering shows both model calls
    if (route === RELAY) {
      await suite.env.gw.settled();
      const path = api === 'responses' ? '/v1/responses' : '/v1/chat/completions';
      expect(suite.env.gw.audit.records.slice(-2)).toMatchObject([1, 2].map(() => ({ tenantId: 'acme', path, status: 200, model: route.model, promptTokens: 31, completionTokens: 9 })));
    }

    // AND the provider got the instructions, the strict tool, then the call and its result
    const sent = route.sent();
    expect(sent).toHaveLength(2);
    if (route === BEDROCK) {
      expect(sent[0]).toMatchObject({ system: [{ text: 'Use the weather tool.' }], messages: [{ role: 'user', content: [{ text: 'What is the weather in Oslo?' }] }] });
      expect(sent[0].toolConfig.tools).toMatchObject([{ toolSpec: { name: 'get_weather', description: 'Current weather in a city', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } } }]);
      expect(sent[1].messages.slice(1)).toEqual([
        { role: 'assistant', content: [{ toolUse: { toolUseId: callId, name: 'get_weather', input: { city: 'Oslo' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: callId, content: [{ text: TOOL_RESULT }] } }] },
      ]);
    } else {
      expect(sent[0].messages).toEqual([{ role: 'system', content: 'Use the weather tool.' }, { role: 'user', content: 'What is the weather in Oslo?' }]);
      expect(sent[0].tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false, $schema: expect.any(String) }, strict: true } }]);
      expect(sent[1].messages.slice(2)).toEqual([
        { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: callId, content: TOOL_RESULT },
      ]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Scripted relay answers beyond the matrix's

const BASE = { id: 'upstream-7', created: 1_764_000_000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_agents' };
const USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };
type Call = { id: string; name: string; arguments: string };
/** OpenAI's whole chat answer: text, or tool calls. */
const answer = (content: string | null, calls: Call[] = []) => ({
  body: {
    ...BASE, object: 'chat.completion', usage: USAGE,
    choices: [{ index: 0, logprobs: null, finish_reason: calls.length ? 'tool_calls' : 'stop', message: { role: 'assistant', content, refusal: null, ...(calls.length ? { tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) } : {}) } }],
  },
});
const sent = () => suite.env.upstream.calls.map((c) => c.body);
const MODEL = RELAY.model;

describe('the Agents SDK: structured output, handoffs, continuation', () => {
  const Weather = z.object({ city: z.string(), temp_c: z.number() });

  it.each(APIS.flatMap((api) => [false, true].map((streamed) => ({ api, streamed }))))('outputType (zod): the parsed object; the schema reaches the upstream as strict json_schema ($api · streamed $streamed)', async ({ api, streamed }) => {
    // GIVEN the upstream's JSON answer
    setOpenAIAPI(api);
    RELAY.script('json_schema answer', streamed);
    const agent = new Agent({ name: 'Weather reporter', instructions: 'Answer as JSON.', model: MODEL, outputType: Weather });

    // WHEN the app runs the agent
    const { result } = await runAgent(agent, 'The weather in Oslo, as JSON.', streamed);

    // THEN it sees the object
    expect(result.finalOutput).toEqual({ city: 'Oslo', temp_c: 3 });

    // AND the upstream got the schema as json_schema, strict, closed
    expect(sent()[0].response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'output', strict: true, schema: expect.objectContaining({ type: 'object', properties: { city: { type: 'string' }, temp_c: { type: 'number' } }, required: ['city', 'temp_c'], additionalProperties: false }) },
    });
  });

  it.each(APIS.flatMap((api) => [false, true].map((streamed) => ({ api, streamed }))))('a handoff: the triage agent transfers to the Norwegian agent, whose instructions answer ($api · streamed $streamed)', async ({ api, streamed }) => {
    // GIVEN an upstream that calls the handoff tool, then answers
    setOpenAIAPI(api);
    suite.env.upstream.script(answer(null, [{ id: 'call_handoff', name: 'transfer_to_Norwegian_agent', arguments: '{}' }]), answer('Hei! Hyggelig å møte deg.'));
    const norwegian = new Agent({ name: 'Norwegian agent', instructions: 'Answer in Norwegian.', model: MODEL, handoffDescription: 'Speaks Norwegian' });
    const triage = new Agent({ name: 'Triage agent', instructions: 'Hand Norwegian speakers off.', model: MODEL, handoffs: [norwegian] });

    // WHEN the app runs the triage agent
    const { result, events } = await runAgent(triage, 'Hei!', streamed);

    // THEN the Norwegian agent answered
    expect(result.finalOutput).toBe('Hei! Hyggelig å møte deg.');
    expect(result.lastAgent?.name).toBe('Norwegian agent');
    expect(result.newItems.map((i) => i.type)).toEqual(['handoff_call_item', 'handoff_output_item', 'message_output_item']);
    if (streamed) expect(events).toContain('agent_updated_stream_event');

    // AND the upstream got the handoff as a tool of the first call, then the second agent's instructions with the transfer in the history
    const [first, second] = sent();
    expect(first.tools).toEqual([{ type: 'function', function: { name: 'transfer_to_Norwegian_agent', description: expect.stringContaining('Speaks Norwegian'), parameters: expect.objectContaining({ type: 'object', additionalProperties: false }), ...(api === 'responses' ? { strict: true } : {}) } }]); // the SDK's chat converter leaves a handoff's strict out
    expect(first.messages[0]).toEqual({ role: 'system', content: 'Hand Norwegian speakers off.' });
    expect(second.messages[0]).toEqual({ role: 'system', content: 'Answer in Norwegian.' });
    expect(second.messages.slice(1)).toEqual([
      { role: 'user', content: 'Hei!' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_handoff', type: 'function', function: { name: 'transfer_to_Norwegian_agent', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_handoff', content: '{"assistant":"Norwegian agent"}' },
    ]);
  });

  it.each([false, true])('previousResponseId: the next run sends only its new items; the upstream gets the whole conversation, a tool loop included (streamed %s)', async (streamed) => {
    // GIVEN an upstream that greets, then calls the tool, then answers
    suite.env.upstream.script(answer('Hei, Ada!'), answer(null, [{ id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' }]), answer('It is 3 °C in Oslo, Ada.'));
    const agent = new Agent({ name: 'Weather agent', instructions: 'Use the weather tool.', model: MODEL, tools: [weatherTool()] });

    // WHEN the app runs twice, the second time continuing from the first run's last response
    const { result: first } = await runAgent(agent, 'Hi, I am Ada.', streamed);
    const { result: second } = await runAgent(agent, 'What is the weather in Oslo?', streamed, { previousResponseId: first.lastResponseId });

    // THEN the second run answered, its responses chained on the first's
    expect(first.finalOutput).toBe('Hei, Ada!');
    expect(second.finalOutput).toBe('It is 3 °C in Oslo, Ada.');
    expect(first.lastResponseId).toMatch(/^resp_/);
    expect(second.rawResponses).toHaveLength(2);

    // AND the upstream got the whole conversation each time: the stored turns, then the new items
    const system = { role: 'system', content: 'Use the weather tool.' };
    expect(sent().map((b) => b.messages)).toEqual([
      [system, { role: 'user', content: 'Hi, I am Ada.' }],
      [system, { role: 'user', content: 'Hi, I am Ada.' }, { role: 'assistant', content: 'Hei, Ada!' }, { role: 'user', content: 'What is the weather in Oslo?' }],
      [system, { role: 'user', content: 'Hi, I am Ada.' }, { role: 'assistant', content: 'Hei, Ada!' }, { role: 'user', content: 'What is the weather in Oslo?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'call_oslo', content: TOOL_RESULT }],
    ]);
  });

  it.each([false, true])("conversationId (OpenAI's Conversations API): each run sends only its new items; the upstream gets the conversation's items first, a tool loop included (streamed %s)", async (streamed) => {
    // GIVEN a conversation the app created, and an upstream that greets, then calls the tool, then answers
    const client = new OpenAI({ baseURL: suite.env.gw.url, apiKey: suite.env.tokens.acme, maxRetries: 0 });
    const conversation = await client.conversations.create({});
    suite.env.upstream.script(answer('Hei, Ada!'), answer(null, [{ id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' }]), answer('It is 3 °C in Oslo, Ada.'));
    const agent = new Agent({ name: 'Weather agent', instructions: 'Use the weather tool.', model: MODEL, tools: [weatherTool()] });

    // WHEN the app runs twice in the conversation
    const { result: first } = await runAgent(agent, 'Hi, I am Ada.', streamed, { conversationId: conversation.id });
    const { result: second } = await runAgent(agent, 'What is the weather in Oslo?', streamed, { conversationId: conversation.id });

    // THEN both answered, and the upstream got the conversation's items before each turn's new ones
    expect(first.finalOutput).toBe('Hei, Ada!');
    expect(second.finalOutput).toBe('It is 3 °C in Oslo, Ada.');
    const text = (m: any) => (typeof m.content === 'string' ? m.content : (m.content ?? []).map((p: any) => p.text).join(''));
    expect(sent().map((b) => b.messages.map((m: any) => `${m.role}:${text(m)}${m.tool_calls ? `:${m.tool_calls[0].id}` : ''}`))).toEqual([
      ['system:Use the weather tool.', 'user:Hi, I am Ada.'],
      ['system:Use the weather tool.', 'user:Hi, I am Ada.', 'assistant:Hei, Ada!', 'user:What is the weather in Oslo?'],
      ['system:Use the weather tool.', 'user:Hi, I am Ada.', 'assistant:Hei, Ada!', 'user:What is the weather in Oslo?', 'assistant::call_oslo', `tool:${TOOL_RESULT}`],
    ]);
    // AND the conversation holds every item of both runs, in order
    const items = (await client.conversations.items.list(conversation.id, { order: 'asc', limit: 100 })).data as any[];
    expect(items.map((i) => i.type)).toEqual(['message', 'message', 'message', 'function_call', 'function_call_output', 'message']);
  });

  it("an unknown conversationId is the gateway's 404 naming conversation; nothing reaches the upstream", async () => {
    const agent = new Agent({ name: 'Assistant', instructions: 'Be brief.', model: MODEL });
    const error: any = await run(agent, 'Hi', { conversationId: 'conv_123' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, param: 'conversation', code: 'conversation_not_found' });
    expect(sent()).toEqual([]);
  });
});

describe('the Agents SDK: errors, maxTurns, abort', () => {
  const agent = () => new Agent({ name: 'Weather agent', instructions: 'Use the weather tool.', model: MODEL, tools: [weatherTool()] });
  const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: any) => e);
  const streamFailure = async (input: string) => {
    const result = await run(agent(), input, { stream: true });
    for await (const _ of result) { /* drain */ }
    await result.completed;
    return result.error;
  };
  const cellsOf = APIS.flatMap((api) => [false, true].map((streamed) => ({ api, streamed })));

  it.each(cellsOf)('an upstream 400 is the openai BadRequestError with the upstream\'s message, param and code ($api · streamed $streamed)', async ({ api, streamed }) => {
    setOpenAIAPI(api);
    suite.env.upstream.script({ status: 400, body: { error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } });
    const e: any = streamed ? await failure(streamFailure('Hi')) : await failure(run(agent(), 'Hi'));
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e).toMatchObject({ status: 400, code: 'context_length_exceeded', param: api === 'responses' ? 'input' : 'messages' });
    expect(e.message).toContain("This model's maximum context length is 128000 tokens.");
    expect(sent()).toHaveLength(1);
  });

  it.each(cellsOf)('an upstream 429 is the openai RateLimitError with retry-after ($api · streamed $streamed)', async ({ api, streamed }) => {
    setOpenAIAPI(api);
    suite.env.upstream.script({ status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'Rate limit reached for requests. Please try again in 7s.', type: 'requests', param: null, code: 'rate_limit_exceeded' } } });
    const e: any = streamed ? await failure(streamFailure('Hi')) : await failure(run(agent(), 'Hi'));
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(e.headers.get('retry-after')).toBe('7');
    expect(e.message).toContain('Rate limit reached for requests');
    expect(sent()).toHaveLength(1);
  });

  it.each(APIS)('maxTurns exceeded: MaxTurnsExceededError after that many model calls (%s)', async (api) => {
    setOpenAIAPI(api);
    suite.env.upstream.script(answer(null, [{ id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' }]));
    const e = await failure(run(agent(), 'What is the weather in Oslo?', { maxTurns: 1 }));
    expect(e).toBeInstanceOf(MaxTurnsExceededError);
    expect(sent()).toHaveLength(1);
  });

  it.each(APIS)('abort mid-stream: the run stops, the gateway lets go of the upstream (%s)', async (api) => {
    // GIVEN an upstream that sends the first words, then nothing until the test is done
    setOpenAIAPI(api);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const chunks = openAiChunks('text');
    suite.env.upstream.script({ events: [...chunks.slice(0, 2).map((data) => ({ data })), { until: gate }, ...chunks.slice(2).map((data) => ({ data })), { data: '[DONE]' }] });

    // WHEN the app aborts after the first text delta
    const controller = new AbortController();
    const result = await run(new Agent({ name: 'Assistant', instructions: 'Be brief.', model: MODEL }), 'Say hello in Norwegian.', { stream: true, signal: controller.signal });
    let text = '';
    try {
      for await (const event of result) {
        if (event.type === 'raw_model_stream_event' && event.data.type === 'output_text_delta') {
          text += event.data.delta;
          controller.abort();
        }
      }
      await result.completed.catch(() => {});
    } finally {
      release();
    }

    // THEN the run ended after the first words, without a final output
    expect(text).toBe('Hei! Hyggelig å møte deg.'.slice(0, 13));
    expect(result.cancelled).toBe(true);
    expect(result.rawResponses).toEqual([]);

    // AND the gateway closed its upstream connection and recorded the request
    await suite.env.upstream.calls[0].closed;
    await suite.env.gw.settled();
    expect(suite.env.gw.audit.records.at(-1)).toMatchObject({ tenantId: 'acme', model: MODEL });
  });
});
