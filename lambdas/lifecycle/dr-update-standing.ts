import type { Stack } from '@aws-sdk/client-cloudformation';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { logger } from '../shared/handler.js';
import { cloudFormationFor, describeStack } from './blueprints.js';
import { drCreateStanding, tierHasDrIn } from './dr-create-standing.js';
import { ownershipProblem } from './stack-ownership.js';
import { stackTierAndVersion, UPDATE_SUCCEEDED } from './stack-tags.js';

type DrRecord = NonNullable<TenantRecord['disasterRecovery']>;

/**
 * What *Record failure* records of an onboarding's standing DR stack (recorded ACTIVE, read back by name in its region,
 * this tenant's: stack-ownership.ts) that an onboarding re-run updated through a change set, when the step that sent
 * ExecuteChangeSet failed after the call went through (its answer lost: the Lambda timed out, the step's retries
 * exhausted), so neither *Deploy DR blueprint* nor *Check DR blueprint* recorded the update. An onboarding marks no update
 * on its lease (deploy-blueprint.ts: only a change's or upgrade's, which marked-dr-standing.ts records), so before, the
 * record kept `deployedWith` on the tier and version before the update (e.g. 1.0.0 while the stack ran 2.0.0):
 *
 * - `UPDATE_COMPLETE` (or `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`) with a tier and version in its tags (CloudFormation's
 *   `tessera:tier` and `tessera:blueprint-version` stack tags, which the change set's execution sets) other than the
 *   recorded ones: recorded on them (`deployedWith`, without an execution: which one updated it is not known), its status
 *   kept, and the failure's reason says so.
 * - `UPDATE_IN_PROGRESS`: the update runs. The record is kept and the failure's reason says so (a re-run of the
 *   onboarding waits for it, StackBusy, then records what it deploys).
 *
 * Anything else (the tags the recorded ones, another status, no tags): no change.
 * @param dr the tenant's DR record, ACTIVE
 * @param stack the DR stack as DescribeStacks answered it (StackStatus, Tags)
 * @param cleanup, notes the failure's cleanup list and reason notes, appended to
 * @returns the registry change, or `{}` to keep the record as it is
 */
export function drUpdateStanding(dr: DrRecord, stack: Stack, cleanup: string[], notes: string[]): Pick<TenantRecord, 'disasterRecovery'> | Record<string, never> {
  const stackStatus = stack.StackStatus ?? '';
  if (stackStatus === 'UPDATE_IN_PROGRESS') {
    notes.push(`DR stack ${dr.stackName} (${dr.region}) is being updated (UPDATE_IN_PROGRESS): kept recorded ${dr.status}${dr.deployedWith ? ` on tier ${dr.deployedWith.tier}, version ${dr.deployedWith.blueprintVersion}` : ''}; a re-run of the onboarding waits for it`);
    return {};
  }
  if (!UPDATE_SUCCEEDED.has(stackStatus)) return {};
  const { tier, version } = stackTierAndVersion(stack);
  const recorded = dr.deployedWith;
  if (!tier || !version || (recorded?.tier === tier && recorded.blueprintVersion === version)) return {};
  const was = recorded ? `tier ${recorded.tier}, version ${recorded.blueprintVersion}` : 'no tier and version';
  notes.push(`DR stack ${dr.stackName} (${dr.region}) completed an update to tier ${tier}, version ${version} (${stackStatus}) before the execution ended: recorded on it (was ${was})`);
  cleanup.push(`DR stack ${dr.stackName} (${dr.region}) is ${stackStatus} on tier ${tier}, version ${version}: recorded`);
  return { disasterRecovery: { ...dr, updatedAt: new Date().toISOString(), deployedWith: { tier, blueprintVersion: version } } };
}

/**
 * {@link drUpdateStanding} of the tenant's DR stack, read in its region (the tenant account's role, session `cleanup`),
 * for *Record failure* of an onboarding whose record has the DR stack ACTIVE. Best effort: a stack not found, not this
 * tenant's (stack-ownership.ts) or not readable changes nothing (logged), and never hides the failure.
 * @returns the registry change, or `{}`
 */
export async function onboardingDrUpdateStanding(record: TenantRecord, cleanup: string[], notes: string[]): Promise<Pick<TenantRecord, 'disasterRecovery'> | Record<string, never>> {
  const dr = record.disasterRecovery;
  if (!dr || dr.status !== 'ACTIVE' || !record.accountId) return {};
  try {
    const stack = await describeStack(await cloudFormationFor(record, 'dr', 'cleanup', dr.region), dr.stackName);
    if (!stack || ownershipProblem(stack, record, 'dr')) return {};
    return drUpdateStanding(dr, stack, cleanup, notes);
  } catch (e) {
    logger.warn('could not read the DR stack an onboarding may have updated; its record is kept', { stack: dr.stackName, region: dr.region, error: e as Error });
    return {};
  }
}

