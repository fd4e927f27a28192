import type { ChatCompletion } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { ModelHealth } from '../../../lambdas/inference/model-health.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { configWith } from '../../support/config-with.js';
import { ProviderError, type Provider, type ProviderRequest } from '../../../lambdas/inference/providers/provider.js';
import { CallerGone, UpstreamCalls, type ChainRecord } from '../../../lambdas/inference/upstream-calls.js';
import type { LogEntry } from '../../../lambdas/shared/service-logger.js';

const model = (id: string): ModelEntry => ({ id: `openai-compatible/${id}`, upstream: id, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 10 });
const answer = (text: string) => ({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }] }) as ChatCompletion;
const base = (tenantId = 'acme') => ({ body: { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] }, tenantId });
const never = new AbortController().signal;
const A = model('a');
const B = model('b');
const chain = [A, B];

type Behaviour = (r: ProviderRequest) => Promise<ChatCompletion>;
const ok: Behaviour = async (r) => answer(r.model.upstream);
const fail = (status: number | undefined, details: ProviderError['details'] = {}): Behaviour => async () => {
  throw new ProviderError(`upstream ${status ?? 'unreachable'}`, status, status === undefined || status === 429 || status >= 500, details);
};

/**
 * A fake upstream per model (by upstream id) whose behaviour the test sets; it records every attempt. With
 * `ownKeyTenants`, those tenants' clients call with their own provider key (Provider.credentialOwner).
 */
function fakeUpstreams(ownKeyTenants: string[] = []) {
  const attempts: string[] = [];
  const behaviour: Record<string, Behaviour> = { a: ok, b: ok };
  const provider = (owner?: string): Provider => ({
    ...(owner ? { credentialOwner: owner } : {}),
    complete: (r) => (attempts.push(`${r.tenantId}:${r.model.upstream}`), behaviour[r.model.upstream](r)),
    stream: () => { throw new Error('not used'); },
  });
  const lookup = async (_name: string, tenantId: string) => provider(ownKeyTenants.includes(tenantId) ? tenantId : undefined);
  return { attempts, behaviour, lookup };
}

/** A fake clock, the health records on it, and UpstreamCalls with them (no retries unless asked: one attempt a request). */
function setup(options: { retries?: number; firstByteMs?: number; ownKeyTenants?: string[]; off?: boolean } = {}) {
  const clock = { t: Date.parse('2026-12-05T12:00:00Z') };
  const logs: LogEntry[] = [];
  const health = new ModelHealth({ failures: 3, windowMs: 60_000, coolMs: 30_000 }, () => clock.t, (line) => logs.push(line));
  const up = fakeUpstreams(options.ownKeyTenants);
  const calls = new UpstreamCalls(up.lookup, { firstByteMs: options.firstByteMs ?? 1_000, idleMs: 1_000, retries: options.retries ?? 0 }, options.off ? undefined : health);
  const request = async (tenantId = 'acme', c = chain, caller = never) => {
    const record: ChainRecord = {};
    const out = await calls.complete(c, base(tenantId), caller, undefined, record).catch((e: unknown) => e);
    return { out, record, served: out instanceof Error ? undefined : (out as { model: ModelEntry }).model.upstream };
  };
  return { clock, logs, up, calls, request };
}

/** Three requests that each fail on the primary (and are answered by the fallback). */
async function failThree(s: ReturnType<typeof setup>, tenantId = 'acme') {
  for (let i = 0; i < 3; i++) {
    expect((await s.request(tenantId)).served).toBe('b');
    s.clock.t += 1_000;
  }
}

