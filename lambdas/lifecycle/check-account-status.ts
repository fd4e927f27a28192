import { AccountCreationFailedError, AccountWaitTimedOutError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import type { AccountProgress } from './create-account.js';
import { ownAccountBehind, resolvePendingAccount, TRANSIENT_ACCOUNT_FAILURES } from './pending-account.js';
import type { LifecycleState } from './state.js';

/**
 * Polls the tenant's CreateAccount request (the state machine waits between polls, not this
 * Lambda). A transient failure clears the request and its claim for a new CreateAccount after a
 * pause (RETRY); any other failure (e.g. `EMAIL_ALREADY_EXISTS`) clears them too — no account
 * will come of it, and a retry with a corrected email must be able to ask again — and fails the
 * onboarding naming the reason. A request still in progress after ACCOUNT_REQUEST_WAIT_MS fails
 * the onboarding (AccountWaitTimedOut) naming the request and its state.
 */
/**
 * How long *Wait for account* polls one CreateAccount request (from when Organizations received it)
 * before the onboarding fails naming it: 4 hours (account creation takes minutes), inside the
 * onboarding's 2-day timeout and Step Functions' 25,000-event history (a 20 s poll is ~10 events).
 */
/**
 * CreateAccountStatus FailureReasons about the email (AWS Organizations API Reference, CreateAccountStatus): the failure
 * names the request's field, adminEmail, and the correction (before, it named the value only, not the field or the fix).
 */
const EMAIL_FAILURES = new Set(['EMAIL_ALREADY_EXISTS', 'INVALID_EMAIL']);

export const ACCOUNT_REQUEST_WAIT_MS = 4 * 3600 * 1000;

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
      // The email may be taken by this tenant's own account (a CreateAccount sent twice, however long
      // apart): adopt it, or wait for its request; never orphan it, never fail for it.
      const own = await ownAccountBehind(orgs, record, pending.requestId);
      if (own && 'accountId' in own) {
        await updateTenant(record.tenantId, { accountId: own.accountId, createAccountRequestId: undefined, createAccountClaim: undefined });
        return { state: 'SUCCEEDED', accountId: own.accountId };
      }
      if (own) {
        await updateTenant(record.tenantId, { createAccountRequestId: own.inProgress });
        return { state: 'IN_PROGRESS' };
      }
    }
    await updateTenant(record.tenantId, { createAccountRequestId: undefined, createAccountClaim: undefined });
    if (TRANSIENT_ACCOUNT_FAILURES.has(reason)) return { state: 'RETRY', reason };
    throw new AccountCreationFailedError(`Organizations could not create the account for tenant ${record.tenantId} (${record.adminEmail}): ${reason}${EMAIL_FAILURES.has(reason)
      ? `; the field at fault is adminEmail = ${JSON.stringify(record.adminEmail)}: run the onboarding again with another email (POST /admin/tenants/${record.tenantId}/retry {"adminEmail": "…"}, tessera tenants retry ${record.tenantId} --admin-email …)`
      : ''}`);
  }
  if (pending.state === 'CLAIMED') return { state: 'RETRY', reason: 'the claimed account request never reached Organizations' };
  if (pending.requestId && !record.createAccountRequestId) await updateTenant(record.tenantId, { createAccountRequestId: pending.requestId });
  const since = Date.parse(pending.requestedAt ?? record.createAccountClaim?.at ?? '');
  if (Number.isFinite(since) && Date.now() - since > ACCOUNT_REQUEST_WAIT_MS) {
    // The request stays recorded: Record failure, a retry or the offboarding resolve it.
    throw new AccountWaitTimedOutError(`CreateAccount request ${pending.requestId ?? '(not listed)'} for tenant ${record.tenantId} is still ${pending.state} `
      + `${Math.round((Date.now() - since) / 60_000)} minutes after it was made (limit ${ACCOUNT_REQUEST_WAIT_MS / 60_000})`);
  }
  return { state: 'IN_PROGRESS' };
});
