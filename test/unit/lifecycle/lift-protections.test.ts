import {
  CloudFormationClient, DescribeStacksCommand, GetTemplateCommand, ListStackResourcesCommand, UpdateTerminationProtectionCommand, type ResourceStatus, type Stack, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, PutLogGroupDeletionProtectionCommand, CloudWatchLogsServiceException } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeClusterCommand, EKSClient, UpdateClusterConfigCommand, EKSServiceException } from '@aws-sdk/client-eks';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { AUDIT_REPLICATED_PREFIXES } from '../../../lib/audit-prefixes.js';
import { configWith } from '../../support/config-with.js';
import { credentials, EXECUTION_ARN, leased, ownedTags, setLifecycleEnv, state, useConfig } from './support.js';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const rds = mockStrict(RDSClient, 'rds', RDSServiceException);
const eks = mockStrict(EKSClient, 'eks', EKSServiceException);
const logs = mockStrict(CloudWatchLogsClient, 'logs', CloudWatchLogsServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);

const STACK_ID = 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1';
/** The tenant stack as DescribeStacks shows it: created by Tessera's onboarding for acme (its ownership tags). */
const tenantStack = (EnableTerminationProtection: boolean, extra: Partial<Stack> = {}): { Stacks: Stack[] } => ({ Stacks: [{
  StackName: 'tessera-acme', StackId: STACK_ID, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), EnableTerminationProtection, Tags: ownedTags(), ...extra,
}] });
/** Who lifted, on each record of *Lift protections*: the step, the offboarding's request and execution, why. */
const by = { step: 'Lift protections', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, reason: 'offboarding: lifted so that the stack deletion can remove what it protects', intendedAt: expect.any(String) };
const resource = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string) =>
  ({ LogicalResourceId, ResourceType, PhysicalResourceId, ResourceStatus: 'CREATE_COMPLETE' as ResourceStatus, LastUpdatedTimestamp: new Date() });

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, rds, eks, logs, s3, events, sts]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  s3.on(PutObjectCommand).resolves({});
  cfn.on(DescribeStacksCommand).resolves(tenantStack(true));
  // The blueprint's policies: the database is snapshotted (deleted with the stack), log groups retained.
  cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify({ Resources: {
    Database: { Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot' }, Cluster: { Type: 'AWS::EKS::Cluster' },
    FlowLogs: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'RetainExceptOnCreate' }, AppLogs: { Type: 'AWS::Logs::LogGroup' },
  } }) });
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [
    resource('Database', 'AWS::RDS::DBInstance', 'tessera-acme-db'), resource('Cluster', 'AWS::EKS::Cluster', 'tessera-acme'),
    resource('FlowLogs', 'AWS::Logs::LogGroup', '/tessera/acme/flow-logs'), resource('AppLogs', 'AWS::Logs::LogGroup', '/tessera/acme/app'),
  ] });
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'tessera-acme-db', DeletionProtection: true }] });
  rds.on(ModifyDBInstanceCommand).resolves({});
  eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'tessera-acme', deletionProtection: false } });
  logs.on(DescribeLogGroupsCommand).callsFake((input: { logGroupNamePrefix: string }) => ({ logGroups: [{ logGroupName: input.logGroupNamePrefix, deletionProtectionEnabled: true }] }));
});

