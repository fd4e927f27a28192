import type { StackUpdating, TenantLease, TenantRecord } from '../../lib/tenant-record.js';
import { logger } from '../shared/handler.js';
import { cloudFormationFor, describeStack } from './blueprints.js';
import { markedUpdate } from './marked-stack-update.js';
import { ownershipProblem } from './stack-ownership.js';
import { stackTierAndVersion, UPDATE_SUCCEEDED } from './stack-tags.js';

/** What *Record failure* records of the stack update its lease marked (markedStanding). */
export interface MarkedStanding {
  /** Registry fields to write with the failure: the DR record on the version its stack completed its update to. */
  changes: Pick<Partial<TenantRecord>, 'disasterRecovery'>;
  /** The failure's pending update, when the marked update's outcome is not known. */
  updating?: StackUpdating;
  /** For the failure's reason. */
  note?: string;
}

/**
 * The update a failed execution's lease marked just before ExecuteChangeSet (TenantLease `stackUpdate`: a change's or
 * upgrade's tenant or DR stack, stack-operation-lease.ts holdLeaseFor), as *Record failure* records it when its read of the
 * tenant stack (stack-standing.ts stackStanding) found no update: its Lambda's answer after ExecuteChangeSet was lost (a
 * Lambda timeout, the step failing after the call went through), so neither *Deploy blueprint* nor *Check blueprint*
 * recorded it. Before, the failure was recorded without it and the lease's mark went with the lease: a DR stack updated
 * to the upgrade's version stayed recorded ACTIVE on the version before (`deployedWith`), and nothing said it was updating
 * (End stopped execution records the mark for a stopped execution: marked-stack-update.ts).
 *
 * A DR stack's mark is read on the DR stack in its region (the tenant account's role, session `step`): one of this tenant
 * (stack-ownership.ts) whose update completed (`UPDATE_COMPLETE`) with the mark's tier and version in its tags is recorded
 * on them (`disasterRecovery` ACTIVE, `deployedWith` the mark's tier and version and this execution), as *Check DR
 * blueprint* would have. Otherwise (still updating, another status, not readable, or the tenant stack's mark) the mark is
 * the failure's pending update (`stackUpdating`, CHANGE_SET_EXECUTING), which the drift check resolves on that stack.
 * @returns `{ changes: {} }` when the lease marks no update
 */
export async function markedStanding(record: TenantRecord, lease: TenantLease, step: string): Promise<MarkedStanding> {
  const marked = markedUpdate(record.tenantId, lease);
  if (!marked) return { changes: {} };
  const mark = lease.stackUpdate!;
  const dr = record.disasterRecovery;
  if (dr && dr.stackName === mark.stack && dr.status !== 'REMOVED') {
    try {
      const stack = await describeStack(await cloudFormationFor(record, 'dr', step, dr.region), dr.stackName);
      const runs = stackTierAndVersion(stack);
      if (stack && !ownershipProblem(stack, record, 'dr') && UPDATE_SUCCEEDED.has(stack.StackStatus ?? '') && runs.tier === mark.tier && runs.version === mark.blueprintVersion) {
        const { updateRollbackFailed: _cleared, ...kept } = dr;
        return {
          changes: { disasterRecovery: { ...kept, status: 'ACTIVE', updatedAt: new Date().toISOString(), deployedWith: { tier: mark.tier, blueprintVersion: mark.blueprintVersion, executionArn: lease.executionArn } } },
          note: `DR stack ${dr.stackName} (${dr.region}) completed its update to tier ${mark.tier}, version ${mark.blueprintVersion} (change set ${mark.changeSetName}, ${stack.StackStatus}) before the execution ended: recorded on it`,
        };
      }
    } catch (e) {
      logger.warn('could not read the DR stack whose update the lease marked; its update is recorded pending', { stack: dr.stackName, region: dr.region, error: e as Error });
    }
  }
  return { changes: {}, updating: marked.updating, note: marked.note };
}
