import { describe, expect, it, vi } from 'vitest';
import type { ScriptedJson, ScriptedStream, UpstreamCall } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { PythonClient, type ClientCall, type Outcome } from './clients.js';
import { PythonDriver } from './official-clients.js';
import { plainTenant, useConformanceGateway } from './setup.js';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * The official OpenAI Python client's 1.x line (openai 1.109.1, what most deployed apps pin), from
 * `.venv-legacy-clients` (requirements-legacy-clients.txt), against `tessera serve`: the same drivers as the 3.x suites
 * (driver.py, embeddings_driver.py, responses_driver.py), run by that venv's Python, for the calls real apps make most.
 * The fake upstream (scripted, strict) answers; each test asserts what the application saw and what reached the upstream.
 * Every test passed against the gateway as first written (2026-12-05).
 */
const EMBEDDING = { id: 'openai/text-embedding-3-small', upstream: 'text-embedding-3-small', kind: 'embedding' as const, inputPricePer1k: 0.00002, outputPricePer1k: 0, maxOutputTokens: 4096 };
const config = () => {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, EMBEDDING] } };
};

/** driver.py, embeddings_driver.py and responses_driver.py, all three under `.venv-legacy-clients`' Python. */
class Legacy {
  private constructor(readonly chat: PythonClient, private readonly embeddings: PythonDriver<Outcome>, private readonly responses: PythonDriver<Outcome>) {}
  static async start(): Promise<Legacy> {
    const [chat, embeddings, responses] = await Promise.all([
      PythonClient.startLegacy(),
      PythonDriver.start<Outcome>('embeddings_driver.py', 'the Python embeddings driver (openai 1.x)', '.venv-legacy-clients'),
      PythonDriver.start<Outcome>('responses_driver.py', 'the Python responses driver (openai 1.x)', '.venv-legacy-clients'),
    ]);
    return new Legacy(chat, embeddings, responses);
  }
  embed(baseURL: string, apiKey: string, params: Record<string, unknown>): Promise<Outcome> {
    return this.embeddings.send({ op: 'embed', base_url: baseURL, api_key: apiKey, params });
  }
  respond(baseURL: string, apiKey: string, op: 'create' | 'stream', params: Record<string, unknown>): Promise<Outcome & { events?: any[] }> {
    return this.responses.send({ op, base_url: baseURL, api_key: apiKey, params });
  }
  async stop(): Promise<void> {
    await Promise.all([this.chat.stop(), this.embeddings.stop(), this.responses.stop()]);
  }
}

const suite = useConformanceGateway(Legacy.start, { config: config(), tenants: [plainTenant('acme')] });
/** What OpenAI on the platform's key gets when the caller sends no prompt_cache_key: the tenant's own (tenant-cache-key.ts). */
const TENANT_KEY = { prompt_cache_key: tenantPromptCacheKey('acme', '') };
const run = (call: ClientCall, token?: string) => suite.python.chat.call(suite.env.gw.url, token ?? suite.env.tokens.acme, call);
/** driver.py's ops beyond ClientCall's (`models`, `parse` with `beta`). */
const runRaw = (request: Record<string, unknown>) => (suite.python.chat as any).driver.send({ base_url: suite.env.gw.url, api_key: suite.env.tokens.acme, ...request }) as Promise<Outcome>;
const sent = () => suite.env.upstream.calls.map((c) => c.body);

const MODEL = 'openai/gpt-4o-mini';
const HI = [{ role: 'user', content: 'Hi' }];
const BASE = { id: 'up-1', created: 1_764_000_000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_1x' };
const USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };
const OSLO = { id: 'call_oslo', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } };
const WEATHER_TOOL = { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } };
const answer = (message: Record<string, unknown>, finish = 'stop'): ScriptedJson => ({
  body: { ...BASE, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, logprobs: null, finish_reason: finish }], usage: USAGE },
});
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ ...BASE, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null });
const streamed = (pieces: string[]): ScriptedStream => ({
  events: [
    { data: chunk({ role: 'assistant', content: '', refusal: null }) },
    ...pieces.map((p) => ({ data: chunk({ content: p }) })),
    { data: chunk({}, 'stop') },
    { data: { ...BASE, object: 'chat.completion.chunk', choices: [], usage: USAGE } },
    { data: '[DONE]' },
  ],
});
const PERSON = { name: 'Person', schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] } };

