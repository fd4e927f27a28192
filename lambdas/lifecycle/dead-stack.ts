import { DeleteStackCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import type { LiftedProtection, TenantRecord } from '../../lib/tenant-record.js';
import { executionRoleArn } from './blueprints.js';
import { announceLift, liftStackProtections } from './lift-protections.js';

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
}

/** Same lift: the same protection of the same physical resource (a re-created stack has new ids). */
export const sameLift = (a: Omit<LiftedProtection, 'at'>, b: Omit<LiftedProtection, 'at'>) => a.physicalId === b.physicalId && a.protection === b.protection;

/**
 * Removes a dead tenant stack that cannot be deleted as it is: lifts what would fail its deletion
 * (*Lift protections*' logic: termination protection, RDS `DeletionProtection` of the instances the
 * stack still holds, and the rest of PROTECTIONS), each lift announced at once in the audit bucket
 * and on the bus and handed to `onLift` for the caller's registry record (awaited before the
 * announcement and the next lift: a caller that writes it there has each lift on record before the
 * next one is made, so a Lambda timeout later in the step loses none), then deletes the stack
 * as the execution role. A lift already in `earlier` is not made or recorded again. While a
 * protection still shows (the resource is busy, or the lift is not visible yet) the stack is not
 * deleted: the deletion would fail on it again, so the caller comes back.
 */
export async function removeDeadTenantStack(
  cfn: CloudFormationClient,
  record: TenantRecord & { accountId: string },
  stack: Stack,
  context: { earlier: readonly LiftedProtection[]; requestId: string; executionArn?: string; step: string; onLift(lift: LiftedProtection): Promise<void> | void },
): Promise<DeadStackRemoval> {
  const name = stack.StackName!;
  const mine: LiftedProtection[] = [];
  const { waitingFor } = await liftStackProtections(cfn, record, stack, {
    recheck: true,
    recorded: (l) => [...context.earlier, ...mine].some((e) => sameLift(e, l)),
    onLift: async (lift) => {
      mine.push(lift);
      await context.onLift(lift);
      await announceLift(record, stack.StackId ?? name, lift, {
        requestId: context.requestId, executionArn: context.executionArn, step: context.step,
        reason: `dead stack ${stack.StackStatus}: lifted so that the stack can be deleted`,
      });
    },
  });
  if (waitingFor.length) return { waitingFor, deleted: false };
  await cfn.send(new DeleteStackCommand({ StackName: name, RoleARN: executionRoleArn(record.accountId) }));
  return { waitingFor, deleted: true };
}
