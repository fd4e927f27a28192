import type { BatchInputBlock } from './batch-file-ranges.js';
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Batch, BatchError, BatchRequestCounts } from 'openai/resources/batches';
import type { Role } from '../../../lib/identity/roles.js';
import { isTenantId } from '../../../lib/tenant-record.js';

/**
 * The purposes of the files this store keeps (openai FilePurpose): the Batch API's inputs the tenant uploads
 * (`batch`) and the outputs and errors the runner writes (`batch_output`); model input files the tenant uploads
 * and names by `file_id` in chat completions and the Responses API (`user_data`, `vision`: ../input-files.ts); the
 * files the tenant attaches to vector stores (`assistants`, as the SDKs' `vectorStores.files.upload` sends them: ../vector-stores/).
 * The names (BatchFile, BatchFileStore, the `batch-files/` key prefix) are the Batch API's, which came first: the
 * store holds the tenant's gateway files of every purpose but `fine-tune` (the fine-tuning Files API's own store).
 */
export type BatchFilePurpose = 'batch' | 'batch_output' | 'user_data' | 'vision' | 'assistants';

/** A file of the gateway's Files API (purposes BatchFilePurpose), without its bytes. */
export interface BatchFile {
  /** `file-` and 24 hex digits, time-ordered (files-service.ts newFileId). */
  id: string;
  filename: string;
  purpose: BatchFilePurpose;
  /** Size in bytes. */
  bytes: number;
  /** Seconds since the epoch. */
  createdAt: number;
  /**
   * Seconds since the epoch after which the file is not served (and is removed when read); null: kept until the tenant
   * deletes it, OpenAI's default for every purpose but `batch` (Files API reference, "Upload file", `expires_after`: "By
   * default, files with purpose=batch expire after 30 days and all other files are persisted until they are manually
   * deleted"). Records written before 0.2.0 always have a number.
   */
  expiresAt: number | null;
  /**
   * The upload's fingerprint (sdk-retry.ts uploadRequestHash: the uploading user, purpose, file name, content and
   * `expires_after`): an official client's retry of the upload is answered this file, not a second one.
   * @default - none (a `batch_output` file; an upload stored before 2026-12-06)
   */
  requestHash?: string;
}

/** Whether `file` has expired at `nowMs` (epoch ms): it has an `expiresAt` and it is past; a kept file (null) never. */
export const fileExpired = (file: Pick<BatchFile, 'expiresAt'>, nowMs: number) => typeof file.expiresAt === 'number' && file.expiresAt * 1000 <= nowMs;

/**
 * A tenant's gateway files (the Batch API's and model input files: BatchFilePurpose). Every method acts on one tenant's files only: another tenant's id is not found.
 * Implementations: DirBatchFileStore (`tessera serve`), S3BatchFileStore (AWS, the tenant bucket).
 */
