import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileChatCompletionStore } from '../../../lambdas/inference/stores/file-chat-completion-store.js';
import { FileResponseStore } from '../../../lambdas/inference/stores/file-response-store.js';
import { SubjectCapacityError } from '../../../lambdas/inference/stores/gateway-store.js';
import { CLIENTS, runClient } from './clients.js';
import { PythonClient, plainTenant, useConformanceGateway } from './setup.js';

vi.setConfig({ testTimeout: 30_000 });

/**
 * What the official clients' own retries (max_retries 2: on connection errors, 408, 409, 429 and 5xx, unless the answer
 * says `x-should-retry: false`) do against the gateway's errors that come after the work was done or that no wait can
 * clear: each retry the gateway invites is another upstream call and another charge.
 */
const TENANTS = ['acme', 'globex', 'initech'];
const suite = useConformanceGateway(() => PythonClient.start(), { tenants: TENANTS.map((t) => plainTenant(t)) });
const MODEL = 'openai-compatible/default';
const answer = (text: string) => ({ body: { id: 'up-1', object: 'chat.completion', created: 1_764_000_000, model: 'served-model-name', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } } });
/** A write the store refuses, as DynamoDB refuses one under throttling. */
const throttled = () => Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ProvisionedThroughputExceededException' });

afterEach(() => vi.restoreAllMocks());

describe('a 5xx after the answer was billed is not retried by the SDKs', () => {
  it.each(CLIENTS)('chat completions with store: true, the store refusing the write: one upstream call, one charge, a 500 saying what was billed with x-should-retry: false (%s client, max_retries 2)', async (client) => {
    const tenant = client === 'node' ? 'acme' : 'globex';
    const { env, python } = suite;
    vi.spyOn(FileChatCompletionStore.prototype, 'put').mockRejectedValueOnce(throttled());
    env.upstream.script(answer('first'), answer('second'), answer('third'));
    const out = await runClient(client, python, env.gw.url, env.tokens[tenant], { op: 'create', params: { model: MODEL, store: true, messages: [{ role: 'user', content: 'Hi' }] }, maxRetries: 2 });
    expect(out.error).toMatchObject({ status: 500, body: { type: 'server_error', code: 'internal_error' } });
    expect(out.error!.headers['x-should-retry']).toBe('false');
    expect(out.error!.body.message).toMatch(/the answer was billed \(10 input \+ 5 output tokens\), but it could not be returned: sending the request again is another billed call$/);
    expect(env.upstream.calls).toHaveLength(1);
    await env.gw.settled();
    expect((await env.gw.store.usage(tenant, new Date())).month).toMatchObject({ tokens: 15, requests: 1 });
    expect(env.gw.audit.records.filter((r) => r.tenantId === tenant)).toMatchObject([{ status: 500, outcome: 'internal_error', promptTokens: 10, completionTokens: 5 }]);
  });

  it('responses.create (stored by default), the store refusing the write: the Node client makes one attempt, one upstream call, one charge', async () => {
    const { env } = suite;
    let attempts = 0;
    const fetch = (url: string | URL | Request, init?: RequestInit) => (attempts++, globalThis.fetch(url, init));
    vi.spyOn(FileResponseStore.prototype, 'put').mockRejectedValueOnce(throttled());
    env.upstream.script(answer('first'), answer('second'), answer('third'));
    const c = new OpenAI({ baseURL: env.gw.url, apiKey: env.tokens.initech, fetch, timeout: 20_000 }); // maxRetries: the default 2
    const e = await c.responses.create({ model: MODEL, input: 'Hi' }).then(() => undefined, (x: unknown) => x as { status: number; headers: Headers });
    expect(e).toMatchObject({ status: 500 });
    expect(e!.headers.get('x-should-retry')).toBe('false');
    expect(attempts).toBe(1);
    expect(env.upstream.calls).toHaveLength(1);
    await env.gw.settled();
    expect((await env.gw.store.usage('initech', new Date())).month).toMatchObject({ tokens: 15, requests: 1 });
  });

});

