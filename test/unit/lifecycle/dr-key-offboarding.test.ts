import { DeleteBackupVaultCommand, DescribeBackupVaultCommand, ListRecoveryPointsByBackupVaultCommand } from '@aws-sdk/client-backup';
import { ListStackResourcesCommand, type ResourceStatus } from '@aws-sdk/client-cloudformation';
import { DeleteLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeSnapshotsCommand } from '@aws-sdk/client-elasticache';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import { GetBucketEncryptionCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RetainedStore, TenantRecord } from '../../../lib/tenant-record.js';
import { tenantDetails } from '../../../lib/cli/format.js';
import { configWith } from '../../support/config-with.js';
import { credentials, leased, setLifecycleEnv, state, tenant, useConfig } from './support.js';
import { offboardingStoreMocks } from './offboarding-store-mocks.js';
import { records, registryMock } from './registry-mock.js';

/**
 * What offboarding does with a DR tier tenant's DR key (alias/tessera-<id>-dr: a single-Region key of its own in the DR
 * region, not a multi-Region replica of the tenant key). The inventory recorded it `review` ("not scheduled for deletion
 * with the tenant key, for review") whatever held it, and nothing ever scheduled it: a key billed every month for good,
 * still decrypting the tenant's replicated data, with nobody deciding. It now follows the tenant key's rule on the DR
 * stores under it: scheduled when none must stay readable, queued until the last DR recovery point expires (the daily
 * job then schedules it in its region), held while a DR store under it has no expiry, with the account in account mode.
 */
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);
const controlMock = vi.hoisted(() => ({
  enqueueKeyDeletion: vi.fn(async () => true),
  keyDeletions: vi.fn(async () => [] as Array<Record<string, unknown>>),
  markKeyDeletionScheduled: vi.fn(async (..._args: unknown[]) => true),
  recordKeyContainersLeft: vi.fn(async (..._args: unknown[]) => true),
  clearKeyContainersLeft: vi.fn(async (..._args: unknown[]) => undefined),
}));

const { cfn, logs, backup, rds, cache, s3, kms, events, sts } = offboardingStoreMocks();

const DR = 'us-west-2';
const KEY = 'arn:aws:kms:us-east-1:333333333333:key/tenant-key';
const DR_KEY = `arn:aws:kms:${DR}:333333333333:key/dr-key`;
const STACK_ID = 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1';
const DR_STACK_ID = `arn:aws:cloudformation:${DR}:333333333333:stack/tessera-acme-dr/1`;
const DR_BUCKET = `tessera-acme-dr-333333333333-${DR}`;
const DR_LOGS = 'tessera-acme-dr-accesslogs1a2b3c-xyz';
const DAY = 24 * 3600 * 1000;
const drConfig = configWith({ tiers: { professional: { disasterRecovery: { region: DR, rpoHours: 1, rtoHours: 4 } } } });
const resource = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string, status: string) =>
  ({ LogicalResourceId, ResourceType, PhysicalResourceId, ResourceStatus: status as ResourceStatus, LastUpdatedTimestamp: new Date() });
const drRecord = (extra: Partial<TenantRecord> = {}): Partial<TenantRecord> => ({
  tier: 'professional',
  stackOutputs: { KeyArn: KEY },
  offboarding: { stackId: STACK_ID, liftedProtections: [] },
  disasterRecovery: { region: DR, stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: 'REMOVED', updatedAt: '2026-12-01T00:00:00.000Z' },
  ...extra,
});
/** The region a mocked call's client was made for (aws-sdk-client-mock stubs the prototype's send: `this` is the client). */
const regionOf = async (call: { thisValue: unknown }) => (call.thisValue as { config: { region: () => Promise<string> } }).config.region();
const drRecoveryPoints = (...deleteAts: string[]) => backup.on(ListRecoveryPointsByBackupVaultCommand, { BackupVaultName: 'tessera-acme-dr' }).resolves({
  RecoveryPoints: deleteAts.map((d, i) => ({ RecoveryPointArn: `arn:aws:backup:${DR}:333333333333:recovery-point:dr-${i}`, EncryptionKeyArn: DR_KEY, Status: 'COMPLETED', CalculatedLifecycle: { DeleteAt: new Date(d) } })),
});

