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
    expect(body).toContain('"costUsd":0.3,');
    expect(body).toContain('"costUsd":0.000124,');
    expect(JSON.parse(body).remaining.monthly_cost_usd).toBe(0.999876);
    expect(roundUsd(1e-7)).toBe(0);
  });
});
