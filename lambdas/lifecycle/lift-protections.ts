import { UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, PutLogGroupDeletionProtectionCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeClusterCommand, EKSClient, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, ModifyDBClusterCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import type { AwsCredentialIdentity } from '@smithy/types';
import { LIFECYCLE_EVENTS, type LiftedProtection } from '../../lib/tenant-record.js';
import { clientWith } from '../shared/aws-clients.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import { cloudFormationFor, stackName } from './blueprints.js';
import { describeStack } from './deploy-blueprint.js';
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
  const lazy = <C>(make: () => C) => {
    let c: C | undefined;
    return () => (c ??= make());
  };
  return { rds: lazy(() => clientWith(RDSClient, credentials)), eks: lazy(() => clientWith(EKSClient, credentials)), logs: lazy(() => clientWith(CloudWatchLogsClient, credentials)) };
}

/**
 * Offboarding, before *Delete tenant stacks*: lifts every protection the blueprint sets on what
 * the stack deletion will delete — the stack's termination protection, RDS `DeletionProtection`
 * (ModifyDBInstance, ApplyImmediately), and EKS cluster or log-group deletion protection where
 * the template sets them. Resources the stack retains (DeletionPolicy Retain /
 * RetainExceptOnCreate) keep theirs. Each lift goes to the audit bucket
 * (`tessera-audit/lifecycle/<tenant>/…`), the bus (`Tenant Protection Lifted`) and the registry
 * (`offboarding.liftedProtections`). Called again (after a Wait) until no protection shows:
 * `IN_PROGRESS` while a lifted protection is still reported on, never lifting it twice.
 */
export const handler = lifecycleHandler('Lift protections', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  if (!record.accountId) return { state: 'COMPLETE' as const, lifted: 0, waitingFor: [] };
  const name = stackName(record.tenantId, 'tenant');
  const cfn = await cloudFormationFor(record, 'tenant', 'protections');
  const stack = await describeStack(cfn, name);
  if (!stack || stack.StackStatus === 'DELETE_COMPLETE') return { state: 'COMPLETE' as const, lifted: 0, waitingFor: [] };

  const earlier = record.offboarding?.liftedProtections ?? [];
  const lifts: LiftedProtection[] = [];
  const waitingFor: string[] = [];
  const lifted = (l: Omit<LiftedProtection, 'at'>) => lifts.push({ ...l, at: new Date().toISOString() });
  const recorded = (logicalId: string, protection: string) => earlier.some((l) => l.logicalId === logicalId && l.protection === protection);
  if (stack.EnableTerminationProtection) {
    // Takes effect at once; lifted again (never recorded twice) should a stale read still show it.
    await cfn.send(new UpdateTerminationProtectionCommand({ StackName: name, EnableTerminationProtection: false }));
    if (!recorded(name, 'TerminationProtection')) lifted({ logicalId: name, type: 'AWS::CloudFormation::Stack', physicalId: stack.StackId ?? name, protection: 'TerminationProtection' });
  }
  const policies = await deletionPolicies(cfn, stack.StackId ?? name);
  const c = clients(await tenantAccountCredentials(record.accountId, record.tenantId, 'protections'));
  for (const resource of await stackResources(cfn, stack.StackId ?? name)) {
    const protection = PROTECTIONS.find((p) => p.type === resource.ResourceType);
    const id = resource.PhysicalResourceId;
    if (!protection || !id || !deletedWithStack(policies[resource.LogicalResourceId!])) continue;
    if (!(await protection.isOn(c, id))) continue;
    waitingFor.push(resource.LogicalResourceId!);
    if (recorded(resource.LogicalResourceId!, protection.protection)) continue; // lifted, not showing yet
    try {
      await protection.lift(c, id);
    } catch (e) {
      if (busy(e)) continue; // still on the waiting list: tried again after the Wait
      throw e;
    }
    lifted({ logicalId: resource.LogicalResourceId!, type: protection.type, physicalId: id, protection: protection.protection });
  }
  for (const lift of lifts) {
    const audit = { ...lift, accountId: record.accountId, stack: name, requestId: state.request.requestId, executionArn: state.executionArn };
    await writeAudit(record.tenantId, 'protection-lifted', lift.logicalId, audit);
    await emitLifecycleEvent(LIFECYCLE_EVENTS.protectionLifted, { tenantId: record.tenantId, ...audit });
  }
  await updateTenant(record.tenantId, {
    offboarding: { ...record.offboarding, stackId: stack.StackId, liftedProtections: [...earlier, ...lifts] },
  });
  return { state: waitingFor.length ? 'IN_PROGRESS' as const : 'COMPLETE' as const, lifted: lifts.length, waitingFor };
});
