import { ListParentsCommand, MoveAccountCommand } from '@aws-sdk/client-organizations';
import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { enqueueClosure } from '../shared/control-table.js';
import { platformConfig } from '../shared/environment.js';
import { AccountCreationPendingError } from '../shared/errors.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { processClosureQueue } from './account-closure.js';
import { ouIdByName } from './organization-lookup.js';
import { resolvePendingAccount } from './pending-account.js';
import type { LifecycleState } from './state.js';

/**
 * Account mode: moves the account to the Suspended OU and queues its closure under the quota.
 * A tenant without an account id whose CreateAccount request is still recorded (an onboarding
 * that failed while Organizations was creating the account) has it resolved first: an account
 * created meanwhile is recorded and retired like any other; one still being created is waited for
 * (AccountCreationPending, retried by the state machine); a request that failed leaves nothing.
 */
export const handler = lifecycleHandler('Retire account', async (state: LifecycleState) => {
  let record = await requireTenant(state.request.tenantId);
  if (record.isolation !== 'account') return { retired: false };
  const orgs = await organizationsClient();
  if (!record.accountId) {
    const pending = await resolvePendingAccount(orgs, record);
    if (pending.state === 'IN_PROGRESS') {
      throw new AccountCreationPendingError(`tenant ${record.tenantId}: Organizations is still creating its account (request ${pending.requestId}); retiring it once it exists`);
    }
    if (pending.state !== 'SUCCEEDED' || !pending.accountId) {
      if (record.createAccountRequestId || record.createAccountClaim) await updateTenant(record.tenantId, { createAccountRequestId: undefined, createAccountClaim: undefined });
      return { retired: false, accountRequest: pending.state };
    }
    record = await updateTenant(record.tenantId, { accountId: pending.accountId, createAccountRequestId: undefined, createAccountClaim: undefined });
  }
  const accountId = record.accountId!;
  const suspended = await ouIdByName(orgs, platformConfig().organization.suspendedOuName);
  const parents = await orgs.send(new ListParentsCommand({ ChildId: accountId }));
  const source = parents.Parents?.[0]?.Id;
  if (source && source !== suspended) {
    await orgs.send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: source, DestinationParentId: suspended }));
  }
  await enqueueClosure(accountId, record.tenantId);
  await emitLifecycleEvent(LIFECYCLE_EVENTS.accountClosureQueued, { tenantId: record.tenantId, accountId });
  // The queue's entries fail one by one (recorded on their tenants): never this step.
  const queue = await processClosureQueue(orgs);
  const closureError = queue.failed.find((f) => f.accountId === accountId)?.error;
  return { retired: true, accountId, closedNow: queue.closed.includes(accountId), quota: queue.quota, ...(closureError ? { closureError } : {}) };
});
