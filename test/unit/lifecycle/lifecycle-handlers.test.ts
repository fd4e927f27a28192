import { CloudFormationClient, DeleteStackCommand, DescribeStacksCommand, ListStackResourcesCommand, UpdateTerminationProtectionCommand, DescribeStackEventsCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand, KMSServiceException } from '@aws-sdk/client-kms';
import {
  AttachPolicyCommand, CloseAccountCommand, ConstraintViolationException, DescribeAccountCommand, DescribeCreateAccountStatusCommand, ListAccountsCommand, ListCreateAccountStatusCommand, ListOrganizationalUnitsForParentCommand, ListParentsCommand, ListPoliciesCommand,
  ListPoliciesForTargetCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { CopyDBSnapshotCommand, CreateDBSnapshotCommand, DeleteDBSnapshotCommand, DescribeAccountAttributesCommand, DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, ModifyDBSnapshotAttributeCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, SFNServiceException } from '@aws-sdk/client-sfn';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockStrict } from '../../support/strict-mock.js';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { LifecycleExecution, TenantRecord } from '../../../lib/tenant-record.js';
import { configWith } from '../../support/config-with.js';
import { credentials, DELETE_TOKEN, EXECUTION_ARN, LEASED_AT, lease, leased, OTHER_EXECUTION_ARN, ownedTags, sameNetworkConfig, setLifecycleEnv, state, tenant, useConfig } from './support.js';
import { controlMock } from './control-table-mock.js';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);


const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const events = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const kms = mockStrict(KMSClient, 'kms', KMSServiceException);
const orgs = mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException);
const rds = mockStrict(RDSClient, 'rds', RDSServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, events, kms, orgs, rds, s3, sts, sfn]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
});

const eventTypes = () => events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType);
const eventDetails = () => events.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!));
const namespaceGone = Object.assign(new Error('Stack with id tessera-acme-namespace does not exist'), { name: 'ValidationError' });

describe('Record failure', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/record-failure.js');
  const failure = (extra: Record<string, unknown> = {}) => ({ ...state(), kind: 'onboard' as const, error: { Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: 'stack tessera-acme is ROLLBACK_COMPLETE: Db CREATE_FAILED: quota' }) }, ...extra });
  const REASON = 'StackFailed: stack tessera-acme is ROLLBACK_COMPLETE: Db CREATE_FAILED: quota';
  const own = (status: LifecycleExecution['status'], kind: LifecycleExecution['kind'] = 'onboard'): LifecycleExecution => ({ kind, requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: LEASED_AT, ...(status === 'RUNNING' ? {} : { endedAt: 't1' }), status });

  it('deletes a stack that never came up (its termination protection lifted and recorded), frees the slot, records FAILED with step and reason, releases the lease, announces it', async () => {
    // GIVEN this execution holds the onboarding, its stack rolled back
    records.set('acme', leased('onboard', { currentStep: 'Check blueprint' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags() }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(namespaceGone);
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
    // WHEN
    const out = await handler(failure());
    // THEN
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)[0].args[0].input).toEqual({ StackName: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', EnableTerminationProtection: false });
    expect(cfn.commandCalls(DeleteStackCommand)[0].args[0].input).toEqual({ StackName: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', RoleARN: 'arn:aws:iam::333333333333:role/TesseraBlueprintExecution', ClientRequestToken: DELETE_TOKEN });
    expect(controlMock.releaseSlot).toHaveBeenCalledWith('acme');
    expect(out).toMatchObject({ status: 'FAILED', step: 'Check blueprint', reason: REASON, cleanup: ['deleted ROLLBACK_COMPLETE stack tessera-acme'] });
    const lift = {
      logicalId: 'tessera-acme', type: 'AWS::CloudFormation::Stack', physicalId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', protection: 'TerminationProtection', at: expect.any(String),
      step: 'Record failure', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, reason: 'dead stack ROLLBACK_COMPLETE: lifted so that the stack can be deleted', intendedAt: expect.any(String),
    };
    const record = records.get('acme')!;
    expect(record).toMatchObject({ status: 'FAILED', currentStep: 'Check blueprint' });
    expect(record.lease).toBeUndefined();
    expect(record.failure).toEqual({ step: 'Check blueprint', reason: REASON, at: expect.any(String), kind: 'onboard', executionArn: EXECUTION_ARN, liftedProtections: [lift] });
    expect(record.executions).toEqual([{ ...own('FAILED'), endedAt: record.failure!.at, failedStep: 'Check blueprint', reason: REASON, liftedProtections: [lift] }]);
    expect(eventTypes()).toEqual(['Tenant Protection Lifted', 'Tenant Lifecycle Failed']);
    expect(eventDetails()[1]).toMatchObject({ tenantId: 'acme', kind: 'onboard', step: 'Check blueprint', reason: REASON, executionArn: EXECUTION_ARN, status: 'FAILED' });
  });

  it('keeps a stack that works (an update rolled back) and leaves the tenant ACTIVE after a failed change', async () => {
    records.set('acme', leased('change', { currentStep: 'Check blueprint' }));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'UPDATE_ROLLBACK_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
    const out = await handler(failure({ kind: 'change' }));
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(out.status).toBe('ACTIVE');
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', failure: { step: 'Check blueprint', kind: 'change', executionArn: EXECUTION_ARN } });
    expect(records.get('acme')?.lease).toBeUndefined();
    expect(controlMock.releaseSlot).not.toHaveBeenCalled();
  });

  it('refuses a request that never owned the record: the record says so in lastRefusal alone (nothing else written), and the refusal is announced', async () => {
    // GIVEN the id belongs to another request; this onboarding was refused at Register tenant
    const before = tenant({ requestId: 'other-request', status: 'ACTIVE' });
    records.set('acme', before);
    // WHEN
    const out = await handler(failure({ error: { Error: 'TenantConflict', Cause: JSON.stringify({ errorMessage: 'taken' }) }, failedStep: 'Register tenant' }));
    // THEN (before, the registry said nothing of it: the refusal was on the bus only)
    expect(out).toEqual({ status: 'REFUSED', step: 'Register tenant', reason: 'TenantConflict: taken', recorded: 'refusal' });
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual({ ...before, lastRefusal: { kind: 'onboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, step: 'Register tenant', reason: 'TenantConflict: taken', at: expect.any(String) } });
    expect(eventDetails()).toEqual([{ tenantId: 'acme', kind: 'onboard', step: 'Register tenant', reason: 'TenantConflict: taken', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, refused: true, status: 'ACTIVE' }]);
  });

  it('refuses an execution another operation holds the tenant against (TenantBusy at its first step): lastRefusal recorded, nothing of the running operation touched', async () => {
    // GIVEN an offboarding runs; a change was started from the console and refused at Begin change
    const before = leased('offboard', { currentStep: 'Export tenant data' }, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
    // WHEN
    const out = await handler(failure({ kind: 'change', error: { Error: 'TenantBusy', Cause: JSON.stringify({ errorMessage: 'tenant "acme" is busy' }) }, failedStep: 'Begin change' }));
    // THEN nothing of the offboarding's record (lease, status, step, history, updatedAt), stacks or slot is touched
    expect(out).toEqual({ status: 'REFUSED', step: 'Begin change', reason: 'TenantBusy: tenant "acme" is busy', recorded: 'refusal' });
    expect(records.get('acme')).toEqual({ ...before, lastRefusal: { kind: 'change', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, step: 'Begin change', reason: 'TenantBusy: tenant "acme" is busy', at: expect.any(String) } });
    expect(cfn.calls()).toHaveLength(0);
    expect(controlMock.releaseSlot).not.toHaveBeenCalled();
    expect(eventDetails()).toEqual([expect.objectContaining({ kind: 'change', refused: true, status: 'OFFBOARDING', executionArn: EXECUTION_ARN })]);
    // The offboarding's own read-modify-write, guarded by the updatedAt it read before the refusal, still goes through,
    // and keeps the refusal (it never writes lastRefusal)
    await registryMock.updateTenant('acme', { currentStep: 'Snapshot database' }, { holder: OTHER_EXECUTION_ARN, expectUpdatedAt: before.updatedAt });
    expect(records.get('acme')).toMatchObject({ currentStep: 'Snapshot database', lastRefusal: { step: 'Begin change' } });
  });

  it('refuses an offboarding started outside the admin API for a tenant rebuilt in its DR region (Check rebuilt stack, before the lease): the record keeps its status and says why in lastRefusal', async () => {
    // GIVEN an ACTIVE tenant; a StartExecution of tessera-offboard was refused at Check rebuilt stack
    const before = tenant({ status: 'ACTIVE' });
    records.set('acme', before);
    const why = 'TenantRebuiltInDrRegion: tenant acme runs from stack tessera-acme in us-west-2, rebuilt by the failover runbook';
    // WHEN
    const out = await handler(failure({ kind: 'offboard', error: { Error: 'TenantRebuiltInDrRegion', Cause: JSON.stringify({ errorMessage: why.replace('TenantRebuiltInDrRegion: ', '') }) }, failedStep: 'Check rebuilt stack' }));
    // THEN
    expect(out).toEqual({ status: 'REFUSED', step: 'Check rebuilt stack', reason: why, recorded: 'refusal' });
    expect(records.get('acme')).toEqual({ ...before, lastRefusal: { kind: 'offboard', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, step: 'Check rebuilt stack', reason: why, at: expect.any(String) } });
    expect(eventDetails()).toEqual([expect.objectContaining({ kind: 'offboard', refused: true, status: 'ACTIVE', step: 'Check rebuilt stack' })]);
  });

  // lcleft2: an execution whose completing write was made and whose announcement was sent (nothing owed) had its history
  // rewritten FAILED and a failure announced, for an operation that took effect and was announced. The test's scenario
  // (SUCCEEDED, the announcement refused, nothing owed) no longer occurs: the completing write owes the announcement, and a
  // refused one stays owed (the tests below); nothing owed means it was sent.
  it('keeps the history SUCCEEDED, writes nothing and announces no failure when the completed operation owes nothing (its announcement was sent before the step failed)', async () => {
    // GIVEN Finish change wrote ACTIVE, SUCCEEDED and the owed Tenant Changed, sent and cleared it, then timed out
    const earlier = { kind: 'change' as const, requestId: 'req-old', executionArn: 'arn:old', startedAt: 't', endedAt: 't', status: 'SUCCEEDED' as const };
    const before = tenant({ status: 'ACTIVE', executions: [earlier, own('SUCCEEDED', 'change')] });
    records.set('acme', before);
    // WHEN
    const out = await handler(failure({ kind: 'change', error: { Error: 'States.Timeout', Cause: '' }, failedStep: 'Finish change' }));
    // THEN the execution ends SUCCEEDED (the workflow's *Took effect?* choice), as its history says
    expect(out).toMatchObject({ status: 'ACTIVE', step: 'Finish change', recorded: 'announced', announced: [] });
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual(before);
    expect(eventTypes()).toEqual([]);
  });

  it('run again after it sent the owed announcement (its first answer lost): keeps the history SUCCEEDED, announces nothing twice and no failure', async () => {
    // GIVEN the offboarding's completing write owed Tenant Offboarded, PutEvents failed, Record failure sent it and cleared it
    records.set('acme', tenant({ status: 'OFFBOARDED', executions: [own('SUCCEEDED', 'offboard')], owedAnnouncements: [{ detailType: 'Tenant Offboarded', detail: { tenantId: 'acme', executionArn: EXECUTION_ARN }, executionArn: EXECUTION_ARN, at: 't' }] }));
    const input = failure({ kind: 'offboard', error: { Error: 'Error', Cause: JSON.stringify({ errorMessage: 'EventBridge rejected "Tenant Offboarded"' }) }, failedStep: 'Finish offboarding' });
    await handler(input);
    // WHEN Step Functions runs Record failure again (Lambda.ServiceException on its answer)
    const again = await handler(input);
    // THEN
    expect(again).toMatchObject({ status: 'OFFBOARDED', recorded: 'announced' });
    expect(records.get('acme')!.executions).toEqual([expect.objectContaining({ status: 'SUCCEEDED' })]);
    expect(eventTypes()).toEqual(['Tenant Offboarded']);
  });

  it('corrects only its own history entry to FAILED when it is still RUNNING and the lease is gone (ended by someone else)', async () => {
    // GIVEN another execution took over the dead lease of this one, which then failed
    const earlier = { kind: 'change' as const, requestId: 'req-old', executionArn: 'arn:old', startedAt: 't', endedAt: 't', status: 'SUCCEEDED' as const };
    const before = tenant({ status: 'ACTIVE', executions: [earlier, own('RUNNING', 'change')] });
    records.set('acme', before);
    // WHEN
    const out = await handler(failure({ kind: 'change', error: { Error: 'Error', Cause: JSON.stringify({ errorMessage: 'boom' }) }, failedStep: 'Check blueprint' }));
    // THEN
    const reason = 'boom'; // a plain Error's message alone (catch-reason.ts)
    expect(out).toEqual({ status: 'ACTIVE', step: 'Check blueprint', reason, recorded: 'history' });
    expect(records.get('acme')).toEqual({
      ...before, updatedAt: expect.any(String),
      executions: [earlier, { ...own('RUNNING', 'change'), status: 'FAILED', endedAt: expect.any(String), failedStep: 'Check blueprint', reason }],
    });
    expect(registryMock.updateTenant.mock.calls[0][2]).toEqual({ holder: null, expectUpdatedAt: before.updatedAt });
    expect(controlMock.releaseSlot).not.toHaveBeenCalled();
    expect(eventDetails()).toEqual([{ tenantId: 'acme', kind: 'change', step: 'Check blueprint', reason, executionArn: EXECUTION_ARN, status: 'ACTIVE' }]);
  });

  it('a change whose tenant was left UPDATING with no lease (removed while it ran: its guarded write failed TenantBusy): the tenant ACTIVE with the failure, its entry FAILED, announced as a failure (was: only the entry corrected, the tenant UPDATING for good with no failure)', async () => {
    records.set('acme', tenant({ status: 'UPDATING', currentStep: 'Check blueprint', executions: [own('RUNNING', 'change')] }));
    const lost = { Error: 'TenantBusy', Cause: JSON.stringify({ errorMessage: `tenant "acme" is not held by execution ${EXECUTION_ARN}` }) };
    const out = await handler(failure({ kind: 'change', failedStep: 'Check blueprint', error: lost }));
    const reason = `TenantBusy: tenant "acme" is not held by execution ${EXECUTION_ARN}; tenant "acme" was left UPDATING with no lease (removed outside Tessera, or lost), so its own registry writes were refused`;
    expect(out).toMatchObject({ status: 'ACTIVE', step: 'Check blueprint', reason });
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', failure: { step: 'Check blueprint', reason, kind: 'change', executionArn: EXECUTION_ARN } });
    expect(after.lease).toBeUndefined();
    // the entry keeps the whole reason too, the stranding said (until 2026-12-07: the step's error alone)
    expect(after.executions).toEqual([{ ...own('RUNNING', 'change'), status: 'FAILED', endedAt: expect.any(String), failedStep: 'Check blueprint', reason }]);
    expect(eventDetails()).toEqual([{ tenantId: 'acme', kind: 'change', step: 'Check blueprint', reason, executionArn: EXECUTION_ARN, status: 'ACTIVE' }]);
  });

  it('run again after its own write (the Tenant Lifecycle Failed it then sent was throttled): sends the failure it left owed, never as a refusal, and clears it', async () => {
    // GIVEN an earlier attempt of Record failure ended this change (ACTIVE, failure recorded, lease released, history
    // FAILED, Tenant Lifecycle Failed owed), then PutEvents failed and Step Functions ran the task again
    const failed = { step: 'Check blueprint', reason: `${REASON}; left behind: x`, at: 't1', kind: 'change' as const, executionArn: EXECUTION_ARN };
    const detail = { tenantId: 'acme', kind: 'change', step: 'Check blueprint', reason: failed.reason, executionArn: EXECUTION_ARN, status: 'ACTIVE', accountId: '222222222222', cleanup: [] };
    const before = tenant({ status: 'ACTIVE', failure: failed, executions: [{ ...own('FAILED', 'change'), failedStep: 'Check blueprint', reason: REASON }],
      owedAnnouncements: [{ detailType: 'Tenant Lifecycle Failed', detail, executionArn: EXECUTION_ARN, at: 't1' }] });
    records.set('acme', before);
    // WHEN
    const out = await handler(failure({ kind: 'change', failedStep: 'Check blueprint' }));
    // THEN (hlc4: it answered REFUSED and sent `refused: true`, which says the execution never took the lease: a
    // consumer would read a failed change as one refused before it started); the announcement as kept, then cleared
    expect(out).toEqual({ status: 'ACTIVE', step: 'Check blueprint', reason: failed.reason });
    expect(eventDetails()).toEqual([detail]);
    const { owedAnnouncements: _sent, updatedAt: _at, ...rest } = before;
    expect(records.get('acme')).toMatchObject(rest);
    expect(records.get('acme')?.owedAnnouncements).toBeUndefined();
  });

  it('run again after a failure recorded with nothing owed (sent and cleared before a timeout, or written by another ending): announced again as the failure recorded, writing nothing', async () => {
    const failed = { step: 'Check blueprint', reason: `${REASON}; left behind: x`, at: 't1', kind: 'change' as const, executionArn: EXECUTION_ARN };
    const before = tenant({ status: 'ACTIVE', failure: failed, executions: [{ ...own('FAILED', 'change'), failedStep: 'Check blueprint', reason: REASON }] });
    records.set('acme', before);
    const out = await handler(failure({ kind: 'change', failedStep: 'Check blueprint' }));
    expect(out).toEqual({ status: 'ACTIVE', step: 'Check blueprint', reason: failed.reason });
    expect(eventDetails()).toEqual([{ tenantId: 'acme', kind: 'change', step: 'Check blueprint', reason: failed.reason, executionArn: EXECUTION_ARN, status: 'ACTIVE' }]);
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(records.get('acme')).toEqual(before);
  });

  it('never touches an OFFBOARDED record: a replayed request is refused without a write', async () => {
    const before = tenant({ status: 'OFFBOARDED', executions: [{ kind: 'offboard', requestId: 'req-off', executionArn: 'arn:off', startedAt: 't', endedAt: 't', status: 'SUCCEEDED' }] });
    records.set('acme', before);
    const out = await handler(failure({ kind: 'offboard', error: { Error: 'TenantConflict', Cause: JSON.stringify({ errorMessage: 'tenant "acme" is OFFBOARDED, so an offboarding cannot start: an offboarded tenant is only kept to be read (tessera tenants show acme); to start again, onboard a new tenant under another id (ids are never reused)' }) }, failedStep: 'Begin offboarding' }));
    expect(out.status).toBe('REFUSED');
    expect(records.get('acme')).toEqual(before);
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
  });

  it('keeps an OFFBOARDED status and its SUCCEEDED history when the offboarding failed after its last write and owes nothing', async () => {
    // GIVEN the offboarding's last write made the tenant OFFBOARDED and released the lease; Tenant Offboarded was sent (nothing owed), then the step failed
    const before = tenant({ status: 'OFFBOARDED', executions: [own('SUCCEEDED', 'offboard')] });
    records.set('acme', before);
    // WHEN
    const out = await handler(failure({ kind: 'offboard', error: { Error: 'Sandbox.Timedout', Cause: JSON.stringify({ errorMessage: 'Task timed out after 30.00 seconds' }) }, failedStep: 'Finish offboarding' }));
    // THEN the status stays OFFBOARDED and the history SUCCEEDED (true: everything was offboarded and announced); before, FAILED
    const after = records.get('acme')!;
    expect(after).toEqual(before);
    expect(out).toMatchObject({ status: 'OFFBOARDED', recorded: 'announced' });
    expect(eventTypes()).toEqual([]);
  });

  // Hostile lc (s12): a change that took effect was recorded FAILED and its announcement never sent.
  const owedOffboarded = { detailType: 'Tenant Offboarded', detail: { tenantId: 'acme', executionArn: EXECUTION_ARN }, executionArn: EXECUTION_ARN, at: 't' };
  it('sends an announcement the completed operation still owes, and keeps its history SUCCEEDED', async () => {
    records.set('acme', tenant({ status: 'OFFBOARDED', executions: [own('SUCCEEDED', 'offboard')], owedAnnouncements: [owedOffboarded] }));
    const out = await handler(failure({ kind: 'offboard', error: { Error: 'Error', Cause: JSON.stringify({ errorMessage: 'EventBridge rejected "Tenant Offboarded"' }) }, failedStep: 'Finish offboarding' }));
    expect(out).toMatchObject({ status: 'OFFBOARDED', recorded: 'announced', announced: ['Tenant Offboarded'] });
    expect(eventTypes()).toEqual(['Tenant Offboarded']);
    const after = records.get('acme')!;
    expect(after.owedAnnouncements).toBeUndefined();
    expect(after.executions).toEqual([expect.objectContaining({ status: 'SUCCEEDED' })]);
  });
  it('keeps an announcement that fails again owed, the history SUCCEEDED naming it, and announces no failure', async () => {
    records.set('acme', tenant({ status: 'OFFBOARDED', executions: [own('SUCCEEDED', 'offboard')], owedAnnouncements: [owedOffboarded] }));
    events.on(PutEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const out = await handler(failure({ kind: 'offboard', error: { Error: 'AccessDeniedException', Cause: JSON.stringify({ errorMessage: 'denied' }) }, failedStep: 'Finish offboarding' }));
    expect(out).toMatchObject({ status: 'OFFBOARDED', recorded: 'announcement-owed' });
    const after = records.get('acme')!;
    expect(after.owedAnnouncements).toEqual([{ ...owedOffboarded, error: 'AccessDeniedException: denied' }]);
    expect(after.executions).toEqual([expect.objectContaining({ status: 'SUCCEEDED', reason: expect.stringMatching(/^the offboard took effect; its announcement Tenant Offboarded was not sent .*tessera tenants retry acme$/) })]);
    expect(eventTypes().filter((t) => t === 'Tenant Lifecycle Failed')).toEqual([]);
  });

  it('clips an SDK message that fails the announcement again, in the history entry and on the owed announcement, as history reasons are (it went in whole)', async () => {
    records.set('acme', tenant({ status: 'OFFBOARDED', executions: [own('SUCCEEDED', 'offboard')], owedAnnouncements: [owedOffboarded] }));
    events.on(PutEventsCommand).rejects(Object.assign(new Error(`denied ${'x'.repeat(50_000)}`), { name: 'AccessDeniedException' }));
    await handler(failure({ kind: 'offboard', error: { Error: 'AccessDeniedException', Cause: JSON.stringify({ errorMessage: 'denied' }) }, failedStep: 'Finish offboarding' }));
    const after = records.get('acme')!;
    const reason = after.executions[0]!.reason!;
    expect(reason.length).toBeLessThanOrEqual(2_000);
    expect(reason).toMatch(/^the offboard took effect; its announcement Tenant Offboarded was not sent \(.*; again: AccessDeniedException: denied x+ … \(50030 characters; the rest is in the log of the Lambda function that sent it\)\): owed on the record \(owedAnnouncements\), sent by tessera tenants retry acme$/);
    expect(after.owedAnnouncements![0]!.error!.length).toBeLessThanOrEqual(2_000);
  });

  it('keeps a CreateAccount claim Organizations lists nothing for (a request too recent to list), and says in the reason that an account request may be pending', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: undefined, currentStep: 'Create account', createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } }));
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    const out = await handler(failure({ error: { Error: 'Sandbox.Timedout', Cause: JSON.stringify({ errorMessage: 'Task timed out after 30.00 seconds' }) }, failedStep: 'Create account' }));
    const record = records.get('acme')!;
    expect(record).toMatchObject({ status: 'FAILED', createAccountClaim: { at: '2026-11-30T10:00:00.000Z' } });
    expect(record.failure?.reason).toBe('Sandbox.Timedout: Task timed out after 30.00 seconds; an account request may be pending: CreateAccount was claimed at 2026-11-30T10:00:00.000Z '
      + 'and Organizations lists no request or account for tessera-acme yet; the claim is kept, so a retry adopts the account and DELETE retires it');
    expect(out.reason).toBe(record.failure?.reason);
  });
  it('records and fences the tenant\'s account that ListAccounts shows when its claimed request is not listed', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: undefined, currentStep: 'Create account', createAccountClaim: { at: '2026-11-30T10:00:00.000Z', executionArn: EXECUTION_ARN } }));
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '444444444444', Name: 'tessera-acme', Email: 'ADMIN@acme.example.com' }] });
    orgs.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-root' }] });
    orgs.on(ListPoliciesCommand).resolves({ Policies: [{ Id: 'p-quarantine', Name: 'tessera-quarantine' }] });
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [] });
    await handler(failure({ failedStep: 'Create account' }));
    expect(records.get('acme')).toMatchObject({ status: 'FAILED', accountId: '444444444444' });
    expect(records.get('acme')?.createAccountClaim).toBeUndefined();
    expect(orgs.commandCalls(AttachPolicyCommand).map((c) => c.args[0].input)).toEqual([{ PolicyId: 'p-quarantine', TargetId: '444444444444' }]);
  });

  it('records and fences an account Organizations finished creating while the onboarding failed', async () => {
    // GIVEN an onboarding failed at Check account while its CreateAccount request was still pending
    records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: undefined, vpcCidr: undefined, currentStep: 'Check account',
      createAccountRequestId: 'car-00000001', createAccountClaim: { at: 't', executionArn: EXECUTION_ARN } }));
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'SUCCEEDED', AccountId: '444444444444' } });
    orgs.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-root' }] });
    orgs.on(ListPoliciesCommand).resolves({ Policies: [{ Id: 'p-quarantine', Name: 'tessera-quarantine' }] });
    orgs.on(ListPoliciesForTargetCommand).resolves({ Policies: [] });
    // WHEN
    const out = await handler(failure({ error: { Error: 'States.Timeout', Cause: 'the account took too long' }, failedStep: 'Check account' }));
    // THEN the account is on record (offboarding retires it) and quarantined
    expect(orgs.commandCalls(AttachPolicyCommand).map((c) => c.args[0].input)).toEqual([{ PolicyId: 'p-quarantine', TargetId: '444444444444' }]);
    const record = records.get('acme')!;
    expect(record).toMatchObject({ status: 'FAILED', accountId: '444444444444', failure: { step: 'Check account', kind: 'onboard' } });
    expect(record.createAccountRequestId).toBeUndefined();
    expect(record.createAccountClaim).toBeUndefined();
    expect(record.lease).toBeUndefined();
    expect(out).toMatchObject({ status: 'FAILED', cleanup: ['account 444444444444 (request car-00000001) was created meanwhile: recorded and quarantined'] });
    expect(eventDetails().at(-1)).toMatchObject({ accountId: '444444444444', status: 'FAILED' });
  });

  it('keeps a CreateAccount request still in progress on record for the retry or the offboarding', async () => {
    records.set('acme', leased('onboard', { isolation: 'account', tier: 'enterprise', accountId: undefined, currentStep: 'Check account', createAccountRequestId: 'car-00000001' }));
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'IN_PROGRESS' } });
    const out = await handler(failure({ failedStep: 'Check account' }));
    expect(orgs.commandCalls(AttachPolicyCommand)).toHaveLength(0);
    expect(records.get('acme')).toMatchObject({ status: 'FAILED', createAccountRequestId: 'car-00000001' });
    expect(records.get('acme')?.accountId).toBeUndefined();
    expect(out).toMatchObject({ cleanup: ['account request car-00000001 still in progress: kept in the record for the retry or the offboarding'] });
  });
});

