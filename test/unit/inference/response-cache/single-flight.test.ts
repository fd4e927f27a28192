import type { ChatCompletion } from 'openai/resources/chat/completions';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryAuditSink } from '../../../../lambdas/inference/audit.js';
import { requestRecordView } from '../../../../lambdas/inference/audit-records.js';
import type { Authorizer, Caller } from '../../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../../lambdas/inference/local-gateway.js';
import { ProviderError, type Provider } from '../../../../lambdas/inference/providers/provider.js';
import { ProviderRegistry } from '../../../../lambdas/inference/providers/registry.js';
import { MemoryResponseCache } from '../../../../lambdas/inference/response-cache/cache-store.js';
import { CacheFlights } from '../../../../lambdas/inference/response-cache/single-flight.js';
import { MemoryStore } from '../../../../lambdas/inference/stores/memory-store.js';
import type { GatewayPolicy } from '../../../../lib/tenant-record.js';
import { configWith } from '../../../support/config-with.js';

/** A promise with its resolve: a barrier the test opens. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

interface Answer { status: number; body: string; headers: Record<string, string> }

const model = (id: string, upstream: string) => ({ id, upstream, inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100 });

/**
 * A gateway with a MemoryResponseCache and CacheFlights (as `tessera serve` has), tenant `acme` with the cache on
 * (scope tenant), callers `acme.<user>`. The fake upstream enters (`entered` resolves), then waits at `gate` before it
 * answers; `outcomes` say what each upstream call does in turn (`fail`: a 503; default: answers).
 */
