import type { TenantPolicy } from '../policy.js';
import type { GatewayStore } from '../stores/gateway-store.js';

/** US dollars rounded to micro-dollars (the unit the stores count in), so sums of prices print as `0.000123`, not `0.00012300000000000001`. */
export const roundUsd = (usd: number) => Math.round(usd * 1e6) / 1e6;

/**
 * `GET /v1/usage` (Tessera's own route): the caller's usage today and this month, its limits and
 * what is left. Keys are snake_case throughout, as OpenAI's own usage and costs objects
 * (`input_tokens`, `num_model_requests`, `amount.value`: the `openai` package's
 * admin/organization/usage types); costs are US dollars rounded to micro-dollars:
 *
 *   { object: 'usage', tenant,
 *     day:   { tokens, cost_usd, requests },  month: { tokens, cost_usd, requests },
 *     limits:    { daily_tokens, monthly_tokens, monthly_cost_usd, requests: { minute, hour, day } },
 *     remaining: { daily_tokens, monthly_tokens, monthly_cost_usd } }   (null: no such limit)
 */
export async function tenantUsage(store: GatewayStore, policy: TenantPolicy): Promise<string> {
  const used = await store.usage(policy.tenantId, new Date());
  const { limits } = policy;
  const left = (limit: number | undefined, spent: number) => (limit === undefined ? null : roundUsd(Math.max(0, limit - spent)));
  const period = (p: { tokens: number; costUsd: number; requests: number }) => ({ tokens: p.tokens, cost_usd: roundUsd(p.costUsd), requests: p.requests });
  return JSON.stringify({
    object: 'usage', tenant: policy.tenantId, day: period(used.day), month: period(used.month),
    limits: { daily_tokens: limits.dayTokens ?? null, monthly_tokens: limits.monthTokens ?? null, monthly_cost_usd: limits.monthCostUsd ?? null, requests: policy.rate },
    remaining: { daily_tokens: left(limits.dayTokens, used.day.tokens), monthly_tokens: left(limits.monthTokens, used.month.tokens), monthly_cost_usd: left(limits.monthCostUsd, used.month.costUsd) },
  });
}