beforeEach(() => {
  setLifecycleEnv();
  useConfig(drConfig);
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, logs, backup, rds, cache, s3, kms, events, sts]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  s3.on(PutObjectCommand).resolves({});
  // The primary stack retained the tenant key and a log group under it (kept a year).
  cfn.on(ListStackResourcesCommand, { StackName: STACK_ID }).resolves({ StackResourceSummaries: [
    resource('Key', 'AWS::KMS::Key', 'tenant-key', 'DELETE_SKIPPED'),
    resource('FlowLogs', 'AWS::Logs::LogGroup', '/tessera/acme/flow-logs', 'DELETE_SKIPPED'),
  ] });
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [{ logGroupName: '/tessera/acme/flow-logs', retentionInDays: 365, kmsKeyId: KEY }] });
  // The DR stack retained its key, the DR bucket (the replica), its access-log bucket (SSE-S3) and the DR vault.
  cfn.on(ListStackResourcesCommand, { StackName: DR_STACK_ID }).resolves({ StackResourceSummaries: [
    resource('DrKey', 'AWS::KMS::Key', 'dr-key', 'DELETE_SKIPPED'),
    resource('DrBucket', 'AWS::S3::Bucket', DR_BUCKET, 'DELETE_SKIPPED'),
    resource('DrAccessLogs', 'AWS::S3::Bucket', DR_LOGS, 'DELETE_SKIPPED'),
    resource('DrVault', 'AWS::Backup::BackupVault', 'tessera-acme-dr', 'DELETE_SKIPPED'),
  ] });
  s3.on(GetBucketEncryptionCommand, { Bucket: DR_BUCKET }).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: DR_KEY } }] } });
  s3.on(GetBucketEncryptionCommand, { Bucket: DR_LOGS }).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
  backup.on(DescribeBackupVaultCommand, { BackupVaultName: 'tessera-acme-dr' }).resolves({ BackupVaultName: 'tessera-acme-dr', EncryptionKeyArn: DR_KEY });
  drRecoveryPoints();
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  cache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  kms.on(DescribeKeyCommand, { KeyId: KEY }).resolves({ KeyMetadata: { KeyId: 'tenant-key', KeyState: 'Enabled' } });
  kms.on(DescribeKeyCommand, { KeyId: DR_KEY }).resolves({ KeyMetadata: { KeyId: 'dr-key', KeyState: 'Enabled' } });
  kms.on(ScheduleKeyDeletionCommand).resolves({ DeletionDate: new Date('2027-03-08T00:00:00Z') });
});

