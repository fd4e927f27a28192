import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { PlatformConfigSchema } from '../../../lib/config/schema.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { resolvePolicy } from '../../../lambdas/inference/policy.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { RequestPipeline, type PipelineRequest } from '../../../lambdas/inference/pipeline.js';
import type { BudgetLimits, GatewayStore } from '../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

// Tokens per minute in the pipeline (RequestPipeline.reserve): OpenAI's TPM 429 (type `tokens`, code
// `rate_limit_exceeded`, "Rate limit reached for … on tokens per min (TPM): Limit X, Used Y, Requested Z") and its
// x-ratelimit-*-tokens headers, which state the tightest tokens-per-minute limit when one is configured.
const NOW = new Date('2026-11-23T10:15:30Z');
const KEY = 'key_00000000000000aa';
const FREE = { id: 'openai/free', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 } as never;
const rate = { minute: 10, hour: 100, day: 1000 };

const pipelineOn = (store: GatewayStore) => new RequestPipeline(loadConfig(), store, {} as never, (async () => undefined) as never);

const request = (limits: BudgetLimits, key?: { tokensPerMinute?: number; tokensPerDay?: number }): PipelineRequest => ({
  caller: { tenantId: 'acme', userId: 'u-1', tenant: { tier: 'starter' }, ...(key ? { keyId: KEY, key: { limits: key } } : {}) },
  policy: { limits, tier: {}, gateway: {}, rate },
  audit: { path: '/v1/chat/completions' },
}) as unknown as PipelineRequest;

const refusal = async (p: Promise<unknown>): Promise<GatewayError> => {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(GatewayError);
  return e as GatewayError;
};

beforeEach(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }));
afterEach(() => vi.useRealTimers());

describe('tokens per minute: admission, 429 and headers', () => {
  it('states the tier\'s tokens per minute in the served answer\'s tokens headers, not the day\'s budget', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    const r = request({ dayTokens: 1000, minuteTokens: 500 });
    await pipeline.admit(r);
    await pipeline.reserve(r, FREE, 60, 40);
    expect(pipeline.servedRateHeaders(r)).toEqual({
      'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '9', 'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '500', 'x-ratelimit-remaining-tokens': '400', 'x-ratelimit-reset-tokens': '30s',
    });
    // The key's own, tighter, limit is the one stated.
    const k = request({ dayTokens: 1000, minuteTokens: 500 }, { tokensPerMinute: 150 });
    await pipeline.admit(k);
    await pipeline.reserve(k, FREE, 100, 0);
    expect(pipeline.servedRateHeaders(k)).toMatchObject({ 'x-ratelimit-limit-tokens': '150', 'x-ratelimit-remaining-tokens': '50', 'x-ratelimit-reset-tokens': '30s' });
  });

  it('refuses with OpenAI\'s TPM 429: type tokens, code rate_limit_exceeded, Limit/Used/Requested, retry-after to the minute\'s end', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    const first = request({ dayTokens: 10_000, minuteTokens: 500 });
    await pipeline.admit(first);
    await pipeline.reserve(first, FREE, 300, 100);
    const r = request({ dayTokens: 10_000, minuteTokens: 500 });
    await pipeline.admit(r);
    const e = await refusal(pipeline.reserve(r, FREE, 150, 50));
    expect(JSON.parse(e.body())).toEqual({ error: {
      message: 'Rate limit reached for openai/free for tenant acme on tokens per min (TPM): Limit 500, Used 400, Requested 200. Please try again in 30s.',
      type: 'tokens', param: null, code: 'rate_limit_exceeded',
    } });
    expect(e.status).toBe(429);
    expect(e.headers).toEqual({
      'retry-after': '30', 'retry-after-ms': '30000', 'x-tessera-limit-scope': 'tenant',
      'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '8', 'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '500', 'x-ratelimit-remaining-tokens': '100', 'x-ratelimit-reset-tokens': '30s',
    });
    expect(e.rateLimit).toEqual({ source: 'gateway', window: 'minute' });
  });

  it('a request larger than a whole minute\'s limit: OpenAI\'s "Request too large", x-should-retry false, naming the key', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    const r = request({ minuteTokens: 500 }, { tokensPerMinute: 100 });
    await pipeline.admit(r);
    const e = await refusal(pipeline.reserve(r, FREE, 80, 40));
    expect(e.message).toBe(`Request too large for openai/free for key ${KEY} on tokens per min (TPM): Limit 100, Requested 120. The input or output tokens must be reduced in order to run successfully (lower max_completion_tokens (or max_tokens) or send less input).`);
    expect([e.type, e.code]).toEqual(['tokens', 'rate_limit_exceeded']);
    expect(e.headers).toMatchObject({ 'x-should-retry': 'false', 'x-tessera-limit-scope': 'key', 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-remaining-tokens': '100' });
    expect(e.rateLimit).toBeUndefined();
  });

  it('"Request too large" names what the route can lower: max_tokens of a text completion, only the input of an embedding', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    for (const [path, hint] of [['/v1/completions', 'lower max_tokens or send less input'], ['/v1/embeddings', 'send less input'], ['/v1/responses', 'lower max_output_tokens or send less input']]) {
      const r = { ...request({ minuteTokens: 100 }), audit: { path } } as PipelineRequest;
      await pipeline.admit(r);
      const e = await refusal(pipeline.reserve(r, FREE, 150, 0));
      expect(e.message).toBe(`Request too large for openai/free for tenant acme on tokens per min (TPM): Limit 100, Requested 150. The input or output tokens must be reduced in order to run successfully (${hint}).`);
    }
  });

  it('keeps today\'s tokens headers (the nearest token budget) when no tokens-per-minute limit is configured', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    const r = request({ dayTokens: 1000 });
    await pipeline.admit(r);
    await pipeline.reserve(r, FREE, 60, 40);
    expect(pipeline.servedRateHeaders(r)).toMatchObject({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '900', 'x-ratelimit-reset-tokens': '13h44m30s' });
  });
});

