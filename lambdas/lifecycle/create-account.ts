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
  /**
   * The account requests of this execution that failed for a transient reason (TRANSIENT_ACCOUNT_FAILURES) and were asked
   * again, oldest first: carried from *Check account* through *Create account* and back (the state machine's `$.account`),
   * so the retries are bounded (MAX_TRANSIENT_ACCOUNT_FAILURES, check-account-status.ts) and the failure names them.
   */
  transientFailures?: TransientAccountFailure[];
}

/** One CreateAccount request that Organizations failed for a transient reason. */
export interface TransientAccountFailure {
  /** CreateAccountStatus `Id`, when known. */
  requestId?: string;
  /** Its FailureReason (`CONCURRENT_ACCOUNT_MODIFICATION`, `INTERNAL_FAILURE`), or why *Check account* asked for a new request. */
  reason: string;
  /** ISO time *Check account* read it. */
  at: string;
}

/** `$.account`'s transient failures, carried on in a step's answer (none: nothing). */
export const carried = (previous?: AccountProgress): Pick<AccountProgress, 'transientFailures'> => (previous?.transientFailures?.length ? { transientFailures: previous.transientFailures } : {});

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
export const handler = lifecycleHandler('Create account', async (state: LifecycleState & { account?: AccountProgress }): Promise<AccountProgress> => {
  let record = await requireTenant(state.request.tenantId);
  if (record.accountId) return { state: 'SUCCEEDED', accountId: record.accountId };
  const inProgress: AccountProgress = { state: 'IN_PROGRESS', ...carried(state.account) };
  if (record.createAccountRequestId) return inProgress;
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
      return inProgress;
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
    if ((e as Error).name === 'RegistryContention') return inProgress;
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
  return inProgress;
});
