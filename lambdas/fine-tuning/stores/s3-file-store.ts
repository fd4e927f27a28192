import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  paginateListObjectsV2, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { pages } from '../../../lib/aws-pages.js';
import { composeObject, type ContentCheck } from '../../shared/s3-compose.js';
import { presignedGetObjectUrl } from '../../shared/s3-presign.js';
import { fileKey, UploadChanged, uploadPrefix, type FileLocation, type StoredFile, type StoredUpload, type TrainingFileStore, type VersionedUpload } from './file-store.js';

/**
 * The part size of the multipart upload that assembles an upload's file: S3 takes parts of 5 MiB to 5 GiB but the
 * last (S3 User Guide, "Amazon S3 multipart upload limits"; CompleteMultipartUpload answers EntityTooSmall otherwise,
 * as moto does), so the gateway's own parts (at most 4 MiB on the deployed path) are gathered into parts of 8 MiB.
 * 10,000 parts of it hold 80 GiB, far over any upload taken.
 */
export const S3_PART_BYTES = 8 * 1024 * 1024;

/**
 * A tenant's Files API files in its own bucket (`training-data/files/<id>/<encoded filename>`),
 * encrypted with its key. The bucket is the only record: a file's size and name come from its
 * listing, its creation time from its id. Each call goes through `s3(at)`, a client acting as the
 * tenant's `training-files` role, which may touch only that prefix of that bucket
 * (constructs/training-policies.ts). `ExpectedBucketOwner` on every call: a bucket name that ever
 * pointed elsewhere is refused by S3 (403) instead of being written.
 */
/**
 * S3's ExpectedBucketOwner for `at`: its account (a tenant bucket in the tenant's account); none when the location names
 * no account (the gateway uploads' place in the platform's own batch files bucket: lambdas/inference/uploads/gateway-uploads.ts).
 */
const owner = (at: FileLocation): { ExpectedBucketOwner?: string } => (at.accountId ? { ExpectedBucketOwner: at.accountId } : {});

/** The user metadata key (`x-amz-meta-request-hash`) of a file's upload fingerprint (TrainingFileStore.requestHashOf). */
const REQUEST_HASH_METADATA = 'request-hash';

export class S3FileStore implements TrainingFileStore {
  /**
   * @param prefix the files' prefix in the bucket (lib/fine-tuning.ts TRAINING_FILES_PREFIX)
   * @param s3 an S3 client acting as the tenant's files role for that location
   */
  constructor(private readonly prefix: string, private readonly s3: (at: FileLocation) => Promise<S3Client>) {}

  async put(at: FileLocation, file: { id: string; filename: string; content: Uint8Array; requestHash?: string }): Promise<StoredFile> {
    const key = fileKey(this.prefix, file.id, file.filename);
    await this.putObject(at, key, file.content, 'application/jsonl', file.requestHash === undefined ? undefined : { [REQUEST_HASH_METADATA]: file.requestHash });
    return { id: file.id, filename: file.filename, bytes: file.content.byteLength, s3Uri: `s3://${at.bucket}/${key}` };
  }

  async requestHashOf(at: FileLocation, file: StoredFile): Promise<string | undefined> {
    try {
      const head = await (await this.s3(at)).send(new HeadObjectCommand({ Bucket: at.bucket, Key: fileKey(this.prefix, file.id, file.filename), ...owner(at) }));
      return head.Metadata?.[REQUEST_HASH_METADATA];
    } catch (e) {
      if ((e as Error).name === 'NotFound' || (e as Error).name === 'NoSuchKey') return undefined;
      throw e;
    }
  }

  private async putObject(at: FileLocation, key: string, body: Uint8Array | string, contentType: string, metadata?: Record<string, string>): Promise<void> {
    await (await this.s3(at)).send(new PutObjectCommand({ Bucket: at.bucket, Key: key, Body: body, ContentType: contentType, ...owner(at), ...(metadata ? { Metadata: metadata } : {}), ...encryption(at) }));
  }

