import { describe, expect, it } from 'vitest';
import { msUntilWindowEnd, openAiDuration, rateLimitHeaders, servedRateLimitHeaders } from '../../../lambdas/inference/rate-limit-headers.js';

describe('OpenAI\'s rate-limit headers on every 429 and every served answer', () => {
  it('writes durations as OpenAI does', () => {
    expect([openAiDuration(20), openAiDuration(1000), openAiDuration(360_000), openAiDuration(3_723_000)]).toEqual(['20ms', '1s', '6m0s', '1h2m3s']);
  });

  it('gives retry-after in whole seconds and the request and token trios', () => {
    expect(rateLimitHeaders({ requests: { limit: 60, remaining: 0, resetMs: 12_300 }, tokens: { limit: 1000, remaining: 400.7, resetMs: 3_600_000 } })).toEqual({
      'retry-after': '13',
      'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '13s',
      'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '400', 'x-ratelimit-reset-tokens': '1h0m0s',
    });
  });

  it('prefers an explicit wait (an upstream\'s Retry-After) and never says 0', () => {
    expect(rateLimitHeaders({ requests: { limit: 5, remaining: 3, resetMs: 50_000 }, retryAfterMs: 7000 })['retry-after']).toBe('7');
    expect(rateLimitHeaders({ requests: { limit: 5, remaining: 0, resetMs: 10 } })['retry-after']).toBe('1');
  });

  it('says x-should-retry: false when the wait is over a minute or retrying cannot help, keeping retry-after', () => {
    const requests = { limit: 5, remaining: 0, resetMs: 50_000 };
    expect(rateLimitHeaders({ requests })['x-should-retry']).toBeUndefined();
    expect(rateLimitHeaders({ requests, retryAfterMs: 60_000 })['x-should-retry']).toBeUndefined();
    const day = rateLimitHeaders({ requests, retryAfterMs: 29_265_000 });
    expect(day).toMatchObject({ 'retry-after': '29265', 'x-should-retry': 'false' });
    expect(rateLimitHeaders({ requests, retryAfterMs: 2_534_891_000 })).toMatchObject({ 'retry-after': '2534891', 'x-should-retry': 'false' });
    expect(rateLimitHeaders({ requests, retryAfterMs: 5000, noRetry: true })).toMatchObject({ 'retry-after': '5', 'x-should-retry': 'false' });
  });

  it('the gateway\'s own limit (scope) sends retry-after-ms, the wait to the millisecond, which the SDKs read first; an upstream\'s 429 gets none', () => {
    const requests = { limit: 5, remaining: 0, resetMs: 230 };
    expect(rateLimitHeaders({ requests, scope: 'key' })).toMatchObject({ 'retry-after': '1', 'retry-after-ms': '230' });
    expect(rateLimitHeaders({ requests: { ...requests, resetMs: 12_300.4 }, scope: 'tenant' })).toMatchObject({ 'retry-after': '13', 'retry-after-ms': '12301' });
    // A budget: the period's end, with x-should-retry: false (the SDKs do not retry it), retry-after-ms as information.
    expect(rateLimitHeaders({ requests, retryAfterMs: 29_265_123, scope: 'user', noRetry: true })).toMatchObject({ 'retry-after': '29266', 'retry-after-ms': '29265123', 'x-should-retry': 'false' });
    expect(rateLimitHeaders({ requests, retryAfterMs: 7000 })['retry-after-ms']).toBeUndefined();
  });

  it('on a served answer: each trio whole or left out, no retry-after', () => {
    expect(servedRateLimitHeaders({ requests: { limit: 60, remaining: 59, resetMs: 20_000 }, tokens: { limit: 20_000, remaining: 19_946.5, resetMs: 61_400_000 } })).toEqual({
      'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '59', 'x-ratelimit-reset-requests': '20s',
      'x-ratelimit-limit-tokens': '20000', 'x-ratelimit-remaining-tokens': '19946', 'x-ratelimit-reset-tokens': '17h3m20s',
    });
    expect(servedRateLimitHeaders({ requests: { limit: 60, remaining: 0, resetMs: 360_000 } })).toEqual({
      'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '6m0s',
    });
    expect(servedRateLimitHeaders({})).toEqual({});
  });

  it('finds the end of UTC windows', () => {
    const now = new Date('2026-11-30T17:20:36.500Z');
    expect(msUntilWindowEnd('minute', now)).toBe(23_500);
    expect(msUntilWindowEnd('day', now)).toBe(Date.parse('2026-12-01T00:00:00Z') - now.getTime());
    expect(msUntilWindowEnd('month', now)).toBe(Date.parse('2026-12-01T00:00:00Z') - now.getTime());
  });
});