describe('a failing model cools down: skipped while the chain has another model, then probed', () => {
  it('after 3 failing requests (5xx, unreachable, timeout) the 4th goes straight to the fallback and the audit record says why', async () => {
    const s = setup();
    s.up.behaviour.a = fail(503);
    await failThree(s);
    expect(s.up.attempts).toEqual(['acme:a', 'acme:b', 'acme:a', 'acme:b', 'acme:a', 'acme:b']);
    s.up.attempts.length = 0;
    const fourth = await s.request();
    expect(fourth.served).toBe('b');
    expect(s.up.attempts).toEqual(['acme:b']); // no attempt on the primary
    expect(fourth.record.detail?.skippedCoolingModels).toBe('openai-compatible/a (cooling until 2026-12-05T12:00:32.000Z after 3 failing requests within 60 s; last: upstream 503)');
    expect(s.logs.map((l) => l.message)).toEqual(['model cooling down: requests skip it while another model of their chain is left']);
  });

  it('counts a real first-byte timeout and an unreachable upstream as failures too', async () => {
    const s = setup({ firstByteMs: 30 });
    s.up.behaviour.a = (r) => new Promise((_, reject) => r.signal.addEventListener('abort', () => reject(r.signal.reason), { once: true }));
    await failThree(s);
    s.up.attempts.length = 0;
    expect((await s.request()).record.detail?.skippedCoolingModels).toMatch(/last: timeout\)$/);
    expect(s.up.attempts).toEqual(['acme:b']);
    const u = setup();
    u.up.behaviour.a = fail(undefined);
    await failThree(u);
    u.up.attempts.length = 0;
    expect((await u.request()).record.detail?.skippedCoolingModels).toMatch(/last: unreachable\)$/);
    expect(u.up.attempts).toEqual(['acme:b']);
  });

  it('one request\'s retries of a model are one failure, not three', async () => {
    const s = setup({ retries: 2 });
    s.up.behaviour.a = fail(503);
    expect((await s.request()).served).toBe('b');
    expect(s.up.attempts).toEqual(['acme:a', 'acme:a', 'acme:a', 'acme:b']);
    s.up.attempts.length = 0;
    expect((await s.request()).served).toBe('b');
    expect(s.up.attempts[0]).toBe('acme:a'); // still tried: one failing request so far
  });

  it('failures outside the window do not add up', async () => {
    const s = setup();
    s.up.behaviour.a = fail(503);
    for (let i = 0; i < 3; i++) {
      await s.request();
      s.clock.t += 31_000; // three failures, never three within 60 s
    }
    s.up.attempts.length = 0;
    await s.request();
    expect(s.up.attempts).toEqual(['acme:a', 'acme:b']);
  });

  it('after the cooldown one request probes the primary; a success closes it', async () => {
    const s = setup();
    s.up.behaviour.a = fail(503);
    await failThree(s);
    s.clock.t += 28_000; // 12:00:31
    s.up.attempts.length = 0;
    await s.request();
    expect(s.up.attempts).toEqual(['acme:b']); // still cooling (until 12:00:32)
    s.clock.t += 1_000;
    s.up.behaviour.a = ok;
    s.up.attempts.length = 0;
    const probe = await s.request();
    expect(probe.served).toBe('a');
    expect(probe.record.detail).toBeUndefined();
    expect(s.up.attempts).toEqual(['acme:a']);
    s.up.attempts.length = 0;
    expect((await s.request()).served).toBe('a');
    expect(s.logs.at(-1)).toMatchObject({ level: 'INFO', message: 'model stopped cooling: it answered again', modelHealthKey: 'openai-compatible/a' });
  });

  it('a probe that fails cools the model again for the whole period', async () => {
    const s = setup();
    s.up.behaviour.a = fail(502);
    await failThree(s);
    s.clock.t += 30_000;
    s.up.attempts.length = 0;
    await s.request(); // the probe
    expect(s.up.attempts).toEqual(['acme:a', 'acme:b']);
    s.clock.t += 29_000;
    s.up.attempts.length = 0;
    expect((await s.request()).record.detail?.skippedCoolingModels).toMatch(/after a failed probe; last: upstream 502/);
    expect(s.up.attempts).toEqual(['acme:b']);
  });

  it('while the probe is in flight, other requests with a fallback keep skipping the model', async () => {
    const s = setup();
    s.up.behaviour.a = fail(503);
    await failThree(s);
    s.clock.t += 30_000;
    let release!: () => void;
    s.up.behaviour.a = (r) => new Promise((resolve) => (release = () => resolve(answer(r.model.upstream))));
    const probe = s.request();
    await new Promise((r) => setImmediate(r));
    s.up.attempts.length = 0;
    expect((await s.request()).served).toBe('b');
    expect(s.up.attempts).toEqual(['acme:b']);
    release();
    expect((await probe).served).toBe('a');
  });

  it('a 400 from the upstream never counts (the caller\'s error), nor do 401/404 (configuration)', async () => {
    const s = setup();
    s.up.behaviour.a = fail(400, { type: 'invalid_request_error' });
    for (let i = 0; i < 5; i++) expect((await s.request()).out).toMatchObject({ status: 400 });
    s.up.behaviour.a = fail(401);
    for (let i = 0; i < 5; i++) await s.request();
    s.up.attempts.length = 0;
    s.up.behaviour.a = ok;
    expect((await s.request()).served).toBe('a');
    expect(s.logs).toEqual([]);
  });

  it('a caller who leaves never counts, and a probe it abandons is given to the next request', async () => {
    const s = setup();
    const leaving = (gone: AbortController): Behaviour => (r) => {
      gone.abort();
      return new Promise((_, reject) => (r.signal.aborted ? reject(r.signal.reason) : r.signal.addEventListener('abort', () => reject(r.signal.reason), { once: true })));
    };
    for (let i = 0; i < 5; i++) {
      const gone = new AbortController();
      s.up.behaviour.a = leaving(gone);
      expect((await s.request('acme', chain, gone.signal)).out).toBeInstanceOf(CallerGone);
    }
    s.up.behaviour.a = ok;
    s.up.attempts.length = 0;
    expect((await s.request()).served).toBe('a');
    expect(s.logs).toEqual([]);
    // The probe's caller leaves: the next request probes.
    s.up.behaviour.a = fail(503);
    await failThree(s);
    s.clock.t += 30_000;
    const gone = new AbortController();
    s.up.behaviour.a = leaving(gone);
    expect((await s.request('acme', chain, gone.signal)).out).toBeInstanceOf(CallerGone);
    s.up.behaviour.a = ok;
    s.up.attempts.length = 0;
    expect((await s.request()).served).toBe('a');
    expect(s.up.attempts).toEqual(['acme:a']);
  });

  it('a short Retry-After (waited out) does not count; a long one counts and extends the cooldown past the period', async () => {
    const s = setup({ retries: 1 });
    s.up.behaviour.a = fail(429, { retryAfterMs: 10 });
    for (let i = 0; i < 4; i++) await s.request();
    s.up.attempts.length = 0;
    await s.request();
    expect(s.up.attempts[0]).toBe('acme:a');
    s.up.behaviour.a = fail(429, { retryAfterMs: 120_000 });
    await failThree(s);
    s.clock.t += 60_000; // past the 30 s period, inside the upstream's 120 s
    s.up.attempts.length = 0;
    expect((await s.request()).record.detail?.skippedCoolingModels).toMatch(/last: upstream 429\)$/);
    expect(s.up.attempts).toEqual(['acme:b']);
    s.clock.t += 60_000;
    s.up.behaviour.a = ok;
    expect((await s.request()).served).toBe('a');
  });

  it('a long Retry-After of an earlier failure holds too when a later 5xx starts the cooldown', async () => {
    const s = setup();
    s.up.behaviour.a = fail(429, { retryAfterMs: 120_000 });
    await s.request();
    s.clock.t += 1_000;
    s.up.behaviour.a = fail(503);
    await s.request();
    s.clock.t += 1_000;
    await s.request(); // opens: the 429 at 12:00:00 asked for 120 s
    s.clock.t += 100_000;
    s.up.attempts.length = 0;
    expect((await s.request()).record.detail?.skippedCoolingModels).toBe('openai-compatible/a (cooling until 2026-12-05T12:02:00.000Z after 3 failing requests within 60 s; last: upstream 503)');
    expect(s.up.attempts).toEqual(['acme:b']);
  });

  it('an upstream\'s Retry-After of a day (or past the largest Date) cools the model 5 minutes at most, then one request probes', async () => {
    for (const retryAfterMs of [86_400_000, 1e16]) {
      const s = setup();
      s.up.behaviour.a = fail(429, { retryAfterMs });
      await failThree(s); // opens at 12:00:02, the last failure
      s.up.attempts.length = 0;
      const skipped = await s.request();
      expect(skipped.served).toBe('b');
      expect(skipped.record.detail?.skippedCoolingModels).toBe('openai-compatible/a (cooling until 2026-12-05T12:05:02.000Z after 3 failing requests within 60 s; last: upstream 429)');
      expect(s.up.attempts).toEqual(['acme:b']);
      s.clock.t += 301_000;
      s.up.behaviour.a = ok;
      expect((await s.request()).served).toBe('a');
    }
  });

  it('the only model left is still tried, cooling or not: a cooldown never refuses a request', async () => {
    const s = setup();
    s.up.behaviour.a = fail(503);
    await failThree(s);
    s.up.attempts.length = 0;
    expect((await s.request('acme', [A])).out).toMatchObject({ status: 502 });
    expect(s.up.attempts).toEqual(['acme:a']);
    s.up.behaviour.a = ok;
    s.up.attempts.length = 0;
    expect((await s.request('acme', [B, A])).served).toBe('b'); // a cooling model last in the chain is not skipped either
    expect((await s.request('acme', [A])).served).toBe('a');
  });

  it('a tenant\'s own provider key failing cools the model for that tenant only', async () => {
    const s = setup({ ownKeyTenants: ['globex'] });
    s.up.behaviour.a = fail(429);
    await failThree(s, 'globex');
    s.up.behaviour.a = ok;
    s.up.attempts.length = 0;
    expect((await s.request('acme')).served).toBe('a');
    expect((await s.request('globex')).served).toBe('b');
    expect(s.up.attempts).toEqual(['acme:a', 'globex:b']);
    expect(s.logs[0].modelHealthKey).toBe('openai-compatible/a#tenant:globex');
  });

  it('the platform\'s credentials failing cools the model for every tenant on them', async () => {
    const s = setup();
    s.up.behaviour.a = fail(500);
    await failThree(s, 'acme');
    s.up.attempts.length = 0;
    expect((await s.request('globex')).served).toBe('b');
    expect(s.up.attempts).toEqual(['globex:b']);
  });

  it('with cooling off (gateway.cooldown: false), every request tries the primary', async () => {
    const s = setup({ off: true });
    s.up.behaviour.a = fail(503);
    await failThree(s);
    s.up.attempts.length = 0;
    expect((await s.request()).served).toBe('b');
    expect(s.up.attempts).toEqual(['acme:a', 'acme:b']);
  });
});

describe('whose credentials call a model: the health record\'s key', () => {
  it('a client on a tenant\'s own provider key names the tenant (credentialOwner); one on the platform\'s key, Bedrock and SageMaker name none', async () => {
    const registry = new ProviderRegistry(configWith(), async (_provider, tenantId) => (tenantId === 'globex' ? { key: 'sk-globex', tenantOwn: true } : 'sk-platform'));
    expect((await registry.get('openai', 'globex')).credentialOwner).toBe('globex');
    expect((await registry.get('openai', 'acme')).credentialOwner).toBeUndefined();
    expect((await registry.get('bedrock', 'globex')).credentialOwner).toBeUndefined();
    expect(ModelHealth.keyOf(A, 'globex')).toBe('openai-compatible/a#tenant:globex');
    expect(ModelHealth.keyOf(A, undefined)).toBe('openai-compatible/a');
  });
});
