import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryAuditSink } from '../../../../lambdas/inference/audit.js';
import { requestRecordView } from '../../../../lambdas/inference/audit-records.js';
import type { Authorizer, Caller } from '../../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../../lambdas/inference/local-gateway.js';
import { ProviderError, type Provider } from '../../../../lambdas/inference/providers/provider.js';
import { ProviderRegistry } from '../../../../lambdas/inference/providers/registry.js';
import { AnswerTooLargeToCache, MemoryResponseCache } from '../../../../lambdas/inference/response-cache/cache-store.js';
import { StreamRecorder } from '../../../../lambdas/inference/response-cache/stream-replay.js';
import { MemoryStore } from '../../../../lambdas/inference/stores/memory-store.js';
import { reasoningSeal } from '../../../../lambdas/inference/responses/reasoning-seal.js';
import { responseIdOfItem } from '../../../../lambdas/inference/responses/ids.js';
import { MemoryChatCompletionStore } from '../../../../lambdas/inference/stores/chat-completion-store.js';
import { MemoryResponseStore } from '../../../../lambdas/inference/stores/memory-response-store.js';
import { CallerGone } from '../../../../lambdas/inference/upstream-calls.js';
import type { GatewayPolicy, TenantRecord } from '../../../../lib/tenant-record.js';
import { configWith } from '../../../support/config-with.js';

const model = (id: string, upstream: string, kind?: 'embedding') => ({ id, upstream, inputPricePer1k: 0.001, outputPricePer1k: kind ? 0 : 0.002, maxOutputTokens: 100, ...(kind ? { kind } : {}) });
const config = () => configWith({ gateway: { models: [model('openai-compatible/default', 'default'), model('openai-compatible/backup', 'backup'), model('openai-compatible/embed', 'embed', 'embedding')], upstreamRetries: 0 } });

/** The platform's seal of encrypted reasoning (`include: ["reasoning.encrypted_content"]`), of a fixed test secret. */
const seal = reasoningSeal(async () => Buffer.alloc(32, 7));

const completion = (text: string): ChatCompletion => ({
  id: 'upstream-id', object: 'chat.completion', created: 1_800_000_000, model: 'default',
  choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
});

interface Answer { status: number; body: string; headers: Record<string, string> }

/**
 * A gateway with a MemoryResponseCache and a fake upstream counting its calls. Callers by bearer token: `<tenant>.<user>`
 * (`acme.u1`), or `<tenant>.key.<key id>`. Tenants `acme`, `globex` (both with the cache on, scope caller) and `plain` (off).
 */
function setup(policies: Record<string, Partial<GatewayPolicy>> = {}) {
  const store = new MemoryStore();
  const tenants = new Map<string, TenantRecord>();
  let version = 0; // each write a new updatedAt: the gateway's policy cache reads a tenant again when it changes
  const put = (id: string, gateway: Partial<GatewayPolicy>) => {
    const t = localTenant(id, 'enterprise', { gateway: gateway as GatewayPolicy, updatedAt: new Date(Date.UTC(2026, 0, 1) + ++version).toISOString() });
    tenants.set(id, t);
    store.putTenant(t);
  };
  for (const id of ['acme', 'globex']) put(id, policies[id] ?? { responseCache: { ttlSeconds: 600, scope: 'caller' } });
  put('plain', policies.plain ?? {});
  const calls = { complete: 0, stream: 0, embed: 0 };
  let fail: Error | undefined;
  let text = 'first';
  let reasoning: string | undefined; // the upstream's reasoning_content on its whole answers
  let messageExtra: Record<string, unknown> = {}; // more fields of the upstream's whole answers' message (audio)
  const down = new Set<string>();
  // The upstream's stream: these chunks, then (when set) an error after them; `undefined` the one-chunk answer.
  let streamChunks: ChatCompletionChunk[] | undefined;
  let streamError: Error | undefined;
  const provider: Provider = {
    complete: async (req) => {
      calls.complete++;
      if (fail) throw fail;
      if (down.has(req.model.upstream)) throw new ProviderError(`${req.model.upstream} is down`, 503, false);
      const answer = completion(`${text} ${calls.complete}`);
      if (reasoning) Object.assign(answer.choices[0].message, { reasoning_content: reasoning });
      Object.assign(answer.choices[0].message, messageExtra);
      return answer;
    },
    stream: async function* () {
      calls.stream++;
      if (streamChunks) {
        for (const chunk of streamChunks) yield chunk;
        if (streamError) throw streamError;
        return;
      }
      yield { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'default', choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: 'stop', logprobs: null }] };
    },
    embed: async () => {
      calls.embed++;
      return { vectors: [[0.5, 0.25, calls.embed]], promptTokens: 2 };
    },
  };
  const cfg = config();
  const providers = new ProviderRegistry(cfg, async () => 'k');
  vi.spyOn(providers, 'get').mockResolvedValue(provider);
  const authorizer = {
    authorize: async (header?: string) => {
      const [tenantId, who, keyId] = (header ?? '').replace('Bearer ', '').split('.');
      const tenant = tenants.get(tenantId)!;
      const caller: Caller = who === 'key' ? { tenantId, userId: keyId, keyId, role: 'member', tenant } : { tenantId, userId: who, role: 'member', tenant };
      return caller;
    },
    settled: async () => undefined,
  } as unknown as Authorizer;
  const audit = new MemoryAuditSink();
  const cache = new MemoryResponseCache();
  const guardrailCalls: string[] = [];
  let blockAnswers = false; // the guardrail blocks every answer (OUTPUT)
  const applyGuardrail = async (id: string, _texts: string[], source?: string) => (guardrailCalls.push(id), { blocked: blockAnswers && source === 'OUTPUT', ...(blockAnswers ? { reason: 'Blocked by policy.' } : {}) });
  const gateway = new Gateway({ config: cfg, store, audit, authorizer, providers, responseCache: cache, chatCompletions: new MemoryChatCompletionStore(), responses: new MemoryResponseStore(), awaitAudit: true, applyGuardrail, reasoningSeal: seal });
  // `goneAfter`: the caller leaves after reading that many stream events (the responder throws CallerGone, as serve's does).
  const send = async (token: string, body: unknown, headers: Record<string, string> = {}, path = '/v1/chat/completions', goneAfter?: number): Promise<Answer> => {
    let answer: Answer | undefined;
    let written = 0;
    const res: GatewayResponder = {
      json: (status, b, h) => void (answer = { status, body: b, headers: h ?? {} }),
      stream: (h) => {
        answer = { status: 200, body: '', headers: h ?? {} };
        return {
          write: (e: string) => {
            if (goneAfter !== undefined && written >= goneAfter) throw new CallerGone();
            written++;
            answer!.body += e;
          },
          end: () => undefined,
        };
      },
    };
    await gateway.handle({ method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }, res);
    return answer!;
  };
  return {
    send, calls, guardrailCalls, audit, store, cache, put, down, config: cfg, setFail: (e?: Error) => (fail = e), setText: (t: string) => (text = t),
    setStream: (chunks?: ChatCompletionChunk[], error?: Error) => ((streamChunks = chunks), (streamError = error)),
    setBlockAnswers: (block: boolean) => (blockAnswers = block), setReasoning: (r?: string) => (reasoning = r),
    setMessageExtra: (extra: Record<string, unknown>) => (messageExtra = extra),
  };
}

