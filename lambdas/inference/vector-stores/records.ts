import { randomBytes } from 'node:crypto';
import type { Role } from '../../../lib/identity/roles.js';
import { newTimeOrderedId } from '../../shared/time-ordered-id.js';

/**
 * The gateway's records of OpenAI's Vector Stores API (`/v1/vector_stores...`): one per vector store, one per file
 * attached to a store, one per file batch. What the answers count (file_counts, usage_bytes) is derived from the file
 * records when read, so no counter can drift from them. Kept through a RecordTable: DirRecordTable (`tessera serve`),
 * DynamoDbRecordTable (AWS). Every method acts on one tenant's records only: another tenant's id is not found.
 */

/** OpenAI's static chunking (StaticFileChunkingStrategy), in o200k tokens. */
export interface StaticChunking {
  max_chunk_size_tokens: number;
  chunk_overlap_tokens: number;
}

/** Who attached a file: its chunks are embedded as this caller (re-read by the gateway before each embedding call: Authorizer.callerOf). */
export interface VectorStoreOwner {
  tenantId: string;
  userId: string;
  role: Role;
  keyId?: string;
}

/** A vector store as kept. */
export interface StoredVectorStore {
  tenantId: string;
  /** `vs_` and 24 hex digits, time-ordered (newVectorStoreId). */
  id: string;
  name: string;
  description?: string;
  metadata: Record<string, string> | null;
  /** Seconds since the epoch. */
  createdAt: number;
  lastActiveAt: number;
  /** OpenAI's `expires_after` (anchor `last_active_at`): the store expires `days` after its last activity. */
  expiresAfterDays?: number;
  /** The catalog id of the embedding model its chunks are embedded with (gateway.vectorStores.embeddingModel when created). */
  embeddingModel: string;
  /** The embeddings' width, known from the first file embedded (the index is created then). */
  dimension?: number;
  /** Who created it. */
  owner: VectorStoreOwner;
}

/** The processing states of a vector store file (openai VectorStoreFile.status). */
export type VectorStoreFileStatus = 'in_progress' | 'completed' | 'cancelled' | 'failed';
/** Why a file failed (openai VectorStoreFile.LastError). */
export interface VectorStoreFileError {
  code: 'server_error' | 'unsupported_file' | 'invalid_file';
  message: string;
}

/** A file attached to a vector store. */
export interface StoredVectorStoreFile {
  tenantId: string;
  storeId: string;
  /** The Files API file's id (`file-…`): a vector store file's id is its file's. */
  fileId: string;
  filename: string;
  createdAt: number;
  status: VectorStoreFileStatus;
  lastError: VectorStoreFileError | null;
  /** Bytes of the file's text that were chunked (0 until completed). */
  usageBytes: number;
  attributes: Record<string, string | number | boolean> | null;
  chunking: StaticChunking;
  /**
   * The processing run the record is at (newRunId): a new one each time the file is attached again or its `attributes`
   * change, written with the versioned update that sets `in_progress`. A run writes its vectors under its own keys
   * (`<file id>#<run>#<n>`: processing.ts vectorKeys) and changes the record only while it is still the record's run;
   * one that finds another run there (superseded) removes its vectors and stops. Not part of OpenAI's answer.
   */
  run: string;
  /** Chunks (vectors `<file id>#<run>#0…n-1`) the run `run` wrote to the index (0 until completed). */
  chunks: number;
  /** The file batch it came with, if any. */
  batchId?: string;
  /** Who attached it: its chunks are embedded as this caller. */
  owner: VectorStoreOwner;
  /**
   * Set with `failed` when its work-queue message failed every receive and went to the dead-letter queue (AWS:
   * file-queue.ts); a redrive of that message then processes it again. Not part of OpenAI's answer. @default - not set
   */
  deadLettered?: true;
}

/** A file batch (`/v1/vector_stores/{id}/file_batches`): its files are the store's file records that carry its id. */
export interface StoredFileBatch {
  tenantId: string;
  storeId: string;
  /** `vsfb_` and 24 hex digits. */
  id: string;
  createdAt: number;
  fileIds: string[];
  /** Set by cancel: files not yet processed become `cancelled`. */
  cancelled: boolean;
}

