import { describe, expect, it } from 'vitest';
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
    const store = { usage: async () => ({ day: { tokens: 10, costUsd, requests: 1 }, month: { tokens: 10, costUsd: 0.000123 + 0.000001, requests: 1 } }) } as unknown as GatewayStore;
    const policy = { tenantId: 'acme', limits: { dayTokens: 100, monthTokens: undefined, monthCostUsd: 1 }, rate: { minute: 1, hour: 1, day: 1 } } as unknown as TenantPolicy;
    const body = await tenantUsage(store, policy);
    expect(body).toContain('"cost_usd":0.3,');
    expect(body).toContain('"cost_usd":0.000124,');
    expect(JSON.parse(body).remaining.monthly_cost_usd).toBe(0.999876);
    expect(roundUsd(4e-7 + 4e-7)).toBe(8e-7); // 8.000000000000001e-7 in floats
    expect(roundUsd(4e-10)).toBe(0);
  });

  it('uses snake_case keys throughout, as OpenAI\'s usage and costs objects do', async () => {
    const store = { usage: async () => ({ day: { tokens: 1, costUsd: 0.5, requests: 1 }, month: { tokens: 2, costUsd: 1, requests: 2 } }) } as unknown as GatewayStore;
    const policy = { tenantId: 'acme', limits: { dayTokens: 100, monthTokens: 1000, monthCostUsd: 5 }, rate: { minute: 1, hour: 2, day: 3 } } as unknown as TenantPolicy;
    const body = JSON.parse(await tenantUsage(store, policy));
    expect(body).toEqual({
      object: 'usage', tenant: 'acme',
      day: { tokens: 1, cost_usd: 0.5, requests: 1 }, month: { tokens: 2, cost_usd: 1, requests: 2 },
      limits: { daily_tokens: 100, monthly_tokens: 1000, monthly_cost_usd: 5, requests: { minute: 1, hour: 2, day: 3 } },
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
      limits: { requests_per_minute: null, daily_tokens: 500, monthly_cost_usd: null }, remaining: { daily_tokens: 470, monthly_cost_usd: null },
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
    expect(await refusal(tenantUsage(store, policy, viewer, { group_by: 'model' }))).toMatchObject({ status: 400, param: 'group_by', message: expect.stringContaining('"model"') });
    expect(await refusal(tenantUsage(store, policy, viewer, { start_time: '1' }))).toMatchObject({ status: 400, param: 'start_time', code: 'unknown_parameter' });
  });
});
