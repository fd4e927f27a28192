import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintApiKey } from '../../lib/identity/api-key.js';
import type { LocalEvent } from '../../lambdas/inference/budget-alerts/local-events.js';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { createLocalGateway, localTenant } from '../../lambdas/inference/local-gateway.js';
import { startLocalServer } from '../../lambdas/inference/local-server.js';
import { countPromptTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { tempDir } from '../support/temp-dirs.js';

// Issue 16, item 2, as `tessera serve` runs it: the same alerts through the whole gateway (chat,
// and streams settle; the events go where serve writes its other files).
let upstream: FakeUpstream;
const servers: Server[] = [];
const guardrails = { redactPii: false, redactResponses: false, promptInjectionScreen: false };

async function serve(memory: boolean) {
  const stateDir = tempDir('tessera-budget-alerts-');
  const tenants = [localTenant('acme', 'enterprise', { gateway: { monthlyTokenBudget: 180, fallbacks: [], guardrails, auditPromptText: false } }), localTenant('keyed', 'enterprise', { gateway: { fallbacks: [], guardrails, auditPromptText: false } })];
  const config = gatewayConfig();
  const local = await createLocalGateway({ config, stateDir, upstreamUrl: upstream.url, tenants, memoryAudit: memory });
  const server = await startLocalServer(local.gateway, { port: 0, maxBytes: 1_000_000 });
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  return { ...local, config, stateDir, url, token: (tenantId: string) => mintDevToken(local.keysFile, { tenantId }) };
}

const thresholds = (events: LocalEvent[]) => events.map((e) => [e.detail.tenantId, e.detail.scope, e.detail.budgetId, e.detail.thresholdPercent]).sort();

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  await loadTokenizer();
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await upstream?.stop();
});

describe('budget alerts under tessera serve', () => {
  it('10 concurrent chat requests fill a monthly budget of 180 tokens: 50, 80 and 100% once each', async () => {
    const gw = await serve(true);
    const hi = { model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'hi' }] };
    const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('acme'), maxRetries: 0 });
    // Each reserves its prompt plus max_tokens = 18 and uses 18 (the upstream's usage): 10 fit.
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => client.chat.completions.create({ ...hi, max_tokens: 18 - countPromptTokens(hi) })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    await gw.budgetAlerts!.idle();
    expect(thresholds(gw.events!)).toEqual([['acme', 'tenant', 'month-tokens', 100], ['acme', 'tenant', 'month-tokens', 50], ['acme', 'tenant', 'month-tokens', 80]]);
    expect(gw.events!.every((e) => e['detail-type'] === 'Tenant Budget Threshold Reached' && e.source === 'tessera.lifecycle')).toBe(true);
  });

  it('a key\'s daily budget through streams (settled after the last chunk), written to <state-dir>/events.jsonl', async () => {
    const gw = await serve(false);
    const minted = mintApiKey('keyed');
    await gw.apiKeys!.put({ tenantId: 'keyed', keyHash: minted.keyHash, keyId: minted.keyId, hint: minted.hint, name: 'batch', role: 'member', createdBy: 'admin:test', createdAt: new Date().toISOString(), limits: { tokensPerDay: 60 } });
    const client = new OpenAI({ baseURL: gw.url, apiKey: minted.key, maxRetries: 0 });
    // Streams of 18 tokens each: 30%, then 60% (50% reached), then 90% (80% reached).
    const stream = async () => { for await (const _ of await client.chat.completions.create({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10, stream: true, stream_options: { include_usage: true } })) { /* drain */ } };
    await stream();
    await stream();
    await gw.budgetAlerts!.idle();
    await stream();
    await gw.budgetAlerts!.idle();
    const lines = readFileSync(join(gw.stateDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LocalEvent);
    expect(lines.map((e) => [e.detail.scope, e.detail.keyId, e.detail.budgetId, e.detail.thresholdPercent, e.detail.used])).toEqual([
      ['key', minted.keyId, 'day-tokens', 50, 36], ['key', minted.keyId, 'day-tokens', 80, 54],
    ]);
    expect(lines[0]).toMatchObject({ version: '0', id: expect.any(String), source: 'tessera.lifecycle', 'detail-type': 'Tenant Budget Threshold Reached', time: expect.stringMatching(/Z$/) });
    // EventBridge delivers every event with the account and Region it was put in (the gateway's:
    // the platform account, the home Region) and its resources; a rule target reads them.
    expect(Object.keys(lines[0]!).sort()).toEqual(['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
    expect(lines[0]).toMatchObject({ account: gw.config.platformAccountId, region: gw.config.homeRegion, resources: [] });
  });
});