export interface BatchFileStore {
  put(tenantId: string, file: BatchFile, content: Uint8Array): Promise<void>;
  /**
   * Stores a file whose bytes `write` puts at the object key and content type it is given (an upload's parts composed
   * in the store's own bucket: uploads-service.ts UploadedParts.composeTo), then its record; `write`'s error goes on
   * and nothing is stored. @default - not served: `put` with the bytes
   */
  putComposed?(tenantId: string, file: BatchFile, write: (target: { key: string; contentType: string }) => Promise<number>): Promise<void>;
  get(tenantId: string, id: string): Promise<BatchFile | undefined>;
  /** The tenant's files, oldest first. */
  list(tenantId: string): Promise<BatchFile[]>;
  /**
   * The bytes of the tenant's unexpired file `id`, or undefined.
   * @param known the file's record as the caller has just read it (get): not read again @default - read (get)
   */
  content(tenantId: string, id: string, known?: BatchFile): Promise<Uint8Array | undefined>;
  /**
   * A URL the caller reads `file`'s bytes from directly, for `expiresInSeconds` (on AWS a presigned S3 GET signed as the
   * tenant: a file too large for a Lambda's answer, file-content-redirect.ts MAX_INLINE_CONTENT_BYTES).
   * @param file the tenant's file, already found unexpired (`get`)
   * @default - not served: `files.content` answers the bytes (`tessera serve`)
   */
  contentUrl?(tenantId: string, file: BatchFile, expiresInSeconds: number): Promise<string>;
  /**
   * The bytes of the tenant's unexpired file `id` from byte `offset` to its end, as a stream (on AWS an S3 GetObject with
   * `Range: bytes=<offset>-`): batches.create and the worker's chunks read a batch input file in ranges through it
   * (batch-file-ranges.ts), never whole. A consumer that stops early (`break`) closes it.
   * @param known the file's record as the caller has just read it (get): not read again @default - read (get)
   * @returns undefined when there is no such file @default - not served: `content` reads the file whole
   */
  open?(tenantId: string, id: string, offset: number, known?: BatchFile): Promise<AsyncIterable<Uint8Array> | undefined>;
  /**
   * Starts file `id` written a piece at a time (`tessera serve`'s batch output and error files, written as each line
   * ends: runner.ts runBatch, output-file.ts BatchOutputFile); it is no file of the tenant's (get, list, content) until
   * AppendableFile.commit stores its record. @default - not served: the lines are kept and `put` whole at the end
   * @param resume with it, the bytes a stopped run wrote to file `id` are kept: each whole line (up to its last `\n`,
   *   without it) is handed to `resume` in order, a line cut by the stop is cut off, and appends go after them; a line
   *   `resume` answers `false` to (not one of the file's: bytes a failed write left, an edit by hand) is cut off with
   *   every line after it @default - the file is started empty
   */
  appendable?(tenantId: string, id: string, resume?: (line: string) => boolean | void): Promise<AppendableFile>;
  /** @returns whether there was such a file */
  delete(tenantId: string, id: string): Promise<boolean>;
}

/** A file being written a piece at a time (BatchFileStore.appendable). One `append` at a time (each awaited). */
export interface AppendableFile {
  /** Writes `text` (UTF-8) after what was written. */
  append(text: string): Promise<void>;
  /** The bytes written so far. */
  readonly bytes: number;
  /** Ends the writing and stores `file`'s record (its `bytes` those written): the file is then the tenant's. */
  commit(file: BatchFile): Promise<void>;
  /** Ends the writing and removes what was written (a file with no line: no record is stored). */
  discard(): Promise<void>;
  /**
   * Ends the writing and keeps what was written, with no record: a run that stops or fails before `commit` (serve
   * stopped mid-batch, a request that threw) leaves the bytes for the next `appendable` with `resume`. Nothing after
   * `commit`, `discard` or a first `close`. Every file is ended by one of the three: the store's file descriptor is
   * otherwise held until garbage collection closes it (Node's DEP0137 warning), and a long-running serve piles them up.
   */
  close(): Promise<void>;
}

/** The answers of one chunk of a batch (worker.ts), as JSON Lines of OpenAI's request output objects. */
export interface BatchPart {
  output: string;
  errors: string;
}

/**
 * Where the AWS worker keeps each chunk's answers until the batch ends and they become its output and error files
 * (S3BatchFileStore: `tenants/<tenantId>/batch-files/<batchId>/part-<cursor>`). A part is named by the cursor its
 * chunk started at (or, when that part is recorded, a free name above every cursor: worker.ts partNameOf): a chunk run
 * again (its lease expired) writes over the same part.
 */
export interface BatchPartStore {
  putPart(tenantId: string, batchId: string, cursor: number, part: BatchPart): Promise<void>;
  getPart(tenantId: string, batchId: string, cursor: number): Promise<BatchPart | undefined>;
  deleteParts(tenantId: string, batchId: string, cursors: readonly number[]): Promise<void>;
}

/** Whom a batch's requests run as: the caller that created it, re-checked before each request (BatchRunner). */
export interface BatchOwner {
  tenantId: string;
  userId: string;
  role: Role;
  /** The API key it authenticated with (`key_…`), if any. */
  keyId?: string;
}

