import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { clientWith } from '../shared/aws-clients.js';
import { platformConfig, tierConfig } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { putAccountPublicAccessBlock, S3_PUBLIC_ACCESS_BLOCK_SESSION_POLICY } from './s3-public-access-block.js';
import type { LifecycleState } from './state.js';

/** What the step returns into the execution's state (`$.s3PublicAccessBlock`). */
export interface S3PublicAccessBlockResult {
  /** True when the tenant's tier has no `s3PublicAccessBlock` or the tenant no account: nothing was called. */
  skipped?: boolean;
  /** The region whose S3 Control endpoint took the call (the setting is the account's, for every region). */
  region?: string;
}

/**
 * *Set S3 Block Public Access* (onboarding, account mode, after *Request compute quotas*, *Delete default VPCs* and
 * *Enable EBS encryption by default* when the tier has them, before *Set alternate contacts* and *Allocate network*, so
 * before any blueprint makes a bucket; only deployed when a tier has `s3PublicAccessBlock`): in the tenant's new account,
 * as the provisioning role narrowed by a session policy to `s3:PutAccountPublicAccessBlock`, turns the four account-level
 * S3 Block Public Access settings on (lambdas/lifecycle/s3-public-access-block.ts) and records them in the registry
 * (`s3PublicAccessBlock`). A tenant whose tier does not ask for it is answered at once, without a call.
 *
 * The S3 Control client is the platform's home region's: the setting is one per account and holds in every region, so
 * one call to any region's endpoint sets it; the home region is in `allowedRegions` (the config's rule), so even a region
 * guardrail without the global-service exemption for `s3:PutAccountPublic*` (lib/guardrail-policies.ts has it) lets
 * it through, and it is the region the lifecycle runs in.
 * @throws what s3-public-access-block.ts putAccountPublicAccessBlock throws (S3PublicAccessBlockDenied naming an SCP and
 *   an organization-level policy; other S3 Control errors): the onboarding fails at the step, its reason in the
 *   registry's `failure`, and `tessera tenants retry` runs it again
 */
export const handler = lifecycleHandler('Set S3 Block Public Access', async (state: LifecycleState): Promise<S3PublicAccessBlockResult> => {
  const record = await requireTenant(state.request.tenantId);
  if (!tierConfig(record.tier).s3PublicAccessBlock || !record.accountId) return { skipped: true };
  const region = platformConfig().homeRegion;
  const credentials = await tenantAccountCredentials(record.accountId, record.tenantId, 's3-public-access-block', { sessionPolicy: S3_PUBLIC_ACCESS_BLOCK_SESSION_POLICY });
  const configuration = await putAccountPublicAccessBlock(clientWith(S3ControlClient, credentials, { region }), record.accountId);
  await updateTenant(record.tenantId, { s3PublicAccessBlock: { setAt: new Date().toISOString(), region, configuration } });
  return { region };
});
