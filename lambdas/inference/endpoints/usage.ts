import type { TenantPolicy } from '../policy.js';
import type { GatewayStore } from '../stores/gateway-store.js';

/** US dollars rounded to micro-dollars (the unit the stores count in), so sums of prices print as `0.000123`, not `0.00012300000000000001`. */
export const roundUsd = (usd: number) => Math.round(usd * 1e6) / 1e6;

/**
 * `GET /v1/usage` (Tessera's own route): the caller's usage today and this month, its limits and
 * what is left. Costs are US dollars rounded to micro-dollars.
 */
export async function tenantUsage(store: GatewayStore, policy: TenantPolicy): Promise<string> {
  const used = await store.usage(policy.tenantId, new Date());
  const { limits } = policy;
  const left = (limit: number | undefined, spent: number) => (limit === undefined ? null : roundUsd(Math.max(0, limit - spent)));
  const period = <T extends { costUsd: number }>(p: T) => ({ ...p, costUsd: roundUsd(p.costUsd) });
  return JSON.stringify({
    object: 'usage', tenant: policy.tenantId, day: period(used.day), month: period(used.month),
    limits: { daily_tokens: limits.dayTokens ?? null, monthly_tokens: limits.monthTokens ?? null, monthly_cost_usd: limits.monthCostUsd ?? null, requests: policy.rate },
    remaining: { daily_tokens: left(limits.dayTokens, used.day.tokens), monthly_tokens: left(limits.monthTokens, used.month.tokens), monthly_cost_usd: left(limits.monthCostUsd, used.month.costUsd) },
  });
}
