import { zodResponseFormat } from 'openai/helpers/zod';
import { expect } from 'vitest';
import { z } from 'zod';
import type { ClientCall, ClientName, Outcome } from './clients.js';

/**
 * The conformance matrix as data: what each scenario sends (OpenAI's chat-completions request),
 * what an OpenAI-shaped upstream answers (whole, and as the chunks of a stream), and for Bedrock
 * what Converse answers. The provider test files turn each (mode, scenario, client) into a cell
 * that asserts the exact request the upstream received and the exact result the client saw.
 */
export const MODES = ['whole', 'streamed'] as const;
export type Mode = (typeof MODES)[number];

export const SCENARIOS = ['text', 'one tool call', 'parallel tool calls', 'forced tool', 'tool-result turn', 'image input', 'json_schema answer', 'n = 2', 'logprobs'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const WEATHER_PARAMETERS = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
export const WEATHER_TOOL = { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_PARAMETERS } };
/** A 1×1 PNG. */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
export const PNG_DATA_URL = `data:image/png;base64,${PNG_BASE64}`;

/** The structured-output type of the json_schema cells, as each client states it. */
export const WEATHER_SCHEMA = { name: 'Weather', schema: { type: 'object', properties: { city: { type: 'string' }, temp_c: { type: 'integer' } }, required: ['city', 'temp_c'], additionalProperties: false } };
/** What the Python client makes of `WEATHER_SCHEMA` (pydantic's schema, made strict by the client). */
export const PYTHON_WEATHER_FORMAT = {
  type: 'json_schema',
  json_schema: {
    schema: { properties: { city: { title: 'City', type: 'string' }, temp_c: { title: 'Temp C', type: 'integer' } }, required: ['city', 'temp_c'], title: 'Weather', type: 'object', additionalProperties: false },
    name: 'Weather',
    strict: true,
  },
};
/** The Node client's, from `zodResponseFormat` (auto-parsed by `parse` and by the stream helper). */
export const nodeWeatherFormat = () => zodResponseFormat(z.object({ city: z.string(), temp_c: z.number() }), 'Weather');
export const NODE_WEATHER_FORMAT: Record<string, unknown> = JSON.parse(JSON.stringify(nodeWeatherFormat()));
export const WEATHER_JSON = '{"city":"Oslo","temp_c":3}';

const OSLO_CALL = { id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } };
const ROME_CALL = { id: 'call_rome', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } };

