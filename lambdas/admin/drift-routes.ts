import { z } from 'zod';
import type { DriftRecord } from '../../lib/tenant-record.js';
import { listTenants } from '../shared/registry.js';
import { json, parse, tenantOr404, type Route } from './admin-http.js';

const DriftQuery = z.strictObject({ status: z.enum(['IN_SYNC', 'DRIFTED', 'UNKNOWN', 'NOT_CHECKED']).optional() });

/** One tenant's row in `GET /admin/drift`. */
export interface DriftRow {
  tenantId: string;
  tier: string;
  status: string;
  /** DriftRecord.status, or `NOT_CHECKED` before the first drift run reached the tenant. */
  drift: DriftRecord['status'] | 'NOT_CHECKED';
  checkedAt?: string;
  driftedResources: number;
  /** The latest check failed after `checkedAt` (DriftRecord.failedCheck): `drift`, `checkedAt` and the resources are the check before it. */
  failedCheck?: { at: string; error: string };
}

/**
 * The admin API's drift answers (recorded by the daily drift workflow, lambdas/lifecycle/check-drift.ts):
 * - `GET /admin/drift[?status=DRIFTED|IN_SYNC|UNKNOWN|NOT_CHECKED]`: `{ tenants: DriftRow[] }`, every
 *   tenant that is not OFFBOARDED, sorted by id; a tenant whose latest check failed is listed under the
 *   status of its last check that ran (with `failedCheck`);
 * - `GET /admin/tenants/{id}/drift`: `{ tenantId, status, drift?: DriftRecord }` (no `drift`: never checked).
 * @throws ApiError 400 naming an unknown query parameter or status; 404 for an unknown tenant
 */
export const driftRoutes: Record<string, Route> = {
  'GET /admin/drift': async (event) => {
    const q = parse(DriftQuery, event.queryStringParameters ?? {});
    const rows: DriftRow[] = (await listTenants())
      .filter((t) => t.status !== 'OFFBOARDED')
      .map((t): DriftRow => ({
        tenantId: t.tenantId, tier: t.tier, status: t.status, drift: t.drift?.status ?? 'NOT_CHECKED',
        ...(t.drift ? { checkedAt: t.drift.checkedAt } : {}),
        driftedResources: (t.drift?.resources.length ?? 0) + (t.drift?.truncated ?? 0),
        ...(t.drift?.failedCheck ? { failedCheck: t.drift.failedCheck } : {}),
      }))
      .filter((r) => !q.status || r.drift === q.status);
    return json(200, { tenants: rows });
  },
  'GET /admin/tenants/{id}/drift': async (_event, id) => {
    const record = await tenantOr404(id!);
    return json(200, { tenantId: record.tenantId, status: record.status, ...(record.drift ? { drift: record.drift } : {}) });
  },
};