describe('Set status', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/set-status.js');
  const SUSPEND = 'arn:aws:states:us-east-1:222222222222:execution:tessera-status:suspend-acme-1';
  const RESUME = 'arn:aws:states:us-east-1:222222222222:execution:tessera-status:resume-acme-1';
  const run = (action: 'suspend' | 'resume', executionArn: string) => handler({ ...state(), executionArn, request: { ...state().request, requestId: `req-${action}` }, action });

  it('suspends an ACTIVE tenant and resumes it, each its own operation under the tenant\'s lease', async () => {
    records.set('acme', tenant({ status: 'ACTIVE' }));
    await expect(run('suspend', SUSPEND)).resolves.toEqual({ status: 'SUSPENDED' });
    expect(records.get('acme')).toMatchObject({ status: 'SUSPENDED', executions: [{ kind: 'suspend', requestId: 'req-suspend', executionArn: SUSPEND, status: 'SUCCEEDED' }] });
    expect(records.get('acme')?.lease).toBeUndefined();
    await expect(run('resume', RESUME)).resolves.toEqual({ status: 'ACTIVE' });
    expect(records.get('acme')?.executions.map((e) => [e.kind, e.status])).toEqual([['suspend', 'SUCCEEDED'], ['resume', 'SUCCEEDED']]);
    expect(records.get('acme')?.lease).toBeUndefined();
    expect(eventTypes()).toEqual(['Tenant Suspended', 'Tenant Resumed']);
    expect(eventDetails()).toEqual([
      { tenantId: 'acme', previousStatus: 'ACTIVE', status: 'SUSPENDED', executionArn: SUSPEND },
      { tenantId: 'acme', previousStatus: 'SUSPENDED', status: 'ACTIVE', executionArn: RESUME },
    ]);
  });

  it('refuses to resume a tenant that is not suspended, writing nothing', async () => {
    const before = tenant({ status: 'ACTIVE' });
    records.set('acme', before);
    await expect(run('resume', RESUME)).rejects.toMatchObject({ name: 'TenantConflict', message: 'tenant "acme" is ACTIVE, so a resumption cannot start: it starts only while the tenant is SUSPENDED' });
    expect(records.get('acme')).toEqual(before);
    expect(eventTypes()).toEqual([]);
  });

  it('refuses while another operation runs (TenantBusy), writing nothing', async () => {
    const before = leased('change', {}, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    await expect(run('suspend', SUSPEND)).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringMatching(/is running; suspend is refused until it ends$/) });
    expect(records.get('acme')).toEqual(before);
  });

  it('Tenant Suspended carries who asked and why (the history entry the admin API wrote: actor, requestReason); Tenant Resumed its actor alone', async () => {
    const ACTOR = 'admin:arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_TesseraPlatformAdmin_0123/jane@example.com';
    const held = (kind: 'suspend' | 'resume', executionArn: string, extra: Partial<LifecycleExecution>) => leased(kind, {
      lease: lease(kind, executionArn, { requestId: `req-${kind}` }),
      executions: [{ kind, requestId: `req-${kind}`, executionArn, startedAt: LEASED_AT, status: 'RUNNING', actor: ACTOR, ...extra }],
    }, executionArn);
    records.set('acme', held('suspend', SUSPEND, { requestReason: 'invoice 4411 unpaid (FIN-12)' }));
    await run('suspend', SUSPEND);
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ status: 'SUCCEEDED', actor: ACTOR, requestReason: 'invoice 4411 unpaid (FIN-12)' });
    records.set('acme', held('resume', RESUME, {}));
    await run('resume', RESUME);
    expect(eventDetails()).toEqual([
      { tenantId: 'acme', previousStatus: 'ACTIVE', status: 'SUSPENDED', executionArn: SUSPEND, actor: ACTOR, reason: 'invoice 4411 unpaid (FIN-12)' },
      { tenantId: 'acme', previousStatus: 'SUSPENDED', status: 'ACTIVE', executionArn: RESUME, actor: ACTOR },
    ]);
  });

  it('only announces what is still owed on a retry after its status write (the announcement failed)', async () => {
    const done = { kind: 'suspend' as const, requestId: 'req-suspend', executionArn: SUSPEND, startedAt: 't', endedAt: 't', status: 'SUCCEEDED' as const };
    const owed = { detailType: 'Tenant Suspended', detail: { tenantId: 'acme', status: 'SUSPENDED', executionArn: SUSPEND }, executionArn: SUSPEND, at: 't' };
    records.set('acme', tenant({ status: 'SUSPENDED', executions: [done], owedAnnouncements: [owed] }));
    await expect(run('suspend', SUSPEND)).resolves.toEqual({ status: 'SUSPENDED' });
    expect(eventTypes()).toEqual(['Tenant Suspended']);
    expect(eventDetails()[0]).toEqual(owed.detail);
    expect(records.get('acme')?.owedAnnouncements).toBeUndefined();
  });

  it('announces nothing on a retry after its status write when nothing is owed any more (the resume after it sent it): before, Tenant Suspended again, saying ACTIVE', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', executions: [{ kind: 'suspend', requestId: 'req-suspend', executionArn: SUSPEND, startedAt: 't', endedAt: 't', status: 'SUCCEEDED' }] }));
    await expect(run('suspend', SUSPEND)).resolves.toEqual({ status: 'ACTIVE' });
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
    expect(eventTypes()).toEqual([]);
  });
});

