import { can, PERMISSIONS, ROLES } from '../../../lib/identity/roles.js';
import type { Caller } from '../auth.js';
import { GatewayError, invalid } from '../openai-errors.js';
import { subjectOf } from '../pipeline.js';
import type { TenantPolicy } from '../policy.js';
import type { GatewayStore, SubjectUsage } from '../stores/gateway-store.js';
import { roundUsdToNano } from '../stores/model-usage.js';

/** US dollars rounded to nano-dollars (the unit the stores count in), so sums of prices print as `0.000123`, not `0.00012300000000000001`, and a request of USD 0.0000004 is not 0. */
export const roundUsd = roundUsdToNano;

const GROUPS = ['user', 'key'] as const;
type Period = { tokens: number; costUsd: number; requests: number };
const period = (p: Period) => ({ tokens: p.tokens, cost_usd: roundUsd(p.costUsd), requests: p.requests });
const left = (limit: number | undefined, spent: number) => (limit === undefined ? null : roundUsd(Math.max(0, limit - spent)));

/**
 * `GET /v1/usage` (Tessera's own route), answered by the caller's role (lib/identity/roles.ts).
 * Keys are snake_case throughout, as OpenAI's own usage and costs objects (`input_tokens`,
 * `num_model_requests`, `amount.value`: the `openai` package's admin/organization/usage types);
 * costs are US dollars rounded to nano-dollars (9 decimals); `null`: no such limit.
 *
 * - with `usage.read` (or no caller given): the tenant's usage today and this month, its limits
 *   and what is left:
 *   `{ object: 'usage', tenant, day: { tokens, cost_usd, requests }, month: {…},
 *      limits: { daily_tokens, monthly_tokens, monthly_cost_usd, requests: { minute, hour, day } },
 *      remaining: { daily_tokens, monthly_tokens, monthly_cost_usd } }`
 * - with only `usage.read_own`: the caller's own usage (its key's for a key caller, else its
 *   user's) with its own limits (the key's record, or the tenant's `userLimits`):
 *   `{ object: 'usage', tenant, scope: 'user'|'key', id, day, month,
 *      limits: { requests_per_minute, daily_tokens, monthly_cost_usd }, remaining: { daily_tokens, monthly_cost_usd } }`
 * - `?group_by=user|key` (needs `usage.read_by_caller`): each user or key that reserved this month:
 *   `{ object: 'list', tenant, group_by, incomplete, data: [{ object: 'usage', scope, id, day, month }] }`
 *   sorted by id (`incomplete`: the store could not list every one, dynamodb-store.ts).
 *
 * @param query the request's query string parameters; only `group_by` is known
 * @throws GatewayError 400 naming an unknown query parameter or `group_by` value;
 *   403 `permission_denied` (type `permission_error`) naming `usage.read_by_caller` for `group_by` without it
 */
export async function tenantUsage(store: GatewayStore, policy: TenantPolicy, caller?: Caller, query: Record<string, string | undefined> = {}): Promise<string> {
  for (const name of Object.keys(query)) {
    if (name !== 'group_by') throw invalid(`unknown query parameter ${name}; GET /v1/usage takes only group_by=user|key`, name, 'unknown_parameter');
  }
  const now = new Date();
  const groupBy = query.group_by;
  if (groupBy !== undefined) {
    if (!(GROUPS as readonly string[]).includes(groupBy)) throw invalid(`group_by = "${groupBy}": must be user or key`, 'group_by', 'invalid_value');
    if (caller && !can(caller.role, 'usage.read_by_caller')) {
      throw new GatewayError(403, `role "${caller.role}" lacks permission "usage.read_by_caller" (${PERMISSIONS['usage.read_by_caller']}), which GET /v1/usage?group_by=${groupBy} requires (roles with it: ${ROLES.filter((role) => can(role, 'usage.read_by_caller')).join(', ')}); ask your tenant admin for a role that has it`, 'permission_error', 'permission_denied', 'group_by').withAudit({ permission: 'usage.read_by_caller' });
    }
    const listed = await store.usageBy(policy.tenantId, now, groupBy as SubjectUsage['kind']);
    return JSON.stringify({
      object: 'list', tenant: policy.tenantId, group_by: groupBy, incomplete: listed.incomplete,
      data: listed.subjects.map((s) => ({ object: 'usage', scope: s.kind, id: s.id, day: period(s.day), month: period(s.month) })),
    });
  }
  if (caller && !can(caller.role, 'usage.read')) {
    const subject = subjectOf({ caller, policy });
    const used = await store.usage(policy.tenantId, now, subject);
    const own = subject.limits ?? {};
    return JSON.stringify({
      object: 'usage', tenant: policy.tenantId, scope: subject.kind, id: subject.id, day: period(used.day), month: period(used.month),
      limits: { requests_per_minute: own.requestsPerMinute ?? null, daily_tokens: own.tokensPerDay ?? null, monthly_cost_usd: own.monthlyCostUsd ?? null },
      remaining: { daily_tokens: left(own.tokensPerDay, used.day.tokens), monthly_cost_usd: left(own.monthlyCostUsd, used.month.costUsd) },
    });
  }
  const used = await store.usage(policy.tenantId, now);
  const { limits } = policy;
  return JSON.stringify({
    object: 'usage', tenant: policy.tenantId, day: period(used.day), month: period(used.month),
    limits: { daily_tokens: limits.dayTokens ?? null, monthly_tokens: limits.monthTokens ?? null, monthly_cost_usd: limits.monthCostUsd ?? null, requests: policy.rate },
    remaining: { daily_tokens: left(limits.dayTokens, used.day.tokens), monthly_tokens: left(limits.monthTokens, used.month.tokens), monthly_cost_usd: left(limits.monthCostUsd, used.month.costUsd) },
  });
}
