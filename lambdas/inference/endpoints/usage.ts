import { can, PERMISSIONS, ROLES } from '../../../lib/identity/roles.js';
import type { Caller } from '../auth.js';
import { GatewayError, invalid } from '../openai-errors.js';
import { subjectOf } from '../pipeline.js';
import type { TenantPolicy } from '../policy.js';
import { MAX_TAGS_PER_MONTH, periods, type GatewayStore, type ModelDayUsage, type SubjectUsage } from '../stores/gateway-store.js';
import { roundUsdToNano } from '../stores/model-usage.js';

/** US dollars rounded to nano-dollars (the unit the stores count in), so sums of prices print as `0.000123`, not `0.00012300000000000001`, and a request of USD 0.0000004 is not 0. */
export const roundUsd = roundUsdToNano;

const GROUPS = ['user', 'key', 'model', 'tag'] as const;
/** The query parameters of `GET /v1/usage`; the last three only with `group_by=model` (OpenAI's Usage API names). */
const PARAMETERS = ['group_by', 'bucket_width', 'start_time', 'end_time'] as const;
type Period = { tokens: number; costUsd: number; requests: number };
const period = (p: Period) => ({ tokens: p.tokens, cost_usd: roundUsd(p.costUsd), requests: p.requests });
/** The ledger's prompt-cache counts of some model-day rows, as `GET /v1/usage` names them (OpenAI's usage result: `input_cached_tokens`, `input_cache_write_tokens`). */
const cacheCounts = (rows: ModelDayUsage[]) => ({
  input_cached_tokens: rows.reduce((a, r) => a + (r.cachedTokens ?? 0), 0),
  input_cache_write_tokens: rows.reduce((a, r) => a + (r.cacheWriteTokens ?? 0), 0),
});
const DAY_SECONDS = 86_400;
/**
 * The most daily buckets one `group_by=model` answer holds: OpenAI's Usage API's `limit` for `bucket_width=1d` (max 31).
 * The default range, the month to date, is within it.
 */
export const MAX_USAGE_DAYS = 31;
const left = (limit: number | undefined, spent: number) => (limit === undefined ? null : roundUsd(Math.max(0, limit - spent)));

/**
 * `GET /v1/usage` (Tessera's own route), answered by the caller's role (lib/identity/roles.ts).
 * Keys are snake_case throughout, as OpenAI's own usage and costs objects (`input_tokens`,
 * `num_model_requests`, `amount.value`: the `openai` package's admin/organization/usage types);
 * costs are US dollars rounded to nano-dollars (9 decimals); `null`: no such limit.
 *
 * - with `usage.read` (or no caller given): the tenant's usage today and this month, its limits
 *   and what is left; `day` and `month` also carry the prompt tokens read from and written to the
 *   providers' caches (`input_cached_tokens`, `input_cache_write_tokens`: part of `tokens`), summed from
 *   the usage ledger (GatewayStore.modelUsage of the month: one more read, eventually consistent on DynamoDB):
 *   `{ object: 'usage', tenant, day: { tokens, cost_usd, requests, input_cached_tokens, input_cache_write_tokens }, month: {…},
 *      limits: { tokens_per_minute, daily_tokens, monthly_tokens, monthly_cost_usd, requests: { minute, hour, day } },
 *      remaining: { daily_tokens, monthly_tokens, monthly_cost_usd } }`
 * - with only `usage.read_own`: the caller's own usage (its key's for a key caller, else its
 *   user's) with its own limits (the key's record, or the tenant's `userLimits`):
 *   `{ object: 'usage', tenant, scope: 'user'|'key', id, day, month,
 *      limits: { requests_per_minute, tokens_per_minute, daily_tokens, monthly_cost_usd }, remaining: { daily_tokens, monthly_cost_usd } }`
 * - `?group_by=user|key` (needs `usage.read_by_caller`): each user or key that reserved this month:
 *   `{ object: 'list', tenant, group_by, incomplete, data: [{ object: 'usage', scope, id, day, month }] }`
 *   sorted by id (`incomplete`: the store could not list every one, dynamodb-store.ts).
 * - `?group_by=model[&bucket_width=1d][&start_time][&end_time]` (needs `usage.read`: the ledger has no
 *   user or key, so a member's own share is not known): the tenant's usage by model and UTC day (usageByModel).
 * - `?group_by=tag` (needs `usage.read`, as by model: the tag ledger has no user or key): each request tag
 *   (`x-tessera-tags`) that settled requests with usage carried this month, today's and the month's usage under it:
 *   `{ object: 'list', tenant, group_by: 'tag', incomplete, unrecorded_requests, tags_limit, data: [{ object: 'usage', scope: 'tag', id, day, month }] }`
 *   sorted by id. A request with two tags counts under each (the sums may exceed the tenant's); one without tags under
 *   none; `requests` counts settled requests with usage (as the ledger by model), not every admitted one. `incomplete`:
 *   some requests of the month carried a tag past the month's limit of `tags_limit` distinct tags (MAX_TAGS_PER_MONTH),
 *   counted in `unrecorded_requests` and not under that tag.
 *
 * @param query the request's query string parameters: `group_by`, and with `group_by=model` `bucket_width`, `start_time`, `end_time`
 * @param now the instant whose UTC day and month are "today" and "this month" @default the time of the call
 * @throws GatewayError 400 naming an unknown query parameter, a `group_by` value, or a `bucket_width`/`start_time`/`end_time`
 *   without `group_by=model` (and usageByModel's); 403 `permission_denied` (type `permission_error`) naming
 *   `usage.read_by_caller` for `group_by=user|key` without it, `usage.read` for `group_by=model|tag` without it
 */