const STORE_ID = /^vs_[a-f0-9]{24}$/;
const BATCH_ID = /^vsfb_[a-f0-9]{24}$/;
const FILE_ID = /^file-[a-f0-9]{24}$/;
/** A new vector store id: `vs_`, the creation time in ms (12 hex digits), 12 random hex digits. */
export const newVectorStoreId = () => newTimeOrderedId('vs_');
/** A new file batch id: `vsfb_` and 24 hex digits, time-ordered. */
export const newFileBatchId = () => newTimeOrderedId('vsfb_');
/** A new processing run id (StoredVectorStoreFile.run): 12 random hex digits. */
export const newRunId = () => randomBytes(6).toString('hex');
const RUN_ID = /^[a-f0-9]{12}$/;
export const isRunId = (id: string) => RUN_ID.test(id);
export const isVectorStoreId = (id: string) => STORE_ID.test(id);
export const isFileBatchId = (id: string) => BATCH_ID.test(id);
export const isFileId = (id: string) => FILE_ID.test(id);

/**
 * Where the records are kept: JSON bodies under sort keys within the tenant's partition, each with a version.
 * Keys: `<store id>` (the store), `<store id>#file#<file id>`, `<store id>#batch#<batch id>`.
 */
export interface RecordTable {
  /** The body and version under `key`, or undefined. */
  get(tenantId: string, key: string): Promise<{ body: string; version: number } | undefined>;
  /** The records whose keys start with `prefix`, in key order. */
  query(tenantId: string, prefix: string): Promise<Array<{ key: string; body: string }>>;
  /**
   * Writes `body` under `key` as version `version + 1` when the stored version is `version` (0: no record yet).
   * @throws VersionConflict when it is not
   */
  put(tenantId: string, key: string, body: string, version: number): Promise<void>;
  /** Removes the records under these keys; absent ones are not an error. */
  delete(tenantId: string, keys: string[]): Promise<void>;
}

/** A write whose expected version was not the stored one (another writer came in between). */
export class VersionConflict extends Error {
  constructor(key: string) {
    super(`record ${key} was written by another writer`);
    this.name = 'VersionConflict';
  }
}

/** The record key of a vector store file: `<store id>#file#<file id>`. */
export const fileKey = (storeId: string, fileId: string) => `${storeId}#file#${fileId}`;
const batchKey = (storeId: string, batchId: string) => `${storeId}#batch#${batchId}`;
/** Read-change-write attempts before an update gives up (each lost to another writer). */
const ATTEMPTS = 8;

/**
 * The typed records over a RecordTable, with versioned updates. Ids that are not the gateway's are not found (never
 * reach the table), so a request's id cannot name another key.
 */
export class VectorStoreRecords {
  constructor(private readonly table: RecordTable) {}

  private async read<T>(tenantId: string, key: string): Promise<{ item: T; version: number } | undefined> {
    const got = await this.table.get(tenantId, key);
    return got && { item: JSON.parse(got.body) as T, version: got.version };
  }

