import type { CloudFormationClient, Stack } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, PutLogGroupDeletionProtectionCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeClusterCommand, EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, ModifyDBClusterCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { LiftedProtection, TenantRecord } from '../../lib/tenant-record.js';
import { clientWith, lazy } from '../shared/aws-clients.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { cloudFormationFor, describeStack, stackName } from './blueprints.js';
import { assertOwned, ownershipProblem } from './stack-ownership.js';
import { deletedWithStack, deletionPolicies, stackResources } from './offboarding-support.js';
import { liftOnRecord, liftTerminationProtection, OFFBOARDING_LIFT_REASON, offboardingLedger, sameLift, type LiftActor, type LiftLedger, type LiftOutcome, type LiftTarget } from './protection-lift.js';
import type { LifecycleState } from './state.js';

const notFound = (e: unknown) => /NotFound/.test((e as Error).name);
/** The resource is busy with another change (an RDS instance backing up or modifying, an EKS update running): lift on the next poll. */
const busy = (e: unknown) => /^(InvalidDBInstanceState|InvalidDBClusterState|ResourceInUseException)/.test((e as Error).name);

interface Clients {
  rds: () => RDSClient;
  eks: () => EKSClient;
  logs: () => CloudWatchLogsClient;
}

/**
 * A protection a blueprint resource may carry that would make CloudFormation's deletion of it
 * fail. `isOn` reads it (a resource already gone is not protected); `lift` turns it off.
 * AWS sources: RDS ModifyDBInstance / ModifyDBCluster `DeletionProtection`; EKS
 * UpdateClusterConfig `deletionProtection`; CloudWatch Logs PutLogGroupDeletionProtection.
 */
interface Protection {
  type: string;
  protection: string;
  isOn(c: Clients, physicalId: string): Promise<boolean>;
  lift(c: Clients, physicalId: string): Promise<void>;
}

const guarded = async (read: () => Promise<boolean>) => {
  try {
    return await read();
  } catch (e) {
    if (notFound(e)) return false;
    throw e;
  }
};

export const PROTECTIONS: readonly Protection[] = [
  {
    type: 'AWS::RDS::DBInstance', protection: 'DeletionProtection',
    isOn: (c, id) => guarded(async () => (await c.rds().send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0]?.DeletionProtection === true),
    lift: async (c, id) => { await c.rds().send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: id, DeletionProtection: false, ApplyImmediately: true })); },
  },
  {
    type: 'AWS::RDS::DBCluster', protection: 'DeletionProtection',
    isOn: (c, id) => guarded(async () => (await c.rds().send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))).DBClusters?.[0]?.DeletionProtection === true),
    lift: async (c, id) => { await c.rds().send(new ModifyDBClusterCommand({ DBClusterIdentifier: id, DeletionProtection: false, ApplyImmediately: true })); },
  },
  {
    type: 'AWS::EKS::Cluster', protection: 'DeletionProtection',
    isOn: (c, id) => guarded(async () => (await c.eks().send(new DescribeClusterCommand({ name: id }))).cluster?.deletionProtection === true),
    lift: async (c, id) => { await c.eks().send(new UpdateClusterConfigCommand({ name: id, deletionProtection: false })); },
  },
  {
    type: 'AWS::Logs::LogGroup', protection: 'DeletionProtection',
    isOn: (c, id) => guarded(async () => {
      const out = await c.logs().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: id }));
      return out.logGroups?.find((g) => g.logGroupName === id)?.deletionProtectionEnabled === true;
    }),
    lift: async (c, id) => { await c.logs().send(new PutLogGroupDeletionProtectionCommand({ logGroupIdentifier: id, deletionProtectionEnabled: false })); },
  },
];

function clients(credentials: AwsCredentialIdentity): Clients {
  return { rds: lazy(() => clientWith(RDSClient, credentials)), eks: lazy(() => clientWith(EKSClient, credentials)), logs: lazy(() => clientWith(CloudWatchLogsClient, credentials)) };
}

export interface ProtectionSweep {
  /** Logical ids (the stack's name for its termination protection) whose protection still shows on: busy, or lifted and not showing yet. */
  waitingFor: string[];
  /** The lifts this call made or confirmed (liftOnRecord: `lifted`, `confirmed`), in order. */
  lifted: LiftedProtection[];
}

/**
 * Lifts every protection that would fail the deletion of the tenant stack `stack`: its
 * termination protection, and each protection of PROTECTIONS on the resources the deletion
 * deletes (DeletionPolicy Delete or Snapshot; the Retain policies keep theirs) that the stack still
 * holds (a rollback may have deleted some). Each through liftOnRecord (protection-lift.ts): its intent on
 * record before the lift, the lift in `ledger` after it and before the next one, then the audit bucket and the
 * bus, so that neither a failure further on nor a Lambda timeout between a lift and its record loses one (the
 * next run finds the intent and records the lift by `actor`'s name). A protection `ledger` holds already is not
 * lifted or reported again while a stale read still shows it (the stack's termination protection is sent again,
 * unrecorded). A resource busy with another change is left on the waiting list. With `recheck`, a protection
 * lifted now is read once more and waited for only while it still shows (RDS applies DeletionProtection at once).
 */
