import { describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import type { Authorizer } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { requestTarget } from '../../../lambdas/inference/local-server.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { roundUsd, tenantUsage } from '../../../lambdas/inference/endpoints/usage.js';
import type { TenantPolicy } from '../../../lambdas/inference/policy.js';
import type { GatewayStore } from '../../../lambdas/inference/stores/gateway-store.js';
import type { Caller } from '../../../lambdas/inference/auth.js';
import type { GatewayError } from '../../../lambdas/inference/openai-errors.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';

// Issue 13 (item 5): /v1/usage reports costs rounded to nano-dollars (the stores' unit), not binary-float sums.
describe('GET /v1/usage costs', () => {
  it('rounds to nano-dollars: 0.1 + 0.2 prints 0.3, a remaining budget likewise, and a USD 0.0000004 embedding is not 0', async () => {
    const costUsd = 0.1 + 0.2; // 0.30000000000000004
    const store = { usage: async () => ({ day: { tokens: 10, costUsd, requests: 1 }, month: { tokens: 10, costUsd: 0.000123 + 0.000001, requests: 1 } }), modelUsage: async () => [] } as unknown as GatewayStore;
    const policy = { tenantId: 'acme', limits: { dayTokens: 100, monthTokens: undefined, monthCostUsd: 1 }, rate: { minute: 1, hour: 1, day: 1 } } as unknown as TenantPolicy;
    const body = await tenantUsage(store, policy);
    expect(body).toContain('"cost_usd":0.3,');
    expect(body).toContain('"cost_usd":0.000124,');
    expect(JSON.parse(body).remaining.monthly_cost_usd).toBe(0.999876);
    expect(roundUsd(4e-7 + 4e-7)).toBe(8e-7); // 8.000000000000001e-7 in floats
    expect(roundUsd(4e-10)).toBe(0);
  });

  it('uses snake_case keys throughout, as OpenAI\'s usage and costs objects do', async () => {
    const store = { usage: async () => ({ day: { tokens: 1, costUsd: 0.5, requests: 1 }, month: { tokens: 2, costUsd: 1, requests: 2 } }), modelUsage: async () => [] } as unknown as GatewayStore;
    const policy = { tenantId: 'acme', limits: { dayTokens: 100, monthTokens: 1000, monthCostUsd: 5 }, rate: { minute: 1, hour: 2, day: 3 } } as unknown as TenantPolicy;
    const body = JSON.parse(await tenantUsage(store, policy));
    expect(body).toEqual({
      object: 'usage', tenant: 'acme',
      day: { tokens: 1, cost_usd: 0.5, requests: 1, input_cached_tokens: 0, input_cache_write_tokens: 0 },
      month: { tokens: 2, cost_usd: 1, requests: 2, input_cached_tokens: 0, input_cache_write_tokens: 0 },
      limits: { tokens_per_minute: null, daily_tokens: 100, monthly_tokens: 1000, monthly_cost_usd: 5, requests: { minute: 1, hour: 2, day: 3 } },
      remaining: { daily_tokens: 99, monthly_tokens: 998, monthly_cost_usd: 4 },
    });
    const keys = (o: unknown): string[] => (o && typeof o === 'object' ? Object.entries(o).flatMap(([k, v]) => [k, ...keys(v)]) : []);
    for (const k of keys(body)) expect(k).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });
});

// Issue 15 (items 4 and 5): the answer depends on the caller's role; group_by lists users or keys.
describe('GET /v1/usage by role', () => {
  const policy = { tenantId: 'acme', gateway: { userLimits: { tokensPerDay: 500 } }, limits: { dayTokens: 1000 }, rate: { minute: 1, hour: 2, day: 3 } } as unknown as TenantPolicy;
  const tenant = {} as Caller['tenant'];
  const member: Caller = { tenantId: 'acme', userId: 'u-1', role: 'member', tenant };
  const viewer: Caller = { tenantId: 'acme', userId: 'u-2', role: 'viewer', tenant };
  const developer: Caller = { tenantId: 'acme', userId: 'u-3', role: 'developer', tenant };
  const keyCaller: Caller = { tenantId: 'acme', userId: 'key_00000000000000aa', keyId: 'key_00000000000000aa', role: 'member', tenant, key: { limits: { monthlyCostUsd: 2 } } as Caller['key'] };
  const at = new Date();
  const seeded = async () => {
    const store = new MemoryStore();
    await store.reserve('acme', 30, 0.1, {}, at, { kind: 'user', id: 'u-1' });
    await store.reserve('acme', 20, 0.2, {}, at, { kind: 'user', id: 'u-3' });
    await store.reserve('acme', 7, 0.3, {}, at, { kind: 'key', id: 'key_00000000000000aa' });
    return store;
  };
  const refusal = async (p: Promise<unknown>) => { const e = (await p.catch((x: unknown) => x)) as GatewayError; return { status: e.status, ...JSON.parse(e.body()).error }; };

  it('answers a member its own usage and its own limits (the tenant\'s userLimits)', async () => {
    const body = JSON.parse(await tenantUsage(await seeded(), policy, member, {}));
    expect(body).toEqual({
      object: 'usage', tenant: 'acme', scope: 'user', id: 'u-1', day: { tokens: 30, cost_usd: 0.1, requests: 1 }, month: { tokens: 30, cost_usd: 0.1, requests: 1 },
      limits: { requests_per_minute: null, tokens_per_minute: null, daily_tokens: 500, monthly_cost_usd: null }, remaining: { daily_tokens: 470, monthly_cost_usd: null },
    });
  });

  it('answers a key with only usage.read_own its key\'s usage and the limits on its record', async () => {
    const body = JSON.parse(await tenantUsage(await seeded(), policy, keyCaller, {}));
    expect(body).toMatchObject({ scope: 'key', id: 'key_00000000000000aa', month: { tokens: 7 }, limits: { monthly_cost_usd: 2, daily_tokens: null }, remaining: { monthly_cost_usd: 1.7 } });
  });

  it('answers usage.read holders (developer, viewer) the tenant\'s usage as before', async () => {
    for (const caller of [developer, viewer]) expect(JSON.parse(await tenantUsage(await seeded(), policy, caller, {}))).toMatchObject({ tenant: 'acme', month: { tokens: 57, requests: 3 }, limits: { daily_tokens: 1000 } });
  });

  it('lists users or keys for usage.read_by_caller (viewer), each with its day and month, summing to the tenant\'s', async () => {
    const store = await seeded();
    const users = JSON.parse(await tenantUsage(store, policy, viewer, { group_by: 'user' }));
    expect(users).toMatchObject({ object: 'list', tenant: 'acme', group_by: 'user', incomplete: false });
    expect(users.data.map((u: { id: string; month: { tokens: number } }) => [u.id, u.month.tokens])).toEqual([['u-1', 30], ['u-3', 20]]);
    const keys = JSON.parse(await tenantUsage(store, policy, { ...viewer, role: 'admin' }, { group_by: 'key' }));
    expect(keys.data).toEqual([{ object: 'usage', scope: 'key', id: 'key_00000000000000aa', day: { tokens: 7, cost_usd: 0.3, requests: 1 }, month: { tokens: 7, cost_usd: 0.3, requests: 1 } }]);
    expect([...users.data, ...keys.data].reduce((a: number, x: { month: { tokens: number } }) => a + x.month.tokens, 0)).toBe(57);
  });

  it('refuses group_by without usage.read_by_caller with a 403 naming it, and an unknown parameter or value with a 400 naming it', async () => {
    const store = await seeded();
    expect(await refusal(tenantUsage(store, policy, developer, { group_by: 'user' }))).toMatchObject({ status: 403, type: 'permission_error', code: 'permission_denied', message: expect.stringContaining('usage.read_by_caller') });
    expect(await refusal(tenantUsage(store, policy, member, { group_by: 'key' }))).toMatchObject({ status: 403, code: 'permission_denied' });
    expect(await refusal(tenantUsage(store, policy, viewer, { group_by: 'team' }))).toMatchObject({ status: 400, param: 'group_by', message: expect.stringContaining('"team"') });
    expect(await refusal(tenantUsage(store, policy, viewer, { limit: '7' }))).toMatchObject({ status: 400, param: 'limit', code: 'unknown_parameter' });
  });
});

// s32l (gap review, gap 10): the tenant's usage by model and UTC day, from the usage ledger, shaped as OpenAI's
// Usage API page (group_by=model, bucket_width=1d); and the ledger's cached prompt tokens in /v1/usage's day and month.
describe('GET /v1/usage?group_by=model', () => {
  const policy = { tenantId: 'acme', gateway: {}, limits: {}, rate: { minute: 1, hour: 2, day: 3 } } as unknown as TenantPolicy;
  const tenant = {} as Caller['tenant'];
  const developer: Caller = { tenantId: 'acme', userId: 'u-3', role: 'developer', tenant };
  const member: Caller = { tenantId: 'acme', userId: 'u-1', role: 'member', tenant };
  const now = new Date('2026-12-02T18:00:00Z');
  const refusal = async (p: Promise<unknown>) => { const e = (await p.catch((x: unknown) => x)) as GatewayError; return { status: e.status, ...JSON.parse(e.body()).error }; };
  /** One settled request of `model` at `at`: prompt and completion tokens, cost, cached prompt tokens. */
  const use = async (store: MemoryStore, at: string, model: string, prompt: number, completion: number, costUsd: number, cachedTokens = 0) => {
    const r = await store.reserve('acme', prompt + completion, costUsd, {}, new Date(at), { kind: 'user', id: 'u-1' });
    await store.settle(r, prompt + completion, costUsd, { model, promptTokens: prompt, completionTokens: completion, reported: true, estimatedTokens: prompt + completion, cachedTokens });
  };
  const seeded = async () => {
    const store = new MemoryStore();
    await use(store, '2026-12-01T09:00:00Z', 'openai/gpt-4o-mini', 100, 10, 0.00003, 40);
    await use(store, '2026-12-01T10:00:00Z', 'openai/gpt-4o-mini', 50, 5, 0.00001);
    await use(store, '2026-12-01T11:00:00Z', 'openai-compatible/default', 20, 2, 0);
    await use(store, '2026-12-02T09:00:00Z', 'openai/gpt-4o-mini', 200, 20, 0.00006, 128);
    await use(store, '2026-12-02T12:00:00Z', 'openai-compatible/default', 30, 3, 0.0000004);
    return store;
  };
  type Result = { model: string; num_model_requests: number; input_tokens: number; input_cached_tokens: number; output_tokens: number; cost_usd: number };

  it('two models over two days: four results in two daily buckets whose sums equal /v1/usage\'s month, with the cached tokens', async () => {
    const store = await seeded();
    const page = JSON.parse(await tenantUsage(store, policy, developer, { group_by: 'model' }, now));
    const dec1 = Date.UTC(2026, 11, 1) / 1000;
    expect(page).toMatchObject({ object: 'page', tenant: 'acme', group_by: 'model', bucket_width: '1d', start_time: dec1, end_time: dec1 + 2 * 86_400, has_more: false, next_page: null });
    expect(page.data.map((b: { start_time: number; end_time: number }) => [b.start_time, b.end_time])).toEqual([[dec1, dec1 + 86_400], [dec1 + 86_400, dec1 + 2 * 86_400]]);
    expect(page.data[0].results).toEqual([
      { object: 'usage.result', model: 'openai-compatible/default', num_model_requests: 1, input_tokens: 20, input_cached_tokens: 0, input_cache_write_tokens: 0, output_tokens: 2, cost_usd: 0 },
      { object: 'usage.result', model: 'openai/gpt-4o-mini', num_model_requests: 2, input_tokens: 150, input_cached_tokens: 40, input_cache_write_tokens: 0, output_tokens: 15, cost_usd: 0.00004 },
    ]);
    const results: Result[] = page.data.flatMap((b: { results: Result[] }) => b.results);
    expect(results).toHaveLength(4);
    const totals = JSON.parse(await tenantUsage(store, policy, developer, {}, now));
    const sum = (f: (r: Result) => number, rows = results) => rows.reduce((a, r) => a + f(r), 0);
    expect(sum((r) => r.num_model_requests)).toBe(totals.month.requests);
    expect(sum((r) => r.input_tokens + r.output_tokens)).toBe(totals.month.tokens);
    expect(roundUsd(sum((r) => r.cost_usd))).toBe(totals.month.cost_usd);
    expect(totals.month).toMatchObject({ requests: 5, tokens: 440, cost_usd: 0.0001004, input_cached_tokens: 168, input_cache_write_tokens: 0 });
    // Today (2026-12-02) is the second bucket.
    expect(totals.day).toMatchObject({ requests: 2, tokens: 253, input_cached_tokens: 128 });
    expect(sum((r) => r.input_cached_tokens, page.data[1].results)).toBe(totals.day.input_cached_tokens);
    const keys = (o: unknown): string[] => (o && typeof o === 'object' ? Object.entries(o).flatMap(([k, v]) => [...(Array.isArray(o) ? [] : [k]), ...keys(v)]) : []);
    for (const k of keys(page)) expect(k).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it('answers [start_time, end_time) in UTC days across a month boundary, empty days included (OpenAI\'s buckets)', async () => {
    const store = await seeded();
    await use(store, '2026-11-30T23:59:00Z', 'openai/gpt-4o-mini', 7, 1, 0);
    const nov29 = Date.UTC(2026, 10, 29) / 1000;
    const page = JSON.parse(await tenantUsage(store, policy, developer, { group_by: 'model', bucket_width: '1d', start_time: String(nov29), end_time: String(nov29 + 3 * 86_400) }, now));
    expect(page.data.map((b: { results: Result[] }) => b.results.map((r) => [r.model, r.num_model_requests]))).toEqual([[], [['openai/gpt-4o-mini', 1]], [['openai-compatible/default', 1], ['openai/gpt-4o-mini', 2]]]);
  });

  it('refuses a member (the ledger has no user or key) naming usage.read, and what it does not serve with a 400 naming it', async () => {
    const store = await seeded();
    expect(await refusal(tenantUsage(store, policy, member, { group_by: 'model' }, now))).toMatchObject({ status: 403, type: 'permission_error', code: 'permission_denied', param: 'group_by', message: expect.stringContaining('"usage.read"') });
    const bad = (query: Record<string, string>) => refusal(tenantUsage(store, policy, developer, query, now));
    const dec1 = Date.UTC(2026, 11, 1) / 1000;
    expect(await bad({ group_by: 'model', bucket_width: '1h' })).toMatchObject({ status: 400, param: 'bucket_width', code: 'invalid_value', message: expect.stringContaining('"1h"') });
    expect(await bad({ group_by: 'model', start_time: String(dec1 + 43_200) })).toMatchObject({ status: 400, param: 'start_time', message: expect.stringContaining(`give ${dec1} (2026-12-01)`) });
    expect(await bad({ group_by: 'model', start_time: 'yesterday' })).toMatchObject({ status: 400, param: 'start_time', message: expect.stringContaining('"yesterday"') });
    expect(await bad({ group_by: 'model', start_time: String(dec1), end_time: String(dec1) })).toMatchObject({ status: 400, param: 'end_time' });
    expect(await bad({ group_by: 'model', start_time: String(dec1), end_time: String(dec1 + 32 * 86_400) })).toMatchObject({ status: 400, param: 'end_time', message: expect.stringContaining('32 days') });
    expect(await bad({ group_by: 'model', start_time: String(dec1 - 40 * 86_400) })).toMatchObject({ status: 400, param: 'start_time' });
    // A start_time after today without end_time: the parameter sent is named, not the end_time the caller left out.
    expect(await bad({ group_by: 'model', start_time: String(dec1 + 31 * 86_400) })).toMatchObject({ status: 400, param: 'start_time', message: expect.stringContaining('start_time = 1798761600 (2027-01-01) is after today (UTC)') });
    expect(await bad({ bucket_width: '1d' })).toMatchObject({ status: 400, param: 'bucket_width', message: expect.stringContaining('group_by=model') });
    expect(await bad({ group_by: 'user', start_time: String(dec1) })).toMatchObject({ status: 400, param: 'start_time' });
  });
});

describe('a query parameter given twice on GET /v1/usage and GET /v1/tenant/requests/{request_id}', () => {
  it('is a 400 naming it, as the list routes answer, not the last value taken (API Gateway\'s queryStringParameters keep only it)', async () => {
    const config = gatewayConfig();
    const store = new MemoryStore();
    store.putTenant(localTenant('acme', 'enterprise'));
    const authorizer = { authorize: async (): Promise<Caller> => ({ tenantId: 'acme', userId: 'u-1', role: 'admin', tenant: (await store.getTenant('acme'))! }) } as unknown as Authorizer;
    const gateway = new Gateway({ config, store, audit: new MemoryAuditSink(), authorizer, providers: new ProviderRegistry(config, async () => 'k'), awaitAudit: true });
    const answers: Array<{ status: number; body: string }> = [];
    const res: GatewayResponder = { json: (status, body) => void answers.push({ status, body }), stream: () => ({ write: () => undefined, end: () => undefined }) };
    const get = async (path: string) => {
      await gateway.handle({ method: 'GET', ...requestTarget(path), headers: { authorization: 'Bearer x' } }, res);
      const a = answers.pop()!;
      return { status: a.status, ...(JSON.parse(a.body) as { error?: { param: string; message: string } }).error };
    };
    expect(await get('/v1/usage?group_by=user&group_by=model')).toMatchObject({ status: 400, param: 'group_by', message: 'query parameter "group_by" is given more than once; give it once' });
    expect(await get('/v1/tenant/requests/req_0123456789abcdef01234567?date=2026-12-04&date=2026-12-05')).toMatchObject({ status: 400, param: 'date' });
    // Once each, they are answered as before.
    expect(await get('/v1/usage?group_by=model')).toEqual({ status: 200 });
    expect(await get('/v1/tenant/requests/req_0123456789abcdef01234567?date=2026-12-04')).toMatchObject({ status: 404, param: 'request_id' });
  });
});

// Spend by request tag (x-tessera-tags), from the stores' tag ledger, in the group_by=user|key list shape.
describe('GET /v1/usage?group_by=tag', () => {
  const policy = { tenantId: 'acme', gateway: {}, limits: {}, rate: { minute: 1, hour: 2, day: 3 } } as unknown as TenantPolicy;
  const tenant = {} as Caller['tenant'];
  const developer: Caller = { tenantId: 'acme', userId: 'u-3', role: 'developer', tenant };
  const member: Caller = { tenantId: 'acme', userId: 'u-1', role: 'member', tenant };
  const now = new Date('2026-12-02T18:00:00Z');
  const refusal = async (p: Promise<unknown>) => { const e = (await p.catch((x: unknown) => x)) as GatewayError; return { status: e.status, ...JSON.parse(e.body()).error }; };
  const use = async (store: MemoryStore, at: string, tags: string[], tokens: number, costUsd: number) => {
    const r = await store.reserve('acme', tokens, costUsd, {}, new Date(at), { kind: 'user', id: 'u-1' });
    await store.settle({ ...r, tags }, tokens, costUsd, { model: 'openai/gpt-4o-mini', promptTokens: tokens, completionTokens: 0, reported: true, estimatedTokens: tokens });
  };

  it('lists each tag of the month with its day and month; a request with two tags under each, one without under none', async () => {
    const store = new MemoryStore();
    await use(store, '2026-12-01T09:00:00Z', ['checkout', 'env=prod'], 100, 0.0001);
    await use(store, '2026-12-02T09:00:00Z', ['checkout'], 50, 0.00005);
    await use(store, '2026-12-02T10:00:00Z', [], 30, 0.00003);
    const body = JSON.parse(await tenantUsage(store, policy, developer, { group_by: 'tag' }, now));
    expect(body).toEqual({
      object: 'list', tenant: 'acme', group_by: 'tag', incomplete: false, unrecorded_requests: 0, tags_limit: 256,
      data: [
        { object: 'usage', scope: 'tag', id: 'checkout', day: { tokens: 50, cost_usd: 0.00005, requests: 1 }, month: { tokens: 150, cost_usd: 0.00015, requests: 2 } },
        { object: 'usage', scope: 'tag', id: 'env=prod', day: { tokens: 0, cost_usd: 0, requests: 0 }, month: { tokens: 100, cost_usd: 0.0001, requests: 1 } },
      ],
    });
    // The per-tag sums (250 tokens) exceed the tenant's month (180): the two-tag request counts under each; the untagged one under none.
    expect(JSON.parse(await tenantUsage(store, policy, developer, {}, now)).month.tokens).toBe(180);
  });

  it('says incomplete, with the count, when requests carried a tag past the month\'s limit', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 256; i += 16) await use(store, '2026-12-01T09:00:00Z', Array.from({ length: 16 }, (_, k) => `job:${i + k}`), 1, 0);
    await use(store, '2026-12-02T09:00:00Z', ['job:0', 'job:new'], 1, 0);
    const body = JSON.parse(await tenantUsage(store, policy, developer, { group_by: 'tag' }, now));
    expect(body).toMatchObject({ incomplete: true, unrecorded_requests: 1, tags_limit: 256 });
    expect(body.data).toHaveLength(256);
    expect(body.data.find((t: { id: string }) => t.id === 'job:0').month.requests).toBe(2);
  });

  it('refuses a member (the tag ledger has no user or key) naming usage.read, and model-only parameters with a 400', async () => {
    const store = new MemoryStore();
    expect(await refusal(tenantUsage(store, policy, member, { group_by: 'tag' }, now))).toMatchObject({ status: 403, code: 'permission_denied', param: 'group_by', message: expect.stringContaining('GET /v1/usage?group_by=tag requires') });
    expect(await refusal(tenantUsage(store, policy, developer, { group_by: 'tag', bucket_width: '1d' }, now))).toMatchObject({ status: 400, param: 'bucket_width' });
    expect(await refusal(tenantUsage(store, policy, developer, { group_by: 'tags' }, now))).toMatchObject({ status: 400, param: 'group_by', message: 'group_by = "tags": must be user, key, model or tag' });
  });
});