describe('Begin change / Finish change / List tier tenants', async () => {
  const begin = (await import('../../../lambdas/lifecycle/begin-change.js')).handler;
  const finish = (await import('../../../lambdas/lifecycle/finish-change.js')).handler;
  const list = (await import('../../../lambdas/lifecycle/list-tier-tenants.js')).handler;
  it('moves a VPC tenant to another VPC tier and back to ACTIVE, holding its lease in between', async () => {
    // (a tier whose tenant network is cut as the tenant's: another one is a migration, tier-migration.test.ts)
    useConfig(sameNetworkConfig);
    records.set('acme', tenant({ status: 'ACTIVE' }));
    await expect(begin({ ...state(), change: { tier: 'professional' } })).resolves.toEqual({ tier: 'professional', previousTier: 'starter', blueprintVersion: '1.0.0', computeMode: 'shared' });
    expect(records.get('acme')).toMatchObject({ status: 'UPDATING', currentStep: 'Begin change', lease: { kind: 'change', executionArn: EXECUTION_ARN, previousStatus: 'ACTIVE' } });
    // (Begin change's output is the state's change, as the workflow passes it: resultPath $.change)
    await finish({ ...state(), change: { tier: 'professional', previousTier: 'starter' } });
    // (s31s) the entry records the tier change, which the statements label each month by
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', tier: 'professional', executions: [{ kind: 'change', executionArn: EXECUTION_ARN, status: 'SUCCEEDED', tierChange: { from: 'starter', to: 'professional' } }] });
    expect(records.get('acme')?.lease).toBeUndefined();
    expect(eventTypes()).toEqual(['Tenant Changed']);
    expect(eventDetails()[0]).toEqual({ tenantId: 'acme', previousTier: 'starter', tier: 'professional', executionArn: EXECUTION_ARN });
  });
  it('Tenant Changed carries who asked and why where its history entry has them (actor, requestReason), as Tenant Suspended does: before, neither', async () => {
    const ACTOR = 'admin:arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_TesseraPlatformAdmin_0123/jane@example.com';
    const held = (extra: Partial<LifecycleExecution>) => leased('change', { lease: lease('change', EXECUTION_ARN, { requestId: 'req-1', previousStatus: 'ACTIVE' }),
      executions: [{ kind: 'change', requestId: 'req-1', executionArn: EXECUTION_ARN, startedAt: LEASED_AT, status: 'RUNNING', actor: ACTOR, change: { tags: { team: 'ml' } }, ...extra }] });
    // a PATCH's entry: the caller, no reason (its body takes none)
    records.set('acme', held({}));
    await finish({ ...state(), change: { tags: { team: 'ml' }, previousTier: 'starter' } });
    expect(eventTypes()).toEqual(['Tenant Changed']);
    expect(eventDetails()[0]).toEqual({ tenantId: 'acme', previousTier: 'starter', tier: 'starter', tags: { team: 'ml' }, executionArn: EXECUTION_ARN, actor: ACTOR });
    expect(records.get('acme')?.owedAnnouncements).toBeUndefined();
    // an entry that recorded a reason carries it as `reason`
    records.set('acme', held({ requestReason: 'CVE-2026-1234 fix (SEC-7)' }));
    await finish({ ...state(), change: { tags: { team: 'ml' }, previousTier: 'starter' } });
    expect(eventDetails()[1]).toMatchObject({ actor: ACTOR, reason: 'CVE-2026-1234 fix (SEC-7)' });
  });
  it('takes the lease as an upgrade for the rolling upgrade\'s run, and refuses while another operation runs', async () => {
    records.set('acme', tenant({ status: 'ACTIVE' }));
    await begin({ ...state(), kind: 'upgrade', change: { blueprintVersion: '2.0.0', upgradeId: 'starter-2_0_0-1c2d3e4f', actor: 'admin:arn:aws:iam::111111111111:user/ops' } });
    expect(records.get('acme')?.lease).toMatchObject({ kind: 'upgrade', executionArn: EXECUTION_ARN });
    // (s31s) the run's history entry names the upgrade's caller and the upgrade
    expect(records.get('acme')?.executions.at(-1)).toMatchObject({ kind: 'upgrade', status: 'RUNNING', actor: 'admin:arn:aws:iam::111111111111:user/ops', upgradeId: 'starter-2_0_0-1c2d3e4f' });
    const busy = leased('offboard', {}, OTHER_EXECUTION_ARN);
    records.set('acme', busy);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    await expect(begin({ ...state(), change: { blueprintVersion: '2.0.0' } })).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(records.get('acme')).toEqual(busy);
  });
  // lc2 (s12) left: a tenant being resumed (SUSPENDED under a resume's lease) was skipped at once; the resume ends ACTIVE.
  it('waits for a resume that holds a SUSPENDED tenant (the upgrade\'s run is refused busy and retried), and skips a SUSPENDED tenant nobody holds', async () => {
    const resuming = leased('resume', { blueprintVersion: '1.0.0' }, OTHER_EXECUTION_ARN);
    records.set('acme', resuming);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const upgrade = { ...state(), kind: 'upgrade' as const, change: { tier: 'starter', blueprintVersion: '2.0.0', listedVersion: '1.0.0' } };
    await expect(begin(upgrade)).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(records.get('acme')).toEqual(resuming);
    records.set('acme', tenant({ status: 'SUSPENDED', blueprintVersion: '1.0.0' }));
    await expect(begin(upgrade)).resolves.toMatchObject({ skipped: true, reason: expect.stringContaining('is SUSPENDED') });
  });
  // lcleft (s16): an upgrade's item written before listedVersion existed (or for a tenant with no version recorded then) took
  // a tenant another upgrade had moved forward back to the older version.
  it('never takes a tenant back to an older version from a run whose item does not say the version it was listed on; a rollback the upgrade listed goes on', async () => {
    // GIVEN acme moved to 3.0.0 by a later upgrade, and the late run of an upgrade to 2.0.0 whose item has no listedVersion
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '3.0.0' }));
    const late = { ...state(), kind: 'upgrade' as const, change: { tier: 'starter', blueprintVersion: '2.0.0' } };
    // WHEN / THEN skipped (was: the lease taken and 2.0.0 deployed), nothing but the SKIPPED entry written
    await expect(begin(late)).resolves.toMatchObject({ skipped: true, tenantId: 'acme', reason: expect.stringContaining('is on blueprint version 3.0.0, newer than 2.0.0') });
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', blueprintVersion: '3.0.0', executions: [{ kind: 'upgrade', status: 'SKIPPED' }] });
    expect(records.get('acme')?.lease).toBeUndefined();
    // AND a rollback of the tier that listed acme on 3.0.0 (the operator's explicit ask) takes it to 2.0.0
    const rollback = { ...state(), kind: 'upgrade' as const, change: { tier: 'starter', blueprintVersion: '2.0.0', listedVersion: '3.0.0' } };
    await expect(begin(rollback)).resolves.toMatchObject({ blueprintVersion: '2.0.0' });
    expect(records.get('acme')?.lease).toMatchObject({ kind: 'upgrade', executionArn: EXECUTION_ARN });
  });
  it('keeps a tenant\'s newer version on a change that names none (the platform rolled back to an older one); a version asked for is deployed as asked', async () => {
    // GIVEN acme on 3.0.0 and a platform whose current version is 1.0.0
    useConfig(sameNetworkConfig);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '3.0.0' }));
    // WHEN a tier change asks for no version (was: 1.0.0, a downgrade nobody asked for)
    await expect(begin({ ...state(), change: { tier: 'professional' } })).resolves.toMatchObject({ tier: 'professional', blueprintVersion: '3.0.0' });
    // AND an explicit older version is what the operator asked for
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '3.0.0' }));
    await expect(begin({ ...state(), change: { blueprintVersion: '2.0.0' } })).resolves.toMatchObject({ blueprintVersion: '2.0.0' });
  });
  // lcleft2: the tier is not published at the tenant's newer version (a platform rolled back past the version, whose config
  // lacked the tier): the change took the lease and failed at Deploy blueprint on S3's NoSuchKey, naming neither.
  it('refuses a tier change that keeps the tenant\'s newer version when the target tier is not published at it, naming tier, version and keys, before the lease', async () => {
    // GIVEN acme on 3.0.0 (the platform is on 1.0.0) and a catalog whose 3.0.0 has no professional blueprint
    useConfig(sameNetworkConfig);
    const before = tenant({ status: 'ACTIVE', blueprintVersion: '3.0.0' });
    records.set('acme', before);
    const notFound = Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    s3.on(HeadObjectCommand).resolves({});
    s3.on(HeadObjectCommand, { Key: 'blueprints/3.0.0/professional.template.json' }).rejects(notFound);
    s3.on(HeadObjectCommand, { Key: 'blueprints/3.0.0/professional-namespace.template.json' }).rejects(notFound);
    // WHEN / THEN refused, terminal, nothing written (was: the lease taken, the baseline updated, then NoSuchKey at Deploy blueprint)
    await expect(begin({ ...state(), change: { tier: 'professional' } })).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringMatching(/^tier professional is not published at blueprint version 3\.0\.0: tenant acme is on blueprint version 3\.0\.0, newer than the platform's 1\.0\.0.*blueprints\/3\.0\.0\/professional\.template\.json \(NotFound\), blueprints\/3\.0\.0\/professional-namespace\.template\.json \(NotFound\)\. Nothing was changed/),
    });
    expect(records.get('acme')).toEqual(before);
    // AND the version asked for, which publishes the tier, goes on
    await expect(begin({ ...state(), change: { tier: 'professional', blueprintVersion: '1.0.0' } })).resolves.toMatchObject({ tier: 'professional', blueprintVersion: '1.0.0' });
    expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input.Key)).toContain('blueprints/1.0.0/professional.template.json');
  });
  // hlc5: the check skipped a repair (the tenant's own tier and version): a tier that gained disaster recovery after that version
  // made the repair take the lease, update the baseline and fail creating the DR stack from a template the version never published.
  it('refuses a repair whose tier now deploys a blueprint its version does not publish (DR added to the tier since), before the lease', async () => {
    // GIVEN acme on professional at 0.9.0, published before the config gave professional a DR region
    useConfig(configWith({ tiers: { professional: { network: { tenantVpcPrefixLength: 22, internetEgress: false }, disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } } as never));
    const before = tenant({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '0.9.0' });
    records.set('acme', before);
    const notFound = Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    s3.on(HeadObjectCommand).resolves({});
    s3.on(HeadObjectCommand, { Key: 'blueprints/0.9.0/professional-dr.template.json' }).rejects(notFound);
    // WHEN / THEN refused before the lease, naming the DR template and the way out
    await expect(begin({ ...state(), change: { repair: true } })).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: expect.stringMatching(/^a repair re-applies tenant acme's tier professional at its blueprint version 0\.9\.0, which does not publish all the tier now deploys \(its config has changed since: dr\); the blueprint catalog lacks blueprints\/0\.9\.0\/professional-dr\.template\.json \(NotFound\)\. Nothing was changed\. Move the tenant to a version that does \(tessera tenants update acme --blueprint-version 1\.0\.0\)/),
    });
    expect(records.get('acme')).toEqual(before);
    // AND a repair whose version publishes every template the tier deploys goes on
    s3.reset();
    s3.on(HeadObjectCommand).resolves({});
    await expect(begin({ ...state(), change: { repair: true } })).resolves.toMatchObject({ tier: 'professional', blueprintVersion: '0.9.0', repair: true, drRegion: 'us-west-2' });
  });
  // hlc5: without s3:ListBucket (not granted, and not needed) S3 answers 403 for a missing key and for a denied read alike;
  // every 403 was reported as "tier … is not published", an InvalidRequest blaming the version, when the catalog could not be read.
  it('tells a denied catalog read from a missing template: a 403 is "not published" only when the platform\'s own baseline is readable', async () => {
    useConfig(sameNetworkConfig);
    const before = tenant({ status: 'ACTIVE', blueprintVersion: '3.0.0' });
    records.set('acme', before);
    const forbidden = () => Object.assign(new Error('Forbidden'), { name: 'Forbidden', $metadata: { httpStatusCode: 403 } });
    // GIVEN every read of the catalog denied (a bucket policy, an SCP), the platform's own templates included
    s3.on(HeadObjectCommand).rejects(forbidden());
    // WHEN / THEN not an InvalidRequest calling the tier unpublished: the catalog cannot be read, the answers named
    const denied = await begin({ ...state(), change: { tier: 'professional' } }).then(() => undefined, (e: Error) => e);
    expect(denied).toMatchObject({
      name: 'BlueprintCatalogUnreadable',
      message: expect.stringContaining('HeadObject of blueprints/1.0.0/account-baseline.template.json, which the platform\'s own version publishes, was answered Forbidden (HTTP 403) too'),
    });
    expect(denied!.message).not.toMatch(/is not published/);
    expect(records.get('acme')).toEqual(before);
    // AND with the platform's baseline readable, a 403 for the target's keys is the missing key S3 hides: refused as unpublished
    s3.reset();
    s3.on(HeadObjectCommand).rejects(forbidden());
    s3.on(HeadObjectCommand, { Key: 'blueprints/1.0.0/account-baseline.template.json' }).resolves({});
    await expect(begin({ ...state(), change: { tier: 'professional' } })).rejects.toMatchObject({
      name: 'InvalidRequest', message: expect.stringMatching(/^tier professional is not published at blueprint version 3\.0\.0.*blueprints\/3\.0\.0\/professional\.template\.json \(AccessDenied\)/),
    });
    expect(records.get('acme')).toEqual(before);
  });
  it('orders a pre-release before its release (semver; package.json\'s version is the blueprint version): a tenant on 1.0.0-rc.1 goes to the platform\'s 1.0.0, and a late run without listedVersion takes it there', async () => {
    const { compareVersions } = await import('../../../lambdas/lifecycle/blueprints.js');
    // hlc4: compareVersions split "1.0.0-rc.1" into 1,0,0,rc,1 and found "rc" after "0": the pre-release was newer than its release
    expect([compareVersions('1.0.0-rc.1', '1.0.0'), compareVersions('1.0.0', '1.0.0-rc.1'), compareVersions('1.0.0-rc.2', '1.0.0-rc.10'), compareVersions('1.0.0-alpha', '1.0.0-alpha.1'), compareVersions('1.0.0-1', '1.0.0-alpha'), compareVersions('1.10.0', '1.9.2'), compareVersions('1.0.0+build.5', '1.0.0'), compareVersions('1.0', '1.0.0')])
      .toEqual([-1, 1, -1, -1, -1, 1, 0, 0]);
    // GIVEN acme on a release candidate of the platform's current 1.0.0
    useConfig(sameNetworkConfig);
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0-rc.1' }));
    // WHEN a tier change asks for no version THEN the release, not the candidate kept as "newer"
    await expect(begin({ ...state(), change: { tier: 'professional' } })).resolves.toMatchObject({ tier: 'professional', blueprintVersion: '1.0.0' });
    // AND the late run of an upgrade to 1.0.0 whose item has no listedVersion upgrades it instead of skipping it as newer
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0-rc.1' }));
    await expect(begin({ ...state(), kind: 'upgrade' as const, change: { tier: 'starter', blueprintVersion: '1.0.0' } })).resolves.toMatchObject({ blueprintVersion: '1.0.0' });
  });
  it('refuses a change of isolation, naming both modes', async () => {
    records.set('acme', tenant({ status: 'ACTIVE' }));
    await expect(begin({ ...state(), change: { tier: 'enterprise' } })).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/isolates by account, tenant acme by vpc/) });
  });
  it('writes the ACTIVE tenants of a tier not on the target version to the work bucket, one change request each', async () => {
    // GIVEN three tenants of the tier, one already on the target version, one suspended
    records.set('a1', tenant({ tenantId: 'a1', status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    records.set('a2', tenant({ tenantId: 'a2', status: 'ACTIVE', blueprintVersion: '2.0.0' }));
    records.set('a3', tenant({ tenantId: 'a3', status: 'SUSPENDED', blueprintVersion: '1.0.0' }));
    s3.on(PutObjectCommand).resolves({});
    // WHEN
    const out = await list({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'upgrade-1', actor: 'admin:arn:aws:iam::111111111111:user/ops' });
    // THEN the state carries only where the list is, never the list itself
    expect(out).toEqual({ bucket: 'tessera-lifecycle-work', key: 'upgrades/upgrade-1/items.json', resultsPrefix: 'upgrades/upgrade-1/results', count: 1 });
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: 'tessera-lifecycle-work', Key: 'upgrades/upgrade-1/items.json', ContentType: 'application/json' });
    expect(JSON.parse(put.Body as string)).toEqual([{
      request: { tenantId: 'a1', requestId: 'upgrade-1-a1', name: 'Acme', tier: 'starter', adminEmail: 'admin@acme.example.com' },
      // the version it was listed on: its run skips it if someone moves it meanwhile (upgradeSkipReason)
      // (s31s) and the upgrade's id and caller, which its run records on the tenant's history entry
      change: { tier: 'starter', blueprintVersion: '2.0.0', listedVersion: '1.0.0', upgradeId: 'upgrade-1', actor: 'admin:arn:aws:iam::111111111111:user/ops' },
    }]);
  });
  // lc2 (s12) left: a tenant UPDATING when the list was written (a repair of its old version, say) was never listed,
  // so it stayed on the old version once that operation ended and the upgrade's summary did not name it.
  it('lists a tenant an operation holds (UPDATING) too: its run waits for the lease and then decides on what that operation left', async () => {
    records.set('u1', tenant({ tenantId: 'u1', status: 'UPDATING', blueprintVersion: '1.0.0' }));
    records.set('p1', tenant({ tenantId: 'p1', status: 'PROVISIONING', blueprintVersion: '1.0.0' }));
    records.set('o1', tenant({ tenantId: 'o1', status: 'OFFBOARDING', blueprintVersion: '1.0.0' }));
    s3.on(PutObjectCommand).resolves({});
    const out = await list({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'upgrade-7' });
    expect(out.count).toBe(1);
    expect(JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string)).toEqual([
      expect.objectContaining({ request: expect.objectContaining({ tenantId: 'u1' }), change: { tier: 'starter', blueprintVersion: '2.0.0', listedVersion: '1.0.0', upgradeId: 'upgrade-7' } }),
    ]);
  });
  it('carries the run\'s allowReplacement into each tenant\'s change, and refuses an input it does not know (naming the field)', async () => {
    records.set('a1', tenant({ tenantId: 'a1', status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    s3.on(PutObjectCommand).resolves({});
    await list({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'upgrade-4', allowReplacement: { reason: 'cache moves to Valkey; rebuilt (OPS-77)' } } as never);
    expect(JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string)[0].change).toEqual({ tier: 'starter', blueprintVersion: '2.0.0', allowReplacement: { reason: 'cache moves to Valkey; rebuilt (OPS-77)' }, listedVersion: '1.0.0', upgradeId: 'upgrade-4' });
    await expect(list({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'upgrade-5', force: true } as never)).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringContaining('force') });
    await expect(list({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'upgrade-6', allowReplacement: { reason: '' } } as never)).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringContaining('allowReplacement.reason') });
  });
  // Found by the day-2 walk-through (s18): a typo in the tier of the README's start-execution input listed no tenant, and the
  // upgrade ended SUCCEEDED with 0 upgraded, as if the tier were done.
  it('refuses a tier the config does not have, naming it and the tiers, and writes no list', async () => {
    records.set('a1', tenant({ tenantId: 'a1', status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    s3.on(PutObjectCommand).resolves({});
    await expect(list({ tier: 'startr', blueprintVersion: '2.0.0', requestId: 'upgrade-8' })).rejects.toMatchObject({
      name: 'InvalidRequest', message: 'upgrade input: tier = "startr": does not exist (tiers: starter, professional, enterprise); nothing listed, no tenant changed',
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
  // Found by the day-2 walk-through (s20, nuup): a version the catalog does not publish (a typo, 2.0 for 2.0.0) was listed,
  // and every tenant's run was refused at Begin change, a FAILED change in its history and a Tenant Lifecycle Failed each,
  // until the map's 10% tolerance failed the run.
  it('refuses a blueprint version the catalog does not publish for the tier, naming the missing templates, and writes no list', async () => {
    records.set('a1', tenant({ tenantId: 'a1', status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    s3.on(PutObjectCommand).resolves({});
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    s3.on(HeadObjectCommand, { Key: 'blueprints/1.0.0/account-baseline.template.json' }).resolves({});
    await expect(list({ tier: 'starter', blueprintVersion: '2.0', requestId: 'upgrade-9' })).rejects.toMatchObject({
      name: 'InvalidRequest',
      message: 'upgrade input: blueprintVersion = "2.0": tier starter is not published at it; the blueprint catalog lacks blueprints/2.0/account-baseline.template.json (NotFound), '
        + 'blueprints/2.0/starter.template.json (NotFound), blueprints/2.0/starter-namespace.template.json (NotFound); nothing listed, no tenant changed (the platform\'s version is 1.0.0)',
    });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
  // Found by the day-2 walk-through (s20, nuup): the README's requestId starter-0.2.0 wrote under upgrades/starter-0_2_0/
  // (its "." made "_"), where the README sends the operator to upgrades/starter-0.2.0/results/; and any other character
  // was made "_" too, so two request ids could share one prefix.
  it('writes under upgrades/<requestId>/ as the request id is, and refuses a request id that cannot name a prefix', async () => {
    records.set('a1', tenant({ tenantId: 'a1', status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    s3.on(PutObjectCommand).resolves({});
    await expect(list({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-2.0.0' })).resolves.toMatchObject({
      key: 'upgrades/starter-2.0.0/items.json', resultsPrefix: 'upgrades/starter-2.0.0/results', count: 1,
    });
    for (const requestId of ['../x', 'a/b', 'starter 2.0.0', '.hidden', '']) {
      await expect(list({ tier: 'starter', blueprintVersion: '2.0.0', requestId })).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringContaining(`requestId = ${JSON.stringify(requestId)}`) });
    }
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
  it('writes an empty list when every tenant is on the target version', async () => {
    records.set('a2', tenant({ tenantId: 'a2', status: 'ACTIVE', blueprintVersion: '2.0.0' }));
    s3.on(PutObjectCommand).resolves({});
    await expect(list({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'upgrade-2' })).resolves.toMatchObject({ count: 0 });
    expect(JSON.parse(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string)).toEqual([]);
  });
  it('lets an S3 refusal fail the listing before any tenant is touched', async () => {
    records.set('a1', tenant({ tenantId: 'a1', status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(list({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'upgrade-3' })).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('offboarding steps', async () => {
  const begin = (await import('../../../lambdas/lifecycle/begin-offboarding.js')).handler;
  const exportData = (await import('../../../lambdas/lifecycle/export-tenant-data.js')).handler;
  const snapshot = (await import('../../../lambdas/lifecycle/snapshot-database.js')).handler;
  const deleteStacks = (await import('../../../lambdas/lifecycle/delete-tenant-stacks.js')).handler;
  const scheduleKey = (await import('../../../lambdas/lifecycle/schedule-key-deletion.js')).handler;
  const retire = (await import('../../../lambdas/lifecycle/retire-account.js')).handler;
  const finish = (await import('../../../lambdas/lifecycle/finish-offboarding.js')).handler;
  const offboarding = (extra: Partial<TenantRecord> = {}) => leased('offboard', extra);

  it('Tenant Offboarded carries who asked for the offboarding and why (its history entry: actor, requestReason)', async () => {
    records.set('acme', offboarding({ executions: [{ kind: 'offboard', requestId: 'ops-off-1', executionArn: EXECUTION_ARN, startedAt: LEASED_AT, status: 'RUNNING', actor: 'admin:arn:aws:iam::111111111111:user/ops', requestReason: 'contract ended 2026-11-30 (CRM-9)' }] }));
    await finish({ ...state(), export: { prefix: 'acme/2026-12-05T00-00-00Z/' } });
    expect(eventTypes()).toEqual(['Tenant Offboarded']);
    expect(eventDetails()[0]).toMatchObject({ tenantId: 'acme', executionArn: EXECUTION_ARN, actor: 'admin:arn:aws:iam::111111111111:user/ops', reason: 'contract ended 2026-11-30 (CRM-9)' });
  });

  it('stops serving at once (OFFBOARDING) under its lease, from ACTIVE, SUSPENDED, FAILED or a stopped offboarding; refused otherwise, writing nothing', async () => {
    for (const from of ['ACTIVE', 'SUSPENDED', 'FAILED', 'OFFBOARDING'] as const) {
      records.set('acme', tenant({ status: from, stackName: 'tessera-acme' }));
      await expect(begin(state())).resolves.toEqual({ previousStatus: from, isolation: 'vpc', hasStack: true, accountId: '333333333333' });
      expect(records.get('acme')).toMatchObject({ status: 'OFFBOARDING', currentStep: 'Begin offboarding', lease: { kind: 'offboard', executionArn: EXECUTION_ARN, previousStatus: from } });
    }
    for (const from of ['PROVISIONING', 'OFFBOARDED'] as const) {
      const before = tenant({ status: from });
      records.set('acme', before);
      const message = from === 'OFFBOARDED'
        ? 'tenant "acme" is OFFBOARDED, so an offboarding cannot start: an offboarded tenant is only kept to be read (tessera tenants show acme); to start again, onboard a new tenant under another id (ids are never reused)'
        : 'tenant "acme" is PROVISIONING, so an offboarding cannot start: it starts only while the tenant is ACTIVE, SUSPENDED, FAILED or OFFBOARDING';
      await expect(begin(state())).rejects.toMatchObject({ name: 'TenantConflict', message });
      expect(records.get('acme')).toEqual(before);
    }
    // UPDATING with no lease (hand edit) is a stranded change (lease.ts strandedOperation): ended ACTIVE with its failure, then offboarded
    records.set('acme', tenant({ status: 'UPDATING', stackName: 'tessera-acme' }));
    await expect(begin(state())).resolves.toMatchObject({ previousStatus: 'ACTIVE' });
    expect(records.get('acme')).toMatchObject({ status: 'OFFBOARDING', failure: { kind: 'change', reason: expect.stringMatching(/^tenant "acme" was UPDATING with no operation holding it/) } });
  });

  it('is refused while another operation holds the tenant, writing nothing', async () => {
    const before = leased('onboard', {}, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    await expect(begin(state())).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(records.get('acme')).toEqual(before);
  });

  /** The tenant bucket (two current versions) and the archive in memory: the export reads back what it wrote to verify it. */
  const bucketAndArchive = () => {
    const archive = new Map<string, Buffer>();
    const etag = `"${createHash('md5').update('data').digest('hex')}"`;
    s3.on(ListObjectVersionsCommand, { Bucket: 'tenant-bucket' }).resolves({ IsTruncated: false, Versions: ['a.txt', 'b.txt'].map((Key, i) => ({ Key, VersionId: `v${i}`, IsLatest: true, Size: 4, ETag: etag, LastModified: new Date('2026-11-01T00:00:00Z') })) });
    s3.on(GetObjectCommand, { Bucket: 'tenant-bucket' }).callsFake(() => ({ Body: sdkStreamMixin(Readable.from([Buffer.from('data')])), ContentType: 'text/plain' }));
    s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string | Uint8Array }) => {
      archive.set(input.Key, Buffer.from(input.Body));
      return {};
    });
    s3.on(GetObjectCommand, { Bucket: 'tessera-archive' }).callsFake((input: { Key: string }) => ({ Body: sdkStreamMixin(Readable.from([archive.get(input.Key)!])) }));
    s3.on(ListObjectsV2Command, { Bucket: 'tessera-archive' }).callsFake((input: { Prefix: string }) => ({
      IsTruncated: false, Contents: [...archive.keys()].filter((k) => k.startsWith(input.Prefix)).sort().map((Key) => ({ Key, Size: archive.get(Key)!.length })),
    }));
    return archive;
  };

  it('exports every version through the break-glass role with the offboarding SourceIdentity, and writes the manifest once verified', async () => {
    records.set('acme', offboarding({ stackOutputs: { BucketName: 'tenant-bucket' } }));
    const archive = bucketAndArchive();
    const out = await exportData(state());
    expect(out).toMatchObject({ versions: 2, currentObjects: 2, bytes: 8, listed: true, done: true });
    expect([...archive.keys()]).toEqual([`${out.prefix}s3/a.txt`, `${out.prefix}s3/b.txt`, `${out.prefix}manifest/part-00000.jsonl`, `${out.prefix}manifest.json`]);
    expect(s3.commandCalls(PutObjectCommand).every((c) => c.args[0].input.Bucket === 'tessera-archive')).toBe(true);
    const breakGlass = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input).find((i) => i.RoleArn!.endsWith('tessera-acme-break-glass'));
    expect(breakGlass).toMatchObject({ SourceIdentity: 'tessera-offboarding-acme' });
  });

  it('continues a truncated listing on the next call', async () => {
    records.set('acme', offboarding({ stackOutputs: { BucketName: 'tenant-bucket' } }));
    s3.on(ListObjectVersionsCommand).resolves({ IsTruncated: true, NextKeyMarker: 'next', NextVersionIdMarker: 'v9' });
    const first = await exportData(state());
    expect(first).toMatchObject({ done: false, page: { keyMarker: 'next', versionIdMarker: 'v9', handled: 0 } });
    await exportData({ ...state(), export: first });
    expect(s3.commandCalls(ListObjectVersionsCommand)[1].args[0].input).toMatchObject({ Bucket: 'tenant-bucket', KeyMarker: 'next', VersionIdMarker: 'v9' });
  });

  it('snapshots the database, copies it under the archive key, shares the copy with the platform account', async () => {
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ Status: 'available' }] });
    s3.on(PutObjectCommand).resolves({});
    const first = await snapshot(state());
    expect(first.phase).toBe('SNAPSHOT');
    expect(rds.commandCalls(CreateDBSnapshotCommand)[0].args[0].input.DBInstanceIdentifier).toBe('db-1');
    const second = await snapshot({ ...state(), snapshot: first });
    expect(second.phase).toBe('COPY');
    expect(rds.commandCalls(CopyDBSnapshotCommand)[0].args[0].input).toMatchObject({ KmsKeyId: 'arn:aws:kms:us-east-1:222222222222:key/archive' });
    const third = await snapshot({ ...state(), snapshot: second });
    expect(third).toMatchObject({ phase: 'DONE', done: true });
    expect(rds.commandCalls(ModifyDBSnapshotAttributeCommand)[0].args[0].input).toMatchObject({ AttributeName: 'restore', ValuesToAdd: ['222222222222'] });
  });

  // RDS's manual DB instance snapshot quota (L-272F1212, 100 per Region): an offboarding holds two manual snapshots at once
  // (final and archive copy, until the copy is available and the final one deleted; then the copy and the stack's at deletion).
  // Before, the step made them regardless, and a workload account near the quota failed mid-offboarding on SnapshotQuotaExceeded;
  // until s42b it demanded room for three, all three kept.
  it('refuses, before any snapshot, an account without room for the two manual snapshots an offboarding holds at once (QuotaExceeded naming L-272F1212, used and max)', async () => {
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'DBInstances', Used: 3, Max: 40 }, { AccountQuotaName: 'ManualSnapshots', Used: 99, Max: 100 }] });
    // no final snapshot of an earlier run to take up
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    await expect(snapshot(state())).rejects.toMatchObject({
      name: 'QuotaExceeded',
      message: expect.stringMatching(/^RDS manual DB instance snapshots \(Service Quotas rds L-272F1212, DescribeAccountAttributes ManualSnapshots\) in account \d{12}, us-east-1: 99 used of 100, room for 1; the offboarding of tenant acme holds 2 at once .* then send DELETE again$/),
    });
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
    // room for two, what is held at the peak (98 of 100; refused before s42b, which counted three kept): the snapshot is made
    rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'ManualSnapshots', Used: 98, Max: 100 }] });
    rds.on(CreateDBSnapshotCommand).resolves({});
    await expect(snapshot(state())).resolves.toMatchObject({ phase: 'SNAPSHOT', done: false });
    // a raised quota counts as RDS applies it
    rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'ManualSnapshots', Used: 497, Max: 500 }] });
    rds.on(CreateDBSnapshotCommand).resolves({});
    await expect(snapshot(state())).resolves.toMatchObject({ phase: 'SNAPSHOT', done: false });
    // a quota it cannot read does not stop the offboarding (RDS still refuses past it)
    rds.on(DescribeAccountAttributesCommand).rejects(Object.assign(new Error('User is not authorized to perform: rds:DescribeAccountAttributes'), { name: 'AccessDenied' }));
    await expect(snapshot(state())).resolves.toMatchObject({ phase: 'SNAPSHOT', done: false });
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(3);
  });

  // The final snapshot (tenant key) was kept after its copy: one more manual snapshot in RDS's quota for good, and the
  // tenant's data left behind, unlisted (s42b).
  it('deletes the final snapshot once its archived copy is available, and only then; a re-run after the delete goes on without copying again', async () => {
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    s3.on(PutObjectCommand).resolves({});
    const notFound = (id: string) => Object.assign(new Error(`DBSnapshot ${id} not found.`), { name: 'DBSnapshotNotFoundFault' });
    const snapshots = new Map<string, string>();
    rds.on(CreateDBSnapshotCommand).callsFake((input: { DBSnapshotIdentifier: string }) => { snapshots.set(input.DBSnapshotIdentifier, 'available'); return {}; });
    rds.on(CopyDBSnapshotCommand).callsFake((input: { TargetDBSnapshotIdentifier: string }) => { snapshots.set(input.TargetDBSnapshotIdentifier, 'creating'); return {}; });
    rds.on(DescribeDBSnapshotsCommand).callsFake((input: { DBSnapshotIdentifier?: string }) => {
      // a listing (of the instance's manual snapshots): every one
      if (input.DBSnapshotIdentifier === undefined) return { DBSnapshots: [...snapshots].map(([id, status]) => ({ DBSnapshotIdentifier: id, DBInstanceIdentifier: 'db-1', Status: status })) };
      if (!snapshots.has(input.DBSnapshotIdentifier)) throw notFound(input.DBSnapshotIdentifier);
      return { DBSnapshots: [{ DBSnapshotIdentifier: input.DBSnapshotIdentifier, DBInstanceIdentifier: 'db-1', Status: snapshots.get(input.DBSnapshotIdentifier) }] };
    });
    rds.on(DeleteDBSnapshotCommand).callsFake((input: { DBSnapshotIdentifier: string }) => {
      if (!snapshots.delete(input.DBSnapshotIdentifier)) throw notFound(input.DBSnapshotIdentifier);
      return { DBSnapshot: { DBSnapshotIdentifier: input.DBSnapshotIdentifier, Status: 'deleted' } };
    });
    const first = await snapshot(state());
    const second = await snapshot({ ...state(), snapshot: first });
    expect(second).toMatchObject({ phase: 'COPY', archiveSnapshotId: `${first.snapshotId}-archive` });
    // the copy still being made: the final snapshot is kept
    await expect(snapshot({ ...state(), snapshot: second })).resolves.toEqual(second);
    expect(rds.commandCalls(DeleteDBSnapshotCommand)).toHaveLength(0);
    snapshots.set(second.archiveSnapshotId!, 'available');
    await expect(snapshot({ ...state(), snapshot: second })).resolves.toMatchObject({ phase: 'DONE', done: true });
    expect(rds.commandCalls(DeleteDBSnapshotCommand).map((c) => c.args[0].input)).toEqual([{ DBSnapshotIdentifier: first.snapshotId }]);
    expect([...snapshots.keys()]).toEqual([second.archiveSnapshotId]);
    expect(records.get('acme')!.offboarding!.databaseSnapshot).toEqual({ instance: 'db-1', snapshotId: first.snapshotId, archiveSnapshotId: second.archiveSnapshotId, archivedAt: expect.any(String), sourceDeletedAt: expect.any(String) });
    // Step Functions' retry of the COPY phase (its answer lost after the delete): DBSnapshotNotFound is the delete done
    await expect(snapshot({ ...state(), snapshot: second })).resolves.toMatchObject({ phase: 'DONE', done: true });
    // a run of the SNAPSHOT phase again: the final snapshot gone, its copy of this instance made; on to COPY, nothing copied again
    await expect(snapshot({ ...state(), snapshot: first })).resolves.toEqual({ ...first, phase: 'COPY', archiveSnapshotId: second.archiveSnapshotId });
    expect(rds.commandCalls(CopyDBSnapshotCommand)).toHaveLength(1);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(1);
    // a delete RDS is still making (deleting) is done; another refusal stops the step, the copy recorded without
    // sourceDeletedAt (a run again deletes it: the next test); AccessDenied (a
    // provisioning role not yet updated) keeps the snapshot, as before, and records no sourceDeletedAt
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    snapshots.set(first.snapshotId!, 'deleting');
    rds.on(DeleteDBSnapshotCommand).rejects(Object.assign(new Error('Cannot delete the snapshot because it is not in available state.'), { name: 'InvalidDBSnapshotStateFault' }));
    await expect(snapshot({ ...state(), snapshot: second })).resolves.toMatchObject({ phase: 'DONE' });
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    snapshots.set(first.snapshotId!, 'creating');
    await expect(snapshot({ ...state(), snapshot: second })).rejects.toMatchObject({ name: 'InvalidDBSnapshotStateFault' });
    expect(records.get('acme')!.offboarding!.databaseSnapshot).toEqual({ instance: 'db-1', snapshotId: first.snapshotId, archiveSnapshotId: second.archiveSnapshotId, archivedAt: expect.any(String) });
    rds.on(DeleteDBSnapshotCommand).rejects(Object.assign(new Error('not authorized to perform: rds:DeleteDBSnapshot'), { name: 'AccessDenied' }));
    await expect(snapshot({ ...state(), snapshot: second })).resolves.toMatchObject({ phase: 'DONE' });
    expect(records.get('acme')!.offboarding!.databaseSnapshot).toEqual({ instance: 'db-1', snapshotId: first.snapshotId, archiveSnapshotId: second.archiveSnapshotId, archivedAt: expect.any(String) });
    // the final snapshot gone with no copy (deleted by hand while being made): SnapshotMissing, not RDS's bare DBSnapshotNotFound
    snapshots.clear();
    await expect(snapshot({ ...state(), snapshot: first })).rejects.toMatchObject({ name: 'SnapshotMissing', message: expect.stringContaining(`the final snapshot ${first.snapshotId} of database instance db-1 (tenant acme) no longer exists`) });
  });

  // Faults pass: CreateDBSnapshot and CopyDBSnapshot carry no idempotency token. Sent again after a lost answer
  // (the SDK's retry; for the copy also a retry of this step), RDS refuses the name it made: DBSnapshotAlreadyExistsFault
  // failed the offboarding at Snapshot database though the snapshot, or its archived copy, was being made.
  it('takes a snapshot or archived copy RDS says exists already under the name this step gave it as its own, and goes on', async () => {
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    const exists = (id: string) => Object.assign(new Error(`Cannot create the snapshot because a snapshot with the identifier ${id} already exists.`), { name: 'DBSnapshotAlreadyExistsFault' });
    rds.on(CreateDBSnapshotCommand).callsFake((input: { DBSnapshotIdentifier: string }) => { throw exists(input.DBSnapshotIdentifier); });
    rds.on(CopyDBSnapshotCommand).callsFake((input: { TargetDBSnapshotIdentifier: string }) => { throw exists(input.TargetDBSnapshotIdentifier); });
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ DBInstanceIdentifier: 'db-1', Status: 'available' }] });
    const first = await snapshot(state());
    expect(first).toMatchObject({ phase: 'SNAPSHOT', done: false, snapshotId: expect.stringMatching(/^tessera-acme-final-\d+$/) });
    expect(rds.commandCalls(DescribeDBSnapshotsCommand).map((c) => c.args[0].input).filter((i) => i.DBSnapshotIdentifier)[0]).toEqual({ DBSnapshotIdentifier: first.snapshotId });
    const second = await snapshot({ ...state(), snapshot: first });
    expect(second).toMatchObject({ phase: 'COPY', archiveSnapshotId: `${first.snapshotId}-archive` });
    // a snapshot of another instance under that name is not this step's: the error stands
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ DBInstanceIdentifier: 'db-other', Status: 'available' }] });
    await expect(snapshot(state())).rejects.toMatchObject({ name: 'DBSnapshotAlreadyExistsFault' });
  });

  it('records the archived snapshot; resumed with it recorded, answers DONE without a call to RDS', async () => {
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ Status: 'available' }] });
    s3.on(PutObjectCommand).resolves({});
    const first = await snapshot(state());
    await snapshot({ ...state(), snapshot: await snapshot({ ...state(), snapshot: first }) });
    expect(records.get('acme')!.offboarding!.databaseSnapshot).toMatchObject({ instance: 'db-1', snapshotId: first.snapshotId, archiveSnapshotId: `${first.snapshotId}-archive` });
    rds.reset();
    await expect(snapshot(state())).resolves.toMatchObject({ phase: 'DONE', done: true, archiveSnapshotId: `${first.snapshotId}-archive` });
    expect(rds.calls()).toHaveLength(0);
  });

  it('recorded, its final snapshot not yet deleted (the run ended between, or an offboarding of before s42b): a run again deletes it and records it, copying nothing', async () => {
    const archived = { instance: 'db-1', snapshotId: 'tessera-acme-final-100', archiveSnapshotId: 'tessera-acme-final-100-archive', archivedAt: '2026-12-06T10:00:00.000Z' };
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' }, offboarding: { liftedProtections: [], databaseSnapshot: archived } }));
    rds.on(DeleteDBSnapshotCommand).resolves({ DBSnapshot: { DBSnapshotIdentifier: 'tessera-acme-final-100', Status: 'deleted' } });
    await expect(snapshot(state())).resolves.toEqual({ phase: 'DONE', done: true, snapshotId: 'tessera-acme-final-100', archiveSnapshotId: 'tessera-acme-final-100-archive' });
    expect(rds.calls().map((c) => c.args[0].constructor.name)).toEqual(['DeleteDBSnapshotCommand']);
    expect(records.get('acme')!.offboarding!.databaseSnapshot).toEqual({ ...archived, sourceDeletedAt: expect.any(String) });
    // then recorded deleted: no call to RDS
    rds.reset();
    await expect(snapshot(state())).resolves.toMatchObject({ phase: 'DONE' });
    expect(rds.calls()).toHaveLength(0);
    // best effort, as this answer was at once before: a delete refused (throttled, the account retired since) is logged,
    // the step answers DONE, nothing recorded, and a later run tries again
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' }, offboarding: { liftedProtections: [], databaseSnapshot: archived } }));
    rds.on(DeleteDBSnapshotCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(snapshot(state())).resolves.toMatchObject({ phase: 'DONE', archiveSnapshotId: 'tessera-acme-final-100-archive' });
    expect(records.get('acme')!.offboarding!.databaseSnapshot).toEqual(archived);
  });

  it('an instance already gone: its newest available archived final snapshot is the snapshot; with none, SnapshotMissing naming the instance', async () => {
    const gone = Object.assign(new Error('DBInstance db-1 not found.'), { name: 'DBInstanceNotFoundFault' });
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    rds.on(CreateDBSnapshotCommand).rejects(gone);
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [
      { DBSnapshotIdentifier: 'tessera-acme-final-100-archive', Status: 'available' },
      { DBSnapshotIdentifier: 'tessera-acme-final-300-archive', Status: 'creating' },
      { DBSnapshotIdentifier: 'tessera-acme-final-200-archive', Status: 'available' },
      { DBSnapshotIdentifier: 'tessera-acme2-final-900-archive', Status: 'available' },
    ] });
    await expect(snapshot(state())).resolves.toMatchObject({ phase: 'DONE', done: true, archiveSnapshotId: 'tessera-acme-final-200-archive' });
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)[0].args[0].input).toMatchObject({ DBInstanceIdentifier: 'db-1', SnapshotType: 'manual' });
    expect(records.get('acme')!.offboarding!.databaseSnapshot).toMatchObject({ instance: 'db-1', archiveSnapshotId: 'tessera-acme-final-200-archive' });
    // shared with the platform account and noted, as a copy this step made would be
    expect(rds.commandCalls(ModifyDBSnapshotAttributeCommand)[0].args[0].input).toMatchObject({ DBSnapshotIdentifier: 'tessera-acme-final-200-archive', AttributeName: 'restore', ValuesToAdd: ['222222222222'] });
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['acme/rds-snapshot.json']);
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    await expect(snapshot(state())).rejects.toMatchObject({ name: 'SnapshotMissing', message: expect.stringContaining('database instance db-1 of tenant acme no longer exists') });
  });

  // The instance gone, no snapshot is made: the quota check refused it all the same when the account was full (s42b), an
  // offboarding's own kept snapshots counting against it.
  it('an instance already gone demands no room in the manual snapshot quota: its archived copy is taken, its final snapshot deleted if left', async () => {
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    rds.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('DBInstance db-1 not found.'), { name: 'DBInstanceNotFoundFault' }));
    rds.on(DescribeAccountAttributesCommand).resolves({ AccountQuotas: [{ AccountQuotaName: 'ManualSnapshots', Used: 100, Max: 100 }] });
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ DBSnapshotIdentifier: 'tessera-acme-final-200-archive', Status: 'available' }, { DBSnapshotIdentifier: 'tessera-acme-final-200', Status: 'available' }] });
    rds.on(DeleteDBSnapshotCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    await expect(snapshot(state())).resolves.toMatchObject({ phase: 'DONE', done: true, archiveSnapshotId: 'tessera-acme-final-200-archive' });
    expect(rds.commandCalls(DescribeAccountAttributesCommand)).toHaveLength(0);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
    expect(rds.commandCalls(DeleteDBSnapshotCommand).map((c) => c.args[0].input)).toEqual([{ DBSnapshotIdentifier: 'tessera-acme-final-200' }]);
    expect(records.get('acme')!.offboarding!.databaseSnapshot).toMatchObject({ snapshotId: 'tessera-acme-final-200', archiveSnapshotId: 'tessera-acme-final-200-archive', sourceDeletedAt: expect.any(String) });
    // the instance there (its final snapshot deleted above): the quota is checked first, as before
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: 'db-1' }] });
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ DBSnapshotIdentifier: 'tessera-acme-final-200-archive', Status: 'available' }] });
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    await expect(snapshot(state())).rejects.toMatchObject({ name: 'QuotaExceeded' });
  });

  // Faults pass (session 44): Snapshot database died after CreateDBSnapshot went through (a Lambda timeout), the offboarding failed
  // there, and DELETE again made a second final snapshot: the first was left behind under the tenant key, unrecorded.
  it('takes up a final snapshot an earlier run made and never recorded (the newest, not deleting or failed), making none, and goes on with its copy', async () => {
    records.set('acme', offboarding({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [
      { DBSnapshotIdentifier: 'tessera-acme-final-100', DBInstanceIdentifier: 'db-1', Status: 'available' },
      { DBSnapshotIdentifier: 'tessera-acme-final-300', DBInstanceIdentifier: 'db-1', Status: 'deleting' },
      { DBSnapshotIdentifier: 'tessera-acme-final-200', DBInstanceIdentifier: 'db-1', Status: 'creating' },
      { DBSnapshotIdentifier: 'tessera-acme-final-200-archive', DBInstanceIdentifier: 'db-1', Status: 'creating' },
      { DBSnapshotIdentifier: 'tessera-acme-2-final-900', DBInstanceIdentifier: 'db-1', Status: 'available' },
    ] });
    await expect(snapshot(state())).resolves.toEqual({ phase: 'SNAPSHOT', snapshotId: 'tessera-acme-final-200', done: false });
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)[0].args[0].input).toMatchObject({ DBInstanceIdentifier: 'db-1', SnapshotType: 'manual' });
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
    expect(rds.commandCalls(DescribeAccountAttributesCommand)).toHaveLength(0);
    // none of this tenant's (another tenant's name, a failed one): a snapshot is made, after the quota check
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [
      { DBSnapshotIdentifier: 'tessera-acme-2-final-900', DBInstanceIdentifier: 'db-1', Status: 'available' },
      { DBSnapshotIdentifier: 'tessera-acme-final-400', DBInstanceIdentifier: 'db-1', Status: 'failed' },
    ] });
    rds.on(CreateDBSnapshotCommand).resolves({});
    await expect(snapshot(state())).resolves.toMatchObject({ phase: 'SNAPSHOT', snapshotId: expect.stringMatching(/^tessera-acme-final-\d{13}$/) });
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(1);
  });

  it('deletes the namespace stack, then the tenant stack, lifting termination protection; fails on DELETE_FAILED', async () => {
    records.set('acme', offboarding());
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(namespaceGone);
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
    // A tenant stack without a DB subnet group (subnet-group-occupants.ts: nothing in it to wait for).
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
    await expect(deleteStacks(state())).resolves.toEqual({ state: 'IN_PROGRESS', stack: 'tessera-acme' });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
    // Step Functions' retry of the step after a lost answer (the stack still read CREATE_COMPLETE): the same ask, the same token
    await deleteStacks(state());
    const tokens = () => cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens()).toEqual([DELETE_TOKEN, tokens()[0]]);
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'DELETE_FAILED', StackStatusReason: 'bucket not empty', CreationTime: new Date(), Tags: ownedTags() }] });
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    // DELETE_FAILED met first (a resumed offboarding after the cause was removed): CloudFormation is asked once more, a new
    // request (another token: the first one's would be taken for the ask that failed)
    const again = await deleteStacks(state());
    expect(again).toEqual({ state: 'IN_PROGRESS', stack: 'tessera-acme', retried: ['tessera-acme'] });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(3);
    expect(tokens()[2]).toEqual(DELETE_TOKEN);
    expect(tokens()[2]).not.toBe(tokens()[0]);
    // DELETE_FAILED after that retry: the offboarding stops with CloudFormation's reason
    await expect(deleteStacks({ ...state(), deletion: again } as never)).rejects.toMatchObject({ name: 'StackFailed', message: 'stack tessera-acme could not be deleted: bucket not empty' });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(3);
  });

  // s38m: Step Functions does not stop a running Lambda; an offboarding stopped (its lease ended by the status-change rule)
  // while this step read the stack went on to DeleteStack.
  it('does not delete a stack once the offboarding lost its lease while the step read it (TenantBusy naming the DeleteStack not started)', async () => {
    records.set('acme', offboarding());
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(namespaceGone);
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Tags: ownedTags() }] });
    cfn.on(ListStackResourcesCommand).callsFake(() => {
      records.set('acme', { ...records.get('acme')!, lease: undefined });
      return { StackResourceSummaries: [] };
    });
    await expect(deleteStacks(state())).rejects.toMatchObject({ name: 'TenantBusy', message: expect.stringContaining('DeleteStack of stack tessera-acme not started') });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  // Faults pass: the namespace stack's (and the DR stack's) termination protection was lifted here unrecorded, while
  // Lift protections records the tenant stack's; now each goes through liftOnRecord into offboarding.liftedProtections.
  it('records the namespace stack\'s termination protection it lifts (intent, lift, registry, audit, bus); the tenant stack\'s, recorded by Lift protections, not again', async () => {
    const NAMESPACE_ID = 'arn:aws:cloudformation:us-east-1:222222222222:stack/tessera-acme-namespace/1';
    const TENANT_ID = 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1';
    const tenantLift = { logicalId: 'tessera-acme', type: 'AWS::CloudFormation::Stack', physicalId: TENANT_ID, protection: 'TerminationProtection', at: '2026-11-30T00:00:00.000Z' };
    records.set('acme', offboarding({ offboarding: { stackId: TENANT_ID, liftedProtections: [tenantLift] } }));
    s3.on(PutObjectCommand).resolves({});
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).resolves({ Stacks: [{ StackName: 'tessera-acme-namespace', StackId: NAMESPACE_ID, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags() }] });
    await expect(deleteStacks(state())).resolves.toEqual({ state: 'IN_PROGRESS', stack: 'tessera-acme-namespace' });
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand).map((c) => c.args[0].input)).toEqual([{ StackName: NAMESPACE_ID, EnableTerminationProtection: false }]);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)[0].calledBefore(cfn.commandCalls(DeleteStackCommand)[0])).toBe(true);
    const namespaceLift = {
      logicalId: 'tessera-acme-namespace', type: 'AWS::CloudFormation::Stack', physicalId: NAMESPACE_ID, protection: 'TerminationProtection', at: expect.any(String),
      step: 'Delete tenant stacks', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, reason: 'offboarding: lifted so that the stack deletion can remove what it protects', intendedAt: expect.any(String),
    };
    expect(records.get('acme')?.offboarding).toEqual({ stackId: TENANT_ID, liftedProtections: [tenantLift, namespaceLift] });
    expect(eventDetails().filter((d) => d.logicalId)).toEqual([expect.objectContaining({ tenantId: 'acme', stack: 'tessera-acme-namespace', accountId: '222222222222', step: 'Delete tenant stacks' })]);
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([expect.stringMatching(/^tessera-audit\/lifecycle\/acme\/.*-protection-lifted-tessera-acme-namespace\.json$/)]);
    // THEN the tenant stack (its protection lifted and recorded by Lift protections, off now): deleted, nothing recorded again
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(namespaceGone);
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: TENANT_ID, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: false, Tags: ownedTags() }] });
    await expect(deleteStacks(state())).resolves.toEqual({ state: 'IN_PROGRESS', stack: 'tessera-acme' });
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(1);
    expect(records.get('acme')?.offboarding?.liftedProtections).toHaveLength(2);
  });

  it('gives the tenant\'s VPC range back only once the tenant stack is gone, and records it', async () => {
    records.set('acme', offboarding({ vpcCidr: '10.64.8.0/22' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(namespaceGone);
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date(), Tags: ownedTags() }] });
    // WHILE the stack (with the VPC) is being deleted: the claim stays, the record keeps its range
    await expect(deleteStacks(state())).resolves.toEqual({ state: 'IN_PROGRESS', stack: 'tessera-acme' });
    expect(controlMock.releaseCidr).not.toHaveBeenCalled();
    expect(records.get('acme')?.vpcCidr).toBe('10.64.8.0/22');
    // THEN, the stack gone: the tenant's claim deleted (conditional on acme), the range listed for the starter pool, recorded
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' }));
    await expect(deleteStacks(state())).resolves.toEqual({ state: 'COMPLETE' });
    expect(controlMock.releaseCidr.mock.calls).toEqual([['10.64.8.0/22', 'acme']]);
    expect(controlMock.listReleasedCidr.mock.calls).toEqual([['starter', '10.64.8.0/22']]);
    expect(records.get('acme')?.vpcCidr).toBeUndefined();
    expect(records.get('acme')?.offboarding?.network).toEqual({ vpcCidr: '10.64.8.0/22', releasedAt: expect.any(String), executionArn: EXECUTION_ARN });
    // AND a resumed offboarding releases nothing again
    await expect(deleteStacks(state())).resolves.toEqual({ state: 'COMPLETE' });
    expect(controlMock.releaseCidr).toHaveBeenCalledTimes(1);
  });

  it('never deletes a stack with the tenant\'s name that Tessera did not create', async () => {
    records.set('acme', offboarding());
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(namespaceGone);
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: true, Tags: ownedTags('acme', 'req-not-ours') }] });
    await expect(deleteStacks(state())).resolves.toMatchObject({ state: 'COMPLETE' });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(0);
  });

  it('schedules the tenant key with the configured window, once', async () => {
    records.set('acme', offboarding({ stackOutputs: { KeyArn: 'arn:aws:kms:us-east-1:333333333333:key/k1' } }));
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k1', KeyState: 'Enabled' } });
    kms.on(ScheduleKeyDeletionCommand).resolves({ DeletionDate: new Date('2026-12-01') });
    await expect(scheduleKey(state())).resolves.toMatchObject({ scheduled: true });
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)[0].args[0].input).toEqual({ KeyId: 'k1', PendingWindowInDays: 7 });
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k1', KeyState: 'PendingDeletion' } });
    await scheduleKey(state());
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
  });

  // Faults pass: ScheduleKeyDeletion has no idempotency token, and KMS refuses it for a key pending deletion
  // (KMSInvalidStateException). Sent again by the SDK after its answer was lost, it failed the offboarding at Schedule key
  // deletion (and recorded that failure) though the key was scheduled.
  it('takes a key that KMS says is pending deletion when asked to schedule it as scheduled, with its date', async () => {
    records.set('acme', offboarding({ stackOutputs: { KeyArn: 'arn:aws:kms:us-east-1:333333333333:key/k1' } }));
    kms.on(DescribeKeyCommand)
      .resolvesOnce({ KeyMetadata: { KeyId: 'k1', KeyState: 'Enabled' } })
      .resolves({ KeyMetadata: { KeyId: 'k1', KeyState: 'PendingDeletion', DeletionDate: new Date('2026-12-08T00:00:00.000Z') } });
    kms.on(ScheduleKeyDeletionCommand).rejects(Object.assign(new Error('arn:aws:kms:us-east-1:333333333333:key/k1 is pending deletion.'), { name: 'KMSInvalidStateException' }));
    await expect(scheduleKey(state())).resolves.toMatchObject({ scheduled: true, deletionDate: '2026-12-08T00:00:00.000Z' });
    expect(records.get('acme')?.offboarding?.keyDeletion).toEqual({ state: 'SCHEDULED', keyArn: 'arn:aws:kms:us-east-1:333333333333:key/k1', deletionDate: '2026-12-08T00:00:00.000Z' });
  });
  it('lets KMSInvalidStateException stand for a key that is not pending deletion (disabled by hand, say)', async () => {
    records.set('acme', offboarding({ stackOutputs: { KeyArn: 'arn:aws:kms:us-east-1:333333333333:key/k1' } }));
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k1', KeyState: 'Unavailable' } });
    kms.on(ScheduleKeyDeletionCommand).rejects(Object.assign(new Error('key is unavailable'), { name: 'KMSInvalidStateException' }));
    await expect(scheduleKey(state())).rejects.toMatchObject({ name: 'KMSInvalidStateException' });
    expect(kms.commandCalls(DescribeKeyCommand)).toHaveLength(2);
  });

  const organization = () => {
    orgs.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-root' }] });
    orgs.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [{ Id: 'ou-abcd-suspended', Name: 'Suspended' }] });
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-abcd-enterprise' }] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '1', State: 'ACTIVE' }] });
    controlMock.closures.mockResolvedValue([]);
  };

  it('moves an account tenant to Suspended and queues its closure', async () => {
    records.set('acme', offboarding({ isolation: 'account', accountId: '444444444444' }));
    organization();
    await expect(retire(state())).resolves.toMatchObject({ retired: true, accountId: '444444444444' });
    expect(orgs.commandCalls(MoveAccountCommand)[0].args[0].input).toEqual({ AccountId: '444444444444', SourceParentId: 'ou-abcd-enterprise', DestinationParentId: 'ou-abcd-suspended' });
    expect(controlMock.enqueueClosure).toHaveBeenCalledWith('444444444444', 'acme');
    expect(eventTypes()).toEqual(['Tenant Account Closure Queued']);
  });
  // Review: ListParents' first page alone was read; Organizations' List operations may answer an empty page with a
  // NextToken, and an account with no parent on it was taken for one to leave where it is: never moved to Suspended.
  it('reads the account\'s parent past an empty first page of ListParents, and moves it to Suspended', async () => {
    records.set('acme', offboarding({ isolation: 'account', accountId: '444444444444' }));
    organization();
    orgs.on(ListParentsCommand).resolvesOnce({ Parents: [], NextToken: 'page-2' }).resolves({ Parents: [{ Id: 'ou-abcd-enterprise' }] });
    await expect(retire(state())).resolves.toMatchObject({ retired: true, accountId: '444444444444' });
    expect(orgs.commandCalls(MoveAccountCommand).map((c) => c.args[0].input)).toEqual([{ AccountId: '444444444444', SourceParentId: 'ou-abcd-enterprise', DestinationParentId: 'ou-abcd-suspended' }]);
  });
  // Faults pass: the closure queue run Retire account makes after queueing failed the step when it failed as a whole
  // (ListAccounts for the quota refused): the offboarding stopped at Retire account, OFFBOARDING, with nothing left to do.
  it('finishes with the closure queued when the queue run fails as a whole; a transient failure is thrown for the retry', async () => {
    records.set('acme', offboarding({ isolation: 'account', accountId: '444444444444' }));
    organization();
    orgs.on(ListAccountsCommand).rejects(Object.assign(new Error('not authorized to ListAccounts'), { name: 'AccessDeniedException' }));
    await expect(retire(state())).resolves.toMatchObject({ retired: true, accountId: '444444444444', closedNow: false, closureRun: 'AccessDeniedException: not authorized to ListAccounts' });
    expect(controlMock.enqueueClosure).toHaveBeenCalledWith('444444444444', 'acme');
    expect(records.get('acme')?.accountClosure).toMatchObject({ accountId: '444444444444', state: 'QUEUED' });
    orgs.on(ListAccountsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(retire(state())).rejects.toMatchObject({ name: 'TooManyRequestsException' });
  });
  // Faults pass: MoveAccount has no idempotency token; sent again by the SDK after its answer was lost, it meets
  // DuplicateAccountException, and the offboarding stopped at Retire account with the account in Suspended, its closure not queued.
  it('counts a move to Suspended that Organizations says is already done as done, and queues the closure', async () => {
    records.set('acme', offboarding({ isolation: 'account', accountId: '444444444444' }));
    organization();
    orgs.on(ListParentsCommand).resolvesOnce({ Parents: [{ Id: 'ou-abcd-enterprise' }] }).resolves({ Parents: [{ Id: 'ou-abcd-suspended' }] });
    orgs.on(MoveAccountCommand).rejects(Object.assign(new Error('That account is already present in the specified destination.'), { name: 'DuplicateAccountException' }));
    await expect(retire(state())).resolves.toMatchObject({ retired: true, accountId: '444444444444' });
    expect(controlMock.enqueueClosure).toHaveBeenCalledWith('444444444444', 'acme');
  });
  // Found by the day-2 teardown walk-through (s20, nuup): after offboarding an account tenant, its record said nothing of the
  // closure (accountClosure was written only for a failure, or a closure with a note or earlier attempts), so an operator
  // could not tell an account closed at the first try from one waiting for Organizations' quota.
  it('says on the tenant that its account closure is queued, and that it is closed once CloseAccount answered', async () => {
    records.set('acme', offboarding({ isolation: 'account', accountId: '444444444444' }));
    organization();
    await retire(state());
    expect(records.get('acme')?.accountClosure).toEqual({ accountId: '444444444444', state: 'QUEUED', at: expect.any(String) });
    controlMock.closures.mockResolvedValue([{ id: 'closure#444444444444', accountId: '444444444444', tenantId: 'acme', status: 'QUEUED', queuedAt: '2026-11-01' }]);
    orgs.on(CloseAccountCommand).resolves({});
    const { processClosureQueue } = await import('../../../lambdas/lifecycle/account-closure.js');
    await expect(processClosureQueue(new OrganizationsClient({}))).resolves.toMatchObject({ closed: ['444444444444'] });
    expect(records.get('acme')?.accountClosure).toEqual({ accountId: '444444444444', state: 'CLOSED', at: expect.any(String) });
  });
  // Review of the above (s20, hrev): Retire account wrote QUEUED after it had queued the closure, over whatever a queue run
  // (the daily job, or another tenant's Retire account) had recorded since: an account closed in between read QUEUED for
  // good (its entry CLOSED, no run records it again), and the README's Teardown waits for CLOSED.
  it('does not say QUEUED over a closure a queue run recorded once the closure was queued', async () => {
    records.set('acme', offboarding({ isolation: 'account', accountId: '444444444444' }));
    organization();
    const closedMeanwhile = { accountId: '444444444444', state: 'CLOSED' as const, at: '2026-12-03T21:00:00.000Z' };
    controlMock.enqueueClosure.mockImplementationOnce(async () => {
      records.set('acme', { ...records.get('acme')!, accountClosure: closedMeanwhile });
    });
    await retire(state());
    expect(records.get('acme')?.accountClosure).toEqual(closedMeanwhile);
  });

  it('retires an account Organizations finished creating after the onboarding failed: recorded first, then moved and queued', async () => {
    records.set('acme', offboarding({ isolation: 'account', accountId: undefined, createAccountRequestId: 'car-00000001' }));
    organization();
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'SUCCEEDED', AccountId: '444444444444' } });
    await expect(retire(state())).resolves.toMatchObject({ retired: true, accountId: '444444444444' });
    expect(records.get('acme')).toMatchObject({ accountId: '444444444444' });
    expect(records.get('acme')?.createAccountRequestId).toBeUndefined();
    expect(controlMock.enqueueClosure).toHaveBeenCalledWith('444444444444', 'acme');
  });

  it('waits for an account still being created (AccountCreationPending, retried), and forgets a request that failed', async () => {
    records.set('acme', offboarding({ isolation: 'account', accountId: undefined, createAccountRequestId: 'car-00000001' }));
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'IN_PROGRESS' } });
    await expect(retire(state())).rejects.toMatchObject({ name: 'AccountCreationPending', message: expect.stringContaining('request car-00000001') });
    expect(records.get('acme')?.createAccountRequestId).toBe('car-00000001');
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000001', State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '555555555555', Name: 'someone-else', Email: 'admin@acme.example.com' }] });
    await expect(retire(state())).resolves.toEqual({ retired: false, accountRequest: 'FAILED', requestId: 'car-00000001' });
    expect(records.get('acme')?.createAccountRequestId).toBeUndefined();
    expect(controlMock.enqueueClosure).not.toHaveBeenCalled();
  });

  // Hostile lc (s12): a claim whose CreateAccount reached Organizations unlisted; DELETE ended OFFBOARDED with the account standing unrecorded.
  it('retires the tenant\'s own account behind an EMAIL_ALREADY_EXISTS request (found by name and email), and waits for a fresh claim Organizations lists nothing for yet', async () => {
    records.set('acme', offboarding({ isolation: 'account', accountId: undefined, createAccountRequestId: 'car-00000002' }));
    organization();
    orgs.on(DescribeCreateAccountStatusCommand).resolves({ CreateAccountStatus: { Id: 'car-00000002', State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' } });
    orgs.on(ListCreateAccountStatusCommand).resolves({ CreateAccountStatuses: [] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '444444444444', Name: 'tessera-acme', Email: 'admin@acme.example.com', State: 'ACTIVE' }] });
    await expect(retire(state())).resolves.toMatchObject({ retired: true, accountId: '444444444444' });
    expect(records.get('acme')).toMatchObject({ accountId: '444444444444' });
    expect(controlMock.enqueueClosure).toHaveBeenCalledWith('444444444444', 'acme');

    records.set('acme', offboarding({ isolation: 'account', accountId: undefined, createAccountClaim: { at: new Date().toISOString() } }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    await expect(retire(state())).rejects.toMatchObject({ name: 'AccountCreationPending', message: expect.stringMatching(/claimed at .* lists no request or account/) });
    expect(records.get('acme')?.createAccountClaim).toBeDefined();
    // an old claim with nothing behind it was never sent: forgotten
    records.set('acme', offboarding({ isolation: 'account', accountId: undefined, createAccountClaim: { at: new Date(Date.now() - 3600_000).toISOString() } }));
    await expect(retire(state())).resolves.toEqual({ retired: false, accountRequest: 'CLAIMED' });
    expect(records.get('acme')?.createAccountClaim).toBeUndefined();
  });

  it('leaves a VPC tenant\'s shared workload account alone', async () => {
    records.set('acme', offboarding());
    await expect(retire(state())).resolves.toEqual({ retired: false });
    expect(orgs.commandCalls(MoveAccountCommand)).toHaveLength(0);
  });

  it('marks the tenant OFFBOARDED, ends the operation and announces where its data went', async () => {
    records.set('acme', offboarding({ currentStep: 'Retire account' }));
    await expect(finish({ ...state(), export: { prefix: 'acme/2026-11-23T000000Z/' } })).resolves.toEqual({ status: 'OFFBOARDED' });
    const record = records.get('acme')!;
    expect(record.status).toBe('OFFBOARDED');
    expect(record.lease).toBeUndefined();
    expect(record.currentStep).toBeUndefined();
    expect(record.executions).toEqual([expect.objectContaining({ kind: 'offboard', executionArn: EXECUTION_ARN, status: 'SUCCEEDED' })]);
    expect(eventDetails()).toEqual([{ tenantId: 'acme', accountId: '333333333333', archive: 'acme/2026-11-23T000000Z/', executionArn: EXECUTION_ARN }]);
  });

  it('a step of an execution that does not hold the lease changes nothing', async () => {
    const before = leased('offboard', { stackOutputs: { KeyArn: 'arn:aws:kms:us-east-1:333333333333:key/k1' } }, OTHER_EXECUTION_ARN);
    records.set('acme', before);
    await expect(scheduleKey(state())).rejects.toMatchObject({ name: 'TenantBusy' });
    await expect(finish(state())).rejects.toMatchObject({ name: 'TenantBusy' });
    expect(kms.calls()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });
});

describe('account closure quota', async () => {
  const { closureQuota, processClosureQueue } = await import('../../../lambdas/lifecycle/account-closure.js');
  it('is 10% of member accounts, at least 10 and at most 1,000', () => {
    expect([0, 50, 100, 250, 5_000, 20_000].map(closureQuota)).toEqual([10, 10, 10, 25, 500, 1000]);
  });
  it('closes the oldest queued accounts up to what the rolling window allows, and keeps the rest queued', async () => {
    const now = Date.parse('2026-11-23T00:00:00Z');
    const day = 24 * 3600 * 1000;
    controlMock.closures.mockResolvedValue([
      ...Array.from({ length: 9 }, (_, i) => ({ id: `c${i}`, accountId: `old${i}`, tenantId: 't', status: 'CLOSED', queuedAt: 'x', closedAt: new Date(now - 2 * day).toISOString() })),
      { id: 'c10', accountId: 'ancient', tenantId: 't', status: 'CLOSED', queuedAt: 'x', closedAt: new Date(now - 40 * day).toISOString() },
      { id: 'q1', accountId: '111100000002', tenantId: 'b', status: 'QUEUED', queuedAt: '2026-11-02' },
      { id: 'q2', accountId: '111100000001', tenantId: 'a', status: 'QUEUED', queuedAt: '2026-11-01' },
    ]);
    orgs.on(ListAccountsCommand).resolves({ Accounts: Array.from({ length: 40 }, (_, i) => ({ Id: String(i), State: 'ACTIVE' })) });
    const out = await processClosureQueue(new OrganizationsClient({}), now);
    expect(out).toMatchObject({ quota: 10, closed: ['111100000001'], queued: ['111100000002'], usedInWindow: 10 });
    expect(orgs.commandCalls(CloseAccountCommand).map((c) => c.args[0].input.AccountId)).toEqual(['111100000001']);
  });
  it('counts as members only accounts neither closed, closing nor restricted (State and the legacy Status), less the management account', async () => {
    controlMock.closures.mockResolvedValue([]);
    const accounts = (n: number, a: Record<string, string>) => Array.from({ length: n }, (_, i) => ({ Id: `${a.State ?? a.Status}${i}`, ...a }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [
      ...accounts(251, { State: 'ACTIVE' }), ...accounts(40, { State: 'PENDING_CLOSURE' }), ...accounts(30, { State: 'CLOSED' }),
      ...accounts(20, { State: 'SUSPENDED' }), ...accounts(15, { Status: 'PENDING_CLOSURE' }), ...accounts(10, { Status: 'SUSPENDED' }),
    ] });
    expect((await processClosureQueue(new OrganizationsClient({}))).quota).toBe(25);
  });
  // Faults pass: the word on the tenant (accountClosure CLOSED) was written once, best effort, after the entry was
  // recorded CLOSED, and runs never look at CLOSED entries again: a registry write that failed then, or a recordClosed whose
  // answer was lost (its SDK retry fails the condition: read as another run's settlement, nothing said), left the tenant
  // saying its account's closure was QUEUED for good.
  it('says CLOSED on the tenant of an entry closed while its record still says QUEUED, once, and marks the entry', async () => {
    controlMock.closures.mockResolvedValue([
      { id: 'closure#111100000001', accountId: '111100000001', tenantId: 'alpha', status: 'CLOSED', queuedAt: '2026-11-01', closedAt: '2026-11-02T00:00:00.000Z' },
      { id: 'closure#111100000002', accountId: '111100000002', tenantId: 'beta', status: 'CLOSED', queuedAt: '2026-11-01', closedAt: '2026-11-02T00:00:00.000Z' },
      { id: 'closure#111100000003', accountId: '111100000003', tenantId: 'gamma', status: 'CLOSED', queuedAt: '2026-11-01', closedAt: '2026-11-02T00:00:00.000Z', recordedOnTenant: true },
    ]);
    records.set('alpha', tenant({ tenantId: 'alpha', status: 'OFFBOARDED', accountClosure: { accountId: '111100000001', state: 'QUEUED', at: '2026-11-01T00:00:00.000Z' } }));
    const betaSaid = { accountId: '111100000002', state: 'CLOSED' as const, at: '2026-11-02T00:00:00.000Z', note: 'Organizations says the account is already closed' };
    records.set('beta', tenant({ tenantId: 'beta', status: 'OFFBOARDED', accountClosure: betaSaid }));
    records.set('gamma', tenant({ tenantId: 'gamma', status: 'OFFBOARDED', accountClosure: { accountId: '111100000003', state: 'QUEUED', at: '2026-11-01T00:00:00.000Z' } }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    await processClosureQueue(new OrganizationsClient({}));
    // THEN alpha says CLOSED at the queue's closedAt, with why it comes late; beta's word stays as it was; both entries are marked
    expect(records.get('alpha')?.accountClosure).toEqual({ accountId: '111100000001', state: 'CLOSED', at: '2026-11-02T00:00:00.000Z', note: expect.stringContaining('recorded late') });
    expect(records.get('beta')?.accountClosure).toEqual(betaSaid);
    expect(controlMock.markClosureRecorded.mock.calls.map((c) => c[0])).toEqual(['111100000001', '111100000002']);
    // an entry marked already is not looked at (gamma's record is left to what else wrote it)
    expect(records.get('gamma')?.accountClosure?.state).toBe('QUEUED');
  });
  it('marks a closure recorded on its tenant once CloseAccount answered and the tenant says CLOSED', async () => {
    controlMock.closures.mockResolvedValue([queued('111100000001', 'alpha', '2026-11-01')]);
    records.set('alpha', tenant({ tenantId: 'alpha', status: 'OFFBOARDED' }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    await processClosureQueue(new OrganizationsClient({}));
    expect(records.get('alpha')?.accountClosure).toMatchObject({ accountId: '111100000001', state: 'CLOSED' });
    expect(controlMock.markClosureRecorded).toHaveBeenCalledWith('111100000001');
  });

  it('puts a closure back in the queue when Organizations refuses it', async () => {
    controlMock.closures.mockResolvedValue([{ id: 'q', accountId: '111100000003', tenantId: 'c', status: 'QUEUED', queuedAt: '2026-11-01' }]);
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand).rejects(Object.assign(new Error('quota'), { name: 'ConstraintViolationException' }));
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out.closed).toEqual([]);
    expect(controlMock.requeueClosure).toHaveBeenCalledWith('111100000003', expect.any(String));
  });

  it('puts a throttled closure back without counting it as an attempt, and leaves the rest for the next run', async () => {
    controlMock.closures.mockResolvedValue([
      { id: 'q', accountId: '111100000003', tenantId: 'c', status: 'QUEUED', queuedAt: '2026-11-01', attempts: 4 },
      { id: 'r', accountId: '111100000004', tenantId: 'd', status: 'QUEUED', queuedAt: '2026-11-02' },
    ]);
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out).toMatchObject({ closed: [], failed: [], needsOperator: [], queued: ['111100000003', '111100000004'] });
    expect(controlMock.requeueClosure).toHaveBeenCalledExactlyOnceWith('111100000003', expect.any(String));
    expect(controlMock.setClosureAside).not.toHaveBeenCalled();
    expect(orgs.commandCalls(CloseAccountCommand)).toHaveLength(1);
  });
  // Hostile lc (s12): one bad entry failed every later Retire account (and the daily job), oldest first, with its own error.
  const queued = (accountId: string, tenantId: string, queuedAt: string, extra: Record<string, unknown> = {}) => ({ id: `closure#${accountId}`, accountId, tenantId, status: 'QUEUED', queuedAt, ...extra });
  it('counts an account Organizations says is already closed as closed (a CloseAccount whose answer was lost), and goes on to the next entry', async () => {
    controlMock.closures.mockResolvedValue([queued('111100000001', 'alpha', '2026-11-01'), queued('111100000002', 'beta', '2026-11-02')]);
    records.set('alpha', tenant({ tenantId: 'alpha', status: 'OFFBOARDED' }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand, { AccountId: '111100000001' }).rejects(Object.assign(new Error('You provided an account that is already closed.'), { name: 'AccountAlreadyClosedException' }));
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out).toMatchObject({ closed: ['111100000001', '111100000002'], failed: [], queued: [] });
    expect(controlMock.requeueClosure).not.toHaveBeenCalled();
    expect(records.get('alpha')?.accountClosure).toMatchObject({ accountId: '111100000001', state: 'CLOSED', note: expect.stringMatching(/already closed/) });
  });
  it('counts an account DescribeAccount shows CLOSED or PENDING_CLOSURE (State; the older Status SUSPENDED when State is absent), or no longer in the organization, as closed; not one AWS suspended (State SUSPENDED: access restricted)', async () => {
    const ids = ['111100000001', '111100000002', '111100000003', '111100000004', '111100000005'];
    controlMock.closures.mockResolvedValue(ids.map((id, i) => queued(id, `t${i}`, `2026-11-0${i + 1}`)));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand).rejects(Object.assign(new Error('refused'), { name: 'AccessDeniedException' }));
    orgs.on(DescribeAccountCommand, { AccountId: ids[0] }).resolves({ Account: { Id: ids[0], State: 'CLOSED' } });
    orgs.on(DescribeAccountCommand, { AccountId: ids[1] }).rejects(Object.assign(new Error('gone'), { name: 'AccountNotFoundException' }));
    orgs.on(DescribeAccountCommand, { AccountId: ids[2] }).resolves({ Account: { Id: ids[2], State: 'PENDING_CLOSURE' } } as never);
    orgs.on(DescribeAccountCommand, { AccountId: ids[3] }).resolves({ Account: { Id: ids[3], Status: 'SUSPENDED' } });
    orgs.on(DescribeAccountCommand, { AccountId: ids[4] }).resolves({ Account: { Id: ids[4], State: 'SUSPENDED', Status: 'SUSPENDED' } } as never);
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out.closed).toEqual(ids.slice(0, 4));
    expect(out.queued).toEqual([ids[4]]);
    expect(controlMock.requeueClosure).toHaveBeenCalledTimes(1);
  });
  it('fails only the entry whose CloseAccount failed: recorded on it and on its tenant, kept queued, the next entry closed, nothing thrown', async () => {
    controlMock.closures.mockResolvedValue([queued('111100000001', 'alpha', '2026-11-01'), queued('111100000002', 'beta', '2026-11-02')]);
    records.set('alpha', tenant({ tenantId: 'alpha', status: 'OFFBOARDED' }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand, { AccountId: '111100000001' }).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    orgs.on(DescribeAccountCommand).resolves({ Account: { Id: '111100000001', State: 'ACTIVE' } });
    controlMock.requeueClosure.mockResolvedValueOnce(2);
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out).toMatchObject({ closed: ['111100000002'], queued: ['111100000001'], failed: [{ accountId: '111100000001', tenantId: 'alpha', error: 'AccessDeniedException: not authorized' }] });
    expect(controlMock.requeueClosure).toHaveBeenCalledWith('111100000001', expect.any(String), 'AccessDeniedException: not authorized');
    expect(controlMock.setClosureAside).not.toHaveBeenCalled();
    expect(records.get('alpha')?.accountClosure).toMatchObject({ accountId: '111100000001', state: 'QUEUED', attempts: 2, error: 'AccessDeniedException: not authorized' });
  });
  // lc2 (s12) left: the entry was recorded CLOSED before CloseAccount was sent, so a run that died in between (a
  // timeout, a failed write after a failed CloseAccount) left an account standing in a queue that said it was closed.
  it('records an entry CLOSED only after CloseAccount answered: claimed CLOSING first, then recorded from CLOSING', async () => {
    controlMock.closures.mockResolvedValue([queued('111100000001', 'alpha', '2026-11-01')]);
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    const order: string[] = [];
    controlMock.claimClosure.mockImplementationOnce(async () => { order.push('claim'); return true; });
    controlMock.recordClosed.mockImplementationOnce(async () => { order.push('recorded'); return true; });
    orgs.on(CloseAccountCommand).callsFake(async () => { order.push('CloseAccount'); return {}; });
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out.closed).toEqual(['111100000001']);
    expect(order).toEqual(['claim', 'CloseAccount', 'recorded']);
    expect(controlMock.recordClosed).toHaveBeenCalledWith('111100000001', 'CLOSING');
  });
  it('settles a claim whose run ended before it recorded the answer: CLOSED if Organizations shows the account closing, else queued again with the interruption counted; a young claim is left alone and counts against the quota', async () => {
    const { CLOSURE_CLAIM_EXPIRY_MS } = await import('../../../lambdas/lifecycle/account-closure.js');
    const now = Date.parse('2026-11-23T12:00:00Z');
    const old = new Date(now - CLOSURE_CLAIM_EXPIRY_MS - 1000).toISOString();
    const young = new Date(now - 60_000).toISOString();
    controlMock.closures.mockResolvedValue([
      queued('111100000001', 'alpha', '2026-11-01', { status: 'CLOSING', claimedAt: old }),
      queued('111100000002', 'beta', '2026-11-02', { status: 'CLOSING', claimedAt: old, attempts: 1 }),
      queued('111100000003', 'gamma', '2026-11-03', { status: 'CLOSING', claimedAt: young }),
      ...Array.from({ length: 8 }, (_, i) => ({ id: `c${i}`, accountId: `old${i}`, tenantId: 't', status: 'CLOSED', queuedAt: 'x', closedAt: new Date(now - 3600_000).toISOString() })),
    ]);
    records.set('beta', tenant({ tenantId: 'beta', status: 'OFFBOARDED' }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(DescribeAccountCommand, { AccountId: '111100000001' }).resolves({ Account: { Id: '111100000001', State: 'PENDING_CLOSURE' } } as never);
    orgs.on(DescribeAccountCommand, { AccountId: '111100000002' }).resolves({ Account: { Id: '111100000002', State: 'ACTIVE' } });
    controlMock.requeueClosure.mockResolvedValueOnce(2);
    const out = await processClosureQueue(new OrganizationsClient({}), now);
    expect(controlMock.recordClosed).toHaveBeenCalledWith('111100000001', 'CLOSING');
    expect(controlMock.requeueClosure).toHaveBeenCalledWith('111100000002', old, expect.stringMatching(/^ClosureInterrupted: .*not closed/));
    // quota 10: 8 closed in the window, the young claim, and the claim found closing: nothing left for beta this run
    expect(out).toMatchObject({ closed: ['111100000001'], queued: ['111100000002'], usedInWindow: 10, failed: [{ accountId: '111100000002', tenantId: 'beta' }] });
    expect(orgs.commandCalls(CloseAccountCommand)).toHaveLength(0);
    expect(orgs.commandCalls(DescribeAccountCommand).map((c) => c.args[0].input.AccountId)).toEqual(['111100000001', '111100000002']);
    expect(records.get('beta')?.accountClosure).toMatchObject({ state: 'QUEUED', attempts: 2, error: expect.stringMatching(/ClosureInterrupted/) });
  });
  it('closes a claim it queued again in the same run when the quota allows', async () => {
    const { CLOSURE_CLAIM_EXPIRY_MS } = await import('../../../lambdas/lifecycle/account-closure.js');
    const now = Date.parse('2026-11-23T12:00:00Z');
    controlMock.closures.mockResolvedValue([queued('111100000002', 'beta', '2026-11-02', { status: 'CLOSING', claimedAt: new Date(now - CLOSURE_CLAIM_EXPIRY_MS - 1).toISOString() })]);
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(DescribeAccountCommand).resolves({ Account: { Id: '111100000002', State: 'ACTIVE' } });
    const out = await processClosureQueue(new OrganizationsClient({}), now);
    expect(orgs.commandCalls(CloseAccountCommand).map((c) => c.args[0].input.AccountId)).toEqual(['111100000002']);
    expect(out.closed).toEqual(['111100000002']);
  });
  // CloseAccount's ConstraintViolationException carries a Reason (AWS Organizations API Reference): only the organization's limits are
  // not the entry's fault. Before, any reason stopped the run uncounted: an account Organizations refuses for itself, at the head of the
  // queue (oldest first), stopped every later closure every day, and nothing on any record said why.
  const refusal = (Reason: string) => new ConstraintViolationException({ message: `refused: ${Reason}`, $metadata: {}, Reason: Reason as never });
  it('counts a ConstraintViolationException about the account itself against that entry, recorded with its reason, and closes the next entry', async () => {
    controlMock.closures.mockResolvedValue([queued('111100000001', 'alpha', '2026-11-01'), queued('111100000002', 'beta', '2026-11-02')]);
    records.set('alpha', tenant({ tenantId: 'alpha', status: 'OFFBOARDED' }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand, { AccountId: '111100000001' }).rejects(refusal('ACCOUNT_CREATION_NOT_COMPLETE'));
    orgs.on(DescribeAccountCommand).resolves({ Account: { Id: '111100000001', State: 'ACTIVE' } });
    controlMock.requeueClosure.mockResolvedValueOnce(1);
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out).toMatchObject({ closed: ['111100000002'], failed: [{ accountId: '111100000001', tenantId: 'alpha', error: 'ConstraintViolationException (ACCOUNT_CREATION_NOT_COMPLETE): refused: ACCOUNT_CREATION_NOT_COMPLETE' }] });
    expect(controlMock.requeueClosure).toHaveBeenCalledExactlyOnceWith('111100000001', expect.any(String), 'ConstraintViolationException (ACCOUNT_CREATION_NOT_COMPLETE): refused: ACCOUNT_CREATION_NOT_COMPLETE');
    expect(records.get('alpha')?.accountClosure).toMatchObject({ state: 'QUEUED', attempts: 1, error: expect.stringContaining('ACCOUNT_CREATION_NOT_COMPLETE') });
  });
  it.each(['CLOSE_ACCOUNT_QUOTA_EXCEEDED', 'CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED'])('stops the run uncounted on %s and says on the tenant why its account is still open', async (reason) => {
    controlMock.closures.mockResolvedValue([queued('111100000001', 'alpha', '2026-11-01'), queued('111100000002', 'beta', '2026-11-02')]);
    records.set('alpha', tenant({ tenantId: 'alpha', status: 'OFFBOARDED', accountClosure: { accountId: '111100000001', state: 'QUEUED', at: '2026-11-01T00:00:00.000Z' } }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand).rejects(refusal(reason));
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out).toMatchObject({ closed: [], failed: [], queued: ['111100000001', '111100000002'] });
    expect(orgs.commandCalls(CloseAccountCommand)).toHaveLength(1);
    expect(controlMock.requeueClosure).toHaveBeenCalledExactlyOnceWith('111100000001', expect.any(String));
    expect(records.get('alpha')?.accountClosure).toMatchObject({ state: 'QUEUED', note: expect.stringContaining(`ConstraintViolationException (${reason})`) });
    expect(records.get('alpha')?.accountClosure?.attempts).toBeUndefined();
  });
  // s23 (hostile pass): only the refused head entry's tenant was told why its account is still open; the tenants further
  // down the queue, and those beyond the quota's room, still said QUEUED only.
  it('tells every tenant left in the queue why its account is still open: behind the refusal, and beyond the quota\'s room; one write each, earlier attempts kept', async () => {
    const now = Date.parse('2026-11-23T00:00:00Z');
    controlMock.closures.mockResolvedValue([
      queued('111100000001', 'alpha', '2026-11-01'), queued('111100000002', 'beta', '2026-11-02', { attempts: 2, lastError: 'AccessDeniedException: not authorized' }),
      queued('111100000003', 'gamma', '2026-11-03'),
      // only gone from the registry: skipped quietly
      queued('111100000004', 'delta', '2026-11-04'),
    ]);
    for (const id of ['alpha', 'beta', 'gamma']) records.set(id, tenant({ tenantId: id, status: 'OFFBOARDED' }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand).rejects(refusal('CLOSE_ACCOUNT_QUOTA_EXCEEDED'));
    const out = await processClosureQueue(new OrganizationsClient({}), now);
    expect(out).toMatchObject({ closed: [], failed: [], queued: ['111100000001', '111100000002', '111100000003', '111100000004'] });
    expect(orgs.commandCalls(CloseAccountCommand)).toHaveLength(1);
    expect(records.get('alpha')?.accountClosure).toMatchObject({ state: 'QUEUED', note: expect.stringContaining('CloseAccount refused') });
    expect(records.get('beta')?.accountClosure).toEqual({
      accountId: '111100000002', state: 'QUEUED', at: expect.any(String), attempts: 2, error: 'AccessDeniedException: not authorized',
      note: expect.stringMatching(/^not tried at 2026-11-23T00:00:00\.000Z: Organizations refused the closure of account 111100000001 ahead of it \(ConstraintViolationException \(CLOSE_ACCOUNT_QUOTA_EXCEEDED\)/),
    });
    expect(records.get('gamma')?.accountClosure).toMatchObject({ accountId: '111100000003', state: 'QUEUED', note: expect.stringContaining('ahead of it') });
    expect(records.has('delta')).toBe(false);
    // one conditional write per tenant (no lease condition), none for the tenant no longer registered beyond its refused attempt
    expect(registryMock.updateTenant.mock.calls.map((c) => [c[0], c[2]])).toEqual([
      ['alpha', { holder: null }], ['beta', { holder: null }], ['gamma', { holder: null }], ['delta', { holder: null }],
    ]);

    // WHEN the rolling window is full: nothing is tried, and each queued tenant is told so
    registryMock.updateTenant.mockClear();
    controlMock.closures.mockResolvedValue([
      ...Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, accountId: `old${i}`, tenantId: 't', status: 'CLOSED', queuedAt: 'x', closedAt: new Date(now - 24 * 3600_000).toISOString() })),
      queued('111100000003', 'gamma', '2026-11-03'),
    ]);
    orgs.resetHistory();
    const full = await processClosureQueue(new OrganizationsClient({}), now);
    expect(full).toMatchObject({ quota: 10, usedInWindow: 10, queued: ['111100000003'] });
    expect(orgs.commandCalls(CloseAccountCommand)).toHaveLength(0);
    expect(records.get('gamma')?.accountClosure?.note).toBe('not tried at 2026-11-23T00:00:00.000Z: the organization\'s closure quota is used (10 of 10 closures in the rolling 30 days: 10% of member accounts, at least 10); the closure stays queued and is tried again by the daily run');
    expect(registryMock.updateTenant).toHaveBeenCalledTimes(1);
  });
  it('queues a closure refused with ConcurrentModificationException again uncounted, and goes on with the next entry', async () => {
    controlMock.closures.mockResolvedValue([queued('111100000001', 'alpha', '2026-11-01', { attempts: 4 }), queued('111100000002', 'beta', '2026-11-02')]);
    records.set('alpha', tenant({ tenantId: 'alpha', status: 'OFFBOARDED' }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand, { AccountId: '111100000001' }).rejects(Object.assign(new Error('being modified'), { name: 'ConcurrentModificationException' }));
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out).toMatchObject({ closed: ['111100000002'], failed: [], needsOperator: [] });
    expect(controlMock.requeueClosure).toHaveBeenCalledExactlyOnceWith('111100000001', expect.any(String));
    expect(controlMock.setClosureAside).not.toHaveBeenCalled();
    expect(records.get('alpha')?.accountClosure).toMatchObject({ state: 'QUEUED', attempts: 4, note: expect.stringContaining('ConcurrentModificationException') });
  });
  it('sets an entry aside for an operator after MAX_CLOSURE_ATTEMPTS failures, and records it CLOSED once the operator closed the account by hand', async () => {
    const { MAX_CLOSURE_ATTEMPTS } = await import('../../../lambdas/lifecycle/account-closure.js');
    controlMock.closures.mockResolvedValue([queued('111100000001', 'alpha', '2026-11-01', { attempts: MAX_CLOSURE_ATTEMPTS - 1 })]);
    records.set('alpha', tenant({ tenantId: 'alpha', status: 'OFFBOARDED' }));
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    orgs.on(DescribeAccountCommand).resolves({ Account: { Id: '111100000001', State: 'ACTIVE' } });
    controlMock.setClosureAside.mockResolvedValueOnce(MAX_CLOSURE_ATTEMPTS as never);
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out).toMatchObject({ closed: [], queued: [], needsOperator: ['111100000001'] });
    expect(controlMock.setClosureAside).toHaveBeenCalledWith('111100000001', expect.any(String), 'AccessDeniedException: not authorized');
    expect(controlMock.requeueClosure).not.toHaveBeenCalled();
    expect(records.get('alpha')?.accountClosure).toMatchObject({ state: 'NEEDS_OPERATOR', attempts: MAX_CLOSURE_ATTEMPTS });
    // WHEN the operator closes it by hand: the next run finds it closed (no CloseAccount)
    controlMock.closures.mockResolvedValue([{ ...queued('111100000001', 'alpha', '2026-11-01'), status: 'NEEDS_OPERATOR' }]);
    orgs.on(DescribeAccountCommand).resolves({ Account: { Id: '111100000001', State: 'CLOSED' } });
    orgs.resetHistory();
    const later = await processClosureQueue(new OrganizationsClient({}));
    expect(later.closed).toEqual(['111100000001']);
    expect(orgs.commandCalls(CloseAccountCommand)).toHaveLength(0);
    expect(records.get('alpha')?.accountClosure).toMatchObject({ state: 'CLOSED', note: expect.stringMatching(/closed outside Tessera/) });
  });
});
