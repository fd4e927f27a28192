import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintApiKey } from '../../lib/identity/api-key.js';
import type { SubjectLimits } from '../../lib/identity/subject-limits.js';
import { FileApiKeyStore } from '../../lambdas/identity/stores/file-api-key-store.js';
import { apiKeysDir } from '../../lambdas/inference/dev-keys.js';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { MemoryStore } from '../../lambdas/inference/stores/memory-store.js';
import { SharedMemoryStore } from '../../lambdas/inference/stores/shared-memory-store.js';
import { countPromptTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { bundledEntry } from '../support/cli-bundle.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { burst, limitsTenant, type Burst } from './support/identity-limits-scenarios.js';
import { exactnessCases, settleCase, type RunBurst } from './support/identity-limits-suite.js';

// Issue 15, "Exactness": limits per user and per key on the embedded stores of `tessera serve`.
// DynamoDB (moto): identity-limits-dynamodb.test.ts.

describe('MemoryStore (tessera serve): limits per key and per user are exact', () => {
  const store = new MemoryStore();
  const run: RunBurst = (caller, step, n, userLimits) => burst(store, caller, step, n, userLimits);
  exactnessCases(run, () => store, (step, kind) => `mem-${step}-${kind}`);
  settleCase(() => store, 'mem-settle');
});

describe('SharedMemoryStore (tessera serve --workers): exact across worker threads', () => {
  const tenantIds = [...['admit-key', 'admit-user', 'reserve-key', 'reserve-user'].map((c) => `shm-${c}`), 'shm-settle'];
  const tenants = tenantIds.map(limitsTenant);
  const buffer = SharedMemoryStore.allocate(tenants.length);
  const view = () => new SharedMemoryStore(buffer, tenants);
  // Five threads, each firing its share of the 50 at once: the counters are in one buffer under each tenant's Atomics lock.
  let workers: Worker[] = [];
  beforeAll(async () => {
    // The thread's script bundled once per state of the sources (test/support/cli-bundle.ts): the
    // same code without tsx, whose loader costs each thread about 1 s of CPU more.
    const script = await bundledEntry('test/integration/support/identity-limits-worker.ts', ['test/support', 'test/integration/support']);
    workers = Array.from({ length: 5 }, () => new Worker(script, { workerData: { buffer, tenantIds } }));
    // Every thread loaded and listening before the first burst, so each burst's 50 run at once.
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)))));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });
  const run: RunBurst = async (caller, step, n, userLimits) => {
    const message = { tenantId: caller.tenantId, kind: caller.keyId ? 'key' : 'user', id: caller.userId, limits: caller.key?.limits, step, n: n / workers.length, userLimits };
    // Each burst's listeners go when it ends: one `once('error')` left per burst was 11 on a thread by
    // the last burst (Node's MaxListenersExceededWarning in every suite run).
    const parts = await Promise.all(workers.map((w) => new Promise<Burst>((resolve, reject) => {
      const failed = (e: Error) => { w.off('message', answered); reject(e); };
      const answered = (burst: Burst) => { w.off('error', failed); resolve(burst); };
      w.once('message', answered);
      w.once('error', failed);
      w.postMessage(message);
    })));
    return { admitted: parts.reduce((a, p) => a + p.admitted, 0), refusals: parts.flatMap((p) => p.refusals) };
  };
  exactnessCases(run, view, (step, kind) => `shm-${step}-${kind}`);
  settleCase(view, 'shm-settle');
});

