import type { BatchFileStore } from '../batches/stores.js';
import type { OwnerRefusal } from '../owner-refusal.js';
import { chunkText } from './chunking.js';
import { chunkDigest, type EmbeddingProgress } from './embedding-progress.js';
import { fileText } from './file-text.js';
import type { StoredVectorStore, StoredVectorStoreFile, VectorStoreFileError, VectorStoreOwner, VectorStoreRecords } from './records.js';
import type { VectorIndex, VectorRecord } from './vector-index.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/**
 * Embeds texts with a store's model as a `/v1/embeddings` call of `owner` (Gateway.vectorStoreEmbeddings: the
 * owner's tenant (and key) read again, the tenant's routing, budget reservation and settle, one audit record).
 * @returns one vector per text, in order; or the refusal: the status and OpenAI error message answered, with its `code`
 *   and response `headers` (a 429's `retry-after`, `retry-after-ms`, `x-ratelimit-*`, `x-should-retry`: EmbeddingRefusal)
 */
export type EmbedTexts = (owner: VectorStoreOwner, model: string, texts: string[], detail: Record<string, string>) => Promise<{ vectors: number[][] } | EmbeddingRefusal>;

/**
 * An embeddings call that was refused: its HTTP status, OpenAI error message, and, when known, its error `type` and `code`
 * (an upstream OpenAI 429's own `type`, `requests` or `tokens`, as it sent it) and response headers.
 */
export interface EmbeddingRefusal {
  status: number;
  message: string;
  type?: string;
  code?: string;
  headers?: Record<string, string>;
  /**
   * Set when the refusal is of the file's owner itself (owner-refusal.ts checkOwner): its tenant suspended, offboarding,
   * offboarded or gone, or the key that attached it revoked, expired or deleted. No later embedding of the file, nor of
   * the other files of its file batch, can be served either. @default - the refusal is of this call only
   */
  ownerRefused?: OwnerRefusal;
}

/** What processing a vector store file needs. */
export interface ProcessingDeps {
  records: VectorStoreRecords;
  index: VectorIndex;
  files: BatchFileStore;
  embed: EmbedTexts;
  /**
   * Aborted when `tessera serve` stops (local-gateway.ts, the signal of its batch runs): the run makes no embeddings
   * call after it and stops without changing the file, which stays `in_progress` at its run, nothing written, for the
   * next serve to process again under a new run (resumeVectorStoreFiles). @default - never stops
   */
  stopping?: AbortSignal;
  /**
   * Where a run stopped by `stopping` keeps the embeddings it had made (`tessera serve`: embedding-progress.ts), and
   * where a run takes them at its start: the chunks at the start of the file whose text and model match are not
   * embedded again. @default - nothing kept: a resumed file is embedded from its first chunk
   */
  progress?: EmbeddingProgress;
}

/** Chunks sent in one embeddings call (OpenAI takes up to 2,048 inputs; 800-token chunks × 32 stay far from a request body limit). */
export const CHUNKS_PER_EMBEDDING_CALL = 32;

/**
 * Processes run `run` of one `in_progress` vector store file: reads its text (file-text.ts), chunks it (chunking.ts),
 * embeds the chunks (`embed`), writes them to the store's index as `<file id>#<run>#<n>` (vectorKeys) with the file's
 * attributes as filterable metadata, then sets the file `completed` with its `usage_bytes` (the text's UTF-8 bytes) and
 * `chunks`. A failure sets it `failed` with `last_error` (`unsupported_file`, `invalid_file`, `server_error`) and writes
 * no vector. A file (or store) gone, or no longer `in_progress` at `run`, is left as it is (a second start of one run,
 * a redelivered message, changes nothing). A run whose `deps.stopping` is aborted makes no more embeddings call and
 * leaves the file as it is (`in_progress`, no vector written), its embeddings kept in `deps.progress`; a run reuses
 * the embeddings kept there for the file's leading chunks of the same text and model, and embeds from the first after them.
 * The run is the file record's (StoredVectorStoreFile.run): every change this run makes to the record is conditional on
 * the record being still `in_progress` at `run`. A run superseded meanwhile (the file attached again, its attributes
 * updated, cancelled or detached) is found before each embedding call (so it stops paying for embeddings nobody will
 * read) and at the end; it removes the vectors it wrote (its own keys: never the newer run's) and stops without
 * marking the file.
 * An embedding refused because of the file's owner (EmbeddingRefusal.ownerRefused: the tenant suspended or offboarded,
 * the attaching key revoked, while the file ran) stops it: `failed` with `server_error` (OpenAI's LastError codes hold
 * no refusal's) and a message that leads with the refusal's code (`tenant_not_active: …`), never retried; the other
 * files of its file batch still `in_progress` fail the same way without an embeddings call (failBatchFiles), so a
 * suspended tenant's batch of 500 files is one refused (audited) call, not 500.
 * A failure that is not the file's own (a store, the index or the embedding model unreachable, an embedding refused
 * with 429 or 5xx, or answered malformed: not one vector of finite numbers per chunk, of the store's width: malformedEmbeddings) is handled as `options.transient` says.
 * @param run the run to process: the record's `run` when it was set `in_progress` (the work queue's message carries it)
 * @param options.transient `'fail'`: the file becomes `failed` with `server_error` and nothing is thrown (what went
 *   wrong is on the file record, or logged when even that write fails: `tessera serve`, which retries nothing);
 *   `'throw'`: the vectors written by this run are removed, the file stays `in_progress`, and the error is thrown for
 *   the caller to retry (the work queue's worker: file-queue.ts). @default 'fail'
 */
export async function processVectorStoreFile(deps: ProcessingDeps, tenantId: string, storeId: string, fileId: string, run: string, options: { transient?: 'fail' | 'throw' } = {}): Promise<void> {
  let written = 0;
  const ours = (f: StoredVectorStoreFile) => f.status === 'in_progress' && f.run === run;
  const removeWritten = () => (written ? deps.index.delete(tenantId, storeId, vectorKeys(fileId, run, written)) : Promise.resolve());
  const fail = async (error: VectorStoreFileError) => {
    await removeWritten().catch(() => undefined);
    await deps.records.updateFile(tenantId, storeId, fileId, (f) => (ours(f) ? { ...f, status: 'failed', lastError: error } : undefined));
  };
  try {
    const store = await deps.records.getStore(tenantId, storeId);
    const file = await deps.records.getFile(tenantId, storeId, fileId);
    if (!store || !file || !ours(file)) return;
    const bytes = await deps.files.content(tenantId, fileId);
    if (!bytes) return await fail({ code: 'invalid_file', message: `file ${fileId} no longer exists (deleted or expired)` });
    const read = fileText(file.filename, bytes);
    if ('error' in read) return await fail(read.error);
    const chunks = await chunkText(read.text, file.chunking);
    const records: VectorRecord[] = [];
    const vectorOf = (i: number, data: number[]): VectorRecord => ({ key: vectorKey(fileId, run, i), data, filterable: { ...(file.attributes ?? {}) }, text: chunks[i]!.text, run: runTag(fileId, run) });
    // The embeddings a stopped run of the file kept (serve's stop, below): the leading chunks of the same text and model are not embedded again.
    const kept = await deps.progress?.take(tenantId, storeId, fileId).catch(() => undefined);
    if (kept?.model === store.embeddingModel) {
      for (const [i, c] of kept.chunks.entries()) {
        if (i >= chunks.length || c.sha256 !== chunkDigest(chunks[i]!.text) || c.vector.length !== (store.dimension ?? kept.chunks[0]!.vector.length)) break;
        records.push(vectorOf(i, c.vector));
      }
    }
    for (let i = records.length; i < chunks.length; i += CHUNKS_PER_EMBEDDING_CALL) {
      // The serve is stopping: no more embeddings call; the file is left in_progress, nothing written, for the next serve;
      // the embeddings made are kept for its run (deps.progress), a failure to keep them only logged.
      if (deps.stopping?.aborted) {
        if (records.length && deps.progress) {
          await deps.progress.save(tenantId, storeId, fileId, { model: store.embeddingModel, chunks: records.map((r, j) => ({ sha256: chunkDigest(chunks[j]!.text), vector: r.data })) })
            .catch((e) => logger.error('vector store file embeddings not kept at the stop', { tenantId, storeId, fileId, run, error: (e as Error).message }));
        }
        return;
      }
      // Superseded (or gone) meanwhile: the newer run embeds the file; this one stops before paying for more.
      if (i > 0) {
        const now = await deps.records.getFile(tenantId, storeId, fileId);
        if (!now || !ours(now)) return;
      }
      const part = chunks.slice(i, i + CHUNKS_PER_EMBEDDING_CALL);
      const embedded = await deps.embed(file.owner, store.embeddingModel, part.map((c) => c.text), { vectorStoreId: storeId, fileId });
      if ('status' in embedded && embedded.ownerRefused) {
        const error = ownerRefusedError(embedded.ownerRefused);
        await fail(error);
        await failBatchFiles(deps, file, error);
        return;
      }
      if ('status' in embedded) {
        const message = `embedding with ${store.embeddingModel} was refused (${embedded.status}): ${embedded.message}`.slice(0, 1000);
        if (options.transient === 'throw' && (embedded.status === 429 || embedded.status >= 500)) throw new Error(message);
        return await fail({ code: 'server_error', message });
      }
      // The answer is checked here too (the gateway's embed checks the count): a vector missing or malformed would be written as no data.
      const malformed = malformedEmbeddings(embedded.vectors, part.length, store.dimension ?? records[0]?.data.length);
      if (malformed) {
        const message = `embedding with ${store.embeddingModel} answered ${malformed}; no chunk of the file was stored`.slice(0, 1000);
        if (options.transient === 'throw') throw new Error(message);
        return await fail({ code: 'server_error', message });
      }
      part.forEach((_, j) => records.push(vectorOf(i + j, embedded.vectors[j]!)));
    }
    const before = await deps.records.getFile(tenantId, storeId, fileId);
    if (!before || !ours(before)) return;
    if (records.length) {
      await ensureIndex(deps, store, records[0]!.data.length);
      // Counted before the put: a put that fails part way has written some of them (absent keys are no error to delete).
      written = records.length;
      await deps.index.put(tenantId, storeId, records);
    }
    const usageBytes = Buffer.byteLength(read.text);
    const done = await deps.records.updateFile(tenantId, storeId, fileId, (f) => (ours(f) ? { ...f, status: 'completed', lastError: null, usageBytes, chunks: records.length } : undefined));
    // Superseded, cancelled or detached while it ran: its vectors go; and the index, when the store was deleted meanwhile (ensureIndex may have made it again).
    if (!done && !(await deps.records.getStore(tenantId, storeId))) await deps.index.deleteIndex(tenantId, storeId);
    else if (!done || done.status !== 'completed' || done.run !== run) await removeWritten();
  } catch (e) {
    if (options.transient === 'throw') {
      await removeWritten().catch(() => undefined);
      throw e;
    }
    logger.error('vector store file processing failed', { tenantId, storeId, fileId, run, error: (e as Error).message });
    await fail({ code: 'server_error', message: `the file could not be processed: ${(e as Error).message}`.slice(0, 1000) })
      .catch((again) => logger.error('vector store file not marked failed', { tenantId, storeId, fileId, run, error: (again as Error).message }));
  }
}

/** A file's `last_error` when its owner was refused: `server_error`, the message leading with the refusal's code. */
export const ownerRefusedError = (refusal: OwnerRefusal): VectorStoreFileError =>
  ({ code: 'server_error', message: `${refusal.code}: ${refusal.message}; the file was not processed further`.slice(0, 1000) });

/**
 * Fails, with `error`, the files of `file`'s file batch still `in_progress` and attached by the same owner (their
 * runs, when they come, find them no longer `in_progress` and stop: a run in flight removes what it wrote). Nothing
 * for a file attached alone. A failed write is logged, never thrown.
 */
async function failBatchFiles(deps: Pick<ProcessingDeps, 'records'>, file: StoredVectorStoreFile, error: VectorStoreFileError): Promise<void> {
  if (!file.batchId) return;
  const { tenantId, storeId, batchId } = file;
  const sameOwner = (f: StoredVectorStoreFile) => f.owner.userId === file.owner.userId && f.owner.keyId === file.owner.keyId;
  try {
    for (const other of await deps.records.listFiles(tenantId, storeId)) {
      if (other.batchId !== batchId || other.fileId === file.fileId || other.status !== 'in_progress' || !sameOwner(other)) continue;
      await deps.records.updateFile(tenantId, storeId, other.fileId, (f) => (f.status === 'in_progress' && f.batchId === batchId && f.run === other.run ? { ...f, status: 'failed', lastError: error } : undefined));
    }
  } catch (e) {
    logger.error('vector store file batch not stopped after its owner was refused', { tenantId, storeId, batchId, error: (e as Error).message });
  }
}

/**
 * What is wrong with an embeddings answer for `count` texts, or undefined when it is one vector per text, each of the
 * same width (`width`, when known: the store's dimension or the file's first vector's) of finite numbers.
 * @returns a phrase such as `1 vector for 2 chunks` or `a vector of 3 values (chunk 4); the others have 1536`
 */
export function malformedEmbeddings(vectors: unknown, count: number, width?: number): string | undefined {
  if (!Array.isArray(vectors) || vectors.length !== count) return `${Array.isArray(vectors) ? vectors.length : 'no'} vector${Array.isArray(vectors) && vectors.length === 1 ? '' : 's'} for ${count} chunk${count === 1 ? '' : 's'}`;
  const expected = width ?? (Array.isArray(vectors[0]) ? (vectors[0] as unknown[]).length : undefined);
  for (let j = 0; j < vectors.length; j++) {
    const v: unknown = vectors[j];
    if (!Array.isArray(v) || !v.length || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) return `a vector that is not a list of finite numbers (answer item ${j})`;
    if (v.length !== expected) return `a vector of ${v.length} values (answer item ${j}); the store's embeddings have ${expected}`;
  }
  return undefined;
}

/** The vector key of chunk `n` of run `run` of a file: `<file id>#<run>#<n>` (S3 Vectors keys: 1-1,024 characters). */
export const vectorKey = (fileId: string, run: string, n: number) => `${fileId}#${run}#${n}`;
/** A run's tag on its vectors (VectorRecord.run), what a search leaves out: `<file id>#<run>`, its keys without the chunk number. */
export const runTag = (fileId: string, run: string) => `${fileId}#${run}`;
/** The vector keys of the `n` chunks run `run` of a file wrote. */
export const vectorKeys = (fileId: string, run: string, n: number) => Array.from({ length: n }, (_, i) => vectorKey(fileId, run, i));
/** The file id and run of a vector key (vectorKey), or undefined for a key that is not one. */
export function parseVectorKey(key: string): { fileId: string; run: string } | undefined {
  const [fileId, run, n, ...rest] = key.split('#');
  return fileId && run && n !== undefined && !rest.length ? { fileId, run } : undefined;
}

/** Creates the store's index at the embeddings' width on its first vectors, and records the width. */
async function ensureIndex(deps: ProcessingDeps, store: StoredVectorStore, dimension: number): Promise<void> {
  if (store.dimension !== undefined && store.dimension !== dimension) throw new Error(`the embeddings have ${dimension} values; the store's index has ${store.dimension}`);
  await deps.index.createIndex(store.tenantId, store.id, dimension);
  if (store.dimension === undefined) await deps.records.updateStore(store.tenantId, store.id, (s) => (s.dimension === undefined ? { ...s, dimension } : undefined));
}
