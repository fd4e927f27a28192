import { expect } from 'vitest';
import { z } from 'zod';
import { WEATHER_PARAMETERS, WEATHER_SCHEMA, type Scenario } from '../gateway-conformance/matrix.js';
import type { ResponsesCall, ResponsesOutcome } from './clients.js';

/**
 * The Responses API cells: a scenario's request, the chat-completions scenario of the
 * gateway-conformance matrix whose upstream answer it gets (matrix.ts answers it in each
 * provider's shape), the chat messages the upstream must receive, and what the client must see.
 */
export const RESPONSE_SCENARIOS = ['text', 'function call', 'function output round trip', 'json_schema'] as const;
export type ResponseScenario = (typeof RESPONSE_SCENARIOS)[number];
export const MODES = ['whole', 'streamed'] as const;
export type Mode = (typeof MODES)[number];

/** The chat scenario whose upstream answer a Responses scenario gets. */
export const CHAT_SCENARIO: Record<ResponseScenario, Scenario> = {
  text: 'text', 'function call': 'one tool call', 'function output round trip': 'tool-result turn', json_schema: 'json_schema answer',
};

export const WEATHER_FUNCTION = { type: 'function', name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_PARAMETERS, strict: true };
export const CHAT_WEATHER_TOOL = { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city', parameters: WEATHER_PARAMETERS, strict: true } };
export const OSLO_RESULT = '{"temp_c":3,"sky":"sunny"}';

/** The Responses request of a scenario, without `model`. */
export function responsesRequestOf(s: ResponseScenario): Record<string, unknown> {
  switch (s) {
    case 'text':
      return { instructions: 'You are terse.', input: 'Say hello in Norwegian.', temperature: 0.2, metadata: { trace: 'abc' } };
    case 'function call':
      return { input: 'What is the weather in Oslo?', tools: [WEATHER_FUNCTION], tool_choice: 'auto' };
    case 'function output round trip':
      return {
        input: [
          { role: 'user', content: 'What is the weather in Oslo?' },
          { type: 'function_call', call_id: 'call_oslo', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          { type: 'function_call_output', call_id: 'call_oslo', output: OSLO_RESULT },
        ],
        tools: [WEATHER_FUNCTION],
      };
    case 'json_schema':
      return { input: 'The weather in Oslo, as JSON.' };
  }
}

/** The chat request fields (besides model and stream flags) an OpenAI-shaped upstream must get. */
export function chatRequestOf(s: ResponseScenario): Record<string, unknown> {
  const user = (text: string) => ({ role: 'user', content: text }); // sent as a string, passed on as one
  switch (s) {
    case 'text':
      return { messages: [{ role: 'system', content: 'You are terse.' }, user('Say hello in Norwegian.')], temperature: 0.2 };
    case 'function call':
      return { messages: [user('What is the weather in Oslo?')], tools: [CHAT_WEATHER_TOOL], tool_choice: 'auto' };
    case 'function output round trip':
      return {
        messages: [
          user('What is the weather in Oslo?'),
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
          { role: 'tool', tool_call_id: 'call_oslo', content: OSLO_RESULT },
        ],
        tools: [CHAT_WEATHER_TOOL],
      };
    case 'json_schema':
      return { messages: [user('The weather in Oslo, as JSON.')] };
  }
}

export const nodeWeather = () => z.object({ city: z.string(), temp_c: z.number() });

/** The client call of a cell: json_schema whole is the SDKs' `responses.parse`; streamed, a raw json_schema format. */
export function responsesCallOf(s: ResponseScenario, mode: Mode, model: string): ResponsesCall {
  const params = { model, ...responsesRequestOf(s) };
  if (s === 'json_schema' && mode === 'whole') return { op: 'parse', params, schema: WEATHER_SCHEMA, nodeSchema: nodeWeather() };
  if (s === 'json_schema') return { op: 'stream', params: { ...params, text: { format: { type: 'json_schema', ...WEATHER_SCHEMA, strict: true } } } };
  return { op: mode === 'whole' ? 'create' : 'stream', params };
}

/** What the answer says in each scenario. */
export const ANSWER_TEXT: Partial<Record<ResponseScenario, string>> = {
  text: 'Hei! Hyggelig å møte deg.', 'function output round trip': 'It is 3 °C and sunny in Oslo.', json_schema: '{"city":"Oslo","temp_c":3}',
};

/** The event types a stream must have, in order (consecutive deltas collapsed into one). */
export function expectedEventTypes(s: ResponseScenario, calls = 1): string[] {
  const head = ['response.created', 'response.in_progress'];
  if (s === 'function call') {
    const call = ['response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done'];
    return [...head, ...Array.from({ length: calls }, () => call).flat(), 'response.completed'];
  }
  return [...head, 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed'];
}

/** The event types of a stream with consecutive deltas collapsed. */
export const collapsedTypes = (events: any[]) => events.map((e) => e.type).filter((t, i, all) => !(t.endsWith('.delta') && all[i - 1] === t));

/**
 * Output items without what the SDKs add to them themselves (`parsed` on text parts,
 * `parsed_arguments` on calls of strict function tools), after checking what they parsed.
 */
export function withoutSdkFields(output: any[]): any[] {
  return output.map(({ parsed_arguments: args, ...item }) => {
    if (args !== undefined) expect(args).toEqual({ city: 'Oslo' });
    return item.content ? { ...item, content: item.content.map(({ parsed: _parsed, ...part }: any) => part) } : item;
  });
}

/**
 * What every client must see for a scenario: a `resp_…` id, the catalog model, status completed,
 * the output items in OpenAI's shapes, usage in the Responses shape; for a stream, the typed
 * events in order with sequence numbers 0, 1, 2, … and one response id throughout.
 * @param callId the tool call's id as the provider named it
 */
export function expectResponse(out: ResponsesOutcome, s: ResponseScenario, mode: Mode, model: string, usage: { input: number; output: number; cached: number; reasoning: number }, callId = 'call_oslo'): void {
  expect(out.error, JSON.stringify(out.error)).toBeUndefined();
  const r = { ...out.result, output: withoutSdkFields(out.result.output) };
  expect(r).toMatchObject({ id: expect.stringMatching(/^resp_[0-9a-f]{48}$/), object: 'response', model, status: 'completed', error: null, incomplete_details: null });
  expect(r.usage).toEqual({
    input_tokens: usage.input, input_tokens_details: { cached_tokens: usage.cached, cache_write_tokens: 0 },
    output_tokens: usage.output, output_tokens_details: { reasoning_tokens: usage.reasoning }, total_tokens: usage.input + usage.output,
  });
  if (s === 'function call') {
    expect(r.output).toEqual([{ id: expect.stringMatching(/^fc_/), type: 'function_call', status: 'completed', call_id: callId, name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
    expect(r.output_text).toBe('');
  } else {
    expect(r.output).toHaveLength(1);
    expect(r.output[0]).toMatchObject({ id: expect.stringMatching(/^msg_/), type: 'message', role: 'assistant', status: 'completed' });
    expect(r.output[0].content).toHaveLength(1);
    expect(r.output[0].content[0]).toMatchObject({ type: 'output_text', text: ANSWER_TEXT[s], annotations: [] });
    expect(r.output_text).toBe(ANSWER_TEXT[s]);
  }
  if (s === 'json_schema' && mode === 'whole') expect(out.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
  if (s === 'text') expect(r).toMatchObject({ instructions: 'You are terse.', temperature: 0.2, metadata: { trace: 'abc' }, store: true });
  if (mode === 'streamed') {
    const events = out.events!;
    expect(collapsedTypes(events)).toEqual(expectedEventTypes(s));
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(new Set(events.filter((e) => e.response).map((e) => e.response.id))).toEqual(new Set([r.id]));
    const deltas = events.filter((e) => e.type === 'response.output_text.delta' || e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
    expect(deltas).toBe(s === 'function call' ? '{"city":"Oslo"}' : ANSWER_TEXT[s]);
    expect(withoutSdkFields(events.at(-1).response.output)).toEqual(r.output);
  }
}
