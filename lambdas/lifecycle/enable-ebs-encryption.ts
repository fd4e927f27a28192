import { EC2Client } from '@aws-sdk/client-ec2';
import { clientWith } from '../shared/aws-clients.js';
import { platformConfig, tierConfig } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { accountRegions } from './default-vpcs.js';
import { EBS_ENCRYPTION_SESSION_POLICY, enableEbsEncryptionInRegions } from './ebs-encryption.js';
import type { LifecycleState } from './state.js';

/** What the step returns into the execution's state (`$.ebsEncryption`): region names by outcome; the registry has the rest. */
export interface EbsEncryptionResult {
  /** True when the tenant's tier has no `ebsEncryptionByDefault` or the tenant no account: nothing was called. */
  skipped?: boolean;
  enabled?: string[];
  notEnabled?: string[];
  unreachable?: string[];
  /** Enabled in the account but not in `allowedRegions`: not called (the guardrail SCP denies every call there). */
  outside?: string[];
}

/**
 * *Enable EBS encryption by default* (onboarding, account mode, after *Request compute quotas* and *Delete default
 * VPCs*, before *Allocate network* and so before any blueprint makes a volume; only deployed when a tier has
 * `ebsEncryptionByDefault`): in the tenant's new account, as the provisioning role narrowed by a session policy to
 * the EC2 actions of lambdas/lifecycle/ebs-encryption.ts, lists the regions enabled in the account (DescribeRegions)
 * and turns EBS encryption by default on in each that is also in the config's `allowedRegions`, leaving the default
 * KMS key EC2's (`alias/aws/ebs`; why: ebs-encryption.ts). The others are only recorded: the guardrail SCP
 * (`DenyOutsideAllowedRegions`) denies every call there, the provisioning role's too, and no volume can be made there.
 * Records every region's outcome in the registry (`ebsEncryption`); a region EC2 refuses is recorded, not a failure.
 * A tenant whose tier does not ask for it is answered at once, without a call.
 * @throws what ebs-encryption.ts enableEbsEncryptionByDefault throws (EC2 errors other than refusals): the onboarding
 *   fails at the step, and `tessera tenants retry` runs it again (the call is idempotent)
 */
export const handler = lifecycleHandler('Enable EBS encryption by default', async (state: LifecycleState): Promise<EbsEncryptionResult> => {
  const record = await requireTenant(state.request.tenantId);
  if (!tierConfig(record.tier).ebsEncryptionByDefault || !record.accountId) return { skipped: true };
  const credentials = await tenantAccountCredentials(record.accountId, record.tenantId, 'ebs-encryption', { sessionPolicy: EBS_ENCRYPTION_SESSION_POLICY });
  const { regions, outside } = await accountRegions(clientWith(EC2Client, credentials), platformConfig().allowedRegions);
  const outcomes = await enableEbsEncryptionInRegions((region) => clientWith(EC2Client, credentials, { region }), regions);
  await updateTenant(record.tenantId, { ebsEncryption: { checkedAt: new Date().toISOString(), regions: outcomes, outsideAllowedRegions: outside } });
  const named = (s: string) => outcomes.filter((o) => o.state === s).map((o) => o.region);
  return { enabled: named('ENABLED'), notEnabled: named('NOT_ENABLED'), unreachable: named('UNREACHABLE'), outside };
});
