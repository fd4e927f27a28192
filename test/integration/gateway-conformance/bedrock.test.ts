import { mockBedrockRuntime } from '../../support/bedrock-strict.js';
import { ConverseCommand, ConverseStreamCommand, ThrottlingException, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLIENTS, runClient, type ClientName } from './clients.js';
import {
  MODES, NODE_WEATHER_FORMAT, PNG_BASE64, PYTHON_WEATHER_FORMAT, SCENARIOS, WEATHER_PARAMETERS, asParsed, bedrockAnswer, bedrockChunks, callOf,
  converseAnswerOf, converseEvents, converseOutput, includeUsage, type Mode, type Scenario,
} from './matrix.js';
import { PythonClient, expectRateHeaders, fakeAwsEnv, plainTenant, useConformanceGateway } from './setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * The conformance matrix for `bedrock/amazon.nova-lite`: OpenAI's request mapped onto Converse /
 * ConverseStream (asserted as the exact SDK command input), Converse's answer and events mapped
 * back (asserted as the exact result the client saw). Bedrock has no `n > 1` and no logprobs:
 * those cells assert the 400 that names the field and the provider, and that nothing was sent.
 */
fakeAwsEnv();
const bedrock = mockBedrockRuntime();

const MODEL = 'bedrock/amazon.nova-lite';
const MODEL_ID = 'amazon.nova-lite-v1:0';

const suite = useConformanceGateway(PythonClient.start, { tenants: [plainTenant('acme'), plainTenant('hedged', { fallbacks: ['openai-compatible/backup'] }), plainTenant('leaver')] });
afterAll(() => bedrock.restore());
beforeEach(() => bedrock.reset());

const run = (client: ClientName, call: Parameters<typeof runClient>[4], tenant = 'acme') => runClient(client, suite.python, suite.env.gw.url, suite.env.tokens[tenant], call);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function* eventStream(events: Array<Record<string, unknown>>) {
  for (const e of events) yield e;
}

/** Image bytes as base64, so that Buffers and Uint8Arrays compare by content. */
function withBase64Bytes(v: unknown): unknown {
  if (v instanceof Uint8Array) return { base64: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(withBase64Bytes);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withBase64Bytes(x)]));
  return v;
}

const TOOL_CONFIG = { tools: [{ toolSpec: { name: 'get_weather', description: 'Current weather in a city', inputSchema: { json: WEATHER_PARAMETERS } } }] };
const userText = (text: string) => ({ role: 'user', content: [{ text }] });

/** The exact Converse input for a scenario (the json_schema one depends on the schema the client sent). */
function converseInput(scenario: Scenario, client: ClientName): Record<string, unknown> {
  switch (scenario) {
    case 'text':
      return { modelId: MODEL_ID, messages: [userText('Say hello in Norwegian.')], system: [{ text: 'You are terse.' }], inferenceConfig: { temperature: 0.2 } };
    case 'one tool call':
      return { modelId: MODEL_ID, messages: [userText('What is the weather in Oslo?')], toolConfig: TOOL_CONFIG };
    case 'parallel tool calls':
      return { modelId: MODEL_ID, messages: [userText('Weather in Oslo and in Rome?')], toolConfig: TOOL_CONFIG };
    case 'forced tool':
      return { modelId: MODEL_ID, messages: [userText('Oslo, please.')], toolConfig: { ...TOOL_CONFIG, toolChoice: { tool: { name: 'get_weather' } } } };
    case 'tool-result turn':
      return {
        modelId: MODEL_ID,
        messages: [
          userText('What is the weather in Oslo?'),
          { role: 'assistant', content: [{ toolUse: { toolUseId: 'call_oslo', name: 'get_weather', input: { city: 'Oslo' } } }] },
          { role: 'user', content: [{ toolResult: { toolUseId: 'call_oslo', content: [{ text: '{"temp_c":3,"sky":"sunny"}' }] } }] },
        ],
        toolConfig: TOOL_CONFIG,
      };
    case 'image input':
      return { modelId: MODEL_ID, messages: [{ role: 'user', content: [{ text: 'What is in this image?' }, { image: { format: 'png', source: { bytes: { base64: PNG_BASE64 } } } }] }] };
    case 'json_schema answer': {
      const format = (client === 'node' ? NODE_WEATHER_FORMAT : PYTHON_WEATHER_FORMAT) as { json_schema: { schema: unknown; name: string } };
      return {
        modelId: MODEL_ID,
        messages: [userText('The weather in Oslo, as JSON.')],
        outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(format.json_schema.schema), name: 'Weather' } } } },
      };
    }
    default:
      throw new Error(`no Converse input for ${scenario}`);
  }
}

