/** One file of a tenant's Files API, as stored (lambdas/fine-tuning/files-service.ts). */
export interface StoredFile {
  /** `file-` and 24 hex digits (lib/fine-tuning.ts TRAINING_FILE_ID). */
  id: string;
  filename: string;
  /** Size in bytes. */
  bytes: number;
  /** Where a training job reads it: `s3://<tenant bucket>/training-data/files/<id>/<encoded filename>`. */
  s3Uri: string;
}

/** Where a tenant's files live: its bucket, in its account, reached as its `training-files` role. */
export interface FileLocation {
  tenantId: string;
  accountId: string;
  bucket: string;
  /** The tenant key objects are written with (SSE-KMS). @default - the bucket's default encryption */
  keyArn?: string;
}

/**
 * A tenant's uploaded fine-tuning files. Two implementations, one semantics: S3 (the tenant bucket,
 * Lambda and `tessera serve` with an S3 client) and memory (`tessera serve` without one).
 * Every method acts on one tenant's files only: a file id of another tenant is not found.
 */
export interface TrainingFileStore {
  put(at: FileLocation, file: { id: string; filename: string; content: Uint8Array }): Promise<StoredFile>;
  get(at: FileLocation, id: string): Promise<StoredFile | undefined>;
  /** The tenant's files, oldest first (ids are time-ordered). */
  list(at: FileLocation): Promise<StoredFile[]>;
  /** The bytes of a file `get` or `list` found (no second lookup); undefined when it is gone since. */
  content(at: FileLocation, file: StoredFile): Promise<Uint8Array | undefined>;
  /** Deletes a file `get` or `list` found. */
  delete(at: FileLocation, file: StoredFile): Promise<void>;
}

/** The object key of a file: `training-data/files/<id>/<filename, percent-encoded>` (lib/fine-tuning.ts TRAINING_FILES_PREFIX). */
export const fileKey = (prefix: string, id: string, filename: string) => `${prefix}${id}/${encodeURIComponent(filename)}`;

export class MemoryFileStore implements TrainingFileStore {
  private readonly files = new Map<string, { file: StoredFile; content: Uint8Array }>();

  constructor(private readonly prefix: string) {}

  private key = (at: FileLocation, id: string) => `${at.accountId}/${at.bucket}/${id}`;

  async put(at: FileLocation, file: { id: string; filename: string; content: Uint8Array }): Promise<StoredFile> {
    const stored = { id: file.id, filename: file.filename, bytes: file.content.byteLength, s3Uri: `s3://${at.bucket}/${fileKey(this.prefix, file.id, file.filename)}` };
    this.files.set(this.key(at, file.id), { file: stored, content: new Uint8Array(file.content) });
    return { ...stored };
  }

  async get(at: FileLocation, id: string): Promise<StoredFile | undefined> {
    const found = this.files.get(this.key(at, id));
    return found && { ...found.file };
  }

  async list(at: FileLocation): Promise<StoredFile[]> {
    const mine = `${at.accountId}/${at.bucket}/`;
    return [...this.files].filter(([k]) => k.startsWith(mine)).map(([, v]) => ({ ...v.file })).sort((a, b) => a.id.localeCompare(b.id));
  }

  async content(at: FileLocation, file: StoredFile): Promise<Uint8Array | undefined> {
    const found = this.files.get(this.key(at, file.id));
    return found && new Uint8Array(found.content);
  }

  async delete(at: FileLocation, file: StoredFile): Promise<void> {
    this.files.delete(this.key(at, file.id));
  }
}