describe('a used-up quota (429 insufficient_quota) is not retried, by the gateway nor by the SDKs', () => {
  /** OpenAI's 429 for a used-up quota, here with a Retry-After an OpenAI-compatible upstream may add. */
  const noQuota = { status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } } };

  it.each(CLIENTS)('one upstream call, OpenAI\'s type and code kept, x-should-retry: false (%s client, max_retries 2)', async (client) => {
    const { env, python } = suite;
    env.upstream.script(...Array.from({ length: 6 }, () => noQuota));
    const out = await runClient(client, python, env.gw.url, env.tokens.acme, { op: 'create', params: { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }, maxRetries: 2 });
    expect(out.error).toMatchObject({ status: 429, body: { type: 'insufficient_quota', code: 'insufficient_quota', message: expect.stringContaining('You exceeded your current quota') } });
    expect(out.error!.headers['x-should-retry']).toBe('false');
    expect(env.upstream.calls).toHaveLength(1);
  });

  it('OpenAI\'s own quota 429, with no Retry-After: the answer carries none either (a framework that ignores x-should-retry waits out a retry-after under a minute and sends again)', async () => {
    const { env } = suite;
    env.upstream.script({ ...noQuota, headers: {} });
    const res = await fetch(`${env.gw.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${env.tokens.initech}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }) });
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ error: { code: 'insufficient_quota' } });
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect([res.headers.get('retry-after'), res.headers.get('retry-after-ms')]).toEqual([null, null]);
    expect(res.headers.get('x-ratelimit-limit-requests')).not.toBeNull();
    expect(env.upstream.calls).toHaveLength(1);
  });
});

describe('an upstream throttle without Retry-After, after the gateway\'s own retries, is not retried by the SDKs', () => {
  /** OpenAI's rate-limit 429 as an OpenAI-compatible upstream may send it: no Retry-After, no retry-after-ms. */
  const throttled = { status: 429, body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };

  it.each(CLIENTS)('one SDK attempt, x-should-retry: false and no invented retry-after beside it (%s client, max_retries 2)', async (client) => {
    const { env, python } = suite;
    env.upstream.script(...Array.from({ length: 6 }, () => throttled));
    const out = await runClient(client, python, env.gw.url, env.tokens.acme, { op: 'create', params: { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }, maxRetries: 2 });
    expect(out.error).toMatchObject({ status: 429, body: { type: 'requests', code: 'rate_limit_exceeded' } });
    expect(out.error!.headers['x-should-retry']).toBe('false');
    // retry-after: 1 said "come back in a second" beside "do not retry": the frameworks that ignore x-should-retry waited it out.
    expect([out.error!.headers['retry-after'], out.error!.headers['retry-after-ms']]).toEqual([undefined, undefined]);
    expect(out.error!.headers['x-ratelimit-limit-requests']).toBeDefined();
    expect(env.upstream.calls).toHaveLength(2); // the gateway's two attempts (upstreamRetries: 1), no SDK retry
  });
});

describe('a refusal only a restart clears is not retried by the SDKs', () => {
  it('503 subject_capacity_exceeded (tessera serve\'s multi-thread store has no room for another user or key): x-should-retry: false, one attempt of the Node client', async () => {
    const { env } = suite;
    let attempts = 0;
    const fetch = (url: string | URL | Request, init?: RequestInit) => (attempts++, globalThis.fetch(url, init));
    vi.spyOn(env.gw.store, 'countRequest').mockRejectedValue(new SubjectCapacityError('acme', 2));
    const c = new OpenAI({ baseURL: env.gw.url, apiKey: env.tokens.acme, fetch, timeout: 20_000 }); // maxRetries: the default 2
    const e = await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }).then(() => undefined, (x: unknown) => x as InstanceType<typeof OpenAI.APIError>);
    expect(e).toMatchObject({ status: 503, code: 'subject_capacity_exceeded' });
    expect(e!.headers?.get('x-should-retry')).toBe('false');
    expect(attempts).toBe(1);
    expect(env.upstream.calls).toHaveLength(0);
  });
});

describe('an SDK\'s retry is its own request, and its record says it is a retry', () => {
  it.each(CLIENTS)('an upstream 429 with retry-after-ms, waited out by the SDK: two records, the second with detail.sdkRetry 1 (x-stainless-retry-count) (%s client)', async (client) => {
    const tenant = client === 'node' ? 'initech' : 'globex';
    const { env, python } = suite;
    const throttled = { status: 429, headers: { 'retry-after-ms': '20' }, body: { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } } };
    // The gateway waits out the first 429 once itself (it fits the first-byte timeout), then answers the second's.
    env.upstream.script(throttled, throttled, answer('after the wait'));
    const before = env.gw.audit.records.filter((r) => r.tenantId === tenant).length;
    const out = await runClient(client, python, env.gw.url, env.tokens[tenant], { op: 'create', params: { model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }, maxRetries: 2 });
    expect(out.result.choices[0].message.content).toBe('after the wait');
    expect(env.upstream.calls).toHaveLength(3);
    await env.gw.settled();
    const records = env.gw.audit.records.filter((r) => r.tenantId === tenant).slice(before);
    expect(records.map((r) => [r.status, r.detail?.sdkRetry])).toEqual([[429, undefined], [200, 1]]);
  });
});
