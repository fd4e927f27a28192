import type { TenantPolicy } from '../policy.js';
import type { GatewayStore } from '../stores/gateway-store.js';

/** `GET /v1/usage` (Tessera's own route): the caller's usage today and this month, its limits and what is left. */
export async function tenantUsage(store: GatewayStore, policy: TenantPolicy): Promise<string> {
  const used = await store.usage(policy.tenantId, new Date());
  const { limits } = policy;
  const left = (limit: number | undefined, spent: number) => (limit === undefined ? null : Math.max(0, limit - spent));
  return JSON.stringify({
    object: 'usage', tenant: policy.tenantId, day: used.day, month: used.month,
    limits: { daily_tokens: limits.dayTokens ?? null, monthly_tokens: limits.monthTokens ?? null, monthly_cost_usd: limits.monthCostUsd ?? null, requests: policy.rate },
    remaining: { daily_tokens: left(limits.dayTokens, used.day.tokens), monthly_tokens: left(limits.monthTokens, used.month.tokens), monthly_cost_usd: left(limits.monthCostUsd, used.month.costUsd) },
  });
}
