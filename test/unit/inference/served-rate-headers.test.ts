import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { RequestPipeline, type PipelineRequest } from '../../../lambdas/inference/pipeline.js';
import type { BudgetLimits, GatewayStore } from '../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

// OpenAI's x-ratelimit-* headers on a served answer (RequestPipeline.servedRateHeaders): the limit
// the request is nearest to once counted, as a 429 would state it, from the counts the embedded
// stores return with the admission and the reservation.
const NOW = new Date('2026-11-23T10:15:30Z');
const KEY = 'key_00000000000000aa';
const FREE = { id: 'openai/free', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 } as never;
const rate = { minute: 10, hour: 100, day: 1000 };

const pipelineOn = (store: GatewayStore) => new RequestPipeline(loadConfig(), store, {} as never, (async () => undefined) as never);

/** A user's request, or with `key` an API key's with those limits, under the tenant's budgets `limits`. */
const request = (limits: BudgetLimits, key?: { requestsPerMinute?: number; tokensPerDay?: number }, tier = rate): PipelineRequest => ({
  caller: { tenantId: 'acme', userId: 'u-1', tenant: { tier: 'starter' }, ...(key ? { keyId: KEY, key: { limits: key } } : {}) },
  policy: { limits, tier: {}, gateway: {}, rate: tier },
  audit: { path: '/v1/chat/completions' },
}) as unknown as PipelineRequest;

beforeEach(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }));
afterEach(() => vi.useRealTimers());

describe('x-ratelimit-* headers of a served answer', () => {
  it('the request window with the fewest left after this request, and the token budget with the fewest left after its reservation', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    const r = request({ dayTokens: 1000, monthTokens: 500 });
    await pipeline.admit(r);
    await pipeline.reserve(r, FREE, 60, 40);
    // The tier's minute (9 of 10 left, 30 s to its end) and the tenant's month (400 of 500 left, a week to its end).
    expect(pipeline.servedRateHeaders(r)).toEqual({
      'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '9', 'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '500', 'x-ratelimit-remaining-tokens': '400', 'x-ratelimit-reset-tokens': '181h44m30s',
    });
    // The next request: one fewer, its reservation's tokens fewer.
    const next = request({ dayTokens: 1000, monthTokens: 500 });
    await pipeline.admit(next);
    await pipeline.reserve(next, FREE, 10, 0);
    expect(pipeline.servedRateHeaders(next)).toMatchObject({ 'x-ratelimit-remaining-requests': '8', 'x-ratelimit-remaining-tokens': '390' });
  });

  it('a key\'s own minute and tokens per day when they are nearer than the tenant\'s; the tier\'s day when no other token budget', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    const r = request({ dayTokens: 1000 }, { requestsPerMinute: 2, tokensPerDay: 150 });
    await pipeline.admit(r);
    await pipeline.reserve(r, FREE, 100, 0);
    expect(pipeline.servedRateHeaders(r)).toEqual({
      'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': '30s',
      'x-ratelimit-limit-tokens': '150', 'x-ratelimit-remaining-tokens': '50', 'x-ratelimit-reset-tokens': '13h44m30s',
    });
    const user = request({ dayTokens: 1000 });
    await pipeline.admit(user);
    await pipeline.reserve(user, FREE, 10, 0);
    expect(pipeline.servedRateHeaders(user)).toMatchObject({ 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '8', 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '890' });
  });

  it('on a tie, the window whose 429 would come first (countRequest\'s order: the tier\'s minute, hour, day, then the key\'s minute)', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    const r = request({ dayTokens: 1000 }, { requestsPerMinute: 10 }, { minute: 10, hour: 10, day: 1000 });
    await pipeline.admit(r);
    // The tier's minute and hour, and the key's minute, all 9 of 10 left: the tier's minute (30 s), not its hour (44m30s).
    expect(pipeline.servedRateHeaders(r)).toMatchObject({ 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '9', 'x-ratelimit-reset-requests': '30s' });
    const hourFirst = request({ dayTokens: 1000 }, { requestsPerMinute: 10 }, { minute: 20, hour: 10, day: 1000 });
    await pipeline.admit(hourFirst);
    expect(pipeline.servedRateHeaders(hourFirst)).toMatchObject({ 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '8', 'x-ratelimit-reset-requests': '44m30s' });
  });

  it('a window that ended before the answer (a long one) is stated as the next window, whole; resets count from when the headers are sent', async () => {
    const pipeline = pipelineOn(new MemoryStore());
    const r = request({ dayTokens: 1000 }, { requestsPerMinute: 2 });
    await pipeline.admit(r);
    await pipeline.reserve(r, FREE, 10, 0);
    expect(pipeline.servedRateHeaders(r, new Date('2026-11-23T10:15:50Z'))).toMatchObject({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-reset-requests': '10s' });
    // 40 s later: both minutes have ended; the key's next minute (2 left) is still the nearest.
    expect(pipeline.servedRateHeaders(r, new Date('2026-11-23T10:16:10Z'))).toMatchObject({ 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '2', 'x-ratelimit-reset-requests': '50s' });
  });

  it('no group at all when the store gave no counts (DynamoDB), and no tokens group before a reservation', async () => {
    const counting: GatewayStore = Object.assign(new MemoryStore(), { countRequest: async () => ({ ok: true as const }) });
    const pipeline = pipelineOn(counting);
    const r = request({ dayTokens: 1000 });
    await pipeline.admit(r);
    expect(pipeline.servedRateHeaders(r)).toEqual({});
    const memory = pipelineOn(new MemoryStore());
    const admitted = request({ dayTokens: 1000 });
    await memory.admit(admitted);
    expect(Object.keys(memory.servedRateHeaders(admitted))).toEqual(['x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests']);
  });
});
