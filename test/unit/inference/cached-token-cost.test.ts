import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { ModelEntrySchema, type ModelEntry } from '../../../lib/config/schema.js';
import { TenantStatement } from '../../../lib/statements/schema.js';
import { buildStatement } from '../../../lambdas/statements/build-statement.js';
import type { AuditRecord, AuditSink } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { cacheTokensOf } from '../../../lambdas/inference/chat/reported-usage.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { costOf } from '../../../lambdas/inference/pipeline.js';
import { completionUsage } from '../../../lambdas/inference/providers/bedrock/usage.js';
import type { Provider } from '../../../lambdas/inference/providers/provider.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { toNanos } from '../../../lambdas/inference/stores/model-usage.js';
import { configWith } from '../../support/config-with.js';

/**
 * Cached prompt tokens priced as providers bill them: OpenAI's `prompt_tokens_details.cached_tokens` (the Responses
 * API's `input_tokens_details.cached_tokens`) and Bedrock Converse's `cacheReadInputTokens` / `cacheWriteInputTokens`
 * at the catalog's `cachedInputPricePer1k` / `cacheWritePricePer1k`, the rest of the prompt at `inputPricePer1k`.
 */
const entry = (id: string): ModelEntry => {
  const m = DEFAULT_CONFIG.gateway.models.find((x) => x.id === id);
  if (!m) throw new Error(`no ${id} in the default catalog`);
  return ModelEntrySchema.parse(m);
};
const GPT54 = entry('openai/gpt-5.4-mini');
const HAIKU = entry('bedrock/anthropic.claude-3-5-haiku');

// 1,000 prompt tokens, 900 of them read from the cache, 50 completion tokens.
const CACHED_USAGE: CompletionUsage = { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050, prompt_tokens_details: { cached_tokens: 900 } };
/** What that usage costs on gpt-5.4-mini, in nano-dollars: 100 × input + 900 × cached + 50 × output. */
const CACHED_NANOS = toNanos((100 * 0.00075 + 900 * 0.000075 + 50 * 0.0045) / 1000);

describe('the catalog\'s cache prices', () => {
  it('the default catalog prices cache reads below the input price: gpt-5.4-mini 90% off, gpt-4o-mini 50%, Claude 3.5 Haiku 10% read / 125% write', () => {
    expect(GPT54.cachedInputPricePer1k).toBe(0.000075);
    expect(entry('openai/gpt-4o-mini').cachedInputPricePer1k).toBe(0.000075);
    expect(HAIKU).toMatchObject({ cachedInputPricePer1k: 0.00008, cacheWritePricePer1k: 0.001 });
    expect(entry('bedrock/amazon.nova-lite').cachedInputPricePer1k).toBe(0.000015);
  });

  it('refuses a cache-read price above the input price, naming the key and the model; a negative or too-small price as any other', () => {
    const base = { id: 'openai/x', upstream: 'x', inputPricePer1k: 0.001, outputPricePer1k: 0.002 };
    const above = ModelEntrySchema.safeParse({ ...base, cachedInputPricePer1k: 0.002 });
    expect(above.success).toBe(false);
    expect(above.error!.issues).toEqual([expect.objectContaining({ path: ['cachedInputPricePer1k'], message: expect.stringMatching(/^is 0\.002 for model "openai\/x", above its inputPricePer1k 0\.001/) })]);
    const negative = ModelEntrySchema.safeParse({ ...base, cacheWritePricePer1k: -1 });
    expect(negative.error!.issues).toEqual([expect.objectContaining({ path: ['cacheWritePricePer1k'], message: expect.stringMatching(/the price of model "openai\/x" must be 0 or at least 0\.000001 .*a price cannot be negative/) })]);
    expect(ModelEntrySchema.safeParse({ ...base, cachedInputPricePer1k: Number.POSITIVE_INFINITY }).success).toBe(false);
    // A write above the input price is how Anthropic bills it: accepted.
    expect(ModelEntrySchema.parse({ ...base, cachedInputPricePer1k: 0.0001, cacheWritePricePer1k: 0.00125 })).toMatchObject({ cachedInputPricePer1k: 0.0001, cacheWritePricePer1k: 0.00125 });
  });
});