function setup(gateway: Partial<GatewayPolicy> = {}) {
  const store = new MemoryStore();
  const tenant = localTenant('acme', 'enterprise', { gateway: { responseCache: { ttlSeconds: 600, scope: 'tenant' }, ...gateway } as GatewayPolicy });
  store.putTenant(tenant);
  const entered = deferred();
  const gate = deferred();
  const calls = { complete: 0, stream: 0 };
  const outcomes: Array<'fail' | 'answer'> = [];
  const provider: Provider = {
    complete: async () => {
      const n = ++calls.complete;
      entered.resolve();
      await gate.promise;
      if (outcomes[n - 1] === 'fail') throw new ProviderError('default is down', 503, false);
      return {
        id: 'upstream-id', object: 'chat.completion', created: 1_800_000_000, model: 'default',
        choices: [{ index: 0, message: { role: 'assistant', content: `answer ${n}`, refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      } satisfies ChatCompletion;
    },
    stream: async function* () {
      const n = ++calls.stream;
      entered.resolve();
      await gate.promise;
      yield { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'default', choices: [{ index: 0, delta: { role: 'assistant', content: `streamed ${n}` }, finish_reason: 'stop', logprobs: null }] };
    },
    embed: async () => ({ vectors: [[0.5]], promptTokens: 2 }),
  };
  const config = configWith({ gateway: { models: [model('openai-compatible/default', 'default')], upstreamRetries: 0 } });
  const providers = new ProviderRegistry(config, async () => 'k');
  vi.spyOn(providers, 'get').mockResolvedValue(provider);
  const authorizer = {
    authorize: async (header?: string) => {
      const userId = (header ?? '').replace('Bearer acme.', '');
      return { tenantId: 'acme', userId, role: 'member', tenant } satisfies Caller;
    },
    settled: async () => undefined,
  } as unknown as Authorizer;
  const audit = new MemoryAuditSink();
  const flights = new CacheFlights();
  let blockAnswers = false;
  const applyGuardrail = async (_id: string, _texts: string[], source?: string) => ({ blocked: blockAnswers && source === 'OUTPUT', ...(blockAnswers ? { reason: 'Blocked by policy.' } : {}) });
  const gw = new Gateway({ config, store, audit, authorizer, providers, responseCache: new MemoryResponseCache(), cacheFlights: flights, awaitAudit: true, applyGuardrail });
  const send = async (user: string, body: unknown, path = '/v1/chat/completions', headers: Record<string, string> = {}): Promise<Answer> => {
    let answer: Answer | undefined;
    const res: GatewayResponder = {
      json: (status, b, h) => void (answer = { status, body: b, headers: h ?? {} }),
      stream: (h) => {
        answer = { status: 200, body: '', headers: h ?? {} };
        return { write: (e: string) => void (answer!.body += e), end: () => undefined };
      },
    };
    await gw.handle({ method: 'POST', path, headers: { authorization: `Bearer acme.${user}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }, res);
    return answer!;
  };
  /**
   * Sends `users.length` identical requests at once: the first enters the upstream first (the leader), the others are
   * sent once it did and answered once they all wait on it (flights.waiting), then the upstream answers.
   * @param followers how many are expected to wait (0: none collapses) @default users.length - 1
   */
  const together = async (users: string[], body: unknown, path?: string, followers = users.length - 1): Promise<Answer[]> => {
    const leader = send(users[0], body, path);
    await entered.promise;
    const others = users.slice(1).map((u) => send(u, body, path));
    await vi.waitFor(() => expect(flights.waiting).toBe(followers));
    gate.resolve();
    return Promise.all([leader, ...others]);
  };
  return { send, together, calls, outcomes, audit, store, flights, open: gate.resolve, setBlockAnswers: (b: boolean) => (blockAnswers = b) };
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello' }], ...extra });

// The clock stands still in each test: an answer's age and remaining TTL (whole seconds: `age: 0`, `ttl=600`) would
// otherwise depend on whether a second boundary fell between its store and a HIT (a fresh clone's run saw `ttl=599`).
beforeEach(() => {
  const frozen = Date.now();
  vi.spyOn(Date, 'now').mockReturnValue(frozen);
});
afterEach(() => vi.restoreAllMocks());

describe('identical requests at once (single flight per cache key, tessera serve)', () => {
  it('three identical chat completions at once: one upstream call, one reservation; the others are answered with its answer as a HIT is, each under its own id, cost 0', async () => {
    const g = setup();
    const settle = vi.spyOn(g.store, 'settle');
    const [leader, ...followers] = await g.together(['u1', 'u2', 'u3'], chat());
    expect(g.calls.complete).toBe(1);
    expect(settle).toHaveBeenCalledTimes(1);
    expect(leader.headers).toMatchObject({ 'x-tessera-cache-status': 'MISS', 'cache-status': 'tessera; fwd=miss; stored' });
    const first = JSON.parse(leader.body) as ChatCompletion;
    for (const f of followers) {
      expect(f.status).toBe(200);
      expect(f.headers).toMatchObject({ 'x-tessera-cache-status': 'HIT', 'cache-status': 'tessera; fwd=miss; collapsed; ttl=600', 'x-tessera-cost-usd': '0', age: '0' });
      const answer = JSON.parse(f.body) as ChatCompletion;
      expect(answer.choices).toEqual(first.choices);
      expect(answer.id).toBe(f.headers['x-request-id']);
      expect(answer.id).not.toBe(first.id);
    }
    const records = g.audit.records.filter((r) => r.path === '/v1/chat/completions');
    expect(records.map((r) => r.responseCache)).toEqual([
      { status: 'MISS', stored: true },
      { status: 'HIT', ageSeconds: 0, collapsed: true },
      { status: 'HIT', ageSeconds: 0, collapsed: true },
    ]);
    expect(requestRecordView(records[1]).response_cache).toMatchObject({ status: 'HIT', collapsed: true });
    // The flight ended with the leader: the next identical request is a plain HIT.
    expect((await g.send('u4', chat())).headers['cache-status']).toBe('tessera; hit; ttl=600');
  });

  it('the leader fails (the upstream\'s 503): its followers are not answered with its failure, each calls the model itself (collapsed=?0)', async () => {
    const g = setup();
    g.outcomes.push('fail');
    const [leader, ...followers] = await g.together(['u1', 'u2', 'u3'], chat());
    expect(leader.status).toBe(502); // the upstream's 503, as the gateway answers it
    expect(g.calls.complete).toBe(3);
    for (const f of followers) {
      expect(f.status).toBe(200);
      expect(f.headers).toMatchObject({ 'x-tessera-cache-status': 'MISS', 'cache-status': 'tessera; fwd=miss; stored; collapsed=?0' });
    }
    expect(g.audit.records.filter((r) => r.status === 200).map((r) => r.responseCache)).toEqual([
      { status: 'MISS', collapsed: false, stored: true },
      { status: 'MISS', collapsed: false, stored: true },
    ]);
  });

  it('the leader\'s answer is blocked by the tenant\'s guardrail: its followers are not answered with the block, each calls the model itself', async () => {
    const g = setup({ guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false, bedrockGuardrailId: 'abc123def456:3' } });
    g.setBlockAnswers(true);
    const answers = await g.together(['u1', 'u2'], chat());
    expect(g.calls.complete).toBe(2);
    expect(answers.map((a) => a.headers['x-tessera-cache-status'])).toEqual(['MISS', 'MISS']);
    expect(answers.every((a) => a.body.includes('content_filter'))).toBe(true);
  });

  it.each([
    ['chat completions', '/v1/chat/completions', chat({ stream: true })],
    ['the Responses API', '/v1/responses', { model: 'openai-compatible/default', input: 'hello', store: false, stream: true }],
  ])('streams (%s) are not collapsed: identical streamed requests at once each reach the upstream and stream, none waits silent for another\'s whole stream; the answer is kept for the next', async (_api, path, body) => {
    const g = setup();
    const answers = [g.send('u1', body, path), g.send('u2', body, path)];
    // Both at the upstream while it holds its answer: the second does not wait for the first's stream to end.
    await vi.waitFor(() => expect(g.calls.stream).toBe(2));
    expect(g.flights.waiting).toBe(0);
    g.open();
    const [first, second] = await Promise.all(answers);
    expect([first.headers['x-tessera-cache-status'], second.headers['x-tessera-cache-status']]).toEqual(['MISS', 'MISS']);
    expect([first.headers['cache-status'], second.headers['cache-status']]).toEqual(['tessera; fwd=miss', 'tessera; fwd=miss']);
    expect(first.body).toContain('streamed 1');
    expect(second.body).toContain('streamed 2');
    expect(g.audit.records.filter((r) => r.path === path).map((r) => r.responseCache)).toEqual([{ status: 'MISS', stored: true }, { status: 'MISS', stored: true }]);
    // A later identical stream is a HIT, replayed under its own id.
    const hit = await g.send('u3', body, path);
    expect(hit.headers['x-tessera-cache-status']).toBe('HIT');
    expect(g.calls.stream).toBe(2);
  });

  it('the Responses API (store: false): the follower\'s Response has its own id and item ids derived from it, as a HIT\'s', async () => {
    const g = setup();
    const [leader, follower] = await g.together(['u1', 'u2'], { model: 'openai-compatible/default', input: 'hello', store: false }, '/v1/responses');
    expect(g.calls.complete).toBe(1);
    expect(follower.headers['x-tessera-cache-status']).toBe('HIT');
    const [a, b] = [JSON.parse(leader.body), JSON.parse(follower.body)];
    expect(b.id).not.toBe(a.id);
    expect(b.output[0].id).not.toBe(a.output[0].id);
    expect(JSON.parse(follower.body.replaceAll(b.id.slice('resp_'.length), a.id.slice('resp_'.length)))).toEqual(a);
  });

  it('requests that differ, or that refresh (x-tessera-cache: no-cache), do not wait on one another: all at the upstream at once', async () => {
    const g = setup();
    const answers = [g.send('u1', chat()), g.send('u2', chat({ user: 'someone else' })), g.send('u3', chat(), '/v1/chat/completions', { 'x-tessera-cache': 'no-cache' })];
    await vi.waitFor(() => expect(g.calls.complete).toBe(3));
    expect(g.flights.waiting).toBe(0);
    g.open();
    expect((await Promise.all(answers)).map((a) => a.headers['x-tessera-cache-status'])).toEqual(['MISS', 'MISS', 'REFRESH']);
  });
});
