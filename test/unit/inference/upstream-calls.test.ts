import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { ProviderError, type Provider, type ProviderRequest } from '../../../lambdas/inference/providers/provider.js';
import { CallerGone, UpstreamCalls } from '../../../lambdas/inference/upstream-calls.js';
import { ModelHealth } from '../../../lambdas/inference/model-health.js';

const model = (id: string): ModelEntry => ({ id: `openai-compatible/${id}`, upstream: id, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 10 });
const answer = (text: string) => ({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }] }) as ChatCompletion;
const chunk = (text: string) => ({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: text }, finish_reason: null }] }) as ChatCompletionChunk;
const base = { body: { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] }, tenantId: 'acme' };
const never = new AbortController().signal;
const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
});

/** A provider whose behaviour per call is scripted; it records the upstream models it was called with. */
function scripted(script: Array<(r: ProviderRequest) => Promise<ChatCompletion>>, stream?: (r: ProviderRequest) => AsyncIterable<ChatCompletionChunk>) {
  const calls: string[] = [];
  const provider: Provider = {
    complete: (r) => (calls.push(r.model.upstream), script[Math.min(calls.length - 1, script.length - 1)](r)),
    stream: (r) => (calls.push(r.model.upstream), stream!(r)),
  };
  return { calls, lookup: async () => provider };
}
const timeouts = { firstByteMs: 300, idleMs: 300, retries: 2 };

