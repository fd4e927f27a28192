import { presignedGetObjectUrl } from '../../shared/s3-presign.js';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '../../../lib/tenant-record.js';
import type { TenantDocumentClient } from '../../shared/tenant-credentials.js';
import { fileExpired, isBatchFileId, isBatchId, type BatchFile, type BatchFileStore, type BatchPart, type BatchPartStore } from './stores.js';

/**
 * The S3 key of the content of a file that expires (its record has an `expires_at`: every `batch` and `batch_output`
 * file, and any file uploaded with `expires_after`): `tenants/<tenantId>/batch-files/<fileId>`, which the bucket's
 * lifecycle rule `expire-batch-files` removes after BATCH_FILES_EXPIRATION_DAYS (constructs/batch-work.ts).
 */
export const batchFileKey = (tenantId: string, fileId: string) => `tenants/${tenantId}/batch-files/${fileId}`;
/**
 * The prefix below which OpenAI's Uploads API keeps a tenant's uploads of the gateway's purposes (their records and
 * parts: `tenants/<tenantId>/batch-files/uploads/<upload id>/`, lambdas/inference/uploads/gateway-uploads.ts): inside the
 * tenant's expiring prefix, so the bucket's `expire-batch-files` rule removes what an abandoned upload left.
 */
export const gatewayUploadsPrefix = (tenantId: string) => `tenants/${tenantId}/batch-files/`;
/**
 * The S3 key of the content of a file kept until deleted (`expires_at` null: OpenAI's default for every purpose but
 * `batch`): `kept-files/<tenantId>/<fileId>`, outside `tenants/`, so that no lifecycle rule expires it
 * (constructs/batch-work.ts KEPT_FILES_ROOT); removed by the tenant's delete or by offboarding's erasure.
 */
export const keptFileKey = (tenantId: string, fileId: string) => `kept-files/${tenantId}/${fileId}`;
/** The S3 key of `file`'s content: keptFileKey when it has no `expiresAt`, batchFileKey otherwise. */
export const fileObjectKey = (tenantId: string, file: Pick<BatchFile, 'id' | 'expiresAt'>) => (typeof file.expiresAt === 'number' ? batchFileKey(tenantId, file.id) : keptFileKey(tenantId, file.id));
/** The S3 key of a worker chunk's answers: `tenants/<tenantId>/batch-files/<batchId>/part-<cursor, 6 digits>.json`. */
export const batchPartKey = (tenantId: string, batchId: string, cursor: number) => `tenants/${tenantId}/batch-files/${batchId}/part-${String(cursor).padStart(6, '0')}.json`;

const noSuchKey = (e: unknown) => e instanceof NoSuchKey || (e as Error).name === 'NoSuchKey';

/**
 * The gateway's files on AWS (the Batch API's and model input files: BatchFilePurpose): each file's record (OpenAI's FileObject fields) in the responses table
 * (GATEWAY_ENV.responsesTable) under sort key = the file id (`file-` and 24 hex digits, which no response `resp_…`,
 * conversation `conv_…` or batch `batch_…` key begins with), with the table's TTL attribute `expiresAt` (the file's
 * `expires_at`, epoch seconds; absent for a file kept until deleted, which TTL then never removes); its bytes in the
 * batch files bucket (GATEWAY_ENV.batchFilesBucket) at fileObjectKey: `tenants/<tenantId>/batch-files/<fileId>` for a
 * file that expires, `kept-files/<tenantId>/<fileId>` for one kept until deleted (outside the lifecycle rule's prefix).
 * Both through the tenant's clients (`docFor`, `s3For`: in the Lambdas sessions of the tenant-data role, which reach
 * only that tenant's items and keys). A file past `expires_at` is gone: not read, not listed, and removed (record and
 * bytes) when read; DynamoDB's TTL removes records nobody reads (the bucket's lifecycle rule the bytes). A kept file
 * stays until `delete` or offboarding's erasure (lambdas/lifecycle/erase-pooled-gateway-data.ts). The content is
 * written before the record: a file is listed only once its bytes are there. Also the worker's part store
 * (BatchPartStore), beside the expiring files in the same prefix.
 */