export async function tenantUsage(store: GatewayStore, policy: TenantPolicy, caller?: Caller, query: Record<string, string | undefined> = {}, now = new Date()): Promise<string> {
  for (const name of Object.keys(query)) {
    if (!(PARAMETERS as readonly string[]).includes(name)) throw invalid(`unknown query parameter ${name}; GET /v1/usage takes only group_by=user|key|model|tag (and with group_by=model: bucket_width=1d, start_time, end_time)`, name, 'unknown_parameter');
  }
  const groupBy = query.group_by;
  if (groupBy !== undefined && !(GROUPS as readonly string[]).includes(groupBy)) throw invalid(`group_by = "${groupBy}": must be user, key, model or tag`, 'group_by', 'invalid_value');
  if (groupBy !== 'model') {
    for (const name of ['bucket_width', 'start_time', 'end_time']) {
      if (query[name] !== undefined) throw invalid(`${name} applies only with group_by=model (usage by model and UTC day)`, name, 'invalid_value');
    }
  }
  if (groupBy === 'model' || groupBy === 'tag') {
    if (caller && !can(caller.role, 'usage.read')) {
      // The ledger counts by tenant, model (or tag) and day, not by user or key: a member's own share of it is not known.
      throw new GatewayError(403, `role "${caller.role}" lacks permission "usage.read" (${PERMISSIONS['usage.read']}), which GET /v1/usage?group_by=${groupBy} requires: the usage ledger counts the tenant's requests by ${groupBy} and day, not by user or key (roles with it: ${ROLES.filter((role) => can(role, 'usage.read')).join(', ')}); ask your tenant admin for a role that has it`, 'permission_error', 'permission_denied', 'group_by').withAudit({ permission: 'usage.read' });
    }
    if (groupBy === 'model') return JSON.stringify(await usageByModel(store, policy.tenantId, now, query));
    const listed = await store.tagUsage(policy.tenantId, now);
    return JSON.stringify({
      object: 'list', tenant: policy.tenantId, group_by: 'tag', incomplete: listed.unrecorded > 0, unrecorded_requests: listed.unrecorded, tags_limit: MAX_TAGS_PER_MONTH,
      data: listed.tags.map((t) => ({ object: 'usage', scope: 'tag', id: t.tag, day: period(t.day), month: period(t.month) })),
    });
  }
  if (groupBy !== undefined) {
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
      limits: { requests_per_minute: own.requestsPerMinute ?? null, tokens_per_minute: own.tokensPerMinute ?? null, daily_tokens: own.tokensPerDay ?? null, monthly_cost_usd: own.monthlyCostUsd ?? null },
      remaining: { daily_tokens: left(own.tokensPerDay, used.day.tokens), monthly_cost_usd: left(own.monthlyCostUsd, used.month.costUsd) },
    });
  }
  const { day, month } = periods(now);
  const [used, ledger] = await Promise.all([store.usage(policy.tenantId, now), store.modelUsage(policy.tenantId, month)]);
  const { limits } = policy;
  return JSON.stringify({
    object: 'usage', tenant: policy.tenantId,
    day: { ...period(used.day), ...cacheCounts(ledger.filter((r) => r.day === day)) }, month: { ...period(used.month), ...cacheCounts(ledger) },
    limits: { tokens_per_minute: limits.minuteTokens ?? null, daily_tokens: limits.dayTokens ?? null, monthly_tokens: limits.monthTokens ?? null, monthly_cost_usd: limits.monthCostUsd ?? null, requests: policy.rate },
    remaining: { daily_tokens: left(limits.dayTokens, used.day.tokens), monthly_tokens: left(limits.monthTokens, used.month.tokens), monthly_cost_usd: left(limits.monthCostUsd, used.month.costUsd) },
  });
}

/**
 * A UTC-midnight Unix time (seconds) of the query, or `fallback` when absent.
 * @throws GatewayError 400 naming `name` and its value when it is not an integer of seconds at a UTC midnight
 */
function midnightSeconds(query: Record<string, string | undefined>, name: 'start_time' | 'end_time', fallback: number): number {
  const text = query[name];
  if (text === undefined) return fallback;
  const seconds = /^-?\d{1,12}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw invalid(`${name} = "${text}": must be a Unix time in whole seconds (e.g. ${fallback})`, name, 'invalid_value');
  if (seconds % DAY_SECONDS !== 0) {
    const before = seconds - (seconds % DAY_SECONDS);
    throw invalid(`${name} = ${text} (${new Date(seconds * 1000).toISOString()}) is not a UTC midnight: the usage ledger counts whole UTC days; give ${before} (${new Date(before * 1000).toISOString().slice(0, 10)}) or ${before + DAY_SECONDS}`, name, 'invalid_value');
  }
  return seconds;
}

