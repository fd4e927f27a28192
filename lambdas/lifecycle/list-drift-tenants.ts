import { lifecycleHandler } from '../shared/handler.js';
import { listTenants } from '../shared/registry.js';

/**
 * The drift workflow's work list: every ACTIVE tenant, by id only (about 40 bytes each in the
 * state, so some 6,000 tenants stay below Step Functions' 256 KiB payload limit), and where the
 * Distributed Map writes its results: `drift/<execution name>/results` in the lifecycle work bucket.
 */
export const handler = lifecycleHandler('List drift tenants', async (input: { executionName?: string }): Promise<{ tenants: Array<{ tenantId: string }>; count: number; resultsPrefix: string }> => {
  const tenants = (await listTenants({ status: 'ACTIVE' })).map((t) => ({ tenantId: t.tenantId }));
  const run = (input.executionName ?? new Date().toISOString()).replace(/[^A-Za-z0-9_-]/g, '_');
  return { tenants, count: tenants.length, resultsPrefix: `drift/${run}/results` };
}, { trackStep: false });