describe('chat completions (driver.py on openai 1.109.1)', () => {
  it('the driver runs the 1.x client', async () => {
    expect((await runRaw({ op: 'version' })).result).toBe('1.109.1');
  });

  it('create: the answer and its usage as the client types them; the params reach the upstream', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }));
    const out = await run({ op: 'create', params: { model: MODEL, messages: HI, temperature: 0.2, max_completion_tokens: 64, seed: 7 } });
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ object: 'chat.completion', model: MODEL, choices: [{ message: { role: 'assistant', content: 'Hei!' }, finish_reason: 'stop' }], usage: USAGE });
    expect(sent()).toEqual([{ model: 'gpt-4o-mini', ...TENANT_KEY, messages: HI, temperature: 0.2, max_completion_tokens: 64, seed: 7 }]);
  });

  it('stream with stream_options.include_usage: the deltas, the finish, then the usage chunk (choices [])', async () => {
    suite.env.upstream.script(streamed(['He', 'i!']));
    const out = await run({ op: 'stream', params: { model: MODEL, messages: HI, stream_options: { include_usage: true } } });
    expect(out.error).toBeUndefined();
    expect(out.chunks!.map((c) => c.choices[0]?.delta.content ?? null).join('')).toBe('Hei!');
    expect(out.chunks!.at(-2).choices[0].finish_reason).toBe('stop');
    expect(out.chunks!.at(-1)).toMatchObject({ choices: [], usage: USAGE });
    expect(sent()[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('tools: the call comes back typed, and the tool result goes back by its id', async () => {
    suite.env.upstream.script(answer({ tool_calls: [OSLO] }, 'tool_calls'), answer({ content: 'It is 3 °C.' }));
    const first = await run({ op: 'create', params: { model: MODEL, messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' } });
    expect(first.error).toBeUndefined();
    expect(first.result.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [OSLO] } });
    const history = [{ role: 'user', content: 'Weather in Oslo?' }, { role: 'assistant', content: null, tool_calls: [OSLO] }, { role: 'tool', tool_call_id: 'call_oslo', content: '{"temp_c":3}' }];
    const final = await run({ op: 'create', params: { model: MODEL, messages: history, tools: [WEATHER_TOOL] } });
    expect(final.result.choices[0].message.content).toBe('It is 3 °C.');
    expect(sent()[0]).toMatchObject({ tools: [WEATHER_TOOL], tool_choice: 'auto' });
    expect(sent()[1].messages).toEqual(history);
  });

  it.each([false, true])('parse with a pydantic model (beta.chat.completions.parse: %s): a strict json_schema, the object parsed', async (beta) => {
    suite.env.upstream.script(answer({ content: '{"name":"Ada","age":36}' }));
    const out = await runRaw({ op: 'parse', beta, params: { model: MODEL, messages: [{ role: 'user', content: 'Ada is 36.' }] }, schema: PERSON });
    expect(out.error).toBeUndefined();
    expect(out.parsed).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0].response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Person', strict: true, schema: { properties: { name: { type: 'string' }, age: { type: 'integer' } }, additionalProperties: false } } });
  });

  it('parse streamed (chat.completions.stream): the chunks and the final parsed object', async () => {
    suite.env.upstream.script(streamed(['{"name":"Ada",', '"age":36}']));
    const out = await run({ op: 'parse', params: { model: MODEL, messages: [{ role: 'user', content: 'Ada is 36.' }], stream: true }, schema: PERSON });
    expect(out.error).toBeUndefined();
    expect(out.parsed).toEqual({ name: 'Ada', age: 36 });
    expect(sent()[0]).toMatchObject({ stream: true, response_format: { type: 'json_schema' } });
  });

  it('models.list: the gateway\'s ids, as Model objects', async () => {
    const out = await runRaw({ op: 'models' });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual(expect.arrayContaining([expect.objectContaining({ id: MODEL, object: 'model' }), expect.objectContaining({ id: EMBEDDING.id })]));
  });

  it('an error event mid-stream: openai.APIError after the text so far, no made-up stop', async () => {
    const error = { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: 'internal_error' };
    suite.env.upstream.script({ events: [{ data: chunk({ role: 'assistant', content: '' }) }, { data: chunk({ content: 'Hei' }) }, { data: { error } }] });
    const out = await run({ op: 'stream', params: { model: MODEL, messages: HI } });
    expect(out.ok).toBe(false);
    expect(out.chunks!.map((c) => c.choices[0].delta.content).join('')).toBe('Hei');
    expect(out.chunks!.every((c) => c.choices[0].finish_reason === null)).toBe(true);
    expect(out.error).toMatchObject({ type: 'APIError', status: null, body: { message: error.message, code: 'internal_error' } });
  });
});

describe('errors as openai 1.x raises them', () => {
  // Python writes an int's digits: 2**63 is 9223372036854775808, which JSON.parse reads as 2^63, as it reads 2**63 - 1.
  it('a 64-bit seed: 2**63 - 1 reaches the upstream with its digits, 2**63 is a BadRequestError naming seed', async () => {
    // JSON.rawJSON: the driver's request is written by JSON.stringify, which has no other way to write these digits.
    const seed = (digits: string) => (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(digits);
    suite.env.upstream.script(answer({ content: 'Hei!' }));
    const taken = await run({ op: 'create', params: { model: MODEL, messages: HI, seed: seed('9223372036854775807') } });
    expect(taken.error).toBeUndefined();
    expect(suite.env.upstream.calls[0].rawBody).toContain('"seed":9223372036854775807');
    const refused = await run({ op: 'create', params: { model: MODEL, messages: HI, seed: seed('9223372036854775808') } });
    expect(refused.error).toMatchObject({ status: 400, type: 'BadRequestError', body: { param: 'seed', code: 'integer_above_max_value', message: "Invalid 'seed': integer above maximum value. Expected a value <= 9223372036854775807, but got 9223372036854775808 instead." } });
    expect(suite.env.upstream.calls).toHaveLength(1);
  });

  it('400: BadRequestError naming the field and the value; nothing reaches the upstream', async () => {
    const out = await run({ op: 'create', params: { model: MODEL, messages: HI, logprobs: true, top_logprobs: 25 } });
    expect(out.error).toMatchObject({ status: 400, type: 'BadRequestError', body: { type: 'invalid_request_error', param: 'top_logprobs', message: expect.stringContaining('25') } });
    expect(sent()).toHaveLength(0);
  });

  it('401: AuthenticationError', async () => {
    const out = await run({ op: 'create', params: { model: MODEL, messages: HI } }, 'not-a-token');
    expect(out.error).toMatchObject({ status: 401, type: 'AuthenticationError', body: { type: 'invalid_request_error', code: 'invalid_api_key' } });
  });

  it('404: NotFoundError for a model the gateway does not serve, naming it', async () => {
    const out = await run({ op: 'create', params: { model: 'openai/gpt-nope', messages: HI } });
    expect(out.error).toMatchObject({ status: 404, type: 'NotFoundError', body: { code: 'model_not_found', message: expect.stringContaining('openai/gpt-nope') } });
    expect(sent()).toHaveLength(0);
  });

  const throttled = { status: 429, headers: { 'retry-after-ms': '20' }, body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };
  it('429: RateLimitError; with max_retries the client calls again (after retry-after) and gets the answer', async () => {
    suite.env.upstream.script(throttled, throttled);
    const out = await run({ op: 'create', params: { model: MODEL, messages: HI } });
    expect(out.error).toMatchObject({ status: 429, type: 'RateLimitError', body: { code: 'rate_limit_exceeded' } });
    expect(Number(out.error!.headers['retry-after'])).toBeGreaterThanOrEqual(0);
    suite.env.upstream.reset();
    suite.env.upstream.script(throttled, throttled, answer({ content: 'Hei!' }));
    const retried = await run({ op: 'create', params: { model: MODEL, messages: HI }, maxRetries: 1 });
    expect(retried.error).toBeUndefined();
    expect(retried.result.choices[0].message.content).toBe('Hei!');
    expect(sent()).toHaveLength(3); // the gateway's two attempts, then the client's retry
  });
});

/** Per input, [its length, 1, 0, 0]. */
const embeddingsAnswer = (call: UpstreamCall): ScriptedJson => {
  const inputs: string[] = typeof call.body.input === 'string' ? [call.body.input] : call.body.input;
  return { body: { object: 'list', model: 'text-embedding-3-small', data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: [t.length, 1, 0, 0] })), usage: { prompt_tokens: 3, total_tokens: 3 } } };
};

