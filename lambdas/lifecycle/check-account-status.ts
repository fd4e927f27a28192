import { AccountCreationFailedError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import type { AccountProgress } from './create-account.js';
import { findClaimedRequest, resolvePendingAccount, TRANSIENT_ACCOUNT_FAILURES } from './pending-account.js';
import type { LifecycleState } from './state.js';

/**
 * Polls the tenant's CreateAccount request (the state machine waits between polls, not this
 * Lambda). A transient failure clears the request and its claim for a new CreateAccount after a
 * pause (RETRY); any other failure (e.g. `EMAIL_ALREADY_EXISTS`) clears them too — no account
 * will come of it, and a retry with a corrected email must be able to ask again — and fails the
 * onboarding naming the reason.
 */
export const handler = lifecycleHandler('Check account', async (state: LifecycleState): Promise<AccountProgress> => {
  const record = await requireTenant(state.request.tenantId);
  if (record.accountId) return { state: 'SUCCEEDED', accountId: record.accountId };
  if (!record.createAccountRequestId && !record.createAccountClaim) return { state: 'RETRY', reason: 'no account request recorded' };
  const orgs = await organizationsClient();
  const pending = await resolvePendingAccount(orgs, record);
  if (pending.state === 'SUCCEEDED' && pending.accountId) {
    await updateTenant(record.tenantId, { accountId: pending.accountId, createAccountRequestId: undefined, createAccountClaim: undefined });
    return { state: 'SUCCEEDED', accountId: pending.accountId };
  }
  if (pending.state === 'FAILED') {
    const reason = pending.failureReason ?? 'UNKNOWN';
    if (reason === 'EMAIL_ALREADY_EXISTS') {
      // The email may be taken by this tenant's own account (a CreateAccount sent twice): adopt it, never orphan it.
      const own = await findClaimedRequest(orgs, record, { state: 'SUCCEEDED', except: pending.requestId });
      if (own?.AccountId) {
        await updateTenant(record.tenantId, { accountId: own.AccountId, createAccountRequestId: undefined, createAccountClaim: undefined });
        return { state: 'SUCCEEDED', accountId: own.AccountId };
      }
    }
    await updateTenant(record.tenantId, { createAccountRequestId: undefined, createAccountClaim: undefined });
    if (TRANSIENT_ACCOUNT_FAILURES.has(reason)) return { state: 'RETRY', reason };
    throw new AccountCreationFailedError(`Organizations could not create the account for tenant ${record.tenantId} (${record.adminEmail}): ${reason}`);
  }
  if (pending.state === 'CLAIMED') return { state: 'RETRY', reason: 'the claimed account request never reached Organizations' };
  if (pending.requestId && !record.createAccountRequestId) await updateTenant(record.tenantId, { createAccountRequestId: pending.requestId });
  return { state: 'IN_PROGRESS' };
});
