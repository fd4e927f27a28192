import { DeleteStackCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { LIFECYCLE_EVENTS, type LeftBehindResource, type LifecycleKind, type LiftedProtection, type TenantStatus } from '../../lib/tenant-record.js';
import { releaseSlot } from '../shared/control-table.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, recordExecution, sameExecution, updateTenant } from '../shared/registry.js';
import { cloudFormationFor, stackName, type BlueprintKind } from './blueprints.js';
import { DEAD_STACK_STATUSES, removeDeadTenantStack } from './dead-stack.js';
import { describeStack } from './deploy-blueprint.js';
import { describeLeftBehind, leftBehindFrom, stackEvents } from './stack-events.js';
import type { LifecycleState } from './state.js';

/** Stacks in these states never worked (a create that failed): remove them so a re-run can create them afresh. */
const NEVER_WORKED = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_FAILED']);

/**
 * Whether Record failure removes a tenant stack in `status` after a failed `kind`: one that never
 * worked, always; a DELETE_FAILED one only when the stack was meant to go or never served
 * (onboarding, offboarding). A live tenant's DELETE_FAILED stack (someone else's deletion) still
 * holds its database: it is named in the failure for an operator, never deleted by a change.
 */
const removable = (status: string, kind: LifecycleKind) => NEVER_WORKED.has(status) || (DEAD_STACK_STATUSES.has(status) && (kind === 'onboard' || kind === 'offboard'));

export interface FailureInput extends LifecycleState {
  kind: LifecycleKind;
  /** The Catch's ResultPath: `{ Error, Cause }`, Cause being the Lambda's JSON error. */
  error: { Error: string; Cause?: string };
}

function reasonOf(error: FailureInput['error']): string {
  try {
    const cause = JSON.parse(error.Cause ?? '{}') as { errorMessage?: string; errorType?: string };
    return cause.errorMessage ? `${error.Error}: ${cause.errorMessage}` : error.Error;
  } catch {
    return `${error.Error}: ${error.Cause}`;
  }
}

/**
 * The Catch of every lifecycle state machine: removes stacks that never came up, frees the
 * account-creation slot, leaves a new account in quarantine, records FAILED with the step and the
 * reason, and announces the failure. Tenant stacks are created with `RetainExceptOnCreate`, so a
 * rolled-back create leaves nothing; should a dead stack's events still show resources
 * `DELETE_SKIPPED` or `DELETE_FAILED`, they are named (logical id, type, physical id) in the
 * registry's `failure.leftBehind` and in the event, because a re-run would collide with them. A
 * dead tenant stack that cannot be deleted as it is (ROLLBACK_FAILED on a protected database, or
 * DELETE_FAILED) first has its protections lifted (removeDeadTenantStack), each recorded in
 * `failure.liftedProtections`, the execution's history entry, the audit bucket and on the bus;
 * what its deletion then removes is no longer named as left behind. A change whose stack update
 * rolled back leaves the tenant ACTIVE on its previous version, with the failure recorded.
 */
export const handler = lifecycleHandler('Record failure', async (input: FailureInput) => {
  const tenantId = input.request.tenantId;
  const reason = reasonOf(input.error);
  const record = await getTenant(tenantId);
  if (!record || (input.kind === 'onboard' && record.requestId !== input.request.requestId)) {
    // Refused before this request owned a record (invalid, or the id belongs to another
    // request): nothing of ours to clean, and another tenant's record is not to be touched.
    await emitLifecycleEvent(LIFECYCLE_EVENTS.failed, { tenantId, kind: input.kind, step: record ? 'Register tenant' : 'Validate request', reason, requestId: input.request.requestId });
    return { status: 'REJECTED', reason };
  }
  const step = record.currentStep ?? 'unknown';
  const requestId = input.request.requestId;
  const started = record.executions.find((e) => sameExecution(e, { kind: input.kind, requestId, executionArn: input.executionArn }));
  const earlier = started?.liftedProtections ?? [];
  const lifts: LiftedProtection[] = [];
  const cleanup: string[] = [];
  const leftBehind: LeftBehindResource[] = [];
  if (record.accountId) {
    for (const kind of ['namespace', 'tenant'] as BlueprintKind[]) {
      try {
        const cfn = await cloudFormationFor(record, kind, 'cleanup');
        const name = stackName(tenantId, kind);
        const stack = await describeStack(cfn, name);
        const status = stack?.StackStatus ?? '';
        if (!stack || !(kind === 'tenant' ? removable(status, input.kind) : NEVER_WORKED.has(status))) continue;
        let found: LeftBehindResource[] = [];
        try {
          found = leftBehindFrom(name, await stackEvents(cfn, stack.StackId ?? name));
        } catch (e) {
          logger.warn('could not read the events of a failed stack', { stack: name, error: e as Error });
        }
        if (kind === 'namespace') {
          leftBehind.push(...found);
          await cfn.send(new UpdateTerminationProtectionCommand({ StackName: name, EnableTerminationProtection: false }));
          await cfn.send(new DeleteStackCommand({ StackName: name }));
          cleanup.push(`deleted ${status} stack ${name}`);
          continue;
        }
        try {
          const removal = await removeDeadTenantStack(cfn, { ...record, accountId: record.accountId }, stack, {
            earlier, requestId, executionArn: input.executionArn, step: 'Record failure', onLift: (l) => lifts.push(l),
          });
          // A stack that could not roll back or be deleted still holds what failed to delete: it goes
          // with the stack now. What was retained stays outside it.
          const stillHeld = (r: LeftBehindResource) => r.status === 'DELETE_FAILED' && (status === 'ROLLBACK_FAILED' || status === 'DELETE_FAILED');
          leftBehind.push(...(removal.deleted ? found.filter((r) => !stillHeld(r)) : found));
          cleanup.push(removal.deleted
            ? `deleted ${status} stack ${name}`
            : `kept ${status} stack ${name} until the protection of ${removal.waitingFor.join(', ')} shows lifted; a re-run deletes it`);
        } catch (e) {
          leftBehind.push(...found);
          throw e;
        }
      } catch (e) {
        logger.warn('cleanup of a stack failed; a re-run retries it', { error: e as Error });
      }
    }
  }
  if (input.kind === 'onboard') await releaseSlot(tenantId);

  const keepServing = input.kind === 'change' || input.kind === 'upgrade' || input.kind === 'suspend' || input.kind === 'resume';
  const status: TenantStatus = keepServing ? (record.status === 'UPDATING' ? 'ACTIVE' : record.status) : 'FAILED';
  const at = new Date().toISOString();
  const liftedProtections = [...earlier, ...lifts];
  const lifted = liftedProtections.length ? { liftedProtections } : {};
  await recordExecution(tenantId, {
    kind: input.kind, requestId, executionArn: input.executionArn, startedAt: started?.startedAt ?? at, endedAt: at, status: 'FAILED', failedStep: step, reason, ...lifted,
  });
  const failure = { step, reason: leftBehind.length ? `${reason}; left behind: ${leftBehind.map(describeLeftBehind).join('; ')}` : reason, at, ...(leftBehind.length ? { leftBehind } : {}), ...lifted };
  await updateTenant(tenantId, { status, failure });
  await emitLifecycleEvent(LIFECYCLE_EVENTS.failed, { tenantId, kind: input.kind, step, reason: failure.reason, accountId: record.accountId, cleanup, ...(leftBehind.length ? { leftBehind } : {}), ...lifted });
  return { status, step, reason: failure.reason, cleanup, ...(leftBehind.length ? { leftBehind } : {}), ...lifted };
}, { trackStep: false });