/** Fields Converse has no equivalent for: the 400 names them. */
const REFUSED: Partial<Record<Scenario, string>> = { 'n = 2': 'n', logprobs: 'logprobs' };

interface Cell { mode: Mode; scenario: Scenario; client: ClientName }
const cells: Cell[] = MODES.flatMap((mode) => SCENARIOS.flatMap((scenario) => CLIENTS.map((client) => ({ mode, scenario, client }))));

describe('conformance: bedrock (Converse, SDK mocked)', () => {
  it.each(cells)('bedrock · $mode · $scenario · $client client', async ({ mode, scenario, client }) => {
    // GIVEN Converse's answer for the scenario
    const answer = converseAnswerOf(scenario);
    if (mode === 'whole') bedrock.on(ConverseCommand).resolves(converseOutput(answer) as never);
    else bedrock.on(ConverseStreamCommand).callsFake(() => ({ $metadata: { httpStatusCode: 200, requestId: 'bedrock-request-1' }, stream: eventStream(converseEvents(answer)) }));
    const call = callOf(scenario, mode, MODEL);

    // WHEN the client calls the gateway
    const out = await run(client, call);
    const sent = [...bedrock.commandCalls(ConverseCommand), ...bedrock.commandCalls(ConverseStreamCommand)];

    const refused = REFUSED[scenario];
    if (refused) {
      // THEN a 400 naming the field and the provider, and nothing sent to Bedrock
      expect(out.ok).toBe(false);
      expect(out.error!.status).toBe(400);
      expect(out.error!.body).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param: refused });
      expect(out.error!.body.message).toMatch(new RegExp(`^${refused}\\b`));
      expect(out.error!.body.message).toMatch(/bedrock/);
      expect(out.chunks ?? []).toEqual([]);
      expect(sent).toHaveLength(0);
      return;
    }

    // THEN Bedrock got exactly the mapped request, through the API of the mode
    expect(out.error).toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(sent[0].args[0]).toBeInstanceOf(mode === 'whole' ? ConverseCommand : ConverseStreamCommand);
    expect(withBase64Bytes(sent[0].args[0].input)).toEqual(converseInput(scenario, client));

    // AND the client saw Converse's answer in OpenAI's shape
    if (mode === 'whole') {
      const expected = bedrockAnswer(answer, MODEL);
      if (call.op === 'parse') {
        expect(out.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
        expect(out.result).toEqual(asParsed(expected as Record<string, any>, { city: 'Oslo', temp_c: 3 }, client));
      } else expect(out.result).toEqual(expected);
    } else {
      expect(out.chunks).toEqual(bedrockChunks(answer, MODEL, includeUsage(call)));
      expect(new Set(out.chunks!.map((c) => c.id)).size).toBe(1);
      if (call.op === 'parse') expect(out.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
    }
  });
});

