import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { ProviderError } from '../../../lambdas/inference/providers/provider.js';
import { sseChunks } from '../../../lambdas/inference/providers/sse-chunks.js';
import { sseBytes, type ScriptedEvent, type ScriptedStream } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { CLIENTS, runClient, type ClientCall, type ClientName, type Outcome } from './clients.js';
import { GATEWAY_ID } from './matrix.js';
import { PythonClient, expectRateHeaders, plainTenant, startConformanceGateway } from './setup.js';

// A gateway that hangs fails a test in seconds, not at the global limit.
vi.setConfig({ testTimeout: 20_000 });

/**
 * The fake upstream misbehaving on demand, each misbehaviour a test with the outcome the contract
 * asks for: any SSE framing and split point, error events mid-stream, 429 with Retry-After, 400
 * context length, slow but healthy streams, stalls, and a client that goes away.
 */

const base = { id: 'upstream-7', object: 'chat.completion.chunk', created: 1_764_000_000, model: 'served-model-name', system_fingerprint: 'fp_x' };
const textChunk = (content: string, extra: Record<string, unknown> = {}) => ({ ...base, choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }], ...extra });
const roleChunk = { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] };
const finishChunk = (reason = 'stop') => ({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: reason }] });
const usageChunk = { ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 } };
/** Text with two-, three- and four-byte characters, so that cuts fall inside them. */
const PIECES = ['Hei på deg', ' — ÆØÅ 日本', ' 🌍🚀!'];
const TEXT = PIECES.join('');
const streamEvents = (pieces = PIECES): ScriptedEvent[] => [
  { data: roleChunk }, ...pieces.map((p) => ({ data: textChunk(p) })), { data: finishChunk() }, { data: usageChunk }, { data: '[DONE]' },
];
const CONTEXT_ERROR = {
  message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9120 tokens. Please reduce the length of the messages.",
  type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded',
};

const textOf = (out: Outcome) => (out.chunks ?? []).map((c) => c.choices[0]?.delta?.content ?? '').join('');
const finishes = (out: Outcome) => (out.chunks ?? []).flatMap((c) => c.choices.map((ch: { finish_reason: string | null }) => ch.finish_reason)).filter((f) => f !== null);

describe('sseChunks: any framing, any split point between reads', () => {
  const chunksOf = async (pieces: Uint8Array[]) => {
    const out: unknown[] = [];
    async function* body() {
      for (const p of pieces) yield p;
    }
    try {
      for await (const c of sseChunks(body(), 'fake')) out.push(c);
    } catch (e) {
      out.push({ thrown: (e as Error).message });
    }
    return out;
  };
  const expected = [roleChunk, ...PIECES.map((p) => textChunk(p)), finishChunk(), usageChunk];

  for (const lineEnding of ['lf', 'crlf', 'cr'] as const) {
    for (const noFinalBlankLine of [false, true]) {
      it(`${lineEnding}${noFinalBlankLine ? ', no final blank line' : ''}: the same chunks whole, cut at every byte position, and one byte per read`, async () => {
        const stream: ScriptedStream = { events: streamEvents(), lineEnding, noFinalBlankLine };
        const bytes = new Uint8Array(sseBytes(stream));
        expect(await chunksOf([bytes])).toEqual(expected);
        for (let i = 1; i < bytes.length; i++) {
          const got = await chunksOf([bytes.subarray(0, i), bytes.subarray(i)]);
          if (JSON.stringify(got) !== JSON.stringify(expected)) expect({ cutAt: i, got }).toEqual({ cutAt: i, got: expected });
        }
        expect(await chunksOf([...bytes].map((b) => new Uint8Array([b])))).toEqual(expected);
      });
    }
  }

  it('an error event mid-stream ends it with the upstream\'s message and code, after the chunks before it, at every split point', async () => {
    const error = { error: { message: 'The server had an error while processing your request.', type: 'server_error', code: 'internal_error' } };
    const bytes = new Uint8Array(sseBytes({ events: [{ data: roleChunk }, { data: textChunk('Hei') }, { data: error }, { data: textChunk(' never') }], lineEnding: 'crlf' }));
    for (let i = 1; i < bytes.length; i += 1) {
      const pieces = [bytes.subarray(0, i), bytes.subarray(i)];
      const out: unknown[] = [];
      let thrown: unknown;
      async function* body() {
        for (const p of pieces) yield p;
      }
      try {
        for await (const c of sseChunks(body(), 'fake')) out.push(c);
      } catch (e) {
        thrown = e;
      }
      expect(out).toEqual([roleChunk, textChunk('Hei')]);
      expect(thrown).toBeInstanceOf(ProviderError);
      expect((thrown as ProviderError).message).toBe(error.error.message);
      expect((thrown as ProviderError).details.code).toBe('internal_error');
    }
  });

  /** What sseChunks yields of `events` before it ends, and what it threw. */
  async function readAll(events: ScriptedEvent[]): Promise<{ out: unknown[]; thrown: unknown }> {
    const out: unknown[] = [];
    let thrown: unknown;
    async function* body() {
      yield new Uint8Array(sseBytes({ events }));
    }
    try {
      for await (const c of sseChunks(body(), 'fake')) out.push(c);
    } catch (e) {
      thrown = e;
    }
    return { out, thrown };
  }

  it('a chunk with error: null is a chunk, not an error (null is absent)', async () => {
    const { out, thrown } = await readAll([{ data: { ...textChunk('Hei'), error: null } }, { data: finishChunk() }, { data: '[DONE]' }]);
    expect(thrown).toBeUndefined();
    expect(out).toHaveLength(2);
  });

  it.each([
    ['an error event with a bare message', { event: 'error', data: { message: 'Overloaded' } }, 'Overloaded', 'upstream_error'],
    ["Anthropic's error event", { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }, 'Overloaded', 'overloaded_error'],
    ['an error whose message is an object', { data: { error: { message: { reason: 'bad' }, code: 500 } } }, '{"reason":"bad"}', 'upstream_error'],
    ['an error event with nothing to read', { event: 'error', data: { status: 'failed' } }, 'fake sent an error event: {"status":"failed"}', 'upstream_error'],
  ])('%s: its message as text, never [object Object] nor the whole event as the message', async (_name, event, message, type) => {
    const { out, thrown } = await readAll([{ data: textChunk('Hei') }, event as ScriptedEvent]);
    expect(out).toHaveLength(1);
    expect(thrown).toBeInstanceOf(ProviderError);
    expect((thrown as ProviderError).message).toBe(message);
    expect((thrown as ProviderError).details.type).toBe(type);
  });
});