/** A batch as stored: OpenAI's Batch object and who created it. */
export interface StoredBatch {
  batch: Batch;
  owner: BatchOwner;
  /** The output and error files' lifetime in seconds (`output_expires_after.seconds`). */
  outputTtlSeconds: number;
  /**
   * SHA-256 (hex) of the creating user and the create's body (sdk-retry.ts createRequestHash): an official client's retry
   * of that create is answered this batch (batch-service.ts). @default - absent on batches created before it was kept
   */
  requestHash?: string;
  /**
   * Where the blocks of the input file's requests start (batch-file-ranges.ts scanBatchFile), recorded by batches.create
   * where the file store reads in ranges (`open`, on AWS): each chunk then reads only its own lines' byte range.
   * @default - absent on `tessera serve` and on batches created before it was kept: a chunk reads the file whole
   */
  inputBlocks?: BatchInputBlock[];
  /**
   * The tags of the create's request (its `x-tessera-tags` header: request-tags.ts parseRequestTags), in the order sent,
   * each once: every request of the batch runs with them (runner.ts runLines → Gateway.batchRequest), so each line's
   * audit record carries them and its usage counts under them (`GET /v1/usage?group_by=tag`). Kept with the batch, so a
   * chunk of the AWS worker and a resumed `tessera serve` run its lines with them too. @default - none (a create without
   * tags, and batches created before they were kept)
   */
  tags?: string[];
  /** The AWS worker's progress through the input's lines (worker.ts runBatchChunk); absent on `tessera serve` and before the first chunk. */
  progress?: BatchProgress;
  /**
   * The ids of the output and error files `tessera serve` is writing as lines end (BatchFileStore.appendable), recorded
   * before the first answer is written and dropped when the batch ends (their records then stored): a serve stopped
   * mid-batch leaves them, and the next serve on its state dir keeps their answers and runs only the requests without
   * one (runner.ts runBatch). @default - absent on AWS, on a batch not begun, and on one that has ended
   */
  appending?: { output: string; error: string };
}

/** Sums of the answers' token usage (Batch.usage before it is written). */
export interface UsageSum {
  input: number;
  output: number;
  cached: number;
  reasoning: number;
}

/**
 * How far the AWS worker (worker.ts) has run a batch, written with the batch so that a chunk's claim and its record
 * are conditional on the batch's version (DynamoDbBatchStore.update).
 */
export interface BatchProgress {
  /** Lines before this index (0-based, of the input's request lines) have run and their answers are stored in parts, but those of `pending`. */
  cursor: number;
  /** Epoch ms until which the chunk claimed by `claim` holds the batch; 0 when no chunk does. */
  leaseUntil: number;
  /**
   * Chunks recorded so far: the next chunk's message carries it (BatchMessage.chunk), and only that message claims the
   * batch (a duplicate of an older one runs nothing, even when a chunk left the cursor where it was). @default 0
   */
  chunks?: number;
  /** The claim token of the chunk holding the lease. */
  claim?: string;
  /** Lines answered 2xx and otherwise so far. */
  completed: number;
  failed: number;
  usage: UsageSum;
  /** The names of the stored parts (answers of one chunk each): the cursors their chunks started at (worker.ts partNameOf), in order. */
  parts: number[];
  /** True from the record of a chunk until the message for the next (at `cursor`) was sent: any delivery of this batch's messages may then claim it. */
  unsent?: boolean;
  /**
   * Lines (0-based indexes, below `cursor`) started and not answered: they were waiting for a rate limit when their
   * chunk ended (runner.ts runLines). The next chunk runs them first. @default - none
   */
  pending?: number[];
  /** Epoch ms before which the lines of `pending` are not run again (the end of the window they wait for). @default - none: at once */
  retryAtMs?: number;
  /**
   * The most upstream throttles (429s) a line of `pending` has had in a row: the next chunk's backoff of those lines goes
   * on from there (line-retry.ts batchUpstreamWaitMs) rather than from 1 s again. @default 0
   */
  upstreamRetries?: number;
}

