import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { clientWith, platformClient } from '../shared/aws-clients.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { tenantBreakGlassCredentials } from '../shared/sessions.js';
import type { LifecycleState } from './state.js';

export interface ExportProgress {
  prefix: string;
  objects: number;
  bytes: number;
  /** Where to continue on the next invocation; absent when every object is archived. */
  continuationToken?: string;
  done: boolean;
}

const BATCH = 200;

/**
 * Copies the tenant bucket into the admin archive (Object Lock, platform key) under
 * `<tenant>/<date>/s3/`, a batch per invocation so that no Lambda runs near its time limit; the
 * state machine loops until `done`. Objects are read through the tenant's break-glass role
 * (SourceIdentity tessera-offboarding-<tenant>), the only non-tenant principal the bucket admits.
 */
export const handler = lifecycleHandler('Export tenant data', async (state: LifecycleState & { export?: Partial<ExportProgress> }): Promise<ExportProgress> => {
  const record = await requireTenant(state.request.tenantId);
  const bucket = record.stackOutputs.BucketName;
  const archive = requireEnv(ENV.archiveBucket);
  const progress: ExportProgress = state.export?.prefix
    ? (state.export as ExportProgress)
    : { prefix: `${record.tenantId}/${new Date().toISOString().slice(0, 10)}/`, objects: 0, bytes: 0, done: false };
  if (!bucket) return { ...progress, done: true };

  const source = clientWith(S3Client, await tenantBreakGlassCredentials(record.accountId!, record.tenantId));
  const target = platformClient(S3Client);
  const page = await source.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: BATCH, ContinuationToken: progress.continuationToken }));
  let { objects, bytes } = progress;
  for (const object of page.Contents ?? []) {
    const body = await source.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
    const data = await body.Body!.transformToByteArray();
    await target.send(new PutObjectCommand({ Bucket: archive, Key: `${progress.prefix}s3/${object.Key}`, Body: data, ContentType: body.ContentType }));
    objects += 1;
    bytes += data.byteLength;
  }
  const done = !page.IsTruncated;
  if (done) {
    const manifest = { tenantId: record.tenantId, tier: record.tier, accountId: record.accountId, bucket, objects, bytes, exportedAt: new Date().toISOString() };
    await target.send(new PutObjectCommand({ Bucket: archive, Key: `${progress.prefix}manifest.json`, Body: JSON.stringify(manifest, null, 2), ContentType: 'application/json' }));
  }
  return { prefix: progress.prefix, objects, bytes, continuationToken: done ? undefined : page.NextContinuationToken, done };
});