export async function liftStackProtections(
  cfn: CloudFormationClient,
  record: TenantRecord & { accountId: string },
  stack: Stack,
  options: { ledger: LiftLedger; actor: LiftActor; recheck?: boolean },
): Promise<ProtectionSweep> {
  const { ledger, actor } = options;
  const name = stack.StackName ?? stackName(record.tenantId, 'tenant');
  const stackId = stack.StackId ?? name;
  const waitingFor: string[] = [];
  const lifted: LiftedProtection[] = [];
  const done = (outcome: LiftOutcome, target: LiftTarget) => {
    if (outcome === 'lifted' || outcome === 'confirmed') lifted.push(ledger.lifts().find((l) => sameLift(l, target))!);
  };
  const termination = await liftTerminationProtection(cfn, record, { ...stack, StackName: name }, ledger, actor);
  done(termination, { logicalId: name, type: 'AWS::CloudFormation::Stack', physicalId: stackId, protection: 'TerminationProtection' });
  // Resources that may carry a protection and are still in the stack (a rollback deleted or skipped the others).
  const candidates = (await stackResources(cfn, stackId)).filter((r) =>
    PROTECTIONS.some((p) => p.type === r.ResourceType) && r.PhysicalResourceId && r.ResourceStatus !== 'DELETE_COMPLETE' && r.ResourceStatus !== 'DELETE_SKIPPED');
  if (!candidates.length) return { waitingFor, lifted };
  const policies = await deletionPolicies(cfn, stackId);
  const c = clients(await tenantAccountCredentials(record.accountId, record.tenantId, 'protections'));
  for (const resource of candidates) {
    const protection = PROTECTIONS.find((p) => p.type === resource.ResourceType)!;
    const id = resource.PhysicalResourceId!;
    if (!deletedWithStack(policies[resource.LogicalResourceId!])) continue;
    const target = { logicalId: resource.LogicalResourceId!, type: protection.type, physicalId: id, protection: protection.protection };
    const on = await protection.isOn(c, id);
    let outcome: LiftOutcome;
    try {
      outcome = await liftOnRecord(record, { target, stackId, on, lift: () => protection.lift(c, id), notMade: busy }, ledger, actor);
    } catch (e) {
      if (!busy(e)) throw e;
      waitingFor.push(target.logicalId); // tried again after the Wait
      continue;
    }
    done(outcome, target);
    if (outcome === 'on-record' && on) waitingFor.push(target.logicalId); // lifted, not showing yet
    if (outcome === 'lifted' && (!options.recheck || (await protection.isOn(c, id)))) waitingFor.push(target.logicalId);
  }
  return { waitingFor, lifted };
}

export { announceLift, stackArnParts } from './protection-lift.js';

/**
 * Offboarding, before *Delete tenant stacks*: lifts every protection the blueprint sets on what
 * the stack deletion will delete — the stack's termination protection, RDS `DeletionProtection`
 * (ModifyDBInstance, ApplyImmediately), and EKS cluster or log-group deletion protection where
 * the template sets them. Resources the stack retains (DeletionPolicy Retain /
 * RetainExceptOnCreate) keep theirs. Each lift goes through liftOnRecord (protection-lift.ts): its intent on
 * record before the call, then the registry (`offboarding.liftedProtections`, with the step, the execution and
 * why; written after each lift, before the next: a step that times out later, or between a lift and its record,
 * leaves every lift it made on record), the audit bucket
 * (`tessera-audit/lifecycle/<tenant>/…`, `tessera-audit/dr-tier/lifecycle/…` for a DR tier) and the bus (`Tenant Protection Lifted`),
 * the registry even when a later lift fails. Called again
 * (after a Wait) until no protection shows: `IN_PROGRESS` while a lifted protection is still
 * reported on, never lifting or recording it twice.
 */
export const handler = lifecycleHandler('Lift protections', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  if (!record.accountId) return { state: 'COMPLETE' as const, lifted: 0, waitingFor: [] };
  const name = stackName(record.tenantId, 'tenant');
  const cfn = await cloudFormationFor(record, 'tenant', 'protections');
  const stack = await describeStack(cfn, name);
  if (!stack || stack.StackStatus === 'DELETE_COMPLETE') return { state: 'COMPLETE' as const, lifted: 0, waitingFor: [] };
  // A stack with the tenant's name that Tessera did not create keeps every protection. When the
  // registry says the tenant has a stack of its own, the offboarding stops here (StackNotOwned)
  // before anything is destroyed, instead of going on to schedule the key of a live stack.
  if (ownershipProblem(stack, record, 'tenant')) {
    if (record.stackName) assertOwned(stack, record, 'tenant');
    return { state: 'COMPLETE' as const, lifted: 0, waitingFor: [], notOurs: name };
  }

  const ledger = offboardingLedger(record, { stackId: stack.StackId });
  const sweep = await liftStackProtections(cfn, { ...record, accountId: record.accountId }, stack, {
    ledger, actor: { requestId: state.request.requestId, executionArn: state.executionArn, step: 'Lift protections', reason: OFFBOARDING_LIFT_REASON },
  });
  await ledger.save();
  return { state: sweep.waitingFor.length ? 'IN_PROGRESS' as const : 'COMPLETE' as const, lifted: sweep.lifted.length, waitingFor: sweep.waitingFor };
});
