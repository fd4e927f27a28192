import { CopyDBSnapshotCommand, CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, ModifyDBSnapshotAttributeCommand, RDSClient } from '@aws-sdk/client-rds';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, platformConfig, requireEnv } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import type { ExportProgress } from './export-tenant-data.js';
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
 * the archive. One phase per invocation; the state machine waits between them.
 */
export const handler = lifecycleHandler('Snapshot database', async (state: LifecycleState & { snapshot?: Partial<SnapshotProgress>; export?: Partial<ExportProgress> }): Promise<SnapshotProgress> => {
  const record = await requireTenant(state.request.tenantId);
  const instance = record.stackOutputs.DatabaseInstanceId;
  if (!instance) return { phase: 'DONE', done: true };
  const rds = clientWith(RDSClient, await tenantAccountCredentials(record.accountId!, record.tenantId, 'snapshot'));
  const available = async (id: string) => {
    const out = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
    return out.DBSnapshots?.[0]?.Status === 'available';
  };
  const progress = state.snapshot as SnapshotProgress | undefined;
  if (!progress?.phase) {
    const snapshotId = `tessera-${record.tenantId}-final-${Date.now()}`;
    await rds.send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: instance, DBSnapshotIdentifier: snapshotId, Tags: [{ Key: 'tessera:tenant-id', Value: record.tenantId }] }));
    return { phase: 'SNAPSHOT', snapshotId, done: false };
  }
  if (progress.phase === 'SNAPSHOT') {
    if (!(await available(progress.snapshotId!))) return progress;
    const archiveSnapshotId = `${progress.snapshotId}-archive`;
    await rds.send(new CopyDBSnapshotCommand({
      SourceDBSnapshotIdentifier: progress.snapshotId, TargetDBSnapshotIdentifier: archiveSnapshotId, KmsKeyId: requireEnv(ENV.archiveKeyArn), CopyTags: true,
    }));
    return { ...progress, phase: 'COPY', archiveSnapshotId };
  }
  if (progress.phase === 'COPY') {
    if (!(await available(progress.archiveSnapshotId!))) return progress;
    await rds.send(new ModifyDBSnapshotAttributeCommand({
      DBSnapshotIdentifier: progress.archiveSnapshotId, AttributeName: 'restore', ValuesToAdd: [platformConfig().platformAccountId],
    }));
    const prefix = state.export?.prefix ?? `${record.tenantId}/`;
    await platformClient(S3Client).send(new PutObjectCommand({
      Bucket: requireEnv(ENV.archiveBucket), Key: `${prefix}rds-snapshot.json`, ContentType: 'application/json',
      Body: JSON.stringify({ tenantId: record.tenantId, accountId: record.accountId, instance, snapshot: progress.archiveSnapshotId, sharedWith: platformConfig().platformAccountId }, null, 2),
    }));
    return { ...progress, phase: 'DONE', done: true };
  }
  return progress;
});