/**
 * One Python driver for both gateways of this file (each request carries its gateway's base URL and
 * token, and the driver keeps a client per URL and token: the two never share one): one
 * `import openai` (~0.6 s of CPU), not two.
 */
let sharedPython: Promise<PythonClient> | undefined;
const pythonDriver = () => (sharedPython ??= PythonClient.start());
afterAll(async () => {
  await (await sharedPython)?.stop();
});

describe('a misbehaving upstream through tessera serve', () => {
  let env: Awaited<ReturnType<typeof startConformanceGateway>>;
  let python: PythonClient;
  beforeAll(async () => {
    [env, python] = await Promise.all([
      startConformanceGateway({ tenants: [plainTenant('acme'), plainTenant('flaky', { fallbacks: ['openai-compatible/backup'] }), localTenant('tinyrate', 'tiny'), plainTenant('broke', { monthlyTokenBudget: 5 }), plainTenant('spent', { monthlyTokenBudget: 100 })] }),
      pythonDriver(),
    ]);
  });
  afterAll(async () => {
    await env?.stop();
  });
  beforeEach(() => env.upstream.reset());

  const run = (client: ClientName, call: ClientCall, tenant = 'acme') => runClient(client, python, env.gw.url, env.tokens[tenant], call);
  const ask = (model = 'openai-compatible/default', extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'Greet me.' }], ...extra });
  const expectRelayed = (out: Outcome) => {
    expect(out.error).toBeUndefined();
    expect(textOf(out)).toBe(TEXT);
    expect(finishes(out)).toEqual(['stop']);
    expect(out.chunks!.every((c) => GATEWAY_ID.test(c.id) && c.model === 'openai-compatible/default' && c.choices.length === 1)).toBe(true);
  };

  it.each(CLIENTS)('CRLF framing (\\r\\n\\r\\n between events): the text arrives (%s client)', async (client) => {
    env.upstream.script({ events: streamEvents(), lineEnding: 'crlf' });
    expectRelayed(await run(client, { op: 'stream', params: ask() }));
  });

  it('CR framing: the text arrives', async () => {
    env.upstream.script({ events: streamEvents(), lineEnding: 'cr' });
    expectRelayed(await run('node', { op: 'stream', params: ask() }));
  });

  it.each(CLIENTS)('one byte per write, CRLF framing, multi-byte characters: the text arrives whole (%s client)', async (client) => {
    env.upstream.script({ events: streamEvents(), lineEnding: 'crlf', writes: 'bytes' });
    expectRelayed(await run(client, { op: 'stream', params: ask() }));
  });

  it('writes cut inside a four-byte character and between \\r and \\n: the text arrives whole', async () => {
    const bytes = sseBytes({ events: streamEvents(), lineEnding: 'crlf' });
    const emoji = bytes.indexOf(Buffer.from('🌍'));
    const crlf = bytes.indexOf(Buffer.from('\r\n'));
    env.upstream.script({ events: streamEvents(), lineEnding: 'crlf', writes: [crlf + 1, emoji + 1, emoji + 3] });
    expectRelayed(await run('node', { op: 'stream', params: ask() }));
  });

  it('no final blank line and no [DONE]: the last event still arrives, and the client\'s stream ends', async () => {
    env.upstream.script({ events: streamEvents().slice(0, -1), noFinalBlankLine: true });
    const out = await run('node', { op: 'stream', params: ask(undefined, { stream_options: { include_usage: true } }) });
    expect(out.error).toBeUndefined();
    expect(textOf(out)).toBe(TEXT);
    expect(out.chunks!.at(-1)).toMatchObject({ choices: [], usage: usageChunk.usage });
  });


  it('no usage chunk upstream, include_usage asked: the gateway\'s usage chunk ends the stream with the stream\'s created, as every other chunk', async () => {
    env.upstream.script({ events: [{ data: roleChunk }, ...PIECES.map((p) => ({ data: textChunk(p) })), { data: finishChunk() }, { data: '[DONE]' }] });
    const out = await run('node', { op: 'stream', params: ask(undefined, { stream_options: { include_usage: true } }) });
    expect(out.error).toBeUndefined();
    expect(out.chunks!.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) } });
    expect(new Set(out.chunks!.map((c) => c.created))).toEqual(new Set([base.created]));
  });
  it.each(CLIENTS)('an error event mid-stream reaches the client as an error after the chunks before it, with no made-up stop (%s client)', async (client) => {
    const error = { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: 'internal_error' };
    env.upstream.script({ events: [{ data: roleChunk }, { data: textChunk('Hei') }, { data: textChunk(' på') }, { data: { error } }] });
    const out = await run(client, { op: 'stream', params: ask() });
    expect(out.ok).toBe(false);
    expect(textOf(out)).toBe('Hei på');
    expect(finishes(out)).toEqual([]);
    expect(out.error).toMatchObject({ status: null, body: { message: error.message, code: 'internal_error' } });
  });

  it('an error event mid-stream on the wire: the relayed chunks, then the error event, nothing with a finish', async () => {
    const error = { message: 'upstream overloaded', type: 'server_error', param: null, code: 'overloaded' };
    env.upstream.script({ events: [{ data: roleChunk }, { data: textChunk('Hei') }, { data: { error } }] });
    const res = await fetch(`${env.gw.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${env.tokens.acme}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...ask(), stream: true }) });
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n\n').map((e) => e.trim()).filter(Boolean).map((e) => e.replace(/^data: /, ''));
    const parsed = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
    expect(parsed.at(-1)).toEqual({ error: expect.objectContaining({ message: 'upstream overloaded', code: 'overloaded' }) });
    expect(parsed.slice(0, -1).map((c) => c.choices[0].delta.content)).toEqual(['', 'Hei']);
    expect(parsed.some((c) => c.choices?.some((ch: { finish_reason: unknown }) => ch.finish_reason !== null))).toBe(false);
  });

  /**
   * The delays (ms) of the timers of at least half a second that fired in this process while `fn`
   * ran: a wait of the gateway (it runs here: serveGateway) is such a timer; its deadlines (first
   * byte, idle) are cleared when the upstream answers, so they never fire. Counts the wait itself,
   * whatever the machine's load makes the request's wall time.
   */
  async function firedWaits<T>(fn: () => Promise<T>): Promise<{ out: T; fired: number[] }> {
    const fired: number[] = [];
    const real = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      real((...a: unknown[]) => {
        if ((ms ?? 0) >= 500) fired.push(ms!);
        callback(...a);
      }, ms, ...args)) as typeof setTimeout);
    try {
      return { out: await fn(), fired };
    } finally {
      spy.mockRestore();
    }
  }

  const tooMany = (retryAfter: string) => ({
    status: 429, headers: { 'retry-after': retryAfter },
    body: { error: { message: 'Rate limit reached for requests. Please try again in 7s.', type: 'requests', param: null, code: 'rate_limit_exceeded' } },
  });
  const answer = (content: string) => ({
    body: { id: 'up', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
  });

  it.each(CLIENTS)('upstream 429 with Retry-After: 7, beyond the attempt budget, no fallback: one upstream call, no waiting, 429 with retry-after and the rate headers (%s client)', async (client) => {
    env.upstream.script(tooMany('7'), tooMany('7'), tooMany('7'));
    const { out, fired } = await firedWaits(() => run(client, { op: 'create', params: ask() }));
    // no waiting: no wait of the gateway's fired (a regression that waited, however long, would show here)
    expect(fired).toEqual([]);
    expect(env.upstream.calls).toHaveLength(1);
    expect(out.error!.status).toBe(429);
    expect(out.error!.headers['retry-after']).toBe('7');
    expectRateHeaders(out.error!.headers);
    expect(out.error!.body).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', param: null });
    expect(out.error!.body.message).toContain('Rate limit reached for requests');
  });

  it.each(CLIENTS)('upstream 429 with retry-after-ms: 20: the gateway waits 20 ms once, then the caller\'s 429 carries retry-after-ms: 20 (what the SDKs read first) and retry-after: 1 (%s client)', async (client) => {
    const throttled = { ...tooMany('1'), headers: { 'retry-after-ms': '20' } };
    env.upstream.script(throttled, throttled, throttled);
    const out = await run(client, { op: 'create', params: ask() });
    expect(env.upstream.calls).toHaveLength(2);
    expect(out.error!.status).toBe(429);
    expect(out.error!.headers['retry-after-ms']).toBe('20');
    expect(out.error!.headers['retry-after']).toBe('1');
    expect(out.error!.headers).not.toHaveProperty('x-should-retry');
    expectRateHeaders(out.error!.headers);
  });

  it('upstream 429 with Retry-After: 7 and a fallback: one call to each model, the fallback\'s answer', async () => {
    env.upstream.script(tooMany('7'), answer('from the backup'));
    const { out, fired } = await firedWaits(() => run('node', { op: 'create', params: ask('openai-compatible/primary') }, 'flaky'));
    expect(fired).toEqual([]); // the fallback at once, not after a wait
    expect(env.upstream.calls.map((c) => c.body.model)).toEqual(['primary', 'backup']);
    expect(out.result).toMatchObject({ model: 'openai-compatible/backup', choices: [{ message: { content: 'from the backup' } }] });
  });

  it('upstream 429 with Retry-After: 7 on every model of the chain: one call each, then 429 with retry-after', async () => {
    env.upstream.script(tooMany('7'), tooMany('7'), tooMany('7'), tooMany('7'));
    const out = await run('python', { op: 'create', params: ask('openai-compatible/primary') }, 'flaky');
    expect(env.upstream.calls.map((c) => c.body.model)).toEqual(['primary', 'backup']);
    expect(out.error!.status).toBe(429);
    expect(out.error!.headers['retry-after']).toBe('7');
  });

  it('upstream 429 with Retry-After: 1, within the attempt budget: waited out, then the answer', async () => {
    env.upstream.script(tooMany('1'), answer('after waiting'));
    const started = Date.now();
    const { out, fired } = await firedWaits(() => run('node', { op: 'create', params: ask() }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fired).toEqual([1000]); // the one wait: Retry-After's second (and what the checks above count)
    expect(env.upstream.calls).toHaveLength(2);
    expect(env.upstream.calls[1].receivedAt - env.upstream.calls[0].receivedAt).toBeGreaterThanOrEqual(950);
    expect(out.result.choices[0].message.content).toBe('after waiting');
  });

  it.each(CLIENTS)('upstream 429 with Retry-After: 1 twice, then 200: the gateway waits once and answers 429 with retry-after (no x-should-retry: false), the SDK waits it out and gets the 200 (%s client, its own retries on)', async (client) => {
    env.upstream.script(tooMany('1'), tooMany('1'), answer('after the SDK waited'));
    const out = await run(client, { op: 'create', params: ask(), maxRetries: 2 });
    expect(out.error).toBeUndefined();
    expect(out.result.choices[0].message.content).toBe('after the SDK waited');
    expect(env.upstream.calls).toHaveLength(3);
    expect(env.upstream.calls[2].receivedAt - env.upstream.calls[1].receivedAt).toBeGreaterThanOrEqual(950);
  });

  it.each(CLIENTS)('upstream 500 on every attempt: the gateway retries, answers 502 with x-should-retry: false, and the SDK does not multiply the calls (%s client, its own retries on)', async (client) => {
    const failure = { status: 500, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } } };
    env.upstream.script(failure, failure, failure, failure, failure, failure);
    const out = await run(client, { op: 'create', params: ask(), maxRetries: 2 });
    expect(out.error!.status).toBe(502);
    expect(out.error!.headers['x-should-retry']).toBe('false');
    expect(env.upstream.calls).toHaveLength(2); // the gateway's own two attempts (upstreamRetries: 1), none more
  });

  // A hostile upstream's error fields were relayed whole: a 1 MB code in the caller's 502 (and in every exception printed).
  it.each(CLIENTS)('upstream 500 with a 1 MB code and message: the 502 carries the code cut to 64 characters and the message to 4,000, the cuts said (%s client)', async (client) => {
    const failure = { status: 500, body: { error: { message: 'm'.repeat(1_000_000), type: 'server_error', param: null, code: 'c'.repeat(1_048_576) } } };
    env.upstream.script(failure, failure);
    const out = await run(client, { op: 'create', params: ask() });
    expect(out.error!.status).toBe(502);
    const body = out.error!.body as { code: string; message: string };
    expect(body.code).toBe('c'.repeat(64));
    expect(body.message.length).toBeLessThan(4_300);
    expect(body.message).toMatch(/m… \(the upstream's message cut: 1000000 characters\) \(the upstream's code cut to 64 of its 1048576 characters\)$/);
  });

  it.each(CLIENTS.flatMap((client) => (['whole', 'streamed'] as const).map((mode) => ({ client, mode }))))(
    'upstream 400 context_length_exceeded: the same 400, message and code to the caller, never retried nor sent to the fallback ($mode, $client client)',
    async ({ client, mode }) => {
      env.upstream.script({ status: 400, body: { error: CONTEXT_ERROR } }, answer('should not be asked'));
      const out = await run(client, { op: mode === 'whole' ? 'create' : 'stream', params: ask('openai-compatible/primary') }, 'flaky');
      expect(out.error!.status).toBe(400);
      expect(out.error!.body).toEqual(CONTEXT_ERROR);
      expect(env.upstream.calls).toHaveLength(1);
    },
  );

  // Choices without `index` (servers and proxies that leave it out, e.g. songquanpeng/one-api#1037): the SDKs' stream
  // helpers assemble choices by it, and threw (Node: "invalid choice index: undefined"; Python: a TypeError).
  const PERSON = { name: 'person', schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false } };
  const unindexed = (choice: Record<string, unknown>) => ({ ...base, choices: [choice] });
  it.each(CLIENTS)('a stream whose choices have no index: numbered 0, and the stream helper parses the answer (%s client)', async (client) => {
    env.upstream.script({ events: [
      { data: unindexed({ delta: { role: 'assistant', content: '{"name":' }, finish_reason: null }) },
      { data: unindexed({ delta: { content: '"Ann"}' }, finish_reason: null }) },
      { data: unindexed({ delta: {}, finish_reason: 'stop' }) },
      { data: usageChunk }, { data: '[DONE]' },
    ] });
    const out = await run(client, { op: 'parse', params: ask('openai-compatible/default', { stream: true }), schema: PERSON, nodeFormat: { type: 'json_schema', json_schema: { ...PERSON, strict: true } } });
    expect(out.error).toBeUndefined();
    expect(out.parsed).toEqual({ name: 'Ann' });
    expect(out.chunks!.map((c) => c.choices[0].index)).toEqual([0, 0, 0]);
  });

  it('a whole answer whose choice has no index: index 0, as ChatCompletion.Choice requires', async () => {
    const { index: _index, ...choice } = answer('Hi').body.choices[0];
    env.upstream.script({ body: { ...answer('Hi').body, choices: [choice] } });
    const out = await run('node', { op: 'create', params: ask() });
    expect(out.result.choices).toEqual([expect.objectContaining({ index: 0, message: expect.objectContaining({ content: 'Hi' }) })]);
  });

  it.each(CLIENTS)('a whole answer without object, created and the message\'s role: OpenAI\'s chat.completion, a created time and role assistant (%s client)', async (client) => {
    const { object: _object, created: _created, ...bare } = answer('Hi').body;
    const { role: _role, ...message } = bare.choices[0].message;
    env.upstream.script({ body: { ...bare, choices: [{ ...bare.choices[0], message }] } });
    const before = Math.floor(Date.now() / 1000);
    const out = await run(client, { op: 'create', params: ask() });
    expect(out.result).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'Hi' } }] });
    expect(out.result.created).toBeGreaterThanOrEqual(before);
  });

  it.each(CLIENTS)('stream chunks that call themselves text_completion (TGI 1.4.3, huggingface/text-generation-inference#1648): chat.completion.chunk (%s client)', async (client) => {
    env.upstream.script({ events: streamEvents().map((e) => ('data' in e && typeof e.data === 'object' ? { data: { ...e.data, object: 'text_completion' } } : e)) });
    const out = await run(client, { op: 'stream', params: ask('openai-compatible/default', { stream_options: { include_usage: true } }) });
    expect(out.error).toBeUndefined();
    expect(out.chunks!.map((c) => c.object)).toEqual(out.chunks!.map(() => 'chat.completion.chunk'));
  });

  // vLLM with a named tool_choice (vllm-project/vllm#13078): every fragment repeats the function's name, none has an id or
  // a type. The Python helper (and LangChain) appends each name it gets (vllm-project/vllm#14951), and with no id the
  // next turn's tool message has no tool_call_id to give.
  it.each(CLIENTS)('a call whose every fragment repeats its name, without id or type: the stream helper assembles one call named once, with an id (%s client)', async (client) => {
    const fragment = (args: string) => ({ data: { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 'get_weather', arguments: args } }] }, logprobs: null, finish_reason: null }] } });
    env.upstream.script({ events: [{ data: roleChunk }, fragment('{"city": '), fragment('"Paris"'), fragment('}'), { data: finishChunk('tool_calls') }, { data: '[DONE]' }] });
    const weather = { type: 'function', function: { name: 'get_weather', strict: true, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } };
    const out = await run(client, { op: 'parse', params: ask('openai-compatible/default', { stream: true, tools: [weather], tool_choice: { type: 'function', function: { name: 'get_weather' } } }), schema: PERSON, nodeFormat: { type: 'json_schema', json_schema: { ...PERSON, strict: true } } });
    expect(out.error).toBeUndefined();
    const [call, ...more] = out.result.choices[0].message.tool_calls;
    expect(more).toEqual([]);
    expect(call).toMatchObject({ type: 'function', id: expect.stringMatching(/^call_[0-9a-f]{24}$/), function: { name: 'get_weather', arguments: '{"city": "Paris"}' } });
    // on the wire: OpenAI's shape, the id, type and name on the first fragment only
    const wire = out.chunks!.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(wire.map((t: { id?: string; type?: string; function: { name?: string } }) => [t.id ?? null, t.type ?? null, t.function.name ?? null])).toEqual([[call.id, 'function', 'get_weather'], [null, null, null], [null, null, null]]);
  });

  it('a whole answer\'s call without an id gets one, as OpenAI\'s always have', async () => {
    env.upstream.script({ body: { ...answer('').body, choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{}' } }] }, finish_reason: 'tool_calls' }] } });
    const out = await run('node', { op: 'create', params: ask() });
    expect(out.result.choices[0].message.tool_calls[0].id).toMatch(/^call_[0-9a-f]{24}$/);
  });

  it.each(CLIENTS)('role on every delta (TGI, huggingface/text-generation-inference#1648): only the first delta carries it, and the stream helper\'s message has role assistant, not assistantassistant… (%s client)', async (client) => {
    const delta = (d: Record<string, unknown>, finish: string | null = null) => ({ data: { ...base, choices: [{ index: 0, delta: { role: 'assistant', ...d }, logprobs: null, finish_reason: finish }] } });
    env.upstream.script({ events: [delta({ content: '{"name":' }), delta({ content: '"Ann"}' }), delta({}, 'stop'), { data: '[DONE]' }] });
    const out = await run(client, { op: 'parse', params: ask('openai-compatible/default', { stream: true }), schema: PERSON, nodeFormat: { type: 'json_schema', json_schema: { ...PERSON, strict: true } } });
    expect(out.error).toBeUndefined();
    expect(out.result.choices[0].message).toMatchObject({ role: 'assistant', content: '{"name":"Ann"}' });
    expect(out.chunks!.map((c) => c.choices[0].delta.role ?? null)).toEqual(['assistant', null, null]);
  });

  // FastAPI's default answer to a body its pydantic model refuses (a server built on FastAPI that keeps the default
  // handler): 422 with `detail` a list of {loc, msg, type}. It reached the caller as "[object Object]".
  const FASTAPI_422 = {
    status: 422,
    body: { detail: [
      { type: 'missing', loc: ['body', 'messages', 0, 'content'], msg: 'Field required', input: { role: 'user' } },
      { type: 'greater_than_equal', loc: ['body', 'top_k'], msg: 'Input should be greater than or equal to -1', input: -5 },
    ] },
  };
  it.each(CLIENTS.flatMap((client) => (['whole', 'streamed'] as const).map((mode) => ({ client, mode }))))(
    'upstream 422 with FastAPI\'s validation detail list: the same status, each item as "loc: msg" in the message ($mode, $client client)',
    async ({ client, mode }) => {
      env.upstream.script(FASTAPI_422);
      const out = await run(client, { op: mode === 'whole' ? 'create' : 'stream', params: ask() });
      expect(out.error!.status).toBe(422);
      expect(out.error!.body).toMatchObject({
        message: 'body.messages.0.content: Field required; body.top_k: Input should be greater than or equal to -1',
        type: 'invalid_request_error',
      });
      expect(env.upstream.calls).toHaveLength(1);
    },
  );

  it('an upstream error whose fields are not strings: the message as JSON text, a numeric code as text, no object as type or param', async () => {
    env.upstream.script({ status: 400, body: { error: { message: { reason: 'bad input', field: 'messages' }, type: { name: 'x' }, code: 400, param: ['messages'] } } });
    const out = await run('node', { op: 'create', params: ask() });
    expect(out.error!.status).toBe(400);
    expect(out.error!.body).toEqual({ message: '{"reason":"bad input","field":"messages"}', type: 'invalid_request_error', param: null, code: '400' });
  });

  it('the gateway\'s own 429 (the tier\'s request rate) carries retry-after and the x-ratelimit headers', async () => {
    env.upstream.script(answer('1'), answer('2'));
    const outs: Outcome[] = [];
    for (let i = 0; i < 3; i++) outs.push(await run('node', { op: 'create', params: ask() }, 'tinyrate'));
    const limitedOut = outs.find((o) => o.error?.status === 429);
    expect(limitedOut, 'one of three calls at 2 requests per minute is refused').toBeDefined();
    expectRateHeaders(limitedOut!.error!.headers);
    expect(Number(limitedOut!.error!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it.each(CLIENTS)('the gateway\'s own 429 (an exhausted token budget) carries retry-after and the x-ratelimit headers, and asks nothing upstream (%s client)', async (client) => {
    const out = await run(client, { op: 'create', params: ask() }, 'broke');
    expect(out.error!.status).toBe(429);
    expect(out.error!.body).toMatchObject({ type: 'rate_limit_error', code: 'budget_exceeded' });
    expectRateHeaders(out.error!.headers);
    expect(out.error!.headers['x-should-retry']).toBe('false');
    expect(env.upstream.calls).toHaveLength(0);
  });

  it('a budget 429 says x-should-retry: false: the Node client with its default retries makes one attempt, not three and not a sleep of days; a request larger than the whole budget says so and what to lower', async () => {
    let attempts = 0;
    const fetch = (url: string | URL | Request, init?: RequestInit) => (attempts++, globalThis.fetch(url, init));
    const client = new OpenAI({ baseURL: env.gw.url, apiKey: env.tokens.spent, fetch, timeout: 10_000 }); // maxRetries: the default 2
    const greet = (extra: { max_completion_tokens?: number } = {}) => ({ model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'Greet me.' }], ...extra });
    env.upstream.script({ body: { ...answer('long').body, usage: { prompt_tokens: 10, completion_tokens: 80, total_tokens: 90 } } });
    await client.chat.completions.create(greet({ max_completion_tokens: 80 })); // 90 of 100 used
    attempts = 0;
    const started = Date.now();
    const exhausted = await client.chat.completions.create(greet({ max_completion_tokens: 50 })).catch((e: unknown) => e);
    expect(exhausted).toBeInstanceOf(OpenAI.RateLimitError);
    const e1 = exhausted as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e1.code).toBe('budget_exceeded');
    // 10 of 100 left, fewer than the input alone: said as such (s23; was "is exhausted")
    expect(e1.message).toMatch(/monthly token budget of tenant spent has 10 of 100 tokens left, fewer than this request may use \(61 tokens: 11 input \+ 50 completion tokens reserved\); its input alone is more than is left: send less input, or wait for the budget to reset \(retry-after\)/);
    expect(Number(e1.headers.get('retry-after'))).toBeGreaterThan(60); // the month's end: information, not a wait to sleep
    expect(e1.headers.get('x-should-retry')).toBe('false');
    expect(attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);

    attempts = 0;
    // No completion limit sent: the gateway reserves the model's maximum (100 here), more than the whole budget with the input.
    const tooLarge = await client.chat.completions.create(greet()).catch((e: unknown) => e) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(tooLarge.status).toBe(429);
    expect(tooLarge.code).toBe('budget_exceeded');
    expect(tooLarge.message).toMatch(/^429 request too large for the monthly token budget of tenant spent: Limit 100 tokens, Requested \d+ tokens/);
    expect(tooLarge.message).toMatch(/cannot succeed after any wait; lower max_completion_tokens \(or max_tokens\) to at most \d+ or send less input$/);
    expect(tooLarge.headers.get('x-should-retry')).toBe('false');
    expect(attempts).toBe(1);
    expect(env.upstream.calls).toHaveLength(1);
  });
});

// Timeouts with a second of margin over the upstream's pauses (0.5 s between chunks, 3 s to the first
// byte): at 0.7 s idle against 0.5 s chunks, a loaded machine (load 20) cut a healthy stream once.
describe('slow streams, stalls and a client that leaves (first-byte timeout 1.5 s, idle timeout 1.5 s)', () => {
  let env: Awaited<ReturnType<typeof startConformanceGateway>>;
  let python: PythonClient;
  beforeAll(async () => {
    [env, python] = await Promise.all([
      startConformanceGateway({ config: conformanceConfig({ upstreamTimeoutMs: 1_500, upstreamIdleTimeoutMs: 1_500, upstreamRetries: 0 }), tenants: [plainTenant('acme'), plainTenant('leaver')] }),
      pythonDriver(),
    ]);
  });
  afterAll(async () => {
    await env?.stop();
  });
  beforeEach(() => env.upstream.reset());

  const run = (client: ClientName, call: ClientCall, tenant = 'acme') => runClient(client, python, env.gw.url, env.tokens[tenant], call);
  const ask = (who: string) => ({ model: 'openai-compatible/default', messages: [{ role: 'user', content: `Count slowly, ${who}.` }] });

  it('0.5 s between chunks for 3.5 s, longer than both timeouts: every chunk arrives (both clients at once)', async () => {
    const slow = (who: string): ScriptedStream => ({ events: [{ data: roleChunk }, ...['1', '2', '3', '4', '5', '6', '7'].map((n) => ({ data: textChunk(`${who}${n} `) })), { data: finishChunk() }, { data: '[DONE]' }], eventDelayMs: 500 });
    env.upstream.script((call) => slow(String(call.body.messages[0].content).includes('node') ? 'n' : 'p'), (call) => slow(String(call.body.messages[0].content).includes('node') ? 'n' : 'p'));
    const started = Date.now();
    const [node, py] = await Promise.all([run('node', { op: 'stream', params: ask('node') }), run('python', { op: 'stream', params: ask('python') })]);
    expect(Date.now() - started).toBeGreaterThan(3500);
    expect(node.error).toBeUndefined();
    expect(py.error).toBeUndefined();
    expect(textOf(node)).toBe('n1 n2 n3 n4 n5 n6 n7 ');
    expect(textOf(py)).toBe('p1 p2 p3 p4 p5 p6 p7 ');
    expect(finishes(node)).toEqual(['stop']);
    expect(finishes(py)).toEqual(['stop']);
  });

  it.each(CLIENTS)('a stall longer than the idle timeout: the chunks so far, then a timeout error event, no stop; the upstream call is closed (%s client)', async (client) => {
    env.upstream.script({ events: [{ data: roleChunk }, { data: textChunk('Hei') }], hang: true });
    const out = await run(client, { op: 'stream', params: ask(client) });
    expect(out.ok).toBe(false);
    expect(textOf(out)).toBe('Hei');
    expect(finishes(out)).toEqual([]);
    expect(out.error).toMatchObject({ status: null, body: { type: 'timeout_error', code: 'upstream_timeout' } });
    // The upstream holds the connection open for ever: it closes only because the gateway closed it (no timer raced).
    await env.upstream.calls[0].closed;
  });

  it.each(CLIENTS)('every choice finished, then a stall (no usage chunk, no [DONE], the connection kept open): the stream ends as a whole one, with the usage chunk, no error; the upstream call is closed (%s client)', async (client) => {
    env.upstream.script({ events: [{ data: roleChunk }, { data: textChunk('Hei') }, { data: finishChunk() }], hang: true });
    const out = await run(client, { op: 'stream', params: { ...ask(client), stream_options: { include_usage: true } } });
    expect(out.error).toBeUndefined();
    expect(textOf(out)).toBe('Hei');
    expect(finishes(out)).toEqual(['stop']);
    expect(out.chunks!.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) } });
    await env.upstream.calls[0].closed;
    await env.gw.settled();
    expect(env.gw.audit.records.at(-1)).toMatchObject({ outcome: 'ok', usageEstimated: true, detail: { warning: 'upstream_stalled_after_finish' } });
  });

  it('no first byte within the first-byte timeout: 504, before any chunk', async () => {
    env.upstream.script({ events: [{ data: roleChunk }, { data: finishChunk() }, { data: '[DONE]' }], firstByteDelayMs: 3_000 });
    const out = await run('node', { op: 'stream', params: ask('node') });
    expect(out.error).toMatchObject({ status: 504, body: { type: 'timeout_error', code: 'upstream_timeout' } });
    expect(out.chunks).toEqual([]);
  });

  it('a client that disconnects after three chunks: the gateway closes the upstream connection, the audit says cancelled, usage is what was produced', async () => {
    // An upstream that never ends by itself (a chunk every 0.1 s, well inside the idle timeout, for 15 minutes): the
    // connection closes only because the gateway closed it once the client left (no timer raced, no count of chunks in a second).
    const events: ScriptedEvent[] = [{ data: roleChunk }, ...Array.from({ length: 9_000 }, () => ({ data: textChunk(' the') }))];
    env.upstream.script({ events, eventDelayMs: 100 });
    const out = await run('python', { op: 'stream', params: ask('python'), closeAfter: 3 }, 'leaver');
    expect(out.error).toBeUndefined();
    expect(out.chunks).toHaveLength(3);
    const call = env.upstream.calls[0];
    await call.closed;
    expect(call.eventsWritten).toBeLessThan(events.length);
    // The record is written once the request ended (after its answer was cut): the gateway's settled(), not a poll.
    await env.gw.settled();
    const record = env.gw.audit.records.find((r) => r.tenantId === 'leaver');
    expect(record).toMatchObject({ outcome: 'cancelled', stream: true });
    expect(record!.completionTokens).toBeGreaterThanOrEqual(2);
    expect(record!.completionTokens).toBeLessThanOrEqual(call.eventsWritten);
    const usage = await env.gw.store.usage('leaver', new Date());
    expect(usage.month.tokens).toBe(record!.promptTokens! + record!.completionTokens!);
  });
});
