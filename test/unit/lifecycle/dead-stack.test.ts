import {
  CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, GetTemplateCommand, ListStackResourcesCommand,
  ListStacksCommand, UpdateStackCommand, UpdateTerminationProtectionCommand, type ResourceStatus, type Stack, type StackStatus, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DeleteLogGroupCommand, CloudWatchLogsServiceException } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { KMSClient, ScheduleKeyDeletionCommand, KMSServiceException } from '@aws-sdk/client-kms';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DescribeAvailabilityZonesCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { LifecycleExecution } from '../../../lib/tenant-record.js';
import { ACCOUNT_ZONES, blueprintObject, credentials, DELETE_TOKEN, leased, ownedTags, setLifecycleEnv, state } from './support.js';
import { loseLease, records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const rds = mockStrict(RDSClient, 'rds', RDSServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
/** The tenant account's zones (Deploy blueprint chooses the VPC's). */
const zones = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const logs = mockStrict(CloudWatchLogsClient, 'logs', CloudWatchLogsServiceException);
const kms = mockStrict(KMSClient, 'kms', KMSServiceException);

const STACK_ID = 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1';
const EXECUTION_ROLE = 'arn:aws:iam::333333333333:role/TesseraBlueprintExecution';
const DB = 'tessera-acme-databaseinstance-x1';
const PROTECTED = 'Resource handler returned message: "Cannot delete protected DB Instance, please disable deletion protection and try again."';
const summary = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string, ResourceStatus: string) =>
  ({ LogicalResourceId, ResourceType, PhysicalResourceId, ResourceStatus: ResourceStatus as ResourceStatus, LastUpdatedTimestamp: new Date() });
const event = (LogicalResourceId: string, ResourceType: string, ResourceStatus: string, PhysicalResourceId?: string, ResourceStatusReason?: string) =>
  ({ LogicalResourceId, ResourceType, ResourceStatus: ResourceStatus as ResourceStatus, PhysicalResourceId, ResourceStatusReason, StackId: STACK_ID, StackName: 'tessera-acme', EventId: LogicalResourceId + ResourceStatus, Timestamp: new Date() });
const deadStack = (StackStatus: string, extra: Partial<Stack> = {}) => ({ Stacks: [{
  StackName: 'tessera-acme', StackId: STACK_ID, StackStatus: StackStatus as StackStatus, CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags(), ...extra,
}] });
const namespaceNotFound = Object.assign(new Error('Stack with id tessera-acme-namespace does not exist'), { name: 'ValidationError' });
const running = (): LifecycleExecution => ({ kind: 'onboard', requestId: 'req-acme-0001', executionArn: state().executionArn, startedAt: 't', status: 'RUNNING' });
const eventTypes = () => events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType);
const lifts = (list: Array<{ logicalId: string; protection: string }> | undefined) => (list ?? []).map((l) => `${l.logicalId} ${l.protection}`);

let dbProtected: boolean;

/**
 * What `onRecord` (the lifts in the execution's history entry) reads when the database's protection is lifted
 * (ModifyDBInstance) and when the stack is deleted (DeleteStack): filled in as the handler makes those calls.
 */
