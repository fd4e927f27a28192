import type { TenantLease } from '../../lib/tenant-record.js';
import { requireTenant, TenantBusyError, updateTenant } from '../shared/registry.js';

/** The update a lease records before ExecuteChangeSet (TenantLease `stackUpdate`), without its time. */
export type StackUpdateMark = Omit<NonNullable<TenantLease['stackUpdate']>, 'at'>;

/**
 * The last check before a step starts a stack operation (ExecuteChangeSet, CreateStack, UpdateStack, DeleteStack): one
 * conditional write under the execution's lease (updateTenant's holder condition, from the step's context), so that an
 * execution whose lease was ended meanwhile never starts it. Step Functions does not stop a running Lambda when its
 * execution is stopped or times out, and the status-change rule (end-stopped-execution.ts) or the next request may end
 * the lease while the step still runs: before, the step went on and, say, executed its change set after the failure was
 * recorded on the old tier, so the stack moved to the new tier while the registry said the old one, and `PATCH` back
 * was refused `nothing_to_change` until the daily drift run.
 *
 * With `mark` (a change's or upgrade's tenant or DR stack change set), the write records it on the lease (`stackUpdate`), so whoever ends the lease
 * from then on records the stack as updating (stack-standing.ts withMarkedUpdate). Without, it sets `updatedAt` only.
 * @param tenantId the tenant whose lease the step's execution holds
 * @param operation the operation in words, for the error (`ExecuteChangeSet of change set … on stack …`)
 * @param mark the tenant stack update about to start @default - none: the lease is checked, nothing recorded
 * @throws TenantBusyError naming the operation not started, when the execution no longer holds the lease
 */
export async function holdLeaseFor(tenantId: string, operation: string, mark?: StackUpdateMark): Promise<void> {
  try {
    if (!mark) {
      await updateTenant(tenantId, {});
      return;
    }
    const lease = (await requireTenant(tenantId)).lease;
    // Written whole (the lease as read, with the mark): the write's own condition is that this execution still holds it.
    await updateTenant(tenantId, lease ? { lease: { ...lease, stackUpdate: { ...mark, at: new Date().toISOString() } } } : {});
  } catch (e) {
    if (!(e instanceof TenantBusyError) && (e as Error).name !== 'TenantBusy') throw e;
    throw new TenantBusyError(`${(e as Error).message}; ${operation} not started: the execution lost the tenant's lease before it (stopped or timed out while this step ran, its failure recorded by whoever ended the lease), so the stack is left as that failure records it`);
  }
}
