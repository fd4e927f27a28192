import { DescribeChangeSetCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { logger } from '../shared/handler.js';

/** What *Deploy blueprint* answered (`$.deploy`, passed to *Check blueprint*): the change set it ran, when it ran one. */
export interface DeployAnswer {
  /** The change set of this execution and what updateThroughChangeSet did with it (change-set-guard.ts ChangeSetOutcome). */
  changeSet?: { name: string; outcome: string };
  /** The interim update (cache-failover-interim.ts): *Deploy blueprint* runs again for the target once it is complete. */
  interim?: boolean;
}

/** The change set whose update a stack read does not show yet: its name, its ExecutionStatus, and why the read is not taken. */
export interface AwaitedChangeSet {
  name: string;
  executionStatus: string;
  why: string;
}

/** ExecutionStatus of a change set whose update has not ended: AVAILABLE (executed, the update not started yet), EXECUTE_IN_PROGRESS. */
const NOT_ENDED = new Set(['AVAILABLE', 'UNAVAILABLE', 'EXECUTE_IN_PROGRESS']);

/**
 * Whether `stack` (DescribeStacks, in a final status) may be taken as the outcome of the change set *Deploy blueprint*
 * executed (`deployed.changeSet`, outcome EXECUTED or ALREADY_EXECUTED), or is still the stack as it was before it.
 *
 * ExecuteChangeSet only starts the update ("After the call successfully completes, CloudFormation starts updating the
 * stack. Use the DescribeStacks action to view the status of the update": API reference, ExecuteChangeSet), and
 * DescribeStacks is eventually consistent: a read after it may still show the status the stack had before, say
 * UPDATE_COMPLETE of the previous update (or UPDATE_ROLLBACK_COMPLETE of an earlier failed one), with its old outputs and
 * tags. *Check blueprint* took that for the update done: it recorded the old outputs and version, cleared the lease's
 * change-set mark (marked-stack-update.ts) and let the workflow go on (after an interim update, to the target's change
 * set on a stack about to update) while the update had not run.
 *
 * So the change set is read (DescribeChangeSet: its ExecutionStatus is AVAILABLE until the execution starts,
 * EXECUTE_IN_PROGRESS while the update runs, EXECUTE_COMPLETE or EXECUTE_FAILED once it ended: API reference,
 * ChangeSetSummary): not ended → awaited. Ended, the read is still not taken while the stack's LastUpdatedTime (the
 * time of its last update, returned once it was updated at least once: API reference, Stack) is before the change set's
 * CreationTime, which an update made from the change set cannot be: a read from before the update, taken again at the
 * next poll. A read still in a CREATE_* status is from before the update too (an executed UPDATE change set leaves an
 * UPDATE_* status; a stack never updated has no LastUpdatedTime to compare). Without either time (an emulator such as
 * moto gives neither) the ExecutionStatus alone decides.
 * @returns undefined when the read is taken (no change set executed by *Deploy blueprint*, its update ended and the read
 *   not older than it, or the change set not found: CloudFormation keeps an executed change set, so a missing one is
 *   logged and the read taken as before)
 */
export async function awaitedChangeSet(cfn: CloudFormationClient, stack: Stack, deployed: DeployAnswer | undefined): Promise<AwaitedChangeSet | undefined> {
  const ran = deployed?.changeSet;
  if (!ran || (ran.outcome !== 'EXECUTED' && ran.outcome !== 'ALREADY_EXECUTED')) return undefined;
  let cs;
  try {
    // By the stack's name, as Deploy blueprint created and executed it (change-set-guard.ts).
    cs = await cfn.send(new DescribeChangeSetCommand({ StackName: stack.StackName, ChangeSetName: ran.name }));
  } catch (e) {
    if ((e as Error).name !== 'ChangeSetNotFoundException' && (e as Error).name !== 'ChangeSetNotFound') throw e;
    logger.warn('the change set Deploy blueprint executed is not found: the stack as read is taken', { stack: stack.StackName, changeSet: ran.name, status: stack.StackStatus });
    return undefined;
  }
  const executionStatus = cs.ExecutionStatus ?? 'no execution status';
  if (NOT_ENDED.has(executionStatus)) {
    return { name: ran.name, executionStatus, why: `change set ${ran.name} is ${executionStatus}: its update has not ended, the stack's ${stack.StackStatus} is from before it` };
  }
  // Deploy blueprint's change sets are UPDATE change sets (change-set-guard.ts): once one ran, the stack's status is an
  // UPDATE_* one. A read still CREATE_* is from before it: a stack made by CreateStack and never updated since (a DR or a
  // namespace stack before its first upgrade) has no LastUpdatedTime to compare below.
  if (stack.StackStatus?.startsWith('CREATE_')) {
    return { name: ran.name, executionStatus, why: `stack ${stack.StackName} read ${stack.StackStatus}, never updated, while change set ${ran.name} is ${executionStatus}: a read from before its update` };
  }
  const last = stack.LastUpdatedTime;
  if (last && cs.CreationTime && last.getTime() < cs.CreationTime.getTime()) {
    return { name: ran.name, executionStatus, why: `stack ${stack.StackName} read ${stack.StackStatus} last updated at ${last.toISOString()}, before change set ${ran.name} was created (${cs.CreationTime.toISOString()}): a read from before its update` };
  }
  return undefined;
}
