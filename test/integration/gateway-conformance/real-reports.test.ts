import { ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { InvokeEndpointWithResponseStreamCommand } from '@aws-sdk/client-sagemaker-runtime';
import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { sseBytes, type ScriptedEvent } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { CLIENTS, runClient, type ClientCall, type ClientName, type Outcome } from './clients.js';
import { NODE_WEATHER_FORMAT, PNG_DATA_URL, PYTHON_WEATHER_FORMAT, WEATHER_SCHEMA, WEATHER_TOOL, converseAnswerOf, converseEvents, nodeWeatherFormat, openAiChunks } from './matrix.js';
import { PythonClient, mockProviderSdks, plainTenant, useConformanceGateway } from './setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * The cases from other gateways' public bug reports (issue 11, "These cases, from real reports"),
 * each a test with the value the report says a correct gateway gives, through both official clients.
 * The gateway's first-byte timeout is 3 s, as in the slow-stream report.
 */
const { bedrock, sagemaker } = mockProviderSdks();
const suite = useConformanceGateway(PythonClient.start, {
  config: conformanceConfig({ upstreamTimeoutMs: 3000 }),
  tenants: [plainTenant('acme'), plainTenant('flaky', { fallbacks: ['openai-compatible/backup'] }), plainTenant('dropper')],
});

const run = (client: ClientName, call: ClientCall, tenant = 'acme') => runClient(client, suite.python, suite.env.gw.url, suite.env.tokens[tenant], call);
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'up', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});
const whole = (message: Record<string, unknown>, finish = 'stop') => ({
  body: { id: 'up', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: finish }], usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 } },
});
const textOf = (out: Outcome) => (out.chunks ?? []).map((c) => c.choices[0]?.delta?.content ?? '').join('');

describe('a stream without include_usage: every chunk has a choice, so `chunk.choices[0]` never fails', () => {
  const providers = {
    'openai-compatible/default': () => suite.env.upstream.script({ events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] }),
    'bedrock/amazon.nova-lite': () => bedrock.on(ConverseStreamCommand).callsFake(() => ({
      stream: (async function* () {
        yield* converseEvents(converseAnswerOf('text'));
      })(),
    })),
    'sagemaker/ft:nova:acme:support': () => sagemaker.on(InvokeEndpointWithResponseStreamCommand).callsFake(() => ({
      Body: (async function* () {
        yield { PayloadPart: { Bytes: new Uint8Array(sseBytes({ events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] })) } };
      })(),
    })),
  };
  const cases = Object.keys(providers).flatMap((model) => CLIENTS.map((client) => ({ model, client })));
  it.each(cases)('$model, $client client', async ({ model, client }) => {
    providers[model as keyof typeof providers]();
    const out = await run(client, { op: 'stream', params: { model, messages: [{ role: 'user', content: 'Say hello in Norwegian.' }] }, firstChoiceLoop: true });
    expect(out.error).toBeUndefined();
    expect(out.text).toBe('Hei! Hyggelig å møte deg.');
    expect(out.chunks!.every((c) => c.choices.length > 0)).toBe(true);
    expect(out.chunks!.some((c) => 'usage' in c)).toBe(false);
  });
});

