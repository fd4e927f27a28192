import type { PlatformConfig } from '../../../lib/config/schema.js';
import { can } from '../../../lib/identity/roles.js';
import type { AuditRecord } from '../audit.js';
import type { Caller } from '../auth.js';
import type { BatchFileStore } from '../batches/stores.js';
import { propertyNameTooLong, refuse, refuseIntegerOutOfRange, stringLength, tooManyProperties, wrongType } from '../openai-issues.js';
import { GatewayError, invalid, notFound, permissionDenied, unknownParameter } from '../openai-errors.js';
import { shownKey } from '../../../lib/zod-issues.js';
import type { TenantPolicy } from '../policy.js';
import { cursorPage } from '../cursor-page.js';
import { checkMetadata } from '../metadata-check.js';
import { cursorQuery, integerQuery, refuseRepeatedQuery, refuseUnknownQuery } from '../query-parameters.js';
import { parseJson } from '../request-body.js';
import { RETRY_WINDOW_SECONDS } from '../sdk-retry.js';
import { DEFAULT_CHUNKING, parseChunking } from './chunking.js';
import { fileText } from './file-text.js';
import { checkFilter, matchesFilter } from './filters.js';
import { S3_VECTORS_LIMITS } from './local-index.js';
import { parseVectorKey, runTag, vectorKeys, type EmbedTexts } from './processing.js';
import {
  isFileBatchId, isFileId, isVectorStoreId, newFileBatchId, newRunId, newVectorStoreId,
  type StaticChunking, type StoredFileBatch, type VectorStoreOwner, type StoredVectorStore, type StoredVectorStoreFile, type VectorStoreRecords,
} from './records.js';
import { MAX_EXCLUDED_RUNS, RUN_METADATA_KEY, TEXT_METADATA_KEY, type VectorFilter, type VectorIndex } from './vector-index.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

/** What VectorStoreService needs. */
export interface VectorStoreServiceDeps {
  config: PlatformConfig;
  records: VectorStoreRecords;
  index: VectorIndex;
  /** The tenant's gateway files (the Files API's: batches/stores.ts), what `file_id` names. */
  files: BatchFileStore;
  embed: EmbedTexts;
  /**
   * Has an `in_progress` file processed off the request (`tessera serve`: in this process, processing.ts
   * processVectorStoreFile; AWS: a message on the vector store files' work queue, file-queue.ts). Awaited before the
   * answer; when it throws, the file is set `failed` with `last_error` and the error goes on (a 500).
   * @param run the file record's run (StoredVectorStoreFile.run) to process
   * @param batchId the file batch it came with @default - none
   */
  start(tenantId: string, storeId: string, fileId: string, run: string, batchId?: string): void | Promise<void>;
}

/** An answer: JSON text, and its own response headers (`openai-poll-after-ms` on a retrieve still in progress). */
export interface VectorStoreAnswer { status: number; body: string; headers?: Record<string, string> }

/**
 * `openai-poll-after-ms` (milliseconds) on the retrieve of a vector store file or file batch whose `status` is
 * `in_progress`: the wait the OpenAI SDKs' pollers (Node `vectorStores.files.createAndPoll`/`uploadAndPoll`/`poll`,
 * `fileBatches.createAndPoll`/`uploadAndPoll`/`poll`; Python's `*_and_poll`) take from the answer before the next
 * retrieve, unless the caller gave `pollIntervalMs`/`poll_interval_ms`. Without it Node waits 5,000 ms per retrieve
 * (openai 7.55 lib/polling.js) and Python 1,000 ms. 1,000: Python's own default, so both clients poll alike; a small
 * file is processed in well under a second, and a poller makes at most one retrieve a second (60 a minute against the
 * tenant's request rate).
 */
export const POLL_AFTER_MS = 1000;

/** A file or batch answer, with `openai-poll-after-ms` while it is `in_progress` (POLL_AFTER_MS). */
const polled = (body: { status: string }): VectorStoreAnswer => ({ ...json(body), ...(body.status === 'in_progress' ? { headers: { 'openai-poll-after-ms': String(POLL_AFTER_MS) } } : {}) });

/** The embedding model of new stores when the config names none (lib/config/default-config.ts's). */
export const DEFAULT_EMBEDDING_MODEL = 'openai/text-embedding-3-small';
/**
 * OpenAI's limits: metadata and attributes 16 pairs, keys of 64 characters, string values of 512; search
 * max_num_results 1-50; a file batch's `file_ids` or `files` at most 2,000 ("The maximum batch size is 2000 files":
 * the `openai` package's file-batches.d.ts, FileBatchCreateParams). A store's create names no per-call limit for its
 * `file_ids` (only one per store); the gateway holds it to the batch's 2,000, its own limit.
 */
export const LIMITS = { pairs: 16, key: 64, value: 512, maxResults: 50, defaultResults: 10, fileIds: 2000, nameChars: 256, listMax: 100, expiresDays: 365 } as const;
/** File purposes a vector store takes (OpenAI: `assistants`, what the SDKs' upload sends; the gateway's `user_data` too). */
export const VECTOR_STORE_FILE_PURPOSES = ['assistants', 'user_data'] as const;

const PATH = /^\/v1\/vector_stores(?:\/(?<store>[^/]+)(?:\/(?<sub>search|files|file_batches)(?:\/(?<item>[^/]+)(?:\/(?<action>content|cancel|files))?)?)?)?$/;
const now = () => Math.floor(Date.now() / 1000);
const json = (body: unknown, status = 200): VectorStoreAnswer => ({ status, body: JSON.stringify(body) });
const quoted = (value: unknown) => (JSON.stringify(value) ?? String(value)).slice(0, 200);

/**
 * OpenAI's Vector Stores API (`client.vectorStores...`, `client.vector_stores...`) per tenant: stores, their files
 * (the tenant's own Files API files, purpose `assistants` or `user_data`), file batches and search. Every route needs
 * `inference` (a store's files are embedded, and searched, as inference calls). Another tenant's ids are not found (404).
 */
export class VectorStoreService {
  constructor(private readonly deps: VectorStoreServiceDeps) {}

