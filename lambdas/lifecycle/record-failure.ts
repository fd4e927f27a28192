import { DeleteStackCommand, UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { LIFECYCLE_EVENTS, type LeftBehindResource, type LifecycleKind, type TenantStatus } from '../../lib/tenant-record.js';
import { releaseSlot } from '../shared/control-table.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import { getTenant, recordExecution, sameExecution, updateTenant } from '../shared/registry.js';
import { cloudFormationFor, executionRoleArn, stackName, type BlueprintKind } from './blueprints.js';
import { describeStack } from './deploy-blueprint.js';
import { describeLeftBehind, leftBehindFrom, stackEvents } from './stack-events.js';
import type { LifecycleState } from './state.js';

/** Stacks in these states never worked: remove them so a re-run can create them afresh. */
const DEAD_STACK = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_FAILED']);

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
 * registry's `failure.leftBehind` and in the event, because a re-run would collide with them. A change whose stack update rolled back leaves the tenant
 * ACTIVE on its previous version, with the failure recorded.
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
  const cleanup: string[] = [];
  const leftBehind: LeftBehindResource[] = [];
  if (record.accountId) {
    for (const kind of ['namespace', 'tenant'] as BlueprintKind[]) {
      try {
        const cfn = await cloudFormationFor(record, kind, 'cleanup');
        const name = stackName(tenantId, kind);
        const stack = await describeStack(cfn, name);
        if (stack && DEAD_STACK.has(stack.StackStatus!)) {
          try {
            leftBehind.push(...leftBehindFrom(name, await stackEvents(cfn, stack.StackId ?? name)));
          } catch (e) {
            logger.warn('could not read the events of a failed stack', { stack: name, error: e as Error });
          }
          await cfn.send(new UpdateTerminationProtectionCommand({ StackName: name, EnableTerminationProtection: false }));
          await cfn.send(new DeleteStackCommand({ StackName: name, RoleARN: kind === 'tenant' ? executionRoleArn(record.accountId) : undefined }));
          cleanup.push(`deleted ${stack.StackStatus} stack ${name}`);
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
  const requestId = input.request.requestId;
  const started = record.executions.find((e) => sameExecution(e, { kind: input.kind, requestId, executionArn: input.executionArn }));
  await recordExecution(tenantId, {
    kind: input.kind, requestId, executionArn: input.executionArn, startedAt: started?.startedAt ?? at, endedAt: at, status: 'FAILED', failedStep: step, reason,
  });
  const failure = { step, reason: leftBehind.length ? `${reason}; left behind: ${leftBehind.map(describeLeftBehind).join('; ')}` : reason, at, ...(leftBehind.length ? { leftBehind } : {}) };
  await updateTenant(tenantId, { status, failure });
  await emitLifecycleEvent(LIFECYCLE_EVENTS.failed, { tenantId, kind: input.kind, step, reason: failure.reason, accountId: record.accountId, cleanup, ...(leftBehind.length ? { leftBehind } : {}) });
  return { status, step, reason: failure.reason, cleanup, ...(leftBehind.length ? { leftBehind } : {}) };
}, { trackStep: false });
