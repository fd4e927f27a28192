import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { pages } from '../../../lib/aws-pages.js';
import { fileKey, type FileLocation, type StoredFile, type TrainingFileStore } from './file-store.js';

/**
 * A tenant's Files API files in its own bucket (`training-data/files/<id>/<encoded filename>`),
 * encrypted with its key. The bucket is the only record: a file's size and name come from its
 * listing, its creation time from its id. Each call goes through `s3(at)`, a client acting as the
 * tenant's `training-files` role, which may touch only that prefix of that bucket
 * (constructs/training-policies.ts). `ExpectedBucketOwner` on every call: a bucket name that ever
 * pointed elsewhere is refused by S3 (403) instead of being written.
 */
export class S3FileStore implements TrainingFileStore {
  /**
   * @param prefix the files' prefix in the bucket (lib/fine-tuning.ts TRAINING_FILES_PREFIX)
   * @param s3 an S3 client acting as the tenant's files role for that location
   */
  constructor(private readonly prefix: string, private readonly s3: (at: FileLocation) => Promise<S3Client>) {}

  async put(at: FileLocation, file: { id: string; filename: string; content: Uint8Array }): Promise<StoredFile> {
    const key = fileKey(this.prefix, file.id, file.filename);
    await (await this.s3(at)).send(new PutObjectCommand({
      Bucket: at.bucket, Key: key, Body: file.content, ContentType: 'application/jsonl', ExpectedBucketOwner: at.accountId,
      // Named rather than left to the bucket's default: the bucket policy refuses any other key.
      ...(at.keyArn ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: at.keyArn, BucketKeyEnabled: true } : {}),
    }));
    return { id: file.id, filename: file.filename, bytes: file.content.byteLength, s3Uri: `s3://${at.bucket}/${key}` };
  }

  async get(at: FileLocation, id: string): Promise<StoredFile | undefined> {
    const answer = await (await this.s3(at)).send(new ListObjectsV2Command({ Bucket: at.bucket, Prefix: `${this.prefix}${id}/`, MaxKeys: 2, ExpectedBucketOwner: at.accountId }));
    return (answer.Contents ?? []).map((o) => this.file(at, o.Key, o.Size)).find((f) => f?.id === id);
  }

  async list(at: FileLocation): Promise<StoredFile[]> {
    const s3 = await this.s3(at);
    const files = new Map<string, StoredFile>();
    for await (const page of paginateListObjectsV2(pages(s3), { Bucket: at.bucket, Prefix: this.prefix, ExpectedBucketOwner: at.accountId })) {
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
      const answer = await (await this.s3(at)).send(new GetObjectCommand({ Bucket: at.bucket, Key: keyOf(at, file), ExpectedBucketOwner: at.accountId }));
      return answer.Body ? await answer.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey') return undefined; // deleted since it was listed
      throw e;
    }
  }

  async delete(at: FileLocation, file: StoredFile): Promise<void> {
    // The bucket is versioned: this adds a delete marker; the bytes stay as a noncurrent version until the bucket's noncurrent-version expiry.
    await (await this.s3(at)).send(new DeleteObjectCommand({ Bucket: at.bucket, Key: keyOf(at, file), ExpectedBucketOwner: at.accountId }));
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
