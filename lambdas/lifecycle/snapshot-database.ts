import { CopyDBSnapshotCommand, CreateDBSnapshotCommand, DeleteDBSnapshotCommand, DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, paginateDescribeDBSnapshots, ModifyDBSnapshotAttributeCommand, RDSClient } from '@aws-sdk/client-rds';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { pages } from '../../lib/aws-pages.js';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, platformConfig, requireEnv } from '../shared/environment.js';
import { lifecycleHandler, logger } from '../shared/handler.js';
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
 * make a snapshot under it unreadable), share the copy with the platform account, note it in
 * the archive, and delete the final snapshot once its copy is `available` (under the tenant key, it
 * would be the tenant's data left behind and one more manual snapshot in RDS's quota). One phase per
 * invocation; the state machine waits between them. The archived copy is recorded in the registry
 * (`offboarding.databaseSnapshot`), then the final snapshot deleted and `sourceDeletedAt` recorded:
 * an offboarding resumed after a later step failed (the stack, and with it the instance, may be gone)
 * answers DONE at once, and one resumed between the two records finishes the delete. A COPY or
 * SNAPSHOT phase run again after the delete finds the final snapshot gone and goes on (no copy made
 * again). An instance that is gone with nothing recorded (an offboarding of an earlier version) is
 * looked up by its archived copy's name; with none, SnapshotMissing (terminal) says what to look for. A final snapshot an
 * earlier run made and never recorded (its Lambda died after CreateDBSnapshot went through, so the offboarding failed here,
 * or a later phase failed; DELETE resumes it) is taken up by the next first phase (unrecordedFinalSnapshot), not made again:
 * before, a second was made and the first left behind under the tenant key, in no record. Before the first
 * snapshot of an instance that exists, an account and Region without room for the two manual
 * snapshots an offboarding holds at once is refused (QuotaExceeded, terminal: manual-snapshot-quota.ts);
 * an instance already gone makes no snapshot and is not checked.
 */
