import { ENV, requireEnv, tierConfig } from '../shared/environment.js';
import { InvalidRequestError } from '../shared/errors.js';
import { lifecycleHandler } from '../shared/handler.js';
import { recordExecution, requireTenant, updateTenant } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

/**
 * Starts a tier change or blueprint upgrade: checks the target, then UPDATING (still served).
 * Moving between isolation modes (VPC ↔ account) is a migration, not a stack update: refused.
 */
export const handler = lifecycleHandler('Begin change', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  const tier = state.change?.tier ?? record.tier;
  const target = tierConfig(tier);
  if (target.isolation !== record.isolation) {
    throw new InvalidRequestError(`tier "${tier}" isolates by ${target.isolation}, tenant ${record.tenantId} by ${record.isolation}; changing isolation is a migration (offboard and onboard), not a tier change`);
  }
  await updateTenant(record.tenantId, { status: 'UPDATING' }, { expectStatus: ['ACTIVE'] });
  await recordExecution(record.tenantId, { kind: 'change', requestId: state.request.requestId, executionArn: state.executionArn, startedAt: new Date().toISOString(), status: 'RUNNING' });
  return { tier, blueprintVersion: state.change?.blueprintVersion ?? requireEnv(ENV.blueprintVersion), computeMode: target.compute.mode };
});
