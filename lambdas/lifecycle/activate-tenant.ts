import { LIFECYCLE_EVENTS } from '../../lib/tenant-record.js';
import { lifecycleHandler } from '../shared/handler.js';
import type { LifecycleExecution, TenantRecord } from '../../lib/tenant-record.js';
import { getTenant, recordExecution, requireTenant, TenantBusyError, TenantConflictError, updateTenant } from '../shared/registry.js';
import { platformConfig } from '../shared/environment.js';
import { organizationsClient } from '../shared/sessions.js';
import { owe, sendOwed } from './announcements.js';
import { completeOperation } from './lease.js';
import { fenceAccount } from './pending-account.js';
import { detachExternalQuarantine, keepDetached } from './external-quarantine.js';
import { detachPolicyOnce, QUARANTINE_SCP, scpIdByName } from './organization-lookup.js';
import type { LifecycleState } from './state.js';

/**
 * Makes the tenant ACTIVE, in an order that a crash between any two writes leaves finishable by a
 * retry of this step (or by a re-run):
 * 1. the record says ACTIVE (conditional: PROVISIONING, this execution holds the lease; the lease is kept);
 * 2. account mode: the SCPs of `organization.externalQuarantinePolicies` (another tool's quarantine,
 *    e.g. LZA's) come off the account, then the quarantine SCP — never before the record says ACTIVE,
 *    and tessera-quarantine last, so a failure leaves an account that is fenced under a tenant that
 *    is not served;
 * 3. the history entry says SUCCEEDED (with what became of each external SCP, `externalQuarantinePolicies`, and of
 *    tessera-quarantine, `tesseraQuarantine`: DETACHED or NOT_ATTACHED), the lease is released and `Tenant Activated`
 *    is owed, in one write; the external SCPs' outcome is written on the running entry first when one came off,
 *    so a retry after tessera-quarantine's detach failed still records them DETACHED;
 * 4. `Tenant Activated` on the bus, then no longer owed (announcements.ts: a retry sends it if still owed). Its detail:
 *    `{ tenantId, tier, isolation, accountId, blueprintVersion, executionArn }`, and `tags` (key to value) when the tenant
 *    has tags of its own (lib/tenant-tags.ts).
 * Run twice for the same execution (Step Functions' at-least-once Tasks), the second finds step 1
 * done by its execution and goes on. When step 3 fails after step 2 lifted the quarantine (the
 * lease was ended meanwhile), the quarantine goes back on before the error is rethrown.
 */
export const handler = lifecycleHandler('Activate tenant', async (state: LifecycleState) => {
  const request = { kind: 'onboard' as const, executionArn: state.executionArn!, requestId: state.request.requestId };
  let record = await requireTenant(state.request.tenantId);
  // ACTIVE by another execution: this one's operation ended without it (stopped, failed; its lease released) and it runs
  // again — `aws stepfunctions redrive-execution` re-runs the state it stopped in, not the lease-taking first step — or
  // late. Refused before any Organizations call: going on, its completing write failed and the quarantine went back
  // on an ACTIVE tenant's account (the catch below).
  if (record.status === 'ACTIVE' && !activatedBy(record, request.executionArn)) {
    throw new TenantBusyError(`tenant "${record.tenantId}" is ACTIVE, not by execution ${request.executionArn}: its onboarding ended without it (a redriven or late run; its lease was released); nothing changed. Follow the tenant with tessera tenants show ${record.tenantId}; a new attempt is a new execution (tessera tenants retry), never a redrive`);
  }
  if (record.status !== 'ACTIVE') {
    try {
      record = await updateTenant(record.tenantId, { status: 'ACTIVE', currentStep: 'Activate tenant' }, { expectStatus: ['PROVISIONING'] });
    } catch (e) {
      // A second invocation of this step for the same execution (Step Functions runs a Task at least
      // once) wrote ACTIVE first: done, not a conflict.
      if (!(e instanceof TenantConflictError)) throw e;
      const now = await requireTenant(record.tenantId);
      if (now.status !== 'ACTIVE' || !activatedBy(now, request.executionArn)) throw e;
      record = now;
    }
  }
  const orgs = record.isolation === 'account' && record.accountId ? await organizationsClient() : undefined;
  const detaches: Pick<LifecycleExecution, 'externalQuarantinePolicies' | 'tesseraQuarantine'> = {};
  if (orgs) {
    const accountId = record.accountId!;
    // PolicyNotAttachedException (a DetachPolicy sent again after its answer was lost, or the other invocation of this
    // Task detached it first) counts as lifted: organization-lookup.ts detachPolicyOnce. The external SCPs first:
    // until they are off, tessera-quarantine still fences the account.
    const running = record.executions.find((e) => e.executionArn === request.executionArn);
    const external = keepDetached(running?.externalQuarantinePolicies, await detachExternalQuarantine(orgs, accountId, platformConfig().organization.externalQuarantinePolicies));
    if (external.length) detaches.externalQuarantinePolicies = external;
    // On the running entry before tessera-quarantine comes off: a retry of this step after that detach failed finds
    // them off (NOT_ATTACHED) and keeps this record of them (keepDetached); the ending write keeps the running entry's fields.
    if (running && external.some((p) => p.result === 'DETACHED' && !running.externalQuarantinePolicies?.includes(p))) {
      record = await recordExecution(record.tenantId, { ...running, externalQuarantinePolicies: external });
    }
    const quarantine = await scpIdByName(orgs, QUARANTINE_SCP);
    const lifted = await detachPolicyOnce(orgs, quarantine, accountId);
    detaches.tesseraQuarantine = { policyId: quarantine, name: QUARANTINE_SCP, accountId, result: lifted ? 'DETACHED' : 'NOT_ATTACHED', at: new Date().toISOString() };
  }
  let active;
  try {
    active = await completeOperation(record.tenantId, request, owe(record, LIFECYCLE_EVENTS.activated, {
      tenantId: record.tenantId, tier: record.tier, isolation: record.isolation, accountId: record.accountId, blueprintVersion: record.blueprintVersion, executionArn: state.executionArn,
      // The tenant's own tags (lib/tenant-tags.ts), when it has some: a consumer (a CMDB, a billing export) takes them from the event.
      ...(record.tags ? { tags: record.tags } : {}),
    }, state.executionArn), undefined, detaches);
  } catch (e) {
    // The operation did not complete (its lease was ended meanwhile: a duplicate invocation failed
    // and Record failure ran): the account gets its quarantine back unless this execution did
    // complete it, so a tenant that is not ACTIVE never has an open account.
    if (orgs) {
      const now = await getTenant(record.tenantId).catch(() => undefined);
      if (!(now?.status === 'ACTIVE' && !now.lease && now.executions.some((x) => x.executionArn === request.executionArn && x.status === 'SUCCEEDED'))) {
        await fenceAccount(orgs, record.accountId!);
      }
    }
    throw e;
  }
  await sendOwed(active);
  return { status: active.status };
}, { trackStep: false }); // its first write names the step; a retry after step 3 must not need the lease

/** Whether `executionArn` is the onboarding that made the tenant ACTIVE: it holds the lease, or completed. */
function activatedBy(record: TenantRecord, executionArn: string): boolean {
  return record.lease?.executionArn === executionArn || record.executions.some((x) => x.executionArn === executionArn && x.status === 'SUCCEEDED');
}