describe('costOf with cache tokens', () => {
  it('1,000 prompt tokens of which 900 cached: 100 × input + 900 × cached', () => {
    expect(toNanos(costOf(GPT54, 1000, 50, cacheTokensOf(CACHED_USAGE)))).toBe(CACHED_NANOS);
    expect(CACHED_NANOS).toBe(367_500); // 75,000 + 67,500 + 225,000 nano-dollars: the full input price was 975,000
  });

  it('a catalog entry without cache prices keeps today\'s cost to the last bit', () => {
    const plain: ModelEntry = { ...GPT54, cachedInputPricePer1k: undefined, cacheWritePricePer1k: undefined };
    for (const [p, c] of [[1000, 50], [7, 3], [123_457, 999]]) {
      expect(costOf(plain, p, c, { cachedTokens: Math.floor(p * 0.9), cacheWriteTokens: 1 })).toBe((p * plain.inputPricePer1k + c * plain.outputPricePer1k) / 1000);
    }
  });

  it('Bedrock Converse usage: cache reads at the read price, cache writes at the write price, the rest at the input price', () => {
    const usage = completionUsage({ inputTokens: 100, cacheReadInputTokens: 800, cacheWriteInputTokens: 100, outputTokens: 10, totalTokens: 1010 });
    expect(usage.prompt_tokens).toBe(1000);
    expect(cacheTokensOf(usage)).toEqual({ cachedTokens: 800, cacheWriteTokens: 100 });
    expect(toNanos(costOf(HAIKU, usage.prompt_tokens, usage.completion_tokens, cacheTokensOf(usage)))).toBe(toNanos((100 * 0.0008 + 800 * 0.00008 + 100 * 0.001 + 10 * 0.004) / 1000));
  });

  it('cache counts are held within the prompt, so no token is priced twice; a count that is not one is 0', () => {
    expect(cacheTokensOf({ prompt_tokens: 10, completion_tokens: 0, total_tokens: 10, prompt_tokens_details: { cached_tokens: 50 } })).toEqual({ cachedTokens: 10, cacheWriteTokens: 0 });
    expect(cacheTokensOf({ prompt_tokens: 10, completion_tokens: 0, total_tokens: 10, prompt_tokens_details: { cached_tokens: 8, cache_write_tokens: 5 } as never })).toEqual({ cachedTokens: 8, cacheWriteTokens: 2 });
    expect(cacheTokensOf({ prompt_tokens: 10, completion_tokens: 0, total_tokens: 10, prompt_tokens_details: { cached_tokens: -3 } })).toEqual({ cachedTokens: 0, cacheWriteTokens: 0 });
    expect(cacheTokensOf({ prompt_tokens: 10, completion_tokens: 0, total_tokens: 10 })).toEqual({ cachedTokens: 0, cacheWriteTokens: 0 });
  });
});

/** A gateway over the default catalog whose upstream answers `usage` (a whole answer, or a stream's last chunk). */
function gatewayAnswering(usage: CompletionUsage, extraModels: unknown[] = []) {
  const config = configWith(extraModels.length ? { gateway: { models: [...DEFAULT_CONFIG.gateway.models, ...extraModels] } } : {});
  const store = new MemoryStore();
  const acme = localTenant('acme', 'enterprise');
  store.putTenant(acme);
  const settle = vi.spyOn(store, 'settle');
  const records: AuditRecord[] = [];
  const audit: AuditSink = { write: async (r) => void records.push(structuredClone(r)) };
  const caller: Caller = { tenantId: 'acme', userId: 'u', role: 'member', tenant: acme };
  const answer: ChatCompletion = {
    id: 'x', object: 'chat.completion', created: 1, model: 'gpt-5.4-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'hi', refusal: null }, finish_reason: 'stop', logprobs: null }], usage,
  };
  const chunks: ChatCompletionChunk[] = [
    { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'gpt-5.4-mini', choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] },
    { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'gpt-5.4-mini', choices: [], usage },
  ];
  const text = { id: 'cmpl-x', object: 'text_completion', created: 1, model: 'base', choices: [{ index: 0, text: 'hi', finish_reason: 'stop', logprobs: null }], usage };
  const provider: Provider = { complete: async () => answer, stream: async function* () { yield* chunks; }, textComplete: async () => text };
  const providers = new ProviderRegistry(config, async () => 'k');
  vi.spyOn(providers, 'get').mockResolvedValue(provider);
  const gateway = new Gateway({ config, store, audit, authorizer: { authorize: async () => caller, settled: async () => undefined } as unknown as Authorizer, providers });
  const call = async (path: string, body: Record<string, unknown>) => {
    const answers: Array<{ status: number; body: string }> = [];
    let streamed = '';
    const res: GatewayResponder = { json: (status, b) => void answers.push({ status, body: b }), stream: () => ({ write: (s: string) => void (streamed += s), end: () => undefined }) };
    await gateway.handle({ method: 'POST', path, headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: JSON.stringify(body) }, res);
    return { answers, streamed };
  };
  return { store, settle, records, call };
}

