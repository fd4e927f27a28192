import { UpdateTerminationProtectionCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, PutLogGroupDeletionProtectionCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeClusterCommand, EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, ModifyDBClusterCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import type { AwsCredentialIdentity } from '@smithy/types';
import { LIFECYCLE_EVENTS, type LiftedProtection, type TenantRecord } from '../../lib/tenant-record.js';
import { clientWith, lazy } from '../shared/aws-clients.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { cloudFormationFor, stackName } from './blueprints.js';
import { describeStack } from './deploy-blueprint.js';
import { assertOwned, ownershipProblem } from './stack-ownership.js';
import { deletedWithStack, deletionPolicies, stackResources, writeAudit } from './offboarding-support.js';
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
}

/**
 * Lifts every protection that would fail the deletion of the tenant stack `stack`: its
 * termination protection, and each protection of PROTECTIONS on the resources the deletion
 * deletes (DeletionPolicy Delete or Snapshot; the Retain policies keep theirs) that the stack still
 * holds (a rollback may have deleted some). `recorded` says whether a lift was recorded earlier:
 * such a protection is not lifted or reported again while a stale read still shows it.
 * `onLift` is called after each lift, before the next one, so that a failure further on loses no
 * record of what was already lifted. A resource busy with another change is left on the waiting
 * list. With `recheck`, a protection lifted now is read once more and waited for only while it
 * still shows (RDS applies DeletionProtection at once).
 */
export async function liftStackProtections(
  cfn: CloudFormationClient,
  record: TenantRecord & { accountId: string },
  stack: Stack,
  options: { recorded(lift: Omit<LiftedProtection, 'at'>): boolean; onLift(lift: LiftedProtection): Promise<void>; recheck?: boolean },
): Promise<ProtectionSweep> {
  const name = stack.StackName ?? stackName(record.tenantId, 'tenant');
  const waitingFor: string[] = [];
  const lifted = (l: Omit<LiftedProtection, 'at'>) => options.onLift({ ...l, at: new Date().toISOString() });
  if (stack.EnableTerminationProtection) {
    // Takes effect at once; lifted again (never recorded twice) should a stale read still show it.
    await cfn.send(new UpdateTerminationProtectionCommand({ StackName: name, EnableTerminationProtection: false }));
    const lift = { logicalId: name, type: 'AWS::CloudFormation::Stack', physicalId: stack.StackId ?? name, protection: 'TerminationProtection' };
    if (!options.recorded(lift)) await lifted(lift);
  }
  // Resources that may carry a protection and are still in the stack (a rollback deleted or skipped the others).
  const candidates = (await stackResources(cfn, stack.StackId ?? name)).filter((r) =>
    PROTECTIONS.some((p) => p.type === r.ResourceType) && r.PhysicalResourceId && r.ResourceStatus !== 'DELETE_COMPLETE' && r.ResourceStatus !== 'DELETE_SKIPPED');
  if (!candidates.length) return { waitingFor };
  const policies = await deletionPolicies(cfn, stack.StackId ?? name);
  const c = clients(await tenantAccountCredentials(record.accountId, record.tenantId, 'protections'));
  for (const resource of candidates) {
    const protection = PROTECTIONS.find((p) => p.type === resource.ResourceType)!;
    const id = resource.PhysicalResourceId!;
    if (!deletedWithStack(policies[resource.LogicalResourceId!])) continue;
    if (!(await protection.isOn(c, id))) continue;
    const lift = { logicalId: resource.LogicalResourceId!, type: protection.type, physicalId: id, protection: protection.protection };
    if (options.recorded(lift)) {
      waitingFor.push(lift.logicalId); // lifted, not showing yet
      continue;
    }
    try {
      await protection.lift(c, id);
    } catch (e) {
      if (!busy(e)) throw e;
      waitingFor.push(lift.logicalId); // tried again after the Wait
      continue;
    }
    await lifted(lift);
    if (!options.recheck || (await protection.isOn(c, id))) waitingFor.push(lift.logicalId);
  }
  return { waitingFor };
}

