import { describe, expect, it, vi } from 'vitest';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';
import { tenantEndUserId } from '../../../lambdas/inference/providers/tenant-end-user.js';
import { CLIENTS, runClient, type ClientName } from './clients.js';
import {
  MODES, SCENARIOS, callOf, expectRelayed, openAiAnswer, openAiChunks, wireBodyOf, type Mode, type Scenario,
} from './matrix.js';
import { PythonClient, useConformanceGateway } from './setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * The conformance matrix for the providers that speak OpenAI's API over HTTP (`openai-compatible`
 * and `openai`, both pointed at the fake upstream): the upstream receives the caller's body
 * untouched apart from `model` (and, for a stream, `stream_options.include_usage`; for OpenAI itself on the platform's
 * key, the tenant's own `prompt_cache_key` when the caller sent none: tenant-cache-key.ts), and the
 * client sees the upstream's answer with the gateway's id and the catalog model.
 */
const PROVIDERS = [
  { provider: 'openai-compatible', model: 'openai-compatible/default', upstream: 'default', adds: {} },
  { provider: 'openai', model: 'openai/gpt-4o-mini', upstream: 'gpt-4o-mini', adds: { prompt_cache_key: tenantPromptCacheKey('acme', '') } },
];

const suite = useConformanceGateway(PythonClient.start);

const run = (client: ClientName, call: Parameters<typeof runClient>[4]) => runClient(client, suite.python, suite.env.gw.url, suite.env.tokens.acme, call);

interface Cell { provider: string; model: string; upstream: string; adds: Record<string, unknown>; mode: Mode; scenario: Scenario; client: ClientName }
const cells: Cell[] = PROVIDERS.flatMap((p) => MODES.flatMap((mode) => SCENARIOS.flatMap((scenario) => CLIENTS.map((client) => ({ ...p, mode, scenario, client })))));

describe('conformance: OpenAI-compatible upstreams over HTTP', () => {
  it.each(cells)('$provider · $mode · $scenario · $client client', async ({ model, upstream: upstreamId, adds, mode, scenario, client }) => {
    // GIVEN the upstream's answer for the scenario
    const upstream = suite.env.upstream;
    const chunks = openAiChunks(scenario);
    if (mode === 'whole') upstream.script({ body: openAiAnswer(scenario) });
    else upstream.script({ events: [...chunks.map((data) => ({ data })), { data: '[DONE]' }] });
    const call = callOf(scenario, mode, model);

    // WHEN the client calls the gateway
    const out = await run(client, call);

    // THEN the upstream got the caller's body, model aside (and usage asked for on a stream)
    expect(out.error).toBeUndefined();
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0].path).toBe('/v1/chat/completions');
    const wire = wireBodyOf(call, client);
    const expected = mode === 'whole'
      ? { ...adds, ...wire, model: upstreamId }
      : { ...adds, ...wire, model: upstreamId, stream: true, stream_options: { ...(wire.stream_options as object | undefined), include_usage: true } };
    expect(upstream.calls[0].body).toEqual(expected);
    // with the platform's key for the provider, never the caller's token
    expect(upstream.calls[0].headers.authorization).toBe('Bearer local');
    expect(upstream.calls[0].headers['content-type']).toMatch(/^application\/json/);

    // AND the client saw the upstream's answer with the gateway's id and the catalog model
    expectRelayed(out, call, mode, scenario, model, client);
  });
});

// OpenAI's 401 to a request with no Bearer credential (chatboxai/chatbox#98): type invalid_request_error, code null, raised by
// both clients as AuthenticationError. Each client's own `Authorization: Bearer …` is replaced by the call's header.
describe('an Authorization header without Bearer, as the official clients raise it', () => {
  it.each(CLIENTS)('%s client: AuthenticationError, type invalid_request_error, code and param null, OpenAI\'s "You didn\'t provide an API key."', async (client) => {
    const out = await run(client, { op: 'create', params: { model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }] }, extraHeaders: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(out.error).toMatchObject({ status: 401, type: 'AuthenticationError', body: { type: 'invalid_request_error', code: null, param: null } });
    expect(out.error!.body.message).toMatch(/^You didn't provide an API key\. You need to provide your API key in an Authorization header using Bearer auth \(i\.e\. Authorization: Bearer YOUR_KEY\)\. This gateway takes .* uses the Basic scheme, not Bearer$/);
    expect(suite.env.upstream.calls).toHaveLength(0);
  });
});

describe('parallel_tool_calls false on a server that ignores it (TGI has no such field; vLLM ignored it before its support)', () => {
  const cases = MODES.flatMap((mode) => CLIENTS.map((client) => ({ mode, client })));
  it.each(cases)('is sent on as it came, and the server\'s two tool calls reach the client as the first one ($mode, $client client)', async ({ mode, client }) => {
    // GIVEN a server that answers two calls whatever the request said
    const upstream = suite.env.upstream;
    if (mode === 'whole') upstream.script({ body: openAiAnswer('parallel tool calls') });
    else upstream.script({ events: [...openAiChunks('parallel tool calls').map((data) => ({ data })), { data: '[DONE]' }] });
    const call = callOf('parallel tool calls', mode, 'openai-compatible/default');
    call.params.parallel_tool_calls = false;

    // WHEN the client asks for one call per turn, as LangChain's with_structured_output and the Agents SDK do
    const out = await run(client, call);

    // THEN the server got the field, and the client the first call only: the one-call answer, whole or streamed
    expect(out.error).toBeUndefined();
    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0].body.parallel_tool_calls).toBe(false);
    expectRelayed(out, call, mode, 'one tool call', 'openai-compatible/default', client);
  });
});

