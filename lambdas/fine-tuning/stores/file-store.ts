import type { ContentCheck } from '../../shared/s3-compose.js';
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
  /**
   * Stores a file. `requestHash`: its upload's fingerprint (lambdas/inference/sdk-retry.ts uploadRequestHash), kept
   * beside it (S3: the object's user metadata `request-hash`) for requestHashOf.
   */
  put(at: FileLocation, file: { id: string; filename: string; content: Uint8Array; requestHash?: string }): Promise<StoredFile>;
  /** The fingerprint of the upload that stored a file `get` or `list` found (S3: HeadObject), or undefined (none kept, or gone). */
  requestHashOf(at: FileLocation, file: StoredFile): Promise<string | undefined>;
  get(at: FileLocation, id: string): Promise<StoredFile | undefined>;
  /** The tenant's files, oldest first (ids are time-ordered). */
  list(at: FileLocation): Promise<StoredFile[]>;
  /** The bytes of a file `get` or `list` found (no second lookup); undefined when it is gone since. */
  content(at: FileLocation, file: StoredFile): Promise<Uint8Array | undefined>;
  /**
   * The bytes of a file `get` or `list` found, in pieces as they are read (S3: the GetObject body's stream), for a reader
   * that may stop early without reading the rest (a job create counting the first examples: countExamples); undefined
   * when it is gone since.
   */
  contentPieces(at: FileLocation, file: StoredFile): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined>;
  /**
   * A URL the caller reads a file's bytes from directly (one `get` or `list` found), for `expiresInSeconds` (on AWS a
   * presigned S3 GET signed as the tenant's `training-files` role: a file too large for a Lambda's answer,
   * ../../inference/file-content-redirect.ts MAX_INLINE_CONTENT_BYTES).
   * @default - not served: `files.content` answers the bytes (`tessera serve`, the memory store)
   */
  contentUrl?(at: FileLocation, file: StoredFile, expiresInSeconds: number): Promise<string>;
  /** Deletes a file `get` or `list` found. */
  delete(at: FileLocation, file: StoredFile): Promise<void>;

  // OpenAI's Uploads API (lambdas/fine-tuning/uploads-service.ts): an upload's record and parts beside the files,
  // under `<prefix>uploads/<upload id>/` (uploadKey), in the same tenant's place and reached the same way.
  /**
   * Writes an upload's record only if it is still at version `expected` (null: only if there is none yet), in one
   * step: of two requests that read the same version, one writes and the other gets UploadChanged (S3: PutObject with
   * `IfMatch` / `IfNoneMatch: *`; memory: a compare-and-set in the one event loop).
   * @returns the record's new version
   * @throws UploadChanged when the record is not at `expected` (changed, written or removed since it was read)
   */
  putUpload(at: FileLocation, upload: StoredUpload, expected: string | null): Promise<string>;
  /** The upload `id` of this tenant and its version, or undefined (another tenant's id is not found). */
  getUpload(at: FileLocation, id: string): Promise<VersionedUpload | undefined>;
  /** Stores one part's bytes. */
  putPart(at: FileLocation, uploadId: string, partId: string, bytes: Uint8Array): Promise<void>;
  /** Removes one stored part (a part refused after it was stored); nothing when it is not there. */
  deletePart(at: FileLocation, uploadId: string, partId: string): Promise<void>;
  /** The sizes in bytes of the upload's stored parts, by part id. */
  partSizes(at: FileLocation, uploadId: string): Promise<Map<string, number>>;
  /** One stored part's bytes (partSizes listed it). */
  readPart(at: FileLocation, uploadId: string, partId: string): Promise<Uint8Array>;
  /** Removes the upload's stored parts (all of them). */
  deleteParts(at: FileLocation, uploadId: string): Promise<void>;
  /**
   * Removes the stored parts of every upload, of every tenant, whose record `lapsed` says ended (uploads-service.ts
   * partsLapsed: expired, or completed or cancelled with parts left behind); the records stay. For the stores nothing
   * else empties (`tessera serve`'s: dir-upload-store.ts, and the memory store of `serve --fine-tuning`); the S3 store
   * has none, its bucket's lifecycle rule removes what an upload left. With `records`, an upload's record goes too
   * (with its parts) once `records.lapsed` says so (uploads-service.ts recordLapsed: a day after its expiry), looked at
   * only where the record was last written before `records.writtenBeforeMs` (epoch ms).
   * @returns how many uploads' parts (or records and parts) were removed
   */
  sweepUploads?(lapsed: (upload: StoredUpload) => boolean, records?: { lapsed: (upload: StoredUpload) => boolean; writtenBeforeMs: number }): Promise<number>;
  /**
   * Writes a file from `pieces`, in order, without holding them all (S3: a multipart upload of parts of
   * S3_PART_BYTES). When `pieces` throws, nothing is stored (the multipart upload is aborted) and the error goes on.
   */
  putFromPieces(at: FileLocation, file: { id: string; filename: string }, pieces: AsyncIterable<Uint8Array>): Promise<StoredFile>;
  /**
   * Writes the file from the upload's stored parts `parts` (ids and sizes, in the file's order) without reading them
   * into memory, each byte read once, in order, through `check` (S3: a multipart upload composed of the parts,
   * s3-compose.ts composeObject). When `check` throws, nothing is stored and the error goes on.
   * @default - not served: the parts are read (readPart) and written with putFromPieces
   */
  putFromParts?(at: FileLocation, file: { id: string; filename: string }, uploadId: string, parts: ReadonlyArray<{ id: string; bytes: number }>, check: ContentCheck): Promise<StoredFile>;
  /**
   * Writes the upload's stored parts, as putFromParts, as the object `target.key` of the location's bucket (the
   * gateway's files: their store names the key). @returns the object's size in bytes @default - not served
   */
  composeParts?(at: FileLocation, uploadId: string, parts: ReadonlyArray<{ id: string; bytes: number }>, target: { key: string; contentType: string }, check: ContentCheck): Promise<number>;
}

