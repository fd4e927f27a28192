import { DescribeCreateAccountStatusCommand } from '@aws-sdk/client-organizations';
import { AccountCreationFailedError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import type { AccountProgress } from './create-account.js';
import type { LifecycleState } from './state.js';

/** Failure reasons worth a new CreateAccount after a pause; every other reason is terminal. */
const TRANSIENT_REASONS = new Set(['CONCURRENT_ACCOUNT_MODIFICATION', 'INTERNAL_FAILURE']);

/** Polls DescribeCreateAccountStatus (the state machine waits between polls, not this Lambda). */
export const handler = lifecycleHandler('Check account', async (state: LifecycleState): Promise<AccountProgress> => {
  const record = await requireTenant(state.request.tenantId);
  if (record.accountId) return { state: 'SUCCEEDED', accountId: record.accountId };
  if (!record.createAccountRequestId) return { state: 'RETRY', reason: 'no account request recorded' };
  const orgs = await organizationsClient();
  const out = await orgs.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: record.createAccountRequestId }));
  const status = out.CreateAccountStatus;
  if (status?.State === 'SUCCEEDED' && status.AccountId) {
    await updateTenant(record.tenantId, { accountId: status.AccountId, createAccountRequestId: undefined });
    return { state: 'SUCCEEDED', accountId: status.AccountId };
  }
  if (status?.State === 'FAILED') {
    const reason = status.FailureReason ?? 'UNKNOWN';
    if (TRANSIENT_REASONS.has(reason)) {
      await updateTenant(record.tenantId, { createAccountRequestId: undefined });
      return { state: 'RETRY', reason };
    }
    throw new AccountCreationFailedError(`Organizations could not create the account for tenant ${record.tenantId} (${record.adminEmail}): ${reason}`);
  }
  return { state: 'IN_PROGRESS' };
});