describe('through the gateway (tessera serve): users\' and keys\' limits, 429s naming them, usage by user and by key', () => {
  let upstream: FakeUpstream;
  let gw: Awaited<ReturnType<typeof serveGateway>>;
  const quiet = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
  beforeAll(async () => {
    upstream = await new FakeUpstream().start();
    // 18 tokens a request (prompt + max_tokens; the upstream reports 18 used): every user 10 requests' worth a day, the tenant 25.
    const tenant = localTenant('userco', 'enterprise', { gateway: { monthlyTokenBudget: 450, userLimits: { tokensPerDay: 180 }, fallbacks: [], guardrails: quiet, auditPromptText: false } });
    // And a tenant for 30 requests whose keys carry their own limits.
    const keyco = localTenant('keyco', 'enterprise', { gateway: { monthlyTokenBudget: 540, fallbacks: [], guardrails: quiet, auditPromptText: false } });
    gw = await serveGateway(gatewayConfig(), upstream.url, [tenant, keyco]);
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.stop();
  });

  it('admits exactly 10 of 50 concurrent requests of one user, 10 of the next, 5 of the third (the tenant\'s 25), and lists them by user', async () => {
    await loadTokenizer();
    const hi = { model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'hi' }] };
    const maxTokens = 18 - countPromptTokens(hi);
    const fire = async (sub: string) => {
      const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('userco', { sub }), maxRetries: 0 });
      return Promise.allSettled(Array.from({ length: 50 }, () => client.chat.completions.create({ ...hi, max_tokens: maxTokens })));
    };
    const alice = await fire('alice');
    expect(alice.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const refused = alice.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
    expect(refused.status).toBe(429);
    expect(refused.error.code).toBe('budget_exceeded');
    expect(refused.message).toContain('daily token budget of 180 tokens is exhausted for user alice');
    expect(refused.headers.get('x-tessera-limit-scope')).toBe('user');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const bob = await fire('bob');
    expect(bob.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const carol = await fire('carol');
    expect(carol.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const tenantRefusal = carol.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
    expect(tenantRefusal.message).toContain('monthly token budget of 450 tokens is exhausted for tenant userco');
    expect(tenantRefusal.headers.get('x-tessera-limit-scope')).toBe('tenant');

    const viewer = await gw.token('userco', { sub: 'auditor', role: 'viewer' });
    const byUser = await fetch(`${gw.url}/usage?group_by=user`, { headers: { authorization: `Bearer ${viewer}` } }).then((r) => r.json() as Promise<{ data: Array<{ id: string; month: { tokens: number; requests: number } }> }>);
    expect(byUser.data.map((u) => [u.id, u.month.tokens, u.month.requests])).toEqual([['alice', 180, 10], ['bob', 180, 10], ['carol', 90, 5]]);
    const own = await fetch(`${gw.url}/usage`, { headers: { authorization: `Bearer ${await gw.token('userco', { sub: 'alice' })}` } }).then((r) => r.json() as Promise<Record<string, unknown>>);
    expect(own).toMatchObject({ scope: 'user', id: 'alice', day: { tokens: 180, requests: 10 }, limits: { daily_tokens: 180 }, remaining: { daily_tokens: 0 } });
    // Every audit record names its user.
    expect(gw.audit.records.filter((a) => a.path === '/v1/chat/completions').every((a) => ['alice', 'bob', 'carol'].includes(a.userId!))).toBe(true);
  });

  it('admits exactly 10 of 50 concurrent requests of one tsk_ key allowed 10 requests\' tokens, 20 of a key without limits, and lists both by key', async () => {
    await loadTokenizer();
    const keys = new FileApiKeyStore(apiKeysDir(dirname(gw.keysFile)));
    const put = async (name: string, limits?: SubjectLimits) => {
      const minted = mintApiKey('keyco');
      await keys.put({ tenantId: 'keyco', keyHash: minted.keyHash, keyId: minted.keyId, hint: minted.hint, name, role: 'member', limits, createdBy: 'admin:test', createdAt: new Date().toISOString() });
      return minted;
    };
    const limited = await put('batch job', { tokensPerDay: 180 });
    const free = await put('web app');
    const hi = { model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'hi' }] };
    const maxTokens = 18 - countPromptTokens(hi);
    const fire = (apiKey: string) => {
      const client = new OpenAI({ baseURL: gw.url, apiKey, maxRetries: 0 });
      return Promise.allSettled(Array.from({ length: 50 }, () => client.chat.completions.create({ ...hi, max_tokens: maxTokens })));
    };
    const first = await fire(limited.key);
    expect(first.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const refused = first.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
    expect(refused.message).toContain(`daily token budget of 180 tokens is exhausted for key ${limited.keyId}`);
    expect(refused.headers.get('x-tessera-limit-scope')).toBe('key');
    const second = await fire(free.key);
    expect(second.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
    expect(second.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason.headers.get('x-tessera-limit-scope')).toBe('tenant');

    const viewer = await gw.token('keyco', { sub: 'auditor', role: 'viewer' });
    const byKey = await fetch(`${gw.url}/usage?group_by=key`, { headers: { authorization: `Bearer ${viewer}` } }).then((r) => r.json() as Promise<{ data: Array<{ id: string; month: { tokens: number } }> }>);
    expect(byKey.data.map((k) => [k.id, k.month.tokens]).sort()).toEqual([[limited.keyId, 180], [free.keyId, 360]].sort());
    // A member key reads its own usage, with its own limits; every audit record names its key.
    const own = await fetch(`${gw.url}/usage`, { headers: { authorization: `Bearer ${limited.key}` } }).then((r) => r.json() as Promise<Record<string, unknown>>);
    expect(own).toMatchObject({ scope: 'key', id: limited.keyId, day: { tokens: 180 }, limits: { daily_tokens: 180 }, remaining: { daily_tokens: 0 } });
    const chats = gw.audit.records.filter((a) => a.tenantId === 'keyco' && a.path === '/v1/chat/completions');
    expect(chats).toHaveLength(100);
    expect(chats.every((a) => a.keyId === limited.keyId || a.keyId === free.keyId)).toBe(true);
  });
});