const ZURICH_ARGS = '{"city":"Zürich","units":"celsius","days":[1,2]}';
describe('tools with tool_choice auto, the upstream calls one: the arguments arrive intact', () => {
  const cases = CLIENTS.flatMap((client) => (['whole', 'streamed'] as const).map((mode) => ({ client, mode })));
  it.each(cases)('$mode, $client client', async ({ client, mode }) => {
    const call = { id: 'call_zrh', type: 'function', function: { name: 'get_weather', arguments: ZURICH_ARGS } };
    if (mode === 'whole') suite.env.upstream.script(whole({ content: null, tool_calls: [call] }, 'tool_calls'));
    else {
      suite.env.upstream.script({ events: [
        { data: chunk({ role: 'assistant', content: null }) },
        { data: chunk({ tool_calls: [{ index: 0, id: 'call_zrh', type: 'function', function: { name: 'get_weather', arguments: '' } }] }) },
        ...['{"city":"Z', 'ürich","un', 'its":"celsius",', '"days":[1,', '2]}'].map((a) => ({ data: chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] }) })),
        { data: chunk({}, 'tool_calls') },
        { data: '[DONE]' },
      ] });
    }
    const params = { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'Weather in Zürich for two days?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' };
    const out = await run(client, { op: mode === 'whole' ? 'create' : 'stream', params });
    expect(out.error).toBeUndefined();
    if (mode === 'whole') {
      expect(out.result.choices[0].message.tool_calls).toEqual([call]);
      expect(out.result.choices[0].finish_reason).toBe('tool_calls');
    } else {
      const deltas = out.chunks!.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
      expect(deltas[0]).toMatchObject({ index: 0, id: 'call_zrh', type: 'function', function: { name: 'get_weather' } });
      expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe(ZURICH_ARGS);
      expect(out.chunks!.at(-1)!.choices[0].finish_reason).toBe('tool_calls');
    }
  });
});

describe('the next turn: an assistant turn with content null and tool_calls, then the tool message', () => {
  it.each(CLIENTS)('200, and the upstream gets the turns as sent (%s client)', async (client) => {
    suite.env.upstream.script(whole({ content: 'It is 3 °C in Zürich.' }));
    const messages = [
      { role: 'user', content: 'Weather in Zürich?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_zrh', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Zürich"}' } }] },
      { role: 'tool', tool_call_id: 'call_zrh', content: '{"temp_c":3}' },
    ];
    const out = await run(client, { op: 'create', params: { model: 'openai-compatible/default', messages, tools: [WEATHER_TOOL] } });
    expect(out.error).toBeUndefined();
    expect(out.result.choices[0].message.content).toBe('It is 3 °C in Zürich.');
    expect(suite.env.upstream.calls[0].body.messages).toEqual(messages);
  });
});

describe('a user message with a text part and a data-URL image part', () => {
  it.each(CLIENTS)('is forwarded as parts (%s client)', async (client) => {
    suite.env.upstream.script(whole({ content: 'A pixel.' }));
    const content = [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: PNG_DATA_URL, detail: 'low' } }];
    const out = await run(client, { op: 'create', params: { model: 'openai-compatible/default', messages: [{ role: 'user', content }] } });
    expect(out.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].body.messages).toEqual([{ role: 'user', content }]);
  });
});