  /**
   * The record `upload.json`, written with S3's conditional write: `IfMatch: <expected ETag>`, or `IfNoneMatch: *` for a
   * new record (Amazon S3 User Guide, "How to prevent object overwrites with conditional writes"). S3 answers 412
   * PreconditionFailed when the ETag differs or the key exists, 404 NoSuchKey when an IfMatch names a key that is gone,
   * and 409 ConditionalRequestConflict when another write to the key raced this one: each is UploadChanged.
   */
  async putUpload(at: FileLocation, upload: StoredUpload, expected: string | null): Promise<string> {
    try {
      const answer = await (await this.s3(at)).send(new PutObjectCommand({
        Bucket: at.bucket, Key: `${uploadPrefix(this.prefix, upload.id)}upload.json`, Body: JSON.stringify(upload), ContentType: 'application/json', ...owner(at),
        ...(expected === null ? { IfNoneMatch: '*' } : { IfMatch: expected }), ...encryption(at),
      }));
      return answer.ETag!;
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (['PreconditionFailed', 'ConditionalRequestConflict', 'NoSuchKey'].includes((e as Error).name) || status === 412 || status === 409) {
        throw new UploadChanged(`upload ${upload.id}: its record changed since it was read (${(e as Error).name})`);
      }
      throw e;
    }
  }

  async getUpload(at: FileLocation, id: string): Promise<VersionedUpload | undefined> {
    try {
      const answer = await (await this.s3(at)).send(new GetObjectCommand({ Bucket: at.bucket, Key: `${uploadPrefix(this.prefix, id)}upload.json`, ...owner(at) }));
      return { upload: JSON.parse(await answer.Body!.transformToString()) as StoredUpload, version: answer.ETag! };
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey') return undefined;
      throw e;
    }
  }

  async putPart(at: FileLocation, uploadId: string, partId: string, bytes: Uint8Array): Promise<void> {
    await this.putObject(at, `${uploadPrefix(this.prefix, uploadId)}parts/${partId}`, bytes, 'application/octet-stream');
  }

  async deletePart(at: FileLocation, uploadId: string, partId: string): Promise<void> {
    await (await this.s3(at)).send(new DeleteObjectCommand({ Bucket: at.bucket, Key: `${uploadPrefix(this.prefix, uploadId)}parts/${partId}`, ...owner(at) }));
  }

  async partSizes(at: FileLocation, uploadId: string): Promise<Map<string, number>> {
    const prefix = `${uploadPrefix(this.prefix, uploadId)}parts/`;
    const sizes = new Map<string, number>();
    for await (const page of paginateListObjectsV2(pages(await this.s3(at)), { Bucket: at.bucket, Prefix: prefix, ...owner(at) })) {
      for (const o of page.Contents ?? []) sizes.set(o.Key!.slice(prefix.length), o.Size ?? 0);
    }
    return sizes;
  }

  async readPart(at: FileLocation, uploadId: string, partId: string): Promise<Uint8Array> {
    const answer = await (await this.s3(at)).send(new GetObjectCommand({ Bucket: at.bucket, Key: `${uploadPrefix(this.prefix, uploadId)}parts/${partId}`, ...owner(at) }));
    return answer.Body ? await answer.Body.transformToByteArray() : new Uint8Array();
  }

