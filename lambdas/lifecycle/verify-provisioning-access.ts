import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import type { LifecycleState } from './state.js';

/** Assumes the provisioning role in the tenant's account (retried while a new account's role settles). */
export const handler = lifecycleHandler('Verify provisioning access', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  await tenantAccountCredentials(record.accountId!, record.tenantId, 'verify', { fresh: true });
  return { accountId: record.accountId };
});
