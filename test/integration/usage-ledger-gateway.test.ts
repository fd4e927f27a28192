import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { countCompletionTokens, countPromptTokens, countTextTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { reconcile } from '../../lambdas/statements/build-statement.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

// The usage ledger from the gateway's path (issue 16, item 3): `tessera serve` in this process with
// the fake upstream, on the embedded store and on DynamoDB (moto). A chat, a stream, a fallback, an
// answer without usage, a Responses call and an embeddings call each land under the model that
// answered, with the provider's tokens beside the gateway's own o200k count.
const quiet = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
const TEXT = 'Quarterly revenue grew in every region except the north.';

function withEmbeddings(config: PlatformConfig): PlatformConfig {
  const model = { id: 'openai-compatible/embeddings', upstream: 'bge', kind: 'embedding' as const, inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 };
  // A reasoning model answering at length (the default models' 100-token limit would cut its reasoning).
  const thinker = { id: 'openai-compatible/thinker', upstream: 'thinker', inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 4096 };
  return { ...config, gateway: { ...config.gateway, models: [...config.gateway.models, model, thinker] } };
}

/** The gateway's count of a one-message chat and its echoed answer (the fake upstream answers `echo: <text>`, and reports 11 + 7 tokens). */
const counted = (model: string, text: string) => countPromptTokens({ model, messages: [{ role: 'user', content: text }] }) + countCompletionTokens(`echo: ${text}`);
const CHAT_COST = (11 * 0.001 + 7 * 0.002) / 1000;

let upstream: FakeUpstream;
let moto: MotoServer;
const gateways: Array<Awaited<ReturnType<typeof serveGateway>>> = [];

beforeAll(async () => {
  await loadTokenizer();
  upstream = await new FakeUpstream().start();
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  const tenant = localTenant('ledger', 'enterprise', { gateway: { fallbacks: ['openai-compatible/backup'], guardrails: quiet, auditPromptText: false } });
  await createGatewayTables([tenant]);
  const config = withEmbeddings(gatewayConfig());
  gateways.push(await serveGateway(config, upstream.url, [tenant]));
  gateways.push(await serveGateway(config, upstream.url, [], { dynamodb: { registryTable: 'tessera-tenants', usageTable: 'tessera-usage' } }));
});
afterAll(async () => {
  for (const gw of gateways) await gw.stop();
  await upstream?.stop();
  await moto?.stop();
});

describe.each([['the embedded store', 0], ['DynamoDB (moto)', 1]])('the gateway on %s records its usage by model and day', (_name, index) => {
  it('a chat, a stream, a fallback, an unreported answer, a Responses call and an embeddings call, each under the model that answered', async () => {
    const gw = gateways[index];
    const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('ledger'), maxRetries: 0 });
    const day = new Date().toISOString().slice(0, 10);

    await client.chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hello there' }] });
    const stream = await client.chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'stream me' }], stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream) void chunk;
    // The primary fails its try and its retry: the tenant's fallback answers, and counts.
    upstream.failures.set('primary', { status: 503, times: 2 });
    const fellBack = await client.chat.completions.create({ model: 'openai-compatible/primary', messages: [{ role: 'user', content: 'x' }] });
    expect(fellBack.model).toBe('openai-compatible/backup');
    // An upstream that reports no usage: the gateway's count bills it, marked estimated (not in the reconciliation).
    upstream.script({ body: { id: 'up-2', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'four words of answer' }, finish_reason: 'stop' }] } });
    await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'no usage please' }] });
    const estimatedPrompt = countPromptTokens({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'no usage please' }] });
    const estimatedCompletion = countCompletionTokens('four words of answer');
    await client.responses.create({ model: 'openai-compatible/default', input: 'respond' });
    await client.embeddings.create({ model: 'openai-compatible/embeddings', input: TEXT });

    const month = day.slice(0, 7);
    const rows = await eventually(() => gw.store.modelUsage('ledger', month), (r) => r.length === 4);
    expect(rows).toEqual([
      {
        day, model: 'openai-compatible/backup', requests: 1, promptTokens: 11, completionTokens: 7, costUsd: CHAT_COST,
        reportedRequests: 1, reportedTokens: 18, estimatedTokens: counted('openai-compatible/backup', 'x'),
      },
      {
        // The chat, the stream and the Responses call (its answer is the same echo).
        day, model: 'openai-compatible/default', requests: 3, promptTokens: 33, completionTokens: 21, costUsd: Math.round(3 * CHAT_COST * 1e9) / 1e9,
        reportedRequests: 3, reportedTokens: 54, estimatedTokens: expect.any(Number),
      },
      {
        // 8 tokens at 0.0001 per 1,000: USD 0.0000008 (nano-dollars; micro-dollars made it 0.000001).
        day, model: 'openai-compatible/embeddings', requests: 1, promptTokens: 8, completionTokens: 0, costUsd: 0.0000008,
        reportedRequests: 1, reportedTokens: 8, estimatedTokens: countTextTokens(TEXT),
      },
      {
        day, model: 'openai/gpt-4o-mini', requests: 1, promptTokens: estimatedPrompt, completionTokens: estimatedCompletion,
        costUsd: (estimatedPrompt + 2 * estimatedCompletion) / 1e6, reportedRequests: 0, reportedTokens: 0, estimatedTokens: 0,
      },
    ]);
    // The chat and the stream are counted exactly as the gateway counts them; the Responses call adds its own count of its input.
    const defaultRow = rows[1];
    expect(defaultRow.estimatedTokens).toBeGreaterThan(counted('openai-compatible/default', 'hello there') + counted('openai-compatible/default', 'stream me'));
    // The ledger adds up to the tenant's month (the 503s of the primary were retried inside one request: no extra settle).
    const used = (await gw.store.usage('ledger', new Date())).month;
    expect(used.tokens).toBe(rows.reduce((n, r) => n + r.promptTokens + r.completionTokens, 0));
    expect(used.requests).toBe(6);
  });

  it('a reasoning model\'s hidden reasoning tokens (reported, never shown) are in the estimate beside the report, so its month is not flagged (hostile review)', async () => {
    const gw = gateways[index];
    const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('ledger'), maxRetries: 0 });
    // 12 + 505 tokens reported, 500 of the completion being reasoning the answer does not show (OpenAI's o-series, gpt-5).
    const usage = { prompt_tokens: 12, completion_tokens: 505, total_tokens: 517, completion_tokens_details: { reasoning_tokens: 500 } };
    upstream.script({ body: { id: 'up-r', object: 'chat.completion', created: 1, model: 'o-model', choices: [{ index: 0, message: { role: 'assistant', content: 'It is four.' }, finish_reason: 'stop' }], usage } });
    await client.chat.completions.create({ model: 'openai-compatible/primary', messages: [{ role: 'user', content: 'two plus two?' }] });
    const month = new Date().toISOString().slice(0, 7);
    const rows = await eventually(() => gw.store.modelUsage('ledger', month), (r) => r.some((x) => x.model === 'openai-compatible/primary'));
    const row = rows.find((x) => x.model === 'openai-compatible/primary')!;
    const seen = countPromptTokens({ model: 'openai-compatible/primary', messages: [{ role: 'user', content: 'two plus two?' }] }) + countCompletionTokens('It is four.');
    expect(row).toMatchObject({ requests: 1, promptTokens: 12, completionTokens: 505, reportedRequests: 1, reportedTokens: 517, estimatedTokens: seen + 500 });
    // Without the reasoning tokens the estimate (about 20 tokens) would be 96% under the report: a flag every month for every reasoning model.
    expect(reconcile(row)).toEqual([]);
  });

  it('reasoning the upstream streams (vLLM\'s, DeepSeek\'s reasoning_content) and also reports as reasoning_tokens is in the estimate once, not twice (hostile review)', async () => {
    const gw = gateways[index];
    const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('ledger'), maxRetries: 0 });
    const thinking = 'Two plus two: add the units, carry nothing, the sum is four, so the answer is four. '.repeat(10);
    const model = 'openai-compatible/thinker';
    const reported = countCompletionTokens(thinking) + countCompletionTokens('It is four.');
    const usage = { prompt_tokens: 12, completion_tokens: reported, total_tokens: 12 + reported, completion_tokens_details: { reasoning_tokens: countCompletionTokens(thinking) } };
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ data: { id: 'up-s', object: 'chat.completion.chunk', created: 1, model: 'r-model', choices: [{ index: 0, delta, finish_reason: finish }] } });
    upstream.script({ events: [chunk({ role: 'assistant', content: '' }), chunk({ reasoning_content: thinking }), chunk({ content: 'It is four.' }), chunk({}, 'stop'), { data: { id: 'up-s', object: 'chat.completion.chunk', created: 1, model: 'r-model', choices: [], usage } }, { data: '[DONE]' }] });
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'two plus two?' }], stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream) { /* drain */ }
    const month = new Date().toISOString().slice(0, 7);
    const rows = await eventually(() => gw.store.modelUsage('ledger', month), (r) => r.some((x) => x.model === model));
    const row = rows.find((x) => x.model === model)!;
    const seen = countPromptTokens({ model, messages: [{ role: 'user', content: 'two plus two?' }] }) + countCompletionTokens(thinking + 'It is four.');
    expect(row).toMatchObject({ requests: 1, reportedTokens: 12 + reported });
    expect(row.estimatedTokens).toBeGreaterThanOrEqual(seen - 2);
    expect(row.estimatedTokens).toBeLessThanOrEqual(seen + 2); // the shown reasoning counted once (twice: about 2 × its ~400 tokens)
    expect(reconcile(row)).toEqual([]);
  });

  it('reasoning shown in a whole answer (reasoning_content) is output like a stream\'s: counted when the upstream reports no usage, once when it reports it (hostile review)', async () => {
    const gw = gateways[index];
    const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('ledger'), maxRetries: 0 });
    const thinking = 'Three times three: nine, since three threes make nine. '.repeat(10);
    const model = 'openai-compatible/thinker';
    const month = new Date().toISOString().slice(0, 7);
    const before = (await gw.store.modelUsage('ledger', month)).find((x) => x.model === model);
    const messages = [{ role: 'user' as const, content: 'three times three?' }];
    const message = { role: 'assistant', content: 'Nine.', reasoning_content: thinking };
    // No usage reported: the estimate (billed) counts the reasoning shown, as a stream's does (the reasoning first, as it comes).
    upstream.script({ body: { id: 'up-n', object: 'chat.completion', created: 1, model: 'r-model', choices: [{ index: 0, message, finish_reason: 'stop' }] } });
    const unreported = await client.chat.completions.create({ model, messages });
    expect(unreported.usage?.completion_tokens).toBe(countCompletionTokens(thinking + 'Nine.'));
    // Reported with its reasoning_tokens: the shown reasoning is in the count once.
    const reported = countCompletionTokens(thinking) + countCompletionTokens('Nine.');
    upstream.script({ body: { id: 'up-n2', object: 'chat.completion', created: 1, model: 'r-model', choices: [{ index: 0, message, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: reported, total_tokens: 12 + reported, completion_tokens_details: { reasoning_tokens: countCompletionTokens(thinking) } } } });
    await client.chat.completions.create({ model, messages });
    const rows = await eventually(() => gw.store.modelUsage('ledger', month), (r) => (r.find((x) => x.model === model)?.requests ?? 0) >= (before?.requests ?? 0) + 2);
    const row = rows.find((x) => x.model === model)!;
    const seen = countPromptTokens({ model, messages }) + countCompletionTokens(thinking + 'Nine.');
    // The ledger's count is kept for reported requests only: the second one's, its reasoning once.
    const added = row.estimatedTokens - (before?.estimatedTokens ?? 0);
    expect(added).toBeGreaterThanOrEqual(seen - 2);
    expect(added).toBeLessThanOrEqual(seen + 2);
    expect(reconcile(row)).toEqual([]);
  });
});

/** DynamoDB's index is eventually consistent: read again (moto's is immediate; a deployed table's usually within a second). */
async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, tries = 20): Promise<T> {
  let v = await read();
  for (let i = 1; i < tries && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}
