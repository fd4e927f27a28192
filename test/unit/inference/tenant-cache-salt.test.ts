import { createHash } from 'node:crypto';
import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient, SageMakerRuntimeServiceException } from '@aws-sdk/client-sagemaker-runtime';
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../lib/config/schema.js';
import { HttpOpenAiCompatibleProvider } from '../../../lambdas/inference/providers/http-openai-compatible.js';
import type { ProviderRequest } from '../../../lambdas/inference/providers/provider.js';
import { SageMakerProvider } from '../../../lambdas/inference/providers/sagemaker.js';
import { tenantCacheSalt, withTenantCacheSalt } from '../../../lambdas/inference/providers/tenant-cache-salt.js';
import { tenantPromptCacheKey } from '../../../lambdas/inference/providers/tenant-cache-key.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { mockStrict } from '../../support/strict-mock.js';

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'unit';
process.env.AWS_SECRET_ACCESS_KEY = 'unit';
const sagemaker = mockStrict(SageMakerRuntimeClient, 'sagemaker-runtime', SageMakerRuntimeServiceException);
const signal = new AbortController().signal;

describe('tenantCacheSalt: tcs_ + 43 base64url of SHA-256("cache_salt" NUL tenant [NUL salt])', () => {
  it('is the documented formula: the tenant\'s default, and a caller\'s salt scoped; 47 characters', () => {
    const of = (text: string) => `tcs_${createHash('sha256').update(Buffer.from(text, 'utf8')).digest('base64url').slice(0, 43)}`;
    expect(tenantCacheSalt('acme')).toBe(of('cache_salt\u0000acme'));
    expect(tenantCacheSalt('acme', 'session-1')).toBe(of('cache_salt\u0000acme\u0000session-1'));
    expect(tenantCacheSalt('a'.repeat(24), 'x'.repeat(10_000))).toMatch(/^tcs_[A-Za-z0-9_-]{43}$/);
  });

  it('stable per tenant; another tenant is another salt; no caller salt maps to the default; the tenant id is not in it', () => {
    expect(tenantCacheSalt('acme')).toBe(tenantCacheSalt('acme'));
    expect(tenantCacheSalt('acme')).not.toBe(tenantCacheSalt('globex'));
    expect(tenantCacheSalt('acme', 'k')).not.toBe(tenantCacheSalt('globex', 'k'));
    expect(tenantCacheSalt('acme', '')).not.toBe(tenantCacheSalt('acme'));
    // B sending A's default salt gets a salt of its own.
    expect(tenantCacheSalt('globex', tenantCacheSalt('acme'))).not.toBe(tenantCacheSalt('acme'));
    expect(tenantCacheSalt('acme')).not.toContain('acme');
  });
});

describe('withTenantCacheSalt', () => {
  it('scopes a caller\'s salt in a copy; adds the tenant\'s only when salted and none sent; empty strings and other types go on as sent', () => {
    const body = { model: 'm', cache_salt: 'session-1' };
    expect(withTenantCacheSalt(body, 'acme', false)).toEqual({ model: 'm', cache_salt: tenantCacheSalt('acme', 'session-1') });
    expect(body.cache_salt).toBe('session-1');
    expect(withTenantCacheSalt({ model: 'm' }, 'acme', true)).toEqual({ model: 'm', cache_salt: tenantCacheSalt('acme') });
    expect(withTenantCacheSalt({ model: 'm', cache_salt: null }, 'acme', true)).toEqual({ model: 'm', cache_salt: tenantCacheSalt('acme') });
    const plain = { model: 'm' };
    expect(withTenantCacheSalt(plain, 'acme', undefined)).toBe(plain);
    for (const odd of [{ model: 'm', cache_salt: '' }, { model: 'm', cache_salt: 7 }]) expect(withTenantCacheSalt(odd, 'acme', true)).toBe(odd);
  });
});