function liftsOnRecord(onRecord: () => string[]): { atDatabaseLift?: string[]; atDeletion?: string[] } {
  const seen: { atDatabaseLift?: string[]; atDeletion?: string[] } = {};
  rds.on(ModifyDBInstanceCommand).callsFake((input: { DeletionProtection: boolean }) => {
    seen.atDatabaseLift = onRecord();
    dbProtected = input.DeletionProtection;
    return {};
  });
  cfn.on(DeleteStackCommand).callsFake(() => {
    seen.atDeletion = onRecord();
    return {};
  });
  return seen;
}

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, rds, s3, events, sts, logs, kms, zones]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  zones.on(DescribeAvailabilityZonesCommand).resolves(ACCOUNT_ZONES);
  s3.on(GetObjectCommand).resolves(blueprintObject());
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  s3.on(PutObjectCommand).resolves({});
  // A create that failed at a VPC endpoint after the database existed; the rollback could not delete
  // the protected database and stopped there: the database and what it holds (the key) are still in the stack.
  cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('ROLLBACK_FAILED', { StackStatusReason: 'The following resource(s) failed to delete: [Database]. ' }));
  cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(namespaceNotFound);
  cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify({ Resources: {
    Database: { Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot' }, Key: { Type: 'AWS::KMS::Key', DeletionPolicy: 'RetainExceptOnCreate' },
    FlowLogs: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'RetainExceptOnCreate' },
  } }) });
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [
    summary('Database', 'AWS::RDS::DBInstance', DB, 'DELETE_FAILED'), summary('Key', 'AWS::KMS::Key', 'key-1', 'CREATE_COMPLETE'),
    summary('FlowLogs', 'AWS::Logs::LogGroup', '/tessera/acme/vpc-flow-logs', 'DELETE_COMPLETE'),
  ] });
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [
    event('tessera-acme', 'AWS::CloudFormation::Stack', 'ROLLBACK_FAILED'),
    event('Database', 'AWS::RDS::DBInstance', 'DELETE_FAILED', DB, PROTECTED),
    event('FlowLogs', 'AWS::Logs::LogGroup', 'DELETE_COMPLETE', '/tessera/acme/vpc-flow-logs'),
    event('Endpoint', 'AWS::EC2::VPCEndpoint', 'CREATE_FAILED', undefined, 'endpoint quota'),
  ] });
  dbProtected = true;
  rds.on(DescribeDBInstancesCommand).callsFake(() => ({ DBInstances: [{ DBInstanceIdentifier: DB, DeletionProtection: dbProtected }] }));
  rds.on(ModifyDBInstanceCommand).callsFake((input: { DeletionProtection: boolean }) => {
    dbProtected = input.DeletionProtection;
    return {};
  });
  cfn.on(DeleteStackCommand).resolves({});
});