const chat = (content = 'hello', extra: Record<string, unknown> = {}) => ({ model: 'openai-compatible/default', messages: [{ role: 'user', content }], ...extra });
const records = (audit: MemoryAuditSink) => audit.records.filter((r) => r.path === '/v1/chat/completions' || r.path === '/v1/embeddings');

afterEach(() => vi.restoreAllMocks());

describe('the response cache at the gateway (POST /v1/chat/completions)', () => {
  it('a tenant with responseCache: MISS, then HIT with the same answer under the new request id, no upstream call, cost 0, still rate-limited and audited', async () => {
    const g = setup();
    const settle = vi.spyOn(g.store, 'settle');
    const count = vi.spyOn(g.store, 'countRequest');
    const first = await g.send('acme.u1', chat());
    expect(first.status).toBe(200);
    expect(first.headers['x-tessera-cache-status']).toBe('MISS');
    expect(first.headers.age).toBeUndefined();
    const second = await g.send('acme.u1', chat());
    expect(second.status).toBe(200);
    expect(second.headers['x-tessera-cache-status']).toBe('HIT');
    expect(second.headers.age).toMatch(/^\d+$/);
    expect(second.headers['x-tessera-cost-usd']).toBe('0');
    expect(second.headers['x-tessera-model']).toBe('openai-compatible/default');
    expect(g.calls.complete).toBe(1);
    const [a, b] = [JSON.parse(first.body) as ChatCompletion, JSON.parse(second.body) as ChatCompletion];
    expect(b.choices).toEqual(a.choices);
    expect(b.usage).toEqual(a.usage);
    expect(b.created).toBe(a.created);
    expect(b.id).toBe(second.headers['x-request-id']);
    expect(b.id).not.toBe(a.id);
    // Budgets: the HIT reserved and settled nothing; the rate limits counted both requests.
    expect(settle).toHaveBeenCalledTimes(1);
    expect(count).toHaveBeenCalledTimes(2);
    const [r1, r2] = records(g.audit);
    expect(r1.responseCache).toEqual({ status: 'MISS', stored: true });
    expect(r2.responseCache).toMatchObject({ status: 'HIT' });
    expect(r2.costUsd).toBe(0);
    expect(r2.promptTokens).toBeUndefined();
    expect(r2.upstreamLatencyMs).toBeUndefined();
    expect(requestRecordView(r2).response_cache).toMatchObject({ status: 'HIT' });
  });

  it('a HIT states the tokens group of x-ratelimit-* as every served answer does: the limit as it stands, unchanged by the HIT (it reserved none), whole and streamed', async () => {
    const g = setup();
    g.setStream(TEXT_STREAM);
    for (const extra of [{}, { stream: true }]) {
      const miss = await g.send('acme.u1', chat('hello', extra));
      expect(miss.headers['x-ratelimit-limit-tokens']).toMatch(/^\d+$/);
      const hit = await g.send('acme.u1', chat('hello', extra));
      expect(hit.headers['x-tessera-cache-status']).toBe('HIT');
      const used = (await g.store.usage('acme', new Date())).day.tokens; // what the MISSes settled: the HIT adds nothing
      expect(hit.headers).toMatchObject({
        'x-ratelimit-limit-tokens': miss.headers['x-ratelimit-limit-tokens'],
        'x-ratelimit-remaining-tokens': String(Number(miss.headers['x-ratelimit-limit-tokens']) - used),
        'x-ratelimit-reset-tokens': expect.stringMatching(/^(\d+h)?(\d+m)?\d+m?s$/),
        'x-ratelimit-remaining-requests': String(Number(miss.headers['x-ratelimit-remaining-requests']) - 1),
      });
    }
  });

  it('a HIT under a tokens-per-minute limit states that minute\'s tokens left, as a MISS states its reservation', async () => {
    // Mid-minute (the fake clock moves with the real one): the HIT and the read below are in the MISS's minute.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-07T09:00:10Z'));
    const g = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'caller' }, userLimits: { tokensPerMinute: 20_000 } } });
    const miss = await g.send('acme.u1', chat());
    expect(miss.headers['x-ratelimit-limit-tokens']).toBe('20000');
    const hit = await g.send('acme.u1', chat());
    expect(hit.headers['x-ratelimit-limit-tokens']).toBe('20000');
    const minute = await g.store.minuteTokens('acme', new Date(), { kind: 'user', id: 'u1' });
    expect(minute).toBeGreaterThan(0);
    expect(hit.headers['x-ratelimit-remaining-tokens']).toBe(String(20_000 - minute));
    expect(hit.headers['x-ratelimit-reset-tokens']).toMatch(/^\d+m?s$/);
    vi.useRealTimers();
  });

  it('Cache-Status (RFC 9211) beside x-tessera-cache-status: a MISS kept is fwd=miss; stored, a HIT hit with its ttl, no-cache fwd=request, no-store fwd=bypass', async () => {
    const g = setup();
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now);
    expect((await g.send('acme.u1', chat())).headers['cache-status']).toBe('tessera; fwd=miss; stored');
    vi.spyOn(Date, 'now').mockReturnValue(now + 10_000);
    expect((await g.send('acme.u1', chat())).headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', 'cache-status': 'tessera; hit; ttl=590', age: '10' });
    expect((await g.send('acme.u1', chat(), { 'x-tessera-cache': 'no-cache' })).headers['cache-status']).toBe('tessera; fwd=request; stored');
    expect((await g.send('acme.u1', chat(), { 'x-tessera-cache': 'no-store' })).headers['cache-status']).toBe('tessera; fwd=bypass');
    g.setStream(TEXT_STREAM);
    // A stream's head goes out before its events are kept: no `stored`.
    expect((await g.send('acme.u1', chat('hello', { stream: true }))).headers['cache-status']).toBe('tessera; fwd=miss');
    expect((await g.send('plain.u1', chat())).headers['cache-status']).toBeUndefined();
  });

  it('a HIT\'s audit record says what was asked, as the MISS that made the answer audited it: the prompt\'s hash, its text when the tenant audits it, the PII redacted', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'tenant' }, auditPromptText: true } });
    const asked = chat('write to ada@example.com about the invoice');
    expect((await g.send('acme.u1', asked)).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u2', asked)).headers['x-tessera-cache-status']).toBe('HIT');
    const [miss, hit] = records(g.audit);
    expect(miss.promptSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(miss.piiRedacted).toEqual(['EMAIL']);
    expect(miss.prompt).not.toContain('ada@example.com');
    // u2 read u1's answer (scope tenant): its record names the same prompt, redacted as it was.
    expect(hit).toMatchObject({ userId: 'u2', promptSha256: miss.promptSha256, prompt: miss.prompt, piiRedacted: ['EMAIL'], costUsd: 0 });
    expect(hit.promptTokens).toBeUndefined();
    expect(requestRecordView(hit)).toMatchObject({ response_cache: { status: 'HIT' } });
  });

  it('a HIT still counts against the rate limit: the request over it is a 429, not answered from the cache', async () => {
    const g = setup();
    await g.send('acme.u1', chat());
    vi.spyOn(g.store, 'countRequest').mockResolvedValue({ ok: false, limit: 1, window: 'minute', scope: 'tenant' } as never);
    const refused = await g.send('acme.u1', chat());
    expect(refused.status).toBe(429);
    expect(g.calls.complete).toBe(1);
  });

  it('a tenant without responseCache (the default): no cache header, every request goes upstream', async () => {
    const g = setup();
    const a = await g.send('plain.u1', chat());
    const b = await g.send('plain.u1', chat());
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.headers['x-tessera-cache-status']).toBeUndefined();
    expect(b.headers['x-tessera-cache-status']).toBeUndefined();
    expect(g.calls.complete).toBe(2);
    expect(records(g.audit).map((r) => r.responseCache)).toEqual([undefined, undefined]);
  });

  it('isolation: no HIT across tenants, nor across users or keys of one tenant (scope caller); scope tenant shares within the tenant only', async () => {
    const g = setup({ globex: { responseCache: { ttlSeconds: 600, scope: 'tenant' } } });
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('globex.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u2', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.key.key_1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect(g.calls.complete).toBe(4);
    // globex shares its answers between its own users only.
    const shared = await g.send('globex.u2', chat());
    expect(shared.headers['x-tessera-cache-status']).toBe('HIT');
    expect(JSON.parse(shared.body).choices[0].message.content).toBe('first 2');
    expect(g.calls.complete).toBe(4);
  });

  it('the key is the request: another message, `user` or model option is a MISS; the same body with its keys in another order a HIT', async () => {
    const g = setup();
    await g.send('acme.u1', chat('hello', { temperature: 0.5 }));
    expect((await g.send('acme.u1', { messages: [{ content: 'hello', role: 'user' }], temperature: 0.5, model: 'openai-compatible/default' })).headers['x-tessera-cache-status']).toBe('HIT');
    expect((await g.send('acme.u1', chat('hello', { temperature: 0.7 }))).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u1', chat('hello', { temperature: 0.5, user: 'end-user-2' }))).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u1', chat('bye', { temperature: 0.5 }))).headers['x-tessera-cache-status']).toBe('MISS');
    expect(g.calls.complete).toBe(4);
  });

  it('a change of the tenant\'s policy (here its system prompt) is a MISS; a change of the cache TTL alone keeps the answers', async () => {
    const g = setup();
    await g.send('acme.u1', chat());
    g.put('acme', { responseCache: { ttlSeconds: 900, scope: 'caller' } });
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('HIT');
    g.put('acme', { responseCache: { ttlSeconds: 900, scope: 'caller' }, systemPrompt: 'Answer in French.' });
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect(g.calls.complete).toBe(2);
  });

  it('an alias that resolves to another model after a policy change (the tenant\'s defaultModel) is a MISS answered by the new model', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'caller' }, defaultModel: 'openai-compatible/default' } });
    const ask = { model: 'default', messages: [{ role: 'user', content: 'hello' }] };
    expect((await g.send('acme.u1', ask)).headers).toMatchObject({ 'x-tessera-cache-status': 'MISS', 'x-tessera-model': 'openai-compatible/default' });
    expect((await g.send('acme.u1', ask)).headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', 'x-tessera-model': 'openai-compatible/default' });
    g.put('acme', { responseCache: { ttlSeconds: 600, scope: 'caller' }, defaultModel: 'openai-compatible/backup' });
    const moved = await g.send('acme.u1', ask);
    expect(moved.headers).toMatchObject({ 'x-tessera-cache-status': 'MISS', 'x-tessera-model': 'openai-compatible/backup' });
    expect(JSON.parse(moved.body).model).toBe('openai-compatible/backup');
    expect(g.calls.complete).toBe(2);
  });

  it('the model\'s provider re-pointed in the platform\'s config (gateway.providers.<provider>.baseUrl: another server behind the same upstream name) is a MISS', async () => {
    const g = setup();
    const providers = g.config.gateway.providers as Record<string, { baseUrl: string } | undefined>;
    providers['openai-compatible'] = { baseUrl: 'http://127.0.0.1:8/v1' };
    await g.send('acme.u1', chat());
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('HIT');
    providers['openai-compatible'] = { baseUrl: 'http://127.0.0.1:9/v1' };
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('HIT');
    expect(g.calls.complete).toBe(2);
  });

  it('nothing is cached for a request that failed: the next is a MISS that calls the upstream', async () => {
    const g = setup();
    g.setFail(Object.assign(new Error('boom'), { status: 500 }));
    const failed = await g.send('acme.u1', chat());
    expect(failed.status).toBeGreaterThanOrEqual(500);
    g.setFail(undefined);
    const next = await g.send('acme.u1', chat());
    expect(next.status).toBe(200);
    expect(next.headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('HIT');
  });

  it('x-tessera-cache: no-cache answers fresh and keeps it (REFRESH); no-store neither reads nor keeps (BYPASS)', async () => {
    const g = setup();
    await g.send('acme.u1', chat());
    g.setText('second');
    const refreshed = await g.send('acme.u1', chat(), { 'x-tessera-cache': 'no-cache' });
    expect(refreshed.headers['x-tessera-cache-status']).toBe('REFRESH');
    expect(JSON.parse(refreshed.body).choices[0].message.content).toBe('second 2');
    const hit = await g.send('acme.u1', chat());
    expect(JSON.parse(hit.body).choices[0].message.content).toBe('second 2');
    const bypassed = await g.send('acme.u1', chat('other'), { 'x-tessera-cache': 'No-Store' });
    expect(bypassed.headers['x-tessera-cache-status']).toBe('BYPASS');
    expect((await g.send('acme.u1', chat('other'))).headers['x-tessera-cache-status']).toBe('MISS');
    expect(g.calls.complete).toBe(4);
  });

  it('x-tessera-cache-ttl keeps the answer that long, at most the tenant\'s maxTtlSeconds (a 400 naming the header over it)', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 60, maxTtlSeconds: 120, scope: 'caller' } } });
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    await g.send('acme.u1', chat(), { 'x-tessera-cache-ttl': '120' });
    clock.mockReturnValue(now + 90_000);
    expect((await g.send('acme.u1', chat())).headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', age: '90' });
    clock.mockReturnValue(now + 121_000);
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    const over = await g.send('acme.u1', chat(), { 'x-tessera-cache-ttl': '121' });
    expect(over.status).toBe(400);
    expect(JSON.parse(over.body).error).toMatchObject({ param: 'x-tessera-cache-ttl', code: 'invalid_value' });
    expect(JSON.parse(over.body).error.message).toContain('at most 120 seconds');
  });

  it('x-tessera-cache-max-age: an answer older than asked is a MISS whose fresh answer replaces it; 0 takes only one kept within the second', async () => {
    const g = setup();
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    await g.send('acme.u1', chat());
    clock.mockReturnValue(now + 30_000);
    expect((await g.send('acme.u1', chat(), { 'x-tessera-cache-max-age': '30' })).headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', age: '30' });
    const stale = await g.send('acme.u1', chat(), { 'x-tessera-cache-max-age': '29' });
    expect(stale.headers['x-tessera-cache-status']).toBe('MISS');
    expect(JSON.parse(stale.body).choices[0].message.content).toBe('first 2');
    expect((await g.send('acme.u1', chat(), { 'x-tessera-cache-max-age': '29' })).headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', age: '0' });
    expect((await g.send('acme.u1', chat(), { 'x-tessera-cache-max-age': '0' })).headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', age: '0' });
    clock.mockReturnValue(now + 31_000);
    expect((await g.send('acme.u1', chat(), { 'x-tessera-cache-max-age': '0' })).headers['x-tessera-cache-status']).toBe('MISS');
    expect(g.calls.complete).toBe(3);
  });

  it('the tenant\'s ttlSeconds: an answer older is not served', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 60, scope: 'caller' } } });
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    await g.send('acme.u1', chat());
    clock.mockReturnValue(now + 59_000);
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('HIT');
    clock.mockReturnValue(now + 60_000);
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
  });

  it('a policy that lowers the TTL: an answer kept under the longer one is not served past the new most (maxTtlSeconds, default ttlSeconds)', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'caller' } } });
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    await g.send('acme.u1', chat());
    await g.send('acme.u2', chat(), { 'x-tessera-cache-ttl': '600' });
    // The operator lowers the TTL to a minute (stale answers): the answers kept for 10 minutes go at a minute.
    g.put('acme', { responseCache: { ttlSeconds: 60, scope: 'caller' } });
    clock.mockReturnValue(now + 59_000);
    expect((await g.send('acme.u1', chat())).headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', age: '59' });
    clock.mockReturnValue(now + 120_000);
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u2', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect(g.calls.complete).toBe(4);
    // A maxTtlSeconds over ttlSeconds keeps an answer kept with x-tessera-cache-ttl up to it.
    g.put('acme', { responseCache: { ttlSeconds: 60, maxTtlSeconds: 300, scope: 'caller' } });
    await g.send('acme.u3', chat(), { 'x-tessera-cache-ttl': '300' });
    clock.mockReturnValue(now + 120_000 + 299_000);
    expect((await g.send('acme.u3', chat())).headers['x-tessera-cache-status']).toBe('HIT');
  });

  it('a store: true request is BYPASS: neither answered from the cache nor kept', async () => {
    const g = setup();
    await g.send('acme.u1', chat());
    const stored = await g.send('acme.u1', chat('hello', { store: true }));
    expect(stored.status).toBe(200);
    expect(stored.headers['x-tessera-cache-status']).toBe('BYPASS');
    expect(JSON.parse(stored.body).choices[0].message.content).toBe('first 2');
    // Neither kept: a stored completion is a new one, with its own id and messages kept under it.
    expect((await g.send('acme.u1', chat('hello', { store: true }))).headers['x-tessera-cache-status']).toBe('BYPASS');
    expect(g.calls.complete).toBe(3);
    expect(records(g.audit)[1].responseCache).toEqual({ status: 'BYPASS' });
    // Streamed with store: true, likewise.
    const streamedStored = await g.send('acme.u1', chat('hello', { store: true, stream: true }));
    expect(streamedStored.headers['x-tessera-cache-status']).toBe('BYPASS');
    expect((await g.send('acme.u1', chat('hello', { store: true, stream: true }))).headers['x-tessera-cache-status']).toBe('BYPASS');
    expect(g.calls.stream).toBe(2);
  });

  it('a Bedrock guardrail that is its working draft (no version pinned, or :DRAFT) makes every request BYPASS: a HIT runs no guardrail, and the draft changes unseen; a pinned version caches', async () => {
    for (const bedrockGuardrailId of ['abc123def456', 'abc123def456:DRAFT', 'arn:aws:bedrock:us-east-1:111122223333:guardrail/abc123def456']) {
      const g = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'tenant' }, guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true, bedrockGuardrailId } } });
      const answers = [await g.send('acme.u1', chat()), await g.send('acme.u2', chat())];
      expect(answers.map((a) => [a.status, a.headers['x-tessera-cache-status']]), bedrockGuardrailId).toEqual([[200, 'BYPASS'], [200, 'BYPASS']]);
      expect(g.calls.complete).toBe(2);
      expect(records(g.audit).map((r) => r.responseCache)).toEqual([{ status: 'BYPASS' }, { status: 'BYPASS' }]);
      const embedded = [await g.send('acme.u1', { model: 'openai-compatible/embed', input: 'x' }, {}, '/v1/embeddings'), await g.send('acme.u1', { model: 'openai-compatible/embed', input: 'x' }, {}, '/v1/embeddings')];
      expect(embedded.map((a) => a.headers['x-tessera-cache-status'])).toEqual(['BYPASS', 'BYPASS']);
      expect(g.calls.embed).toBe(2);
    }
    const pinned = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'tenant' }, guardrails: { redactPii: true, redactResponses: false, promptInjectionScreen: true, bedrockGuardrailId: 'abc123def456:3' } } });
    expect((await pinned.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await pinned.send('acme.u2', chat())).headers['x-tessera-cache-status']).toBe('HIT');
    expect(pinned.guardrailCalls.every((id) => id === 'abc123def456:3')).toBe(true);
    expect(pinned.guardrailCalls.length).toBeGreaterThan(0);
    expect(pinned.calls.complete).toBe(1);
  });

  it('an answer the tenant\'s guardrail blocked (200, finish_reason content_filter), whole or streamed, is answered, not kept: the next is a MISS', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'caller' }, guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false, bedrockGuardrailId: 'abc123def456:3' } } });
    g.setBlockAnswers(true);
    g.setStream(TEXT_STREAM);
    for (const extra of [{}, { stream: true }]) {
      const blocked = await g.send('acme.u1', chat('hello', extra));
      expect(blocked.status).toBe(200);
      expect(blocked.body).toContain('content_filter');
      expect((await g.send('acme.u1', chat('hello', extra))).headers['x-tessera-cache-status']).toBe('MISS');
    }
    expect(g.calls).toMatchObject({ complete: 2, stream: 2 });
    expect(records(g.audit).every((r) => r.outcome === 'guardrail_blocked_answer' && r.responseCache?.status === 'MISS' && r.responseCache.stored === undefined)).toBe(true);
  });

  it('an answer of a fallback model is answered, not kept', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 60, scope: 'caller' }, fallbacks: ['openai-compatible/backup'] } });
    g.down.add('default');
    const first = await g.send('acme.u1', chat());
    expect(first.status).toBe(200);
    expect(first.headers['x-tessera-fallback-from']).toBe('openai-compatible/default');
    expect(first.headers['x-tessera-cache-status']).toBe('MISS');
    expect(records(g.audit)[0].responseCache).toEqual({ status: 'MISS', stored: false, notStored: 'fallback' });
    g.down.clear();
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
  });

  it('an answer with audio (modalities audio) is kept no longer than its audio.expires_at (the next turn names the audio by id, refused after), whole or streamed; one already expired is not kept', async () => {
    const g = setup();
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now);
    const at = Math.floor(now / 1000) + 30; // the audio's expiry, well inside the tenant's 600 s TTL
    const asked = chat('say hi', { modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } });
    g.setMessageExtra({ audio: { id: 'audio_1', data: 'UklGRg==', expires_at: at, transcript: 'hi' } });
    expect((await g.send('acme.u1', asked)).headers['x-tessera-cache-status']).toBe('MISS');
    clock.mockReturnValue(now + 29_000);
    const hit = await g.send('acme.u1', asked);
    expect(hit.headers['x-tessera-cache-status']).toBe('HIT');
    expect(JSON.parse(hit.body).choices[0].message.audio).toMatchObject({ id: 'audio_1', expires_at: at });
    clock.mockReturnValue(now + 30_000);
    expect((await g.send('acme.u1', asked)).headers['x-tessera-cache-status']).toBe('MISS');
    expect(g.calls.complete).toBe(2);
    // The upstream's audio already expired when the answer came: answered, not kept.
    g.setMessageExtra({ audio: { id: 'audio_2', data: 'UklGRg==', expires_at: at - 1, transcript: 'hi' } });
    await g.send('acme.u1', asked, { 'x-tessera-cache': 'no-cache' });
    expect(records(g.audit).at(-1)!.responseCache).toEqual({ status: 'REFRESH', stored: false, notStored: 'expiring' });

    // Streamed: the audio delta's expires_at bounds the kept stream alike.
    const streamAsked = { ...asked, stream: true };
    g.setStream([upChunk({ delta: { role: 'assistant', audio: { id: 'audio_3', transcript: 'hi' } } as never }), upChunk({ delta: { audio: { data: 'UklGRg==', expires_at: at + 60 } } as never }), upChunk({ finish_reason: 'stop' })]);
    clock.mockReturnValue(now);
    expect((await g.send('acme.u1', streamAsked)).headers['x-tessera-cache-status']).toBe('MISS');
    clock.mockReturnValue(now + 89_000);
    expect((await g.send('acme.u1', streamAsked)).headers['x-tessera-cache-status']).toBe('HIT');
    clock.mockReturnValue(now + 90_000);
    expect((await g.send('acme.u1', streamAsked)).headers['x-tessera-cache-status']).toBe('MISS');
  });

  it('a bad cache header is a 400 naming it, whether the tenant\'s cache is on or off', async () => {
    const g = setup();
    for (const token of ['acme.u1', 'plain.u1']) {
      const bad = await g.send(token, chat(), { 'x-tessera-cache': 'max-age=5' });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body).error).toMatchObject({ param: 'x-tessera-cache', code: 'invalid_value' });
      const ttl = await g.send(token, chat(), { 'x-tessera-cache-ttl': '1.5' });
      expect(JSON.parse(ttl.body).error).toMatchObject({ param: 'x-tessera-cache-ttl', code: 'invalid_value' });
    }
    expect(g.calls.complete).toBe(0);
  });
});

