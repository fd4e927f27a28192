import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { cloudFormationFor } from './blueprints.js';
import { applyCustomization, recordCustomization, tierCustomizations } from './customizations.js';
import type { LifecycleState } from './state.js';

/** The step's result (`$.customizations`): COMPLETE once every customization stands; IN_PROGRESS while `current`'s operation runs. */
export interface CustomizationProgress {
  state: 'COMPLETE' | 'IN_PROGRESS';
  /** Customizations this execution brought to their template, in order. */
  done: string[];
  /** The customization whose create or update this execution started and waits for. */
  current?: string;
}

/**
 * *Deploy customizations* and *Check customizations* (the same function; lambdas/lifecycle/customizations.ts): after the
 * tier blueprint of an onboarding, a change or a rolling upgrade, each account customization of the target tier
 * (`tiers.<tier>.accountCustomizations`, account isolation only) as its own stack `tessera-<tenant>-custom-<name>` in the
 * tenant's account, one after the other in config order (a later one may import an earlier one's exports), as the
 * account customizations role (tessera-account-customizations, from the account baseline), with its status in the registry's `customizations`. The check passes the previous answer
 * (`customizations`); the state machine waits between calls. A customization the tenant's records hold that the target
 * tier no longer lists is recorded RETAINED (its stack stays until offboarding). A tier without customizations: COMPLETE
 * at once, no call into the account.
 */
export const handler = lifecycleHandler('Deploy customizations', async (state: LifecycleState & { kind?: 'change' | 'upgrade'; customizations?: Partial<CustomizationProgress> }): Promise<CustomizationProgress> => {
  const record = await requireTenant(state.request.tenantId);
  const tier = state.change?.tier ?? record.tier;
  const entries = tierCustomizations(tier);
  const done = [...(state.customizations?.done ?? [])];
  if (entries.length) {
    const cfn = await cloudFormationFor(record, 'tenant', 'deploy');
    for (const entry of entries) {
      if (done.includes(entry.name)) continue;
      const step = await applyCustomization(cfn, record, state, tier, entry, state.customizations?.current === entry.name);
      if (step === 'IN_PROGRESS') return { state: 'IN_PROGRESS', done, current: entry.name };
      done.push(entry.name);
    }
  }
  const listed = new Set(entries.map((e) => e.name));
  const now = await requireTenant(record.tenantId);
  for (const [name, c] of Object.entries(now.customizations ?? {})) {
    if (!listed.has(name) && c.status !== 'DELETED' && c.status !== 'RETAINED') await recordCustomization(record.tenantId, name, { ...c, status: 'RETAINED' });
  }
  return { state: 'COMPLETE', done };
});