  /**
   * Answers one `/v1/vector_stores...` request.
   * @throws GatewayError 4xx in OpenAI's shape naming the field and the value
   */
  /**
   * One request to the Vector Stores API. `req.sdkRetry`: the official client's retry number (sdk-retry.ts sdkRetryOf),
   * for `POST /v1/vector_stores/{id}/files` (attach): a retry whose first attempt attached the file is answered that
   * file, not processed (chunked and embedded) again. @default - a first attempt
   */
  async handle(req: { method: string; path: string; query: Record<string, string | undefined>; repeatedQuery?: readonly string[]; body?: string; sdkRetry?: number }, caller: Caller, policy: TenantPolicy, audit: AuditRecord): Promise<VectorStoreAnswer> {
    const m = PATH.exec(req.path);
    if (!m) throw notFound(`no route ${req.method} ${req.path.slice(0, 200)}`, null, 'route_not_found');
    if (!can(caller.role, 'inference')) throw permissionDenied(caller.role, 'inference');
    const { store, sub, item, action } = m.groups ?? {};
    const shape = [store ? ':id' : '', sub ?? '', item ? ':item' : '', action ?? ''].filter(Boolean).join('/');
    const route = `${req.method} ${shape}`;
    audit.action = `vector_store.${ACTIONS[route] ?? 'unknown'}`;
    if (store) audit.detail = { ...audit.detail, vectorStoreId: store.slice(0, 100) };
    refuseRepeatedQuery(req.repeatedQuery);
    const listQuery = ['limit', 'order', 'after', 'before'];
    refuseUnknownQuery(req.query, route === 'GET ' || route === 'GET :id/files' || route === 'GET :id/file_batches/:item/files' ? [...listQuery, ...(shape === '' ? [] : ['filter'])] : [], `${req.method} ${req.path.slice(0, 200)}`);
    const t = caller.tenantId;
    switch (route) {
      case 'POST ': return this.create(req.body, caller, policy, audit);
      case 'GET ': return json(page(await this.storesOf(t), (s) => s.id, (s) => s.id, (id) => id, req.query));
      case 'GET :id': return json(await this.answerStore(await this.store(t, store!)));
      case 'POST :id': return this.update(t, store!, req.body);
      case 'DELETE :id': return this.remove(t, store!);
      case 'POST :id/search': return this.search(caller, store!, req.body, audit);
      case 'POST :id/files': return this.attach(caller, store!, req.body, audit, req.sdkRetry);
      case 'GET :id/files': return this.listFiles(t, store!, req.query, undefined);
      case 'GET :id/files/:item': return polled(answerFile(await this.file(t, store!, item!)));
      case 'POST :id/files/:item': return this.updateFile(caller, store!, item!, req.body);
      case 'DELETE :id/files/:item': return this.detach(t, store!, item!);
      case 'GET :id/files/:item/content': return this.content(t, store!, item!);
      case 'POST :id/file_batches': return this.createBatch(caller, store!, req.body, audit);
      case 'GET :id/file_batches/:item': return polled(await this.answerBatch(await this.batch(t, store!, item!)));
      case 'POST :id/file_batches/:item/cancel': return this.cancelBatch(t, store!, item!);
      case 'GET :id/file_batches/:item/files': await this.batch(t, store!, item!); return this.listFiles(t, store!, req.query, item!);
      default: throw new GatewayError(405, `${req.method} is not supported on ${req.path.slice(0, 200)}`, 'invalid_request_error', 'method_not_allowed');
    }
  }

  private async storesOf(tenantId: string): Promise<Array<ReturnType<typeof answerStoreOf>>> {
    const stores = await this.deps.records.listStores(tenantId);
    return Promise.all(stores.map((s) => this.answerStore(s)));
  }

  private async store(tenantId: string, id: string): Promise<StoredVectorStore> {
    const s = await this.deps.records.getStore(tenantId, id);
    if (!s) throw notFound(`No vector store found with id ${quoted(id)}`, 'vector_store_id', 'vector_store_not_found');
    return s;
  }

  /** The store, refused when expired (its files and search are not served then, as OpenAI's). */
  private async activeStore(tenantId: string, id: string): Promise<StoredVectorStore> {
    const s = await this.store(tenantId, id);
    const expires = expiresAt(s);
    if (expires !== null && expires <= now()) throw invalid(`vector store ${id} expired at ${new Date(expires * 1000).toISOString()} (expires_after: ${s.expiresAfterDays} days after last_active_at); create a new one`, 'vector_store_id', 'vector_store_expired');
    return s;
  }

  private async answerStore(s: StoredVectorStore) {
    return answerStoreOf(s, await this.deps.records.listFiles(s.tenantId, s.id));
  }

  private async create(raw: string | undefined, caller: Caller, policy: TenantPolicy, audit: AuditRecord): Promise<VectorStoreAnswer> {
    const b = objectBody(raw, ['name', 'description', 'metadata', 'expires_after', 'file_ids', 'chunking_strategy'], 'POST /v1/vector_stores');
    const chunking = parseChunking(b.chunking_strategy);
    const fileIds = fileIdList(b.file_ids, 'file_ids');
    refuseRepeatedFiles(fileIds, (i) => `file_ids[${i}]`);
    const model = this.deps.config.gateway.vectorStores?.embeddingModel ?? DEFAULT_EMBEDDING_MODEL;
    if (policy.models.get(model)?.kind !== 'embedding') {
      throw invalid(`vector stores embed with ${quoted(model)} (the platform's gateway.vectorStores.embeddingModel), which is not an embedding model your tenant may call; ask the platform team`, null, 'embedding_model_not_available');
    }
    // Every file is checked before anything is written.
    const files = await atMost(ATTACH_CONCURRENCY, fileIds, (id, i) => this.attachable(caller.tenantId, id, `file_ids[${i}]`));
    const created = now();
    const store: StoredVectorStore = {
      tenantId: caller.tenantId, id: newVectorStoreId(), name: optionalString(b.name, 'name', LIMITS.nameChars) ?? '', metadata: checkMetadata(b.metadata),
      createdAt: created, lastActiveAt: created, embeddingModel: model,
      owner: ownerOf(caller),
    };
    const description = optionalString(b.description, 'description', 512);
    if (description !== undefined) store.description = description;
    const days = expiresAfterDays(b.expires_after);
    if (days) store.expiresAfterDays = days;
    await this.deps.records.createStore(store);
    audit.detail = { ...audit.detail, vectorStoreId: store.id, embeddingModel: model };
    await atMost(ATTACH_CONCURRENCY, files, (f) => this.addFile(store.owner, store, f, null, chunking));
    return json(await this.answerStore(store));
  }

  private async update(tenantId: string, id: string, raw: string | undefined): Promise<VectorStoreAnswer> {
    const b = objectBody(raw, ['name', 'metadata', 'expires_after'], 'POST /v1/vector_stores/{vector_store_id}');
    await this.store(tenantId, id);
    const name = b.name === null ? undefined : optionalString(b.name, 'name', LIMITS.nameChars);
    const metadata = b.metadata === undefined ? undefined : checkMetadata(b.metadata);
    const days = b.expires_after === undefined ? undefined : b.expires_after === null ? null : expiresAfterDays(b.expires_after);
    const updated = await this.deps.records.updateStore(tenantId, id, (s) => {
      const next = { ...s };
      if (name !== undefined) next.name = name;
      if (metadata !== undefined) next.metadata = metadata;
      if (days === null) delete next.expiresAfterDays;
      else if (days !== undefined) next.expiresAfterDays = days;
      return next;
    });
    if (!updated) throw notFound(`No vector store found with id ${quoted(id)}`, 'vector_store_id', 'vector_store_not_found');
    return json(await this.answerStore(updated));
  }