describe('upstream calls: retries, Retry-After, fallbacks, timeouts, a caller that leaves', () => {
  it('retries a 5xx and answers from the same model', async () => {
    const p = scripted([async () => { throw new ProviderError('boom', 503, true); }, async () => answer('ok')]);
    const out = await new UpstreamCalls(p.lookup, timeouts).complete([model('a')], base, never);
    expect(out.result.choices[0].message.content).toBe('ok');
    expect(p.calls).toEqual(['a', 'a']);
  });

  it('waits out a Retry-After that fits the attempt budget, then retries once', async () => {
    const p = scripted([async () => { throw new ProviderError('slow down', 429, true, { retryAfterMs: 100 }); }, async () => answer('ok')]);
    const started = Date.now();
    await new UpstreamCalls(p.lookup, timeouts).complete([model('a')], base, never);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(p.calls).toEqual(['a', 'a']);
  });

  it('waits out a Retry-After once per model: still limited after it, the caller gets the 429 with retry-after, and the SDKs may wait it out too (no x-should-retry)', async () => {
    const p = scripted([async () => { throw new ProviderError('slow down', 429, true, { retryAfterMs: 50 }); }]);
    const err = await new UpstreamCalls(p.lookup, timeouts).complete([model('a')], base, never).catch((e) => e);
    expect(p.calls).toEqual(['a', 'a']);
    expect(err).toMatchObject({ status: 429, headers: { 'retry-after': '1', 'retry-after-ms': '50' } }); // the SDKs read retry-after-ms first
    expect(err.headers).not.toHaveProperty('x-should-retry');
  });

  it('says what happened to the one model when there was no chain (embeddings never fall back), and to every model of a chain', async () => {
    const provider: Provider = {
      complete: async () => { throw new ProviderError('boom', 500, true); },
      stream: () => { throw new Error('not streamed'); },
      embed: async () => { throw new ProviderError('boom', 500, true); },
    };
    const calls = new UpstreamCalls(async () => provider, timeouts);
    const one = await calls.embed([model('embed')], { body: { model: 'm', input: 'hi' }, tenantId: 'acme' }, never).catch((e) => e);
    expect(one).toMatchObject({ status: 502, code: 'upstream_error', message: 'the upstream of openai-compatible/embed failed: boom' });
    const alone = await calls.complete([model('a')], base, never).catch((e) => e);
    expect(alone.message).toBe('the upstream of openai-compatible/a failed: boom');
    const chain = await calls.complete([model('a'), model('b')], base, never).catch((e) => e);
    expect(chain).toMatchObject({ status: 502, message: 'upstream failed for every model of the chain (openai-compatible/a, openai-compatible/b): boom' });
  });

  it('tells the SDKs not to multiply the calls after a 429 without Retry-After and after a 5xx', async () => {
    const limited = scripted([async () => { throw new ProviderError('slow down', 429, true); }]);
    const err429 = await new UpstreamCalls(limited.lookup, timeouts).complete([model('a')], base, never).catch((e) => e);
    expect(err429.status).toBe(429);
    expect(err429.headers).not.toHaveProperty('retry-after');
    expect(err429.headers['x-should-retry']).toBe('false');
    const failing = scripted([async () => { throw new ProviderError('boom', 503, true); }]);
    const err502 = await new UpstreamCalls(failing.lookup, timeouts).complete([model('a')], base, never).catch((e) => e);
    expect(err502).toMatchObject({ status: 502, headers: { 'x-should-retry': 'false' } });
  });

  it('does not wait out a longer Retry-After: one call, then the fallback; with none left, a 429 with retry-after', async () => {
    const p = scripted([async (r) => { if (r.model.upstream === 'a') throw new ProviderError('slow down', 429, true, { retryAfterMs: 7000 }); return answer('from b'); }]);
    const out = await new UpstreamCalls(p.lookup, timeouts).complete([model('a'), model('b')], base, never);
    expect(out.model.upstream).toBe('b');
    expect(p.calls).toEqual(['a', 'b']);

    const alone = scripted([async () => { throw new ProviderError('slow down', 429, true, { retryAfterMs: 7000, code: 'rate_limit_exceeded' }); }]);
    const err = await new UpstreamCalls(alone.lookup, timeouts).complete([model('a')], base, never).catch((e) => e);
    expect(alone.calls).toEqual(['a']);
    expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after': '7' } });
  });

  it("an upstream OpenAI 429 keeps OpenAI's error type and code (`requests`, `tokens`: the SDKs pick RateLimitError by the status), its message without the platform's organization and project ids", async () => {
    // OpenAI's message names the organization whose limit ran out (help.openai.com, "How can I solve 429: 'Too Many Requests' errors?").
    const said = 'Rate limit reached for gpt-4o-mini in organization org-exampleorgid123 on tokens per min (TPM): Limit 200000, Used 199000, Requested 2000. Please try again in 300ms.';
    for (const type of ['requests', 'tokens']) {
      const p = scripted([async () => { throw new ProviderError(said, 429, true, { retryAfterMs: 7000, type, code: 'rate_limit_exceeded', param: null }); }]);
      const err = await new UpstreamCalls(p.lookup, timeouts).complete([model('a')], base, never).catch((e) => e);
      expect(JSON.parse(err.body())).toEqual({ error: {
        message: 'the upstream of openai-compatible/a is rate limited: Rate limit reached for gpt-4o-mini in organization [redacted] on tokens per min (TPM): Limit 200000, Used 199000, Requested 2000. Please try again in 300ms.',
        type, param: null, code: 'rate_limit_exceeded',
      } });
    }
    // A project's limit names the project; an upstream that sends no type gets OpenAI's generic rate_limit_error.
    const bare = scripted([async () => { throw new ProviderError('Rate limit reached for gpt-4o in project proj_AbC123xyz on requests per min (RPM)', 429, true, { retryAfterMs: 7000 }); }]);
    const err = await new UpstreamCalls(bare.lookup, timeouts).complete([model('a')], base, never).catch((e) => e);
    expect(err).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'upstream_rate_limited', message: expect.stringMatching(/in project \[redacted\] on requests per min \(RPM\)$/) });
  });

  it("drops OpenAI's organization, project and key ids wherever the upstream's message puts them (URL-encoded, JSON-escaped, after an underscore), on a 429 and on every other status it relays", async () => {
    const ids = 'see https://platform.openai.com/x?key%3Dsk-proj-AbCdEf123456 and id%20org-AbCdEf123456, \\u0022proj_AbCdEf123456\\u0022, organization_org-ZyXwVu987654';
    const redacted = 'see https://platform.openai.com/x?key%3D[redacted] and id%20[redacted], \\u0022[redacted]\\u0022, organization_[redacted]';
    for (const [status, retryable] of [[429, true], [400, false], [404, false], [500, true]] as const) {
      const p = scripted([async () => { throw new ProviderError(`refused: ${ids}`, status, retryable, { retryAfterMs: 1 }); }]);
      const err = await new UpstreamCalls(p.lookup, { ...timeouts, retries: 0 }).complete([model('a')], base, never).catch((e) => e);
      expect(err.message, `status ${status}`).toContain(`refused: ${redacted}`);
      expect(err.message, `status ${status}`).not.toMatch(/AbCdEf123456|ZyXwVu987654/);
    }
    // A word that only looks like one keeps its letters: a letter or digit before the prefix.
    const words = scripted([async () => { throw new ProviderError('task-forces and disk-space limits of org-wide use', 400, false, {}); }]);
    expect((await new UpstreamCalls(words.lookup, timeouts).complete([model('a')], base, never).catch((e) => e)).message).toBe('task-forces and disk-space limits of org-wide use');
  });

  it('hands an upstream 400 to the caller as it is, without retrying or falling back', async () => {
    const p = scripted([async () => { throw new ProviderError("This model's maximum context length is 8192 tokens", 400, false, { type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' }); }]);
    const err = await new UpstreamCalls(p.lookup, timeouts).complete([model('a'), model('b')], base, never).catch((e) => e);
    expect(p.calls).toEqual(['a']);
    expect(err).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages', message: "This model's maximum context length is 8192 tokens" });
  });

  it('turns the platform\'s rejected upstream credentials into a 502 and tries the fallback', async () => {
    const p = scripted([async (r) => { if (r.model.upstream === 'a') throw new ProviderError('Incorrect API key', 401, false); return answer('b'); }]);
    expect((await new UpstreamCalls(p.lookup, timeouts).complete([model('a'), model('b')], base, never)).model.upstream).toBe('b');
    const alone = scripted([async () => { throw new ProviderError('Incorrect API key', 401, false); }]);
    expect(await new UpstreamCalls(alone.lookup, timeouts).complete([model('a')], base, never).catch((e) => e)).toMatchObject({ status: 502, code: 'upstream_auth_failed' });
  });

  it('answers 504 when no first byte comes in time, after the retries', async () => {
    const p = scripted([(r) => sleep(10_000, r.signal).then(() => answer('late'))]);
    const err = await new UpstreamCalls(p.lookup, { ...timeouts, firstByteMs: 50, retries: 1 }).complete([model('a')], base, never).catch((e) => e);
    expect(err).toMatchObject({ status: 504, code: 'upstream_timeout' });
    expect(p.calls).toEqual(['a', 'a']);
  });

  it('never cuts a stream for its length, only for a gap longer than the idle timeout', async () => {
    async function* slow(r: ProviderRequest) {
      for (let i = 0; i < 10; i++) {
        await sleep(100, r.signal);
        yield chunk(String(i));
      }
    }
    // Gaps a quarter of the timeouts: a timer late by up to 300 ms on a loaded machine still passes.
    // 1,000 ms in all: longer than both timeouts together, so a cut at any fixed total of them fails.
    const calls = new UpstreamCalls(scripted([], slow).lookup, { firstByteMs: 400, idleMs: 400, retries: 0 });
    const open = await calls.stream([model('a')], base, never);
    const seen = [open.first!.choices[0].delta.content];
    for await (const c of open.rest) seen.push(c.choices[0].delta.content);
    expect(seen).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']); // 1,000 ms in all

    async function* stalls(r: ProviderRequest) {
      yield chunk('a');
      await sleep(4000, r.signal);
      yield chunk('b');
    }
    const stalled = await new UpstreamCalls(scripted([], stalls).lookup, { firstByteMs: 400, idleMs: 400, retries: 0 }).stream([model('a')], base, never);
    const err = await (async () => { for await (const _ of stalled.rest); })().catch((e) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.details.timedOut).toBe(true);
  });

  it('keeps a stream whose upstream sends keep-alive comments while it thinks (onActivity), however long the silence between chunks', async () => {
    async function* thinking(r: ProviderRequest) {
      yield chunk('a');
      for (let i = 0; i < 10; i++) {
        await sleep(100, r.signal);
        r.onActivity?.(); // what sseChunks does for ": keep-alive"
      }
      yield chunk('b');
    }
    const open = await new UpstreamCalls(scripted([], thinking).lookup, { firstByteMs: 400, idleMs: 400, retries: 0 }).stream([model('a')], base, never);
    const seen = [open.first!.choices[0].delta.content];
    for await (const c of open.rest) seen.push(c.choices[0].delta.content);
    expect(seen).toEqual(['a', 'b']); // 1,000 ms without a chunk (more than both timeouts together), under a 400 ms idle timeout
  });

  it('does not count the time the gateway spends on a chunk (a slow reader, the output guardrail) against the upstream\'s idle timeout', async () => {
    async function* prompt(r: ProviderRequest) {
      for (const text of ['a', 'b', 'c']) {
        if (r.signal.aborted) throw r.signal.reason; // as a real upstream's body fails once its request is aborted
        yield chunk(text); // the upstream answers at once
      }
    }
    const open = await new UpstreamCalls(scripted([], prompt).lookup, { firstByteMs: 300, idleMs: 300, retries: 0 }).stream([model('a')], base, never);
    const seen = [open.first!.choices[0].delta.content];
    for await (const c of open.rest) {
      await new Promise((r) => setTimeout(r, 500)); // longer than the idle timeout, on the gateway's side
      seen.push(c.choices[0].delta.content);
    }
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('aborts the upstream call when the caller leaves, and does not retry', async () => {
    let aborted = false;
    async function* endless(r: ProviderRequest) {
      r.signal.addEventListener('abort', () => { aborted = true; });
      for (let i = 0; ; i++) {
        await sleep(20, r.signal);
        yield chunk(String(i));
      }
    }
    const p = scripted([], endless);
    const caller = new AbortController();
    const open = await new UpstreamCalls(p.lookup, timeouts).stream([model('a')], base, caller.signal);
    setTimeout(() => caller.abort(), 70);
    const err = await (async () => { for await (const _ of open.rest); })().catch((e) => e);
    expect(err).toBeInstanceOf(CallerGone);
    expect(aborted).toBe(true);
    expect(p.calls).toEqual(['a']);
  });

  it('stops at the request\'s deadline: the call aborted, no retry, no fallback, a 504 request_deadline_exceeded that the SDKs do not retry', async () => {
    const deadline = new AbortController();
    let aborted = false;
    const p = scripted([async (r) => {
      r.signal.addEventListener('abort', () => { aborted = true; });
      queueMicrotask(() => deadline.abort());
      return await new Promise<ChatCompletion>((_, reject) => r.signal.addEventListener('abort', () => reject(r.signal.reason)));
    }]);
    const err = await new UpstreamCalls(p.lookup, { ...timeouts, firstByteMs: 2_000, retries: 0 }).complete([model('a'), model('b')], base, never, deadline.signal).catch((e) => e);
    expect(aborted).toBe(true);
    expect(p.calls).toEqual(['a']);
    expect(err).toMatchObject({ status: 504, type: 'timeout_error', code: 'request_deadline_exceeded', headers: { 'x-should-retry': 'false' } });
  });

  it('a deadline that comes while a retry waits out its Retry-After ends the wait and the chain', async () => {
    const deadline = new AbortController();
    const p = scripted([async () => {
      queueMicrotask(() => deadline.abort());
      throw new ProviderError('slow down', 429, true, { retryAfterMs: 1_500 });
    }]);
    const err = await new UpstreamCalls(p.lookup, { ...timeouts, firstByteMs: 2_000 }).complete([model('a'), model('b')], base, never, deadline.signal).catch((e) => e);
    expect(p.calls).toEqual(['a']);
    expect(err).toMatchObject({ status: 504, code: 'request_deadline_exceeded' });
  });

  it('past its first chunk, a stream stopped at the deadline throws the deadline\'s ProviderError (settled and reported by the endpoint), not CallerGone', async () => {
    const deadline = new AbortController();
    const p = scripted([], async function* (r) {
      yield chunk('a');
      yield chunk('b');
      r.signal.throwIfAborted(); // as an HTTP provider's read on an aborted connection
      await new Promise((_, reject) => r.signal.addEventListener('abort', () => reject(r.signal.reason)));
    });
    const open = await new UpstreamCalls(p.lookup, { ...timeouts, idleMs: 2_000 }).stream([model('a')], base, never, deadline.signal);
    const got: string[] = [];
    const err = await (async () => {
      for await (const c of open.rest) {
        got.push(c.choices[0].delta.content!);
        deadline.abort();
      }
    })().catch((e) => e);
    expect(got).toEqual(['b']);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.details).toEqual({ deadline: true });
  });
});


describe('upstream calls: a 401/403 to the tenant\'s own provider key ends the chain (TenantKeyRefused)', () => {
  /**
   * Model `a` on the tenant's own key (a client with credentialOwner `acme`) refused with `status`, its fallback `b`
   * answering; `platform: true` calls `a` on the platform's key instead (no credentialOwner).
   */
  function ownKeyChain(status: number, options: { platform?: boolean } = {}) {
    const calls: string[] = [];
    const refuse = (r: ProviderRequest) => {
      calls.push(r.model.upstream);
      if (r.model.upstream === 'a') throw new ProviderError('Incorrect API key provided: sk-acme-***********abcd. You can find your API key at ...', status, false, { type: 'invalid_request_error', code: 'invalid_api_key' });
    };
    const provider: Provider = {
      ...(options.platform ? {} : { credentialOwner: 'acme' }),
      complete: async (r) => (refuse(r), answer(`from ${r.model.upstream}`)),
      stream: (r) => (async function* () { refuse(r); yield chunk(`from ${r.model.upstream}`); })(),
    };
    return { calls, lookup: async () => provider };
  }
  const own = { ...base, providerKeys: { 'openai-compatible': 'own' as const } };

  it('own: 502 tenant_provider_key_refused naming the provider, never the key nor the upstream\'s words; no retry, no fallback; the record notes it', async () => {
    const p = ownKeyChain(401);
    const record: { detail?: Record<string, string | number | boolean> } = {};
    const err = await new UpstreamCalls(p.lookup, timeouts).complete([model('a'), model('b')], own, never, undefined, record).catch((e) => e);
    expect(err).toMatchObject({ status: 502, type: 'upstream_error', code: 'tenant_provider_key_refused', headers: { 'x-should-retry': 'false' } });
    expect(err.message).toMatch(/^openai-compatible refused the tenant's own API key \(401 from openai-compatible for openai-compatible\/a; Secrets Manager secret tessera\/tenants\/acme\/openai-compatible\)/);
    expect(err.message).toContain('gateway.providerKeys.openai-compatible: own');
    expect(err.message).toContain('tessera tenants provider-key set acme openai-compatible');
    expect(err.message).not.toMatch(/sk-|Incorrect API key/);
    expect(p.calls).toEqual(['a']); // neither a retry nor the fallback b
    expect(record.detail).toEqual({ tenantKeyRefused: 'openai-compatible 401 (openai-compatible/a)' });
  });

  it('a stream refused before its first chunk (403) ends the same way', async () => {
    const p = ownKeyChain(403);
    const err = await new UpstreamCalls(p.lookup, timeouts).stream([model('a'), model('b')], own, never).catch((e) => e);
    expect(err).toMatchObject({ status: 502, code: 'tenant_provider_key_refused' });
    expect(err.message).toContain('(403 from openai-compatible');
    expect(p.calls).toEqual(['a']);
  });

  it('own-or-platform with the tenant\'s key in use (the default): refused too, the message saying the platform\'s key is only for an unreadable one', async () => {
    const p = ownKeyChain(401);
    const err = await new UpstreamCalls(p.lookup, timeouts).complete([model('a'), model('b')], { ...base, providerKeys: {} }, never).catch((e) => e);
    expect(err).toMatchObject({ status: 502, code: 'tenant_provider_key_refused' });
    expect(err.message).toContain('gateway.providerKeys.openai-compatible: own-or-platform');
    expect(err.message).toContain('own-or-platform uses the platform\'s key only when the tenant\'s cannot be read');
    expect(p.calls).toEqual(['a']);
  });

  it('the platform\'s key refused (no credentialOwner) still goes on to the fallback, as before', async () => {
    const p = ownKeyChain(401, { platform: true });
    const out = await new UpstreamCalls(p.lookup, timeouts).complete([model('a'), model('b')], base, never);
    expect(out.model.id).toBe('openai-compatible/b');
    expect(p.calls).toEqual(['a', 'b']);
  });

  it('nothing is reported to the cooldown: after 5 refused requests the model is neither cooling for the tenant nor for the platform\'s key', async () => {
    const health = new ModelHealth({ failures: 1, windowMs: 60_000, coolMs: 30_000 }, () => 0, () => undefined);
    const p = ownKeyChain(401);
    const calls = new UpstreamCalls(p.lookup, timeouts, health);
    for (let i = 0; i < 5; i++) expect((await calls.complete([model('a'), model('b')], own, never).catch((e) => e)).code).toBe('tenant_provider_key_refused');
    expect(p.calls).toEqual(['a', 'a', 'a', 'a', 'a']); // never skipped as cooling, never the fallback
    expect(health.admit('openai-compatible/a#tenant:acme', true)).toEqual({ probe: false });
    expect(health.admit('openai-compatible/a', true)).toEqual({ probe: false });
  });
});