describe('bedrock: parallel_tool_calls false (what LlamaIndex, LangChain structured output, the Agents SDK and the AI SDK send)', () => {
  const cases = MODES.flatMap((mode) => CLIENTS.map((client) => ({ mode, client })));
  it.each(cases)('is accepted, nothing sent for it, and Bedrock\'s two tool calls reach the client as one ($mode, $client client)', async ({ mode, client }) => {
    const answer = converseAnswerOf('parallel tool calls');
    if (mode === 'whole') bedrock.on(ConverseCommand).resolves(converseOutput(answer) as never);
    else bedrock.on(ConverseStreamCommand).callsFake(() => ({ $metadata: { httpStatusCode: 200, requestId: 'bedrock-request-1' }, stream: eventStream(converseEvents(answer)) }));
    const call = callOf('parallel tool calls', mode, MODEL);
    call.params.parallel_tool_calls = false;

    const out = await run(client, call);

    expect(out.error).toBeUndefined();
    const sent = [...bedrock.commandCalls(ConverseCommand), ...bedrock.commandCalls(ConverseStreamCommand)];
    expect(sent).toHaveLength(1);
    expect(sent[0].args[0].input).toEqual(converseInput('parallel tool calls', client));
    const one = { ...answer, tools: answer.tools!.slice(0, 1) };
    if (mode === 'whole') expect(out.result).toEqual(bedrockAnswer(one, MODEL));
    else expect(out.chunks).toEqual(bedrockChunks(one, MODEL, includeUsage(call)));
  });
});

describe('bedrock: a tool message\'s name (what @langchain/openai sends on every tool message)', () => {
  it.each(CLIENTS)('is accepted when it repeats the function name of the call it answers; a different name is a 400 naming both (%s client)', async (client) => {
    const answer = converseAnswerOf('tool-result turn');
    bedrock.on(ConverseCommand).resolves(converseOutput(answer) as never);
    const call = callOf('tool-result turn', 'whole', MODEL);
    const withName = (name: string) => ({ ...call, params: { ...call.params, messages: (call.params.messages as Array<Record<string, unknown>>).map((m) => (m.role === 'tool' ? { ...m, name } : m)) } });

    const out = await run(client, withName('get_weather'));
    expect(out.error).toBeUndefined();
    expect(withBase64Bytes(bedrock.commandCalls(ConverseCommand)[0].args[0].input)).toEqual(converseInput('tool-result turn', client));
    expect(out.result).toEqual(bedrockAnswer(answer, MODEL));

    const refused = await run(client, withName('get_time'));
    expect(refused.error!.status).toBe(400);
    expect(refused.error!.body).toMatchObject({ type: 'invalid_request_error', param: 'messages[2].name' });
    expect(refused.error!.body.message).toContain('get_time');
    expect(refused.error!.body.message).toContain('get_weather');
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
  });
});