  async deleteParts(at: FileLocation, uploadId: string): Promise<void> {
    const s3 = await this.s3(at);
    const keys = [...(await this.partSizes(at, uploadId)).keys()].map((id) => `${uploadPrefix(this.prefix, uploadId)}parts/${id}`);
    // DeleteObjects takes at most 1,000 keys a call (Amazon S3 API Reference, DeleteObjects). The bucket is versioned:
    // delete markers; the bytes stay noncurrent until the bucket's noncurrent-version expiry.
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: at.bucket, ...owner(at), Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
    }
  }

  async putFromPieces(at: FileLocation, file: { id: string; filename: string }, pieces: AsyncIterable<Uint8Array>): Promise<StoredFile> {
    const key = fileKey(this.prefix, file.id, file.filename);
    const s3 = await this.s3(at);
    let buffered: Uint8Array[] = [];
    let size = 0;
    let total = 0;
    let uploadId: string | undefined;
    const etags: Array<{ PartNumber: number; ETag: string }> = [];
    // One UploadPart in flight while the next pieces are read and checked.
    let inFlight: Promise<void> = Promise.resolve();
    const send = async (body: Buffer) => {
      uploadId ??= (await s3.send(new CreateMultipartUploadCommand({ Bucket: at.bucket, Key: key, ContentType: 'application/jsonl', ...owner(at), ...encryption(at) }))).UploadId!;
      const PartNumber = etags.length + 1;
      const slot = { PartNumber, ETag: '' };
      etags.push(slot);
      await inFlight;
      const id = uploadId;
      inFlight = s3.send(new UploadPartCommand({ Bucket: at.bucket, Key: key, UploadId: id, PartNumber, Body: body, ...owner(at) })).then((a) => { slot.ETag = a.ETag!; });
    };
    try {
      for await (const piece of pieces) {
        buffered.push(piece);
        size += piece.byteLength;
        total += piece.byteLength;
        if (size >= S3_PART_BYTES) {
          const body = Buffer.concat(buffered);
          buffered = [];
          size = 0;
          await send(body);
        }
      }
      if (uploadId === undefined) {
        await this.putObject(at, key, Buffer.concat(buffered), 'application/jsonl');
      } else {
        if (size > 0) await send(Buffer.concat(buffered));
        await inFlight;
        await s3.send(new CompleteMultipartUploadCommand({ Bucket: at.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: etags }, ...owner(at) }));
      }
    } catch (e) {
      await inFlight.catch(() => undefined);
      // Nothing of a refused file stays: the parts sent so far go with the multipart upload (the bucket's
      // abort-incomplete-uploads rule is the fallback when this call fails too).
      if (uploadId !== undefined) await s3.send(new AbortMultipartUploadCommand({ Bucket: at.bucket, Key: key, UploadId: uploadId, ...owner(at) })).catch(() => undefined);
      throw e;
    }
    return { id: file.id, filename: file.filename, bytes: total, s3Uri: `s3://${at.bucket}/${key}` };
  }

  /**
   * Writes the upload's parts `partIds` (of the sizes listed: partSizes), in that order, as the file `file` without
   * passing its bytes through memory (s3-compose.ts composeObject: UploadPartCopy of parts of 5 MiB or more, smaller ones
   * gathered into 5 MiB parts; every byte read once through `check`), encrypted with the tenant key. On a refusal of
   * `check` or an error nothing is stored (the multipart upload is aborted) and the error goes on.
   */
  async putFromParts(at: FileLocation, file: { id: string; filename: string }, uploadId: string, parts: ReadonlyArray<{ id: string; bytes: number }>, check: ContentCheck): Promise<StoredFile> {
    const key = fileKey(this.prefix, file.id, file.filename);
    const bytes = await this.composeParts(at, uploadId, parts, { key, contentType: 'application/jsonl' }, check);
    return { id: file.id, filename: file.filename, bytes, s3Uri: `s3://${at.bucket}/${key}` };
  }

  /**
   * Writes the upload's parts `parts` (ids and sizes, in the file's order) as the object `target.key` of `at.bucket`
   * (any key there: the gateway's files are keyed by their own store, batches/s3-batch-file-store.ts), as putFromParts.
   * @returns the object's size in bytes
   */
  async composeParts(at: FileLocation, uploadId: string, parts: ReadonlyArray<{ id: string; bytes: number }>, target: { key: string; contentType: string }, check: ContentCheck): Promise<number> {
    const sources = parts.map((p) => ({ key: `${uploadPrefix(this.prefix, uploadId)}parts/${p.id}`, bytes: p.bytes }));
    return composeObject(await this.s3(at), { bucket: at.bucket, key: target.key, create: { ContentType: target.contentType, ...encryption(at) }, expectedBucketOwner: owner(at).ExpectedBucketOwner }, sources, check);
  }

  async get(at: FileLocation, id: string): Promise<StoredFile | undefined> {
    const answer = await (await this.s3(at)).send(new ListObjectsV2Command({ Bucket: at.bucket, Prefix: `${this.prefix}${id}/`, MaxKeys: 2, ...owner(at) }));
    return (answer.Contents ?? []).map((o) => this.file(at, o.Key, o.Size)).find((f) => f?.id === id);
  }

  async list(at: FileLocation): Promise<StoredFile[]> {
    const s3 = await this.s3(at);
    const files = new Map<string, StoredFile>();
    for await (const page of paginateListObjectsV2(pages(s3), { Bucket: at.bucket, Prefix: this.prefix, ...owner(at) })) {
      for (const o of page.Contents ?? []) {
        const file = this.file(at, o.Key, o.Size);
        // One file per id: an object put into a file's folder by other means is not another file of that id
        // (keys come in order, so the one kept is the one get() finds).
        if (file && !files.has(file.id)) files.set(file.id, file);
      }
    }
    return [...files.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  async content(at: FileLocation, file: StoredFile): Promise<Uint8Array | undefined> {
    try {
      const answer = await (await this.s3(at)).send(new GetObjectCommand({ Bucket: at.bucket, Key: keyOf(at, file), ...owner(at) }));
      return answer.Body ? await answer.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey') return undefined; // deleted since it was listed
      throw e;
    }
  }

  async contentPieces(at: FileLocation, file: StoredFile): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined> {
    try {
      const answer = await (await this.s3(at)).send(new GetObjectCommand({ Bucket: at.bucket, Key: keyOf(at, file), ...owner(at) }));
      // In Node the body is a Readable: iterated, and destroyed (the connection released) when its reader stops early.
      return (answer.Body as AsyncIterable<Uint8Array> | undefined) ?? [];
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey') return undefined; // deleted since it was listed
      throw e;
    }
  }

  /**
   * A presigned GET of the file's object (../../shared/s3-presign.ts), signed with the tenant's session (`s3(at)`: its
   * `training-files` role, which reads only its own bucket's training data and decrypts with its own key), living
   * `expiresInSeconds`. The URL names no expected bucket owner (the presigner would hoist the header into the query):
   * the session that signs it reaches only the tenant's bucket.
   */
  async contentUrl(at: FileLocation, file: StoredFile, expiresInSeconds: number): Promise<string> {
    return presignedGetObjectUrl(await this.s3(at), { Bucket: at.bucket, Key: keyOf(at, file) }, expiresInSeconds);
  }

  async delete(at: FileLocation, file: StoredFile): Promise<void> {
    // The bucket is versioned: this adds a delete marker; the bytes stay as a noncurrent version until the bucket's noncurrent-version expiry.
    await (await this.s3(at)).send(new DeleteObjectCommand({ Bucket: at.bucket, Key: keyOf(at, file), ...owner(at) }));
  }

  /** The file an object key stands for, or undefined for any other object under the prefix. */
  private file(at: FileLocation, key: string | undefined, size: number | undefined): StoredFile | undefined {
    const m = key?.startsWith(this.prefix) ? /^(file-[a-f0-9]{24})\/([^/]+)$/.exec(key.slice(this.prefix.length)) : null;
    if (!m) return undefined;
    let filename: string;
    try {
      filename = decodeURIComponent(m[2]!);
    } catch {
      return undefined;
    }
    return { id: m[1]!, filename, bytes: size ?? 0, s3Uri: `s3://${at.bucket}/${key}` };
  }
}

/** A stored file's object key in its bucket (from its `s3://<bucket>/<key>` URI). */
const keyOf = (at: FileLocation, file: StoredFile) => file.s3Uri.slice(`s3://${at.bucket}/`.length);

/** SSE-KMS with the tenant key, named rather than left to the bucket's default: the bucket policy refuses any other key. */
const encryption = (at: FileLocation) => (at.keyArn ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: at.keyArn, BucketKeyEnabled: true } : {});
