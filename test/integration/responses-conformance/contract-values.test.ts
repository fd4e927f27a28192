import { describe, expect, it, vi } from 'vitest';
import { CLIENTS, type ClientName } from '../gateway-conformance/clients.js';
import { openAiAnswer, openAiChunks } from '../gateway-conformance/matrix.js';
import { useConformanceGateway } from '../gateway-conformance/setup.js';
import { WEATHER_FUNCTION } from './cases.js';
import { PythonResponsesClient, runResponses, type ResponsesCall } from './clients.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * What OpenAI's API refuses or answers, as the official clients see it through `tessera serve`
 * (s23resp2, from a hostile pass with the clients): enumerated values outside OpenAI's are a 400
 * before any upstream call; an upstream's refusal of a renamed field names the caller's field;
 * message parts of another role's type are refused; a call the upstream gave no id gets OpenAI's ids.
 */
const suite = useConformanceGateway(PythonResponsesClient.start);
const run = (client: ClientName, call: ResponsesCall) => runResponses(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, call);
const MODEL = 'openai-compatible/default';

const REFUSED: Array<[string, Record<string, unknown>, RegExp]> = [
  ['reasoning.effort', { input: 'Hi', reasoning: { effort: 'bogus' } }, /^Invalid value: 'bogus'\. Supported values are: 'none', 'minimal', 'low', 'medium', 'high', 'xhigh', and 'max'\.$/],
  ['reasoning.summary', { input: 'Hi', reasoning: { summary: 'bogus' } }, /^Invalid value: 'bogus'\. Supported values are: 'auto', 'concise', and 'detailed'\.$/],
  ['input[0].content[0].type', { input: [{ role: 'assistant', content: [{ type: 'input_text', text: 'hi' }] }, { role: 'user', content: 'Go on' }] }, /'input_text' is not a part of an assistant message: supported values are output_text, refusal/],
  ['input[0].content[0].type', { input: [{ role: 'user', content: [{ type: 'output_text', text: 'hi' }] }] }, /'output_text' is not a part of a user message: supported values are input_text, input_image, input_file/],
];

describe("values OpenAI's API refuses are a 400 naming the field, before any upstream call", () => {
  const cells = REFUSED.flatMap(([param, fields, message]) => CLIENTS.map((client) => ({ param, fields, message, client })));
  it.each(cells)('$param: $message ($client client)', async ({ param, fields, message, client }) => {
    const out = await run(client, { op: 'create', params: { model: MODEL, ...fields } });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param } });
    expect(out.error!.body.message).toMatch(message);
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});

// OpenAI answers a value outside an enum with code `invalid_value` ("Invalid value: 'bogus'. Supported values are: …").
const OUTSIDE_ENUM: Array<[string, Record<string, unknown>, RegExp]> = [
  ['reasoning.context', { input: 'Hi', reasoning: { context: 'bogus' } }, /^Invalid value: 'bogus'\. Supported values are: 'auto', 'current_turn', and 'all_turns'\.$/],
  ['reasoning.effort', { input: 'Hi', reasoning: { effort: 'bogus' } }, /^Invalid value: 'bogus'\. Supported values are: 'none', 'minimal', 'low', 'medium', 'high', 'xhigh', and 'max'\.$/],
  ['text.verbosity', { input: 'Hi', text: { verbosity: 'bogus' } }, /^Invalid value: 'bogus'\. Supported values are: 'low', 'medium', and 'high'\.$/],
];

describe("a value outside OpenAI's enum is its 400 invalid_value naming the field, before any upstream call", () => {
  const cells = OUTSIDE_ENUM.flatMap(([param, fields, message]) => CLIENTS.map((client) => ({ param, fields, message, client })));
  it.each(cells)('$param: "bogus" ($client client)', async ({ param, fields, message, client }) => {
    const out = await run(client, { op: 'create', params: { model: MODEL, ...fields } });
    expect(out.error).toMatchObject({ status: 400, body: { type: 'invalid_request_error', param, code: 'invalid_value' } });
    expect(out.error!.body.message).toMatch(message);
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});

describe("an upstream's refusal of a renamed field", () => {
  it.each(CLIENTS)("OpenAI's 'Unsupported parameter: reasoning_effort' names reasoning.effort first, the upstream's words after (%s client)", async (client) => {
    suite.env.upstream.script({ status: 400, body: { error: { message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.", type: 'invalid_request_error', param: 'reasoning_effort', code: 'unsupported_parameter' } } });
    const out = await run(client, { op: 'create', params: { model: MODEL, input: 'Hi', reasoning: { effort: 'low' } } });
    expect(suite.env.upstream.calls[0].body).toMatchObject({ reasoning_effort: 'low' });
    expect(out.error).toMatchObject({ status: 400, body: { param: 'reasoning.effort', code: 'unsupported_parameter' } });
    expect(out.error!.body.message).toMatch(/^reasoning\.effort was refused as reasoning_effort, .*\(the upstream said: Unsupported parameter: 'reasoning_effort' is not supported with this model\.\)$/);
  });
});

describe('a tool call the upstream gave no id', () => {
  it.each(CLIENTS)('whole and streamed: the function_call item is fc_…, its call_id call_… (%s client)', async (client) => {
    const whole = openAiAnswer('one tool call');
    delete whole.choices[0].message.tool_calls[0].id;
    const chunks = openAiChunks('one tool call').map((c) => ({ ...c, choices: c.choices.map((ch: any) => (ch.delta?.tool_calls ? { ...ch, delta: { ...ch.delta, tool_calls: ch.delta.tool_calls.map(({ id: _id, ...t }: any) => t) } } : ch)) }));
    suite.env.upstream.script({ body: whole }, { events: [...chunks.map((data) => ({ data })), { data: '[DONE]' }] });
    const params = { model: MODEL, input: 'What is the weather in Oslo?', tools: [WEATHER_FUNCTION] };
    const created = await run(client, { op: 'create', params });
    const streamed = await run(client, { op: 'stream', params });
    for (const out of [created, streamed]) {
      expect(out.error, JSON.stringify(out.error)).toBeUndefined();
      const call = out.result.output.find((o: any) => o.type === 'function_call');
      expect(call).toMatchObject({ id: expect.stringMatching(/^fc_/), call_id: expect.stringMatching(/^call_[0-9a-f]{24}$/), name: 'get_weather' });
    }
    const added = streamed.events!.find((e) => e.type === 'response.output_item.added' && e.item.type === 'function_call');
    expect(added.item.call_id).toBe(streamed.result.output.find((o: any) => o.type === 'function_call').call_id);
  });
});
