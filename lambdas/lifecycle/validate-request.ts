import { drRegionOf } from '../../lib/config/disaster-recovery.js';
import { tierOptInRegions } from '../../lib/config/region-opt-in.js';
import { OnboardRequest } from '../../lib/tenant-record.js';
import { describeIssues } from '../../lib/zod-issues.js';
import { platformConfig, tierConfig } from '../shared/environment.js';
import { InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import type { LifecycleState } from './state.js';

/** Checks the onboarding request (strict: unknown fields refused; ids named like a configured tier reserved) and resolves the tier's isolation, compute mode and DR region (`drRegion`, only for a tier with disaster recovery: the workflow deploys its DR blueprint first), and the opt-in regions an account tier's account needs enabled (`optInRegions`, only when there is one). */
export const handler = lifecycleHandler('Validate request', async (state: LifecycleState): Promise<LifecycleState['request']> => {
  const parsed = OnboardRequest.safeParse(state.request);
  if (!parsed.success) throw new InvalidRequestError(`invalid onboarding request: ${describeIssues(parsed.error, state.request).join('; ')}`);
  const tierNames = Object.keys(platformConfig().tiers);
  if (tierNames.includes(parsed.data.tenantId)) {
    throw new InvalidRequestError(`invalid onboarding request: tenantId = "${parsed.data.tenantId}": is reserved: it would name the stack tessera-${parsed.data.tenantId}, the name of that tier's OU and usage plan`);
  }
  const tier = tierConfig(parsed.data.tier);
  const drRegion = drRegionOf(tier);
  // An account tier's new account has every opt-in region disabled: *Enable regions* enables these first (none: skipped).
  const optInRegions = tierOptInRegions(platformConfig().homeRegion, tier);
  return { ...parsed.data, isolation: tier.isolation, computeMode: tier.compute.mode, ...(drRegion ? { drRegion } : {}), ...(optInRegions.length > 0 ? { optInRegions } : {}) };
}, { trackStep: false });
