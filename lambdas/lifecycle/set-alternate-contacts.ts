import { tierConfig } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { accountClient } from '../shared/sessions.js';
import type { AlternateContactType } from '../../lib/config/alternate-contacts.js';
import { putAlternateContacts } from './alternate-contacts.js';
import type { LifecycleState } from './state.js';

/** What the step returns into the execution's state (`$.alternateContacts`). */
export interface AlternateContactsResult {
  /** True when the tenant's tier has no `alternateContacts` or the tenant no account: nothing was called. */
  skipped?: boolean;
  /** The AlternateContactType of each contact set, in the order BILLING, OPERATIONS, SECURITY. */
  set?: AlternateContactType[];
}

/**
 * *Set alternate contacts* (onboarding, account mode, after *Request compute quotas* and the other account settings a
 * tier asks for, before *Allocate network*; only deployed when a tier has `alternateContacts`): from the organization's
 * management account (the Account Management API wants the management account, with `AccountId`, for a member account:
 * lambdas/lifecycle/alternate-contacts.ts), puts each of the tier's alternate contacts in the tenant's new account and
 * records their types in the registry (`alternateContacts`). A tenant whose tier does not ask for it is answered at once,
 * without a call.
 * @throws what alternate-contacts.ts putAlternateContacts throws (AlternateContactsDenied naming trusted access and the
 *   grant; other Account Management errors): the onboarding fails at the step, and `tessera tenants retry` runs it again
 */
export const handler = lifecycleHandler('Set alternate contacts', async (state: LifecycleState): Promise<AlternateContactsResult> => {
  const record = await requireTenant(state.request.tenantId);
  const contacts = tierConfig(record.tier).alternateContacts;
  if (!contacts || !record.accountId) return { skipped: true };
  const set = await putAlternateContacts(await accountClient(), record.accountId, contacts);
  await updateTenant(record.tenantId, { alternateContacts: { setAt: new Date().toISOString(), types: set } });
  return { set };
});