  private async remove(tenantId: string, id: string): Promise<VectorStoreAnswer> {
    await this.store(tenantId, id);
    // Records first: a file still processing then finds its store gone and deletes the index it may have created again (processing.ts).
    await this.deps.records.deleteStore(tenantId, id);
    await this.deps.index.deleteIndex(tenantId, id);
    return json({ id, object: 'vector_store.deleted', deleted: true });
  }

  /** A file the tenant may attach: its own, unexpired, of a purpose vector stores take. @throws 404 naming `field`, 400 for its purpose */
  private async attachable(tenantId: string, id: unknown, field: string) {
    if (typeof id !== 'string') throw invalid(`${field} must be a file id (file-...)`, field, 'invalid_type');
    const file = isFileId(id) ? await this.deps.files.get(tenantId, id) : undefined;
    if (!file) throw notFound(`${field}: No such File object: ${id.slice(0, 100)}`, field, 'file_not_found');
    if (!(VECTOR_STORE_FILE_PURPOSES as readonly string[]).includes(file.purpose)) {
      throw invalid(`${field}: file ${id} has purpose "${file.purpose}"; a vector store takes files uploaded with purpose "assistants" or "user_data"`, field, 'invalid_value');
    }
    return file;
  }

  private async addFile(owner: VectorStoreOwner, store: StoredVectorStore, file: { id: string; filename: string }, attributes: Record<string, string | number | boolean> | null, chunking: StaticChunking, batchId?: string): Promise<StoredVectorStoreFile> {
    const record: StoredVectorStoreFile = {
      tenantId: store.tenantId, storeId: store.id, fileId: file.id, filename: file.filename, createdAt: now(), status: 'in_progress', lastError: null,
      usageBytes: 0, attributes, chunking, run: newRunId(), chunks: 0, owner, ...(batchId ? { batchId } : {}),
    };
    // A new run: one of the replaced record still going finds itself superseded and removes its own vectors; a completed one's are removed here.
    const replaced = await this.deps.records.putFile(record);
    if (replaced?.chunks) await this.deps.index.delete(store.tenantId, store.id, vectorKeys(file.id, replaced.run, replaced.chunks));
    return (await this.start(store.tenantId, store.id, file.id, record.run, batchId)) ?? record;
  }

  /** deps.start; when it throws, the file is left `failed` with `last_error` (nothing would process it) and the error goes on. @returns the failed record then */
  private async start(tenantId: string, storeId: string, fileId: string, run: string, batchId?: string): Promise<StoredVectorStoreFile | undefined> {
    try {
      await this.deps.start(tenantId, storeId, fileId, run, batchId);
      return undefined;
    } catch (e) {
      const lastError = { code: 'server_error' as const, message: `the file could not be queued for processing: ${(e as Error).message}`.slice(0, 1000) };
      await this.deps.records.updateFile(tenantId, storeId, fileId, (f) => (f.status === 'in_progress' && f.run === run ? { ...f, status: 'failed', lastError } : undefined))
        .catch((again) => logger.error('vector store file not marked failed', { tenantId, storeId, fileId, error: (again as Error).message }));
      throw e;
    }
  }

  private async touch(tenantId: string, id: string): Promise<void> {
    await this.deps.records.updateStore(tenantId, id, (s) => (s.lastActiveAt === now() ? undefined : { ...s, lastActiveAt: now() }));
  }

  private async attach(caller: Caller, storeId: string, raw: string | undefined, audit: AuditRecord, sdkRetry: number | undefined): Promise<VectorStoreAnswer> {
    const tenantId = caller.tenantId;
    const b = objectBody(raw, ['file_id', 'attributes', 'chunking_strategy'], 'POST /v1/vector_stores/{vector_store_id}/files');
    const store = await this.activeStore(tenantId, storeId);
    if (b.file_id === undefined) throw invalid('file_id is required', 'file_id', 'missing_required_parameter');
    const attributes = checkAttributes(b.attributes, 'attributes');
    const chunking = parseChunking(b.chunking_strategy);
    const file = await this.attachable(tenantId, b.file_id, 'file_id');
    audit.detail = { ...audit.detail, fileId: file.id };
    // An official client's retry of an attach whose first attempt attached the file (its answer lost: a reset
    // connection, the client's own timeout) is answered that file, as the first attempt would have been: the retry
    // started a new run, the file chunked and embedded (and billed) again, the first run's work thrown away. Only
    // the same user's attach with the same attributes and chunking, within RETRY_WINDOW_SECONDS, not failed or cancelled.
    if (sdkRetry !== undefined) {
      const first = await this.deps.records.getFile(tenantId, storeId, file.id);
      if (first && first.batchId === undefined && first.owner.userId === caller.userId && first.createdAt >= now() - RETRY_WINDOW_SECONDS
        && first.status !== 'failed' && first.status !== 'cancelled'
        && JSON.stringify(first.attributes) === JSON.stringify(attributes) && JSON.stringify(first.chunking) === JSON.stringify(chunking)) {
        audit.detail = { ...audit.detail, retryOf: file.id };
        return json(answerFile(first));
      }
    }
    const record = await this.addFile(ownerOf(caller), store, file, attributes, chunking);
    await this.touch(tenantId, storeId);
    return json(answerFile(record));
  }

  private async file(tenantId: string, storeId: string, fileId: string): Promise<StoredVectorStoreFile> {
    await this.store(tenantId, storeId);
    const f = await this.deps.records.getFile(tenantId, storeId, fileId);
    if (!f) throw notFound(`No file found with id ${quoted(fileId)} in vector store ${storeId}`, 'file_id', 'file_not_found');
    return f;
  }

