import { CopyDBSnapshotCommand, CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, paginateDescribeDBSnapshots, ModifyDBSnapshotAttributeCommand, RDSClient } from '@aws-sdk/client-rds';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { pages } from '../../lib/aws-pages.js';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, platformConfig, requireEnv } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import type { OffboardingDatabaseSnapshot, TenantRecord } from '../../lib/tenant-record.js';
import { SnapshotMissingError } from '../shared/errors.js';
import { requireTenant, updateTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import type { ExportProgress } from './export-tenant-data.js';
import { requireManualSnapshotRoom } from './manual-snapshot-quota.js';
import type { LifecycleState } from './state.js';

export interface SnapshotProgress {
  phase: 'SNAPSHOT' | 'COPY' | 'DONE';
  snapshotId?: string;
  archiveSnapshotId?: string;
  done: boolean;
}

/**
 * The final database snapshot, archived: snapshot the instance, copy the snapshot re-encrypted
 * with the platform archive key (the tenant key is about to be scheduled for deletion, which would
 * make a snapshot under it unreadable), share the copy with the platform account, and note it in
 * the archive. One phase per invocation; the state machine waits between them. The archived copy
 * is recorded in the registry (`offboarding.databaseSnapshot`): an offboarding resumed after a
 * later step failed (the stack, and with it the instance, may be gone) answers DONE at once. An
 * instance that is gone with nothing recorded (an offboarding of an earlier version) is looked up
 * by its archived copy's name; with none, SnapshotMissing (terminal) says what to look for. Before the first
 * snapshot, an account and Region without room for the offboarding's three manual snapshots is refused
 * (QuotaExceeded, terminal: manual-snapshot-quota.ts).
 */
export const handler = lifecycleHandler('Snapshot database', async (state: LifecycleState & { snapshot?: Partial<SnapshotProgress>; export?: Partial<ExportProgress> }): Promise<SnapshotProgress> => {
  const record = await requireTenant(state.request.tenantId);
  const instance = record.stackOutputs.DatabaseInstanceId;
  if (!instance) return { phase: 'DONE', done: true };
  const progress = state.snapshot as SnapshotProgress | undefined;
  // An offboarding resumed after a later step failed: the snapshot was archived already (and the
  // instance may be gone with the stack).
  const archived = record.offboarding?.databaseSnapshot;
  if (!progress?.phase && archived?.instance === instance) return { phase: 'DONE', snapshotId: archived.snapshotId, archiveSnapshotId: archived.archiveSnapshotId, done: true };
  const rds = clientWith(RDSClient, await tenantAccountCredentials(record.accountId!, record.tenantId, 'snapshot'));
  const available = async (id: string) => {
    const out = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
    return out.DBSnapshots?.[0]?.Status === 'available';
  };
  if (!progress?.phase) {
    // Room for the three manual snapshots an offboarding keeps, before the first: none made yet (manual-snapshot-quota.ts).
    await requireManualSnapshotRoom(rds, { tenantId: record.tenantId, accountId: record.accountId! });
    const snapshotId = `tessera-${record.tenantId}-final-${Date.now()}`;
    try {
      await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: instance, DBSnapshotIdentifier: snapshotId, Tags: [{ Key: 'tessera:tenant-id', Value: record.tenantId }] }));
    } catch (e) {
      // DBSnapshotAlreadyExists for the name just made (milliseconds): the SDK sent CreateDBSnapshot again after the
      // answer of the first call, which took effect, was lost. That snapshot of this instance is this step's.
      if ((e as Error).name === 'DBSnapshotAlreadyExistsFault' && (await snapshotOf(rds, snapshotId)) === instance) return { phase: 'SNAPSHOT', snapshotId, done: false };
      if ((e as Error).name !== 'DBInstanceNotFoundFault') throw e;
      // The instance is gone: an offboarding of before this step recorded its snapshot, resumed
      // after it deleted the stack. Its archived copy is the tenant's final snapshot.
      const found = await archivedFinalSnapshot(rds, record.tenantId, instance);
      if (!found) {
        throw new SnapshotMissingError(`database instance ${instance} of tenant ${record.tenantId} no longer exists and no archived final snapshot of it (tessera-${record.tenantId}-final-*-archive, available) was found: its data cannot be archived by this offboarding, which stays stopped here (the tenant OFFBOARDING, not served). If a snapshot of the instance exists (DescribeDBSnapshots --db-instance-identifier ${instance}: an automated, manual or CloudFormation one), copy it under the platform archive key to tessera-${record.tenantId}-final-<milliseconds>-archive in this account and send DELETE again: this step takes the newest available such copy`);
      }
      // Shared and noted as the COPY phase would (both idempotent): the copy may be an operator's.
      await shareAndNote(rds, record, instance, found, state.export?.prefix);
      const foundSnapshotId = found.slice(0, -'-archive'.length);
      await recordSnapshot(record, { instance, snapshotId: foundSnapshotId, archiveSnapshotId: found, archivedAt: new Date().toISOString() });
      return { phase: 'DONE', snapshotId: foundSnapshotId, archiveSnapshotId: found, done: true };
    }
    return { phase: 'SNAPSHOT', snapshotId, done: false };
  }
  if (progress.phase === 'SNAPSHOT') {
    if (!(await available(progress.snapshotId!))) return progress;
    const archiveSnapshotId = `${progress.snapshotId}-archive`;
    try {
      await rds.send(new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: progress.snapshotId, TargetDBSnapshotIdentifier: archiveSnapshotId, KmsKeyId: requireEnv(ENV.archiveKeyArn), CopyTags: true,
      }));
    } catch (e) {
      // The copy's name is this snapshot's: a CopyDBSnapshot sent again (by the SDK after a lost answer, or a retry of
      // this step after its first run's copy started) finds it made, and the COPY phase waits for it as for its own.
      if ((e as Error).name !== 'DBSnapshotAlreadyExistsFault' || (await snapshotOf(rds, archiveSnapshotId)) !== instance) throw e;
    }
    return { ...progress, phase: 'COPY', archiveSnapshotId };
  }
  if (progress.phase === 'COPY') {
    if (!(await available(progress.archiveSnapshotId!))) return progress;
    await shareAndNote(rds, record, instance, progress.archiveSnapshotId!, state.export?.prefix);
    await recordSnapshot(record, { instance, snapshotId: progress.snapshotId!, archiveSnapshotId: progress.archiveSnapshotId!, archivedAt: new Date().toISOString() });
    return { ...progress, phase: 'DONE', done: true };
  }
  return progress;
});

