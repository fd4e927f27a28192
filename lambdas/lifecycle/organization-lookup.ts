import {
  AttachPolicyCommand,
  DetachPolicyCommand,
  MoveAccountCommand,
  paginateListOrganizationalUnitsForParent,
  paginateListParents,
  paginateListPolicies,
  paginateListPoliciesForTarget,
  ListRootsCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { pages } from '../../lib/aws-pages.js';

/** Finds Tessera's OUs and SCPs by the names the OrganizationStack gives them (ids exist only after deploy). */

export async function rootId(orgs: OrganizationsClient): Promise<string> {
  const out = await orgs.send(new ListRootsCommand({}));
  const id = out.Roots?.[0]?.Id;
  if (!id) throw new Error('the organization has no root');
  return id;
}

/**
 * The id of the OU named `name` directly under the organization's root (where the TesseraOrganization stack makes
 * Tessera's OUs), from every page of ListOrganizationalUnitsForParent; `id` undefined when there is none.
 * @returns the OU's id (if any) and the root's id
 */
export async function findOuByName(orgs: OrganizationsClient, name: string): Promise<{ id?: string; parent: string }> {
  const parent = await rootId(orgs);
  for await (const out of paginateListOrganizationalUnitsForParent(pages(orgs), { ParentId: parent })) {
    const ou = out.OrganizationalUnits?.find((u) => u.Name === name);
    if (ou?.Id) return { id: ou.Id, parent };
  }
  return { parent };
}

/**
 * The id of the OU named `name` under the organization's root (findOuByName).
 * @throws Error naming the OU and the root when there is none (the TesseraOrganization stack not deployed)
 */
export async function ouIdByName(orgs: OrganizationsClient, name: string): Promise<string> {
  const { id, parent } = await findOuByName(orgs, name);
  if (id) return id;
  throw new Error(`organizational unit "${name}" does not exist under ${parent}; deploy the TesseraOrganization stack`);
}

export async function scpIdByName(orgs: OrganizationsClient, name: string): Promise<string> {
  for await (const out of paginateListPolicies(pages(orgs), { Filter: 'SERVICE_CONTROL_POLICY' })) {
    const policy = out.Policies?.find((p) => p.Name === name);
    if (policy?.Id) return policy.Id;
  }
  throw new Error(`service control policy "${name}" does not exist; deploy the TesseraOrganization stack`);
}

export const QUARANTINE_SCP = 'tessera-quarantine';
export const tierOuName = (tier: string) => `tessera-${tier}`;

/**
 * Whether SCP `policyId` is attached directly to `targetId`, from every page of ListPoliciesForTarget: Organizations'
 * List operations "can occasionally return an empty set of results even when there are more results available"
 * (https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListPoliciesForTarget.html, NextToken), so a
 * first page without it is not an answer.
 */
async function scpAttached(orgs: OrganizationsClient, policyId: string, targetId: string): Promise<boolean> {
  for await (const page of paginateListPoliciesForTarget(pages(orgs), { TargetId: targetId, Filter: 'SERVICE_CONTROL_POLICY' })) {
    if (page.Policies?.some((p) => p.Id === policyId)) return true;
  }
  return false;
}

/**
 * Makes SCP `policyId` attached to `targetId` (`attach` true: AttachPolicy) or not (false: DetachPolicy), unless
 * ListPoliciesForTarget shows it so already (scpAttached). Organizations' refusal that says it is so already counts as
 * done: `DuplicatePolicyAttachmentException` ("the selected policy is already attached to the specified target") for
 * AttachPolicy, `PolicyNotAttachedException` for DetachPolicy. It is what a retried call meets when the first took
 * effect and its answer was lost (the SDK sends the call again after a timeout or a server fault; neither call has an
 * idempotency token), or when another invocation of the step made the change between the listing and the call.
 * @returns whether this call changed it (false: it was so already)
 */
async function setScpAttached(orgs: OrganizationsClient, policyId: string, targetId: string, attach: boolean): Promise<boolean> {
  if ((await scpAttached(orgs, policyId, targetId)) === attach) return false;
  const input = { PolicyId: policyId, TargetId: targetId };
  try {
    await (attach ? orgs.send(new AttachPolicyCommand(input)) : orgs.send(new DetachPolicyCommand(input)));
    return true;
  } catch (e) {
    if ((e as Error).name === (attach ? 'DuplicatePolicyAttachmentException' : 'PolicyNotAttachedException')) return false;
    throw e;
  }
}

/**
 * Attaches SCP `policyId` to `targetId`, once (setScpAttached: DuplicatePolicyAttachmentException counts as done).
 * @returns whether this call attached it (false: it was attached already)
 */
export const attachPolicyOnce = (orgs: OrganizationsClient, policyId: string, targetId: string): Promise<boolean> => setScpAttached(orgs, policyId, targetId, true);

/**
 * Detaches SCP `policyId` from `targetId`, once (setScpAttached: PolicyNotAttachedException counts as done).
 * @returns whether this call detached it (false: it was not attached)
 */
export const detachPolicyOnce = (orgs: OrganizationsClient, policyId: string, targetId: string): Promise<boolean> => setScpAttached(orgs, policyId, targetId, false);

/**
 * The parent (root or OU id) of account `accountId`, from every page of ListParents (Organizations' List operations may
 * answer an empty page with a NextToken: scpAttached); undefined when no page names one.
 * @throws Organizations' `ChildNotFoundException` for an account that is not in the organization
 */
export async function parentOf(orgs: OrganizationsClient, accountId: string): Promise<string | undefined> {
  for await (const page of paginateListParents(pages(orgs), { ChildId: accountId })) {
    const id = page.Parents?.[0]?.Id;
    if (id) return id;
  }
  return undefined;
}

/**
 * Moves account `accountId` into `destination` (an OU id) unless ListParents (every page) shows it there: MoveAccount
 * names the parent ListParents gave as its SourceParentId (required). A MoveAccount that Organizations refuses with
 * `DuplicateAccountException` ("that account is already present in the specified destination") or
 * `SourceParentNotFoundException` (the account is no longer under the parent listed) is checked again with
 * ListParents: the account already in `destination` is done (a retried MoveAccount whose first call took effect, or
 * another invocation's move); under another parent than the one listed (someone moved it in between: a platform
 * team's script, a landing zone's own placement), it is moved again from there, up to `attempts` MoveAccount calls in
 * all; still under the parent listed, the error stands. Before session 47, a move in between failed the step with
 * SourceParentNotFoundException, which no workflow retries, though the same change sent again moves it from anywhere.
 * Every other error (`AccountNotFoundException`, `DestinationParentNotFoundException`, and
 * `ConcurrentModificationException` / `TooManyRequestsException`, which the workflows retry) is thrown as it comes.
 * Source: AWS Organizations API Reference, MoveAccount
 * (https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html).
 * @param attempts the most MoveAccount calls made @default 3
 * @returns whether this call moved it, and the parent it was in before (`destination` when it was there already)
 * @throws DuplicateAccountException / SourceParentNotFoundException when the account is neither in `destination` nor
 *   under a new parent afterwards, or still moving under the call after `attempts` calls
 */
export async function moveAccountTo(orgs: OrganizationsClient, accountId: string, destination: string, attempts = 3): Promise<{ moved: boolean; from?: string }> {
  let source = await parentOf(orgs, accountId);
  for (let attempt = 1; ; attempt++) {
    if (!source || source === destination) return { moved: false, from: source };
    try {
      await orgs.send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: source, DestinationParentId: destination }));
      return { moved: true, from: source };
    } catch (e) {
      if (!['DuplicateAccountException', 'SourceParentNotFoundException'].includes((e as Error).name)) throw e;
      const now = await parentOf(orgs, accountId);
      if (now === destination) return { moved: false, from: source };
      if (!now || now === source || attempt >= attempts) throw e;
      source = now;
    }
  }
}