describe('bedrock refusals that name the field', () => {
  it.each(CLIENTS)('an https image URL is a 400 asking for a data URL; the gateway fetches nothing (%s client)', async (client) => {
    const out = await run(client, {
      op: 'create',
      params: { model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] },
    });
    expect(out.error!.status).toBe(400);
    expect(out.error!.body).toMatchObject({ code: 'unsupported_parameter', param: 'messages[0].content[1].image_url' });
    expect(out.error!.body.message).toMatch(/data URL/);
    expect(out.error!.body.message).toMatch(/bedrock/);
    expect(bedrock.calls()).toHaveLength(0);
  });

  it.each(CLIENTS)('stream_options.include_obfuscation true is a 400 naming it (ConverseStream events carry no obfuscation padding); false streams as asked (%s client)', async (client) => {
    // GIVEN a stream request asking for OpenAI's obfuscation padding, as the `openai` package's ChatCompletionStreamOptions lets it
    const call = callOf('text', 'streamed', MODEL);
    const asked = await run(client, { ...call, params: { ...call.params, stream_options: { include_usage: true, include_obfuscation: true } } });
    // THEN a 400 naming the nested field and the provider, and nothing sent: never a stream without the padding asked for
    expect(asked.error!.status).toBe(400);
    expect(asked.error!.body).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param: 'stream_options.include_obfuscation' });
    expect(asked.error!.body.message).toMatch(/^stream_options\.include_obfuscation is not supported by the bedrock provider: .*obfuscation/);
    expect(bedrock.calls()).toHaveLength(0);

    // AND false (no padding: what ConverseStream gives) streams the answer, the usage chunk last as asked
    const answer = converseAnswerOf('text');
    bedrock.on(ConverseStreamCommand).callsFake(() => ({ $metadata: { httpStatusCode: 200, requestId: 'bedrock-request-1' }, stream: eventStream(converseEvents(answer)) }));
    const plain = await run(client, { ...call, params: { ...call.params, stream_options: { include_usage: true, include_obfuscation: false } } });
    expect(plain.error).toBeUndefined();
    expect(plain.chunks).toEqual(bedrockChunks(answer, MODEL, true));
  });

  // OpenAI's words and code for a field it does not define (was unsupported_parameter, `… is not supported by the bedrock provider`).
  it.each(CLIENTS)('a stream_options key OpenAI does not define (vLLM\'s continuous_usage_stats) is a 400 naming it, not dropped, in OpenAI\'s words for an unknown field (%s client)', async (client) => {
    const call = callOf('text', 'streamed', MODEL);
    const out = await run(client, { ...call, params: { ...call.params, stream_options: { include_usage: true, continuous_usage_stats: true } } });
    expect(out.error!.status).toBe(400);
    expect(out.error!.body).toMatchObject({ type: 'invalid_request_error', code: 'unknown_parameter', param: 'stream_options.continuous_usage_stats' });
    expect(out.error!.body.message).toMatch(/^Unknown parameter: 'stream_options\.continuous_usage_stats'\. .*\(the bedrock provider\)$/);
    expect(bedrock.calls()).toHaveLength(0);
  });

  it.each(CLIENTS)('a top-level field OpenAI does not define (vLLM\'s top_k) is OpenAI\'s 400 "Unknown parameter: \'top_k\'.", code unknown_parameter (%s client)', async (client) => {
    const call = callOf('text', 'whole', MODEL);
    const out = await run(client, { ...call, params: { ...call.params, top_k: 40 } });
    expect(out.error).toMatchObject({ status: 400, type: 'BadRequestError', body: { type: 'invalid_request_error', code: 'unknown_parameter', param: 'top_k' } });
    expect(out.error!.body.message).toBe("Unknown parameter: 'top_k'. Not a field of OpenAI chat completions, and Converse has no place to forward it (the bedrock provider)");
    expect(bedrock.calls()).toHaveLength(0);
  });

  // A nested key is answered as OpenAI answers one ('messages[1].tool_calls[0].index': songquanpeng/one-api#1319); until
  // 2026-12-07 unsupported_parameter, "<path> is not supported by the bedrock provider: not a field of …".
  it.each(CLIENTS)('a nested key OpenAI does not define (Anthropic\'s cache_control on a part, a key of a message) is OpenAI\'s 400 "Unknown parameter: \'<path>\'.", code unknown_parameter (%s client)', async (client) => {
    const call = callOf('text', 'whole', MODEL);
    for (const [param, messages] of [
      ['messages[0].content[0].cache_control', [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }]],
      ['messages[0].foo', [{ role: 'user', content: 'hi', foo: 'bar' }]],
    ] as const) {
      const out = await run(client, { ...call, params: { ...call.params, messages } });
      expect(out.error).toMatchObject({ status: 400, type: 'BadRequestError', body: { type: 'invalid_request_error', code: 'unknown_parameter', param } });
      expect(out.error!.body.message.startsWith(`Unknown parameter: '${param}'. Not a field of OpenAI's `)).toBe(true);
    }
    expect(bedrock.calls()).toHaveLength(0);
  });
});