/** A tenant's batches. Every method acts on one tenant's batches only. DirBatchStore (`tessera serve`), DynamoDbBatchStore (AWS). */
export interface BatchStore {
  put(item: StoredBatch): Promise<void>;
  get(tenantId: string, id: string): Promise<StoredBatch | undefined>;
  /** The tenant's batches, newest first (ids are time-ordered). */
  list(tenantId: string): Promise<StoredBatch[]>;
  /**
   * Reads the batch, applies `change` and writes what it returns (nothing when it returns undefined), so that a
   * cancel and the runner's progress do not overwrite each other: serialized within a process (DirBatchStore),
   * conditional on the version read (DynamoDbBatchStore, retried).
   * @returns the batch as written, or as read when `change` wrote nothing; undefined when there is no such batch
   */
  update(tenantId: string, id: string, change: (current: StoredBatch) => StoredBatch | undefined): Promise<StoredBatch | undefined>;
}

const FILE_ID = /^file-[a-f0-9]{24}$/;
/** Whether `id` is a file id this gateway makes (`file-` and 24 hex digits, time-ordered). */
export const isBatchFileId = (id: string) => FILE_ID.test(id);
const BATCH_ID = /^batch_[a-f0-9]{24}$/;

/** Whether `id` is a batch id this gateway makes (`batch_` and 24 hex digits, time-ordered). */
export const isBatchId = (id: string) => BATCH_ID.test(id);
/** A new batch id: `batch_`, the creation time in ms (12 hex digits), 12 random hex digits. */
export const newBatchId = () => `batch_${Date.now().toString(16).padStart(12, '0')}${randomBytes(6).toString('hex')}`;
/** An empty request count. */
export const noCounts = (): BatchRequestCounts => ({ total: 0, completed: 0, failed: 0 });
export type { Batch, BatchError };

/** Writes `data` to `file` through a temporary file: readers see the whole file or none. */
async function writeWhole(file: string, data: string | Uint8Array): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, data);
  await rename(temp, file);
}

const readOrNone = async (file: string): Promise<Buffer | undefined> => {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
};

/**
 * Reads an open file from its start a chunk at a time, handing each whole line (without its `\n`) to `line`, until one
 * it answers `false` to.
 * @returns the bytes up to and with the last `\n` before that line, else before the end (what follows the last `\n`, a
 *   line cut by a stop, is not a line)
 */
async function keptLines(handle: FileHandle, line: (text: string) => boolean | void): Promise<number> {
  const chunk = Buffer.alloc(1024 * 1024);
  let held: Buffer[] = [];
  let position = 0;
  let whole = 0;
  for (;;) {
    const { bytesRead } = await handle.read(chunk, 0, chunk.byteLength, position);
    if (!bytesRead) return whole;
    const buf = chunk.subarray(0, bytesRead);
    let from = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, from)) {
      if (line(Buffer.concat([...held, buf.subarray(from, nl)]).toString('utf8')) === false) return whole;
      held = [];
      whole = position + nl + 1;
      from = nl + 1;
    }
    if (from < bytesRead) held.push(Buffer.from(buf.subarray(from)));
    position += bytesRead;
  }
}

/**
 * `tessera serve`'s batch files: `<dir>/<tenantId>/<fileId>.json` (the metadata) and `<fileId>.bin` (the bytes).
 * Shared by the worker threads of `serve --workers N`; ids and tenant ids that are not the gateway's name no file,
 * so a path from a request cannot leave the directory. An expired file is not served and is removed when read; a
 * file without `expiresAt` (null: kept until deleted) stays until `delete`.
 */
export class DirBatchFileStore implements BatchFileStore {
  constructor(private readonly dir: string, private readonly now: () => number = Date.now) {}

  private path(tenantId: string, id: string, ext: 'json' | 'bin') {
    return isTenantId(tenantId) && FILE_ID.test(id) ? join(this.dir, tenantId, `${id}.${ext}`) : undefined;
  }