/** The request of a scenario, without `model` and `stream` (the cell adds them). */
export function requestOf(scenario: Scenario): Record<string, unknown> {
  switch (scenario) {
    case 'text':
      return { messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello in Norwegian.' }], temperature: 0.2 };
    case 'one tool call':
      return { messages: [{ role: 'user', content: 'What is the weather in Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' };
    case 'parallel tool calls':
      return { messages: [{ role: 'user', content: 'Weather in Oslo and in Rome?' }], tools: [WEATHER_TOOL], parallel_tool_calls: true };
    case 'forced tool':
      return { messages: [{ role: 'user', content: 'Oslo, please.' }], tools: [WEATHER_TOOL], tool_choice: { type: 'function', function: { name: 'get_weather' } } };
    case 'tool-result turn':
      return {
        messages: [
          { role: 'user', content: 'What is the weather in Oslo?' },
          { role: 'assistant', content: null, tool_calls: [OSLO_CALL] },
          { role: 'tool', tool_call_id: 'call_oslo', content: '{"temp_c":3,"sky":"sunny"}' },
        ],
        tools: [WEATHER_TOOL],
      };
    case 'image input':
      return { messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this image?' }, { type: 'image_url', image_url: { url: PNG_DATA_URL } }] }] };
    case 'json_schema answer':
      return { messages: [{ role: 'user', content: 'The weather in Oslo, as JSON.' }] };
    case 'n = 2':
      return { messages: [{ role: 'user', content: 'Name a colour.' }], n: 2 };
    case 'logprobs':
      return { messages: [{ role: 'user', content: 'Say hi.' }], logprobs: true, top_logprobs: 2 };
  }
}

/**
 * The client call of a cell. Streams ask for the usage chunk, except the text scenario (the
 * default most applications run with, where no chunk may lack `choices`).
 */
export function callOf(scenario: Scenario, mode: Mode, model: string): ClientCall {
  const params: Record<string, unknown> = { model, ...requestOf(scenario) };
  if (mode === 'streamed') {
    params.stream = true;
    if (scenario !== 'text') params.stream_options = { include_usage: true };
  }
  if (scenario === 'json_schema answer') return { op: 'parse', params, schema: WEATHER_SCHEMA, nodeFormat: nodeWeatherFormat() as unknown as Record<string, unknown> };
  return { op: mode === 'streamed' ? 'stream' : 'create', params };
}

/** The body the client puts on the wire for a call (what the gateway must pass on, `model` aside). */
export function wireBodyOf(call: ClientCall, client: ClientName): Record<string, unknown> {
  const body: Record<string, unknown> = { ...call.params };
  if (call.op === 'parse') body.response_format = client === 'node' ? NODE_WEATHER_FORMAT : PYTHON_WEATHER_FORMAT;
  if (call.op === 'create') delete body.stream;
  if (call.op === 'parse' && !call.params.stream) {
    delete body.stream;
    if (client === 'python') body.stream = false; // the Python client's `parse` says so
  }
  return body;
}

/** Whether the caller asked for the usage chunk. */
export const includeUsage = (call: ClientCall) => (call.params.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;

// ---------------------------------------------------------------------------------------------
// An OpenAI-shaped upstream (openai-compatible, openai, a SageMaker container)

const UPSTREAM = { id: 'upstream-42', created: 1_764_000_000, model: 'served-model-name', system_fingerprint: 'fp_conformance', service_tier: 'default' };

/** Usage with the details OpenAI reports. */
export const USAGE = {
  prompt_tokens: 31, completion_tokens: 9, total_tokens: 40,
  prompt_tokens_details: { cached_tokens: 12, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 4, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};

interface Choice {
  content: string | null;
  toolCalls?: Array<typeof OSLO_CALL>;
  finish: string;
  /** Content as tokens with their log probabilities (the logprobs scenario). */
  tokens?: Array<{ token: string; logprob: number; top: Array<[string, number]> }>;
}

function choicesOf(scenario: Scenario): Choice[] {
  switch (scenario) {
    case 'text': return [{ content: 'Hei! Hyggelig å møte deg.', finish: 'stop' }];
    case 'one tool call':
    case 'forced tool': return [{ content: null, toolCalls: [OSLO_CALL], finish: 'tool_calls' }];
    case 'parallel tool calls': return [{ content: null, toolCalls: [OSLO_CALL, ROME_CALL], finish: 'tool_calls' }];
    case 'tool-result turn': return [{ content: 'It is 3 °C and sunny in Oslo.', finish: 'stop' }];
    case 'image input': return [{ content: 'A single red pixel.', finish: 'stop' }];
    case 'json_schema answer': return [{ content: WEATHER_JSON, finish: 'stop' }];
    case 'n = 2': return [{ content: 'Blue.', finish: 'stop' }, { content: 'Green, like moss.', finish: 'length' }];
    case 'logprobs': return [{
      content: 'Hi!', finish: 'stop',
      tokens: [{ token: 'Hi', logprob: -0.0123, top: [['Hi', -0.0123], ['Hello', -4.5]] }, { token: '!', logprob: -0.25, top: [['!', -0.25], ['.', -1.5]] }],
    }];
  }
}

const logprobEntry = (t: NonNullable<Choice['tokens']>[number]) => ({
  token: t.token, logprob: t.logprob, bytes: [...Buffer.from(t.token)],
  top_logprobs: t.top.map(([token, logprob]) => ({ token, logprob, bytes: [...Buffer.from(token)] })),
});

/** The whole answer an OpenAI-shaped upstream gives for a scenario. */
export function openAiAnswer(scenario: Scenario): Record<string, any> {
  return {
    ...UPSTREAM,
    object: 'chat.completion',
    choices: choicesOf(scenario).map((c, index) => ({
      index,
      message: { role: 'assistant', content: c.content, refusal: null, annotations: [], ...(c.toolCalls ? { tool_calls: c.toolCalls } : {}) },
      logprobs: c.tokens ? { content: c.tokens.map(logprobEntry), refusal: null } : null,
      finish_reason: c.finish,
    })),
    usage: USAGE,
  };
}

/**
 * The same answer as an OpenAI-shaped stream: per choice a role chunk, the content in pieces (one
 * token each with logprobs), each tool call's id and name then its arguments in two fragments,
 * the finish; choices interleaved; then the usage chunk. Every chunk carries `usage: null`, as
 * OpenAI's do when usage is asked for (the gateway always asks).
 */
export function openAiChunks(scenario: Scenario): Array<Record<string, any>> {
  const base = { ...UPSTREAM, object: 'chat.completion.chunk' };
  const perChoice = choicesOf(scenario).map((c, index) => {
    const choice = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ index, delta, logprobs: null, finish_reason: null, ...extra });
    const out: Array<Record<string, unknown>> = [choice({ role: 'assistant', content: '', refusal: null })];
    if (c.tokens) for (const t of c.tokens) out.push(choice({ content: t.token }, { logprobs: { content: [logprobEntry(t)], refusal: null } }));
    else if (c.content) {
      const cut = Math.ceil(c.content.length / 2);
      out.push(choice({ content: c.content.slice(0, cut) }), choice({ content: c.content.slice(cut) }));
    }
    (c.toolCalls ?? []).forEach((call, k) => {
      const args = call.function.arguments;
      out.push(choice({ tool_calls: [{ index: k, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }));
      out.push(choice({ tool_calls: [{ index: k, function: { arguments: args.slice(0, 8) } }] }));
      out.push(choice({ tool_calls: [{ index: k, function: { arguments: args.slice(8) } }] }));
    });
    out.push(choice({}, { finish_reason: c.finish }));
    return out;
  });
  const chunks: Array<Record<string, any>> = [];
  for (let i = 0; i < Math.max(...perChoice.map((p) => p.length)); i++) {
    for (const p of perChoice) if (p[i]) chunks.push({ ...base, choices: [p[i]], usage: null });
  }
  chunks.push({ ...base, choices: [], usage: USAGE });
  return chunks;
}

/** A chat-completions id the gateway made (never the upstream's). */
export const GATEWAY_ID = /^chatcmpl-/;

/**
 * What the client sees of an OpenAI-shaped upstream's chunks: every chunk with the gateway's id
 * and the catalog model; the usage chunk and every `usage` field only when the caller asked.
 */
export function relayedChunks(upstream: Array<Record<string, any>>, model: string, withUsage: boolean): Array<Record<string, any>> {
  return upstream
    .filter((c) => withUsage || c.choices.length > 0)
    .map((c) => {
      const { usage, ...rest } = c;
      return { ...rest, id: expectGatewayId(), model, ...(withUsage ? { usage } : {}) };
    });
}

const expectGatewayId = () => expect.stringMatching(GATEWAY_ID);

// ---------------------------------------------------------------------------------------------
// Bedrock Converse

export interface ConverseAnswer {
  /** Text in the pieces ConverseStream sends it. */
  text?: string[];
  tools?: Array<{ id: string; name: string; input: Record<string, unknown>; fragments: string[] }>;
  stopReason: string;
}

export const BEDROCK_USAGE = { inputTokens: 27, outputTokens: 8, totalTokens: 35 };
/** Converse usage as OpenAI's (prompt tokens include the cached ones; none here). */
export const BEDROCK_OPENAI_USAGE = { prompt_tokens: 27, completion_tokens: 8, total_tokens: 35, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } };

const OSLO_USE = { id: 'tooluse_oslo', name: 'get_weather', input: { city: 'Oslo' }, fragments: ['{"city":', '"Oslo"}'] };
const ROME_USE = { id: 'tooluse_rome', name: 'get_weather', input: { city: 'Rome' }, fragments: ['{"ci', 'ty":"Rome"}'] };

export function converseAnswerOf(scenario: Scenario): ConverseAnswer {
  switch (scenario) {
    case 'text': return { text: ['Hei! ', 'Hyggelig å møte deg.'], stopReason: 'end_turn' };
    case 'one tool call':
    case 'forced tool': return { tools: [OSLO_USE], stopReason: 'tool_use' };
    case 'parallel tool calls': return { tools: [OSLO_USE, ROME_USE], stopReason: 'tool_use' };
    case 'tool-result turn': return { text: ['It is 3 °C ', 'and sunny in Oslo.'], stopReason: 'end_turn' };
    case 'image input': return { text: ['A single ', 'red pixel.'], stopReason: 'end_turn' };
    case 'json_schema answer': return { text: ['{"city":"Os', 'lo","temp_c":3}'], stopReason: 'end_turn' };
    default: return { text: ['unused'], stopReason: 'end_turn' };
  }
}

/** Converse's whole answer. */
export function converseOutput(a: ConverseAnswer) {
  return {
    $metadata: { httpStatusCode: 200, requestId: 'bedrock-request-1' },
    output: { message: { role: 'assistant', content: [...(a.text ? [{ text: a.text.join('') }] : []), ...(a.tools ?? []).map((t) => ({ toolUse: { toolUseId: t.id, name: t.name, input: t.input } }))] } },
    stopReason: a.stopReason,
    usage: BEDROCK_USAGE,
    metrics: { latencyMs: 42 },
  };
}

/** ConverseStream's events for the answer. */
export function converseEvents(a: ConverseAnswer): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [{ messageStart: { role: 'assistant' } }];
  let block = 0;
  if (a.text) {
    for (const text of a.text) events.push({ contentBlockDelta: { contentBlockIndex: block, delta: { text } } });
    events.push({ contentBlockStop: { contentBlockIndex: block } });
    block += 1;
  }
  for (const t of a.tools ?? []) {
    events.push({ contentBlockStart: { contentBlockIndex: block, start: { toolUse: { toolUseId: t.id, name: t.name } } } });
    for (const input of t.fragments) events.push({ contentBlockDelta: { contentBlockIndex: block, delta: { toolUse: { input } } } });
    events.push({ contentBlockStop: { contentBlockIndex: block } });
    block += 1;
  }
  events.push({ messageStop: { stopReason: a.stopReason } });
  events.push({ metadata: { usage: BEDROCK_USAGE, metrics: { latencyMs: 42 } } });
  return events;
}

const FINISH: Record<string, string> = { end_turn: 'stop', tool_use: 'tool_calls', max_tokens: 'length' };

/** The whole answer the client sees for a Converse answer. */
export function bedrockAnswer(a: ConverseAnswer, model: string): Record<string, unknown> {
  const text = a.text?.join('');
  const calls = (a.tools ?? []).map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: JSON.stringify(t.input) } }));
  return {
    id: expectGatewayId(), object: 'chat.completion', created: expect.any(Number), model,
    choices: [{ index: 0, message: { role: 'assistant', content: text ?? null, refusal: null, ...(calls.length ? { tool_calls: calls } : {}) }, finish_reason: FINISH[a.stopReason], logprobs: null }],
    usage: BEDROCK_OPENAI_USAGE,
  };
}