describe('the OpenAI-compatible relay: cache_salt and the tenant\'s default prompt_cache_key', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await new FakeUpstream().start();
  });
  afterAll(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const model = (id: string, extra: Partial<ModelEntry> = {}): ModelEntry => ({ id, upstream: 'm', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100, ...extra });
  const chat = (m: ModelEntry, body: Record<string, unknown> = {}, tenantId = 'acme') => ({ model: m, tenantId, signal, body: { model: m.id, messages: [{ role: 'user', content: 'hi' }], ...body } }) as ProviderRequest;

  /** Chat (whole, streamed) and text completions (whole, streamed) of `m`: each upstream body's cache_salt. */
  async function salts(provider: HttpOpenAiCompatibleProvider, m: ModelEntry, body: Record<string, unknown> = {}): Promise<unknown[]> {
    upstream.reset();
    await provider.complete(chat(m, body));
    for await (const _ of provider.stream(chat(m, body)));
    const completion = { ...m, kind: 'completion' as const };
    await provider.textComplete({ model: completion, tenantId: 'acme', signal, body: { prompt: 'hi', ...body } });
    for await (const _ of provider.textStream({ model: completion, tenantId: 'acme', signal, body: { prompt: 'hi', ...body } }));
    return upstream.requests.map((b) => b.cache_salt);
  }

  it('a prefixCacheSalt model gets the tenant\'s salt on every chat and completion path, on either key; another model none', async () => {
    const platform = new HttpOpenAiCompatibleProvider('openai-compatible', upstream.url, 'sk-platform');
    const own = Object.assign(new HttpOpenAiCompatibleProvider('openai-compatible', upstream.url, 'sk-acme-own'), { credentialOwner: 'acme' });
    const salted = model('openai-compatible/vllm', { prefixCacheSalt: true });
    expect(await salts(platform, salted)).toEqual(Array(4).fill(tenantCacheSalt('acme')));
    expect(await salts(own, salted)).toEqual(Array(4).fill(tenantCacheSalt('acme')));
    expect(await salts(platform, model('openai-compatible/plain'))).toEqual(Array(4).fill(undefined));
  });

  it('a caller\'s cache_salt is scoped to its tenant on every path, salted model or not, either key', async () => {
    const platform = new HttpOpenAiCompatibleProvider('huggingface', upstream.url, 'sk-platform');
    const own = Object.assign(new HttpOpenAiCompatibleProvider('huggingface', upstream.url, 'sk-acme-own'), { credentialOwner: 'acme' });
    for (const m of [model('huggingface/vllm', { prefixCacheSalt: true }), model('huggingface/plain')]) {
      expect(await salts(platform, m, { cache_salt: 'session-1' })).toEqual(Array(4).fill(tenantCacheSalt('acme', 'session-1')));
      expect(await salts(own, m, { cache_salt: 'session-1' })).toEqual(Array(4).fill(tenantCacheSalt('acme', 'session-1')));
    }
  });

  it('OpenAI on the platform\'s key: no key sent (absent or null) is the tenant\'s own key; a key sent is scoped as before; the tenant\'s own key as sent', async () => {
    const platform = new HttpOpenAiCompatibleProvider('openai', upstream.url, 'sk-platform');
    const gpt = model('openai/gpt-4o-mini');
    await platform.complete(chat(gpt));
    await platform.complete(chat(gpt, { prompt_cache_key: null }));
    for await (const _ of platform.stream(chat(gpt)));
    await platform.complete(chat(gpt, {}, 'globex'));
    await platform.complete(chat(gpt, { prompt_cache_key: 'k-1' }));
    const own = Object.assign(new HttpOpenAiCompatibleProvider('openai', upstream.url, 'sk-acme-own'), { credentialOwner: 'acme' });
    await own.complete(chat(gpt));
    await own.complete(chat(gpt, { prompt_cache_key: 'k-1' }));
    // Another OpenAI-compatible upstream on the platform's key gets no key it was not sent (vLLM, TGI: not their field).
    await new HttpOpenAiCompatibleProvider('openai-compatible', upstream.url, 'sk-platform').complete(chat(model('openai-compatible/m')));
    const keys = upstream.requests.map((b) => ('prompt_cache_key' in b ? b.prompt_cache_key : 'absent'));
    const acme = tenantPromptCacheKey('acme', '');
    expect(keys).toEqual([acme, acme, acme, tenantPromptCacheKey('globex', ''), tenantPromptCacheKey('acme', 'k-1'), 'absent', 'k-1', 'absent']);
    expect(acme).not.toBe(tenantPromptCacheKey('globex', ''));
  });
});

describe('the SageMaker provider: cache_salt', () => {
  beforeEach(() => sagemaker.reset());
  const request = (extra: Partial<ModelEntry>, body: Record<string, unknown> = {}): ProviderRequest => ({
    model: { id: 'sagemaker/vllm', upstream: 'vllm-endpoint', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100, ...extra },
    body: { model: 'sagemaker/vllm', messages: [{ role: 'user', content: 'hi' }], ...body } as ChatCompletionCreateParams,
    tenantId: 'acme', signal,
  });

  it('a prefixCacheSalt endpoint gets the tenant\'s salt, whole and streamed; a caller\'s salt is scoped; another endpoint gets none', async () => {
    sagemaker.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [] })) as never });
    sagemaker.on(InvokeEndpointWithResponseStreamCommand).resolves({ Body: (async function* () {})() as never });
    const provider = new SageMakerProvider();
    await provider.complete(request({ prefixCacheSalt: true }));
    for await (const _ of provider.stream(request({ prefixCacheSalt: true })));
    await provider.complete(request({ prefixCacheSalt: true }, { cache_salt: 'session-1' }));
    await provider.complete(request({}));
    const whole = sagemaker.commandCalls(InvokeEndpointCommand).map((c) => JSON.parse(c.args[0].input.Body as string).cache_salt);
    const streamed = sagemaker.commandCalls(InvokeEndpointWithResponseStreamCommand).map((c) => JSON.parse(c.args[0].input.Body as string).cache_salt);
    expect([...whole, ...streamed]).toEqual([tenantCacheSalt('acme'), tenantCacheSalt('acme', 'session-1'), undefined, tenantCacheSalt('acme')]);
  });
});