  async put(tenantId: string, file: BatchFile, content: Uint8Array): Promise<void> {
    const meta = this.path(tenantId, file.id, 'json');
    if (!meta) throw new Error(`cannot store file ${file.id} of tenant ${tenantId}: not ids the gateway makes`);
    await mkdir(join(this.dir, tenantId), { recursive: true });
    await writeWhole(this.path(tenantId, file.id, 'bin')!, content);
    await writeWhole(meta, JSON.stringify(file));
  }

  async get(tenantId: string, id: string): Promise<BatchFile | undefined> {
    const meta = this.path(tenantId, id, 'json');
    const bytes = meta && (await readOrNone(meta));
    if (!bytes) return undefined;
    const file = JSON.parse(bytes.toString('utf8')) as BatchFile;
    if (fileExpired(file, this.now())) {
      await this.delete(tenantId, id);
      return undefined;
    }
    return file;
  }

  async list(tenantId: string): Promise<BatchFile[]> {
    if (!isTenantId(tenantId)) return [];
    const names = await readdir(join(this.dir, tenantId)).catch(() => [] as string[]);
    const ids = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
    return (await Promise.all(ids.map((id) => this.get(tenantId, id)))).filter((f): f is BatchFile => f !== undefined);
  }

  async content(tenantId: string, id: string, known?: BatchFile): Promise<Uint8Array | undefined> {
    if (known?.id !== id && !(await this.get(tenantId, id))) return undefined;
    const path = this.path(tenantId, id, 'bin');
    if (!path) return undefined;
    const bytes = await readOrNone(path);
    return bytes && new Uint8Array(bytes);
  }

  /**
   * The file's bytes from `offset` on, as a stream of the `.bin` file (`createReadStream` from `offset`: nothing is
   * held but the chunk being read), as the AWS store's ranged GetObject (batch-file-ranges.ts reads a batch's input
   * through it). An offset at or past the end is an empty stream. The caller owns the file's descriptor: it is closed
   * when the stream is read to its end or destroyed (a `for await` left by `break`, `return` or a throw destroys it);
   * a stream neither read out nor destroyed holds it until garbage collection (Node's DEP0137 warning).
   * @returns undefined when there is no such file
   */
  async open(tenantId: string, id: string, offset: number, known?: BatchFile): Promise<AsyncIterable<Uint8Array> | undefined> {
    if (!Number.isSafeInteger(offset) || offset < 0) return undefined;
    if (known?.id !== id && !(await this.get(tenantId, id))) return undefined;
    const path = this.path(tenantId, id, 'bin');
    if (!path) return undefined;
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    return handle.createReadStream({ start: offset, autoClose: true });
  }