describe('a reasoning model whose upstream refuses max_tokens', () => {
  /** The upstream of `openai-compatible/reasoner` answers 400 to any request carrying max_tokens, as OpenAI's o-series does. */
  const reasoner = (stream: boolean) => (call: { body: Record<string, unknown> }) => 'max_tokens' in call.body
    ? { status: 400, body: { error: { message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", type: 'invalid_request_error', param: 'max_tokens', code: 'unsupported_parameter' } } }
    : stream ? { events: [{ data: chunk({ role: 'assistant', content: 'Done.' }) }, { data: chunk({}, 'stop') }, { data: '[DONE]' }] as ScriptedEvent[] } : whole({ content: 'Done.' });
  const cases = CLIENTS.flatMap((client) => (['whole', 'streamed'] as const).map((mode) => ({ client, mode })));

  it.each(cases)('max_completion_tokens: 500 reaches it as sent and the call succeeds ($mode, $client client)', async ({ client, mode }) => {
    suite.env.upstream.script(reasoner(mode === 'streamed'));
    const out = await run(client, { op: mode === 'whole' ? 'create' : 'stream', params: { model: 'openai-compatible/reasoner', messages: [{ role: 'user', content: 'Think.' }], max_completion_tokens: 500 } });
    expect(out.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].body).toMatchObject({ model: 'o-reasoner', max_completion_tokens: 500 });
    expect(suite.env.upstream.calls[0].body).not.toHaveProperty('max_tokens');
  });

  it.each(CLIENTS)('no limit from the caller: none is invented (%s client)', async (client) => {
    suite.env.upstream.script(reasoner(false));
    const out = await run(client, { op: 'create', params: { model: 'openai-compatible/reasoner', messages: [{ role: 'user', content: 'Think.' }] } });
    expect(out.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].body).not.toHaveProperty('max_tokens');
    expect(suite.env.upstream.calls[0].body).not.toHaveProperty('max_completion_tokens');
  });
});

describe('OpenAI itself (provider openai), whose reasoning models refuse max_tokens', () => {
  // Frameworks send max_tokens for a model they do not know as a reasoning model (they know OpenAI's bare ids, not
  // openai/…): the gateway sends OpenAI max_completion_tokens, which every OpenAI chat model takes.
  const reasoner = (stream: boolean) => (call: { body: Record<string, unknown> }) => 'max_tokens' in call.body
    ? { status: 400, body: { error: { message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", type: 'invalid_request_error', param: 'max_tokens', code: 'unsupported_parameter' } } }
    : stream ? { events: [{ data: chunk({ role: 'assistant', content: 'Done.' }) }, { data: chunk({}, 'stop') }, { data: '[DONE]' }] as ScriptedEvent[] } : whole({ content: 'Done.' });
  const cases = CLIENTS.flatMap((client) => (['whole', 'streamed'] as const).map((mode) => ({ client, mode })));

  it.each(cases)('max_tokens: 50 reaches it as max_completion_tokens: 50 and the call succeeds ($mode, $client client)', async ({ client, mode }) => {
    suite.env.upstream.script(reasoner(mode === 'streamed'));
    const out = await run(client, { op: mode === 'whole' ? 'create' : 'stream', params: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Think.' }], max_tokens: 50 } });
    expect(out.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].body).toMatchObject({ model: 'gpt-4o-mini', max_completion_tokens: 50 });
    expect(suite.env.upstream.calls[0].body).not.toHaveProperty('max_tokens');
  });

  it.each(CLIENTS)('both sent: the lower goes as max_completion_tokens (%s client)', async (client) => {
    suite.env.upstream.script(reasoner(false));
    const out = await run(client, { op: 'create', params: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Think.' }], max_tokens: 30, max_completion_tokens: 60 } });
    expect(out.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].body).toMatchObject({ max_completion_tokens: 30 });
    expect(suite.env.upstream.calls[0].body).not.toHaveProperty('max_tokens');
  });

  it.each(CLIENTS)('an openai-compatible upstream still gets max_tokens as sent (%s client)', async (client) => {
    suite.env.upstream.script(whole({ content: 'Done.' }));
    const out = await run(client, { op: 'create', params: { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'Think.' }], max_tokens: 30 } });
    expect(out.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].body).toMatchObject({ max_tokens: 30 });
    expect(suite.env.upstream.calls[0].body).not.toHaveProperty('max_completion_tokens');
  });
});

describe('response_format json_schema', () => {
  it.each(CLIENTS)('is forwarded as sent, and the client\'s parse yields the object (%s client)', async (client) => {
    suite.env.upstream.script(whole({ content: '{"city":"Oslo","temp_c":3}' }));
    const out = await run(client, { op: 'parse', params: { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'Oslo as JSON.' }] }, schema: WEATHER_SCHEMA, nodeFormat: nodeWeatherFormat() as never });
    expect(out.error).toBeUndefined();
    expect(out.parsed).toEqual({ city: 'Oslo', temp_c: 3 });
    expect(suite.env.upstream.calls[0].body.response_format).toEqual(client === 'node' ? NODE_WEATHER_FORMAT : PYTHON_WEATHER_FORMAT);
  });
});

describe('an upstream stream framed with \\r\\n\\r\\n', () => {
  it.each(CLIENTS)('the text arrives, not an empty answer marked stop (%s client)', async (client) => {
    suite.env.upstream.script({ events: [{ data: chunk({ role: 'assistant', content: '' }) }, { data: chunk({ content: 'Hei' }) }, { data: chunk({ content: ' på deg!' }) }, { data: chunk({}, 'stop') }, { data: '[DONE]' }], lineEnding: 'crlf' });
    const out = await run(client, { op: 'stream', params: { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'Hi' }] } });
    expect(out.error).toBeUndefined();
    expect(textOf(out)).toBe('Hei på deg!');
    expect(out.chunks!.map((c) => c.choices[0].finish_reason)).toEqual([null, null, null, 'stop']);
  });
});

