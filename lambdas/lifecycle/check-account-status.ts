import { AccountCreationFailedError, AccountWaitTimedOutError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import type { AccountProgress } from './create-account.js';
import { carried, ownAccountBehind, resolvePendingAccount, rootEmailOf, TRANSIENT_ACCOUNT_FAILURES } from './pending-account.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import type { LifecycleState } from './state.js';

/**
 * Polls the tenant's CreateAccount request (the state machine waits between polls, not this
 * Lambda). A transient failure clears the request and its claim for a new CreateAccount after a
 * pause (RETRY), at most MAX_TRANSIENT_ACCOUNT_FAILURES times in a row (then the onboarding fails naming each); any other failure (e.g. `EMAIL_ALREADY_EXISTS`) clears them too — no account
 * will come of it, and a retry with a corrected email must be able to ask again — and fails the
 * onboarding naming the reason. A request still in progress after ACCOUNT_REQUEST_WAIT_MS fails
 * the onboarding (AccountWaitTimedOut) naming the request and its state.
 */
/**
 * CreateAccountStatus FailureReasons about the email (AWS Organizations API Reference, CreateAccountStatus): the failure
 * names the address, where it came from and the correction (accountFailureAdvice).
 */
const EMAIL_FAILURES = new Set(['EMAIL_ALREADY_EXISTS', 'INVALID_EMAIL']);

/**
 * What to do about a terminal CreateAccount failure, for the registry's failure reason ('' when Tessera has nothing to
 * add to the reason):
 * - `ACCOUNT_LIMIT_EXCEEDED` (the organization holds as many accounts as its quota allows): raise the Organizations
 *   quota (Service Quotas, us-east-1, from the management account), remembering that a closed account keeps counting
 *   while SUSPENDED, until it is closed for good 90 days after CloseAccount (AWS Organizations User Guide, "Quotas for
 *   AWS Organizations"; AWS Account Management Reference Guide, "Post-closure period");
 * - an email failure: the address at fault and its source, `organization.accountEmail` for an account requested with
 *   the platform's address, else (a request made before that key existed) the tenant's `adminEmail`.
 */
export function accountFailureAdvice(reason: string, record: TenantRecord): string {
  const retry = `tessera tenants retry ${record.tenantId}`;
  if (reason === 'ACCOUNT_LIMIT_EXCEEDED') {
    return `; the organization has reached its quota of accounts (AWS Organizations "Default maximum number of accounts", 10 by default; `
      + 'accounts closed by offboardings keep counting while SUSPENDED, until 90 days after their closure): '
      + 'request an increase in Service Quotas from the management account (Region us-east-1, service organizations), '
      + `check the count and the limit with tessera doctor, and ${retry} once it is raised`;
  }
  if (!EMAIL_FAILURES.has(reason)) return '';
  if (record.accountEmail !== undefined) {
    const why = reason === 'EMAIL_ALREADY_EXISTS' ? 'is already the root email of another AWS account' : 'is not an address Organizations accepts';
    return `; the account's root email ${JSON.stringify(record.accountEmail)} (organization.accountEmail with the tenant id) ${why}: `
      + `set organization.accountEmail to a template that gives a free, deliverable address of the platform's, deploy, and ${retry}`;
  }
  return `; the field at fault is adminEmail = ${JSON.stringify(record.adminEmail)}: run the onboarding again with another email (POST /admin/tenants/${record.tenantId}/retry {"adminEmail": "…"}, ${retry} --admin-email …)`;
}

/**
 * How long *Wait for account* polls one CreateAccount request (from when Organizations received it)
 * before the onboarding fails naming it: 4 hours (account creation takes minutes), inside the
 * onboarding's 2-day timeout and Step Functions' 25,000-event history (a 20 s poll is ~10 events).
 */
export const ACCOUNT_REQUEST_WAIT_MS = 4 * 3600 * 1000;

/**
 * How many account requests of one execution may fail for a transient reason (CONCURRENT_ACCOUNT_MODIFICATION,
 * INTERNAL_FAILURE: "try again later", AWS Organizations API Reference, CreateAccountStatus) or leave nothing to poll,
 * each asked again after *Wait before retrying account* (60 s), before the onboarding fails naming them: 10, about 15 to
 * 30 minutes of retries. Before, the loop had no bound of its own: an organization whose requests kept failing made a new
 * CreateAccount every minute or two until the onboarding's 2-day timeout (~2,000 requests, near Step Functions' 25,000
 * history events), and the timeout's failure named the state it stopped in, not the FailureReason.
 */
export const MAX_TRANSIENT_ACCOUNT_FAILURES = 10;

export const handler = lifecycleHandler('Check account', async (state: LifecycleState & { account?: AccountProgress }): Promise<AccountProgress> => {
  const record = await requireTenant(state.request.tenantId);
  if (record.accountId) return { state: 'SUCCEEDED', accountId: record.accountId };
  const previous = state.account?.transientFailures ?? [];
  /** A new request after this one (RETRY), or, past the bound, the onboarding's failure naming each. */
  const retry = (reason: string, requestId?: string): AccountProgress => {
    const transientFailures = [...previous, { ...(requestId ? { requestId } : {}), reason, at: new Date().toISOString() }];
    if (transientFailures.length >= MAX_TRANSIENT_ACCOUNT_FAILURES) {
      const each = transientFailures.map((f) => `${f.requestId ?? '(no request)'} ${f.reason} at ${f.at}`).join('; ');
      throw new AccountCreationFailedError(`Organizations could not create the account for tenant ${record.tenantId} (${rootEmailOf(record)}): `
        + `${transientFailures.length} account requests in a row failed for a transient reason, the last ${reason} (${each}); `
        + `Organizations says to try again later, and to contact AWS Support if it persists: tessera tenants retry ${record.tenantId} once it does`);
    }
    return { state: 'RETRY', reason, transientFailures };
  };
  if (!record.createAccountRequestId && !record.createAccountClaim) return retry('no account request recorded');
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
        return { state: 'IN_PROGRESS', ...carried(state.account) };
      }
    }
    await updateTenant(record.tenantId, { createAccountRequestId: undefined, createAccountClaim: undefined });
    if (TRANSIENT_ACCOUNT_FAILURES.has(reason)) return retry(reason, pending.requestId);
    throw new AccountCreationFailedError(`Organizations could not create the account for tenant ${record.tenantId} (${rootEmailOf(record)}): ${reason}${accountFailureAdvice(reason, record)}`);
  }
  if (pending.state === 'CLAIMED') return retry('the claimed account request never reached Organizations');
  if (pending.requestId && !record.createAccountRequestId) await updateTenant(record.tenantId, { createAccountRequestId: pending.requestId });
  const since = Date.parse(pending.requestedAt ?? record.createAccountClaim?.at ?? '');
  if (Number.isFinite(since) && Date.now() - since > ACCOUNT_REQUEST_WAIT_MS) {
    // The request stays recorded: Record failure, a retry or the offboarding resolve it.
    throw new AccountWaitTimedOutError(`CreateAccount request ${pending.requestId ?? '(not listed)'} for tenant ${record.tenantId} is still ${pending.state} `
      + `${Math.round((Date.now() - since) / 60_000)} minutes after it was made (limit ${ACCOUNT_REQUEST_WAIT_MS / 60_000})`);
  }
  return { state: 'IN_PROGRESS', ...carried(state.account) };
});
