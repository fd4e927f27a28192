import { OnboardRequest } from '../../lib/tenant-record.js';
import { describeIssues } from '../../lib/zod-issues.js';
import { tierConfig } from '../shared/environment.js';
import { InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import type { LifecycleState } from './state.js';

/** Checks the onboarding request and resolves the tier's isolation and compute mode. */
export const handler = lifecycleHandler('Validate request', async (state: LifecycleState): Promise<LifecycleState['request']> => {
  const parsed = OnboardRequest.safeParse(state.request);
  if (!parsed.success) throw new InvalidRequestError(`invalid onboarding request: ${describeIssues(parsed.error, state.request).join('; ')}`);
  const tier = tierConfig(parsed.data.tier);
  return { ...parsed.data, isolation: tier.isolation, computeMode: tier.compute.mode };
}, { trackStep: false });
