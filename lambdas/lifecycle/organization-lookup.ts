import {
  paginateListOrganizationalUnitsForParent,
  paginateListPolicies,
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

export async function ouIdByName(orgs: OrganizationsClient, name: string): Promise<string> {
  const parent = await rootId(orgs);
  for await (const out of paginateListOrganizationalUnitsForParent(pages(orgs), { ParentId: parent })) {
    const ou = out.OrganizationalUnits?.find((u) => u.Name === name);
    if (ou?.Id) return ou.Id;
  }
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