  /**
   * The `.bin` of file `id` opened for writing (truncated; with `resume`, kept to its last whole line, each handed to
   * `resume`), its `.json` written by `commit`. A serve stopped before it leaves a `.bin` with no record, which no read
   * finds; the batch naming it (StoredBatch.appending) resumes it at the next serve's start.
   */
  async appendable(tenantId: string, id: string, resume?: (line: string) => boolean | void): Promise<AppendableFile> {
    const path = this.path(tenantId, id, 'bin');
    if (!path) throw new Error(`cannot store file ${id} of tenant ${tenantId}: not ids the gateway makes`);
    await mkdir(join(this.dir, tenantId), { recursive: true });
    // Resumed: read and write, created when the stopped run wrote nothing. Not `a+`: Linux ignores a write's position in
    // append mode, so the bytes a failed write left would stay before the next line instead of being written over.
    const handle = await open(path, resume ? fsConstants.O_RDWR | fsConstants.O_CREAT : 'w');
    let bytes = 0;
    if (resume) {
      try {
        bytes = await keptLines(handle, resume);
        await handle.truncate(bytes);
      } catch (e) {
        await handle.close();
        throw e;
      }
    }
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await handle.close();
    };
    return {
      append: async (text) => {
        const buf = Buffer.from(text);
        await handle.write(buf, 0, buf.byteLength, bytes);
        bytes += buf.byteLength;
      },
      get bytes() { return bytes; },
      commit: async (file) => {
        // Bytes a write that failed half-way left past the last whole append are not the file's.
        try {
          await handle.truncate(bytes);
        } finally {
          await close();
        }
        await writeWhole(this.path(tenantId, id, 'json')!, JSON.stringify({ ...file, bytes }));
      },
      discard: async () => {
        await close();
        await unlink(path).catch(() => undefined);
      },
      close,
    };
  }

  /**
   * The ids of the tenant's `.bin` files with no record (`.json`) last written before `beforeMs` (epoch ms): bytes a
   * stopped serve left (a `put` between its two writes, a batch's output or error file being written: appendable).
   */
  async unrecorded(tenantId: string, beforeMs: number): Promise<string[]> {
    if (!isTenantId(tenantId)) return [];
    const names = await readdir(join(this.dir, tenantId)).catch(() => [] as string[]);
    const out: string[] = [];
    for (const name of names) {
      const id = name.slice(0, -4);
      if (!name.endsWith('.bin') || !FILE_ID.test(id) || names.includes(`${id}.json`)) continue;
      const written = await stat(join(this.dir, tenantId, name)).then((s) => s.mtimeMs, () => undefined);
      if (written !== undefined && written < beforeMs) out.push(id);
    }
    return out.sort();
  }

  /** Removes the `.bin` of file `id` when it still has no record (unrecorded). */
  async removeUnrecorded(tenantId: string, id: string): Promise<void> {
    const bin = this.path(tenantId, id, 'bin');
    if (!bin || (await readOrNone(this.path(tenantId, id, 'json')!))) return;
    await unlink(bin).catch(() => undefined);
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const meta = this.path(tenantId, id, 'json');
    if (!meta) return false;
    let had = true;
    await unlink(meta).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') had = false; else throw e; });
    await unlink(this.path(tenantId, id, 'bin')!).catch(() => undefined);
    return had;
  }
}

/** `tessera serve`'s batches: `<dir>/<tenantId>/<batchId>.json`, shared by the worker threads of `serve --workers N`. */
export class DirBatchStore implements BatchStore {
  /** The last update of each batch in this process: the next one waits for it. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly dir: string) {}

  async update(tenantId: string, id: string, change: (current: StoredBatch) => StoredBatch | undefined): Promise<StoredBatch | undefined> {
    const key = `${tenantId}/${id}`;
    const run = (this.chains.get(key) ?? Promise.resolve()).catch(() => undefined).then(async () => {
      const current = await this.get(tenantId, id);
      if (!current) return undefined;
      const next = change(current);
      if (next) await this.put(next);
      return next ?? current;
    });
    this.chains.set(key, run);
    try {
      return await run;
    } finally {
      if (this.chains.get(key) === run) this.chains.delete(key);
    }
  }

  private path(tenantId: string, id: string) {
    return isTenantId(tenantId) && isBatchId(id) ? join(this.dir, tenantId, `${id}.json`) : undefined;
  }

  async put(item: StoredBatch): Promise<void> {
    const file = this.path(item.owner.tenantId, item.batch.id);
    if (!file) throw new Error(`cannot store batch ${item.batch.id} of tenant ${item.owner.tenantId}: not ids the gateway makes`);
    await mkdir(join(this.dir, item.owner.tenantId), { recursive: true });
    await writeWhole(file, JSON.stringify(item));
  }

  async get(tenantId: string, id: string): Promise<StoredBatch | undefined> {
    const file = this.path(tenantId, id);
    const bytes = file && (await readOrNone(file));
    return bytes ? (JSON.parse(bytes.toString('utf8')) as StoredBatch) : undefined;
  }

  async list(tenantId: string): Promise<StoredBatch[]> {
    if (!isTenantId(tenantId)) return [];
    const names = await readdir(join(this.dir, tenantId)).catch(() => [] as string[]);
    const ids = names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort().reverse();
    return (await Promise.all(ids.map((id) => this.get(tenantId, id)))).filter((b): b is StoredBatch => b !== undefined);
  }
  /** The ids of the tenants that have a batch in this store (a directory each), for `tessera serve`'s resume at start. */
  async tenantIds(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter(isTenantId).sort();
  }
}