/** The DB instance a manual snapshot `id` is of, or undefined when there is no such snapshot. */
async function snapshotOf(rds: RDSClient, id: string): Promise<string | undefined> {
  try {
    return (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))).DBSnapshots?.[0]?.DBInstanceIdentifier;
  } catch (e) {
    if ((e as Error).name === 'DBSnapshotNotFoundFault') return undefined;
    throw e;
  }
}

/**
 * The newest available archived final snapshot of `instance` (`tessera-<tenant>-final-<ms>-archive`,
 * which this step makes), or undefined. Manual snapshots of a deleted instance stay listed under
 * its identifier (RDS DescribeDBSnapshots, DBInstanceIdentifier filter).
 */
async function archivedFinalSnapshot(rds: RDSClient, tenantId: string, instance: string): Promise<string | undefined> {
  const ours = new RegExp(`^tessera-${tenantId}-final-(\\d+)-archive$`);
  let newest: { id: string; at: number } | undefined;
  for await (const page of paginateDescribeDBSnapshots(pages(rds), { DBInstanceIdentifier: instance, SnapshotType: 'manual' })) {
    for (const s of page.DBSnapshots ?? []) {
      const at = ours.exec(s.DBSnapshotIdentifier ?? '')?.[1];
      if (at && s.Status === 'available' && (!newest || Number(at) > newest.at)) newest = { id: s.DBSnapshotIdentifier!, at: Number(at) };
    }
  }
  return newest?.id;
}

function recordSnapshot(record: TenantRecord, databaseSnapshot: OffboardingDatabaseSnapshot): Promise<TenantRecord> {
  return updateTenant(record.tenantId, { offboarding: { liftedProtections: [], ...record.offboarding, databaseSnapshot } });
}

/** Shares the archived copy with the platform account (restore) and notes it beside the export in the archive. */
async function shareAndNote(rds: RDSClient, record: TenantRecord, instance: string, archiveSnapshotId: string, exportPrefix: string | undefined): Promise<void> {
  await rds.send(new ModifyDBSnapshotAttributeCommand({
    DBSnapshotIdentifier: archiveSnapshotId, AttributeName: 'restore', ValuesToAdd: [platformConfig().platformAccountId],
  }));
  await platformClient(S3Client).send(new PutObjectCommand({
    Bucket: requireEnv(ENV.archiveBucket), Key: `${exportPrefix ?? `${record.tenantId}/`}rds-snapshot.json`, ContentType: 'application/json',
    Body: JSON.stringify({ tenantId: record.tenantId, accountId: record.accountId, instance, snapshot: archiveSnapshotId, sharedWith: platformConfig().platformAccountId }, null, 2),
  }));
}