describe('Record failure removes a dead tenant stack that cannot be deleted as it is', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/record-failure.js');
  const failure = (kind: 'onboard' | 'change' | 'offboard' = 'onboard') => ({
    ...state(), kind, error: { Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: 'stack tessera-acme is ROLLBACK_FAILED: Endpoint CREATE_FAILED: endpoint quota' }) },
  });

  it('lifts the stack\'s termination protection and the database\'s DeletionProtection, records each (registry, audit bucket, bus), then deletes the stack', async () => {
    // GIVEN an onboarding that failed with its stack ROLLBACK_FAILED on the protected database
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint', executions: [running()] }));
    // WHEN
    const out = await handler(failure());
    // THEN both protections are lifted, the database's as RDS takes it, before the deletion as the execution role
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)[0].args[0].input).toEqual({ StackName: STACK_ID, EnableTerminationProtection: false });
    expect(rds.commandCalls(ModifyDBInstanceCommand).map((c) => c.args[0].input)).toEqual([{ DBInstanceIdentifier: DB, DeletionProtection: false, ApplyImmediately: true }]);
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input)).toEqual([{ StackName: STACK_ID, RoleARN: EXECUTION_ROLE, ClientRequestToken: DELETE_TOKEN }]);
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0].calledBefore(cfn.commandCalls(DeleteStackCommand)[0])).toBe(true);
    // recorded in the failure and the execution's history entry
    const record = records.get('acme')!;
    expect(lifts(record.failure?.liftedProtections)).toEqual(['tessera-acme TerminationProtection', 'Database DeletionProtection']);
    expect(record.failure?.liftedProtections?.[1]).toMatchObject({ type: 'AWS::RDS::DBInstance', physicalId: DB });
    expect(lifts(record.executions[0].liftedProtections)).toEqual(['tessera-acme TerminationProtection', 'Database DeletionProtection']);
    // in the audit bucket, one object per lift, and on the bus
    const audits = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(audits.map((a) => a.Key)).toEqual([expect.stringMatching(/^tessera-audit\/lifecycle\/acme\/.*-protection-lifted-tessera-acme\.json$/), expect.stringMatching(/-protection-lifted-Database\.json$/)]);
    expect(JSON.parse(audits[1].Body as string)).toMatchObject({ tenantId: 'acme', action: 'protection-lifted', logicalId: 'Database', physicalId: DB, step: 'Record failure', reason: expect.stringMatching(/^dead stack ROLLBACK_FAILED/) });
    expect(eventTypes()).toEqual(['Tenant Protection Lifted', 'Tenant Protection Lifted', 'Tenant Lifecycle Failed']);
    // the database goes with the stack now: not named as left behind
    expect(out).toMatchObject({ status: 'FAILED', cleanup: ['deleted ROLLBACK_FAILED stack tessera-acme'] });
    expect(record.failure?.leftBehind).toBeUndefined();
    expect(record.failure?.reason).toBe('StackFailed: stack tessera-acme is ROLLBACK_FAILED: Endpoint CREATE_FAILED: endpoint quota');
  });

  // s39g: Step Functions does not stop a running Lambda; Record failure of an execution stopped while it ran (its lease
  // ended by the status-change rule, which records the failure) deleted the dead stacks all the same, by name: what the
  // next holder of the tenant may be deleting and creating again under that name.
  it('deletes neither the namespace nor the tenant stack once its execution lost the lease while it ran: left to the next holder', async () => {
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint', executions: [running()] }));
    dbProtected = false;
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('ROLLBACK_FAILED', { EnableTerminationProtection: false }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).callsFake(() => {
      loseLease('acme', { status: 'FAILED' });
      return { Stacks: [{ StackName: 'tessera-acme-namespace', StackId: 'arn:aws:cloudformation:us-east-1:222222222222:stack/tessera-acme-namespace/1', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: false, Tags: ownedTags() }] };
    });
    await expect(handler(failure())).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(rds.commandCalls(DescribeDBInstancesCommand)).not.toHaveLength(0);
    expect(cfn.commandCalls(DeleteStackCommand)).toEqual([]);
  });

  // Faults pass: the lifts were written once, by failOperation at the end of the step. A Lambda that timed out after
  // a lift (in the DR stack's cleanup, say) lost it, and the re-run found the protection off and recorded nothing.
  it('has each lift in the execution\'s history entry before the next one is made, and both before the stack is deleted', async () => {
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint', executions: [running()] }));
    const onRecord = () => lifts(records.get('acme')?.executions.find((e) => e.executionArn === state().executionArn)?.liftedProtections);
    const seen = liftsOnRecord(onRecord);
    await handler(failure());
    expect(seen).toEqual({ atDatabaseLift: ['tessera-acme TerminationProtection'], atDeletion: ['tessera-acme TerminationProtection', 'Database DeletionProtection'] });
    expect(lifts(records.get('acme')!.failure?.liftedProtections)).toEqual(['tessera-acme TerminationProtection', 'Database DeletionProtection']);
  });

  it('keeps the stack while the database is busy (no deletion that would fail again), naming it as left behind', async () => {
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint', executions: [running()] }));
    rds.on(ModifyDBInstanceCommand).rejects(Object.assign(new Error('Database instance is not in available state.'), { name: 'InvalidDBInstanceStateFault' }));
    const out = await handler(failure());
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(out).toMatchObject({ cleanup: ['kept ROLLBACK_FAILED stack tessera-acme until the protection of Database shows lifted; a re-run deletes it'] });
    expect(lifts(records.get('acme')!.failure?.liftedProtections)).toEqual(['tessera-acme TerminationProtection']);
    expect(records.get('acme')!.failure?.leftBehind).toEqual([{ stack: 'tessera-acme', logicalId: 'Database', type: 'AWS::RDS::DBInstance', physicalId: DB, status: 'DELETE_FAILED', reason: PROTECTED }]);
  });

  it('removes a DELETE_FAILED stack of an offboarding (the stack was meant to go)', async () => {
    records.set('acme', leased('offboard', { currentStep: 'Delete tenant stacks', executions: [{ ...running(), kind: 'offboard' }] }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('DELETE_FAILED', { EnableTerminationProtection: false }));
    await handler(failure('offboard'));
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(1);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
    expect(lifts(records.get('acme')!.failure?.liftedProtections)).toEqual(['Database DeletionProtection']);
  });

  it('leaves a dead stack with the tenant\'s name that Tessera did not create alone, saying so', async () => {
    // GIVEN a ROLLBACK_FAILED stack named tessera-acme, tagged for acme by another onboarding request
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint', executions: [running()] }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('ROLLBACK_FAILED', { Tags: ownedTags('acme', 'req-someone-else') }));
    // WHEN
    const out = await handler(failure());
    // THEN nothing is lifted or deleted; the failure is recorded as for any other
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(0);
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(out).toEqual({
      status: 'FAILED', step: 'Check blueprint', reason: 'StackFailed: stack tessera-acme is ROLLBACK_FAILED: Endpoint CREATE_FAILED: endpoint quota',
      cleanup: ['left ROLLBACK_FAILED stack tessera-acme alone: its tag tessera:request-id is "req-someone-else", not the tenant\'s onboarding request "req-acme-0001"'],
    });
    expect(records.get('acme')).toMatchObject({ status: 'FAILED', failure: { step: 'Check blueprint', kind: 'onboard', executionArn: state().executionArn } });
    expect(records.get('acme')?.lease).toBeUndefined();
  });

  it('never deletes a live tenant\'s DELETE_FAILED stack after a failed change: it still holds the database', async () => {
    records.set('acme', leased('change', { currentStep: 'Deploy blueprint' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('DELETE_FAILED'));
    const out = await handler(failure('change'));
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(out).toMatchObject({ status: 'ACTIVE', cleanup: [] });
  });
});

describe('Deploy blueprint removes a dead tenant stack an onboarding meets, and asks for a retry', async () => {
  const { handler: deploy } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');

  it('lifts and records the protections (execution history, audit bucket, bus), deletes the stack, answers StackBusy; never an UpdateStack', async () => {
    // GIVEN the re-run of an onboarding whose earlier Record failure could not remove the stack
    records.set('acme', leased('onboard', { executions: [running()] }));
    // WHEN / THEN
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({
      name: 'StackBusy',
      message: 'stack tessera-acme is ROLLBACK_FAILED from an earlier attempt; lifted TerminationProtection of tessera-acme, DeletionProtection of Database; deleted it, creating it again once it is gone',
    });
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input)).toEqual([{ StackName: STACK_ID, RoleARN: EXECUTION_ROLE, ClientRequestToken: DELETE_TOKEN }]);
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);
    expect(lifts(records.get('acme')!.executions[0].liftedProtections)).toEqual(['tessera-acme TerminationProtection', 'Database DeletionProtection']);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(2);
    expect(eventTypes()).toEqual(['Tenant Protection Lifted', 'Tenant Protection Lifted']);
  });

  // Faults pass: the lifts were written in a `finally` after the deletion; a Lambda timeout after a lift runs none.
  it('has each lift in the execution\'s history entry before the next one is made, and both before the stack is deleted', async () => {
    records.set('acme', leased('onboard', { executions: [running()] }));
    const onRecord = () => lifts(records.get('acme')?.executions[0].liftedProtections);
    const seen = liftsOnRecord(onRecord);
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'StackBusy' });
    expect(seen).toEqual({ atDatabaseLift: ['tessera-acme TerminationProtection'], atDeletion: ['tessera-acme TerminationProtection', 'Database DeletionProtection'] });
  });

  it('on a retry, neither lifts nor records again a protection a stale read still shows: it waits, and deletes nothing yet', async () => {
    // GIVEN this execution already lifted the database's protection, which a read still shows
    const at = '2026-11-30T00:00:00.000Z';
    records.set('acme', leased('onboard', { executions: [{ ...running(), liftedProtections: [{ logicalId: 'Database', type: 'AWS::RDS::DBInstance', physicalId: DB, protection: 'DeletionProtection', at }] }] }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('ROLLBACK_FAILED', { EnableTerminationProtection: false }));
    // WHEN / THEN
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'StackBusy', message: expect.stringMatching(/waiting for the protection of Database to be lifted before deleting it$/) });
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(records.get('acme')!.executions[0].liftedProtections).toHaveLength(1);
    expect(eventTypes()).toEqual([]);
  });

  it('deletes a DELETE_FAILED stack again once nothing protects it, naming why the deletion failed', async () => {
    records.set('acme', leased('onboard', { executions: [running()] }));
    dbProtected = false;
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('DELETE_FAILED', { EnableTerminationProtection: false }));
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [
      event('tessera-acme', 'AWS::CloudFormation::Stack', 'DELETE_FAILED', undefined, 'The following resource(s) failed to delete: [Subnet]. '),
      event('Subnet', 'AWS::EC2::Subnet', 'DELETE_FAILED', 'subnet-1', 'has dependencies'),
    ] });
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({
      name: 'StackBusy', message: 'stack tessera-acme is DELETE_FAILED from an earlier attempt: Subnet DELETE_FAILED: has dependencies; deleted it, creating it again once it is gone',
    });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
    expect(records.get('acme')!.executions[0].liftedProtections).toBeUndefined();
  });

  // s39g: Step Functions does not stop a running Lambda; an onboarding whose lease was ended (the status-change rule) while
  // the step read the dead stack's protections must not delete it (stack-operation-lease.ts holdLeaseFor via beforeDelete).
  it('deletes nothing once the onboarding lost its lease while the step read the stack\'s protections (TenantBusy naming the DeleteStack)', async () => {
    records.set('acme', leased('onboard', { executions: [running()] }));
    dbProtected = false;
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('DELETE_FAILED', { EnableTerminationProtection: false }));
    rds.on(DescribeDBInstancesCommand).callsFake(() => {
      loseLease('acme', { status: 'FAILED' });
      return { DBInstances: [{ DBInstanceIdentifier: DB, DeletionProtection: false }] };
    });
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringContaining('DeleteStack of stack tessera-acme not started: the execution lost the tenant\'s lease') });
    expect(rds.commandCalls(DescribeDBInstancesCommand)).not.toHaveLength(0);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('a DELETE_FAILED stack whose deletion completes at once: why it failed is read by its id before the deletion (by name a deleted stack "does not exist"; the step failed ValidationError) (hdr2)', async () => {
    records.set('acme', leased('onboard', { executions: [running()] }));
    dbProtected = false;
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('DELETE_FAILED', { EnableTerminationProtection: false }));
    let deleted = false;
    cfn.on(DeleteStackCommand).callsFake(() => { deleted = true; return {}; });
    cfn.on(DescribeStackEventsCommand).callsFake((input: { StackName?: string }) => {
      if (deleted && input.StackName === 'tessera-acme') throw Object.assign(new Error('Stack [tessera-acme] does not exist'), { name: 'ValidationError' });
      return { StackEvents: [event('Subnet', 'AWS::EC2::Subnet', 'DELETE_FAILED', 'subnet-1', 'has dependencies')] };
    });
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({
      name: 'StackBusy', message: 'stack tessera-acme is DELETE_FAILED from an earlier attempt: Subnet DELETE_FAILED: has dependencies; deleted it, creating it again once it is gone',
    });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
  });

  it('fails a change that meets a DELETE_FAILED stack, for an operator: no lift, no deletion, no update', async () => {
    records.set('acme', leased('change'));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('DELETE_FAILED', { StackStatusReason: 'The following resource(s) failed to delete: [Database]. ' }));
    await expect(deploy(state('acme', { blueprint: 'tenant', change: { tier: 'professional' } }))).rejects.toMatchObject({
      name: 'StackFailed', message: expect.stringMatching(/^stack tessera-acme is DELETE_FAILED: The following resource\(s\) failed to delete: \[Database\]\. ; a tier change does not delete a tenant's stack/),
    });
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });

  // Begin change always names the tier, so every change read "a tier change" here: a repair, and a version change, too.
  it.each([
    [{ tier: 'starter', repair: true }, 'repair'],
    [{ tier: 'starter', blueprintVersion: '1.1.0' }, 'blueprint change'],
  ])('names the operation that met a DELETE_FAILED stack: change %j is a %s', async (change, what) => {
    records.set('acme', leased('change'));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves(deadStack('DELETE_FAILED', { StackStatusReason: 'The following resource(s) failed to delete: [Database]. ' }));
    await expect(deploy(state('acme', { blueprint: 'tenant', change }))).rejects.toMatchObject({
      name: 'StackFailed', message: `stack tessera-acme is DELETE_FAILED: The following resource(s) failed to delete: [Database]. ; a ${what} does not delete a tenant's stack, and CloudFormation takes no update of a DELETE_FAILED stack, only its deletion, so neither a change nor --repair can bring it back: restore its data stores from their backups and snapshots (docs/resilience.md, "Repairing it"), or offboard the tenant (tessera tenants delete acme --yes)`,
    });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
  });

  describe('once the dead stack is gone, a re-run completes what its failed rollback could not', () => {
    const OLD = 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/0';
    const ROLLED_BACK = 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/00';
    const deletedEvent = (StackId: string, ResourceStatus: string) => ({ ...event('tessera-acme', 'AWS::CloudFormation::Stack', ResourceStatus), StackId, EventId: `${StackId}${ResourceStatus}` });
    beforeEach(() => {
      cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' }));
      cfn.on(CreateStackCommand).resolves({ StackId: STACK_ID });
      for (const StackId of [OLD, ROLLED_BACK]) {
        cfn.on(DescribeStacksCommand, { StackName: StackId }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId, StackStatus: 'DELETE_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
      }
      cfn.on(ListStacksCommand).resolves({ StackSummaries: [
        { StackName: 'tessera-acme', StackId: OLD, StackStatus: 'DELETE_COMPLETE', CreationTime: new Date() },
        { StackName: 'tessera-acme', StackId: ROLLED_BACK, StackStatus: 'DELETE_COMPLETE', CreationTime: new Date() },
        { StackName: 'tessera-other', StackId: 'arn:other', StackStatus: 'DELETE_COMPLETE', CreationTime: new Date() },
      ] });
      // the first attempt's rollback failed on the protected database; the second's completed
      cfn.on(DescribeStackEventsCommand, { StackName: OLD }).resolves({ StackEvents: [deletedEvent(OLD, 'DELETE_COMPLETE'), deletedEvent(OLD, 'ROLLBACK_FAILED'), deletedEvent(OLD, 'CREATE_IN_PROGRESS')] });
      cfn.on(DescribeStackEventsCommand, { StackName: ROLLED_BACK }).resolves({ StackEvents: [deletedEvent(ROLLED_BACK, 'DELETE_COMPLETE'), deletedEvent(ROLLED_BACK, 'ROLLBACK_COMPLETE')] });
      cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify({ Resources: {
        Database: { Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot' }, Key: { Type: 'AWS::KMS::Key', DeletionPolicy: 'RetainExceptOnCreate' },
        DatabaseLog: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'RetainExceptOnCreate' }, KeptLog: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain' },
      } }) });
      cfn.on(ListStackResourcesCommand, { StackName: OLD }).resolves({ StackResourceSummaries: [
        summary('Database', 'AWS::RDS::DBInstance', DB, 'DELETE_COMPLETE'), summary('Key', 'AWS::KMS::Key', 'key-1', 'DELETE_SKIPPED'),
        summary('DatabaseLog', 'AWS::Logs::LogGroup', '/aws/rds/instance/tessera-acme/postgresql', 'DELETE_SKIPPED'),
        summary('KeptLog', 'AWS::Logs::LogGroup', '/tessera/acme/kept', 'DELETE_SKIPPED'),
      ] });
      cfn.on(ListStackResourcesCommand, { StackName: ROLLED_BACK }).resolves({ StackResourceSummaries: [summary('KeptLog', 'AWS::Logs::LogGroup', '/tessera/acme/kept-2', 'DELETE_SKIPPED')] });
      logs.on(DeleteLogGroupCommand).resolves({});
      kms.on(ScheduleKeyDeletionCommand).resolves({});
    });

    it('leaves alone what a deleted stack of the same name that Tessera did not create kept', async () => {
      cfn.on(DescribeStacksCommand, { StackName: OLD }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: OLD, StackStatus: 'DELETE_COMPLETE', CreationTime: new Date(), Tags: [] }] });
      records.set('acme', leased('onboard', { executions: [{ ...running(), executionArn: 'arn:earlier', status: 'FAILED' }, running()] }));
      await expect(deploy(state('acme', { blueprint: 'tenant' }))).resolves.toEqual({ stackName: 'tessera-acme', kind: 'tenant' });
      expect(logs.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
      expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    });

    it('removes the RetainExceptOnCreate resources the deletion kept (audited), keeps plain Retain, then creates the stack', async () => {
      records.set('acme', leased('onboard', { executions: [{ ...running(), executionArn: 'arn:earlier', status: 'FAILED' }, running()] }));
      await expect(deploy(state('acme', { blueprint: 'tenant' }))).resolves.toEqual({
        stackName: 'tessera-acme', kind: 'tenant', remnantsRemoved: ['Key (AWS::KMS::Key) key-1', 'DatabaseLog (AWS::Logs::LogGroup) /aws/rds/instance/tessera-acme/postgresql'],
      });
      expect(logs.commandCalls(DeleteLogGroupCommand).map((c) => c.args[0].input)).toEqual([{ logGroupName: '/aws/rds/instance/tessera-acme/postgresql' }]);
      expect(kms.commandCalls(ScheduleKeyDeletionCommand).map((c) => c.args[0].input)).toEqual([{ KeyId: 'key-1', PendingWindowInDays: 7 }]);
      expect(logs.commandCalls(DeleteLogGroupCommand)[0].calledBefore(cfn.commandCalls(CreateStackCommand)[0])).toBe(true);
      const audits = s3.commandCalls(PutObjectCommand).map((c) => JSON.parse(c.args[0].input.Body as string));
      expect(audits).toEqual([
        expect.objectContaining({ action: 'remnant-removed', logicalId: 'Key', stackId: OLD }),
        expect.objectContaining({ action: 'remnant-removed', logicalId: 'DatabaseLog', physicalId: '/aws/rds/instance/tessera-acme/postgresql' }),
      ]);
    });

    it('takes a remnant already removed as done (the step ran before)', async () => {
      records.set('acme', leased('onboard', { executions: [{ ...running(), executionArn: 'arn:earlier', status: 'FAILED' }, running()] }));
      logs.on(DeleteLogGroupCommand).rejects(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
      kms.on(ScheduleKeyDeletionCommand).rejects(Object.assign(new Error('pending deletion'), { name: 'KMSInvalidStateException' }));
      await expect(deploy(state('acme', { blueprint: 'tenant' }))).resolves.toEqual({ stackName: 'tessera-acme', kind: 'tenant' });
      expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(1);
    });

    it('looks for nothing on a first onboarding', async () => {
      records.set('acme', leased('onboard', { executions: [running()] }));
      await deploy(state('acme', { blueprint: 'tenant' }));
      expect(cfn.commandCalls(ListStacksCommand)).toHaveLength(0);
      expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(1);
    });
  });
});