describe('fields the gateway does not read', () => {
  it.each(CLIENTS)('reach an openai-compatible upstream untouched, provider extras and nulls included, user scoped to the tenant (%s client)', async (client) => {
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const params = {
      model: 'openai-compatible/default',
      messages: [{ role: 'developer', content: 'Answer in one word.' }, { role: 'user', content: 'Hi', name: 'ola' }],
      top_k: 20, chat_template_kwargs: { enable_thinking: false }, repetition_penalty: 1.05,
      seed: 7, stop: ['\n\n'], logit_bias: { '50256': -100 }, presence_penalty: 0.5, frequency_penalty: 0.25,
      user: 'end-user-9', metadata: { trace: 'abc' }, reasoning_effort: 'low', service_tier: 'flex',
      prediction: { type: 'content', content: 'Hello' }, modalities: ['text'], temperature: null, max_tokens: null,
    };
    const out = await run(client, { op: 'create', params });
    expect(out.error).toBeUndefined();
    // On the platform's key `user` goes on scoped to the tenant (tenant-end-user.ts): one provider account for every tenant.
    expect(suite.env.upstream.calls[0].body).toEqual({ ...params, user: tenantEndUserId('acme', 'end-user-9'), model: 'default' });
  });

  it.each(CLIENTS)('reasoning_effort to an OpenAI model that does not reason: OpenAI\'s 400 reaches the caller as OpenAI wrote it (%s client)', async (client) => {
    const effort = await run(client, { op: 'create', params: { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], reasoning_effort: 'low' } });
    expect(effort.error).toMatchObject({ status: 400, body: { message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.", type: 'invalid_request_error', param: 'reasoning_effort', code: 'unsupported_parameter' } });
    expect(suite.env.upstream.refusals).toHaveLength(1);
  });

  // OpenAI refuses chat `metadata` without `store: true` ("The 'metadata' parameter is only allowed when 'store' is
  // enabled."), which the gateway never sends (it keeps stored completions itself): the gateway keeps both from OpenAI
  // itself, and sends the rest as it is, but prompt_cache_key, user and safety_identifier scoped to the tenant (the
  // platform's key: one cache and one abuse namespace for all). No reasoning_effort: gpt-4o-mini does not reason, and
  // OpenAI refuses it ("Unsupported parameter: 'reasoning_effort' is not supported with this model."; the strict fake
  // does since session 41, and the gateway relays that 400 as OpenAI's).
  it.each(CLIENTS)('reach OpenAI itself without metadata or store, the rest untouched (%s client)', async (client) => {
    suite.env.upstream.script({ body: openAiAnswer('text') });
    const rest = {
      messages: [{ role: 'user', content: 'Hi' }], store: false, user: 'end-user-9', safety_identifier: 'end-user-9',
      prompt_cache_key: 'chat-42', service_tier: 'auto', max_completion_tokens: 64, seed: 7,
    };
    const out = await run(client, { op: 'create', params: { model: 'openai/gpt-4o-mini', ...rest, metadata: { trace: 'abc', app: 'support' } } });
    expect(out.error).toBeUndefined();
    const { store: _store, ...sent } = rest;
    expect(suite.env.upstream.calls[0].body).toEqual({ ...sent, prompt_cache_key: tenantPromptCacheKey('acme', 'chat-42'), user: tenantEndUserId('acme', 'end-user-9'), safety_identifier: tenantEndUserId('acme', 'end-user-9'), model: 'gpt-4o-mini' });
  });
});

describe('finish reasons of servers behind openai-compatible', () => {
  it.each(MODES)('a HuggingFace TGI eos_token finish is stop (%s)', async (mode) => {
    const base = { id: 'tgi', created: 1, model: 'meta-llama/Llama-3.1-8B-Instruct', system_fingerprint: '3.3.6-sha-0' };
    if (mode === 'whole') {
      suite.env.upstream.script({ body: { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Hei.' }, logprobs: null, finish_reason: 'eos_token' }], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } } });
      const out = await run('node', { op: 'create', params: { model: 'huggingface/tgi-llama', messages: [{ role: 'user', content: 'Hi' }] } });
      expect(out.result.choices[0].finish_reason).toBe('stop');
      expect(suite.env.upstream.calls[0].body.model).toBe('meta-llama/Llama-3.1-8B-Instruct');
    } else {
      suite.env.upstream.script({ events: [
        { data: { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hei.' }, logprobs: null, finish_reason: null }] } },
        { data: { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'eos_token' }] } },
        { data: '[DONE]' },
      ] });
      const out = await run('node', { op: 'stream', params: { model: 'huggingface/tgi-llama', messages: [{ role: 'user', content: 'Hi' }] } });
      expect(out.chunks!.map((c) => c.choices[0].finish_reason)).toEqual([null, 'stop']);
    }
  });
});

describe('a stream on the wire', () => {
  it('is text/event-stream, one `data:` event per chunk, and ends with data: [DONE]', async () => {
    suite.env.upstream.script({ events: [...openAiChunks('text').map((data) => ({ data })), { data: '[DONE]' }] });
    const res = await fetch(`${suite.env.gw.url}/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${suite.env.tokens.acme}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'Hi' }], stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const events = text.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: ') && !e.slice(6).includes('\n'))).toBe(true);
    expect(events.slice(0, -1).map((e) => JSON.parse(e.slice(6)).choices[0].delta.content ?? '').join('')).toBe('Hei! Hyggelig å møte deg.');
  });
});
