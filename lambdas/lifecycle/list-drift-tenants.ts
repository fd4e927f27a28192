import { TenantId } from '../../lib/tenant-record.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, listTenants } from '../shared/registry.js';
import { unreadableTenantText } from '../../lib/tenant-list-page.js';

/**
 * What the drift workflow's execution input may ask (`$$.Execution.Input`): `{}` (the daily schedule: every ACTIVE tenant),
 * or `{ tenantId }` (POST /admin/drift with a tenant, `tessera tenants drift --detect <id>`: that tenant only).
 */
export interface DriftRunRequest { tenantId?: string }

/**
 * The drift workflow's work list: every ACTIVE tenant (a record that does not match the schema, edited by hand, is left
 * out and named in `unreadable` with each field and value at fault), or the one the execution input names (when it is ACTIVE: a tenant
 * suspended or changed between the admin API's check and this step is left out, said in `skipped`), by id only (about
 * 40 bytes each in the state, so some 6,000 tenants stay below Step Functions' 256 KiB payload limit), and where the
 * Distributed Map writes its results: `drift/<execution name>/results` in the lifecycle work bucket.
 */
export const handler = lifecycleHandler('List drift tenants', async (input: { executionName?: string; request?: DriftRunRequest | null }): Promise<{ tenants: Array<{ tenantId: string }>; count: number; resultsPrefix: string; skipped?: string; unreadable?: string[] }> => {
  const run = (input.executionName ?? new Date().toISOString()).replace(/[^A-Za-z0-9_-]/g, '_');
  const resultsPrefix = `drift/${run}/results`;
  const asked = input.request?.tenantId;
  if (asked === undefined) {
    // A record edited by hand into a shape the schema refuses is not checked, and named: the others are.
    const unreadable: string[] = [];
    const tenants = (await listTenants({ status: 'ACTIVE' }, {
      unreadable: (u) => unreadable.push(`${unreadableTenantText(u)}: not checked; correct the record`),
    })).map((t) => ({ tenantId: t.tenantId }));
    return { tenants, count: tenants.length, resultsPrefix, ...(unreadable.length ? { unreadable } : {}) };
  }
  const tenantId = TenantId.parse(asked);
  const record = await getTenant(tenantId);
  if (record?.status !== 'ACTIVE') {
    const skipped = `tenant "${tenantId}" is ${record ? record.status : 'not in the registry'}: drift is checked on ACTIVE tenants only`;
    logger.warn(skipped, { tenantId });
    return { tenants: [], count: 0, resultsPrefix, skipped };
  }
  return { tenants: [{ tenantId }], count: 1, resultsPrefix };
}, { trackStep: false });