describe('tokens per minute: the tokens headers of the other 429s', () => {
  it('a requests-per-minute 429 states the tightest tokens per minute as read, not the day\'s budget', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    const tight = { minute: 1, hour: 100, day: 1000 };
    const first = { ...request({ dayTokens: 10_000, minuteTokens: 500 }, { tokensPerMinute: 400 }), policy: { limits: { dayTokens: 10_000, minuteTokens: 500 }, tier: {}, gateway: {}, rate: tight } } as unknown as PipelineRequest;
    await pipeline.admit(first);
    await pipeline.reserve(first, FREE, 100, 50);
    const second = { ...first, counted: undefined, subject: undefined } as PipelineRequest;
    const e = await refusal(pipeline.admit(second));
    expect(e.code).toBe('rate_limit_exceeded');
    expect(e.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '400', 'x-ratelimit-remaining-tokens': '250', 'x-ratelimit-reset-tokens': '30s', 'x-tessera-limit-scope': 'tenant' });
  });

  it('an upstream\'s 429 of a request without counts (the DynamoDB store\'s) states the tier\'s tokens per minute as read', async () => {
    const store = new MemoryStore();
    const pipeline = pipelineOn(store);
    const r = request({ dayTokens: 10_000, minuteTokens: 500 });
    await pipeline.reserve(r, FREE, 100, 20);
    delete r.counted; // as DynamoDB's reservation, which returns no counts
    expect(await pipeline.withRateHeaders(r, { headers: { 'retry-after': '2' } })).toMatchObject({
      'retry-after': '2', 'x-ratelimit-limit-tokens': '500', 'x-ratelimit-remaining-tokens': '380', 'x-ratelimit-reset-tokens': '30s',
    });
  });
});

describe('tokens per minute: the tier\'s config', () => {
  const withTpm = (tokensPerMinute: number) => {
    const c = structuredClone(DEFAULT_CONFIG);
    c.tiers.starter.limits = { ...c.tiers.starter.limits, tokensPerMinute };
    return c;
  };

  it('is optional (the default tiers have none), whole and positive, and at most the tier\'s tokens per day', () => {
    expect(PlatformConfigSchema.parse(DEFAULT_CONFIG).tiers.starter.limits).not.toHaveProperty('tokensPerMinute');
    expect(PlatformConfigSchema.parse(withTpm(40_000)).tiers.starter.limits.tokensPerMinute).toBe(40_000);
    for (const [bad, message] of [[0, /too small|>0/i], [1.5, /int/i], [1_000_001, /^must be at most tokensPerDay \(1000000\): a minute cannot use more tokens than its day$/]] as const) {
      const out = PlatformConfigSchema.safeParse(withTpm(bad));
      expect(out.success, String(bad)).toBe(false);
      expect(out.error!.issues[0]).toMatchObject({ path: ['tiers', 'starter', 'limits', 'tokensPerMinute'], message: expect.stringMatching(message) });
    }
  });

  it('reaches the tenant policy as BudgetLimits.minuteTokens (absent when the tier has none)', () => {
    expect(resolvePolicy(withTpm(40_000), localTenant('acme', 'starter')).limits.minuteTokens).toBe(40_000);
    expect(resolvePolicy(DEFAULT_CONFIG, localTenant('acme', 'starter')).limits).not.toHaveProperty('minuteTokens');
  });
});