describe('Lift protections (offboarding)', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/lift-protections.js');

  // Faults pass: the lifts were saved once, at the end of the step (or in its catch). A Lambda that timed out after a
  // lift runs no catch, and the re-run finds the protection off and neither lifts nor records it: a lift in no registry.
  it('has each lift on record before the next one is made (a timeout later in the step loses none)', async () => {
    records.set('acme', leased('offboard'));
    let atDatabaseLift: unknown;
    rds.on(ModifyDBInstanceCommand).callsFake(() => {
      atDatabaseLift = structuredClone(records.get('acme')?.offboarding?.liftedProtections);
      return {};
    });
    await handler(state());
    expect(atDatabaseLift).toEqual([{ logicalId: 'tessera-acme', type: 'AWS::CloudFormation::Stack', physicalId: STACK_ID, protection: 'TerminationProtection', at: expect.any(String), ...by }]);
  });

  // Faults pass: the lift was written to the registry after the call only. A Lambda that timed out between the two
  // left the database unprotected by Tessera's hand, and the retry found it "already off": recorded nowhere.
  it('records on the retry a lift made just before a Lambda timeout and before its registry write: lifted, by whom and why', async () => {
    // GIVEN an offboarding whose Lambda is stopped (a timeout) while it writes the database's lift to the registry
    records.set('acme', leased('offboard'));
    let dbProtected = true;
    rds.on(DescribeDBInstancesCommand).callsFake(() => ({ DBInstances: [{ DBInstanceIdentifier: 'tessera-acme-db', DeletionProtection: dbProtected }] }));
    rds.on(ModifyDBInstanceCommand).callsFake(() => {
      dbProtected = false;
      return {};
    });
    const write = registryMock.updateTenant.getMockImplementation()!;
    let stopped!: () => void;
    const timedOut = new Promise<void>((resolve) => (stopped = resolve));
    registryMock.updateTenant.mockImplementation(async (...args: Parameters<typeof write>) => {
      if (!args[1].offboarding?.liftedProtections?.some((l) => l.logicalId === 'Database')) return write(...args);
      stopped();
      return new Promise<never>(() => undefined); // nothing after the lift runs: no catch, no finally
    });
    try {
      void handler(state());
      await timedOut;
    } finally {
      registryMock.updateTenant.mockImplementation(write);
    }
    expect(dbProtected).toBe(false);
    expect(records.get('acme')?.offboarding?.liftedProtections.map((l) => l.logicalId)).toEqual(['tessera-acme']);
    // WHEN the step runs again (its retry), finding the stack's protection and the database's off
    cfn.on(DescribeStacksCommand).resolves(tenantStack(false));
    await handler(state());
    // THEN the record says the database's protection was lifted: by Lift protections of this offboarding, why, when
    const database = records.get('acme')?.offboarding?.liftedProtections.find((l) => l.logicalId === 'Database');
    expect(database).toEqual({
      logicalId: 'Database', type: 'AWS::RDS::DBInstance', physicalId: 'tessera-acme-db', protection: 'DeletionProtection', at: expect.any(String), ...by,
      confirmedBy: { step: 'Lift protections', executionArn: EXECUTION_ARN },
    });
    expect(records.get('acme')?.liftIntents).toBeUndefined();
    // lifted once; its audit record and event made once (by the retry)
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(1);
    const audits = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input).filter((a) => a.Key!.includes('-protection-lifted-Database'));
    expect(audits.map((a) => JSON.parse(a.Body as string))).toEqual([expect.objectContaining({ logicalId: 'Database', step: 'Lift protections', reason: by.reason, accountId: '333333333333' })]);
  });

  it('lifts termination protection, the database\'s DeletionProtection and a deleted log group\'s, records each in the registry, the audit bucket and on the bus, then waits', async () => {
    // GIVEN an ACTIVE tenant being offboarded
    records.set('acme', leased('offboard'));
    // WHEN
    const out = await handler(state());
    // THEN
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)[0].args[0].input).toEqual({ StackName: STACK_ID, EnableTerminationProtection: false });
    expect(rds.commandCalls(ModifyDBInstanceCommand)[0].args[0].input).toEqual({ DBInstanceIdentifier: 'tessera-acme-db', DeletionProtection: false, ApplyImmediately: true });
    expect(out).toEqual({ state: 'IN_PROGRESS', lifted: 3, waitingFor: ['Database', 'AppLogs'] });
    const lifted = records.get('acme')?.offboarding?.liftedProtections;
    expect(lifted).toEqual([
      { logicalId: 'tessera-acme', type: 'AWS::CloudFormation::Stack', physicalId: STACK_ID, protection: 'TerminationProtection', at: expect.any(String), ...by },
      { logicalId: 'Database', type: 'AWS::RDS::DBInstance', physicalId: 'tessera-acme-db', protection: 'DeletionProtection', at: expect.any(String), ...by },
      { logicalId: 'AppLogs', type: 'AWS::Logs::LogGroup', physicalId: '/tessera/acme/app', protection: 'DeletionProtection', at: expect.any(String), ...by },
    ]);
    // no intent left: each was removed once its lift was on record
    expect(records.get('acme')?.liftIntents).toBeUndefined();
    expect(records.get('acme')?.offboarding?.stackId).toBe(STACK_ID);
    // one audit object per lift, under tessera-audit/lifecycle/<tenant>/
    const audits = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(audits).toHaveLength(3);
    expect(audits.every((a) => a.Bucket === 'tessera-audit' && a.Key!.startsWith('tessera-audit/lifecycle/acme/'))).toBe(true);
    expect(JSON.parse(audits[1].Body as string)).toMatchObject({ tenantId: 'acme', action: 'protection-lifted', logicalId: 'Database', physicalId: 'tessera-acme-db', protection: 'DeletionProtection', accountId: '333333333333', requestId: 'req-acme-0001' });
    expect(events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType)).toEqual(['Tenant Protection Lifted', 'Tenant Protection Lifted', 'Tenant Protection Lifted']);
  });

  it('writes a DR tier\'s lift records under tessera-audit/dr-tier/lifecycle/ (replicated with platformDisasterRecovery), a none tier\'s under tessera-audit/lifecycle/ (home only)', async () => {
    // GIVEN acme's tier (starter) with a DR region
    useConfig(configWith({ allowedRegions: ['us-east-1', 'us-west-2'], tiers: { starter: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } }));
    records.set('acme', leased('offboard'));
    await handler(state());
    const dr = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(dr.map((a) => a.Key)).toEqual([
      expect.stringMatching(/^tessera-audit\/dr-tier\/lifecycle\/acme\/\d{4}-\d{2}-\d{2}\/.+-protection-lifted-tessera-acme\.json$/),
      expect.stringMatching(/^tessera-audit\/dr-tier\/lifecycle\/acme\/.+-protection-lifted-Database\.json$/),
      expect.stringMatching(/^tessera-audit\/dr-tier\/lifecycle\/acme\/.+-protection-lifted-AppLogs\.json$/),
    ]);
    expect(JSON.parse(dr[0].Body as string)).toMatchObject({ tenantId: 'acme', tier: 'starter', action: 'protection-lifted' });
    // WHEN the same offboarding runs with the default config, where starter has no DR region
    setLifecycleEnv();
    records.set('acme', leased('offboard'));
    s3.resetHistory();
    await handler(state());
    const home = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key!);
    expect(home).toHaveLength(3);
    expect(home.every((k) => k.startsWith('tessera-audit/lifecycle/acme/'))).toBe(true);
    // THEN only the DR tier's records fall under a prefix the audit bucket replicates (constructs/audit-trail.ts)
    const replicated = (key: string) => AUDIT_REPLICATED_PREFIXES.some((prefix) => key.startsWith(prefix));
    expect([...dr.map((a) => replicated(a.Key!)), ...home.map(replicated)]).toEqual([true, true, true, false, false, false]);
  });

  it('keeps the protections of resources the stack retains, and of resources that have none', async () => {
    records.set('acme', leased('offboard'));
    await handler(state());
    expect(logs.commandCalls(PutLogGroupDeletionProtectionCommand).map((c) => c.args[0].input)).toEqual([{ logGroupIdentifier: '/tessera/acme/app', deletionProtectionEnabled: false }]);
    expect(eks.commandCalls(UpdateClusterConfigCommand)).toHaveLength(0);
  });

  it('waits for a lifted protection to show, never lifting it twice, and is complete once none shows', async () => {
    records.set('acme', leased('offboard'));
    await handler(state());
    // the database still reports DeletionProtection on the next poll; the stack's protection is off now
    cfn.on(DescribeStacksCommand).resolves(tenantStack(false));
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    await expect(handler(state())).resolves.toEqual({ state: 'IN_PROGRESS', lifted: 0, waitingFor: ['Database'] });
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(1);
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'tessera-acme-db', DeletionProtection: false }] });
    await expect(handler(state())).resolves.toEqual({ state: 'COMPLETE', lifted: 0, waitingFor: [] });
    expect(records.get('acme')?.offboarding?.liftedProtections).toHaveLength(3);
  });

  it('lifts EKS cluster deletion protection when the template sets it', async () => {
    records.set('acme', leased('offboard'));
    eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'tessera-acme', deletionProtection: true } });
    eks.on(UpdateClusterConfigCommand).resolves({ update: { id: 'u1', status: 'InProgress' } });
    await handler(state());
    expect(eks.commandCalls(UpdateClusterConfigCommand)[0].args[0].input).toEqual({ name: 'tessera-acme', deletionProtection: false });
  });

  it('is complete at once when the stack is gone (a re-run after deletion), and still records without an audit bucket', async () => {
    records.set('acme', leased('offboard'));
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' }));
    await expect(handler(state())).resolves.toEqual({ state: 'COMPLETE', lifted: 0, waitingFor: [] });
    cfn.on(DescribeStacksCommand).resolves(tenantStack(true));
    delete process.env[ENV.auditBucket];
    await handler(state());
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(records.get('acme')?.offboarding?.liftedProtections).toHaveLength(3);
  });

  it('waits while the database is busy (its final snapshot is being taken), and lifts it on a later poll', async () => {
    records.set('acme', leased('offboard'));
    rds.on(ModifyDBInstanceCommand).rejectsOnce(Object.assign(new Error('Database instance is not in available state'), { name: 'InvalidDBInstanceStateFault' })).resolves({});
    await expect(handler(state())).resolves.toMatchObject({ state: 'IN_PROGRESS', waitingFor: ['Database', 'AppLogs'] });
    expect(records.get('acme')?.offboarding?.liftedProtections.map((l) => l.logicalId)).toEqual(['tessera-acme', 'AppLogs']);
    await handler(state());
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(2);
    expect(records.get('acme')?.offboarding?.liftedProtections.map((l) => l.logicalId)).toEqual(['tessera-acme', 'AppLogs', 'Database']);
  });

  it('fails (into Record failure) when RDS refuses the change outright, recording only what it did lift before', async () => {
    records.set('acme', leased('offboard'));
    rds.on(ModifyDBInstanceCommand).rejects(Object.assign(new Error('not authorized to perform rds:ModifyDBInstance'), { name: 'AccessDenied' }));
    await expect(handler(state())).rejects.toMatchObject({ name: 'AccessDenied' });
    // the stack's termination protection was lifted before the database was refused: on record, as in the audit bucket
    expect(records.get('acme')?.offboarding?.liftedProtections.map((l) => `${l.logicalId} ${l.protection}`)).toEqual(['tessera-acme TerminationProtection']);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('keeps every protection of a stack with the tenant\'s name that Tessera did not create, and records nothing', async () => {
    // GIVEN a stack named tessera-acme without the tags of Tessera's onboarding of acme
    const before = leased('offboard');
    records.set('acme', before);
    cfn.on(DescribeStacksCommand).resolves(tenantStack(true, { Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }] }));
    // WHEN / THEN
    await expect(handler(state())).resolves.toEqual({ state: 'COMPLETE', lifted: 0, waitingFor: [], notOurs: 'tessera-acme' });
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(0);
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
    expect(logs.commandCalls(PutLogGroupDeletionProtectionCommand)).toHaveLength(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    // only the step's own mark
    expect(records.get('acme')).toEqual({ ...before, currentStep: 'Lift protections', updatedAt: expect.any(String) });
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
  });

  it('stops the offboarding (StackNotOwned) before anything is destroyed when the tenant has a stack of its own and the one under its name is not it', async () => {
    records.set('acme', leased('offboard', { stackName: 'tessera-acme' }));
    cfn.on(DescribeStacksCommand).resolves(tenantStack(true, { Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }, { Key: 'tessera:request-id', Value: 'someone-else' }] }));
    await expect(handler(state())).rejects.toMatchObject({ name: 'StackNotOwned', message: expect.stringMatching(/its tag tessera:request-id is "someone-else"/) });
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(0);
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });

  it('recognizes a stack deployed before the request tag existed by the tenant tag and the registry\'s stackName', async () => {
    records.set('acme', leased('offboard', { stackName: 'tessera-acme' }));
    cfn.on(DescribeStacksCommand).resolves(tenantStack(true, { Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }] }));
    const out = await handler(state());
    expect(out.notOurs).toBeUndefined();
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand).map((c) => c.args[0].input)).toEqual([{ StackName: STACK_ID, EnableTerminationProtection: false }]);
  });

  it('lifts nothing for an execution that does not hold the tenant\'s lease', async () => {
    const before = leased('offboard', {}, 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:other');
    records.set('acme', before);
    await expect(handler(state())).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(0);
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('records the stack\'s termination protection once when a later poll still reads it on (a stale read, as moto always gives)', async () => {
    // GIVEN the first poll lifted everything but the database is still reported protected
    records.set('acme', leased('offboard'));
    await expect(handler(state())).resolves.toMatchObject({ state: 'IN_PROGRESS', lifted: 3 });
    // WHEN the next polls still read the stack's termination protection on (DescribeStacks unchanged), then the database off
    await expect(handler(state())).resolves.toMatchObject({ state: 'IN_PROGRESS', lifted: 0 });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'tessera-acme-db', DeletionProtection: false }] });
    logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    await expect(handler(state())).resolves.toEqual({ state: 'COMPLETE', lifted: 0, waitingFor: [] });
    // THEN each protection is on record once, in the registry, the audit bucket and on the bus
    const lifted = records.get('acme')!.offboarding!.liftedProtections.map((l) => `${l.logicalId} ${l.protection}`);
    expect(lifted).toEqual(['tessera-acme TerminationProtection', 'Database DeletionProtection', 'AppLogs DeletionProtection']);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(3);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(3);
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toHaveLength(1);
  });
});

describe('stackArnParts (the account a lift is announced for)', async () => {
  const { stackArnParts } = await import('../../../lambdas/lifecycle/lift-protections.js');

  it('reads the account, region and name of a stack from its StackId', () => {
    expect(stackArnParts('arn:aws:cloudformation:us-east-1:111111111111:stack/tessera-acme-namespace/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d'))
      .toEqual({ accountId: '111111111111', region: 'us-east-1', stackName: 'tessera-acme-namespace' });
    expect(stackArnParts('arn:aws-us-gov:cloudformation:us-gov-west-1:333333333333:stack/tessera-acme-dr/1')).toMatchObject({ accountId: '333333333333', stackName: 'tessera-acme-dr' });
  });

  it('refuses what is not a stack ARN, naming it', () => {
    expect(() => stackArnParts('tessera-acme')).toThrow('StackId "tessera-acme" is not a CloudFormation stack ARN (arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>)');
    expect(() => stackArnParts('arn:aws:cloudformation:us-east-1:333333333333:stackset/tessera:1')).toThrow(/is not a CloudFormation stack ARN/);
  });
});