  private async updateFile(caller: Caller, storeId: string, fileId: string, raw: string | undefined): Promise<VectorStoreAnswer> {
    const tenantId = caller.tenantId;
    const b = objectBody(raw, ['attributes'], 'POST /v1/vector_stores/{vector_store_id}/files/{file_id}');
    if (!('attributes' in b)) throw invalid('attributes is required (an object, or null to clear them)', 'attributes', 'missing_required_parameter');
    const attributes = checkAttributes(b.attributes, 'attributes');
    await this.file(tenantId, storeId, fileId);
    // A completed file keeps its run and vectors: OpenAI's attributes update changes what filters match, and the file
    // stays searchable with them (API reference, "Update vector store file attributes"); its chunks' filterable metadata
    // is rewritten before the answer (setAttributesOf), so a search right after filters by the new ones. A file not
    // completed (a run going, which read the old ones; failed; cancelled) is processed again with the new ones, as a new
    // run (a run still going finds itself superseded and removes its own vectors).
    let replaced: StoredVectorStoreFile | undefined;
    const updated = await this.deps.records.updateFile(tenantId, storeId, fileId, (c) => {
      replaced = c;
      if (c.status === 'completed') return { ...c, attributes };
      const { deadLettered: _processedAgain, ...kept } = c;
      return { ...kept, attributes, owner: ownerOf(caller), status: 'in_progress' as const, lastError: null, run: newRunId(), chunks: 0 };
    });
    if (!updated) throw notFound(`No file found with id ${quoted(fileId)} in vector store ${storeId}`, 'file_id', 'file_not_found');
    if (updated.status === 'completed') return json(answerFile(await this.setAttributesOf(updated)));
    if (replaced?.chunks) await this.deps.index.delete(tenantId, storeId, vectorKeys(fileId, replaced.run, replaced.chunks));
    return json(answerFile((await this.start(tenantId, storeId, fileId, updated.run, updated.batchId)) ?? updated));
  }

  /**
   * Rewrites the filterable metadata of a completed file's vectors (its run's `chunks`) to its record's attributes, then
   * reads the record again: an update that wrote other attributes meanwhile (two updates at once, whose rewrites may
   * interleave) is written again, up to ATTRIBUTE_REWRITES times; a file no longer completed at that run (attached again,
   * detached) is left to its new run. A search checks each chunk's filter against the record's attributes too
   * (searchStore), so a vector whose metadata lags its record is never answered under attributes it no longer has.
   * @returns the record as last read (the answer of the update)
   */
  private async setAttributesOf(file: StoredVectorStoreFile): Promise<StoredVectorStoreFile> {
    let current = file;
    for (let i = 0; i < ATTRIBUTE_REWRITES; i++) {
      const written = current.attributes;
      await this.deps.index.setFilterable(file.tenantId, file.storeId, vectorKeys(file.fileId, current.run, current.chunks), { ...(written ?? {}) });
      const again = await this.deps.records.getFile(file.tenantId, file.storeId, file.fileId);
      if (!again || again.status !== 'completed' || again.run !== current.run) return again ?? current;
      current = again;
      if (JSON.stringify(again.attributes) === JSON.stringify(written)) break;
    }
    return current;
  }

  private async detach(tenantId: string, storeId: string, fileId: string): Promise<VectorStoreAnswer> {
    const f = await this.file(tenantId, storeId, fileId);
    await this.deps.records.deleteFile(tenantId, storeId, fileId);
    if (f.chunks) await this.deps.index.delete(tenantId, storeId, vectorKeys(fileId, f.run, f.chunks));
    return json({ id: fileId, object: 'vector_store.file.deleted', deleted: true });
  }

  private async content(tenantId: string, storeId: string, fileId: string): Promise<VectorStoreAnswer> {
    const f = await this.file(tenantId, storeId, fileId);
    const bytes = await this.deps.files.content(tenantId, fileId);
    const read = bytes && fileText(f.filename, bytes);
    const data = read && 'text' in read ? [{ type: 'text', text: read.text }] : [];
    return json({ object: 'vector_store.file_content.page', data, has_more: false, next_page: null });
  }

  /**
   * A store's files (or a batch's), in OpenAI's order: by the vector store file's `created_at` (when it was attached,
   * not when it was uploaded), then id. A cursor names a file of the store whatever its status or batch now (it may
   * have changed since the page before was read).
   */
  private async listFiles(tenantId: string, storeId: string, query: Record<string, string | undefined>, batchId: string | undefined): Promise<VectorStoreAnswer> {
    await this.store(tenantId, storeId);
    const filter = query.filter;
    if (filter !== undefined && !['in_progress', 'completed', 'failed', 'cancelled'].includes(filter)) throw invalid(`filter ${quoted(filter)} must be one of in_progress, completed, failed, cancelled`, 'filter', 'invalid_value');
    const all = await this.deps.records.listFiles(tenantId, storeId);
    const positions = new Map(all.map((f) => [f.fileId, filePosition(f)]));
    const files = all.filter((f) => (!batchId || f.batchId === batchId) && (!filter || f.status === filter));
    const answer = page(files, filePosition, (f) => f.fileId, (id) => positions.get(id), query);
    return json({ ...answer, data: answer.data.map(answerFile) });
  }

  private async createBatch(caller: Caller, storeId: string, raw: string | undefined, audit: AuditRecord): Promise<VectorStoreAnswer> {
    const tenantId = caller.tenantId;
    const b = objectBody(raw, ['file_ids', 'files', 'attributes', 'chunking_strategy'], 'POST /v1/vector_stores/{vector_store_id}/file_batches');
    const store = await this.activeStore(tenantId, storeId);
    if (b.file_ids !== undefined && b.files !== undefined) throw invalid('give file_ids or files, not both', 'files', 'invalid_request');
    // OpenAI ignores the batch's attributes and chunking_strategy when `files` is given ("must be specified for each file"): refused, not applied nor dropped.
    for (const field of ['attributes', 'chunking_strategy']) {
      if (b.files !== undefined && b[field] !== undefined && b[field] !== null) throw invalid(`${field} applies to file_ids only; with files, give each file its own files[i].${field}`, field, 'invalid_request');
    }
    const attributes = checkAttributes(b.attributes, 'attributes');
    const chunking = parseChunking(b.chunking_strategy);
    let wanted: Array<{ id: unknown; field: string; attributes: typeof attributes; chunking: StaticChunking }>;
    if (b.files !== undefined) {
      if (!Array.isArray(b.files) || !b.files.length || b.files.length > LIMITS.fileIds) throw invalid(`files must be a list of 1 to ${LIMITS.fileIds} objects {file_id, attributes?, chunking_strategy?}`, 'files', 'invalid_value');
      wanted = b.files.map((f: unknown, i) => {
        if (typeof f !== 'object' || f === null || Array.isArray(f)) throw invalid(`files[${i}] must be an object {file_id, attributes?, chunking_strategy?}`, `files[${i}]`, 'invalid_type');
        const o = f as Record<string, unknown>;
        const extra = Object.keys(o).find((k) => !['file_id', 'attributes', 'chunking_strategy'].includes(k));
        if (extra) throw unknownParameter(`files[${i}].${shownKey(extra)}`, 'A file of a file batch takes file_id, attributes, chunking_strategy');
        return { id: o.file_id, field: `files[${i}].file_id`, attributes: o.attributes === undefined ? attributes : checkAttributes(o.attributes, `files[${i}].attributes`), chunking: parseChunking(o.chunking_strategy, `files[${i}].chunking_strategy`, chunking) };
      });
    } else {
      if (b.file_ids === undefined) throw invalid('file_ids (or files) is required', 'file_ids', 'missing_required_parameter');
      wanted = fileIdList(b.file_ids, 'file_ids', 1).map((id, i) => ({ id, field: `file_ids[${i}]`, attributes, chunking }));
    }
    refuseRepeatedFiles(wanted.map((w) => w.id), (i) => wanted[i]!.field);
    const files = await atMost(ATTACH_CONCURRENCY, wanted, (w) => this.attachable(tenantId, w.id, w.field));
    const batch: StoredFileBatch = { tenantId, storeId, id: newFileBatchId(), createdAt: now(), fileIds: files.map((f) => f.id), cancelled: false };
    await this.deps.records.createBatch(batch);
    audit.detail = { ...audit.detail, fileBatchId: batch.id, files: files.length };
    await atMost(ATTACH_CONCURRENCY, files, (f, i) => this.addFile(ownerOf(caller), store, f, wanted[i]!.attributes, wanted[i]!.chunking, batch.id));
    await this.touch(tenantId, storeId);
    return json(await this.answerBatch(batch));
  }