/**
 * What End stopped execution records of the DR stack of an onboarding stopped (StopExecution, a timeout) without its Catch,
 * so *Record failure*'s reads of the DR stack (onboardingDrUpdateStanding above, record-failure.ts's drCreateStanding)
 * never ran, read back by name in its region (this tenant's: stack-ownership.ts). Stopped while the DR blueprint's change
 * set executed, the step's Lambda runs on (Step Functions does not stop it) and records the DR stack DEPLOYING on the new
 * tier and version, and *Check DR blueprint* never runs: the registry said DEPLOYING (not deployed) while the stack stood
 * UPDATE_COMPLETE; with the Lambda's write refused (the lease ended first), ACTIVE on the version before.
 *
 * - ACTIVE: drUpdateStanding (an update completed to other tags: recorded on them).
 * - DEPLOYING, the stack CREATE_COMPLETE or still CREATE_IN_PROGRESS: drCreateStanding.
 * - DEPLOYING, the stack UPDATE_COMPLETE (or `…_CLEANUP_IN_PROGRESS`): the update went through, as *Check DR blueprint*
 *   would have found it: ACTIVE (RETAINED when the recorded tier has no DR there, as drCreateStanding) on the tier and
 *   version its tags say. `UPDATE_IN_PROGRESS`: DEPLOYING is true, kept, and the reason says so.
 *
 * Anything else: no change (a re-run of the onboarding, or its *Record failure*, deals with a dead stack). Best effort: a
 * stack not found, not this tenant's, or not readable changes nothing (logged), and never hides the failure.
 * @param notes the failure's reason notes, appended to
 * @returns the registry change, or `{}` to keep the record as it is
 */
export async function stoppedOnboardingDrStanding(record: TenantRecord, notes: string[]): Promise<Pick<TenantRecord, 'disasterRecovery'> | Record<string, never>> {
  const dr = record.disasterRecovery;
  if (!dr || (dr.status !== 'ACTIVE' && dr.status !== 'DEPLOYING') || !record.accountId) return {};
  try {
    const stack = await describeStack(await cloudFormationFor(record, 'dr', 'End stopped execution', dr.region), dr.stackName);
    if (!stack || ownershipProblem(stack, record, 'dr')) return {};
    return stoppedDrStanding(dr, stack, tierHasDrIn(record, dr.region), notes);
  } catch (e) {
    logger.warn('could not read the DR stack of the stopped onboarding; its record is kept', { stack: dr.stackName, region: dr.region, error: e as Error });
    return {};
  }
}

/**
 * stoppedOnboardingDrStanding's decision on the DR stack as read (`stack`: StackStatus, Tags), the record's `dr` ACTIVE or
 * DEPLOYING; `tierHasDrHere` whether the recorded tier has its DR region where the stack is.
 * @returns the registry change, or `{}` to keep the record as it is
 */
export function stoppedDrStanding(dr: DrRecord, stack: Stack, tierHasDrHere: boolean, notes: string[]): Pick<TenantRecord, 'disasterRecovery'> | Record<string, never> {
  const cleanup: string[] = [];
  if (dr.status === 'ACTIVE') return drUpdateStanding(dr, stack, cleanup, notes);
  const created = drCreateStanding(dr, stack, tierHasDrHere, cleanup, notes);
  if (created) return created;
  const stackStatus = stack.StackStatus ?? '';
  if (stackStatus === 'UPDATE_IN_PROGRESS') {
    notes.push(`DR stack ${dr.stackName} (${dr.region}) is being updated (UPDATE_IN_PROGRESS): kept recorded DEPLOYING; a re-run of the onboarding waits for it`);
    return {};
  }
  if (!UPDATE_SUCCEEDED.has(stackStatus)) return {};
  const { tier, version } = stackTierAndVersion(stack);
  const status = tierHasDrHere ? 'ACTIVE' as const : 'RETAINED' as const;
  const runs = tier && version ? `tier ${tier}, version ${version}` : 'a tier and version its stack tags do not name';
  notes.push(`DR stack ${dr.stackName} (${dr.region}) completed its update (${stackStatus}) before the execution ended: recorded ${status} on ${runs} (was DEPLOYING)`);
  const { deployedWith: recorded, ...rest } = dr;
  const deployedWith = tier && version
    ? { tier, blueprintVersion: version, ...(recorded?.executionArn && recorded.tier === tier && recorded.blueprintVersion === version ? { executionArn: recorded.executionArn } : {}) }
    : undefined;
  return { disasterRecovery: { ...rest, status, updatedAt: new Date().toISOString(), ...(deployedWith ? { deployedWith } : {}) } };
}
