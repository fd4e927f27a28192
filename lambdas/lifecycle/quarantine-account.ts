import { AttachPolicyCommand, ListParentsCommand, ListPoliciesForTargetCommand, MoveAccountCommand } from '@aws-sdk/client-organizations';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { ouIdByName, QUARANTINE_SCP, scpIdByName, tierOuName } from './organization-lookup.js';
import type { LifecycleState } from './state.js';

/**
 * Attaches the quarantine SCP to the new account (nothing but the provisioning role may act in
 * it), then moves it into its tier OU. The SCP comes off only when the tenant is ACTIVE, so a
 * failed onboarding leaves the account fenced, never orphaned.
 */
export const handler = lifecycleHandler('Quarantine account', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  const accountId = record.accountId!;
  const orgs = await organizationsClient();
  const quarantine = await scpIdByName(orgs, QUARANTINE_SCP);
  const attached = await orgs.send(new ListPoliciesForTargetCommand({ TargetId: accountId, Filter: 'SERVICE_CONTROL_POLICY' }));
  if (!attached.Policies?.some((p) => p.Id === quarantine)) {
    await orgs.send(new AttachPolicyCommand({ PolicyId: quarantine, TargetId: accountId }));
  }
  const destination = await ouIdByName(orgs, tierOuName(record.tier));
  const parents = await orgs.send(new ListParentsCommand({ ChildId: accountId }));
  const source = parents.Parents?.[0]?.Id;
  if (source && source !== destination) {
    await orgs.send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: source, DestinationParentId: destination }));
  }
  return { accountId, ou: destination, quarantinePolicy: quarantine };
});