/** The chunks the client sees for ConverseStream's events (`usage: null` on each but the usage chunk when the caller asked for that). */
export function bedrockChunks(a: ConverseAnswer, model: string, withUsage: boolean): Array<Record<string, unknown>> {
  // With the usage chunk asked for, every other chunk says `usage: null`, as OpenAI's do.
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    id: expectGatewayId(), object: 'chat.completion.chunk', created: expect.any(Number), model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...(withUsage ? { usage: null } : {}),
  });
  // OpenAI's first delta: content null when the turn is tool calls only, "" when it has text
  const out = [chunk({ role: 'assistant', content: !a.text && a.tools?.length ? null : '' })];
  for (const text of a.text ?? []) out.push(chunk({ content: text }));
  (a.tools ?? []).forEach((t, index) => {
    out.push(chunk({ tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] }));
    for (const args of t.fragments) out.push(chunk({ tool_calls: [{ index, function: { arguments: args } }] }));
  });
  out.push(chunk({}, FINISH[a.stopReason]));
  const all: Array<Record<string, unknown>> = out;
  if (withUsage) all.push({ id: expectGatewayId(), object: 'chat.completion.chunk', created: expect.any(Number), model, choices: [], usage: BEDROCK_OPENAI_USAGE });
  return all;
}

// ---------------------------------------------------------------------------------------------
// What a client's result looks like for the parse op

