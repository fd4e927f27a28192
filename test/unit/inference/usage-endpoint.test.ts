import { describe, expect, it } from 'vitest';
import { roundUsd, tenantUsage } from '../../../lambdas/inference/endpoints/usage.js';
import type { TenantPolicy } from '../../../lambdas/inference/policy.js';
import type { GatewayStore } from '../../../lambdas/inference/stores/gateway-store.js';

// Issue 13 (item 5): /v1/usage reports costs rounded to micro-dollars, not binary-float sums.
describe('GET /v1/usage costs', () => {
  it('rounds to micro-dollars: 0.1 + 0.2 prints 0.3, and a remaining budget likewise', async () => {
    const costUsd = 0.1 + 0.2; // 0.30000000000000004
    const store = { usage: async () => ({ day: { tokens: 10, costUsd, requests: 1 }, month: { tokens: 10, costUsd: 0.000123 + 0.000001, requests: 1 } }) } as unknown as GatewayStore;
    const policy = { tenantId: 'acme', limits: { dayTokens: 100, monthTokens: undefined, monthCostUsd: 1 }, rate: { minute: 1, hour: 1, day: 1 } } as unknown as TenantPolicy;
    const body = await tenantUsage(store, policy);
    expect(body).toContain('"cost_usd":0.3,');
    expect(body).toContain('"cost_usd":0.000124,');
    expect(JSON.parse(body).remaining.monthly_cost_usd).toBe(0.999876);
    expect(roundUsd(1e-7)).toBe(0);
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