  private async batch(tenantId: string, storeId: string, id: string): Promise<StoredFileBatch> {
    await this.store(tenantId, storeId);
    const b = await this.deps.records.getBatch(tenantId, storeId, id);
    if (!b) throw notFound(`No file batch found with id ${quoted(id)} in vector store ${storeId}`, 'batch_id', 'file_batch_not_found');
    return b;
  }

  private async answerBatch(b: StoredFileBatch) {
    const files = (await this.deps.records.listFiles(b.tenantId, b.storeId)).filter((f) => f.batchId === b.id);
    const counts = countsOf(files);
    const status = counts.in_progress ? 'in_progress' : b.cancelled ? 'cancelled' : 'completed';
    return { id: b.id, object: 'vector_store.files_batch' as const, created_at: b.createdAt, vector_store_id: b.storeId, status, file_counts: counts };
  }

  private async cancelBatch(tenantId: string, storeId: string, id: string): Promise<VectorStoreAnswer> {
    const current = await this.batch(tenantId, storeId, id);
    // A batch none of whose files is in progress has nothing to cancel: it is answered as it is (a completed batch stays completed).
    if (!(await this.deps.records.listFiles(tenantId, storeId)).some((f) => f.batchId === id && f.status === 'in_progress')) return json(await this.answerBatch(current));
    const b = await this.deps.records.updateBatch(tenantId, storeId, id, (c) => (c.cancelled ? undefined : { ...c, cancelled: true }));
    for (const f of await this.deps.records.listFiles(tenantId, storeId)) {
      if (f.batchId === id && f.status === 'in_progress') await this.deps.records.updateFile(tenantId, storeId, f.fileId, (c) => (c.status === 'in_progress' ? { ...c, status: 'cancelled' } : undefined));
    }
    return json(await this.answerBatch(b!));
  }

