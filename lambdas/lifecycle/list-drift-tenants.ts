import { lifecycleHandler } from '../shared/handler.js';
import { listTenants } from '../shared/registry.js';

/**
 * The drift workflow's work list: every ACTIVE tenant, by id only (about 40 bytes each in the
 * state, so some 6,000 tenants stay below Step Functions' 256 KiB payload limit).
 */
export const handler = lifecycleHandler('List drift tenants', async (): Promise<{ tenants: Array<{ tenantId: string }>; count: number }> => {
  const tenants = (await listTenants({ status: 'ACTIVE' })).map((t) => ({ tenantId: t.tenantId }));
  return { tenants, count: tenants.length };
}, { trackStep: false });
