import { LIFECYCLE_EVENTS, requestedBy } from '../../lib/tenant-record.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { owe, sendOwed } from './announcements.js';
import { completeOperation } from './lease.js';
import type { LifecycleState } from './state.js';

/**
 * Records the new tier and the new tags (`change.tags`, when the change gave some), ACTIVE again, the history entry SUCCEEDED (with `tierChange` when the tier changed), the lease released and
 * `Tenant Changed` owed (with `tags` when the change changed them; `actor` and `reason` where its history entry has them:
 * lib/tenant-record.ts requestedBy), in one conditional write; then announces it (announcements.ts). A retry
 * after the write finds it done and sends the announcement if it is still owed.
 */
export const handler = lifecycleHandler('Finish change', async (state: LifecycleState & { kind?: 'change' | 'upgrade' }) => {
  const before = await requireTenant(state.request.tenantId);
  const tier = state.change?.tier ?? before.tier;
  const announcement = owe(before, LIFECYCLE_EVENTS.changed, {
    tenantId: before.tenantId, previousTier: state.change?.previousTier ?? before.tier, tier, blueprintVersion: before.blueprintVersion, executionArn: state.executionArn,
    // A change of the tenant's tags: all of them after it (`{}`: none left), as Tenant Activated carries them.
    ...(state.change?.tags !== undefined ? { tags: state.change.tags } : {}),
    // Who asked and why, from the execution's history entry as Tenant Suspended, Resumed and Offboarded carry them: the
    // admin API's caller (a rolling upgrade's run: the upgrade's), and the request's reason where it gave one.
    ...requestedBy(before, state.executionArn),
  }, state.executionArn);
  // The tier change on the history entry, with the tier before it as *Begin change* read it (check-stack.ts may have
  // recorded the new tier already): the statements label each month with the tiers it had (lib/statements/tenant-months.ts).
  const previousTier = state.change?.previousTier;
  const entry = previousTier !== undefined && previousTier !== tier ? { tierChange: { from: previousTier, to: tier } } : {};
  // New tags (change.tags) replace the recorded ones; none left (`{}`) removes the attribute, as an onboarding without tags has none.
  const tags = state.change?.tags !== undefined ? { tags: Object.keys(state.change.tags).length > 0 ? state.change.tags : undefined } : {};
  const updated = await completeOperation(before.tenantId, { kind: state.kind ?? 'change', executionArn: state.executionArn!, requestId: state.request.requestId }, { tier, ...tags, ...announcement }, undefined, entry);
  await sendOwed(updated);
  return { status: updated.status, tier: updated.tier, blueprintVersion: updated.blueprintVersion };
}, { trackStep: false });