  private async update<T>(tenantId: string, key: string, change: (current: T) => T | undefined): Promise<T | undefined> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read<T>(tenantId, key);
      if (!current) return undefined;
      const next = change(current.item);
      if (!next) return current.item;
      try {
        await this.table.put(tenantId, key, JSON.stringify(next), current.version);
        return next;
      } catch (e) {
        if (!(e instanceof VersionConflict)) throw e;
      }
    }
    throw new Error(`${key} of tenant ${tenantId}: not updated after ${ATTEMPTS} attempts, each losing to another writer`);
  }

  /** Creates a store record. @throws VersionConflict when one exists under its id */
  async createStore(store: StoredVectorStore): Promise<void> {
    await this.table.put(store.tenantId, store.id, JSON.stringify(store), 0);
  }

  async getStore(tenantId: string, id: string): Promise<StoredVectorStore | undefined> {
    return isVectorStoreId(id) ? (await this.read<StoredVectorStore>(tenantId, id))?.item : undefined;
  }

  /** The tenant's stores, oldest first (ids are time-ordered). */
  async listStores(tenantId: string): Promise<StoredVectorStore[]> {
    return (await this.table.query(tenantId, 'vs_')).filter((r) => isVectorStoreId(r.key)).map((r) => JSON.parse(r.body) as StoredVectorStore);
  }

  updateStore(tenantId: string, id: string, change: (s: StoredVectorStore) => StoredVectorStore | undefined): Promise<StoredVectorStore | undefined> {
    return isVectorStoreId(id) ? this.update(tenantId, id, change) : Promise.resolve(undefined);
  }

  /** Removes the store's record, its files' and its batches'. @returns whether the store was there */
  async deleteStore(tenantId: string, id: string): Promise<boolean> {
    if (!(await this.getStore(tenantId, id))) return false;
    const files = await this.listFiles(tenantId, id);
    const batches = (await this.table.query(tenantId, `${id}#batch#`)).map((r) => (JSON.parse(r.body) as StoredFileBatch).id);
    await this.table.delete(tenantId, [...files.map((f) => fileKey(id, f.fileId)), ...batches.map((b) => batchKey(id, b))]);
    await this.table.delete(tenantId, [id]);
    return true;
  }

  /** Writes a file record (a file attached again is written over). @returns the record it replaced, if any */
  async putFile(file: StoredVectorStoreFile): Promise<StoredVectorStoreFile | undefined> {
    const key = fileKey(file.storeId, file.fileId);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.table.get(file.tenantId, key);
      try {
        await this.table.put(file.tenantId, key, JSON.stringify(file), current?.version ?? 0);
        return current && (JSON.parse(current.body) as StoredVectorStoreFile);
      } catch (e) {
        if (!(e instanceof VersionConflict)) throw e;
      }
    }
    throw new Error(`${key} of tenant ${file.tenantId}: not written after ${ATTEMPTS} attempts`);
  }

  async getFile(tenantId: string, storeId: string, fileId: string): Promise<StoredVectorStoreFile | undefined> {
    return isVectorStoreId(storeId) && isFileId(fileId) ? (await this.read<StoredVectorStoreFile>(tenantId, fileKey(storeId, fileId)))?.item : undefined;
  }

  /** The store's files, in file id order (oldest upload first). */
  async listFiles(tenantId: string, storeId: string): Promise<StoredVectorStoreFile[]> {
    return isVectorStoreId(storeId) ? (await this.table.query(tenantId, `${storeId}#file#`)).map((r) => JSON.parse(r.body) as StoredVectorStoreFile) : [];
  }

  updateFile(tenantId: string, storeId: string, fileId: string, change: (f: StoredVectorStoreFile) => StoredVectorStoreFile | undefined): Promise<StoredVectorStoreFile | undefined> {
    return isVectorStoreId(storeId) && isFileId(fileId) ? this.update(tenantId, fileKey(storeId, fileId), change) : Promise.resolve(undefined);
  }

  /** @returns whether the file was attached */
  async deleteFile(tenantId: string, storeId: string, fileId: string): Promise<boolean> {
    if (!(await this.getFile(tenantId, storeId, fileId))) return false;
    await this.table.delete(tenantId, [fileKey(storeId, fileId)]);
    return true;
  }

  async createBatch(batch: StoredFileBatch): Promise<void> {
    await this.table.put(batch.tenantId, batchKey(batch.storeId, batch.id), JSON.stringify(batch), 0);
  }

  async getBatch(tenantId: string, storeId: string, id: string): Promise<StoredFileBatch | undefined> {
    return isVectorStoreId(storeId) && isFileBatchId(id) ? (await this.read<StoredFileBatch>(tenantId, batchKey(storeId, id)))?.item : undefined;
  }

  updateBatch(tenantId: string, storeId: string, id: string, change: (b: StoredFileBatch) => StoredFileBatch | undefined): Promise<StoredFileBatch | undefined> {
    return isVectorStoreId(storeId) && isFileBatchId(id) ? this.update(tenantId, batchKey(storeId, id), change) : Promise.resolve(undefined);
  }
}
