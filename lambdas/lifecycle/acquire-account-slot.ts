import { acquireSlot, slotHolders } from '../shared/control-table.js';
import { ENV, numberEnv } from '../shared/environment.js';
import { AccountWaitTimedOutError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { getTenant, requireTenant } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

/**
 * How long an onboarding waits for an account-creation slot, from when it took the tenant's lease:
 * 8 hours, well inside the onboarding's 2-day timeout and Step Functions' 25,000-event history
 * (one poll every 30 s is about 10 events).
 */
export const ACCOUNT_SLOT_WAIT_MS = 8 * 3600 * 1000;

/**
 * Takes one of the organization-wide account-creation slots (default 5: Control Tower and
 * Organizations allow five concurrent account operations). When none is free, the state machine
 * waits and asks again: extra requests queue instead of failing — for ACCOUNT_SLOT_WAIT_MS at
 * most, after which the onboarding fails (AccountWaitTimedOut) naming the tenants holding the slots
 * and their CreateAccount requests.
 */
export const handler = lifecycleHandler('Acquire account slot', async (state: LifecycleState) => {
  const cap = numberEnv(ENV.accountCreationCap, 5);
  if (await acquireSlot(state.request.tenantId, cap)) return { acquired: true, cap };
  const record = await requireTenant(state.request.tenantId);
  const lease = record.lease?.executionArn === state.executionArn ? record.lease : undefined;
  const since = lease ? Date.parse(lease.acquiredAt) : NaN;
  if (Number.isFinite(since) && Date.now() - since > ACCOUNT_SLOT_WAIT_MS) {
    const holders = await Promise.all((await slotHolders()).map(async (h) => {
      const holder = await getTenant(h).catch(() => undefined);
      return `${h} (${holder?.createAccountRequestId ? `CreateAccount request ${holder.createAccountRequestId}` : holder ? `status ${holder.status}, no request recorded` : 'no tenant record'})`;
    }));
    throw new AccountWaitTimedOutError(`tenant ${record.tenantId} waited ${Math.round((Date.now() - since) / 60_000)} minutes (limit ${ACCOUNT_SLOT_WAIT_MS / 60_000}) for one of ${cap} account-creation slots; held by ${holders.join(', ') || 'nobody now'}`);
  }
  return { acquired: false, cap };
});