/** A pending, completed or cancelled upload (OpenAI's Upload object, as stored). Times in seconds since the epoch. */
export interface StoredUpload {
  /** `upload_` and 24 hex digits (uploads-service.ts UPLOAD_ID). */
  id: string;
  /** The bytes the caller announced; the parts completed must add up to them. */
  bytes: number;
  filename: string;
  mimeType: string;
  purpose: string;
  createdAt: number;
  /** One hour after createdAt (OpenAI: "expires after an hour after you create it"). */
  expiresAt: number;
  /**
   * `completing`: a `complete` request holds it (uploads-service.ts) until `completingUntil`, then ends it as
   * `completed`, or back to `pending` when the parts are refused; a hold that ran out (its request died) counts as
   * `pending`.
   */
  status: 'pending' | 'completing' | 'completed' | 'cancelled';
  /** Until when (seconds since the epoch) the `complete` request that set status `completing` holds it. */
  completingUntil?: number;
  /** The file it completed into (status `completed`). */
  fileId?: string;
  /**
   * SHA-256 (hex) of the completing user and the complete's body as sent (lambdas/inference/sdk-retry.ts
   * createRequestHash; status `completed`): an official client's retry of that complete sends the same bytes and is
   * answered the completed upload; a complete with other part_ids or md5 is not that request's retry.
   * @default - none on an upload completed before 2026-12-06 (no retry is answered the upload)
   */
  completeHash?: string;
  /** A gateway purpose's upload (uploads-service.ts gatewayFiles): the file's lifetime in seconds from the create's `expires_after`. @default - the purpose's default */
  fileTtlSeconds?: number;
}

/** An upload's record and its version, which a conditional putUpload names (S3: the record object's ETag). */
export interface VersionedUpload {
  upload: StoredUpload;
  version: string;
}

/** putUpload's refusal: the record is not at the version named (another request changed it first). */
export class UploadChanged extends Error {
  override readonly name = 'UploadChanged';
}

/** Where an upload's record and parts live: `<prefix>uploads/<upload id>/` (inside the files' prefix, so the files role reaches them). */
export const uploadPrefix = (prefix: string, uploadId: string) => `${prefix}uploads/${uploadId}/`;

/** The object key of a file: `training-data/files/<id>/<filename, percent-encoded>` (lib/fine-tuning.ts TRAINING_FILES_PREFIX). */
export const fileKey = (prefix: string, id: string, filename: string) => `${prefix}${id}/${encodeURIComponent(filename)}`;