describe('Offboarding a DR tier tenant: its DR key follows the tenant key\'s rule on the DR stores under it', async () => {
  const inventory = (await import('../../../lambdas/lifecycle/inventory-retained-stores.js')).handler;
  const schedule = (await import('../../../lambdas/lifecycle/schedule-key-deletion.js')).handler;
  const storesOf = () => records.get('acme')!.offboarding!.retainedStores!;
  const drKeyEntry = () => storesOf().find((s) => s.store === 'key' && s.drRegion)!;
  const tenantKeyEntry = () => storesOf().find((s) => s.store === 'key' && !s.drRegion)!;

  it('DR recovery points expiring later: the DR key is queued until the last one expires, in its region; the tenant key does not wait for them', async () => {
    // GIVEN copies in the DR vault kept until 2027-05-01 (the tenant key's own last store expires in a year)
    records.set('acme', leased('offboard', drRecord()));
    drRecoveryPoints('2027-04-01T00:00:00Z', '2027-05-01T00:00:00Z');
    // WHEN the inventory, then Schedule key deletion, run
    const out = await inventory(state());
    // THEN the DR stores carry their region; the recovery points hold the DR key until their DeleteAt
    expect(storesOf().filter((s) => s.drRegion).map((s) => [s.store, s.id, s.disposition, s.holdsKey])).toEqual([
      ['key', 'dr-key', 'queued', false],
      ['bucket', DR_BUCKET, 'archived', false],
      ['bucket', DR_LOGS, 'review', false],
      ['backup-recovery-point', `arn:aws:backup:${DR}:333333333333:recovery-point:dr-0`, 'expires', true],
      ['backup-recovery-point', `arn:aws:backup:${DR}:333333333333:recovery-point:dr-1`, 'expires', true],
      ['backup-vault', 'tessera-acme-dr', 'expires', false],
    ]);
    expect(drKeyEntry()).toEqual({
      store: 'key', id: 'dr-key', keyArn: DR_KEY, drRegion: DR, disposition: 'queued', holdsKey: false, keptUntil: new Date(Date.parse('2027-05-01T00:00:00Z') + 7 * DAY).toISOString(),
      note: `DR region ${DR}: the tenant's DR key (a key of its own, not a multi-Region replica): queued until 2027-05-01T00:00:00.000Z, when the last store under it expires; the platform's daily job then schedules its deletion, ScheduleKeyDeletion with a 7-day pending window (aws kms cancel-key-deletion until it ends): KMS deletes it at keptUntil at the earliest; see offboarding.drKeyDeletion`,
    });
    expect(storesOf().find((s) => s.id === DR_LOGS)!.note).toBe(`DR region ${DR}: not under the DR key (e.g. the DR bucket's server access logs, SSE-S3): kept for review`);
    const logExpiry = storesOf().find((s) => s.id === '/tessera/acme/flow-logs')!.keptUntil!;
    expect(out).toMatchObject({ keyNeededUntil: logExpiry, keyHeld: false, drKeyNeededUntil: '2027-05-01T00:00:00.000Z', drKeyHeld: false });
    expect(tenantKeyEntry()).toMatchObject({ disposition: 'queued', note: expect.stringContaining(`queued until ${logExpiry}`) });
    // AND the step queues both keys, the DR key with its region
    await expect(schedule(state())).resolves.toEqual({ scheduled: false, keyDeletion: 'QUEUED', dueAt: logExpiry, drKeyDeletion: 'QUEUED' });
    expect(controlMock.enqueueKeyDeletion).toHaveBeenCalledWith({ keyArn: DR_KEY, accountId: '333333333333', tenantId: 'acme', dueAt: '2027-05-01T00:00:00.000Z', region: DR });
    expect(controlMock.enqueueKeyDeletion).toHaveBeenCalledWith({ keyArn: KEY, accountId: '333333333333', tenantId: 'acme', dueAt: logExpiry });
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(records.get('acme')!.offboarding).toMatchObject({
      keyDeletion: { state: 'QUEUED', keyArn: KEY, dueAt: logExpiry },
      drKeyDeletion: { state: 'QUEUED', keyArn: DR_KEY, region: DR, dueAt: '2027-05-01T00:00:00.000Z' },
    });
  });

  it('nothing under the DR key to keep readable (the replica archived, no recovery point left): the DR key is scheduled now, in the DR region', async () => {
    records.set('acme', leased('offboard', drRecord()));
    await inventory(state());
    expect(drKeyEntry()).toMatchObject({ disposition: 'scheduled', note: expect.stringContaining('schedules its deletion now, ScheduleKeyDeletion with a 7-day pending window') });
    await expect(schedule(state())).resolves.toMatchObject({ keyDeletion: 'QUEUED', drKeyDeletion: 'SCHEDULED' });
    const calls = kms.commandCalls(ScheduleKeyDeletionCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([{ KeyId: 'dr-key', PendingWindowInDays: 7 }]);
    expect(await regionOf(calls[0])).toBe(DR);
    expect(await regionOf(kms.commandCalls(DescribeKeyCommand)[0])).toBe(DR);
    expect(records.get('acme')!.offboarding!.drKeyDeletion).toEqual({ state: 'SCHEDULED', keyArn: DR_KEY, region: DR, deletionDate: '2027-03-08T00:00:00.000Z' });
    expect(events.commandCalls(PutEventsCommand).map((c) => JSON.parse(c.args[0].input.Entries![0].Detail!))).toContainEqual(expect.objectContaining({ keyArn: DR_KEY, region: DR, deletionDate: '2027-03-08T00:00:00.000Z' }));
  });

  // Hostile pass (session 48): only the daily job removed emptied containers, for a key it scheduled; a DR key scheduled
  // at once (no DR recovery point left) left its empty DR vault in the DR region for good, recorded `expires`.
  it('a DR key scheduled now takes its emptied DR vault with it, in the DR region, recorded removedAt; the home stores wait for the queued tenant key', async () => {
    records.set('acme', leased('offboard', drRecord()));
    backup.on(DeleteBackupVaultCommand).resolves({});
    await inventory(state());
    await expect(schedule(state())).resolves.toMatchObject({ keyDeletion: 'QUEUED', drKeyDeletion: 'SCHEDULED' });
    const deletes = backup.commandCalls(DeleteBackupVaultCommand);
    expect(deletes.map((c) => c.args[0].input.BackupVaultName)).toEqual(['tessera-acme-dr']);
    expect(await regionOf(deletes[0])).toBe(DR);
    expect(logs.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
    const vault = storesOf().find((s) => s.store === 'backup-vault' && s.id === 'tessera-acme-dr')!;
    expect(vault.removedAt).toEqual(expect.any(String));
    expect(storesOf().find((s) => s.id === '/tessera/acme/flow-logs')?.removedAt).toBeUndefined();
  });

  it('a resumed offboarding (a later step failed) keeps the removed DR vault\'s entry: not read again, not held for review, the DR key still SCHEDULED', async () => {
    records.set('acme', leased('offboard', drRecord()));
    backup.on(DeleteBackupVaultCommand).resolves({});
    await inventory(state());
    await schedule(state());
    const removedAt = storesOf().find((s) => s.id === 'tessera-acme-dr')!.removedAt!;
    expect(removedAt).toEqual(expect.any(String));
    // WHEN the retry runs the inventory again: the vault is gone now (DescribeBackupVault: ResourceNotFoundException)
    backup.on(DescribeBackupVaultCommand, { BackupVaultName: 'tessera-acme-dr' }).rejects(Object.assign(new Error('Backup vault tessera-acme-dr not found'), { name: 'ResourceNotFoundException' }));
    await expect(inventory(state())).resolves.toMatchObject({ drKeyHeld: false });
    // THEN the vault's entry is the one recorded, and the DR key is scheduled, not held
    expect(storesOf().find((s) => s.id === 'tessera-acme-dr')).toMatchObject({ store: 'backup-vault', drRegion: DR, removedAt, disposition: 'expires', holdsKey: false });
    expect(drKeyEntry()).toMatchObject({ disposition: 'scheduled' });
    await expect(schedule(state())).resolves.toMatchObject({ drKeyDeletion: 'SCHEDULED' });
    expect(records.get('acme')!.offboarding!.drKeyDeletion).toMatchObject({ state: 'SCHEDULED', keyArn: DR_KEY });
  });

  it('a DR bucket that is no replica of the export (the tenant left its DR tier): it holds the DR key, which is held, naming it; nothing scheduled or queued for it', async () => {
    records.set('acme', leased('offboard', drRecord({ disasterRecovery: { region: DR, stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: 'RETAINED', updatedAt: '2026-12-01T00:00:00.000Z', replicationStoppedAt: '2026-11-01T00:00:00.000Z' } })));
    drRecoveryPoints('2027-05-01T00:00:00Z');
    await expect(inventory(state())).resolves.toMatchObject({ drKeyHeld: true });
    expect(storesOf().find((s) => s.id === DR_BUCKET)).toMatchObject({ disposition: 'review', holdsKey: true, drRegion: DR });
    expect(drKeyEntry()).toMatchObject({ disposition: 'review', note: `DR region ${DR}: the tenant's DR key (a key of its own, not a multi-Region replica): held by 1 store(s) under it without expiry (bucket ${DR_BUCKET}): nothing schedules its deletion until an operator decides on them; see offboarding.drKeyDeletion` });
    // the tenant key is not held by the DR bucket
    expect(tenantKeyEntry().disposition).toBe('queued');
    await expect(schedule(state())).resolves.toMatchObject({ keyDeletion: 'QUEUED', drKeyDeletion: 'HELD' });
    expect(controlMock.enqueueKeyDeletion).toHaveBeenCalledTimes(1);
    expect(records.get('acme')!.offboarding!.drKeyDeletion).toEqual({ state: 'HELD', keyArn: DR_KEY, region: DR });
  });

  it('account mode: the DR key goes with the account, as the tenant key', async () => {
    records.set('acme', leased('offboard', drRecord({ isolation: 'account' })));
    await inventory(state());
    expect(drKeyEntry()).toMatchObject({ disposition: 'with-account', note: expect.stringContaining('goes with the account\'s closure') });
    await expect(schedule(state())).resolves.toEqual({ scheduled: false, keyDeletion: 'WITH_ACCOUNT_CLOSURE', drKeyDeletion: 'WITH_ACCOUNT_CLOSURE' });
    expect(kms.commandCalls(ScheduleKeyDeletionCommand)).toHaveLength(0);
    expect(controlMock.enqueueKeyDeletion).not.toHaveBeenCalled();
  });
});

describe('Process key deletion queue: a queued DR key', async () => {
  const { handler } = await import('../../../lambdas/lifecycle/process-key-deletion-queue.js');
  const expired = '2026-10-01T00:00:00Z';
  const retainedStores: RetainedStore[] = [
    { store: 'backup-vault', id: 'tessera-acme-database', keyArn: KEY, keptUntil: expired, disposition: 'expires', holdsKey: false },
    { store: 'key', id: 'dr-key', keyArn: DR_KEY, drRegion: DR, disposition: 'queued', holdsKey: false },
    { store: 'backup-vault', id: 'tessera-acme-dr', keyArn: DR_KEY, drRegion: DR, keptUntil: expired, disposition: 'expires', holdsKey: false },
  ];
  const item = (keyArn: string, region?: string) => ({ id: `key-deletion#${keyArn}`, keyArn, accountId: '333333333333', tenantId: 'acme', dueAt: expired, status: 'QUEUED', queuedAt: '2026-09-01T00:00:00Z', ...(region ? { region } : {}) });

  it('is scheduled in its DR region, its emptied DR vault removed there, and recorded as drKeyDeletion (keyDeletion untouched)', async () => {
    records.set('acme', tenant({ status: 'OFFBOARDED', offboarding: { liftedProtections: [], retainedStores, keyDeletion: { state: 'QUEUED', keyArn: KEY, dueAt: '2027-12-01T00:00:00Z' }, drKeyDeletion: { state: 'QUEUED', keyArn: DR_KEY, region: DR, dueAt: expired } } }));
    controlMock.keyDeletions.mockResolvedValueOnce([item(DR_KEY, DR)]);
    backup.on(DeleteBackupVaultCommand).resolves({});
    await expect(handler({})).resolves.toMatchObject({ scheduled: [{ keyArn: DR_KEY, deletionDate: '2027-03-08T00:00:00.000Z' }] });
    const call = kms.commandCalls(ScheduleKeyDeletionCommand)[0];
    expect([call.args[0].input, await regionOf(call)]).toEqual([{ KeyId: 'dr-key', PendingWindowInDays: 7 }, DR]);
    const deletes = backup.commandCalls(DeleteBackupVaultCommand);
    expect(deletes.map((c) => c.args[0].input.BackupVaultName)).toEqual(['tessera-acme-dr']);
    expect(await regionOf(deletes[0])).toBe(DR);
    const o = records.get('acme')!.offboarding!;
    expect(o.drKeyDeletion).toEqual({ state: 'SCHEDULED', keyArn: DR_KEY, region: DR, dueAt: expired, deletionDate: '2027-03-08T00:00:00.000Z' });
    expect(o.keyDeletion).toEqual({ state: 'QUEUED', keyArn: KEY, dueAt: '2027-12-01T00:00:00Z' });
    expect(o.retainedStores!.filter((s) => s.removedAt).map((s) => s.id)).toEqual(['tessera-acme-dr']);
  });

  it('the tenant key\'s run removes the home containers only: the DR vault is not tried in the home region (and recorded removed on its NotFound)', async () => {
    records.set('acme', tenant({ status: 'OFFBOARDED', offboarding: { liftedProtections: [], retainedStores, keyDeletion: { state: 'QUEUED', keyArn: KEY, dueAt: expired } } }));
    controlMock.keyDeletions.mockResolvedValueOnce([item(KEY)]);
    backup.on(DeleteBackupVaultCommand, { BackupVaultName: 'tessera-acme-dr' }).rejects(Object.assign(new Error('not here'), { name: 'ResourceNotFoundException' }));
    backup.on(DeleteBackupVaultCommand, { BackupVaultName: 'tessera-acme-database' }).resolves({});
    await handler({});
    expect(backup.commandCalls(DeleteBackupVaultCommand).map((c) => c.args[0].input.BackupVaultName)).toEqual(['tessera-acme-database']);
    expect(records.get('acme')!.offboarding!.retainedStores!.filter((s) => s.removedAt).map((s) => s.id)).toEqual(['tessera-acme-database']);
    expect(logs.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
  });
});

describe('tessera tenants show: what happens to the DR key', () => {
  it('a DR key line in the offboarding section, and the DR stores with their region and their key', () => {
    const stores: RetainedStore[] = [
      { store: 'key', id: 'dr-key', keyArn: DR_KEY, drRegion: DR, disposition: 'queued', keptUntil: '2027-05-08T00:00:00.000Z', holdsKey: false },
      { store: 'backup-recovery-point', id: 'arn:rp:dr-0', keyArn: DR_KEY, drRegion: DR, keptUntil: '2027-05-01T00:00:00.000Z', disposition: 'expires', holdsKey: true },
    ];
    const text = tenantDetails(tenant({ status: 'OFFBOARDED', stackOutputs: { KeyArn: KEY }, offboarding: { liftedProtections: [], retainedStores: stores, keyDeletion: { state: 'SCHEDULED', keyArn: KEY, deletionDate: '2027-01-02T00:00:00.000Z' }, drKeyDeletion: { state: 'QUEUED', keyArn: DR_KEY, region: DR, dueAt: '2027-05-01T00:00:00.000Z' } } }));
    expect(text).toContain(`  DR key      ${DR_KEY} (DR region ${DR}): queued until 2027-05-01T00:00:00.000Z, when the last store under it expires`);
    expect(text).toMatch(new RegExp(`^ {2}key +dr-key +${DR} +queued +2027-05-01T00:00:00\\.000Z +no +DR key$`, 'm'));
    expect(text).toMatch(new RegExp(`^ {2}backup-recovery-point +arn:rp:dr-0 +${DR} +expires +2027-05-01T00:00:00\\.000Z +yes +DR key$`, 'm'));
    const held = tenantDetails(tenant({ status: 'OFFBOARDED', offboarding: { liftedProtections: [], retainedStores: [{ store: 'bucket', id: DR_BUCKET, keyArn: DR_KEY, drRegion: DR, disposition: 'review', holdsKey: true }], drKeyDeletion: { state: 'HELD', keyArn: DR_KEY, region: DR } } }));
    expect(held).toContain(`  DR key      ${DR_KEY} (DR region ${DR}): held by 1 store(s) that hold it without expiry (retained stores below: holdsKey yes, no keptUntil, in ${DR}): nothing schedules it; decide on them, then aws kms schedule-key-deletion --region ${DR}`);
  });
});
