import {
  ListOrganizationalUnitsForParentCommand,
  ListPoliciesCommand,
  ListRootsCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';

/** Finds Tessera's OUs and SCPs by the names the OrganizationStack gives them (ids exist only after deploy). */

export async function rootId(orgs: OrganizationsClient): Promise<string> {
  const out = await orgs.send(new ListRootsCommand({}));
  const id = out.Roots?.[0]?.Id;
  if (!id) throw new Error('the organization has no root');
  return id;
}

export async function ouIdByName(orgs: OrganizationsClient, name: string): Promise<string> {
  const parent = await rootId(orgs);
  let token: string | undefined;
  do {
    const out = await orgs.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parent, NextToken: token }));
    const ou = out.OrganizationalUnits?.find((u) => u.Name === name);
    if (ou?.Id) return ou.Id;
    token = out.NextToken;
  } while (token);
  throw new Error(`organizational unit "${name}" does not exist under ${parent}; deploy the TesseraOrganization stack`);
}

export async function scpIdByName(orgs: OrganizationsClient, name: string): Promise<string> {
  let token: string | undefined;
  do {
    const out = await orgs.send(new ListPoliciesCommand({ Filter: 'SERVICE_CONTROL_POLICY', NextToken: token }));
    const policy = out.Policies?.find((p) => p.Name === name);
    if (policy?.Id) return policy.Id;
    token = out.NextToken;
  } while (token);
  throw new Error(`service control policy "${name}" does not exist; deploy the TesseraOrganization stack`);
}

export const QUARANTINE_SCP = 'tessera-quarantine';
export const tierOuName = (tier: string) => `tessera-${tier}`;
