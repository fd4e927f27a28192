import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { countPromptTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { BudgetExhaustedError } from '../../lambdas/inference/stores/gateway-store.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { serveGateway } from '../support/local-gateway.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from './support/moto-server.js';

let moto: MotoServer;
let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;

beforeAll(async () => {
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  const budget = { monthlyTokenBudget: 180, fallbacks: [], guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, auditPromptText: false };
  await createGatewayTables([localTenant('dynamo', 'enterprise', { gateway: budget }), localTenant('paused', 'enterprise', { status: 'SUSPENDED' })]);
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [], { dynamodb: { registryTable: 'tessera-tenants', usageTable: 'tessera-usage' } });
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
  await moto?.stop();
});

describe('the gateway on DynamoDB (moto): the same semantics as the embedded store', () => {
  it('admits exactly 10 of 50 concurrent requests against a budget for 10', async () => {
    // Each reserves its prompt (o200k count) plus max_tokens = 18 tokens; the upstream reports 18 used.
    await loadTokenizer();
    const hi = { model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'hi' }] };
    const promptTokens = countPromptTokens(hi);
    const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('dynamo'), maxRetries: 0 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () =>
      client.chat.completions.create({ ...hi, max_tokens: 18 - promptTokens })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect(r.reason.status).toBe(429);
      expect(r.reason.error.code).toBe('budget_exceeded');
    }
    expect((await gw.store.usage('dynamo', new Date())).month).toMatchObject({ tokens: 180, requests: 10 });
  });

  it('refuses a suspended tenant read from the registry table', async () => {
    const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('paused'), maxRetries: 0 });
    const err = await client.models.list().catch((e) => e);
    expect(err.status).toBe(403);
    expect(err.error.code).toBe('tenant_not_active');
  });

  it('names the budget that ran out and counts rate windows transactionally', async () => {
    const store = new DynamoDbStore('tessera-tenants', 'tessera-usage', unscopedDocumentClient());
    const now = new Date('2026-11-23T10:00:00Z');
    await store.reserve('solo', 60, 0.5, { dayTokens: 100, monthCostUsd: 1 }, now);
    await expect(store.reserve('solo', 50, 0.1, { dayTokens: 100, monthCostUsd: 1 }, now)).rejects.toEqual(new BudgetExhaustedError('daily token budget', 100));
    await expect(store.reserve('solo', 10, 0.6, { dayTokens: 100, monthCostUsd: 1 }, now)).rejects.toEqual(new BudgetExhaustedError('monthly cost budget', 1));
    const limits = { minute: 2, hour: 10, day: 10 };
    expect(await store.countRequest('solo', limits, now)).toEqual({ ok: true });
    expect(await store.countRequest('solo', limits, now)).toEqual({ ok: true });
    expect(await store.countRequest('solo', limits, now)).toEqual({ ok: false, window: 'minute', limit: 2, scope: 'tenant' });
  });
});