/**
 * The account and name of a CloudFormation stack from its StackId, an ARN
 * `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>` (DescribeStacks' `StackId`;
 * ARN format: AWS CloudFormation, "Actions, resources, and condition keys", resource type `stack`).
 * @throws Error naming the value when it is not a stack ARN.
 */
export function stackArnParts(stackId: string): { accountId: string; region: string; stackName: string } {
  const m = /^arn:[^:]+:cloudformation:([^:]+):(\d{12}):stack\/([^/]+)\/.+$/.exec(stackId);
  if (!m) throw new Error(`StackId ${JSON.stringify(stackId)} is not a CloudFormation stack ARN (arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>)`);
  return { region: m[1], accountId: m[2], stackName: m[3] };
}

/**
 * Where a protection lift is recorded besides the registry: the audit bucket (`tessera-audit/lifecycle/<tenant>/…`,
 * `tessera-audit/dr-tier/lifecycle/…` for a DR tier) and the bus (`Tenant Protection Lifted`). `stackId` is the
 * StackId (ARN) of the stack the lift was made for: the record's `stack` (its name) and `accountId` are read from it,
 * the account the stack lives in — the tenant's account for its tenant, account-baseline and DR stacks, the platform
 * account for its namespace stack (a tenant of the namespace tier), which the tenant record's `accountId` is not.
 * @throws Error naming the value when `stackId` is not a stack ARN (stackArnParts), before anything is written.
 */
export async function announceLift(record: TenantRecord, stackId: string, lift: LiftedProtection, context: { requestId: string; executionArn?: string; step: string; reason?: string }): Promise<void> {
  const { accountId, stackName: stack } = stackArnParts(stackId);
  const audit = { ...lift, accountId, stack, ...context };
  await writeAudit(record, 'protection-lifted', lift.logicalId, audit);
  await emitLifecycleEvent(LIFECYCLE_EVENTS.protectionLifted, { tenantId: record.tenantId, ...audit });
}

/**
 * Offboarding, before *Delete tenant stacks*: lifts every protection the blueprint sets on what
 * the stack deletion will delete — the stack's termination protection, RDS `DeletionProtection`
 * (ModifyDBInstance, ApplyImmediately), and EKS cluster or log-group deletion protection where
 * the template sets them. Resources the stack retains (DeletionPolicy Retain /
 * RetainExceptOnCreate) keep theirs. Each lift goes to the audit bucket
 * (`tessera-audit/lifecycle/<tenant>/…`, `tessera-audit/dr-tier/lifecycle/…` for a DR tier), the bus (`Tenant Protection Lifted`) and the registry
 * (`offboarding.liftedProtections`, written after each lift, before the next: a step that times out later leaves
 * every lift it made on record), the registry even when a later lift fails. Called again
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

  const earlier = record.offboarding?.liftedProtections ?? [];
  const lifts: LiftedProtection[] = [];
  const save = () => updateTenant(record.tenantId, {
    offboarding: { ...record.offboarding, stackId: stack.StackId, liftedProtections: [...earlier, ...lifts] },
  });
  let sweep: ProtectionSweep;
  try {
    sweep = await liftStackProtections(cfn, { ...record, accountId: record.accountId }, stack, {
      recorded: (l) => [...earlier, ...lifts].some((e) => e.logicalId === l.logicalId && e.protection === l.protection),
      onLift: async (lift) => {
        lifts.push(lift);
        // On record before the next lift: a Lambda that times out later in the step runs no catch, and a re-run finds
        // the protection off (isOn) and neither lifts nor records it again: kept to the end, the lift was in no registry.
        await save();
        await announceLift(record, stack.StackId ?? name, lift, { requestId: state.request.requestId, executionArn: state.executionArn, step: 'Lift protections' });
      },
    });
  } catch (e) {
    if (lifts.length) await save(); // what was lifted before the failure stays on record
    throw e;
  }
  await save();
  return { state: sweep.waitingFor.length ? 'IN_PROGRESS' as const : 'COMPLETE' as const, lifted: lifts.length, waitingFor: sweep.waitingFor };
});