const MONTH = new Date().toISOString().slice(0, 7);

describe('a settle with cached prompt tokens: the budget counter, the ledger, the audit record and the statement agree', () => {
  const cases: Array<[string, string, Record<string, unknown>]> = [
    ['chat, whole', '/v1/chat/completions', { messages: [{ role: 'user', content: 'hello' }] }],
    ['chat, streamed', '/v1/chat/completions', { messages: [{ role: 'user', content: 'hello' }], stream: true, stream_options: { include_usage: true } }],
    ['Responses, whole', '/v1/responses', { input: 'hello', store: false }],
    ['Responses, streamed', '/v1/responses', { input: 'hello', store: false, stream: true }],
  ];
  it.each(cases)('%s', async (_name, path, body) => {
    const g = gatewayAnswering(CACHED_USAGE);
    const { answers, streamed } = await g.call(path, { model: 'openai/gpt-5.4-mini', ...body });
    if (!body.stream) expect(answers[0]?.status, answers[0]?.body).toBe(200);
    else expect(streamed).toContain('hi');
    // The Responses API shows the cached share as input_tokens_details.cached_tokens.
    if (path === '/v1/responses') {
      const shown = body.stream ? streamed : answers[0].body;
      expect(shown).toContain('"input_tokens_details":{"cached_tokens":900');
    }
    expect(g.settle).toHaveBeenCalledTimes(1);
    expect(toNanos(g.settle.mock.calls[0][2])).toBe(CACHED_NANOS);
    // The budget counter: the month's cost.
    const used = await g.store.usage('acme', new Date());
    expect(toNanos(used.month.costUsd)).toBe(CACHED_NANOS);
    // The ledger row: the cost and the cached tokens (part of the prompt tokens).
    const [row] = await g.store.modelUsage('acme', MONTH);
    expect(row).toMatchObject({ model: 'openai/gpt-5.4-mini', promptTokens: 1000, completionTokens: 50, cachedTokens: 900 });
    expect(row.cacheWriteTokens).toBeUndefined();
    expect(toNanos(row.costUsd)).toBe(CACHED_NANOS);
    // The audit record.
    const record = g.records.find((r) => r.costUsd !== undefined)!;
    expect(record).toMatchObject({ promptTokens: 1000, completionTokens: 50, cachedTokens: 900 });
    expect(toNanos(record.costUsd!)).toBe(CACHED_NANOS);
    // The statement, built from the ledger.
    const statement = buildStatement({
      tenant: { tenantId: 'acme', name: 'Acme', tier: 'enterprise', isolation: 'vpc' }, month: MONTH, asOf: new Date(), modelUsage: await g.store.modelUsage('acme', MONTH),
      users: { subjects: [], incomplete: false }, keys: { subjects: [], incomplete: false }, jobs: [],
      infrastructure: { costUsd: 0, estimated: false, source: { groupBy: 'tag', key: 'tessera:tenant-id', value: 'acme' } },
    });
    expect(TenantStatement.parse(statement)).toEqual(statement);
    expect(statement.gateway.byModel).toEqual([expect.objectContaining({ model: 'openai/gpt-5.4-mini', promptTokens: 1000, cachedTokens: 900, costUsd: 0.000368 })]);
  });

  it('a Bedrock Converse usage with cache reads and writes, on the default catalog\'s Claude 3.5 Haiku', async () => {
    const usage = completionUsage({ inputTokens: 100, cacheReadInputTokens: 800, cacheWriteInputTokens: 100, outputTokens: 10, totalTokens: 1010 });
    const g = gatewayAnswering(usage);
    const { answers } = await g.call('/v1/chat/completions', { model: 'bedrock/anthropic.claude-3-5-haiku', messages: [{ role: 'user', content: 'hello' }] });
    expect(answers[0].status, answers[0].body).toBe(200);
    const nanos = toNanos((100 * 0.0008 + 800 * 0.00008 + 100 * 0.001 + 10 * 0.004) / 1000);
    expect(toNanos(g.settle.mock.calls[0][2])).toBe(nanos);
    const [row] = await g.store.modelUsage('acme', MONTH);
    expect(row).toMatchObject({ promptTokens: 1000, cachedTokens: 800, cacheWriteTokens: 100 });
    expect(toNanos(row.costUsd)).toBe(nanos);
    expect(g.records.find((r) => r.costUsd !== undefined)).toMatchObject({ cachedTokens: 800, cacheWriteTokens: 100 });
  });

  it('an upstream that reports no cache tokens: priced and recorded as before (no cache fields)', async () => {
    const g = gatewayAnswering({ prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050 });
    await g.call('/v1/chat/completions', { model: 'openai/gpt-5.4-mini', messages: [{ role: 'user', content: 'hello' }] });
    expect(g.settle.mock.calls[0][2]).toBe((1000 * 0.00075 + 50 * 0.0045) / 1000);
    const [row] = await g.store.modelUsage('acme', MONTH);
    expect(Object.keys(row)).not.toContain('cachedTokens');
    expect(Object.keys(g.records.find((r) => r.costUsd !== undefined)!)).not.toContain('cachedTokens');
  });

  it.each([
    ['above the prompt', 50, 10],
    ['negative', -3, 0],
    ['a string', '5', 0],
    ['null', null, 0],
  ] as Array<[string, unknown, number]>)('an upstream whose cached_tokens is %s: the answer shows the cached tokens billed, a number within the prompt (chat and Responses)', async (_name, reported, billed) => {
    const usage = { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, prompt_tokens_details: { cached_tokens: reported, cache_write_tokens: reported } } as unknown as CompletionUsage;
    const g = gatewayAnswering(usage);
    const chat = await g.call('/v1/chat/completions', { model: 'openai/gpt-5.4-mini', messages: [{ role: 'user', content: 'hello' }] });
    expect(JSON.parse(chat.answers[0].body).usage).toMatchObject({ prompt_tokens: 10, prompt_tokens_details: { cached_tokens: billed, cache_write_tokens: 0 } });
    const streamed = await g.call('/v1/chat/completions', { model: 'openai/gpt-5.4-mini', messages: [{ role: 'user', content: 'hello' }], stream: true, stream_options: { include_usage: true } });
    expect(streamed.streamed).toContain(`"prompt_tokens_details":{"cached_tokens":${billed},"cache_write_tokens":0}`);
    const response = await g.call('/v1/responses', { model: 'openai/gpt-5.4-mini', input: 'hello', store: false });
    expect(JSON.parse(response.answers[0].body).usage.input_tokens_details).toEqual({ cached_tokens: billed, cache_write_tokens: 0 });
    const responseStream = await g.call('/v1/responses', { model: 'openai/gpt-5.4-mini', input: 'hello', store: false, stream: true });
    expect(responseStream.streamed).toContain(`"input_tokens_details":{"cached_tokens":${billed},"cache_write_tokens":0}`);
    // Billed as answered: every settle prices the same cache reads.
    for (const call of g.settle.mock.calls) expect(toNanos(call[2])).toBe(toNanos(costOf(GPT54, 10, 2, { cachedTokens: billed, cacheWriteTokens: 0 })));
  });

  it('legacy text completions: a server\'s prefix-cache report (vLLM prompt_tokens_details.cached_tokens) priced at the cache price', async () => {
    const base = { id: 'openai-compatible/base', upstream: 'base', kind: 'completion', inputPricePer1k: 0.001, outputPricePer1k: 0.002, cachedInputPricePer1k: 0.0001, maxOutputTokens: 100 };
    const g = gatewayAnswering(CACHED_USAGE, [base]);
    const { answers } = await g.call('/v1/completions', { model: 'openai-compatible/base', prompt: 'hello', max_tokens: 50 });
    expect(answers[0].status, answers[0].body).toBe(200);
    const nanos = toNanos((100 * 0.001 + 900 * 0.0001 + 50 * 0.002) / 1000);
    expect(toNanos(g.settle.mock.calls[0][2])).toBe(nanos);
    const [row] = await g.store.modelUsage('acme', MONTH);
    expect(row).toMatchObject({ model: 'openai-compatible/base', cachedTokens: 900 });
    expect(g.records.find((r) => r.costUsd !== undefined)).toMatchObject({ cachedTokens: 900 });
  });
});