describe('embeddings and the Responses API (openai 1.109.1)', () => {
  it('embeddings.create with the default encoding: the client asks base64 and decodes; floats come back in order', async () => {
    suite.env.upstream.script(embeddingsAnswer);
    const out = await suite.python.embed(suite.env.gw.url, suite.env.tokens.acme, { model: EMBEDDING.id, input: ['a', 'abc'] });
    expect(out.error).toBeUndefined();
    expect(out.result.data.map((d: any) => d.embedding)).toEqual([[1, 1, 0, 0], [3, 1, 0, 0]]);
    expect(sent()).toEqual([{ model: 'text-embedding-3-small', input: ['a', 'abc'], encoding_format: 'base64' }]);
  });

  it('responses.create: output_text and usage; the input reaches the upstream as chat', async () => {
    suite.env.upstream.script(answer({ content: 'Hei!' }));
    const out = await suite.python.respond(suite.env.gw.url, suite.env.tokens.acme, 'create', { model: MODEL, input: 'Hi', instructions: 'Be brief.' });
    expect(out.error).toBeUndefined();
    expect(out.result).toMatchObject({ object: 'response', status: 'completed', output_text: 'Hei!', usage: { input_tokens: 12, output_tokens: 5 } });
    expect(sent()[0].messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
  });

  it('responses.stream: the events in order, the final response assembled by the client', async () => {
    suite.env.upstream.script(streamed(['He', 'i!']));
    const out = await suite.python.respond(suite.env.gw.url, suite.env.tokens.acme, 'stream', { model: MODEL, input: 'Hi' });
    expect(out.error).toBeUndefined();
    expect(out.events!.map((e) => e.type)).toEqual(expect.arrayContaining(['response.created', 'response.output_text.delta', 'response.completed']));
    expect(out.result.output_text).toBe('Hei!');
    expect(sent()[0]).toMatchObject({ stream: true });
  });
});