describe('bedrock: tool messages answer the calls of the assistant message before them', () => {
  it.each(CLIENTS)('a tool message answering an id the conversation lacks, or a call left unanswered, is a 400 naming the message; nothing sent (%s client)', async (client) => {
    const call = callOf('tool-result turn', 'whole', MODEL);
    const messages = call.params.messages as Array<Record<string, unknown>>;
    // A history trimmed past the assistant message that made the call (the tool message is kept)
    const orphan = await run(client, { ...call, params: { ...call.params, messages: messages.filter((m) => m.role !== 'assistant') } });
    expect(orphan.error!.status).toBe(400);
    expect(orphan.error!.body).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param: 'messages[1].tool_call_id' });
    expect(orphan.error!.body.message).toContain('"call_oslo"');
    // The assistant's call, then the next question without its result
    const unanswered = await run(client, { ...call, params: { ...call.params, messages: [...messages.filter((m) => m.role !== 'tool'), { role: 'user', content: 'Never mind.' }] } });
    expect(unanswered.error!.status).toBe(400);
    expect(unanswered.error!.body).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param: 'messages[1].tool_calls' });
    expect(unanswered.error!.body.message).toContain('"call_oslo"');
    expect(bedrock.calls()).toHaveLength(0);
  });

  it.each(CLIENTS)('a tool conversation sent without tools (a summarizing step of an agent) is a 400 naming tools; nothing sent (%s client)', async (client) => {
    const call = callOf('tool-result turn', 'whole', MODEL);
    const { tools: _tools, ...params } = call.params as Record<string, unknown>;
    const out = await run(client, { ...call, params });
    expect(out.error!.status).toBe(400);
    expect(out.error!.body).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param: 'tools' });
    expect(out.error!.body.message).toMatch(/bedrock/);
    expect(out.error!.body.message).toMatch(/send the tools the conversation called/);
    expect(bedrock.calls()).toHaveLength(0);
  });
});

