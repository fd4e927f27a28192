import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { RequestPipeline, type PipelineRequest } from '../../../lambdas/inference/pipeline.js';
import type { BudgetLimits } from '../../../lambdas/inference/stores/gateway-store.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

/**
 * Found by a new user (s23): with 54 of a 60-token monthly budget used, a request reserving more than the 6 left was
 * refused with "monthly token budget of 60 tokens is exhausted": 6 were left. Now "exhausted" is said only when nothing
 * is left; otherwise what is left, what the request may use, and the completion limit that fits (per choice). The same
 * for the cost budget.
 */
const NOW = new Date('2026-11-23T10:15:30Z');
const MODEL = { id: 'openai/gpt-test', inputPricePer1k: 0.0005, outputPricePer1k: 0.0015, maxOutputTokens: 4096 } as never;
const FREE = { id: 'openai/free', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 } as never;

const request = (limits: BudgetLimits, path = '/v1/chat/completions'): PipelineRequest => ({
  caller: { tenantId: 'acme', userId: 'u-1', tenant: { tier: 'starter' } },
  policy: { limits, tier: {}, gateway: {}, rate: { minute: 60, hour: 600, day: 6000 } },
  audit: { path },
}) as unknown as PipelineRequest;

/** A pipeline whose tenant acme has used `tokens` (at `costUsd`) this month, settled. */
async function used(tokens: number, costUsd: number): Promise<RequestPipeline> {
  const store = new MemoryStore();
  const pipeline = new RequestPipeline(loadConfig(), store, {} as never, (async () => undefined) as never);
  if (tokens) await store.settle(await store.reserve('acme', tokens, costUsd, {}, NOW, { kind: 'user', id: 'u-1' }), tokens, costUsd);
  return pipeline;
}

async function refusal(call: Promise<unknown>): Promise<GatewayError> {
  const e = await call.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(GatewayError);
  expect(e).toMatchObject({ status: 429, code: 'budget_exceeded' });
  return e as GatewayError;
}

beforeEach(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }));
afterEach(() => vi.useRealTimers());

describe('a budget with some left, less than the request may use', () => {
  it('the monthly token budget: what is left of it, what the request may use, the completion limit that fits', async () => {
    const pipeline = await used(54, 0);
    const e = await refusal(pipeline.reserve(request({ monthTokens: 60 }), FREE, 4, 16));
    expect(e.message).toBe('monthly token budget of tenant acme has 6 of 60 tokens left, fewer than this request may use (20 tokens: 4 input + 16 completion tokens reserved); '
      + 'lower max_completion_tokens (or max_tokens) to at most 2 or send less input, or wait for the budget to reset (retry-after)');
    expect(e.message).not.toContain('exhausted');
  });

  it('several choices: the limit that fits per choice; /v1/responses names max_output_tokens', async () => {
    const pipeline = await used(54, 0);
    expect((await refusal(pipeline.reserve(request({ monthTokens: 60 }), FREE, 1, 3 * 8, 3))).message).toMatch(/\(25 tokens: 1 input \+ 24 completion tokens reserved\); lower max_completion_tokens \(or max_tokens\) to at most 1 per choice or send less input/);
    expect((await refusal(pipeline.reserve(request({ monthTokens: 60 }, '/v1/responses'), FREE, 2, 30))).message).toMatch(/; lower max_output_tokens to at most 4 or send less input/);
  });

  it('an input that alone is more than is left: says so (no completion limit fits)', async () => {
    const pipeline = await used(54, 0);
    expect((await refusal(pipeline.reserve(request({ monthTokens: 60 }), FREE, 8, 16))).message)
      .toMatch(/has 6 of 60 tokens left, fewer than this request may use \(24 tokens: 8 input \+ 16 completion tokens reserved\); its input alone is more than is left: send less input, or wait/);
  });

  it('the monthly cost budget: USD left, the request\'s cost, the completion limit that fits at the model\'s prices', async () => {
    // 1000 input tokens cost USD 0.0005, each completion token USD 0.0000015: USD 0.002 left fits 1000 completion tokens
    const pipeline = await used(100, 0.008);
    const e = await refusal(pipeline.reserve(request({ monthCostUsd: 0.01 }), MODEL, 1000, 2000));
    expect(e.message).toBe('monthly cost budget of tenant acme has USD 0.002 of USD 0.01 left, less than this request may use (USD 0.0035 for 3000 tokens: 1000 input + 2000 completion tokens reserved); '
      + 'lower max_completion_tokens (or max_tokens) to at most 1000 or send less input, or wait for the budget to reset (retry-after)');
  });

  it('nothing left: still "exhausted"', async () => {
    const pipeline = await used(60, 0.01);
    expect((await refusal(pipeline.reserve(request({ monthTokens: 60 }), FREE, 4, 16))).message).toBe('monthly token budget of 60 tokens is exhausted for tenant acme (this request would reserve 20 tokens)');
    expect((await refusal(pipeline.reserve(request({ monthCostUsd: 0.01 }), MODEL, 4, 16))).message).toMatch(/^monthly cost budget of USD 0\.01 is exhausted for tenant acme/);
  });
});