/**
 * Faults pass: a lift made just before a Lambda timeout, before its history write. The retry (here *Record failure*,
 * the Catch of the timed-out step) found the protection already off and recorded nothing: the database's protection was
 * lifted by Tessera, and no record said so. The intent written before each lift now tells the retry whose lift it was.
 */
describe('a lift whose history write never happened (the Lambda timed out right after the lift)', async () => {
  const { handler: deploy } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');
  const { handler: recordFailure } = await import('../../../lambdas/lifecycle/record-failure.js');

  it('is on record after the retry: lifted, by Deploy blueprint of this execution and why, found by Record failure', async () => {
    // GIVEN an onboarding re-run whose Deploy blueprint removes the dead stack, and whose Lambda is stopped (a timeout)
    // while it writes the database's lift to the history entry: nothing after the lift runs, no catch, no finally
    records.set('acme', leased('onboard', { executions: [running()] }));
    const write = registryMock.recordExecution.getMockImplementation()!;
    let stopped!: () => void;
    const timedOut = new Promise<void>((resolve) => (stopped = resolve));
    registryMock.recordExecution.mockImplementation(async (id: string, entry: LifecycleExecution) => {
      if (!entry.liftedProtections?.some((l) => l.logicalId === 'Database')) return write(id, entry);
      stopped();
      return new Promise<never>(() => undefined);
    });
    try {
      void deploy(state('acme', { blueprint: 'tenant' }));
      await timedOut;
    } finally {
      registryMock.recordExecution.mockImplementation(write);
    }
    expect(dbProtected).toBe(false); // the lift was made
    expect(lifts(records.get('acme')!.executions[0].liftedProtections)).toEqual(['tessera-acme TerminationProtection']);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    // WHEN the step's Catch runs Record failure, which finds the database's protection already off
    await recordFailure({ ...state(), kind: 'onboard', error: { Error: 'States.Timeout', Cause: JSON.stringify({ errorMessage: 'Task timed out after 60.00 seconds' }) }, failedStep: 'Deploy blueprint' });
    // THEN the record says the database's protection was lifted, by whom (Deploy blueprint, this execution) and why,
    // and which step recorded it late
    const record = records.get('acme')!;
    const database = {
      logicalId: 'Database', type: 'AWS::RDS::DBInstance', physicalId: DB, protection: 'DeletionProtection',
      step: 'Deploy blueprint', requestId: 'req-acme-0001', executionArn: state().executionArn, reason: 'dead stack ROLLBACK_FAILED: lifted so that the stack can be deleted',
      intendedAt: expect.any(String), at: expect.any(String), confirmedBy: { step: 'Record failure', executionArn: state().executionArn },
    };
    expect(record.failure?.liftedProtections).toEqual([expect.objectContaining({ logicalId: 'tessera-acme', protection: 'TerminationProtection', step: 'Deploy blueprint' }), database]);
    expect(record.executions[0].liftedProtections?.[1]).toEqual(database);
    expect(record.liftIntents).toBeUndefined();
    // not lifted twice; its audit record and event made once, by the retry, naming the step that lifted it
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(1);
    const audits = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input).filter((a) => a.Key!.includes('-protection-lifted-Database'));
    expect(audits).toHaveLength(1);
    expect(JSON.parse(audits[0].Body as string)).toMatchObject({ logicalId: 'Database', step: 'Deploy blueprint', reason: database.reason, confirmedBy: { step: 'Record failure' } });
    expect(eventTypes().filter((t) => t === 'Tenant Protection Lifted')).toHaveLength(2);
    // and the stack went, its database with it
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input)).toEqual([{ StackName: STACK_ID, RoleARN: EXECUTION_ROLE, ClientRequestToken: DELETE_TOKEN }]);
  });

  it('lifts again a protection whose intent is on record but which still shows on (the Lambda stopped before the call): one lift on record', async () => {
    // GIVEN an intent of this execution's Deploy blueprint for the database, whose lift was never made
    records.set('acme', leased('onboard', {
      executions: [running()],
      liftIntents: [{
        logicalId: 'Database', type: 'AWS::RDS::DBInstance', physicalId: DB, protection: 'DeletionProtection', stackId: STACK_ID,
        step: 'Deploy blueprint', requestId: 'req-acme-0001', executionArn: state().executionArn, reason: 'dead stack ROLLBACK_FAILED: lifted so that the stack can be deleted', intendedAt: '2026-11-30T00:00:00.000Z',
      }],
    }));
    // WHEN the step runs again
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).rejects.toMatchObject({ name: 'StackBusy' });
    // THEN the database is lifted now, recorded once as this run's own (no confirmedBy), the intent gone
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(1);
    const database = records.get('acme')!.executions[0].liftedProtections!.filter((l) => l.logicalId === 'Database');
    expect(database).toEqual([expect.objectContaining({ step: 'Deploy blueprint', intendedAt: expect.any(String) })]);
    expect(database[0].confirmedBy).toBeUndefined();
    expect(database[0].intendedAt).not.toBe('2026-11-30T00:00:00.000Z');
    expect(records.get('acme')!.liftIntents).toBeUndefined();
  });
});
