import { CloudFormationClient, DeleteStackCommand, DescribeStacksCommand, ListStackResourcesCommand, UpdateTerminationProtectionCommand, DescribeStackEventsCommand } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CloseAccountCommand, ListAccountsCommand, ListOrganizationalUnitsForParentCommand, ListParentsCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { CopyDBSnapshotCommand, CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, ModifyDBSnapshotAttributeCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { credentials, setLifecycleEnv, state, tenant } from './support.js';
import { records, registryMock } from './registry-mock.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);
const controlMock = vi.hoisted(() => ({
  releaseSlot: vi.fn(async () => undefined),
  enqueueClosure: vi.fn(async () => undefined),
  closures: vi.fn(async () => [] as Array<Record<string, unknown>>),
  markClosed: vi.fn(async () => true),
  requeueClosure: vi.fn(async () => undefined),
}));

const cfn = mockClient(CloudFormationClient);
const events = mockClient(EventBridgeClient);
const kms = mockClient(KMSClient);
const orgs = mockClient(OrganizationsClient);
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, events, kms, orgs, rds, s3, sts]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
});

const eventTypes = () => events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0].DetailType);

describe('Record failure', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/record-failure.js');
  const failure = (extra: Record<string, unknown> = {}) => ({ ...state(), kind: 'onboard' as const, error: { Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: 'stack tessera-acme is ROLLBACK_COMPLETE: Db CREATE_FAILED: quota' }) }, ...extra });

  it('deletes a stack that never came up (its termination protection lifted and recorded), frees the slot, records FAILED with step and reason, announces it', async () => {
    records.set('acme', tenant({ currentStep: 'Check blueprint', executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: state().executionArn, startedAt: 't', status: 'RUNNING' }] }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:stack/tessera-acme/1', StackStatus: 'ROLLBACK_COMPLETE', CreationTime: new Date(), EnableTerminationProtection: true }] });
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(Object.assign(new Error('Stack with id x does not exist'), { name: 'ValidationError' }));
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
    const out = await handler(failure());
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)[0].args[0].input).toEqual({ StackName: 'tessera-acme', EnableTerminationProtection: false });
    expect(cfn.commandCalls(DeleteStackCommand)[0].args[0].input).toEqual({ StackName: 'tessera-acme', RoleARN: 'arn:aws:iam::333333333333:role/TesseraBlueprintExecution' });
    expect(controlMock.releaseSlot).toHaveBeenCalledWith('acme');
    expect(out).toMatchObject({ status: 'FAILED', step: 'Check blueprint', reason: 'StackFailed: stack tessera-acme is ROLLBACK_COMPLETE: Db CREATE_FAILED: quota' });
    const lift = { logicalId: 'tessera-acme', type: 'AWS::CloudFormation::Stack', physicalId: 'arn:stack/tessera-acme/1', protection: 'TerminationProtection', at: expect.any(String) };
    expect(records.get('acme')).toMatchObject({
      status: 'FAILED', failure: { step: 'Check blueprint', liftedProtections: [lift] },
      executions: [expect.objectContaining({ status: 'FAILED', failedStep: 'Check blueprint', liftedProtections: [lift] })],
    });
    expect(eventTypes()).toEqual(['Tenant Protection Lifted', 'Tenant Lifecycle Failed']);
  });

  it('keeps a stack that works (an update rolled back) and leaves the tenant ACTIVE after a failed change', async () => {
    records.set('acme', tenant({ status: 'UPDATING', currentStep: 'Check blueprint' }));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'UPDATE_ROLLBACK_COMPLETE', CreationTime: new Date() }] });
    const out = await handler(failure({ kind: 'change' }));
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(out.status).toBe('ACTIVE');
    expect(controlMock.releaseSlot).not.toHaveBeenCalled();
  });

  it('touches no record when the request never owned one', async () => {
    records.set('acme', tenant({ requestId: 'other-request', status: 'ACTIVE' }));
    const out = await handler(failure({ error: { Error: 'TenantConflict', Cause: 'taken' } }));
    expect(out.status).toBe('REJECTED');
    expect(records.get('acme')?.status).toBe('ACTIVE');
    expect(registryMock.updateTenant).not.toHaveBeenCalled();
  });
});