/**
 * A whole answer as `parse` returns it: `message.parsed` added (the Python client also sets
 * `tool_calls: null` when the answer has none).
 */
export function asParsed(answer: Record<string, any>, parsed: unknown, client: ClientName): Record<string, any> {
  return {
    ...answer,
    choices: answer.choices.map((c: any) => ({ ...c, message: { ...c.message, ...(client === 'python' && !c.message.tool_calls ? { tool_calls: null } : {}), parsed } })),
  };
}

/**
 * A cell's client side: the client saw the upstream's answer (or its chunks) for `scenario` with
 * the gateway's id and the catalog `model`, and `parse` yielded the object.
 */
export function expectRelayed(out: Outcome, call: ClientCall, mode: Mode, scenario: Scenario, model: string, client: ClientName): void {
  if (mode === 'whole') {
    const answer = { ...openAiAnswer(scenario), id: expect.stringMatching(GATEWAY_ID), model };
    if (call.op === 'parse') {
      expect(out.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
      expect(out.result).toEqual(asParsed(answer, { city: 'Oslo', temp_c: 3 }, client));
    } else expect(out.result).toEqual(answer);
  } else {
    expect(out.chunks).toEqual(relayedChunks(openAiChunks(scenario), model, includeUsage(call)));
    expect(new Set(out.chunks!.map((c) => c.id)).size).toBe(1);
    if (call.op === 'parse') expect(out.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
  }
}
