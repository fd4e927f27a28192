import { DeleteStackCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import type { LiftedProtection, TenantRecord } from '../../lib/tenant-record.js';
import { executionRoleArn } from './blueprints.js';
import { liftStackProtections } from './lift-protections.js';
import type { LiftLedger } from './protection-lift.js';
import { deleteStackTarget, deleteStackToken } from './delete-token.js';

/**
 * Tenant stack statuses in which the stack cannot serve and cannot be updated, only deleted:
 * a create that rolled back (`ROLLBACK_COMPLETE`), or could not roll back (`ROLLBACK_FAILED`: a
 * resource refused its deletion, typically a deletion-protected database), a create without
 * rollback that failed (`CREATE_FAILED`), and a deletion that failed (`DELETE_FAILED`).
 */
export const DEAD_STACK_STATUSES: ReadonlySet<string> = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_FAILED', 'DELETE_FAILED']);

export interface DeadStackRemoval {
  /** Protections still showing on (busy, or lifted and not showing yet): the stack is deleted on a later call. */
  waitingFor: string[];
  /** DeleteStack was issued. */
  deleted: boolean;
  /** The lifts this call made or confirmed (on record in the caller's ledger). */
  lifted: LiftedProtection[];
}

export { sameLift } from './protection-lift.js';

/**
 * Removes a dead tenant stack that cannot be deleted as it is: lifts what would fail its deletion
 * (*Lift protections*' logic: termination protection, RDS `DeletionProtection` of the instances the
 * stack still holds, and the rest of PROTECTIONS), each through liftOnRecord (protection-lift.ts): its intent on
 * record before the lift, then the lift in `context.ledger` (the caller's registry record: awaited before the
 * announcement and the next lift, so a Lambda timeout later in the step, or between a lift and its record, loses
 * none), the audit bucket and the bus; then deletes the stack as the execution role. A lift `context.ledger` holds
 * already is not made or recorded again. While a protection still shows (the resource is busy, or the lift is not
 * visible yet) the stack is not deleted: the deletion would fail on it again, so the caller comes back.
 */
export async function removeDeadTenantStack(
  cfn: CloudFormationClient,
  record: TenantRecord & { accountId: string },
  stack: Stack,
  context: { ledger: LiftLedger; requestId: string; executionArn?: string; step: string; beforeDelete?: (operation: string) => Promise<void> },
): Promise<DeadStackRemoval> {
  const name = stack.StackName!;
  const { waitingFor, lifted } = await liftStackProtections(cfn, record, stack, {
    recheck: true,
    ledger: context.ledger,
    actor: { requestId: context.requestId, executionArn: context.executionArn, step: context.step, reason: `dead stack ${stack.StackStatus}: lifted so that the stack can be deleted` },
  });
  if (waitingFor.length) return { waitingFor, lifted, deleted: false };
  // The caller's last check that it may still delete it (deploy-blueprint.ts: the execution's lease, holdLeaseFor).
  await context.beforeDelete?.(`DeleteStack of stack ${name}`);
  await cfn.send(new DeleteStackCommand({ StackName: deleteStackTarget(stack), RoleARN: executionRoleArn(record.accountId), ClientRequestToken: deleteStackToken(context.executionArn ?? context.requestId, stack, context.step) }));
  return { waitingFor, lifted, deleted: true };
}