describe('an upstream 429 with Retry-After: 7', () => {
  it.each(CLIENTS)('at most one upstream call per attempt (one per model of the chain), then 429 with retry-after (%s client)', async (client) => {
    const tooMany = { status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };
    suite.env.upstream.script(...Array.from({ length: 9 }, () => tooMany));
    const out = await run(client, { op: 'create', params: { model: 'openai-compatible/primary', messages: [{ role: 'user', content: 'Hi' }] } }, 'flaky');
    expect(suite.env.upstream.calls.map((c) => c.body.model)).toEqual(['primary', 'backup']);
    expect(out.error!.status).toBe(429);
    expect(out.error!.headers['retry-after']).toBe('7');
  });
});

describe('a stream of 20 chunks, 0.4 s apart, with the timeout at 3 s', () => {
  it('all 20 arrive (both clients at once)', async () => {
    const script = (call: { body: Record<string, any> }) => {
      const who = String(call.body.messages[0].content);
      const events: ScriptedEvent[] = Array.from({ length: 20 }, (_, i) => ({ data: chunk({ content: `${who}${i + 1};` }, i === 19 ? 'stop' : null) }));
      return { events: [...events, { data: '[DONE]' }], eventDelayMs: 400 };
    };
    suite.env.upstream.script(script, script);
    const started = Date.now();
    const [node, py] = await Promise.all(CLIENTS.map((client) => run(client, { op: 'stream', params: { model: 'openai-compatible/default', messages: [{ role: 'user', content: client[0] }] } })));
    expect(Date.now() - started).toBeGreaterThan(7600);
    for (const [out, who] of [[node, 'n'], [py, 'p']] as const) {
      expect(out.error).toBeUndefined();
      expect(textOf(out)).toBe(Array.from({ length: 20 }, (_, i) => `${who}${i + 1};`).join(''));
      expect(out.chunks).toHaveLength(20);
      expect(out.chunks!.at(-1)!.choices[0].finish_reason).toBe('stop');
    }
  });
});

describe('a client that drops mid-stream (the report: 1.2 s into an 8 s stream)', () => {
  it('the upstream connection is closed, and usage is billed only to that point', async () => {
    // An upstream that never ends by itself (a chunk every 0.2 s for 30 minutes, inside the 3 s idle timeout): the
    // connection closes only because the gateway closed it once the client left. The client leaves after its 4th chunk,
    // not at a time: which chunk it got to is then known, whatever the machine's load.
    const events: ScriptedEvent[] = Array.from({ length: 9_000 }, () => ({ data: chunk({ content: ' the' }) }));
    suite.env.upstream.script({ events, eventDelayMs: 200 });
    const client = new OpenAI({ baseURL: suite.env.gw.url, apiKey: suite.env.tokens.dropper, maxRetries: 0 });
    const controller = new AbortController();
    const received: string[] = [];
    const stream = await client.chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'Count.' }], stream: true }, { signal: controller.signal });
    try {
      for await (const c of stream) {
        received.push(c.choices[0].delta.content ?? '');
        if (received.length === 4) {
          controller.abort();
          break;
        }
      }
    } catch {
      // the client's own abort
    }
    const call = suite.env.upstream.calls[0];
    await call.closed;
    expect(call.eventsWritten).toBeLessThan(events.length);
    expect(received).toHaveLength(4);

    // The record is written once the request ended (its answer cut): the gateway's settled(), not a poll.
    await suite.env.gw.settled();
    const record = suite.env.gw.audit.records.find((r) => r.tenantId === 'dropper');
    expect(record).toMatchObject({ outcome: 'cancelled', stream: true, usageEstimated: true });
    // One token per chunk (" the"): billed for what was produced before the drop, never the whole answer.
    expect(record!.completionTokens).toBeGreaterThanOrEqual(received.length);
    expect(record!.completionTokens).toBeLessThanOrEqual(call.eventsWritten);
    const usage = await suite.env.gw.store.usage('dropper', new Date());
    expect(usage.month.tokens).toBe(record!.promptTokens! + record!.completionTokens!);
  });
});

