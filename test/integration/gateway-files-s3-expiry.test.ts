import { CreateBucketCommand, HeadObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchFileKey, keptFileKey, S3BatchFileStore } from '../../lambdas/inference/batches/s3-batch-file-store.js';
import type { BatchFile } from '../../lambdas/inference/batches/stores.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { createResponsesTable } from './support/gateway-tables.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

/**
 * The gateway's file store on AWS (S3BatchFileStore) against moto's S3 and DynamoDB, its clock moved on: a file kept
 * until deleted (`expiresAt` null: `user_data`, `vision`, `assistants` uploaded without `expires_after`, OpenAI's
 * default) has its bytes at `kept-files/<tenant>/<id>`, outside the bucket's expiring `tenants/` prefix, and a record
 * without the table's TTL attribute; it is read, listed and served 31 days later, until deleted. A `batch` file
 * (30 days) is under `tenants/<tenant>/batch-files/` and gone 31 days later, record and bytes removed when read.
 */
const TABLE = 'tessera-responses';
const BUCKET = 'tessera-batch-files';
const DAY_S = 86_400;
let moto: MotoServer;
let s3: S3Client;
/** The store's clock: the real time plus `skewS` seconds. */
let skewS = 0;
let store: S3BatchFileStore;
beforeAll(async () => {
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  await createResponsesTable(TABLE);
  s3 = new S3Client({ forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  store = new S3BatchFileStore(BUCKET, TABLE, async () => s3, unscopedDocumentClient(), () => Date.now() + skewS * 1000);
});
afterAll(async () => moto?.stop());

const now = () => Math.floor(Date.now() / 1000);
const exists = async (key: string, bucket = BUCKET) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
const record = async (id: string) => (await unscopedDocumentClient()('acme')).send(new GetCommand({ TableName: TABLE, Key: { tenantId: 'acme', responseId: id } })).then((o) => o.Item);
const file = (hex: string, purpose: BatchFile['purpose'], expiresAt: number | null): BatchFile => ({ id: `file-${hex.repeat(24)}`, filename: 'f.txt', purpose, bytes: 5, createdAt: now(), expiresAt });

describe('S3BatchFileStore: files kept until deleted and files that expire', () => {
  it('keeps a user_data, vision or assistants file without expiresAt past 31 days, outside the expiring prefix, until deleted; expires a batch file after its 30 days', async () => {
    skewS = 0;
    const kept = [file('a', 'user_data', null), file('b', 'vision', null), file('c', 'assistants', null)];
    for (const f of kept) await store.put('acme', f, new TextEncoder().encode('hello'));
    for (const f of kept) {
      expect(await exists(keptFileKey('acme', f.id)), f.purpose).toBe(true);
      expect(await exists(batchFileKey('acme', f.id)), f.purpose).toBe(false);
      const item = await record(f.id);
      expect(item, f.purpose).toBeDefined();
      expect(item, f.purpose).not.toHaveProperty('expiresAt');
    }

    skewS = 31 * DAY_S;
    for (const f of kept) {
      expect(await store.get('acme', f.id), f.purpose).toEqual(f);
      expect(Buffer.from((await store.content('acme', f.id))!).toString(), f.purpose).toBe('hello');
    }
    expect((await store.list('acme')).map((f) => f.id)).toEqual(expect.arrayContaining(kept.map((f) => f.id)));

    expect(await store.delete('acme', kept[0]!.id)).toBe(true);
    expect(await exists(keptFileKey('acme', kept[0]!.id))).toBe(false);
    expect(await record(kept[0]!.id)).toBeUndefined();
    for (const f of kept.slice(1)) await store.delete('acme', f.id);

    // A batch file, 30 days: gone at 31 days, its record and bytes removed when read.
    skewS = 0;
    const batch = file('d', 'batch', now() + 30 * DAY_S);
    await store.put('acme', batch, new TextEncoder().encode('{}\n'));
    expect(await exists(batchFileKey('acme', batch.id))).toBe(true);
    expect(await record(batch.id)).toMatchObject({ expiresAt: batch.expiresAt });
    skewS = 29 * DAY_S;
    expect(await store.get('acme', batch.id)).toEqual(batch);
    skewS = 31 * DAY_S;
    expect(await store.get('acme', batch.id)).toBeUndefined();
    expect(await record(batch.id)).toBeUndefined();
    expect(await exists(batchFileKey('acme', batch.id))).toBe(false);
    skewS = 0;
  });
});

describe('S3BatchFileStore: a file whose record cannot be written', () => {
  it('leaves no bytes behind: the failed create removes its object (a kept file\'s stayed until offboarding, and each retry stored it again)', async () => {
    // GIVEN a versioned bucket, as the deployed one (constructs/batch-work.ts), and a record write that fails: the
    // table is not there (moto answers ResourceNotFoundException, as DynamoDB does; a throttle or AccessDenied alike)
    const versioned = 'tessera-batch-files-versioned';
    await s3.send(new CreateBucketCommand({ Bucket: versioned }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }));
    const failing = new S3BatchFileStore(versioned, 'tessera-responses-missing', async () => s3, unscopedDocumentClient());
    for (const f of [file('e', 'user_data', null), file('f', 'batch', now() + 30 * DAY_S)]) {
      const key = f.expiresAt === null ? keptFileKey('acme', f.id) : batchFileKey('acme', f.id);
      // WHEN it is stored
      await expect(failing.put('acme', f, new TextEncoder().encode('hello'))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      // THEN the error goes on, and its bytes are not left behind: the key's latest version is a delete marker, so the
      // bucket's rule removes the bytes a day later (the old code left the object current: kept files for good)
      expect(await exists(key, versioned), f.purpose).toBe(false);
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: key }));
      expect(versions.DeleteMarkers?.find((m) => m.IsLatest), f.purpose).toMatchObject({ Key: key });
    }
  });
});
