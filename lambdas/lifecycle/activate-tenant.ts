import { DetachPolicyCommand, ListPoliciesForTargetCommand } from '@aws-sdk/client-organizations';
import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { recordExecution, requireTenant, updateTenant, sameExecution } from '../shared/registry.js';
import { organizationsClient } from '../shared/sessions.js';
import { QUARANTINE_SCP, scpIdByName } from './organization-lookup.js';
import type { LifecycleState } from './state.js';

/** Lifts the quarantine (account mode), marks the tenant ACTIVE and announces it. */
export const handler = lifecycleHandler('Activate tenant', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  if (record.isolation === 'account' && record.accountId) {
    const orgs = await organizationsClient();
    const quarantine = await scpIdByName(orgs, QUARANTINE_SCP);
    const attached = await orgs.send(new ListPoliciesForTargetCommand({ TargetId: record.accountId, Filter: 'SERVICE_CONTROL_POLICY' }));
    if (attached.Policies?.some((p) => p.Id === quarantine)) {
      await orgs.send(new DetachPolicyCommand({ PolicyId: quarantine, TargetId: record.accountId }));
    }
  }
  const started = record.executions.find((e) => sameExecution(e, { kind: 'onboard', requestId: state.request.requestId, executionArn: state.executionArn }));
  await recordExecution(record.tenantId, {
    kind: 'onboard', requestId: state.request.requestId, executionArn: state.executionArn,
    startedAt: started?.startedAt ?? record.createdAt, endedAt: new Date().toISOString(), status: 'SUCCEEDED',
  });
  const active = await updateTenant(record.tenantId, { status: 'ACTIVE', currentStep: undefined, failure: undefined });
  await emitLifecycleEvent(LIFECYCLE_EVENTS.activated, {
    tenantId: active.tenantId, tier: active.tier, isolation: active.isolation, accountId: active.accountId, blueprintVersion: active.blueprintVersion,
  });
  return { status: active.status };
});
