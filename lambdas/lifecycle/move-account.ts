import { AccountPlacementError } from '../shared/errors.js';
import { requireTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { findOuByName, moveAccountTo, tierOuName } from './organization-lookup.js';
import type { LifecycleState } from './state.js';

/** What *Move account* did: the tier OU the account is in now (its id and name), the parent it was in, and whether this run moved it. */
export interface AccountMove { accountId: string; ou: string; ouName: string; from?: string; moved: boolean }

/**
 * Organizations' answers for an account it does not know (AWS Organizations API Reference: ListParents
 * `ChildNotFoundException`, MoveAccount `AccountNotFoundException`): for a tenant that was ACTIVE, not a delay of
 * eventual consistency (as at onboarding's *Quarantine account*) but an account that left the organization.
 */
const ACCOUNT_NOT_FOUND = new Set(['ChildNotFoundException', 'AccountNotFoundException']);

/**
 * *Move account* (the `tessera-change` workflow, right after *Begin change*, for an account tenant whose tier changes or
 * which is repaired: begin-change's `moveAccount`): puts the tenant's AWS account in the organizational unit of its tier
 * after the change (`tessera-<tier>`, tierOuName), as onboarding's *Quarantine account* put it in its first tier's, with
 * the same code (organization-lookup.ts moveAccountTo: ListParents for MoveAccount's required SourceParentId, nothing
 * to do when the account is there already, DuplicateAccountException / SourceParentNotFoundException checked again with
 * ListParents). So a replay, or a repair of an account in its OU, moves nothing; a repair of an account moved by hand
 * puts it back. Before, a tier change left the account in its old tier's OU for good: the OU's policies (SCPs, backup
 * and tag policies, LZA / AFT customizations) followed the old tier.
 *
 * Before the blueprints, not after: the new tier's blueprint then deploys under the policies it will live under (every
 * later upgrade and repair runs there), and a new OU's SCP refusing something the blueprint does fails the change here
 * or at its deploy, not at the next upgrade; after, a tier whose OU allows what the old one's denies (an instance
 * family, a region) could never be reached. A change that fails later leaves the account in the new tier's OU with the
 * old tier's stacks: running the change again goes on, a repair (the recorded tier) moves it back.
 *
 * Organizations' throttling (`TooManyRequestsException`), contention (`ConcurrentModificationException`, "try again
 * later") and `ServiceException` are thrown as they come: the state machine retries them (RETRYABLE_ERRORS).
 * @throws AccountPlacementError (terminal: *Record failure* records it on the tenant) naming the OU when the tier's OU
 *   does not exist under the root (ListOrganizationalUnitsForParent) or is gone by the MoveAccount
 *   (`DestinationParentNotFoundException`), or naming the account when Organizations does not know it; Error when the
 *   record has no accountId (only account tenants reach this step)
 */
export async function moveToTierOu(state: LifecycleState): Promise<AccountMove> {
  const record = await requireTenant(state.request.tenantId);
  const accountId = record.accountId;
  if (!accountId) throw new Error(`tenant ${record.tenantId} has no AWS account recorded: Move account runs for account tenants only`);
  const tier = state.change?.tier ?? record.tier;
  const ouName = tierOuName(tier);
  const orgs = await organizationsClient();
  const missing = (why: string) => new AccountPlacementError(`tier ${tier}'s organizational unit ${ouName} ${why}: account ${accountId} of tenant ${record.tenantId} `
    + `was not moved and the change stopped before its stacks (nothing else changed). Deploy the TesseraOrganization stack with tier ${tier} in its config `
    + `(it makes one OU per tier: docs/tenant-lifecycle.md, "An account tenant's account moves to its new tier's OU"), then run the change again`);
  const { id: ou, parent } = await findOuByName(orgs, ouName);
  if (!ou) throw missing(`does not exist under the organization's root ${parent}`);
  try {
    const { moved, from } = await moveAccountTo(orgs, accountId, ou);
    return { accountId, ou, ouName, ...(from ? { from } : {}), moved };
  } catch (e) {
    const { name, message } = e as Error;
    if (name === 'DestinationParentNotFoundException') throw missing(`(${ou}) is gone (MoveAccount: ${name}: ${message})`);
    if (ACCOUNT_NOT_FOUND.has(name)) {
      throw new AccountPlacementError(`account ${accountId} of tenant ${record.tenantId} is not in the organization (${name}: ${message}): it cannot be put in ${ouName}; `
        + 'the change stopped before its stacks. Find where the account went (aws organizations describe-account) before anything else');
    }
    throw e;
  }
}