describe('the response cache failing', () => {
  it('an answer too large to keep is answered, the audit record says why; a store that fails to read or write is a MISS, answered', async () => {
    const g = setup();
    vi.spyOn(g.cache, 'put').mockRejectedValueOnce(new AnswerTooLargeToCache(500_000)).mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect((await g.send('acme.u1', chat())).status).toBe(200);
    expect((await g.send('acme.u1', chat())).status).toBe(200);
    vi.spyOn(g.cache, 'get').mockRejectedValueOnce(new Error('AccessDeniedException'));
    const read = await g.send('acme.u1', chat());
    expect(read.status).toBe(200);
    expect(read.headers['x-tessera-cache-status']).toBe('MISS');
    expect(records(g.audit).map((r) => r.responseCache)).toEqual([
      { status: 'MISS', stored: false, notStored: 'too_large' }, { status: 'MISS', stored: false, notStored: 'store_failed' }, { status: 'MISS', stored: true },
    ]);
    expect(g.calls.complete).toBe(3);
  });
});

describe('the response cache at the gateway (POST /v1/embeddings)', () => {
  it('MISS then HIT, the same vectors, no upstream call, cost 0; another tenant is a MISS', async () => {
    const g = setup();
    const body = { model: 'openai-compatible/embed', input: 'a document' };
    const first = await g.send('acme.u1', body, {}, '/v1/embeddings');
    expect(first.status).toBe(200);
    expect(first.headers['x-tessera-cache-status']).toBe('MISS');
    const second = await g.send('acme.u1', body, {}, '/v1/embeddings');
    expect(second.headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', 'x-tessera-cost-usd': '0' });
    expect(second.body).toBe(first.body);
    expect(g.calls.embed).toBe(1);
    expect((await g.send('globex.u1', body, {}, '/v1/embeddings')).headers['x-tessera-cache-status']).toBe('MISS');
    expect(g.calls.embed).toBe(2);
  });
});

/** The `data:` payloads of an SSE body, in order (`[DONE]` as the string). */
const dataOf = (body: string): unknown[] => body.split('\n\n').filter(Boolean).map((e) => e.split('\n').find((l) => l.startsWith('data: '))!.slice(6)).map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
const upChunk = (choice: Partial<ChatCompletionChunk.Choice>, index = 0): ChatCompletionChunk => ({ id: 'upstream-id', object: 'chat.completion.chunk', created: 1_800_000_000, model: 'default', choices: [{ index, delta: {}, finish_reason: null, logprobs: null, ...choice }] });
const TEXT_STREAM = [upChunk({ delta: { role: 'assistant', content: '' } }), upChunk({ delta: { content: 'Hel' } }), upChunk({ delta: { content: 'lo' } }), upChunk({ finish_reason: 'stop' })];

describe('the response cache at the gateway: streamed chat completions (stream: true)', () => {
  it('MISS relays the stream and keeps it; the same request is a HIT replayed as the same chunks under the new request id, [DONE] last, no upstream call, cost 0, rate-limited and audited', async () => {
    const g = setup();
    g.setStream(TEXT_STREAM);
    const count = vi.spyOn(g.store, 'countRequest');
    const asked = chat('hello', { stream: true, stream_options: { include_usage: true } });
    const miss = await g.send('acme.u1', asked);
    expect(miss.headers['x-tessera-cache-status']).toBe('MISS');
    const hit = await g.send('acme.u1', asked);
    expect(hit.status).toBe(200);
    expect(hit.headers['x-tessera-cache-status']).toBe('HIT');
    expect(hit.headers.age).toMatch(/^\d+$/);
    expect(g.calls.stream).toBe(1);
    expect(count).toHaveBeenCalledTimes(2);
    const [a, b] = [dataOf(miss.body), dataOf(hit.body)] as Array<Array<ChatCompletionChunk | string>>;
    expect(b.at(-1)).toBe('[DONE]');
    expect(b).toHaveLength(a.length);
    const id = hit.headers['x-request-id'];
    expect(b.slice(0, -1).every((c) => (c as ChatCompletionChunk).id === id)).toBe(true);
    expect(b.slice(0, -1).map((c) => ({ ...(c as ChatCompletionChunk), id: 'x' }))).toEqual(a.slice(0, -1).map((c) => ({ ...(c as ChatCompletionChunk), id: 'x' })));
    // The usage chunk include_usage asked for is replayed too: choices [], the MISS's usage.
    expect((b.at(-2) as ChatCompletionChunk).choices).toEqual([]);
    expect((b.at(-2) as ChatCompletionChunk).usage).toEqual((a.at(-2) as ChatCompletionChunk).usage);
    const [r1, r2] = records(g.audit);
    expect(r1.responseCache).toEqual({ status: 'MISS', stored: true });
    expect(r2).toMatchObject({ stream: true, costUsd: 0, responseCache: { status: 'HIT' } });
  });

  it('a stream and a whole answer never share an entry: stream, stream_options are in the key', async () => {
    const g = setup();
    g.setStream(TEXT_STREAM);
    await g.send('acme.u1', chat('hello', { stream: true }));
    expect((await g.send('acme.u1', chat())).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u1', chat('hello', { stream: true, stream_options: { include_usage: true } }))).headers['x-tessera-cache-status']).toBe('MISS');
    // Each now kept: the whole answer is JSON, the stream events.
    expect(JSON.parse((await g.send('acme.u1', chat())).body).object).toBe('chat.completion');
    const replay = await g.send('acme.u1', chat('hello', { stream: true }));
    expect(replay.headers['x-tessera-cache-status']).toBe('HIT');
    expect(dataOf(replay.body).map((c) => (c === '[DONE]' ? c : (c as ChatCompletionChunk).object))).toEqual(['chat.completion.chunk', 'chat.completion.chunk', 'chat.completion.chunk', 'chat.completion.chunk', '[DONE]']);
    expect(g.calls).toMatchObject({ stream: 2, complete: 1 });
  });

  it('a stream that failed, was cut before its finish_reason, or whose caller left is never kept: the next is a MISS', async () => {
    const g = setup();
    g.setStream(TEXT_STREAM.slice(0, 2), new ProviderError('upstream went away', 502, false));
    const failed = await g.send('acme.u1', chat('hello', { stream: true }));
    expect(dataOf(failed.body).at(-1)).toMatchObject({ error: expect.anything() });
    g.setStream(TEXT_STREAM.slice(0, 3)); // no finish_reason
    const cut = await g.send('acme.u1', chat('hello', { stream: true }));
    expect(cut.headers['x-tessera-cache-status']).toBe('MISS');
    g.setStream(TEXT_STREAM);
    const left = await g.send('acme.u1', chat('hello', { stream: true }), {}, '/v1/chat/completions', 2);
    expect(left.headers['x-tessera-cache-status']).toBe('MISS');
    expect(records(g.audit).map((r) => r.responseCache)).toEqual([{ status: 'MISS' }, { status: 'MISS' }, { status: 'MISS' }]);
    const whole = await g.send('acme.u1', chat('hello', { stream: true }));
    expect(whole.headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u1', chat('hello', { stream: true }))).headers['x-tessera-cache-status']).toBe('HIT');
    expect(g.calls.stream).toBe(4);
  });

  it('a stream the cache will not keep (BYPASS: store: true, no-store, the Responses API\'s default store) is not recorded for it; a MISS\'s is', async () => {
    const g = setup();
    g.setStream(TEXT_STREAM);
    const add = vi.spyOn(StreamRecorder.prototype, 'add');
    const bypassed = [
      await g.send('acme.u1', chat('hello', { stream: true, store: true })),
      await g.send('acme.u1', chat('hello', { stream: true }), { 'x-tessera-cache': 'no-store' }),
      await g.send('acme.u1', respond('hello', { stream: true, store: undefined }), {}, '/v1/responses'),
    ];
    expect(bypassed.map((a) => [a.status, a.headers['x-tessera-cache-status']])).toEqual(Array(3).fill([200, 'BYPASS']));
    expect(bypassed.map((a) => dataOf(a.body).length > 3)).toEqual([true, true, true]);
    expect(add).not.toHaveBeenCalled();
    expect((await g.send('acme.u1', chat('hello', { stream: true }))).headers['x-tessera-cache-status']).toBe('MISS');
    expect(add).toHaveBeenCalled();
  });

  it('a streamed answer too large to keep is answered and not kept (too_large)', async () => {
    const g = setup();
    vi.spyOn(g.cache, 'put').mockRejectedValue(new AnswerTooLargeToCache(500_000));
    g.setStream(TEXT_STREAM);
    const miss = await g.send('acme.u1', chat('hello', { stream: true }));
    expect(dataOf(miss.body).at(-1)).toBe('[DONE]');
    expect(records(g.audit)[0].responseCache).toEqual({ status: 'MISS', stored: false, notStored: 'too_large' });
  });
});

const respond = (input = 'hello', extra: Record<string, unknown> = {}) => ({ model: 'openai-compatible/default', input, store: false, ...extra });
const responseRecords = (audit: MemoryAuditSink) => audit.records.filter((r) => r.path === '/v1/responses');

describe('the response cache at the gateway: the Responses API (POST /v1/responses)', () => {
  it('store: false, whole: MISS, then HIT with the same Response under a new response id, no upstream call, cost 0', async () => {
    const g = setup();
    const miss = await g.send('acme.u1', respond(), {}, '/v1/responses');
    expect(miss.status).toBe(200);
    expect(miss.headers['x-tessera-cache-status']).toBe('MISS');
    const hit = await g.send('acme.u1', respond(), {}, '/v1/responses');
    expect(hit.headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', 'x-tessera-cost-usd': '0' });
    expect(g.calls.complete).toBe(1);
    const [a, b] = [JSON.parse(miss.body), JSON.parse(hit.body)];
    expect(b.id).toMatch(/^resp_/);
    expect(b.id).not.toBe(a.id);
    // The same Response under the HIT's id, its items' ids derived from it.
    expect(JSON.parse(hit.body.replaceAll(b.id.slice('resp_'.length), a.id.slice('resp_'.length)))).toEqual(a);
    expect(responseRecords(g.audit)[1]).toMatchObject({ costUsd: 0, responseCache: { status: 'HIT' }, detail: { responseId: b.id, stored: false } });
  });

  it('store: false, streamed: MISS relays the events and keeps them; the HIT replays them (the Response under a new id), ending with response.completed', async () => {
    const g = setup();
    g.setStream(TEXT_STREAM);
    const miss = await g.send('acme.u1', respond('hello', { stream: true }), {}, '/v1/responses');
    expect(miss.headers['x-tessera-cache-status']).toBe('MISS');
    const hit = await g.send('acme.u1', respond('hello', { stream: true }), {}, '/v1/responses');
    expect(hit.headers['x-tessera-cache-status']).toBe('HIT');
    expect(g.calls.stream).toBe(1);
    type Ev = { type: string; sequence_number: number; response?: { id: string } };
    const [a, b] = [dataOf(miss.body) as Ev[], dataOf(hit.body) as Ev[]];
    expect(b.map((e) => e.type)).toEqual(a.map((e) => e.type));
    expect(b.at(-1)!.type).toBe('response.completed');
    expect(hit.body.split('\n\n').filter(Boolean).every((e, i) => e.startsWith(`event: ${b[i].type}\n`))).toBe(true);
    const ids = new Set(b.filter((e) => e.response).map((e) => e.response!.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).not.toBe(a.find((e) => e.response)!.response!.id);
    // The same events, under the HIT's response id, the items' ids derived from it.
    expect(JSON.parse(JSON.stringify(b).replaceAll([...ids][0].slice('resp_'.length), a[0].response!.id.slice('resp_'.length)))).toEqual(a);
  });

  it('a HIT names no other request\'s response: its items\' ids are derived from its own response id, whole and streamed (scope tenant: another caller\'s MISS)', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'tenant' } } });
    const miss = await g.send('acme.u1', respond(), {}, '/v1/responses');
    const hit = await g.send('acme.u2', respond(), {}, '/v1/responses');
    expect(hit.headers['x-tessera-cache-status']).toBe('HIT');
    const [a, b] = [JSON.parse(miss.body) as { id: string; output: Array<{ id: string }> }, JSON.parse(hit.body) as { id: string; output: Array<{ id: string }> }];
    expect(hit.body).not.toContain(a.id.slice('resp_'.length));
    expect(b.output.map((i) => responseIdOfItem(i.id))).toEqual(a.output.map(() => b.id));
    // The same items otherwise: the ids' prefixes and indexes as kept.
    expect(b.output.map((i) => i.id.replace(b.id.slice(5), 'x'))).toEqual(a.output.map((i) => i.id.replace(a.id.slice(5), 'x')));

    g.setStream(TEXT_STREAM);
    const streamedMiss = await g.send('acme.u1', respond('hello', { stream: true }), {}, '/v1/responses');
    const streamedHit = await g.send('acme.u2', respond('hello', { stream: true }), {}, '/v1/responses');
    expect(streamedHit.headers['x-tessera-cache-status']).toBe('HIT');
    type Ev = { type: string; item_id?: string; item?: { id: string }; response?: { id: string; output: Array<{ id: string }> } };
    const [missEvents, hitEvents] = [dataOf(streamedMiss.body) as Ev[], dataOf(streamedHit.body) as Ev[]];
    const keptId = missEvents[0].response!.id;
    const hitId = hitEvents[0].response!.id;
    expect(hitId).not.toBe(keptId);
    expect(streamedHit.body).not.toContain(keptId.slice('resp_'.length));
    const itemIds = hitEvents.flatMap((e) => [e.item_id, e.item?.id, ...(e.response?.output.map((i) => i.id) ?? [])]).filter((id): id is string => id !== undefined);
    expect(itemIds.length).toBeGreaterThan(0);
    expect(new Set(itemIds.map(responseIdOfItem))).toEqual(new Set([hitId]));
  });

  it('include reasoning.encrypted_content: a HIT\'s reasoning item is the kept blob, sealed for the tenant: another caller of the tenant sends it back and it is taken; another tenant\'s caller is refused it', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'tenant' } } });
    g.setReasoning('Two and two make four.');
    const asked = respond('2 + 2?', { include: ['reasoning.encrypted_content'] });
    const miss = await g.send('acme.u1', asked, {}, '/v1/responses');
    const hit = await g.send('acme.u2', asked, {}, '/v1/responses');
    expect(hit.headers['x-tessera-cache-status']).toBe('HIT');
    type Item = { id: string; type: string; encrypted_content?: string };
    const [a, b] = [JSON.parse(miss.body) as { output: Item[] }, JSON.parse(hit.body) as { id: string; output: Item[] }];
    const [kept, given] = [a.output.find((i) => i.type === 'reasoning')!, b.output.find((i) => i.type === 'reasoning')!];
    expect(given.encrypted_content).toBe(kept.encrypted_content);
    expect(await seal.open('acme', given.encrypted_content!)).toEqual({ id: kept.id, text: 'Two and two make four.' });
    expect(responseIdOfItem(given.id)).toBe(b.id);
    // The stateless next turn (store: false, the items sent back): taken for the tenant's callers, refused for another tenant's.
    const next = respond('', { input: [{ role: 'user', content: '2 + 2?' }, ...b.output, { role: 'user', content: 'and 3 + 3?' }], include: ['reasoning.encrypted_content'] });
    expect((await g.send('acme.u2', next, {}, '/v1/responses')).status).toBe(200);
    const foreign = await g.send('globex.u1', next, {}, '/v1/responses');
    expect(foreign.status).toBe(400);
    expect(JSON.parse(foreign.body).error).toMatchObject({ code: 'invalid_encrypted_content', param: 'input[1].encrypted_content' });
  });

  it('a Response the tenant\'s guardrail blocked, whole or streamed, is answered, not kept; a stream the caller left or the upstream cut is not kept: the next is a MISS', async () => {
    const g = setup({ acme: { responseCache: { ttlSeconds: 600, scope: 'caller' }, guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false, bedrockGuardrailId: 'abc123def456:3' } } });
    g.setBlockAnswers(true);
    g.setStream(TEXT_STREAM);
    for (const extra of [{}, { stream: true }]) {
      expect((await g.send('acme.u1', respond('hello', extra), {}, '/v1/responses')).status).toBe(200);
      expect((await g.send('acme.u1', respond('hello', extra), {}, '/v1/responses')).headers['x-tessera-cache-status']).toBe('MISS');
    }
    expect(g.calls).toMatchObject({ complete: 2, stream: 2 });
    expect(responseRecords(g.audit).map((r) => [r.outcome, r.responseCache])).toEqual(Array(4).fill(['guardrail_blocked_answer', { status: 'MISS' }]));
    g.setBlockAnswers(false);
    await g.send('acme.u1', respond('bye', { stream: true }), {}, '/v1/responses', 4); // the caller leaves after 4 events
    g.setStream(TEXT_STREAM.slice(0, 3)); // no finish_reason: response.failed
    await g.send('acme.u1', respond('bye', { stream: true }), {}, '/v1/responses');
    g.setStream(TEXT_STREAM);
    expect((await g.send('acme.u1', respond('bye', { stream: true }), {}, '/v1/responses')).headers['x-tessera-cache-status']).toBe('MISS');
    expect((await g.send('acme.u1', respond('bye', { stream: true }), {}, '/v1/responses')).headers['x-tessera-cache-status']).toBe('HIT');
    expect(g.calls.stream).toBe(5);
  });

  it('a response that is stored (store left out: OpenAI\'s default true) or reads server state (previous_response_id) is BYPASS: neither read nor kept', async () => {
    const g = setup();
    const stored = await g.send('acme.u1', respond('hello', { store: undefined }), {}, '/v1/responses');
    expect(stored.headers['x-tessera-cache-status']).toBe('BYPASS');
    expect((await g.send('acme.u1', respond('hello', { store: undefined }), {}, '/v1/responses')).headers['x-tessera-cache-status']).toBe('BYPASS');
    const chained = respond('and then?', { previous_response_id: JSON.parse(stored.body).id });
    expect((await g.send('acme.u1', chained, {}, '/v1/responses')).headers['x-tessera-cache-status']).toBe('BYPASS');
    expect((await g.send('acme.u1', chained, {}, '/v1/responses')).headers['x-tessera-cache-status']).toBe('BYPASS');
    expect(g.calls.complete).toBe(4);
    expect(responseRecords(g.audit).map((r) => r.responseCache)).toEqual(Array(4).fill({ status: 'BYPASS' }));
  });
});
