import { CreateAccountCommand } from '@aws-sdk/client-organizations';
import { tenantAccountEmail } from '../../lib/tenant-account-email.js';
import { platformConfig } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { resolvePendingAccount, tenantAccountName } from './pending-account.js';
import type { LifecycleState } from './state.js';

export interface AccountProgress {
  state: 'IN_PROGRESS' | 'SUCCEEDED' | 'RETRY';
  accountId?: string;
  reason?: string;
}

/**
 * Asks Organizations for the tenant's account, once. The call is claimed first by a conditional
 * write (`createAccountClaim`, only when the record has no account, request or claim), so a
 * retried or concurrent invocation never makes a second CreateAccount — Organizations would
 * refuse the second one's email anyway, failing the onboarding. A claim left without a request id
 * (the invocation died between the claim and the registry write) is resolved through
 * ListCreateAccountStatus by account name before anyone calls again.
 *
 * The account's root email is the platform's (`organization.accountEmail` with the tenant id, recorded on the claim as
 * `accountEmail`), never the tenant admin's: whoever receives the root email can reset the root password of an account
 * in the platform's organization. The admin gets their Identity Center or Cognito user as before.
 * @throws Error naming organization.accountEmail when the config has none (the schema requires it for account tiers)
 */
export const handler = lifecycleHandler('Create account', async (state: LifecycleState): Promise<AccountProgress> => {
  let record = await requireTenant(state.request.tenantId);
  if (record.accountId) return { state: 'SUCCEEDED', accountId: record.accountId };
  if (record.createAccountRequestId) return { state: 'IN_PROGRESS' };
  const orgs = await organizationsClient();
  if (record.createAccountClaim) {
    const pending = await resolvePendingAccount(orgs, record);
    if (pending.state === 'SUCCEEDED' && pending.accountId && !pending.requestId) {
      // No request listed, but the tenant's account stands (found by name and email): adopt it.
      await updateTenant(record.tenantId, { accountId: pending.accountId, createAccountRequestId: undefined, createAccountClaim: undefined });
      return { state: 'SUCCEEDED', accountId: pending.accountId };
    }
    if (pending.requestId) {
      await updateTenant(record.tenantId, { createAccountRequestId: pending.requestId });
      return { state: 'IN_PROGRESS' };
    }
    // A claim Organizations has no request for: the earlier call never reached it. Claim anew.
  }
  const template = platformConfig().organization.accountEmail;
  if (template === undefined) {
    throw new Error(`organization.accountEmail is not set: tenant ${record.tenantId}'s account needs a root email of the platform's (a template with {tenantId}); set it in the config and deploy`);
  }
  const accountEmail = tenantAccountEmail(template, record.tenantId);
  try {
    record = await updateTenant(record.tenantId, { createAccountClaim: { at: new Date().toISOString(), executionArn: state.executionArn }, accountEmail }, {
      expectUpdatedAt: record.updatedAt,
    });
  } catch (e) {
    // Another invocation claimed the account request at the same moment: it makes the call, this one polls.
    if ((e as Error).name === 'RegistryContention') return { state: 'IN_PROGRESS' };
    throw e;
  }
  // One attempt only: CreateAccount is not idempotent, and an SDK retry after a timeout would ask
  // for a second account (refused for its email, and recorded instead of the first). A failed call
  // leaves the claim, which the next attempt resolves through ListCreateAccountStatus.
  const out = await (await organizationsClient({ maxAttempts: 1 })).send(new CreateAccountCommand({
    Email: accountEmail,
    AccountName: tenantAccountName(record.tenantId),
    RoleName: platformConfig().roles.provisioningRoleName,
    IamUserAccessToBilling: 'DENY',
    Tags: [{ Key: 'tessera:tenant-id', Value: record.tenantId }, { Key: 'tessera:tier', Value: record.tier }],
  }));
  const requestId = out.CreateAccountStatus?.Id;
  if (!requestId) throw new Error(`CreateAccount for tenant ${record.tenantId} returned no request id`);
  await updateTenant(record.tenantId, { createAccountRequestId: requestId });
  return { state: 'IN_PROGRESS' };
});
