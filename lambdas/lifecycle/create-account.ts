import { CreateAccountCommand } from '@aws-sdk/client-organizations';
import { platformConfig } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import type { LifecycleState } from './state.js';

export interface AccountProgress {
  state: 'IN_PROGRESS' | 'SUCCEEDED' | 'RETRY';
  accountId?: string;
  reason?: string;
}

/** Asks Organizations for the tenant's account, once: a resumed run picks up the recorded request. */
export const handler = lifecycleHandler('Create account', async (state: LifecycleState): Promise<AccountProgress> => {
  const record = await requireTenant(state.request.tenantId);
  if (record.accountId) return { state: 'SUCCEEDED', accountId: record.accountId };
  if (record.createAccountRequestId) return { state: 'IN_PROGRESS' };
  const orgs = await organizationsClient();
  const out = await orgs.send(new CreateAccountCommand({
    Email: record.adminEmail,
    AccountName: `tessera-${record.tenantId}`,
    RoleName: platformConfig().roles.provisioningRoleName,
    IamUserAccessToBilling: 'DENY',
    Tags: [{ Key: 'tessera:tenant-id', Value: record.tenantId }, { Key: 'tessera:tier', Value: record.tier }],
  }));
  const requestId = out.CreateAccountStatus?.Id;
  if (!requestId) throw new Error(`CreateAccount for tenant ${record.tenantId} returned no request id`);
  await updateTenant(record.tenantId, { createAccountRequestId: requestId });
  return { state: 'IN_PROGRESS' };
});