describe('bedrock: what real apps send reaches Converse in a form Bedrock takes (the mock refuses what Bedrock refuses: support/bedrock-strict.ts)', () => {
  const weather = { type: 'function', function: { name: 'get_weather', parameters: WEATHER_PARAMETERS } };
  const history = (id: string, name = 'get_weather') => [
    { role: 'user', content: 'What is the weather in Oslo?' },
    { role: 'assistant', content: '', tool_calls: [{ id, type: 'function', function: { name, arguments: '{"city":"Oslo"}' } }] },
    { role: 'tool', tool_call_id: id, content: '3 °C' },
  ];

  it.each(CLIENTS)('tool call ids of other providers and SDKs (toolu_…, with . : |, 70 characters) become Converse toolUseIds, each result paired with its call (%s client)', async (client) => {
    bedrock.on(ConverseCommand).resolves(converseOutput(converseAnswerOf('tool-result turn')) as never);
    const ids = ['toolu_01A09q90qw90lq917835lq9', 'call.abc:1', 'fc_1|item_2', 'c'.repeat(70)];
    for (const id of ids) {
      const out = await run(client, { op: 'create', params: { model: MODEL, messages: history(id), tools: [weather] } });
      expect(out.error, id).toBeUndefined();
    }
    const sent = bedrock.commandCalls(ConverseCommand).map((c) => c.args[0].input.messages!);
    expect(sent).toHaveLength(ids.length);
    sent.forEach((messages, k) => {
      const use = messages[1].content![0].toolUse!.toolUseId!;
      expect(use, ids[k]).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
      expect(messages[2].content![0].toolResult!.toolUseId).toBe(use);
    });
    expect(sent[0][1].content![0].toolUse!.toolUseId).toBe('toolu_01A09q90qw90lq917835lq9');
  });

  it.each(CLIENTS)('a tool named server.tool (MCP style), declared or called in the history, is a 400 naming the field and the name; nothing sent (%s client)', async (client) => {
    const mcp = { type: 'function', function: { name: 'files.read', parameters: { type: 'object', properties: {} } } };
    const declared = await run(client, { op: 'create', params: { model: MODEL, messages: [{ role: 'user', content: 'Read a.txt' }], tools: [weather, mcp] } });
    expect(declared.error!.status).toBe(400);
    expect(declared.error!.body).toMatchObject({ type: 'invalid_request_error', param: 'tools[1].function.name' });
    expect(declared.error!.body.message).toContain('files.read');
    const called = await run(client, { op: 'create', params: { model: MODEL, messages: history('call_1', 'files.read'), tools: [weather] } });
    expect(called.error!.status).toBe(400);
    expect(called.error!.body).toMatchObject({ type: 'invalid_request_error', param: 'messages[1].tool_calls[0].function.name' });
    expect(called.error!.body.message).toContain('files.read');
    expect(bedrock.calls()).toHaveLength(0);
  });

  it.each(CLIENTS)('a tool named get-weather, an assistant turn with empty content and tool calls, two user turns in a row, a system message in the middle and a file named report (final).pdf are sent as Bedrock takes them (%s client)', async (client) => {
    bedrock.on(ConverseCommand).resolves(converseOutput(converseAnswerOf('text')) as never);
    const dashed = { type: 'function', function: { name: 'get-weather', parameters: WEATHER_PARAMETERS } };
    const out = await run(client, { op: 'create', params: { model: MODEL, tools: [dashed], messages: [
      { role: 'user', content: 'Hi.' },
      { role: 'user', content: [{ type: 'text', text: 'Read this, then the weather.' }, { type: 'file', file: { filename: 'report (final).pdf', file_data: 'data:application/pdf;base64,JVBERi0xLjQK' } }] },
      { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get-weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '3 °C' },
      { role: 'system', content: 'Answer in one line.' },
      { role: 'user', content: 'So?' },
    ] } });
    expect(out.error).toBeUndefined();
    const input = bedrock.commandCalls(ConverseCommand)[0].args[0].input;
    expect(input.messages!.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(input.messages![0].content![2].document!.name).toBe('report (final)');
    expect(input.system).toEqual([{ text: 'Answer in one line.' }]);
  });
});

describe('bedrock errors keep their meaning', () => {
  const ask = { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] };

  it.each(CLIENTS)('a ValidationException (input too long) is the caller\'s 400 with Bedrock\'s message, sent once (%s client)', async (client) => {
    bedrock.on(ConverseCommand).rejects(new ValidationException({ message: 'Input is too long for requested model.', $metadata: { httpStatusCode: 400 } }));
    const out = await run(client, { op: 'create', params: ask });
    expect(out.error!.status).toBe(400);
    expect(out.error!.body).toMatchObject({ message: 'Input is too long for requested model.', type: 'invalid_request_error', code: 'ValidationException' });
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
  });

  // Converse's toolChoice any / tool: "Only supported by Anthropic Claude 3 and Amazon Nova models" (API_runtime_ToolChoice); Bedrock's
  // words for another model, strands-agents/harness-sdk#1241. The caller sent tool_choice, not toolConfig: the 400 names its field.
  const forced = MODES.flatMap((mode) => CLIENTS.map((client) => ({ mode, client })));
  const refusal = "This model doesn't support the toolConfig.toolChoice.any field. Remove toolConfig.toolChoice.any and try again.";
  /** The 400 a refused `tool_choice: "required"` becomes: OpenAI's shape at `tool_choice`, the value sent, Bedrock's words. */
  const expectToolChoiceRefused = (out: Awaited<ReturnType<typeof run>>) => {
    expect(out.error!.status).toBe(400);
    expect(out.error!.body).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param: 'tool_choice' });
    expect(out.error!.body.message).toMatch(/^tool_choice is not supported by the bedrock provider: "required" is not taken by this Bedrock model/);
    expect(out.error!.body.message).toContain(refusal);
  };
  it.each(forced)('Bedrock refusing the toolChoice a tool_choice became is a 400 naming tool_choice and its value, Bedrock\'s words kept ($mode, $client client)', async ({ mode, client }) => {
    const refused = new ValidationException({ message: refusal, $metadata: { httpStatusCode: 400 } });
    if (mode === 'whole') bedrock.on(ConverseCommand).rejects(refused);
    else bedrock.on(ConverseStreamCommand).rejects(refused);
    const call = callOf('one tool call', mode, MODEL);
    call.params.tool_choice = 'required';
    const out = await run(client, call);
    expectToolChoiceRefused(out);
    expect([...bedrock.commandCalls(ConverseCommand), ...bedrock.commandCalls(ConverseStreamCommand)]).toHaveLength(1);
  });

  // ConverseStreamOutput lists validationException among the stream's events, with no rule on when it comes: as the first
  // event (after messageStart, before any content) the client has been sent nothing yet, so it is the same 400 as at the
  // send; after content, the error the stream ends with names tool_choice too.
  it.each(CLIENTS)('the same refusal as a validationException event before any content is the same 400 naming tool_choice (%s client)', async (client) => {
    bedrock.on(ConverseStreamCommand).callsFake(() => ({
      $metadata: { httpStatusCode: 200, requestId: 'bedrock-request-1' },
      stream: eventStream([{ messageStart: { role: 'assistant' } }, { validationException: { message: refusal } }]),
    }));
    const call = callOf('one tool call', 'streamed', MODEL);
    call.params.tool_choice = 'required';
    const out = await run(client, call);
    expectToolChoiceRefused(out);
    expect(out.chunks ?? []).toEqual([]);
    expect(bedrock.commandCalls(ConverseStreamCommand)).toHaveLength(1);
  });

  it.each(CLIENTS)('the refusal as a validationException event after content ends the stream with an error naming tool_choice, after the text so far (%s client)', async (client) => {
    const refusal = "This model doesn't support the toolConfig.toolChoice.tool field. Remove toolConfig.toolChoice.tool and try again.";
    bedrock.on(ConverseStreamCommand).callsFake(() => ({
      $metadata: { httpStatusCode: 200, requestId: 'bedrock-request-1' },
      stream: eventStream([
        { messageStart: { role: 'assistant' } },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hei' } } },
        { validationException: { message: refusal } },
      ]),
    }));
    const call = callOf('one tool call', 'streamed', MODEL);
    call.params.tool_choice = { type: 'function', function: { name: 'get_weather' } };
    const out = await run(client, call);
    expect(out.ok).toBe(false);
    expect(out.chunks!.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hei');
    expect(out.error!.body).toMatchObject({ code: 'unsupported_parameter', param: 'tool_choice' });
    expect(out.error!.body.message).toContain(refusal);
  });

  it('a ThrottlingException with no fallback: 429 with the x-ratelimit headers, x-should-retry false and no invented retry-after', async () => {
    bedrock.on(ConverseCommand).rejects(new ThrottlingException({ message: 'Too many requests, please wait before trying again.', $metadata: { httpStatusCode: 429 } }));
    const out = await run('node', { op: 'create', params: ask });
    expect(out.error!.status).toBe(429);
    expect(out.error!.body.message).toContain('Too many requests, please wait before trying again.');
    // OpenAI's rate-limit shape (the gateway's own 429s), not Bedrock's exception name as the code.
    expect(out.error!.body).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded', message: expect.stringContaining('Bedrock ThrottlingException: ') });
    // Bedrock says no wait and the gateway already retried: the SDKs are told not to retry, and no retry-after says otherwise.
    expect(out.error!.headers['x-should-retry']).toBe('false');
    expectRateHeaders(out.error!.headers, { retryAfter: false });
    expect(bedrock.commandCalls(ConverseCommand).length).toBeLessThanOrEqual(2); // one retry at most (upstreamRetries: 1)
  });

  it.each(CLIENTS)('a ThrottlingException on ConverseStream: the %s client gets 429 rate_limit_exceeded', async (client) => {
    bedrock.on(ConverseStreamCommand).rejects(new ThrottlingException({ message: 'Too many tokens, please wait before trying again.', $metadata: { httpStatusCode: 429 } }));
    const out = await run(client, { op: 'stream', params: ask });
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({ status: 429, body: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: expect.stringContaining('Bedrock ThrottlingException: Too many tokens, please wait before trying again.') } });
    expect(bedrock.commandCalls(ConverseStreamCommand)).toHaveLength(2); // upstreamRetries: 1, and x-should-retry: false keeps the SDK from multiplying them
  });

  it('a ThrottlingException with a fallback to another provider: the fallback\'s answer', async () => {
    bedrock.on(ConverseCommand).rejects(new ThrottlingException({ message: 'Too many requests', $metadata: { httpStatusCode: 429 } }));
    suite.env.upstream.script({ body: { id: 'up', object: 'chat.completion', created: 1, model: 'backup', choices: [{ index: 0, message: { role: 'assistant', content: 'from the backup', refusal: null }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } } });
    const out = await run('python', { op: 'create', params: ask }, 'hedged');
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ model: 'openai-compatible/backup', choices: [{ message: { content: 'from the backup' } }] });
    expect(suite.env.upstream.calls.map((c) => c.body)).toEqual([{ ...ask, model: 'backup' }]);
  });

  it.each(CLIENTS)('a modelStreamErrorException event mid-stream reaches the client as an error after the text so far, never a stop (%s client)', async (client) => {
    bedrock.on(ConverseStreamCommand).callsFake(() => ({
      stream: eventStream([
        { messageStart: { role: 'assistant' } },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hei' } } },
        { modelStreamErrorException: { message: 'The model stream failed.', originalStatusCode: 500 } },
      ]),
    }));
    const out = await run(client, { op: 'stream', params: ask });
    expect(out.ok).toBe(false);
    expect(out.chunks!.map((c) => c.choices[0].delta.content ?? '').join('')).toBe('Hei');
    expect(out.chunks!.some((c) => c.choices[0].finish_reason !== null)).toBe(false);
    expect(out.error).toMatchObject({ status: null, body: { message: 'The model stream failed.' } });
  });

  it('an internalServerException mid-stream names the model that streamed, not a chain: no fallback follows a first chunk', async () => {
    bedrock.on(ConverseStreamCommand).callsFake(() => ({
      stream: eventStream([
        { messageStart: { role: 'assistant' } },
        { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hei' } } },
        { internalServerException: { message: 'The server failed.' } },
      ]),
    }));
    const out = await run('node', { op: 'stream', params: ask }, 'hedged'); // a tenant with a fallback
    expect(out.ok).toBe(false);
    expect(out.error!.body.message).toBe(`the upstream of ${MODEL} failed: The server failed.`);
    expect(suite.env.upstream.calls).toHaveLength(0); // the fallback was never called
  });

  it('a client that leaves mid-stream aborts the ConverseStream call; the audit says cancelled', async () => {
    // Like the SDK's, the mocked event stream fails with an AbortError once the call's abortSignal is aborted.
    const signal = () => ((bedrock.commandCalls(ConverseStreamCommand).at(-1)?.args as unknown[] | undefined)?.[1] as { abortSignal?: AbortSignal } | undefined)?.abortSignal;
    // The model never ends by itself (a delta every 0.1 s, inside the idle timeout, until aborted): the event stream ends
    // only because the gateway aborted the call once the client left (awaited, no timer raced; a gateway that kept
    // reading would hang the test).
    let ended!: () => void;
    const streamEnded = new Promise<void>((r) => { ended = r; });
    bedrock.on(ConverseStreamCommand).callsFake(() => ({
      stream: (async function* () {
        try {
          yield { messageStart: { role: 'assistant' } };
          for (;;) {
            await sleep(100);
            if (signal()?.aborted) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
            yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: ' the' } } };
          }
        } finally {
          ended();
        }
      })(),
    }));
    const out = await run('node', { op: 'stream', params: ask, closeAfter: 3 }, 'leaver');
    expect(out.chunks).toHaveLength(3);
    await streamEnded;
    expect(signal()?.aborted, 'the abort signal given to the SDK').toBe(true);
    // The record is written once the request ended: the gateway's settled(), not a poll.
    await suite.env.gw.settled();
    expect(suite.env.gw.audit.records.find((r) => r.tenantId === 'leaver')).toMatchObject({ outcome: 'cancelled', model: MODEL });
  });
});
