import { DetachPolicyCommand, ListPoliciesForTargetCommand } from '@aws-sdk/client-organizations';
import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { completeOperation } from './lease.js';
import { QUARANTINE_SCP, scpIdByName } from './organization-lookup.js';
import type { LifecycleState } from './state.js';

/**
 * Makes the tenant ACTIVE, in an order that a crash between any two writes leaves finishable by a
 * retry of this step (or by a re-run):
 * 1. the record says ACTIVE (conditional: PROVISIONING, this execution holds the lease; the lease is kept);
 * 2. account mode: the quarantine SCP comes off the account — never before the record says ACTIVE,
 *    so a failure leaves an account that is fenced under a tenant that is not served;
 * 3. the history entry says SUCCEEDED and the lease is released, in one write;
 * 4. `Tenant Activated` on the bus.
 */
export const handler = lifecycleHandler('Activate tenant', async (state: LifecycleState) => {
  const request = { kind: 'onboard' as const, executionArn: state.executionArn!, requestId: state.request.requestId };
  let record = await requireTenant(state.request.tenantId);
  if (record.status !== 'ACTIVE') record = await updateTenant(record.tenantId, { status: 'ACTIVE', currentStep: 'Activate tenant' }, { expectStatus: ['PROVISIONING'] });
  if (record.isolation === 'account' && record.accountId) {
    const orgs = await organizationsClient();
    const quarantine = await scpIdByName(orgs, QUARANTINE_SCP);
    const attached = await orgs.send(new ListPoliciesForTargetCommand({ TargetId: record.accountId, Filter: 'SERVICE_CONTROL_POLICY' }));
    if (attached.Policies?.some((p) => p.Id === quarantine)) {
      await orgs.send(new DetachPolicyCommand({ PolicyId: quarantine, TargetId: record.accountId }));
    }
  }
  const active = await completeOperation(record.tenantId, request);
  await emitLifecycleEvent(LIFECYCLE_EVENTS.activated, {
    tenantId: active.tenantId, tier: active.tier, isolation: active.isolation, accountId: active.accountId, blueprintVersion: active.blueprintVersion, executionArn: state.executionArn,
  });
  return { status: active.status };
}, { trackStep: false }); // its first write names the step; a retry after step 3 must not need the lease
