import { z } from 'zod';
import { DynamoDbStore } from '../inference/stores/dynamodb-store.js';
import { MAX_TAGS_PER_MONTH, type UsageSummary } from '../inference/stores/gateway-store.js';
import { roundUsdToNano } from '../inference/stores/model-usage.js';
import { monthProblem } from '../../lib/statements/schema.js';
import { monthBeforeTenant } from '../../lib/statements/tenant-months.js';
import { ApiError } from '../shared/api-errors.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { lambdaStatementSources } from '../statements/lambda-sources.js';
import { CostExplorerError } from '../statements/cost-explorer.js';
import { tenantStatement } from '../statements/statement-sources.js';
import { unscopedDocumentClient } from '../shared/tenant-credentials.js';
import { json, parse, tenantOr404, type AdminRoutes } from './admin-http.js';

/** The gateway's usage table, as the admin API's environment names it (GATEWAY_ENV.usageTable of lambdas/inference/lambda-deps.ts, not imported: it would bundle the gateway). */
export const USAGE_TABLE_ENV = 'TESSERA_USAGE_TABLE';

const UsageQuery = z.strictObject({ by: z.enum(['user', 'key', 'tag']).optional(), month: z.string().optional() });

let store: DynamoDbStore | undefined;
/** The gateway's store read with the platform's own credentials (the admin API's role: GetItem on the usage table). */
const usageStore = () => (store ??= new DynamoDbStore(requireEnv(ENV.registryTable), requireEnv(USAGE_TABLE_ENV), unscopedDocumentClient()));

/** US dollars rounded to nano-dollars, the unit the stores count in (model-usage.ts NANO). */
const usd = roundUsdToNano;
const periods = (u: UsageSummary) => ({ day: { ...u.day, costUsd: usd(u.day.costUsd) }, month: { ...u.month, costUsd: usd(u.month.costUsd) } });

/**
 * The admin API's tenant usage: `GET /admin/tenants/{id}/usage[?by=user|key|tag]`.
 * - without `by`: `{ tenantId, day: '2026-11-23', month: '2026-11', usage: { day: { tokens, costUsd, requests }, month: {…} } }`
 * - `by=user|key`: `{ tenantId, by, day, month, incomplete, subjects: [{ kind, id, day: {…}, month: {…} }] }`: each user or
 *   key that reserved this month, sorted by id (`incomplete`: some could not be listed, dynamodb-store.ts)
 * - `by=tag`: the tenant's `GET /v1/usage?group_by=tag` (lambdas/inference/endpoints/usage.ts) for the operator:
 *   `{ tenantId, by: 'tag', day, month, incomplete, unrecordedRequests, tagsLimit, subjects: [{ kind: 'tag', id, day, month }] }`,
 *   each request tag (`x-tessera-tags`) that settled requests with usage carried this month, sorted by tag; a request
 *   counts under each of its tags, one without under none; `unrecordedRequests`: requests of the month that carried a
 *   tag past the month's `tagsLimit` distinct tags (MAX_TAGS_PER_MONTH), `incomplete` when there are any
 *   (GatewayStore.tagUsage; one Query of the ledger index, as the admin role's ReadModelUsage grants)
 * - `month=YYYY-MM`: the tenant's statement of that month (lib/statements/schema.ts TenantStatement: gateway by model, day,
 *   user and key; fine-tuning GPU hours; infrastructure cost from Cost Explorer; the total; reconciliation flags)
 * Costs in US dollars rounded to nano-dollars (the statement's lines: to micro-dollars, its `rounding`); periods are UTC.
 * @throws ApiError 400 naming an unknown query parameter, a `by` that is neither user nor key, a month not YYYY-MM or in
 *   the future, a month that ended before the tenant was created (`invalid_month`, naming the tenant's first month:
 *   tenant-months.ts monthBeforeTenant), or `by` with `month` (the statement has both lists); 404 for an unknown tenant; 502
 *   `cost_explorer_unavailable` when Cost Explorer refuses or fails (its error named)
 */
export const usageRoutes: AdminRoutes = {
  'GET /admin/tenants/{id}/usage': { query: UsageQuery, idempotencyKey: 'no-op', handle: async (event, id) => {
    const q = parse(UsageQuery, event.queryStringParameters ?? {});
    if (q.month !== undefined) {
      const problem = monthProblem(q.month);
      if (problem) throw new ApiError(400, problem, 'invalid_request_error', 'invalid_month', 'month');
      if (q.by) throw new ApiError(400, q.by === 'tag'
        ? 'by = "tag": cannot be combined with month (usage by tag is this month\'s to date; the statement has no tags)'
        : `by = "${q.by}": cannot be combined with month (the statement lists users and keys itself)`, 'invalid_request_error', 'invalid_request', 'by');
    }
    const record = await tenantOr404(id!);
    const now = new Date();
    if (q.month !== undefined) {
      // A month that ended before the tenant existed has no statement (the monthly job skips it: reportable); it was answered with zeros.
      const before = monthBeforeTenant(record, q.month);
      if (before) throw new ApiError(400, before, 'invalid_request_error', 'invalid_month', 'month');
      try {
        return json(200, await tenantStatement(lambdaStatementSources(), record, q.month, now));
      } catch (e) {
        if (e instanceof CostExplorerError) throw new ApiError(502, `${e.message}; the statement needs the tenant's infrastructure cost`, 'api_error', 'cost_explorer_unavailable');
        throw e;
      }
    }
    const at = { tenantId: record.tenantId, day: now.toISOString().slice(0, 10), month: now.toISOString().slice(0, 7) };
    if (!q.by) return json(200, { ...at, usage: periods(await usageStore().usage(record.tenantId, now)) });
    if (q.by === 'tag') {
      const tagged = await usageStore().tagUsage(record.tenantId, now);
      return json(200, {
        ...at, by: 'tag', incomplete: tagged.unrecorded > 0, unrecordedRequests: tagged.unrecorded, tagsLimit: MAX_TAGS_PER_MONTH,
        subjects: tagged.tags.map((t) => ({ kind: 'tag', id: t.tag, ...periods(t) })),
      });
    }
    const listed = await usageStore().usageBy(record.tenantId, now, q.by);
    return json(200, { ...at, by: q.by, incomplete: listed.incomplete, subjects: listed.subjects.map((s) => ({ kind: s.kind, id: s.id, ...periods(s) })) });
  } },
};
