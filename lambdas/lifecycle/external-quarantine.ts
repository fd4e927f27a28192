import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { PlatformConfig } from '../../lib/config/schema.js';
import type { ExternalPolicyDetach } from '../../lib/tenant-record.js';
import { detachPolicyOnce } from './organization-lookup.js';

/** The config key this module reads; errors and records name it. */
export const EXTERNAL_QUARANTINE_KEY = 'organization.externalQuarantinePolicies';

/**
 * Detaches each SCP of `organization.externalQuarantinePolicies` (another tool's quarantine, such as
 * Landing Zone Accelerator's `quarantineNewAccounts` SCP, which that tool attaches to every new
 * account and lifts only from the accounts it provisions: docs/control-tower.md) from `accountId`,
 * in the config's order. Only the listed policies, only from that account: the policy stays on
 * every other target. Each goes through detachPolicyOnce (organization-lookup.ts): a policy that
 * ListPoliciesForTarget does not show on the account is not touched, and DetachPolicy's
 * `PolicyNotAttachedException` ("The policy isn't attached to the specified target in the specified
 * root": the SDK's retry of a call whose answer was lost, or the other invocation of the step,
 * detached it first) counts as done, as for tessera-quarantine. DetachPolicy has no idempotency
 * token (https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html).
 *
 * Called by *Activate tenant* after the record says ACTIVE and before tessera-quarantine comes off,
 * so an account whose other SCPs could not all be detached is still fenced by Tessera's.
 * @param policies - `config.organization.externalQuarantinePolicies` (ids `p-...`, optional names)
 * @returns one entry per listed policy: `DETACHED` by this call or `NOT_ATTACHED`, with the time
 * @throws the Organizations error of a DetachPolicy or ListPoliciesForTarget that failed otherwise,
 *   under its own `name` (the state machine's Retry matches it: TooManyRequestsException,
 *   ConcurrentModificationException, ServiceException), its message naming the config entry, the
 *   policy and the account; an AccessDeniedException also says where the grant comes from
 */
export async function detachExternalQuarantine(
  orgs: OrganizationsClient, accountId: string, policies: PlatformConfig['organization']['externalQuarantinePolicies'],
): Promise<ExternalPolicyDetach[]> {
  const out: ExternalPolicyDetach[] = [];
  for (const [i, policy] of policies.entries()) {
    const label = `${EXTERNAL_QUARANTINE_KEY}[${i}] ${policy.policyId}${policy.name ? ` (${policy.name})` : ''}`;
    let detached: boolean;
    try {
      detached = await detachPolicyOnce(orgs, policy.policyId, accountId);
    } catch (e) {
      const error = e as Error;
      const grant = error.name === 'AccessDeniedException'
        ? `; the lifecycle's organizations:DetachPolicy grant names the policies of ${EXTERNAL_QUARANTINE_KEY} as they were when TesseraOrganization (and TesseraPlatform, if the platform account is the management account) was last deployed: deploy it after changing the list`
        : '';
      throw Object.assign(new Error(`${label}: could not detach it from the tenant's account ${accountId}: ${error.name}: ${error.message}${grant}`, { cause: e }), { name: error.name });
    }
    out.push({ policyId: policy.policyId, ...(policy.name ? { name: policy.name } : {}), accountId, result: detached ? 'DETACHED' : 'NOT_ATTACHED', at: new Date().toISOString() });
  }
  return out;
}

/**
 * This attempt's outcome (`now`, one entry per listed policy) with what an earlier attempt of the same execution recorded
 * (`earlier`, the running history entry's `externalQuarantinePolicies`): a policy this attempt found off (`NOT_ATTACHED`)
 * that the earlier attempt recorded `DETACHED` keeps the earlier entry (that attempt detached it; Step Functions retried
 * the step after a later call of it failed). Everything else is this attempt's.
 */
export function keepDetached(earlier: readonly ExternalPolicyDetach[] | undefined, now: readonly ExternalPolicyDetach[]): ExternalPolicyDetach[] {
  return now.map((p) => {
    const before = earlier?.find((e) => e.policyId === p.policyId && e.accountId === p.accountId);
    return p.result === 'NOT_ATTACHED' && before?.result === 'DETACHED' ? before : p;
  });
}