  private async search(caller: Caller, storeId: string, raw: string | undefined, audit: AuditRecord): Promise<VectorStoreAnswer> {
    const b = objectBody(raw, ['query', 'filters', 'max_num_results', 'ranking_options', 'rewrite_query'], 'POST /v1/vector_stores/{vector_store_id}/search');
    const queries = typeof b.query === 'string' ? [b.query] : b.query;
    if (!Array.isArray(queries) || !queries.length || !queries.every((q) => typeof q === 'string' && q.trim()) || queries.length > 10) {
      throw invalid(`query ${quoted(b.query)} must be a non-empty string or a list of 1 to 10 non-empty strings`, 'query', b.query === undefined ? 'missing_required_parameter' : 'invalid_value');
    }
    const filter = b.filters === undefined || b.filters === null ? undefined : checkFilter(b.filters);
    const max = b.max_num_results ?? LIMITS.defaultResults;
    refuseIntegerOutOfRange('max_num_results', max, { min: 1, max: LIMITS.maxResults });
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > LIMITS.maxResults) throw invalid(`max_num_results ${quoted(max)} must be an integer from 1 to ${LIMITS.maxResults}`, 'max_num_results', 'invalid_value');
    if (b.rewrite_query !== undefined && b.rewrite_query !== null && typeof b.rewrite_query !== 'boolean') throw invalid('rewrite_query must be a boolean', 'rewrite_query', 'invalid_type');
    if (b.rewrite_query === true) throw invalid('rewrite_query: true is not supported by this gateway (the query is searched as given); leave it out or set it false', 'rewrite_query', 'unsupported_value');
    let threshold = 0;
    if (b.ranking_options !== undefined && b.ranking_options !== null) {
      const r = b.ranking_options as Record<string, unknown>;
      if (typeof r !== 'object' || Array.isArray(r)) throw invalid('ranking_options must be an object {ranker, score_threshold}', 'ranking_options', 'invalid_type');
      const extra = Object.keys(r).find((k) => k !== 'ranker' && k !== 'score_threshold');
      if (extra) throw unknownParameter(`ranking_options.${shownKey(extra)}`, 'ranking_options takes ranker, score_threshold');
      if (r.ranker !== undefined && r.ranker !== 'auto' && r.ranker !== 'none') {
        throw invalid(`ranking_options.ranker ${quoted(r.ranker)} is not supported: this gateway ranks by cosine similarity only ("auto" or "none")`, 'ranking_options.ranker', 'unsupported_value');
      }
      if (r.score_threshold !== undefined) {
        if (typeof r.score_threshold !== 'number' || r.score_threshold < 0 || r.score_threshold > 1) throw invalid(`ranking_options.score_threshold ${quoted(r.score_threshold)} must be a number from 0 to 1`, 'ranking_options.score_threshold', 'invalid_value');
        threshold = r.score_threshold;
      }
    }
    const texts = queries as string[];
    const data = (await this.searchStore(caller, storeId, texts, { max, threshold, ...(filter ? { filter } : {}) }, 'vector_store_id')).map(({ text, ...hit }) => ({ ...hit, content: [{ type: 'text', text }] }));
    audit.detail = { ...audit.detail, results: data.length };
    return json({ object: 'vector_store.search_results.page', search_query: texts, data, has_more: false, next_page: null });
  }

  /**
   * The caller's tenant's vector stores named by a Responses `file_search` tool, checked before the model is called:
   * each must be the tenant's and not expired.
   * @param paths the request field of each id (`tools[0].vector_store_ids[1]`), as the refusal names it
   * @throws GatewayError 404 `vector_store_not_found` (unknown or another tenant's) or 400 `vector_store_expired`, naming the id's field
   */
  async checkSearchable(tenantId: string, ids: readonly string[], paths: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i++) {
      try {
        await this.activeStore(tenantId, ids[i]!);
      } catch (e) {
        if (e instanceof GatewayError) throw new GatewayError(e.status, `${paths[i]}: ${e.message}`, e.type, e.code, paths[i], e.headers);
        throw e;
      }
    }
  }

  /**
   * A Responses `file_search` call's search: each query embedded (one embeddings call per store, as the caller,
   * metered and audited as a search's: `detail.vectorStoreId`, `search`), the stores' nearest chunks merged, best
   * score first, at most `max`. Each result is OpenAI's `ResponseFileSearchToolCall.Result`.
   * @throws GatewayError as the search endpoint (404 for a store gone meanwhile, 502 `embedding_failed`), naming `field`
   */
  async searchForTool(caller: Caller, ids: readonly string[], queries: string[], options: { max: number; threshold: number; filter?: VectorFilter }, field: string): Promise<Array<{ file_id: string; filename: string; score: number; attributes: Record<string, string | number | boolean> | null; text: string }>> {
    const all = [];
    for (const id of ids) all.push(...(await this.searchStore(caller, id, queries, options, field)));
    return all.sort((a, b) => b.score - a.score).slice(0, options.max);
  }

  /**
   * One store's nearest chunks to the queries (a chunk found by several keeps its best score), of completed files' current
   * runs, at or above `threshold`, best first, at most `max`. The index holds other chunks too (a file's run in
   * progress, a superseded run's left by a run that stopped before removing them, a detached file's): the index is asked
   * for SEARCH_CANDIDATES per query, those chunks are dropped here, and when they took places the query is asked again
   * with their runs left out (VectorIndex.query `exclude.runs`, the `_run` metadata of each vector) until it answers
   * `max` of the files' own, or meets no run it had not left out, or its farthest chunk is below `threshold` (what another
   * ask adds is farther still), or after SEARCH_ROUNDS asks; so a store answers
   * min(max_num_results, its matching chunks) whatever number of such chunks are nearer. An answer shorter than
   * SEARCH_CANDIDATES does not end the asks: on S3 Vectors it does not prove that no more chunks match (see the rule below).
   */
  private async searchStore(caller: Caller, storeId: string, texts: string[], options: { max: number; threshold: number; filter?: VectorFilter }, field: string) {
    const tenantId = caller.tenantId;
    const { max, threshold, filter } = options;
    const store = await this.activeStore(tenantId, storeId);
    await this.touch(tenantId, storeId);
    if (store.dimension === undefined) return [];
    const embedded = await this.deps.embed(ownerOf(caller), store.embeddingModel, texts, { vectorStoreId: storeId, search: 'true' });
    // A 429 (the tenant's rate limit or budget, or the embedding upstream's) stays one, as the embeddings call answered it:
    // its type (an upstream OpenAI's own, `requests` or `tokens`), its code and its headers (retry-after, retry-after-ms,
    // x-ratelimit-*, x-should-retry), which the SDKs' retries follow.
    if ('status' in embedded && embedded.status === 429) throw new GatewayError(429, `the search query could not be embedded with ${store.embeddingModel}: ${embedded.message}`.slice(0, 1000), embedded.type ?? 'rate_limit_error', embedded.code ?? 'rate_limit_exceeded', null, embedded.headers);
    if ('status' in embedded) throw new GatewayError(embedded.status >= 500 ? 502 : embedded.status, `the search query could not be embedded with ${store.embeddingModel}: ${embedded.message}`.slice(0, 1000), embedded.status >= 500 ? 'upstream_error' : 'invalid_request_error', 'embedding_failed', field === 'vector_store_id' ? undefined : field);
    const files = new Map<string, Promise<StoredVectorStoreFile | undefined>>();
    const fileOf = (fileId: string) => {
      if (!files.has(fileId)) files.set(fileId, this.deps.records.getFile(tenantId, storeId, fileId));
      return files.get(fileId)!;
    };
    // Runs whose chunks are not a completed file's current ones, met so far: left out of the next asks (every query's).
    const excluded = new Set<string>();
    // Each query's nearest chunks of the files' current runs; a chunk found by several keeps its best score.
    const best = new Map<string, { key: string; score: number; text: string; file: StoredVectorStoreFile }>();
    for (const vector of embedded.vectors) {
      for (let round = 1; ; round++) {
        const matches = await this.deps.index.query(tenantId, storeId, vector, SEARCH_CANDIDATES, filter, excluded.size ? { runs: [...excluded] } : undefined);
        let own = 0;
        let met = false;
        for (const match of matches) {
          const score = Math.max(0, Math.min(1, 1 - match.distance));
          if (score < threshold) continue;
          const key = parseVectorKey(match.key);
          if (!key) continue;
          const f = await fileOf(key.fileId);
          // Only the completed run's chunks: an unfinished or superseded run's, or a detached file's, are not the file's.
          if (!f || f.status !== 'completed' || f.run !== key.run) {
            const tag = runTag(key.fileId, key.run);
            if (!excluded.has(tag) && excluded.size < MAX_EXCLUDED_RUNS) {
              excluded.add(tag);
              met = true;
            }
            continue;
          }
          // The record's attributes are the file's: its vectors' metadata lags them only while an update rewrites it.
          if (filter && !matchesFilter(f.attributes ?? {}, filter)) continue;
          own++;
          if ((best.get(match.key)?.score ?? -1) < score) best.set(match.key, { key: match.key, score, text: match.text, file: f });
        }
        // Asked again only when other runs took places the files' own may fill: fewer than max of the files' own, runs
        // left out that were not before, and its farthest chunk at or above the threshold (the next ask's new chunks are
        // all farther than it: below the threshold, none could be answered). Whatever the answer's length: fewer than
        // SEARCH_CANDIDATES is no proof that nothing more matches. S3 Vectors' QueryVectors is an approximate nearest
        // neighbour search, and it evaluates the filter before the search (pre-filtering, "ensuring high recall even when
        // filters match a small fraction of vectors") only on indexes whose index mode is ENHANCED; a CLASSIC index
        // (the default of indexes in vector buckets created before September 30, 2026) applies it during the search
        // (Amazon S3 User Guide, Metadata filtering: https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-metadata-filtering.html;
        // Changing a vector index's mode: https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-vectors-index-mode.html),
        // so a filtered ask (the `$nin` of the runs left out, the tenant's filter) may answer fewer than topK while more
        // vectors match. Each further ask leaves out one run more at least, within SEARCH_ROUNDS.
        const farthest = matches.at(-1);
        const pastThreshold = farthest !== undefined && Math.max(0, Math.min(1, 1 - farthest.distance)) < threshold;
        if (own >= max || !met || pastThreshold || round === SEARCH_ROUNDS) break;
      }
    }
    return [...best.values()].sort((a, b) => b.score - a.score || a.key.localeCompare(b.key)).slice(0, max)
      .map(({ score, text, file }) => ({ file_id: file.fileId, filename: file.filename, score, attributes: file.attributes, text }));
  }
}

