import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { attachPolicyOnce, moveAccountTo, ouIdByName, QUARANTINE_SCP, scpIdByName, tierOuName } from './organization-lookup.js';
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
  // Each call once, whatever a retry of this step (or of the SDK call) meets done (organization-lookup.ts).
  await attachPolicyOnce(orgs, quarantine, accountId);
  const destination = await ouIdByName(orgs, tierOuName(record.tier));
  await moveAccountTo(orgs, accountId, destination);
  return { accountId, ou: destination, quarantinePolicy: quarantine };
});
