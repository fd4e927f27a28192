import { DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { StackFailedError } from '../shared/errors.js';
import { ENV } from '../shared/environment.js';
import { deleteNamespaceDeployer } from './namespace-deployer.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
import type { DisasterRecoveryRecord, TenantRecord } from '../../lib/tenant-record.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { holdLeaseFor } from './stack-operation-lease.js';
import { cloudFormationFor, customizationsRoleArn, describeStack, executionRoleArn, stackName, type BlueprintKind } from './blueprints.js';
import { firstFailure } from './stack-events.js';
import { assertOwned, ownershipProblem, type OwnedKind } from './stack-ownership.js';
import { customizationStackName } from '../../lib/config/account-customizations.js';
import { customizationNames, recordCustomization } from './customizations.js';
import { liftTerminationProtection, OFFBOARDING_LIFT_REASON, offboardingLedger } from './protection-lift.js';
import { releaseTenantNetwork } from './release-network.js';
import { drRebuildOf, rebuiltTenantRefusal } from './rebuilt-stack.js';
import type { LifecycleState } from './state.js';
import { deleteStackTarget, deleteStackToken } from './delete-token.js';
import { awaitsBackupDeletion, describeOccupants, RESTORE_TEST_DELETED_WITHIN_HOURS, RESTORE_TEST_WAIT_HOURS, subnetGroupOccupants } from './subnet-group-occupants.js';
import { RDSClient } from '@aws-sdk/client-rds';
import { clientWith } from '../shared/aws-clients.js';
import { tenantAccountCredentials } from '../shared/sessions.js';

/**
 * Deletes the tenant's account customization stacks (`tessera-<tenant>-custom-<name>`: those the registry records and
 * those its tier lists; recorded DELETED once all are gone), then the namespace stack and, once it is gone, the tenant's own
 * namespace deployer (`tessera-<tenant>-namespace-deployer`, namespace-deployer.ts: the stack's role until then; none for a
 * platform without the shared cluster), then the tenant stack, then the tenant's DR stack in its DR region
 * when the registry records one (`disasterRecovery`, whatever the tier is now): termination
 * protection lifted first, through liftOnRecord (its intent, the lift, then `offboarding.liftedProtections`, the
 * audit bucket and the bus, as *Lift protections* records the tenant stack's; the namespace and DR stacks' were
 * lifted unrecorded before); a stack with the tenant's name that Tessera's workflow did not create
 * (stack-ownership.ts) is never deleted.
 * The data stores survive as the blueprint says: key, buckets and logs RETAIN, the database and
 * cache leave a final SNAPSHOT; the DR key, bucket and vault RETAIN. The DR stack's id is recorded
 * before its deletion (a deleted stack is found by id only, for the inventory) and its status
 * becomes REMOVED once it is gone. Called again until every stack is gone. A stack found
 * DELETE_FAILED is asked to delete once more per execution (a resumed offboarding, after the cause
 * was removed); DELETE_FAILED after that stops the offboarding with CloudFormation's reason.
 * Once every stack is gone (and only then: the tenant VPC goes with the tenant stack), the tenant's VPC range goes back
 * to its tier's pool and `offboarding.network` records it (release-network.ts; once, a resumed run finds it recorded).
 * Before the tenant stack is asked to be deleted (again), no DB instance but its own may be in its DB subnet group
 * (subnet-group-occupants.ts: RDS refuses to delete a DB subnet group in use, and the stack would end DELETE_FAILED):
 * a DR tier's monthly restore test restores the database there, and AWS Backup deletes that instance after the
 * validation window, so the step answers IN_PROGRESS (`waitingFor` names it) without deleting anything until it is
 * gone (for RESTORE_TEST_DELETED_WITHIN_HOURS after its creation, and RESTORE_TEST_WAIT_HOURS of this execution's polls,
 * at most: `restoreTestWaitSince` in the step's answer, handed back by the state machine); any other instance there, or a
 * restore test's still there after that, stops the offboarding (StackFailed) before anything is deleted.
 * A tenant rebuilt, whole or in part, in its DR region by the failover runbook (rebuilt-stack.ts drRebuildOf: stack
 * `tessera-<id>` or `tessera-<id>-restored`, or DB instance `tessera-<id>-restored`, there) is refused before any stack
 * is deleted, on every run (TenantRebuiltInDrRegion): its offboarding is by hand (docs/resilience.md), the home stack
 * holds the roles the rebuilt stack imports, the rebuild's data is in no export, and the rebuilt VPC uses the tenant's range.
 */
export const handler = lifecycleHandler('Delete tenant stacks', async (state: LifecycleState & { deletion?: DeletionProgress }) => {
  // Stacks this execution asked CloudFormation to delete again after a DELETE_FAILED (once each).
  const retried = state.deletion?.retried ?? [];
  const record = await requireTenant(state.request.tenantId);
  if (!record.accountId) {
    // No account, no stack: a range claimed all the same (none is, before an account) goes back.
    await releaseTenantNetwork(record, state.executionArn);
    return { state: 'COMPLETE' as const };
  }
  // A rebuilt tenant: no stack deleted, its range kept (the rebuilt VPC uses it); an operator removes the rebuilt stacks, then retries.
  const rebuilt = await drRebuildOf(record, 'delete');
  if (rebuilt) throw rebuiltTenantRefusal(record, rebuilt, record.vpcCidr ? [record.vpcCidr] : [], 'this step deletes none of the tenant\'s stacks while it exists');
  const dr = record.disasterRecovery && record.disasterRecovery.status !== 'REMOVED' ? record.disasterRecovery : undefined;
  // The account customizations first (deployed after the blueprints, they may use what the tenant stack made), then the blueprints'.
  const custom = customizationNames(record);
  const stacks: Array<[OwnedKind, string]> = [
    ...custom.map((c) => ['customization', customizationStackName(record.tenantId, c)] as [OwnedKind, string]),
    ...(['namespace', 'tenant', ...(dr ? ['dr'] : [])] as BlueprintKind[]).map((kind) => [kind, stackName(record.tenantId, kind)] as [OwnedKind, string]),
  ];
  for (const [kind, name] of stacks) {
    if (kind === 'namespace' && custom.length && name === stackName(record.tenantId, 'namespace')) await markCustomizationsDeleted(record.tenantId);
    // The failure recorded names the stack (and a DR stack's region) the step stopped at: three stacks, two regions.
    const where = kind === 'dr' ? `${name} in ${dr!.region}` : name;
    try {
      const step = await deleteStep({ ...record, accountId: record.accountId }, kind, name, where, dr, retried, state, state.deletion?.restoreTestWaitSince);
      if (step) return step;
      // The namespace stack is gone (CloudFormation deleted it as its role): the tenant's own namespace deployer goes next.
      if (kind === 'namespace' && process.env[ENV.namespaceDeployerScope]) {
        const removed = await deleteNamespaceDeployer(record.tenantId);
        if (removed.foreign.length) logger.warn('the tenant\'s namespace deployer had policies or instance profiles the lifecycle does not make: removed from it', { tenantId: record.tenantId, policies: removed.foreign });
        if (removed.outcome === 'DELETED') logger.info('deleted the tenant\'s namespace deployer after its namespace stack', { tenantId: record.tenantId });
      }
    } catch (e) {
      if (e instanceof Error && !e.message.includes(where)) e.message = `stack ${where}: ${e.message}`;
      throw e;
    }
  }
  // A stack that is gone is stuck no more: an UPDATE_ROLLBACK_FAILED it was recorded in goes with it.
  const { updateRollbackFailed: _stuck, ...removed } = dr ?? { region: '' };
  if (dr) await updateTenant(record.tenantId, { disasterRecovery: { ...(removed as DisasterRecoveryRecord), status: 'REMOVED', updatedAt: new Date().toISOString() } });
  // Every stack is gone, the tenant VPC with the tenant stack: its range goes back to the pool.
  await releaseTenantNetwork(await requireTenant(record.tenantId), state.executionArn);
  return { state: 'COMPLETE' as const };
});

/** What the step hands the next poll of the same execution (`$.deletion`). */
interface DeletionProgress {
  /** Stacks this execution asked CloudFormation to delete again after a DELETE_FAILED (once each). */
  retried?: string[];
  /** When this execution first found a restore test's instance to wait for (ISO 8601): RESTORE_TEST_WAIT_HOURS from it at most. */
  restoreTestWaitSince?: string;
}

/** Every customization stack the registry records is gone: recorded DELETED (once; a resumed run finds them so). */
async function markCustomizationsDeleted(tenantId: string): Promise<void> {
  const record = await requireTenant(tenantId);
  for (const [name, c] of Object.entries(record.customizations ?? {})) {
    const { reason: _reason, updatedAt: _at, ...kept } = c;
    if (c.status !== 'DELETED') await recordCustomization(tenantId, name, { ...kept, status: 'DELETED' });
  }
}

/**
 * One stack of the offboarding (handler above): undefined when it is gone (the next one is deleted),
 * else the step's IN_PROGRESS answer after asking CloudFormation to delete it. Errors keep their name
 * (the state machine's retriers match it).
 */
async function deleteStep(record: TenantRecord & { accountId: string }, kind: OwnedKind, name: string, where: string, dr: DisasterRecoveryRecord | undefined, retried: string[], state: LifecycleState, waitSince: string | undefined) {
  const cfn = await cloudFormationFor(record, kind === 'customization' ? 'tenant' : kind, 'delete', dr?.region);
  const stack = await describeStack(cfn, name);
  if (!stack || stack.StackStatus === 'DELETE_COMPLETE') return undefined;
  if (kind === 'dr' && dr!.stackId !== stack.StackId) await updateTenant(record.tenantId, { disasterRecovery: { ...dr!, stackId: stack.StackId, updatedAt: new Date().toISOString() } });
  const notOurs = ownershipProblem(stack, record, kind);
  // The registry says the tenant has a stack, and the one under its name is not it: stop before anything is destroyed.
  if (notOurs && kind === 'tenant' && record.stackName) assertOwned(stack, record, kind);
  if (notOurs) {
    logger.warn('a stack with the tenant\'s name that Tessera did not create is left alone', { stack: name, why: notOurs });
    return undefined;
  }
  // The tenant stack's DB subnet group must be empty of other instances, or RDS refuses its deletion and the stack ends
  // DELETE_FAILED: a restore test's instance is waited for (AWS Backup deletes it), any other stops the offboarding here.
  if (kind === 'tenant' && stack.StackStatus !== 'DELETE_IN_PROGRESS') {
    const rds = clientWith(RDSClient, await tenantAccountCredentials(record.accountId, record.tenantId, 'delete'));
    const occupants = await subnetGroupOccupants(cfn, rds, name);
    const now = new Date();
    const since = waitSince !== undefined && Number.isFinite(Date.parse(waitSince)) ? waitSince : now.toISOString();
    const waitedOut = now.getTime() - Date.parse(since) >= RESTORE_TEST_WAIT_HOURS * 3_600_000;
    const others = waitedOut ? occupants : occupants.filter((o) => !awaitsBackupDeletion(o, now));
    if (others.length) {
      const stale = !others.some((o) => o.restoreTest) ? ''
        : waitedOut && others.some((o) => awaitsBackupDeletion(o, now)) ? ` (a restore test's instance this offboarding waited ${RESTORE_TEST_WAIT_HOURS} h for, since ${since}: AWS Backup did not delete it)`
          : ` (a restore test's instance still there ${RESTORE_TEST_DELETED_WITHIN_HOURS} h after its creation: AWS Backup did not delete it)`;
      throw new StackFailedError(`stack ${where} was not asked to be deleted: ${describeOccupants(others)}, not the blueprint's${stale}: RDS refuses to delete a DB subnet group `
        + `an instance is in (InvalidDBSubnetGroupStateFault), so the stack would end DELETE_FAILED; delete that instance or move it to another DB subnet group, then send DELETE again`);
    }
    if (occupants.length) {
      logger.info('the tenant stack waits for a restore test\'s instance to go: AWS Backup deletes it after the validation window', { stack: name, occupants });
      return { state: 'IN_PROGRESS' as const, stack: name, waitingFor: `${describeOccupants(occupants)}: AWS Backup deletes it after the restore test's validation window`, restoreTestWaitSince: since, ...(retried.length ? { retried } : {}) };
    }
  }
  // DELETE_FAILED: a resumed offboarding (a new execution, after an operator removed the cause)
  // asks CloudFormation once more (DeleteStack is allowed on a DELETE_FAILED stack); failed again, it stops.
  if (stack.StackStatus === 'DELETE_FAILED' && retried.includes(name)) {
    throw new StackFailedError(`stack ${where} could not be deleted: ${(await firstFailure(cfn, name)) ?? stack.StackStatusReason}`);
  }
  if (stack.StackStatus !== 'DELETE_IN_PROGRESS') {
    const actor = { requestId: state.request.requestId, executionArn: state.executionArn, step: 'Delete tenant stacks', reason: OFFBOARDING_LIFT_REASON };
    // Lifted and recorded before (the tenant stack's, by Lift protections): liftTerminationProtection sends it again should a stale read still show it.
    await liftTerminationProtection(cfn, record, { ...stack, StackName: name }, offboardingLedger(record), actor);
    await holdLeaseFor(record.tenantId, `DeleteStack of stack ${where}`);
    await cfn.send(new DeleteStackCommand({ StackName: deleteStackTarget(stack), RoleARN: kind === 'customization' ? customizationsRoleArn(record.accountId) : kind === 'tenant' || kind === 'dr' ? executionRoleArn(record.accountId) : undefined,
      ClientRequestToken: deleteStackToken(state.executionArn ?? state.request.requestId, stack, 'Delete tenant stacks') }));
  }
  const asked = stack.StackStatus === 'DELETE_FAILED' ? [...retried, name] : retried;
  return { state: 'IN_PROGRESS' as const, stack: name, ...(asked.length ? { retried: asked } : {}) };
}