/**
 * Chunks the index is asked for per query: S3 Vectors QueryVectors' most (`topK` ≤ 100: S3_VECTORS_LIMITS), twice
 * OpenAI's largest `max_num_results` (50), so that chunks the search drops (of files not completed, of runs superseded
 * or unfinished) leave room for the files' own in one ask, most times.
 */
const SEARCH_CANDIDATES = S3_VECTORS_LIMITS.maxTopK;
/**
 * Asks of the index per query at most: the first, and again with the runs met left out (each ask leaves out at least
 * one run more, up to MAX_EXCLUDED_RUNS). Three reach past 300 chunks of other runs; a QueryVectors call each.
 */
const SEARCH_ROUNDS = 3;
/** Rewrites of a completed file's vector metadata by one attributes update at most (setAttributesOf): the first, and again for updates met meanwhile. */
const ATTRIBUTE_REWRITES = 3;
/** The longest run tag a chunk keeps beside its attributes (processing.ts runTag of a `file-` id and a run id). */
const LONGEST_RUN_TAG = runTag(`file-${'0'.repeat(24)}`, '0'.repeat(12));

/**
 * Files checked or attached at once by one request: 2,000 files one after another (a record write and, on AWS, a queue
 * message each) would not fit API Gateway's 29 s; 16 at a time stay within the AWS SDK's 50 sockets per client.
 */
const ATTACH_CONCURRENCY = 16;

/**
 * `fn` over `items`, at most `limit` at once; the results in order. After a failure no further item is started.
 * @throws the error of the lowest-index item that failed (the others started still settle first)
 */
async function atMost<T, R>(limit: number, items: readonly T[], fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  const errors = new Map<number, unknown>();
  let next = 0;
  const worker = async () => {
    while (next < items.length && !errors.size) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        errors.set(i, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.size) throw errors.get(Math.min(...errors.keys()));
  return out;
}

/** The audit action of each route. */
const ACTIONS: Record<string, string> = {
  'POST ': 'create', 'GET ': 'list', 'GET :id': 'read', 'POST :id': 'update', 'DELETE :id': 'delete', 'POST :id/search': 'search',
  'POST :id/files': 'file.create', 'GET :id/files': 'file.list', 'GET :id/files/:item': 'file.read', 'POST :id/files/:item': 'file.update',
  'DELETE :id/files/:item': 'file.delete', 'GET :id/files/:item/content': 'file.content', 'POST :id/file_batches': 'file_batch.create',
  'GET :id/file_batches/:item': 'file_batch.read', 'POST :id/file_batches/:item/cancel': 'file_batch.cancel', 'GET :id/file_batches/:item/files': 'file_batch.files',
};

function countsOf(files: StoredVectorStoreFile[]) {
  const counts = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: files.length };
  for (const f of files) counts[f.status]++;
  return counts;
}

/** Whom a request's embeddings run as (re-read by the gateway before each call). */
const ownerOf = (caller: Caller): VectorStoreOwner => ({ tenantId: caller.tenantId, userId: caller.userId, role: caller.role, ...(caller.keyId ? { keyId: caller.keyId } : {}) });

const expiresAt = (s: StoredVectorStore) => (s.expiresAfterDays ? s.lastActiveAt + s.expiresAfterDays * 86_400 : null);

/** OpenAI's VectorStore of a record and its files (file_counts and usage_bytes derived from the file records). */
function answerStoreOf(s: StoredVectorStore, files: StoredVectorStoreFile[]) {
  const counts = countsOf(files);
  const expires = expiresAt(s);
  const status = expires !== null && expires <= now() ? 'expired' : counts.in_progress ? 'in_progress' : 'completed';
  return {
    id: s.id, object: 'vector_store' as const, created_at: s.createdAt, name: s.name, ...(s.description !== undefined ? { description: s.description } : {}),
    usage_bytes: files.reduce((n, f) => n + f.usageBytes, 0), file_counts: counts, status, last_active_at: s.lastActiveAt, metadata: s.metadata,
    expires_after: s.expiresAfterDays ? { anchor: 'last_active_at' as const, days: s.expiresAfterDays } : null, expires_at: expires,
  };
}

/** OpenAI's VectorStoreFile of a record. */
function answerFile(f: StoredVectorStoreFile) {
  return {
    id: f.fileId, object: 'vector_store.file' as const, created_at: f.createdAt, vector_store_id: f.storeId, status: f.status, last_error: f.lastError,
    usage_bytes: f.usageBytes, attributes: f.attributes, chunking_strategy: { type: 'static' as const, static: f.chunking ?? DEFAULT_CHUNKING },
  };
}

/**
 * A cursor page as the gateway's other lists answer (`limit` 1-100, default 20; `order` by `created_at`, `desc` by
 * default; `after`/`before` an id of the list's kind: `after` the next page after it, `before` the previous page, the
 * `limit` items just before it: cursorPage). Items are ordered by `positionOf` (their `created_at` and id), so an item
 * added while a client pages (created later) comes at the end of an `asc` list and the start of a `desc` one, never
 * between pages it already read.
 * @param positionOf an item's position: a string that sorts as the items' `created_at`, then id
 * @param cursorPosition the position of the item a cursor names; undefined when it names none the list knows (removed
 *   meanwhile): that cursor then bounds nothing (as if not given)
 */
function page<T>(items: T[], positionOf: (t: T) => string, idOf: (t: T) => string, cursorPosition: (id: string) => string | undefined, query: Record<string, string | undefined>) {
  const limit = integerQuery(query, 'limit', { min: 1, max: LIMITS.listMax, fallback: 20 });
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalid(`order ${quoted(order)} must be "asc" or "desc"`, 'order', 'invalid_value');
  const after = cursorQuery(query, 'after');
  const before = cursorQuery(query, 'before');
  const list = items.map((item) => ({ item, at: positionOf(item) })).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  if (order === 'desc') list.reverse();
  const ahead = (a: string, b: string) => (order === 'desc' ? a < b : a > b);
  const afterAt = after === undefined ? undefined : cursorPosition(after);
  const beforeAt = before === undefined ? undefined : cursorPosition(before);
  const firstFrom = (past: (at: string) => boolean) => { const i = list.findIndex((i) => past(i.at)); return i < 0 ? list.length : i; };
  const bounds = {
    ...(afterAt === undefined ? {} : { start: firstFrom((at) => ahead(at, afterAt)) }),
    ...(beforeAt === undefined ? {} : { end: firstFrom((at) => !ahead(beforeAt, at)) }),
  };
  const answer = cursorPage(list, limit, bounds, (i) => idOf(i.item));
  return { ...answer, data: answer.data.map((i) => i.item) };
}

