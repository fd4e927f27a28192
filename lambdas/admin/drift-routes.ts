import { z } from 'zod';
import { TENANT_PAGE_BYTES, TENANT_PAGE_LIMIT, type DriftPage, type DriftRow } from '../../lib/tenant-list-page.js';
import { DriftRecord, TenantStatus } from '../../lib/tenant-record.js';
import { listProjectedPage, type TenantProjection } from '../shared/registry.js';
import { json, parse, tenantOr404, type Route } from './admin-http.js';
import { decodeNextToken, encodeNextToken, PageQuery, type ListFilter } from './list-paging.js';

export type { DriftRow } from '../../lib/tenant-list-page.js';

const DriftQuery = z.strictObject({ status: z.enum(['IN_SYNC', 'DRIFTED', 'UNKNOWN', 'NOT_CHECKED']).optional(), ...PageQuery });

/** The attributes of a record a drift row is made of: `drift.resources` only counted (its items not parsed). */
const DriftSource = z.object({
  tenantId: z.string(),
  tier: z.string(),
  status: TenantStatus,
  drift: DriftRecord.pick({ status: true, checkedAt: true, truncated: true, failedCheck: true }).extend({ resources: z.array(z.unknown()).default([]) }).optional(),
});
type DriftSource = z.infer<typeof DriftSource>;

/**
 * What `GET /admin/drift` reads of each record: the DriftSource attributes, not the whole record
 * (executions, gateway policy, stack outputs, drift's stacks…). `status` is a DynamoDB reserved
 * word, so every name goes through ExpressionAttributeNames.
 */
export const DRIFT_ROW_PROJECTION: TenantProjection<DriftSource> = {
  expression: '#id, #tier, #s, #d.#s, #d.#at, #d.#res, #d.#more, #d.#fail',
  names: { '#id': 'tenantId', '#tier': 'tier', '#s': 'status', '#d': 'drift', '#at': 'checkedAt', '#res': 'resources', '#more': 'truncated', '#fail': 'failedCheck' },
  parse: (item) => DriftSource.parse(item),
};

/** A drift row of a projected record: `driftedResources` the recorded resources and the `truncated` ones. */
export const driftRow = (t: DriftSource): DriftRow => ({
  tenantId: t.tenantId, tier: t.tier, status: t.status, drift: t.drift?.status ?? 'NOT_CHECKED',
  ...(t.drift ? { checkedAt: t.drift.checkedAt } : {}),
  driftedResources: (t.drift?.resources.length ?? 0) + (t.drift?.truncated ?? 0),
  ...(t.drift?.failedCheck ? { failedCheck: t.drift.failedCheck } : {}),
});

/** A row's bytes in the Lambda answer: its JSON, escaped once more inside the proxy integration's string body, and a comma. */
const answerBytes = (row: DriftRow): number => Buffer.byteLength(JSON.stringify(JSON.stringify(row))) - 1;

/**
 * The admin API's drift answers (recorded by the daily drift workflow, lambdas/lifecycle/check-drift.ts):
 * - `GET /admin/drift[?status=DRIFTED|IN_SYNC|UNKNOWN|NOT_CHECKED][&limit=N][&nextToken=X]`: one page
 *   (DriftPage: `{ tenants: DriftRow[], nextToken? }`) of the tenants that are not OFFBOARDED, in
 *   DynamoDB Scan order (not sorted by id: the CLI sorts the whole list); a tenant whose latest
 *   check failed is listed under the status of its last check that ran (with `failedCheck`). A
 *   page reads `limit` records (default 100, at most 1,000: TENANT_PAGE_LIMIT), only the attributes
 *   of a row (DRIFT_ROW_PROJECTION), and leaves out the OFFBOARDED ones and those of another drift
 *   status: it may hold fewer rows, even none, and still have a `nextToken`; only its absence means
 *   the end. `nextToken` continues the same list (the same `status`; `limit` may change). A row is
 *   some 130-170 bytes (test/bench/tenant-list-size.ts), up to some 7 KB with a failedCheck error of
 *   1,000 escaped characters, so a page is also cut at 4 MiB of rows (TENANT_PAGE_BYTES, each record
 *   read weighed as its row), under Lambda's 6 MB answer;
 * - `GET /admin/tenants/{id}/drift`: `{ tenantId, status, drift?: DriftRecord }` (no `drift`: never checked).
 * @throws ApiError 400 naming an unknown query parameter or status, a `limit` out of 1-1,000 or a
 *   `nextToken` that is not one of this list's (nothing is read); 404 for an unknown tenant
 */
export const driftRoutes: Record<string, Route> = {
  'GET /admin/drift': async (event) => {
    const q = parse(DriftQuery, event.queryStringParameters ?? {});
    const filter: ListFilter = q.status ? { drift: q.status } : {};
    const after = q.nextToken === undefined ? undefined : decodeNextToken(q.nextToken, filter);
    // The whole registry's Scan: OFFBOARDED and the drift status are left out here, after `limit`
    // records were read (as a FilterExpression would, after DynamoDB's Limit), not read on until full.
    const page = await listProjectedPage({}, { limit: q.limit ?? TENANT_PAGE_LIMIT.default, after, maxBytes: TENANT_PAGE_BYTES, sizeOf: (t) => answerBytes(driftRow(t)) }, DRIFT_ROW_PROJECTION);
    const rows = page.tenants.filter((t) => t.status !== 'OFFBOARDED').map(driftRow).filter((r) => !q.status || r.drift === q.status);
    const answer: DriftPage = { tenants: rows, ...(page.after ? { nextToken: encodeNextToken(page.after, filter) } : {}) };
    return json(200, answer);
  },
  'GET /admin/tenants/{id}/drift': async (_event, id) => {
    const record = await tenantOr404(id!);
    return json(200, { tenantId: record.tenantId, status: record.status, ...(record.drift ? { drift: record.drift } : {}) });
  },
};