export class MemoryFileStore implements TrainingFileStore {
  private readonly files = new Map<string, { file: StoredFile; content: Uint8Array; requestHash?: string }>();
  private readonly uploads = new Map<string, VersionedUpload>();
  private versions = 0;
  private readonly parts = new Map<string, Map<string, Uint8Array>>();

  constructor(private readonly prefix: string) {}

  private key = (at: FileLocation, id: string) => `${at.accountId}/${at.bucket}/${id}`;

  async put(at: FileLocation, file: { id: string; filename: string; content: Uint8Array; requestHash?: string }): Promise<StoredFile> {
    const stored = { id: file.id, filename: file.filename, bytes: file.content.byteLength, s3Uri: `s3://${at.bucket}/${fileKey(this.prefix, file.id, file.filename)}` };
    this.files.set(this.key(at, file.id), { file: stored, content: new Uint8Array(file.content), requestHash: file.requestHash });
    return { ...stored };
  }

  async requestHashOf(at: FileLocation, file: StoredFile): Promise<string | undefined> {
    return this.files.get(this.key(at, file.id))?.requestHash;
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

  async contentPieces(at: FileLocation, file: StoredFile): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined> {
    const content = await this.content(at, file);
    return content && [content];
  }

  async delete(at: FileLocation, file: StoredFile): Promise<void> {
    this.files.delete(this.key(at, file.id));
  }

  async putUpload(at: FileLocation, upload: StoredUpload, expected: string | null): Promise<string> {
    // Read and written with no await between: one step in the event loop (tessera serve keeps these in one process).
    const key = this.key(at, upload.id);
    const current = this.uploads.get(key)?.version ?? null;
    if (current !== expected) throw new UploadChanged(`upload ${upload.id} is at version ${current}, not ${expected}`);
    const version = String(++this.versions);
    this.uploads.set(key, { upload: { ...upload }, version });
    return version;
  }

  async getUpload(at: FileLocation, id: string): Promise<VersionedUpload | undefined> {
    const found = this.uploads.get(this.key(at, id));
    return found && { upload: { ...found.upload }, version: found.version };
  }

  async deletePart(at: FileLocation, uploadId: string, partId: string): Promise<void> {
    this.parts.get(this.key(at, uploadId))?.delete(partId);
  }

  async putPart(at: FileLocation, uploadId: string, partId: string, bytes: Uint8Array): Promise<void> {
    const key = this.key(at, uploadId);
    if (!this.parts.has(key)) this.parts.set(key, new Map());
    this.parts.get(key)!.set(partId, new Uint8Array(bytes));
  }

  async partSizes(at: FileLocation, uploadId: string): Promise<Map<string, number>> {
    return new Map([...(this.parts.get(this.key(at, uploadId)) ?? [])].map(([id, bytes]) => [id, bytes.byteLength]));
  }

  async readPart(at: FileLocation, uploadId: string, partId: string): Promise<Uint8Array> {
    const bytes = this.parts.get(this.key(at, uploadId))?.get(partId);
    if (!bytes) throw new Error(`part ${partId} of upload ${uploadId} is gone`);
    return bytes;
  }

  async deleteParts(at: FileLocation, uploadId: string): Promise<void> {
    this.parts.delete(this.key(at, uploadId));
  }

  async sweepUploads(lapsed: (upload: StoredUpload) => boolean, records?: { lapsed: (upload: StoredUpload) => boolean }): Promise<number> {
    let swept = 0;
    for (const [key, { upload }] of this.uploads) {
      if (records?.lapsed(upload)) {
        this.uploads.delete(key);
        this.parts.delete(key);
        swept += 1;
      } else if (this.parts.has(key) && lapsed(upload)) {
        this.parts.delete(key);
        swept += 1;
      }
    }
    return swept;
  }

  async putFromPieces(at: FileLocation, file: { id: string; filename: string }, pieces: AsyncIterable<Uint8Array>): Promise<StoredFile> {
    const all: Uint8Array[] = [];
    for await (const piece of pieces) all.push(piece);
    return this.put(at, { ...file, content: Buffer.concat(all) });
  }
}