/**
 * `GET /v1/usage?group_by=model[&bucket_width=1d][&start_time=<s>][&end_time=<s>]`: the tenant's usage ledger
 * (GatewayStore.modelUsage) by model and UTC day, shaped as OpenAI's Usage API page
 * (`/v1/organization/usage/completions?group_by=model&bucket_width=1d`: the `openai` package's
 * admin/organization/usage.ts): one `bucket` per UTC day of `[start_time, end_time)`, days without
 * usage included with no results, each result one model's day:
 * `{ object: 'page', tenant, group_by: 'model', bucket_width: '1d', start_time, end_time, has_more: false, next_page: null,
 *    data: [{ object: 'bucket', start_time, end_time, results: [{ object: 'usage.result', model, num_model_requests,
 *      input_tokens, input_cached_tokens, input_cache_write_tokens, output_tokens, cost_usd }] }] }`.
 * `input_tokens` includes the cached and cache-write tokens (as OpenAI's); `cost_usd` is rounded to nano-dollars
 * (OpenAI's Costs API has `amount.value`; `/v1/usage` keeps its `cost_usd`). The ledger counts the requests that
 * produced usage (operations.md, "The usage ledger"), so `num_model_requests` may be fewer than `/v1/usage`'s
 * `requests`, which counts every admitted request.
 *
 * @param query `bucket_width` (only `1d`, the ledger's unit), `start_time` (Unix seconds at a UTC midnight, inclusive;
 *   @default the first day of the current UTC month), `end_time` (exclusive, a UTC midnight; @default the end of today, UTC)
 * @throws GatewayError 400 naming `bucket_width` other than `1d`, a `start_time`/`end_time` that is not a UTC midnight
 *   in Unix seconds, an `end_time` not after `start_time` (naming `start_time` when `end_time` was not given: a `start_time`
 *   after today), or a range of more than MAX_USAGE_DAYS days
 */
export async function usageByModel(store: Pick<GatewayStore, 'modelUsage'>, tenantId: string, now: Date, query: Record<string, string | undefined>) {
  const width = query.bucket_width ?? '1d';
  if (width !== '1d') throw invalid(`bucket_width = "${width}": the usage ledger counts by UTC day; only 1d is served (not OpenAI's 1m or 1h)`, 'bucket_width', 'invalid_value');
  const today = Math.floor(now.getTime() / 1000 / DAY_SECONDS) * DAY_SECONDS;
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) / 1000;
  const start = midnightSeconds(query, 'start_time', monthStart);
  const end = midnightSeconds(query, 'end_time', today + DAY_SECONDS);
  if (end <= start) {
    // Without end_time, the end is the end of today: a start_time after it is the parameter at fault, not the one not sent.
    if (query.end_time === undefined) throw invalid(`start_time = ${start} (${new Date(start * 1000).toISOString().slice(0, 10)}) is after today (UTC), the default end_time's last day: the range [start_time, end_time) holds no day; give a start_time up to ${today} or an end_time after it`, 'start_time', 'invalid_value');
    throw invalid(`end_time = ${end} is not after start_time = ${start}: the range [start_time, end_time) holds no day`, 'end_time', 'invalid_value');
  }
  const days = (end - start) / DAY_SECONDS;
  if (days > MAX_USAGE_DAYS) {
    const param = query.end_time === undefined ? 'start_time' : 'end_time';
    throw invalid(`${param}: [start_time, end_time) spans ${days} days; one answer holds at most ${MAX_USAGE_DAYS} daily buckets (OpenAI's limit for bucket_width=1d): ask for the rest in another call`, param, 'invalid_value');
  }
  const dayOf = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
  const months = [...new Set(Array.from({ length: days }, (_, i) => dayOf(start + i * DAY_SECONDS).slice(0, 7)))];
  const rows = (await Promise.all(months.map((m) => store.modelUsage(tenantId, m)))).flat();
  const byDay = new Map<string, ModelDayUsage[]>();
  for (const r of rows) byDay.set(r.day, [...(byDay.get(r.day) ?? []), r]);
  return {
    object: 'page', tenant: tenantId, group_by: 'model', bucket_width: '1d', start_time: start, end_time: end,
    data: Array.from({ length: days }, (_, i) => {
      const from = start + i * DAY_SECONDS;
      const results = (byDay.get(dayOf(from)) ?? []).sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0)).map((r) => ({
        object: 'usage.result', model: r.model, num_model_requests: r.requests,
        input_tokens: r.promptTokens, input_cached_tokens: r.cachedTokens ?? 0, input_cache_write_tokens: r.cacheWriteTokens ?? 0,
        output_tokens: r.completionTokens, cost_usd: roundUsd(r.costUsd),
      }));
      return { object: 'bucket', start_time: from, end_time: from + DAY_SECONDS, results };
    }),
    has_more: false, next_page: null,
  };
}
