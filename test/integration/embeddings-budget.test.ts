import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { countTextTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { reservationTokens } from '../../lambdas/inference/embeddings/reservation.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from './support/moto-server.js';

/**
 * Budgets hold for embeddings as for chat: 50 concurrent `client.embeddings.create` calls against
 * a monthly token budget that admits exactly 10 (each reserves the upper bound of any tokenizer's
 * count, embeddings/reservation.ts, and the upstream bills that much), on the embedded MemoryStore
 * and on DynamoDbStore against moto. Exactly 10 succeed; the other 40 are 429 `budget_exceeded`
 * and never reach the upstream. And an upstream whose tokenizer counts more than o200k does
 * cannot take a tenant past its budget.
 */
const TEXT = 'Quarterly revenue grew in every region except the north, where margins held.';
const quiet = { redactPii: false, redactResponses: false, promptInjectionScreen: false };

function withEmbeddings(config: PlatformConfig): PlatformConfig {
  const model = { id: 'openai-compatible/embeddings', upstream: 'bge', kind: 'embedding' as const, inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 };
  // One upstream call per admitted request, whatever the machine's load: the test config's 2 s
  // upstream timeout with one retry sent a call that took longer twice (11 calls for 10 admitted,
  // seen once at load ~20). What this file checks is admission, not the retry policy.
  return { ...config, gateway: { ...config.gateway, upstreamTimeoutMs: 60_000, upstreamRetries: 0, models: [...config.gateway.models, model] } };
}

/** The upstream answers every embeddings request with one vector per input and `tokens` used. */
function scriptEmbeddings(upstream: FakeUpstream, times: number, tokens: number): void {
  upstream.scriptOnly = true;
  for (let i = 0; i < times; i++) {
    upstream.script(() => ({ body: { object: 'list', model: 'bge', data: [{ object: 'embedding', index: 0, embedding: [0.5, 0.25] }], usage: { prompt_tokens: tokens, total_tokens: tokens } } }));
  }
}

async function fiftyAgainstTen(gw: Awaited<ReturnType<typeof serveGateway>>, upstream: FakeUpstream, tenantId: string, perCall: number) {
  scriptEmbeddings(upstream, 50, perCall);
  const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token(tenantId), maxRetries: 0 });
  const results = await Promise.allSettled(Array.from({ length: 50 }, () => client.embeddings.create({ model: 'openai-compatible/embeddings', input: TEXT })));
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
  for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
    expect(r.reason.status).toBe(429);
    expect(r.reason.error.code).toBe('budget_exceeded');
  }
  expect(upstream.calls).toHaveLength(10);
  expect((await gw.store.usage(tenantId, new Date())).month).toMatchObject({ tokens: 10 * perCall, requests: 10 });
}

let perCall: number;
beforeAll(async () => {
  await loadTokenizer();
  perCall = reservationTokens({ kind: 'text', texts: [TEXT] });
});

describe('embeddings budgets on the embedded MemoryStore', () => {
  let upstream: FakeUpstream;
  let gw: Awaited<ReturnType<typeof serveGateway>>;
  beforeAll(async () => {
    upstream = await new FakeUpstream().start();
    gw = await serveGateway(withEmbeddings(gatewayConfig()), upstream.url, [localTenant('memo', 'enterprise', { gateway: { monthlyTokenBudget: 10 * perCall, fallbacks: [], guardrails: quiet, auditPromptText: false } })]);
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.stop();
  });

  it('admits exactly 10 of 50 concurrent embedding calls against a budget for 10', async () => {
    await fiftyAgainstTen(gw, upstream, 'memo', perCall);
  });
});

describe('an upstream that counts more tokens than the gateway does (another tokenizer)', () => {
  let upstream: FakeUpstream;
  let gw: Awaited<ReturnType<typeof serveGateway>>;
  const SHORT = 'hello world';
  beforeAll(async () => {
    upstream = await new FakeUpstream().start();
    gw = await serveGateway(withEmbeddings(gatewayConfig()), upstream.url, [localTenant('tight', 'enterprise', { gateway: { monthlyTokenBudget: 50, fallbacks: [], guardrails: quiet, auditPromptText: false } })]);
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.stop();
  });

  it('never spends past the budget under 50 concurrent calls (found by the hostile test: 125 of 50 were spent)', async () => {
    const billed = 5; // a WordPiece count of "hello world" with [CLS] and [SEP]; o200k counts 2
    expect(countTextTokens(SHORT)).toBeLessThan(billed);
    upstream.scriptOnly = true;
    for (let i = 0; i < 50; i++) upstream.script(() => ({ body: { object: 'list', model: 'bge', data: [{ object: 'embedding', index: 0, embedding: [0.5] }], usage: { prompt_tokens: billed, total_tokens: billed } } }));
    const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('tight'), maxRetries: 0 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => client.embeddings.create({ model: 'openai-compatible/embeddings', input: SHORT })));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const month = (await gw.store.usage('tight', new Date())).month;
    expect(month.tokens).toBe(ok * billed);
    expect(month.tokens).toBeLessThanOrEqual(50);
    expect(ok).toBeGreaterThanOrEqual(Math.floor(50 / reservationTokens({ kind: 'text', texts: [SHORT] }))); // at least what fits at once
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason.error.code).toBe('budget_exceeded');
  });
});

describe('embeddings budgets on DynamoDbStore (moto)', () => {
  let moto: MotoServer;
  let upstream: FakeUpstream;
  let gw: Awaited<ReturnType<typeof serveGateway>>;
  beforeAll(async () => {
    moto = await startMoto({ serial: true });
    pointSdkAtMoto(moto);
    await createGatewayTables([localTenant('dynamo', 'enterprise', { gateway: { monthlyTokenBudget: 10 * perCall, fallbacks: [], guardrails: quiet, auditPromptText: false } })]);
    upstream = await new FakeUpstream().start();
    gw = await serveGateway(withEmbeddings(gatewayConfig()), upstream.url, [], { dynamodb: { registryTable: 'tessera-tenants', usageTable: 'tessera-usage' } });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.stop();
    await moto?.stop();
  });

  it('admits exactly 10 of 50 concurrent embedding calls against a budget for 10', async () => {
    await fiftyAgainstTen(gw, upstream, 'dynamo', perCall);
  });
});
