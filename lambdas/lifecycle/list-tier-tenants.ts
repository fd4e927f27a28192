import { lifecycleHandler } from '../shared/handler.js';
import { listTenants } from '../shared/registry.js';
import type { LifecycleState } from './state.js';

export interface UpgradeInput {
  tier: string;
  blueprintVersion: string;
  requestId: string;
}

/** The ACTIVE tenants of a tier not yet on the target blueprint version: the rolling upgrade's work list. */
export const handler = lifecycleHandler('List tier tenants', async (input: UpgradeInput): Promise<LifecycleState[]> => {
  const tenants = await listTenants({ tier: input.tier });
  return tenants
    .filter((t) => t.status === 'ACTIVE' && t.blueprintVersion !== input.blueprintVersion)
    .map((t) => ({
      request: { tenantId: t.tenantId, requestId: `${input.requestId}-${t.tenantId}`.slice(0, 80), name: t.name, tier: t.tier, adminEmail: t.adminEmail },
      change: { tier: input.tier, blueprintVersion: input.blueprintVersion },
    }));
}, { trackStep: false });
