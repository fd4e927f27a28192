import { paginateListOrganizationalUnitsForParent } from '@aws-sdk/client-organizations';
import { pages } from '../../lib/aws-pages.js';
import type { LifecycleKind, TenantRecord } from '../../lib/tenant-record.js';
import { logger } from '../shared/handler.js';
import { organizationsClient } from '../shared/sessions.js';
import { parentOf, rootId, tierOuName } from './organization-lookup.js';

/**
 * What *Record failure* adds to the failure of an account tenant's change or rolling upgrade run when its AWS account is
 * not in the OU of the tier the registry now records (`tier`): a tier change that failed after *Move account* (at its
 * stacks: a change set the guard refused, an SCP of the new OU refusing the deploy) leaves the account in the new tier's
 * OU with the record on the old tier, and `tessera tenants show` said nothing of it. Reads ListRoots,
 * ListOrganizationalUnitsForParent (every page, for the OUs' names) and ListParents, as the organization access role.
 * Never fails the recording: an Organizations error is logged and no note is made.
 * @param kind the failed operation's kind (a note only for `change` and `upgrade`)
 * @param tier the tier the registry records once the failure is written (a stack standing on the new tier records that)
 * @returns the note (`account 444455556666 is in OU tessera-enterprise-xl (ou-…), not tier enterprise's tessera-enterprise: …`), or
 *   undefined when the account is where its tier says, is no account tenant's, or its parent could not be read
 */
export async function misplacedAccountNote(record: TenantRecord, kind: LifecycleKind, tier: string): Promise<string | undefined> {
  if ((kind !== 'change' && kind !== 'upgrade') || record.isolation !== 'account' || !record.accountId) return undefined;
  try {
    const orgs = await organizationsClient();
    const parent = await parentOf(orgs, record.accountId);
    if (!parent) return undefined;
    const names = new Map<string, string>();
    for await (const page of paginateListOrganizationalUnitsForParent(pages(orgs), { ParentId: await rootId(orgs) })) {
      for (const ou of page.OrganizationalUnits ?? []) if (ou.Id && ou.Name) names.set(ou.Id, ou.Name);
    }
    const want = tierOuName(tier);
    if (names.get(parent) === want) return undefined;
    const where = names.has(parent) ? `OU ${names.get(parent)} (${parent})` : parent;
    return `account ${record.accountId} is in ${where}, not tier ${tier}'s ${want}: the tenant's next change, upgrade run or repair `
      + `puts it back in ${want} (a tier change sent again, in its new tier's OU)`;
  } catch (e) {
    logger.warn('the account\'s OU was not read: the failure says nothing of it', { tenantId: record.tenantId, error: e as Error });
    return undefined;
  }
}