export const handler = lifecycleHandler('Snapshot database', async (state: LifecycleState & { snapshot?: Partial<SnapshotProgress>; export?: Partial<ExportProgress> }): Promise<SnapshotProgress> => {
  const record = await requireTenant(state.request.tenantId);
  const instance = record.stackOutputs.DatabaseInstanceId;
  if (!instance) return { phase: 'DONE', done: true };
  const progress = state.snapshot as SnapshotProgress | undefined;
  // An offboarding resumed after a later step failed: the snapshot was archived already (and the
  // instance may be gone with the stack).
  const archived = record.offboarding?.databaseSnapshot;
  const done = (a: OffboardingDatabaseSnapshot): SnapshotProgress => ({ phase: 'DONE', snapshotId: a.snapshotId, archiveSnapshotId: a.archiveSnapshotId, done: true });
  if (!progress?.phase && archived?.instance === instance && archived.sourceDeletedAt) return done(archived);
  const session = () => tenantAccountCredentials(record.accountId!, record.tenantId, 'snapshot');
  // Recorded, its final snapshot not yet deleted: the run that recorded it ended before the delete (or an offboarding of
  // an earlier version kept it). The delete is finished here, nothing copied again; best effort, as before this step
  // answered at once: a refusal (the account retired by a later step, say) is logged and a later run tries again.
  if (!progress?.phase && archived?.instance === instance) {
    try {
      await deleteRecordedFinalSnapshot(clientWith(RDSClient, await session()), record, archived);
    } catch (e) {
      logger.warn('final snapshot of a recorded archive not deleted: a later run tries again', { tenantId: record.tenantId, snapshot: archived.snapshotId, error: e as Error });
    }
    return done(archived);
  }
  const rds = clientWith(RDSClient, await session());
  const available = async (id: string) => {
    const out = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
    return out.DBSnapshots?.[0]?.Status === 'available';
  };
  if (!progress?.phase) {
    // The instance gone (an offboarding of before this step recorded its snapshot, resumed after it deleted the stack):
    // no snapshot is made, so none needs room in the quota.
    if (await instanceGone(rds, instance)) return archivedBefore(rds, record, instance, state.export?.prefix);
    // A final snapshot an earlier run of this offboarding made and never recorded (its Lambda died after CreateDBSnapshot
    // went through, or a later phase failed): taken up, so none is made again and none is left behind under the tenant key.
    const earlier = await unrecordedFinalSnapshot(rds, record.tenantId, instance);
    if (earlier) return { phase: 'SNAPSHOT', snapshotId: earlier, done: false };
    // Room for the two manual snapshots an offboarding holds at once, before the first: none made yet (manual-snapshot-quota.ts).
    await requireManualSnapshotRoom(rds, { tenantId: record.tenantId, accountId: record.accountId! });
    const snapshotId = `tessera-${record.tenantId}-final-${Date.now()}`;
    try {
      await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: instance, DBSnapshotIdentifier: snapshotId, Tags: [{ Key: 'tessera:tenant-id', Value: record.tenantId }] }));
    } catch (e) {
      // DBSnapshotAlreadyExists for the name just made (milliseconds): the SDK sent CreateDBSnapshot again after the
      // answer of the first call, which took effect, was lost. That snapshot of this instance is this step's.
      if ((e as Error).name === 'DBSnapshotAlreadyExistsFault' && (await snapshotOf(rds, snapshotId)) === instance) return { phase: 'SNAPSHOT', snapshotId, done: false };
      // The instance deleted since DescribeDBInstances answered.
      if ((e as Error).name !== 'DBInstanceNotFoundFault') throw e;
      return archivedBefore(rds, record, instance, state.export?.prefix);
    }
    return { phase: 'SNAPSHOT', snapshotId, done: false };
  }
  if (progress.phase === 'SNAPSHOT') {
    const archiveSnapshotId = `${progress.snapshotId}-archive`;
    const source = await snapshotStatus(rds, progress.snapshotId!);
    // The final snapshot gone with its copy of this instance made: this step was run again after the COPY phase deleted
    // it. The COPY phase goes on with that copy; nothing is copied again.
    if (source === undefined && (await snapshotOf(rds, archiveSnapshotId)) === instance) return { ...progress, phase: 'COPY', archiveSnapshotId };
    if (source === undefined) throw new SnapshotMissingError(`the final snapshot ${progress.snapshotId} of database instance ${instance} (tenant ${record.tenantId}) no longer exists and it has no archived copy (${archiveSnapshotId}): someone deleted it while it was being made. Send DELETE again: a new offboarding snapshots the instance again`);
    if (source !== 'available') return progress;
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
    const recorded: OffboardingDatabaseSnapshot = { instance, snapshotId: progress.snapshotId!, archiveSnapshotId: progress.archiveSnapshotId!, archivedAt: new Date().toISOString() };
    // Recorded first (the copy is the record), then, only now the copy is available, the final snapshot under the tenant
    // key deleted (gone already on a re-run) and that recorded too.
    await deleteRecordedFinalSnapshot(rds, await recordSnapshot(record, recorded), recorded);
    return { ...progress, phase: 'DONE', done: true };
  }
  return progress;
});

/** Whether DB instance `instance` no longer exists (DescribeDBInstances: DBInstanceNotFoundFault). */
async function instanceGone(rds: RDSClient, instance: string): Promise<boolean> {
  try {
    await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance }));
    return false;
  } catch (e) {
    if ((e as Error).name === 'DBInstanceNotFoundFault') return true;
    throw e;
  }
}

/**
 * The instance is gone: an offboarding of before this step recorded its snapshot, resumed after it deleted the stack.
 * Its newest available archived copy is the tenant's final snapshot: shared and noted as the COPY phase would (both
 * idempotent: the copy may be an operator's), its final snapshot deleted when one is left, and recorded.
 * @throws SnapshotMissingError (terminal) when no archived copy is found
 */
async function archivedBefore(rds: RDSClient, record: TenantRecord, instance: string, exportPrefix: string | undefined): Promise<SnapshotProgress> {
  const found = await archivedFinalSnapshot(rds, record.tenantId, instance);
  if (!found) {
    throw new SnapshotMissingError(`database instance ${instance} of tenant ${record.tenantId} no longer exists and no archived final snapshot of it (tessera-${record.tenantId}-final-*-archive, available) was found: its data cannot be archived by this offboarding, which stays stopped here (the tenant OFFBOARDING, not served). If a snapshot of the instance exists (DescribeDBSnapshots --db-instance-identifier ${instance}: an automated, manual or CloudFormation one), copy it under the platform archive key to tessera-${record.tenantId}-final-<milliseconds>-archive in this account and send DELETE again: this step takes the newest available such copy`);
  }
  await shareAndNote(rds, record, instance, found, exportPrefix);
  const snapshotId = found.slice(0, -'-archive'.length);
  const recorded: OffboardingDatabaseSnapshot = { instance, snapshotId, archiveSnapshotId: found, archivedAt: new Date().toISOString() };
  await deleteRecordedFinalSnapshot(rds, await recordSnapshot(record, recorded), recorded);
  return { phase: 'DONE', snapshotId, archiveSnapshotId: found, done: true };
}