/** A vector store file's list position (page): its `created_at` (when it was attached), then its id. */
const filePosition = (f: { createdAt: number; fileId: string }) => `${String(f.createdAt).padStart(12, '0')}#${f.fileId}`;

/** The request body as an object of the fields `allowed`. @throws GatewayError 400 naming an unknown field */
function objectBody(raw: string | undefined, allowed: string[], route: string): Record<string, unknown> {
  const body = raw === undefined || raw === '' ? {} : parseJson(raw);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the request body must be a JSON object', null, 'invalid_request');
  const unknown = Object.keys(body).find((k) => !allowed.includes(k));
  if (unknown) throw invalid(`unknown parameter ${quoted(unknown)} (${route} takes ${allowed.join(', ')})`, unknown.slice(0, 100), 'unknown_parameter');
  return body as Record<string, unknown>;
}

/** Refuses a file named twice in one request (it would be processed, and its chunks embedded and paid for, twice). @throws GatewayError 400 naming the second */
function refuseRepeatedFiles(ids: unknown[], fieldOf: (i: number) => string): void {
  const seen = new Map<unknown, number>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw invalid(`${fieldOf(i)} ${quoted(id)} is given twice (also ${fieldOf(seen.get(id)!)}); name each file once`, fieldOf(i), 'invalid_value');
    seen.set(id, i);
  });
}

function optionalString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) throw invalid(`${field} must be a string of at most ${max} characters`, field, 'invalid_value');
  return value;
}

function fileIdList(value: unknown, field: string, min = 0): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length < min || value.length > LIMITS.fileIds || !value.every((v) => typeof v === 'string')) throw invalid(`${field} must be a list of ${min} to ${LIMITS.fileIds} file ids`, field, 'invalid_value');
  return value as string[];
}

/**
 * `expires_after` {anchor: "last_active_at", days 1-365}.
 * @returns the days, undefined when absent
 * @throws GatewayError 400 naming the part: days out of range in OpenAI's words and code (`integer_below_min_value`,
 *   `integer_above_max_value`: refuseIntegerOutOfRange), days that are no integer `invalid_value`
 */
function expiresAfterDays(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('expires_after must be an object {anchor: "last_active_at", days}', 'expires_after', 'invalid_type');
  const e = value as Record<string, unknown>;
  const extra = Object.keys(e).find((k) => k !== 'anchor' && k !== 'days');
  if (extra) throw unknownParameter(`expires_after.${shownKey(extra)}`, 'expires_after takes anchor and days');
  if (e.anchor !== 'last_active_at') throw invalid(`expires_after.anchor ${quoted(e.anchor)} must be "last_active_at"`, 'expires_after.anchor', 'invalid_value');
  refuseIntegerOutOfRange('expires_after.days', e.days, { min: 1, max: LIMITS.expiresDays });
  if (typeof e.days !== 'number' || !Number.isInteger(e.days) || e.days < 1 || e.days > LIMITS.expiresDays) throw invalid(`expires_after.days ${quoted(e.days)} must be an integer from 1 to ${LIMITS.expiresDays}`, 'expires_after.days', 'invalid_value');
  return e.days;
}

/**
 * A vector store file's `attributes` (string, number or boolean values): at most 16 keys of 1 to 64 characters (an empty
 * name is refused: it would be a chunk's filterable metadata key on S3 Vectors), strings of at most 512. A vector
 * store's `metadata` is read by checkMetadata (../metadata-check.ts), as every route reads it.
 * @throws GatewayError 400 naming `<field>.<key>` and the value: past a bound in OpenAI's words and code
 *   (`object_above_max_properties`, `property_name_above_max_length` naming `<field>`, `string_above_max_length`: openai-issues.ts)
 */
function checkAttributes(value: unknown, field: string): Record<string, string | number | boolean> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${field} must be an object`, field, 'invalid_type');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > LIMITS.pairs) refuse(tooManyProperties(field, entries.length, LIMITS.pairs), field);
  for (const [k, v] of entries) {
    const at = `${field}.${k.slice(0, 64)}`;
    if ([...k].length > LIMITS.key) refuse(propertyNameTooLong(field, k, LIMITS.key), field);
    if (typeof v === 'string' && [...v].length > LIMITS.value) refuse(stringLength(at, [...v].length, { max: LIMITS.value }), at);
    if (!k) throw invalid(`${field} key ${quoted(k)} must be 1 to ${LIMITS.key} characters`, field, 'invalid_value');
    if (k === RUN_METADATA_KEY || k === TEXT_METADATA_KEY) throw invalid(`${at}: the attribute name ${quoted(k)} is reserved by this gateway (each chunk's ${k === RUN_METADATA_KEY ? 'run' : 'text'} is kept under it); give it another name`, at, 'invalid_value');
    const ok = typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';
    // A value of another kind: OpenAI's type words, as the routes whose schema reads metadata answer (it was invalid_value).
    if (!ok && typeof v !== 'number') refuse(wrongType(at, 'one of a string, a number or a boolean', v), at);
    if (!ok) throw invalid(`${at} ${quoted(v)} must be a finite number`, at, 'invalid_value');
  }
  // Attributes are each chunk's filterable metadata with its run (RUN_METADATA_KEY): S3 Vectors takes at most 2 KB of it per vector, refused here, not at processing.
  const bytes = Buffer.byteLength(JSON.stringify(value));
  const withRun = Buffer.byteLength(JSON.stringify({ ...(value as object), [RUN_METADATA_KEY]: LONGEST_RUN_TAG }));
  if (withRun > S3_VECTORS_LIMITS.maxFilterableBytes) throw invalid(`${field} take ${bytes} bytes as JSON; at most ${S3_VECTORS_LIMITS.maxFilterableBytes - (withRun - bytes)} (the filterable metadata of a vector in Amazon S3 Vectors, where each chunk keeps them with its run: ${S3_VECTORS_LIMITS.maxFilterableBytes} bytes)`, field, 'invalid_value');
  return value as Record<string, string | number | boolean>;
}

export { isVectorStoreId, isFileBatchId };
