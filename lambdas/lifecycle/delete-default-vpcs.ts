import { EC2Client } from '@aws-sdk/client-ec2';
import { clientWith } from '../shared/aws-clients.js';
import { platformConfig, tierConfig } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { DEFAULT_VPC_SESSION_POLICY, accountRegions, deleteDefaultVpcs, withEarlierDeletions } from './default-vpcs.js';
import type { LifecycleState } from './state.js';

/** What the step returns into the execution's state (`$.defaultVpcs`): region names by outcome; the registry has the rest. */
export interface DefaultVpcsResult {
  /** True when the tenant's tier has no `deleteDefaultVpcs` or the tenant no account: nothing was called. */
  skipped?: boolean;
  deleted?: string[];
  none?: string[];
  kept?: string[];
  unreachable?: string[];
  /** Enabled in the account but not in `allowedRegions`: not called (the guardrail SCP denies every call there). */
  outside?: string[];
}

/**
 * *Delete default VPCs* (onboarding, account mode, after *Request compute quotas*; only deployed when a tier has
 * `deleteDefaultVpcs`): in the tenant's new account, as the provisioning role narrowed by a session policy to the EC2
 * actions of lambdas/lifecycle/default-vpcs.ts, lists the regions enabled in the account (DescribeRegions) and deletes
 * the default VPC of each that is also in the config's `allowedRegions`. The others are only recorded: the guardrail SCP
 * of the tier's OU (`DenyOutsideAllowedRegions`, lib/guardrail-policies.ts) denies every call there, the provisioning
 * role's too, and each denied call would be one more AccessDenied in the organization's trail. Records every region's
 * outcome in the registry (`defaultVpcs`); a VPC kept (in use) or a region EC2 refuses (another tool's region-deny SCP)
 * is recorded, not a failure: the tenant's own VPC does not need it gone.
 * A tenant whose tier does not ask for it is answered at once, without a call.
 * @throws what default-vpcs.ts deleteDefaultVpc throws in the first region that failed (EC2 errors other than refusals),
 *   once every region is settled and the registry holds the regions that finished: the onboarding fails at the step, and
 *   `tessera tenants retry` runs it again (what an earlier run deleted counts as deleted, and stays recorded DELETED)
 */
export const handler = lifecycleHandler('Delete default VPCs', async (state: LifecycleState): Promise<DefaultVpcsResult> => {
  const record = await requireTenant(state.request.tenantId);
  if (!tierConfig(record.tier).deleteDefaultVpcs || !record.accountId) return { skipped: true };
  const credentials = await tenantAccountCredentials(record.accountId, record.tenantId, 'default-vpcs', { sessionPolicy: DEFAULT_VPC_SESSION_POLICY });
  const { regions, outside } = await accountRegions(clientWith(EC2Client, credentials), platformConfig().allowedRegions);
  const run = await deleteDefaultVpcs((region) => clientWith(EC2Client, credentials, { region }), regions);
  // Recorded before a failure is thrown: what this run deleted stays known, and a run again keeps it DELETED.
  const outcomes = withEarlierDeletions(run.outcomes, record.defaultVpcs?.regions);
  await updateTenant(record.tenantId, { defaultVpcs: { checkedAt: new Date().toISOString(), regions: outcomes, outsideAllowedRegions: outside } });
  if (run.failure) throw run.failure.error;
  const named = (s: string) => outcomes.filter((o) => o.state === s).map((o) => o.region);
  return { deleted: named('DELETED'), none: named('NONE'), kept: named('KEPT'), unreachable: named('UNREACHABLE'), outside };
});