/**
 * Deletes the recorded final snapshot `archived.snapshotId` (its copy available) and records `sourceDeletedAt`;
 * a snapshot kept (AccessDenied: {@link deleteFinalSnapshot}) is recorded as it was.
 * @param record the tenant's record holding `archived`
 */
async function deleteRecordedFinalSnapshot(rds: RDSClient, record: TenantRecord, archived: OffboardingDatabaseSnapshot): Promise<void> {
  if (!(await deleteFinalSnapshot(rds, archived.snapshotId, record.tenantId))) return;
  await recordSnapshot(record, { ...archived, sourceDeletedAt: new Date().toISOString() });
}

/**
 * Deletes the offboarding's final snapshot `id` (under the tenant key), called once its archive-key copy is `available`.
 * Gone already (DBSnapshotNotFoundFault: a re-run after the delete) or being deleted (InvalidDBSnapshotStateFault with
 * the snapshot `deleting`) is done; RDS deletes only an `available` snapshot (DeleteDBSnapshot, API reference), so any
 * other refusal is thrown, but AccessDenied (a provisioning role not yet updated), which keeps it, logged.
 * @returns true when the snapshot is deleted or being deleted, false when it is kept (AccessDenied)
 */
async function deleteFinalSnapshot(rds: RDSClient, id: string, tenantId: string): Promise<boolean> {
  try {
    await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }));
    return true;
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'DBSnapshotNotFoundFault') return true;
    if (name === 'InvalidDBSnapshotStateFault' && ['deleting', undefined].includes(await snapshotStatus(rds, id))) return true;
    if (name !== 'AccessDenied' && name !== 'AccessDeniedException') throw e;
    // A provisioning role from before rds:DeleteDBSnapshot was granted (TesseraWorkloadProvisioning not yet updated:
    // docs/deploying.md, step 5): the snapshot is kept, as offboardings of earlier versions kept it, and logged.
    logger.warn('final snapshot kept: the provisioning role may not delete it (update the TesseraWorkloadProvisioning stack)', { tenantId, snapshot: id, error: e as Error });
    return false;
  }
}

/** The status of manual snapshot `id` (`creating`, `available`, `deleting`…; '' when RDS names none), or undefined when there is no such snapshot. */
async function snapshotStatus(rds: RDSClient, id: string): Promise<string | undefined> {
  try {
    return (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))).DBSnapshots?.[0]?.Status ?? '';
  } catch (e) {
    if ((e as Error).name === 'DBSnapshotNotFoundFault') return undefined;
    throw e;
  }
}

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
 * The newest final snapshot of `instance` (`tessera-<tenant>-final-<ms>`, which this step makes, under the tenant key) that
 * RDS still holds, neither `deleting` nor `failed`, or undefined. Tenant ids are never reused, so such a snapshot is one an
 * earlier run of this tenant's offboarding made: every snapshot phase records what it made in its answer, so one found
 * here was made by a run that died before it answered (a Lambda timeout after CreateDBSnapshot) or by a run whose later
 * phase failed before the copy was recorded (a recorded one is handled before this is asked). Its copy, when made, is
 * found by its name by the SNAPSHOT phase.
 */
async function unrecordedFinalSnapshot(rds: RDSClient, tenantId: string, instance: string): Promise<string | undefined> {
  const ours = new RegExp(`^tessera-${tenantId}-final-(\\d+)$`);
  let newest: { id: string; at: number } | undefined;
  for await (const page of paginateDescribeDBSnapshots(pages(rds), { DBInstanceIdentifier: instance, SnapshotType: 'manual' })) {
    for (const s of page.DBSnapshots ?? []) {
      const at = ours.exec(s.DBSnapshotIdentifier ?? '')?.[1];
      if (at && !['deleting', 'failed'].includes(s.Status ?? '') && (!newest || Number(at) > newest.at)) newest = { id: s.DBSnapshotIdentifier!, at: Number(at) };
    }
  }
  return newest?.id;
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