describe('Set status', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/set-status.js');
  it('suspends an ACTIVE tenant and resumes it', async () => {
    records.set('acme', tenant({ status: 'ACTIVE' }));
    await expect(handler({ ...state(), action: 'suspend' })).resolves.toEqual({ status: 'SUSPENDED' });
    await expect(handler({ ...state(), action: 'resume' })).resolves.toEqual({ status: 'ACTIVE' });
    expect(eventTypes()).toEqual(['Tenant Suspended', 'Tenant Resumed']);
  });
  it('refuses to resume a tenant that is not suspended', async () => {
    records.set('acme', tenant({ status: 'ACTIVE' }));
    await expect(handler({ ...state(), action: 'resume' })).rejects.toMatchObject({ name: 'TenantConflict', message: 'tenant "acme" is ACTIVE; this change needs SUSPENDED' });
  });
});

describe('Begin change / Finish change / List tier tenants', async () => {
  const begin = (await import('../../../lambdas/lifecycle/begin-change.js')).handler;
  const finish = (await import('../../../lambdas/lifecycle/finish-change.js')).handler;
  const list = (await import('../../../lambdas/lifecycle/list-tier-tenants.js')).handler;
  it('moves a VPC tenant to another VPC tier and back to ACTIVE', async () => {
    records.set('acme', tenant({ status: 'ACTIVE' }));
    await expect(begin({ ...state(), change: { tier: 'professional' } })).resolves.toMatchObject({ tier: 'professional', computeMode: 'shared' });
    expect(records.get('acme')?.status).toBe('UPDATING');
    await finish({ ...state(), change: { tier: 'professional' } });
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', tier: 'professional' });
    expect(eventTypes()).toEqual(['Tenant Changed']);
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
    const out = await list({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'upgrade-1' });
    // THEN the state carries only where the list is, never the list itself
    expect(out).toEqual({ bucket: 'tessera-lifecycle-work', key: 'upgrades/upgrade-1/items.json', resultsPrefix: 'upgrades/upgrade-1/results', count: 1 });
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: 'tessera-lifecycle-work', Key: 'upgrades/upgrade-1/items.json', ContentType: 'application/json' });
    expect(JSON.parse(put.Body as string)).toEqual([{
      request: { tenantId: 'a1', requestId: 'upgrade-1-a1', name: 'Acme', tier: 'starter', adminEmail: 'admin@acme.example.com' },
      change: { tier: 'starter', blueprintVersion: '2.0.0' },
    }]);
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

  it('stops serving at once (OFFBOARDING), from ACTIVE, SUSPENDED or FAILED only', async () => {
    records.set('acme', tenant({ status: 'SUSPENDED' }));
    await begin(state());
    expect(records.get('acme')?.status).toBe('OFFBOARDING');
    records.set('acme', tenant({ status: 'PROVISIONING' }));
    await expect(begin(state())).rejects.toMatchObject({ name: 'TenantConflict' });
  });

  it('exports a batch through the break-glass role with the offboarding SourceIdentity, and writes the manifest at the end', async () => {
    records.set('acme', tenant({ stackOutputs: { BucketName: 'tenant-bucket' } }));
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'a.txt' }, { Key: 'b.txt' }], IsTruncated: false });
    s3.on(GetObjectCommand).callsFake(() => ({ Body: sdkStreamMixin(Readable.from([Buffer.from('data')])), ContentType: 'text/plain' }));
    s3.on(PutObjectCommand).resolves({});
    const out = await exportData(state());
    expect(out).toMatchObject({ objects: 2, bytes: 8, done: true });
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([`${out.prefix}s3/a.txt`, `${out.prefix}s3/b.txt`, `${out.prefix}manifest.json`]);
    expect(puts.every((p) => p.Bucket === 'tessera-archive')).toBe(true);
    const breakGlass = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input).find((i) => i.RoleArn!.endsWith('tessera-acme-break-glass'));
    expect(breakGlass).toMatchObject({ SourceIdentity: 'tessera-offboarding-acme' });
  });

  it('continues a truncated listing on the next call', async () => {
    records.set('acme', tenant({ stackOutputs: { BucketName: 'tenant-bucket' } }));
    s3.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: true, NextContinuationToken: 'next' });
    await expect(exportData(state())).resolves.toMatchObject({ done: false, continuationToken: 'next' });
  });

  it('snapshots the database, copies it under the archive key, shares the copy with the platform account', async () => {
    records.set('acme', tenant({ stackOutputs: { DatabaseInstanceId: 'db-1' } }));
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

  it('deletes the namespace stack, then the tenant stack, lifting termination protection; fails on DELETE_FAILED', async () => {
    records.set('acme', tenant());
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme-namespace' }).rejects(Object.assign(new Error('Stack with id x does not exist'), { name: 'ValidationError' }));
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'CREATE_COMPLETE', CreationTime: new Date() }] });
    await expect(deleteStacks(state())).resolves.toEqual({ state: 'IN_PROGRESS', stack: 'tessera-acme' });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
    cfn.on(DescribeStacksCommand, { StackName: 'tessera-acme' }).resolves({ Stacks: [{ StackName: 'tessera-acme', StackStatus: 'DELETE_FAILED', StackStatusReason: 'bucket not empty', CreationTime: new Date() }] });
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
    await expect(deleteStacks(state())).rejects.toMatchObject({ name: 'StackFailed', message: 'stack tessera-acme could not be deleted: bucket not empty' });
  });

  it('schedules the tenant key with the configured window, once', async () => {
    records.set('acme', tenant({ stackOutputs: { KeyArn: 'arn:aws:kms:us-east-1:333333333333:key/k1' } }));
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k1', KeyState: 'Enabled' } });
    kms.on(ScheduleKeyDeletionCommand).resolves({ DeletionDate: new Date('2026-12-01') });
    await expect(scheduleKey(state())).resolves.toMatchObject({ scheduled: true });
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)[0].args[0].input).toEqual({ KeyId: 'k1', PendingWindowInDays: 7 });
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k1', KeyState: 'PendingDeletion' } });
    await scheduleKey(state());
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(1);
  });

  it('moves an account tenant to Suspended and queues its closure', async () => {
    records.set('acme', tenant({ isolation: 'account', accountId: '444444444444' }));
    orgs.on(ListRootsCommand).resolves({ Roots: [{ Id: 'r-root' }] });
    orgs.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [{ Id: 'ou-susp', Name: 'Suspended' }] });
    orgs.on(ListParentsCommand).resolves({ Parents: [{ Id: 'ou-ent' }] });
    orgs.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '1', State: 'ACTIVE' }] });
    controlMock.closures.mockResolvedValue([]);
    await expect(retire(state())).resolves.toMatchObject({ retired: true, accountId: '444444444444' });
    expect(orgs.commandCalls(MoveAccountCommand)[0].args[0].input).toEqual({ AccountId: '444444444444', SourceParentId: 'ou-ent', DestinationParentId: 'ou-susp' });
    expect(controlMock.enqueueClosure).toHaveBeenCalledWith('444444444444', 'acme');
    expect(eventTypes()).toEqual(['Tenant Account Closure Queued']);
  });

  it('leaves a VPC tenant\'s shared workload account alone', async () => {
    records.set('acme', tenant());
    await expect(retire(state())).resolves.toEqual({ retired: false });
    expect(orgs.commandCalls(MoveAccountCommand)).toHaveLength(0);
  });

  it('marks the tenant OFFBOARDED and announces where its data went', async () => {
    records.set('acme', tenant({ status: 'OFFBOARDING' }));
    await finish({ ...state(), export: { prefix: 'acme/2026-11-23/' } });
    expect(records.get('acme')?.status).toBe('OFFBOARDED');
    expect(events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].Detail).toContain('acme/2026-11-23/');
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
  it('puts a closure back in the queue when Organizations refuses it', async () => {
    controlMock.closures.mockResolvedValue([{ id: 'q', accountId: '111100000003', tenantId: 'c', status: 'QUEUED', queuedAt: '2026-11-01' }]);
    orgs.on(ListAccountsCommand).resolves({ Accounts: [] });
    orgs.on(CloseAccountCommand).rejects(Object.assign(new Error('quota'), { name: 'ConstraintViolationException' }));
    const out = await processClosureQueue(new OrganizationsClient({}));
    expect(out.closed).toEqual([]);
    expect(controlMock.requeueClosure).toHaveBeenCalledWith('111100000003');
  });
});
