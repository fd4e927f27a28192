import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { enqueueClosure } from '../shared/control-table.js';
import { platformConfig } from '../shared/environment.js';
import { AccountCreationPendingError, isTransientError } from '../shared/errors.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { processClosureQueue } from './account-closure.js';
import { moveAccountTo, ouIdByName } from './organization-lookup.js';
import { ownAccountBehind, resolvePendingAccount } from './pending-account.js';
import type { LifecycleState } from './state.js';

/**
 * Account mode: moves the account to the Suspended OU and queues its closure under the quota.
 * A tenant without an account id whose CreateAccount request is still recorded (an onboarding
 * that failed while Organizations was creating the account) has it resolved first: an account
 * created meanwhile is recorded and retired like any other; one still being created is waited for
 * (AccountCreationPending, retried by the state machine), as is a claim younger than CLAIM_SETTLE_MS
 * that Organizations lists nothing for; a request that failed leaves nothing. An account found by
 * name and email in ListAccounts (its request no longer listed) is retired too.
 */
/**
 * How long after a CreateAccount claim an account request that Organizations does not list (nor
 * its account, in ListAccounts) is still waited for before the claim counts as never sent.
 */
export const CLAIM_SETTLE_MS = 15 * 60 * 1000;

export const handler = lifecycleHandler('Retire account', async (state: LifecycleState) => {
  let record = await requireTenant(state.request.tenantId);
  if (record.isolation !== 'account') return { retired: false };
  const orgs = await organizationsClient();
  if (!record.accountId) {
    let pending = await resolvePendingAccount(orgs, record);
    if (pending.state === 'FAILED' && pending.failureReason === 'EMAIL_ALREADY_EXISTS') {
      // Refused for the tenant's own email: its own account (an earlier request's) may stand behind it.
      const own = await ownAccountBehind(orgs, record, pending.requestId);
      if (own) pending = 'accountId' in own ? { state: 'SUCCEEDED', accountId: own.accountId, requestId: own.requestId } : { state: 'IN_PROGRESS', requestId: own.inProgress };
    }
    if (pending.state === 'IN_PROGRESS') {
      throw new AccountCreationPendingError(`tenant ${record.tenantId}: Organizations is still creating its account (request ${pending.requestId}); retiring it once it exists`);
    }
    const claimedAt = Date.parse(record.createAccountClaim?.at ?? '');
    if (pending.state === 'CLAIMED' && Number.isFinite(claimedAt) && Date.now() - claimedAt < CLAIM_SETTLE_MS) {
      // A claim whose request Organizations lists nothing for yet, nor an account: CreateAccount may
      // have reached it moments ago. Waited for (retried), so no account is left standing unrecorded.
      throw new AccountCreationPendingError(`tenant ${record.tenantId}: CreateAccount was claimed at ${record.createAccountClaim!.at} and Organizations lists no request or account for it yet; looking again`);
    }
    if (pending.state !== 'SUCCEEDED' || !pending.accountId) {
      if (record.createAccountRequestId || record.createAccountClaim) await updateTenant(record.tenantId, { createAccountRequestId: undefined, createAccountClaim: undefined });
      return { retired: false, accountRequest: pending.state, ...(pending.requestId ? { requestId: pending.requestId } : {}) };
    }
    record = await updateTenant(record.tenantId, { accountId: pending.accountId, createAccountRequestId: undefined, createAccountClaim: undefined });
  }
  const accountId = record.accountId!;
  const suspended = await ouIdByName(orgs, platformConfig().organization.suspendedOuName);
  // A MoveAccount whose answer was lost and that the SDK sent again (DuplicateAccountException) finds the account moved.
  await moveAccountTo(orgs, accountId, suspended);
  // The tenant's record says the closure is queued (the queue's runs then record CLOSED, or an error): without it a closure
  // waiting for Organizations' quota showed nothing on the tenant. Written before the entry is queued: a queue run (the
  // daily job, another tenant's Retire account) may close the account as soon as it is, and its CLOSED must not be
  // written over. A re-run keeps what the queue recorded since.
  if (record.accountClosure?.accountId !== accountId) {
    record = await updateTenant(record.tenantId, { accountClosure: { accountId, state: 'QUEUED', at: new Date().toISOString() } });
  }
  await enqueueClosure(accountId, record.tenantId);
  await emitLifecycleEvent(LIFECYCLE_EVENTS.accountClosureQueued, { tenantId: record.tenantId, accountId });
  // The queue's entries fail one by one (recorded on their tenants): never this step. Nor does the run itself, once this
  // tenant's work is done (the account in Suspended, its closure queued): a run that fails as a whole (ListAccounts for the
  // quota refused, say) is the daily job's to do again, and it failed this offboarding, which stayed OFFBOARDING, though
  // nothing of it was left to do. A transient failure is still thrown, for the state machine's retry.
  let queue: Awaited<ReturnType<typeof processClosureQueue>>;
  try {
    queue = await processClosureQueue(orgs);
  } catch (e) {
    if (isTransientError(e)) throw e;
    const closureRun = `${(e as Error).name}: ${(e as Error).message}`;
    logger.error('the closure queue run failed; the closure stays queued for the daily run', { accountId, error: e as Error });
    return { retired: true, accountId, closedNow: false, closureRun };
  }
  const closureError = queue.failed.find((f) => f.accountId === accountId)?.error;
  return { retired: true, accountId, closedNow: queue.closed.includes(accountId), quota: queue.quota, ...(closureError ? { closureError } : {}) };
});
