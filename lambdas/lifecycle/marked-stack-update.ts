import type { StackUpdating, TenantLease } from '../../lib/tenant-record.js';

/**
 * The `status` of a failure's `stackUpdating` made from a lease's `stackUpdate` (not a CloudFormation stack status): the
 * execution recorded the change set just before ExecuteChangeSet, and whoever ended its lease could not see the stack
 * updating (not started yet, or not readable); the drift check resolves it from the stack as it then is.
 */
export const CHANGE_SET_EXECUTING = 'CHANGE_SET_EXECUTING';

/**
 * The stack update a dead lease's execution recorded just before ExecuteChangeSet (TenantLease `stackUpdate`, written by
 * stack-operation-lease.ts holdLeaseFor), as the failure's pending update: its Lambda may still send ExecuteChangeSet (Step
 * Functions does not stop a running Lambda) or have sent it, so the record keeps its tier and version and says the stack
 * may be updating, until the drift check finds it stable (stack-standing.ts driftStanding) and records what it runs.
 * @returns undefined when the lease records no stack update, or is not a change's or upgrade's
 */
export function markedUpdate(tenantId: string, lease: TenantLease | undefined): { updating: StackUpdating; note: string } | undefined {
  const mark = lease?.stackUpdate;
  // A change's or upgrade's only (Deploy blueprint marks no other): the failure leaves it ACTIVE, where the drift check resolves it
  // (a DR stack's on the DR stack: stack-standing.ts driftStanding).
  if (!mark || (lease.kind !== 'change' && lease.kind !== 'upgrade')) return undefined;
  return {
    updating: { stack: mark.stack, status: CHANGE_SET_EXECUTING, tier: mark.tier, blueprintVersion: mark.blueprintVersion },
    note: `execution ${lease.executionArn} was about to execute change set ${mark.changeSetName} on stack ${mark.stack} (to tier ${mark.tier}, version ${mark.blueprintVersion}; recorded under its lease at ${mark.at}) and its Lambda may still have sent it after the execution ended: the registry keeps the tier and version until the drift workflow finds the stack stable (daily, or now: tessera tenants drift --detect ${tenantId})`,
  };
}
