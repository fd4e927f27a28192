import { AccountNotListedYetError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { attachPolicyOnce, moveAccountTo, ouIdByName, QUARANTINE_SCP, scpIdByName, tierOuName } from './organization-lookup.js';
import type { LifecycleState } from './state.js';

/**
 * Organizations' answers for an account id it does not know (AWS Organizations API Reference: ListPoliciesForTarget and
 * AttachPolicy `TargetNotFoundException`, ListParents `ChildNotFoundException`, MoveAccount `AccountNotFoundException`).
 */
const ACCOUNT_NOT_FOUND = new Set(['TargetNotFoundException', 'ChildNotFoundException', 'AccountNotFoundException']);

/**
 * Attaches the quarantine SCP to the new account (nothing but the provisioning role may act in
 * it), then moves it into its tier OU. The SCP comes off only when the tenant is ACTIVE, so a
 * failed onboarding leaves the account fenced, never orphaned.
 *
 * The account's CreateAccount request has just reported `SUCCEEDED`, and Organizations is eventually consistent: a call
 * about the account refused as not found (ACCOUNT_NOT_FOUND) is thrown as `AccountNotListedYet`, which the state machine
 * retries (each call is idempotent: attachPolicyOnce and moveAccountTo find their work done). Before, the onboarding
 * failed at this step for an account that existed, left in the organization's root without its quarantine SCP.
 * @throws AccountNotListedYetError naming the account, the call's error and its message
 */
export const handler = lifecycleHandler('Quarantine account', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  const accountId = record.accountId!;
  const orgs = await organizationsClient();
  const quarantine = await scpIdByName(orgs, QUARANTINE_SCP);
  /** The call's error, or AccountNotListedYet for an account Organizations does not know yet. */
  const notListedYet = (e: unknown): Error => (ACCOUNT_NOT_FOUND.has((e as Error).name)
    ? new AccountNotListedYetError(`account ${accountId} of tenant ${record.tenantId} (CreateAccount SUCCEEDED) is not known to Organizations yet: `
      + `${(e as Error).name}: ${(e as Error).message}; Organizations is eventually consistent, the step is retried`)
    : e as Error);
  // Each call once, whatever a retry of this step (or of the SDK call) meets done (organization-lookup.ts).
  await attachPolicyOnce(orgs, quarantine, accountId).catch((e) => { throw notListedYet(e); });
  const destination = await ouIdByName(orgs, tierOuName(record.tier));
  await moveAccountTo(orgs, accountId, destination).catch((e) => { throw notListedYet(e); });
  return { accountId, ou: destination, quarantinePolicy: quarantine };
});