describe('OpenAI itself refusing the max_completion_tokens the gateway made of the caller\'s max_tokens', () => {
  // The catalog's maxOutputTokens (100 here) may be more than OpenAI gives the model: OpenAI's 400 then names
  // max_completion_tokens, the field the gateway sent, which the caller never did. The error names what it sent.
  const tooLarge = (call: { body: Record<string, unknown> }) => ({
    status: 400,
    body: { error: { message: `max_completion_tokens is too large: ${String(call.body.max_completion_tokens)}. This model supports at most 16 completion tokens, whereas you provided ${String(call.body.max_completion_tokens)}.`, type: 'invalid_request_error', param: 'max_completion_tokens', code: 'invalid_value' } },
  });
  const cases = CLIENTS.flatMap((client) => (['whole', 'streamed'] as const).map((mode) => ({ client, mode })));

  it.each(cases)('max_tokens: 50 alone: the 400 names max_tokens, in param and message ($mode, $client client)', async ({ client, mode }) => {
    suite.env.upstream.script(tooLarge);
    const out = await run(client, { op: mode === 'whole' ? 'create' : 'stream', params: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Think.' }], max_tokens: 50 } });
    expect(suite.env.upstream.calls[0].body).toMatchObject({ max_completion_tokens: 50 });
    expect(out.error).toMatchObject({ status: 400, body: { param: 'max_tokens', code: 'invalid_value', message: 'max_tokens is too large: 50. This model supports at most 16 completion tokens, whereas you provided 50.' } });
  });

  it.each(CLIENTS)('both sent, max_tokens the lower: the 400 names max_tokens, whose value went (%s client)', async (client) => {
    suite.env.upstream.script(tooLarge);
    const out = await run(client, { op: 'create', params: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Think.' }], max_tokens: 50, max_completion_tokens: 60 } });
    expect(out.error).toMatchObject({ status: 400, body: { param: 'max_tokens', message: expect.stringMatching(/^max_tokens is too large: 50\./) } });
  });

  it.each(CLIENTS)('both sent, max_completion_tokens the lower: the 400 names it as OpenAI did (%s client)', async (client) => {
    suite.env.upstream.script(tooLarge);
    const out = await run(client, { op: 'create', params: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Think.' }], max_tokens: 60, max_completion_tokens: 50 } });
    expect(out.error).toMatchObject({ status: 400, body: { param: 'max_completion_tokens', message: expect.stringMatching(/^max_completion_tokens is too large: 50\./) } });
  });

  it.each(CLIENTS)('an upstream message naming the field elsewhere is kept whole after the caller\'s field (%s client)', async (client) => {
    suite.env.upstream.script({ status: 400, body: { error: { message: "Unsupported value: 'max_completion_tokens' must be at least 64 with this model.", type: 'invalid_request_error', param: 'max_completion_tokens', code: 'unsupported_value' } } });
    const out = await run(client, { op: 'create', params: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Think.' }], max_tokens: 50 } });
    expect(out.error).toMatchObject({ status: 400, body: { param: 'max_tokens', message: "max_tokens was refused as max_completion_tokens, the field the gateway sends it to OpenAI as (OpenAI said: Unsupported value: 'max_completion_tokens' must be at least 64 with this model.)" } });
  });
});