export class S3BatchFileStore implements BatchFileStore, BatchPartStore {
  constructor(
    private readonly bucket: string,
    private readonly table: string,
    private readonly s3For: (tenantId: string) => Promise<S3Client>,
    private readonly docFor: TenantDocumentClient,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Writes the bytes, then the record. When the record cannot be written the bytes are removed again (the error goes
   * on): without a record they are no file (not listed, read or deletable) and the client's retry stores them again
   * under a new id, so a file kept until deleted (`kept-files/`, which no lifecycle rule expires) stayed until the
   * tenant's offboarding. Should that removal fail too, its error is dropped for the record's (the caller's answer);
   * the bytes then stay as before.
   * @throws Error when the tenant or file id is not one the gateway makes
   */
  async put(tenantId: string, file: BatchFile, content: Uint8Array): Promise<void> {
    await this.putComposed(tenantId, file, async ({ key, contentType }) => {
      await (await this.s3For(tenantId)).send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: content, ContentType: contentType }));
      return content.byteLength;
    });
  }

  /**
   * As put, the bytes written by `write` at the file's key (fileObjectKey) in this store's bucket: an upload's parts
   * composed there (lambdas/fine-tuning/stores/s3-file-store.ts composeParts) without passing through memory. The
   * bucket's default encryption (the platform key, which its policy requires) applies to the object as to a PutObject.
   * @throws Error when the tenant or file id is not one the gateway makes; `write`'s error (nothing is stored)
   */
  async putComposed(tenantId: string, file: BatchFile, write: (target: { key: string; contentType: string }) => Promise<number>): Promise<void> {
    if (!isTenantId(tenantId) || !isBatchFileId(file.id)) throw new Error(`cannot store file ${file.id} of tenant ${tenantId}: not ids the gateway makes`);
    const key = fileObjectKey(tenantId, file);
    await write({ key, contentType: file.purpose === 'batch' || file.purpose === 'batch_output' ? 'application/jsonl' : 'application/octet-stream' });
    try {
      await (await this.docFor(tenantId)).send(new PutCommand({
        TableName: this.table, Item: { tenantId, responseId: file.id, kind: 'batch-file', file: JSON.stringify(file), ...(typeof file.expiresAt === 'number' ? { expiresAt: file.expiresAt } : {}) },
      }));
    } catch (e) {
      // The bucket is versioned: a delete marker, the bytes noncurrent until the bucket's noncurrent-version expiry (a day).
      await (await this.s3For(tenantId)).send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch(() => undefined);
      throw e;
    }
  }

  async get(tenantId: string, id: string): Promise<BatchFile | undefined> {
    if (!isTenantId(tenantId) || !isBatchFileId(id)) return undefined;
    const out = await (await this.docFor(tenantId)).send(new GetCommand({ TableName: this.table, Key: { tenantId, responseId: id }, ConsistentRead: true }));
    const file = this.fileOf(out.Item);
    if (!file) return undefined;
    if (this.expired(file)) {
      await this.delete(tenantId, id);
      return undefined;
    }
    return file;
  }

  /** The tenant's unexpired files, oldest first (ids are time-ordered): a Query of its `file-` sort keys, every page. */
  async list(tenantId: string): Promise<BatchFile[]> {
    if (!isTenantId(tenantId)) return [];
    const doc = await this.docFor(tenantId);
    const out: BatchFile[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'tenantId = :t AND begins_with(responseId, :p)',
        ExpressionAttributeValues: { ':t': tenantId, ':p': 'file-' }, ConsistentRead: true, ExclusiveStartKey: start,
      }));
      for (const i of page.Items ?? []) {
        const file = this.fileOf(i);
        if (file && !this.expired(file)) out.push(file);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async content(tenantId: string, id: string, known?: BatchFile): Promise<Uint8Array | undefined> {
    if (!isTenantId(tenantId) || !isBatchFileId(id)) return undefined;
    const file = known?.id === id ? known : await this.get(tenantId, id);
    if (!file) return undefined;
    return this.object(tenantId, fileObjectKey(tenantId, file));
  }

  /**
   * A presigned GET of the file's object (../../shared/s3-presign.ts), signed with the tenant's session (`s3For`: the
   * tenant-data role, which reads only that tenant's prefixes and decrypts only their objects), living `expiresInSeconds`.
   * @throws Error for a tenant or file id the gateway does not make (no URL for a key outside the tenant's prefixes)
   */
  async contentUrl(tenantId: string, file: BatchFile, expiresInSeconds: number): Promise<string> {
    if (!isTenantId(tenantId) || !isBatchFileId(file.id)) throw new Error(`no URL for file ${file.id} of tenant ${tenantId}: not ids the gateway makes`);
    return presignedGetObjectUrl(await this.s3For(tenantId), { Bucket: this.bucket, Key: fileObjectKey(tenantId, file) }, expiresInSeconds);
  }

  /**
   * The file's bytes from `offset` on: a GetObject with `Range: bytes=<offset>-` whose body streams (nothing is held
   * but the chunk being read). An offset at or past the end of a file (S3's 416 InvalidRange) is an empty stream.
   */
  async open(tenantId: string, id: string, offset: number, known?: BatchFile): Promise<AsyncIterable<Uint8Array> | undefined> {
    if (!isTenantId(tenantId) || !isBatchFileId(id) || !Number.isSafeInteger(offset) || offset < 0) return undefined;
    const file = known?.id === id ? known : await this.get(tenantId, id);
    if (!file) return undefined;
    if (offset >= file.bytes) return (async function* () {})();
    try {
      const out = await (await this.s3For(tenantId)).send(new GetObjectCommand({ Bucket: this.bucket, Key: fileObjectKey(tenantId, file), Range: `bytes=${offset}-` }));
      return (out.Body as AsyncIterable<Uint8Array> | undefined) ?? (async function* () {})();
    } catch (e) {
      if (noSuchKey(e)) return undefined;
      throw e;
    }
  }

  /**
   * Deletes the record, then the object its record names (fileObjectKey); both keys when there was no record (what a
   * delete stopped between the two left behind).
   * @returns whether there was such a file, unexpired
   */
  async delete(tenantId: string, id: string): Promise<boolean> {
    if (!isTenantId(tenantId) || !isBatchFileId(id)) return false;
    const out = await (await this.docFor(tenantId)).send(new DeleteCommand({ TableName: this.table, Key: { tenantId, responseId: id }, ReturnValues: 'ALL_OLD' }));
    const file = this.fileOf(out.Attributes);
    const s3 = await this.s3For(tenantId);
    for (const key of file ? [fileObjectKey(tenantId, file)] : [batchFileKey(tenantId, id), keptFileKey(tenantId, id)]) {
      await s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    }
    return Boolean(file && !this.expired(file));
  }

  async putPart(tenantId: string, batchId: string, cursor: number, part: BatchPart): Promise<void> {
    await (await this.s3For(tenantId)).send(new PutObjectCommand({ Bucket: this.bucket, Key: this.partKey(tenantId, batchId, cursor), Body: JSON.stringify(part), ContentType: 'application/json' }));
  }

  async getPart(tenantId: string, batchId: string, cursor: number): Promise<BatchPart | undefined> {
    const bytes = await this.object(tenantId, this.partKey(tenantId, batchId, cursor));
    return bytes && (JSON.parse(Buffer.from(bytes).toString('utf8')) as BatchPart);
  }

  async deleteParts(tenantId: string, batchId: string, cursors: readonly number[]): Promise<void> {
    const s3 = await this.s3For(tenantId);
    for (const cursor of cursors) await s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.partKey(tenantId, batchId, cursor) }));
  }

  private partKey(tenantId: string, batchId: string, cursor: number): string {
    if (!isTenantId(tenantId) || !isBatchId(batchId) || !Number.isSafeInteger(cursor) || cursor < 0) throw new Error(`no part ${cursor} of batch ${batchId} of tenant ${tenantId}: not ids the gateway makes`);
    return batchPartKey(tenantId, batchId, cursor);
  }

  private async object(tenantId: string, key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await (await this.s3For(tenantId)).send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      if (noSuchKey(e)) return undefined;
      throw e;
    }
  }

  private fileOf(item: Record<string, unknown> | undefined): BatchFile | undefined {
    return item && item.kind === 'batch-file' && typeof item.file === 'string' ? (JSON.parse(item.file) as BatchFile) : undefined;
  }

  private expired(file: BatchFile): boolean {
    return fileExpired(file, this.now());
  }
}
