import type { PlatformConfig } from '../../../lib/config/schema.js';
import { can } from '../../../lib/identity/roles.js';
import type { AuditRecord } from '../audit.js';
import type { Caller } from '../auth.js';
import { errorCause } from '../../shared/error-cause.js';
import { Utf8LineReader } from '../../shared/utf8-lines.js';
import { outside, refuse, refuseIntegerOutOfRange } from '../openai-issues.js';
import { checkMetadata } from '../metadata-check.js';
import { GatewayError, invalid, notFound, permissionDenied, tooLarge } from '../openai-errors.js';
import { cursorQuery, integerQuery, refuseRepeatedQuery, refuseUnknownQuery } from '../query-parameters.js';
import { parseJson } from '../request-body.js';
import { createRequestHash, RETRY_WINDOW_SECONDS, uploadRequestHash } from '../sdk-retry.js';
import { awaitFirstAttempt, pendingKey, underNote, type PendingCreates } from '../pending-creates.js';
import { MAX_BATCH_REQUESTS, readBatchFile, type BatchLineError } from './input-file.js';
import { scanBatchFile, type BatchInputBlock } from './batch-file-ranges.js';
import { fileExpired, isBatchFileId, isBatchId, newBatchId, noCounts, type Batch, type BatchFile, type BatchFileStore, type BatchOwner, type BatchStore, type StoredBatch } from './stores.js';
import { newFileId, refuseFilesFormFields } from '../../fine-tuning/files-service.js';
import type { UploadedParts } from '../../fine-tuning/uploads-service.js';
import { CONTENT_URL_SECONDS, contentRedirect, MAX_INLINE_CONTENT_BYTES } from '../file-content-redirect.js';
import { InputFileCheck, INPUT_FILE_PURPOSES, type InputFilePurpose, type StoredInputFile } from '../input-files.js';

const isInputFilePurpose = (p: unknown): p is InputFilePurpose => (INPUT_FILE_PURPOSES as readonly unknown[]).includes(p);
/** The purposes of the files an upload stores here beside `batch`: model input files and vector store files (`assistants`, what the SDKs' `vectorStores.files.upload` sends). */
export type StoredUploadPurpose = InputFilePurpose | 'assistants';
export const isStoredUploadPurpose = (p: unknown): p is StoredUploadPurpose => p === 'assistants' || isInputFilePurpose(p);

/**
 * An answer of the Batch API: JSON text, or a file's content (`contentType` set): its bytes as stored (a `vision` or
 * `user_data` file may be an image or a PDF, which a UTF-8 decoding would corrupt), or text.
 */
export type BatchAnswer =
  | { status: number; body: string; contentType?: undefined; headers?: Record<string, string> }
  | { status: number; body: string | Uint8Array; contentType: string; headers?: Record<string, string> };

export { CONTENT_URL_SECONDS, MAX_INLINE_CONTENT_BYTES } from '../file-content-redirect.js';

/**
 * The endpoints a batch may name that this gateway serves: each request runs through the same endpoint code and
 * pipeline as a live call (BatchRunner). OpenAI's others (BatchCreateParams.endpoint: images, videos) are refused at
 * create naming `endpoint`.
 */
export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/moderations', '/v1/responses'] as const;
/** OpenAI's batch endpoints (openai 7.55 BatchCreateParams.endpoint), to tell "not served here" from "not an endpoint". */
const OPENAI_BATCH_ENDPOINTS = ['/v1/responses', '/v1/chat/completions', '/v1/embeddings', '/v1/completions', '/v1/moderations', '/v1/images/generations', '/v1/images/edits', '/v1/videos'];
/** The one completion window OpenAI takes (BatchCreateParams.completion_window: "Currently only `24h` is supported"), in seconds. */
export const COMPLETION_WINDOW_SECONDS = 24 * 3600;
/**
 * How long a batch input file lives when the upload sets no `expires_after`, and an output or error file when the batch
 * sets no `output_expires_after`: 30 days, OpenAI's default for purpose `batch` (Files API reference, "Upload file":
 * "files with purpose=batch expire after 30 days by default"; the reference gives output files no default, so they
 * are kept as their batch's input). Files of the other purposes (`user_data`, `vision`, `assistants`) have no default
 * expiry: "all other files are persisted until they are manually deleted" (expires_at null). Both take 3,600 to
 * 2,592,000 seconds.
 */
export const DEFAULT_FILE_TTL_SECONDS = 30 * 86_400;
const MIN_TTL = 3600;
const MAX_TTL = 2_592_000;
/** GET /v1/batches: `limit` 1 to 100, 20 by default (OpenAI API reference, "List batch"). */
const MAX_LIST = 100;
/** Statuses after which a batch changes no more. */
export const TERMINAL = new Set<Batch['status']>(['failed', 'completed', 'expired', 'cancelled']);

const BATCH_PATH = /^\/v1\/batches(?:\/(?<id>[^/]+)(?:\/(?<action>cancel))?)?$/;
const FILE_PATH = /^\/v1\/files(?:\/(?<id>[^/]+)(?:\/(?<action>content))?)?$/;
/**
 * The purposes whose content `GET /v1/files/{file_id}/content` serves. OpenAI answers a file of purpose `assistants`
 * with a 400 `invalid_request_error`, "Not allowed to download files of purpose: assistants" (reported in the OpenAI
 * developer forum, "File uploads error: why can't I download files with purpose=user_data?", 2025-08, for
 * `assistants` and `user_data`; the API reference states no rule): a vector store's file is read through
 * `vectorStores.files.content` (its parsed text), never downloaded. `user_data` stays downloadable here (see docs/gateway.md).
 */
const DOWNLOADABLE_PURPOSES: ReadonlySet<string> = new Set(['batch', 'batch_output', 'user_data', 'vision']);
/** OpenAI's refusal of a download of `purpose`'s file: its message, with what to use instead; `param: file_id`, code `invalid_value`. */
const notDownloadable = (purpose: string) => invalid(
  `Not allowed to download files of purpose: ${purpose}. Read a vector store file's text with GET /v1/vector_stores/{vector_store_id}/files/{file_id}/content (client.vectorStores.files.content), or keep your own copy of what you upload.`,
  'file_id', 'invalid_value',
);
const now = () => Math.floor(Date.now() / 1000);
const json = (body: unknown, status = 200): BatchAnswer => ({ status, body: JSON.stringify(body) });
const quoted = (value: unknown) => JSON.stringify(String(value).slice(0, 200));

/** The fine-tuning Files API, where this gateway serves it: what the Batch API hands a request it does not own (not a batch file). */
export type FineTuningFiles = (query?: Record<string, string | undefined>) => Promise<BatchAnswer>;

/** What BatchService needs. */
export interface BatchServiceDeps {
  config: PlatformConfig;
  batches: BatchStore;
  files: BatchFileStore;
  /** Starts running a validated batch: in-process (`tessera serve`: BatchRunner) or a queue message (AWS: the batch worker Lambda). */
  start(item: StoredBatch): Promise<void>;
  /** Largest body `POST /v1/files` reads (the transports' limit). */
  maxUploadBytes: number;
  /**
   * Notes of the uploads still being stored and the batch creates still running (../pending-creates.ts): an official
   * client's retry that arrives while its first attempt still runs waits for it and is answered that file or batch, or a
   * retryable 409 `create_in_progress`. @default - none: such a retry stores a second file / makes a second batch
   */
  pending?: PendingCreates;
}

/**
 * OpenAI's Batch API (`client.batches.create / retrieve / list / cancel`) and the Files API for its files
 * (`client.files.create({purpose: "batch"})`, the `batch_output` files the runner writes, `files.content`), per
 * tenant: a batch and its files are found only by their tenant (another tenant's id reads as unknown: 404).
 * A request this service does not own (a `fine-tune` file) goes to the fine-tuning Files API where it is served.
 */
export class BatchService {
  constructor(private readonly deps: BatchServiceDeps) {}

  /**
   * `/v1/batches...`. Every route needs the `inference` permission (a batch's requests are inference calls).
   * @param sdkRetry the official client's retry number (`x-stainless-retry-count`, ../sdk-retry.ts sdkRetryOf) @default - a first attempt
   * @param retryWaitMs how long a retry of `POST /v1/batches` waits for its first attempt still running, in ms (../pending-creates.ts retryWaitMsOf) @default 0
   * @throws GatewayError 4xx in OpenAI's shape naming the field and value
   */
  async batches(method: string, path: string, query: Record<string, string | undefined>, repeatedQuery: readonly string[] | undefined, body: string | undefined, caller: Caller, audit: AuditRecord, sdkRetry?: number, retryWaitMs = 0): Promise<BatchAnswer> {
    const m = BATCH_PATH.exec(path);
    if (!m) throw notFound(`no route ${method} ${path.slice(0, 200)}`, null, 'route_not_found');
    const { id, action } = m.groups ?? {};
    const route = `${method} ${id ? `batches/:id${action ? '/cancel' : ''}` : 'batches'}`;
    audit.action = `batch.${BATCH_ACTIONS[route] ?? 'unknown'}`;
    if (id) audit.detail = { ...audit.detail, batchId: id.slice(0, 100) };
    refuseUnknownQuery(query, route === 'GET batches' ? ['after', 'limit'] : [], `${method} /v1/batches${id ? `/{batch_id}${action ? '/cancel' : ''}` : ''}`);
    refuseRepeatedQuery(repeatedQuery);
    switch (route) {
      case 'POST batches': return this.create(body, caller, audit, sdkRetry, retryWaitMs);
      case 'GET batches': return this.list(caller, query);
      case 'GET batches/:id': return json((await this.batch(caller, id!)).batch);
      case 'POST batches/:id/cancel': return this.cancel(caller, id!);
      default: throw new GatewayError(405, `${method} is not supported on ${path.slice(0, 200)}`, 'invalid_request_error', 'method_not_allowed');
    }
  }

  /**
   * `/v1/files...`: batch files (purpose `batch`, `batch_output`) and model input files (`user_data`, `vision`:
   * ../input-files.ts) here, needing `inference`; every other request
   * goes to `fineTuning` (the fine-tuning Files API, with its own permissions), or is refused when it is not served.
   * `GET /v1/files` lists both (fine-tuning's only for a caller with `fine_tuning.read`), newest first by default.
   * Audited as `file.create|list|read|content|delete` whatever the purpose (`detail.purpose` says which: `batch`,
   * `batch_output`, `user_data`, `vision`); the fine-tuning Files API's own are `fine_tuning.file.*`.
   */
  async files(req: { method: string; path: string; query: Record<string, string | undefined>; repeatedQuery?: readonly string[]; bytes?: Uint8Array; contentType?: string; sdkRetry?: number; retryWaitMs?: number }, caller: Caller, audit: AuditRecord, fineTuning?: FineTuningFiles): Promise<BatchAnswer> {
    const m = FILE_PATH.exec(req.path);
    if (!m) throw notFound(`no route ${req.method} ${req.path.slice(0, 200)}`, null, 'route_not_found');
    const { id, action } = m.groups ?? {};
    const route = `${req.method} ${id ? `files/:id${action ? '/content' : ''}` : 'files'}`;
    const unserved = (what: string) => invalid(`${what}: this gateway stores files for the Batch API (purpose "batch"), model input (purposes "user_data", "vision") and vector stores (purpose "assistants") only; fine-tuning files need fine-tuning served (tessera serve --fine-tuning; a deployed platform serves it to tenants whose tier has training.enabled: true)`, 'purpose', 'unsupported_value');
    if (route === 'POST files') {
      // The body was not read past the limit (tessera serve stops there), so its purpose is unknown: one answer for every purpose.
      if (req.bytes && req.bytes.byteLength > this.deps.maxUploadBytes) throw tooLarge(uploadTooLarge(this.deps.maxUploadBytes, fineTuning !== undefined));
      const form = await this.form(req.bytes, req.contentType);
      const purpose = form?.get('purpose');
      if (purpose !== 'batch' && !isStoredUploadPurpose(purpose)) {
        if (fineTuning) return fineTuning();
        if (typeof purpose === 'string' && purpose) throw unserved(`purpose ${quoted(purpose)} is not served`);
        throw invalid('purpose is required: "batch", "user_data", "vision" or "assistants"', 'purpose', 'missing_required_parameter');
      }
      this.need(caller, 'inference');
      audit.action = 'file.create';
      refuseUnknownQuery(req.query, [], 'POST /v1/files');
      return this.upload(form!, purpose, caller, audit, req.sdkRetry, req.retryWaitMs ?? 0);
    }
    if (route === 'GET files') {
      refuseUnknownQuery(req.query, ['after', 'limit', 'order', 'purpose'], 'GET /v1/files');
      refuseRepeatedQuery(req.repeatedQuery);
      return this.listFiles(caller, audit, req.query, fineTuning);
    }
    if (!id || !FILE_PATH.test(req.path)) throw notFound(`no route ${req.method} ${req.path.slice(0, 200)}`, null, 'route_not_found');
    const file = isBatchFileId(id) ? await this.deps.files.get(caller.tenantId, id) : undefined;
    if (!file) {
      const missing = () => notFound(`No such File object: ${id.slice(0, 100)}`, 'file_id', 'file_not_found');
      if (!fineTuning) throw missing();
      // A tenant whose tier has no training resources has no fine-tuning file either: an id the Batch API does not know is not found (404), as on a gateway without fine-tuning.
      return fineTuning().catch((e: unknown) => {
        throw e instanceof GatewayError && e.code === 'fine_tuning_not_provisioned' ? missing() : e;
      });
    }
    this.need(caller, 'inference');
    refuseUnknownQuery(req.query, [], `${req.method} /v1/files/{file_id}${action ? '/content' : ''}`);
    refuseRepeatedQuery(req.repeatedQuery);
    audit.detail = { ...audit.detail, fileId: id, purpose: file.purpose };
    switch (route) {
      case 'GET files/:id':
        audit.action = 'file.read';
        return json(openAiFile(file));
      case 'GET files/:id/content': {
        audit.action = 'file.content';
        if (!DOWNLOADABLE_PURPOSES.has(file.purpose)) throw notDownloadable(file.purpose);
        if (this.deps.files.contentUrl && file.bytes > MAX_INLINE_CONTENT_BYTES) {
          return contentRedirect(await this.deps.files.contentUrl(caller.tenantId, file, CONTENT_URL_SECONDS));
        }
        const bytes = await this.deps.files.content(caller.tenantId, id, file);
        if (!bytes) throw notFound(`No such File object: ${id}`, 'file_id', 'file_not_found');
        return { status: 200, body: bytes, contentType: 'application/octet-stream' };
      }
      case 'DELETE files/:id':
        audit.action = 'file.delete';
        await this.deps.files.delete(caller.tenantId, id);
        return json({ id, object: 'file', deleted: true });
      default: throw new GatewayError(405, `${req.method} is not supported on ${req.path.slice(0, 200)}`, 'invalid_request_error', 'method_not_allowed');
    }
  }

  /**
   * A file of `tenantId`, for a request naming it by `file_id` (../input-files.ts resolves it, checks its purpose and
   * size, and only then reads its bytes with `read`). @returns undefined for an id the tenant has no unexpired file of
   * (another tenant's id, a malformed one)
   */
  async inputFile(tenantId: string, id: string): Promise<StoredInputFile | undefined> {
    const file = isBatchFileId(id) ? await this.deps.files.get(tenantId, id) : undefined;
    return file && { file, read: () => this.deps.files.content(tenantId, id, file) };
  }

  private need(caller: Caller, permission: 'inference'): void {
    if (!can(caller.role, permission)) throw permissionDenied(caller.role, permission);
  }

  private async form(bytes: Uint8Array | undefined, contentType: string | undefined): Promise<FormData | undefined> {
    if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
    if (bytes && bytes.byteLength > this.deps.maxUploadBytes) return undefined;
    try {
      return await new Request('http://gateway/v1/files', { method: 'POST', headers: { 'content-type': contentType }, body: bytes ?? new Uint8Array() }).formData();
    } catch {
      return undefined;
    }
  }

  /**
   * An upload. Purpose `user_data` or `vision`: a model input file, checked by checkInputFile (its name's extension
   * and bytes); `assistants` (a vector store's file: vector-stores/service.ts) as `user_data`. Purpose `batch`: a batch input file: a `.jsonl` file of request lines, each a JSON object, at most MAX_BATCH_REQUESTS of them.
   * The rules that need the batch (url = endpoint, one model, unique custom_id) are checked at create, where OpenAI
   * reports them (a failed batch naming the line). A `batch` file is kept DEFAULT_FILE_TTL_SECONDS unless `expires_after`
   * says otherwise; a file of another purpose until it is deleted (`expires_at` null) unless `expires_after` sets one.
   * The store's put runs under the upload's note (pending-creates.ts underNote), which an SDK retry waits for.
   * @param retryWaitMs how long an SDK retry waits for its first attempt still storing the file (pending-creates.ts retryWaitMsOf)
   * @throws GatewayError 400 naming `expires_after[anchor]` / `expires_after[seconds]` (anchor not `created_at`, seconds
   *   outside 3,600 to 2,592,000), `file`; 409 `create_in_progress` (retryable) to a retry whose first attempt still stores the file
   */
  private async upload(form: FormData, purpose: 'batch' | StoredUploadPurpose, caller: Caller, audit: AuditRecord, sdkRetry: number | undefined, retryWaitMs: number): Promise<BatchAnswer> {
    refuseFilesFormFields(form);
    const ttl = checkExpiresAfter(form.get('expires_after[anchor]'), form.get('expires_after[seconds]'), (part) => `expires_after[${part}]`);
    const file = form.get('file');
    if (!(file instanceof File)) throw invalid('file is required as a file part (with a filename)', 'file', file === null ? 'missing_required_parameter' : 'invalid_value');
    refuseGatewayFilename(purpose, file.name, 'file');
    const content = new Uint8Array(await file.arrayBuffer());
    const requests = checkGatewayFile(purpose, file.name, content, 'file');
    const requestHash = uploadRequestHash(caller.userId, { purpose, filename: file.name, content, anchor: form.get('expires_after[anchor]'), seconds: form.get('expires_after[seconds]') });
    const first = sdkRetry === undefined ? undefined : await this.retriedUpload(caller, requestHash, retryWaitMs);
    const counted: Record<string, number> = requests === undefined ? {} : { requests };
    if (first) {
      audit.detail = { ...audit.detail, fileId: first.id, bytes: first.bytes, purpose, ...counted, retryOf: first.id };
      return json(openAiFile(first));
    }
    const stored = this.fileOf(purpose, file.name, content.byteLength, ttl, requestHash);
    await underNote(this.deps.pending, caller.tenantId, pendingKey('files', requestHash), () => this.deps.files.put(caller.tenantId, stored, content));
    audit.detail = { ...audit.detail, fileId: stored.id, bytes: stored.bytes, purpose, ...counted };
    return json(openAiFile(stored));
  }

  /**
   * A file assembled by OpenAI's Uploads API (../uploads/gateway-uploads.ts, `client.uploads.complete`), checked as
   * `POST /v1/files` checks an upload of its purpose (gatewayFileCheck, as the parts are read; its name was checked at
   * the upload's create: refuseGatewayFilename) and stored as the caller's file, as one `POST /v1/files` stores. Where
   * the file store composes objects (S3BatchFileStore.putComposed) and the parts are S3 objects (`parts.composeTo`),
   * the parts become the file's object without passing through memory; otherwise (`tessera serve`) they are read into
   * memory and put as one.
   * @param ttl seconds the file lives (the upload's `expires_after`) @default - DEFAULT_FILE_TTL_SECONDS for `batch`, kept until deleted otherwise
   * @param field the request field the content's errors name @default `file`
   * @returns the stored file
   * @throws GatewayError 400 `invalid_file_format` / `too_many_tasks` naming `field` (or the parts' own check's field: `md5`)
   */
  async storeAssembled(caller: Caller, upload: { purpose: 'batch' | StoredUploadPurpose; filename: string; bytes: number; parts: UploadedParts; ttl?: number }, field = 'file'): Promise<BatchFile> {
    const check = gatewayFileCheck(upload.purpose, upload.filename, field);
    const stored = this.fileOf(upload.purpose, upload.filename, upload.bytes, upload.ttl);
    const { files } = this.deps;
    if (files.putComposed && upload.parts.composeTo) {
      await files.putComposed(caller.tenantId, stored, (target) => upload.parts.composeTo!(target, check));
      return stored;
    }
    const pieces: Uint8Array[] = [];
    for await (const piece of upload.parts.pieces(check)) pieces.push(piece);
    await files.put(caller.tenantId, stored, Buffer.concat(pieces));
    return stored;
  }

  /** The caller's file `id` of the gateway's purposes, unexpired, or undefined (another tenant's id, a malformed one). */
  async file(caller: Caller, id: string): Promise<BatchFile | undefined> {
    return isBatchFileId(id) ? this.deps.files.get(caller.tenantId, id) : undefined;
  }

  /** Removes the caller's file `id` (nothing when there is none). */
  async deleteFile(caller: Caller, id: string): Promise<void> {
    await this.deps.files.delete(caller.tenantId, id);
  }

  /** A new file's record: a `batch` file lives `ttl` or DEFAULT_FILE_TTL_SECONDS, a file of another purpose `ttl` or until deleted. */
  private fileOf(purpose: 'batch' | StoredUploadPurpose, filename: string, bytes: number, ttl: number | undefined, requestHash?: string): BatchFile {
    const created = now();
    const life = ttl ?? (purpose === 'batch' ? DEFAULT_FILE_TTL_SECONDS : undefined);
    return { id: newFileId(), filename, purpose, bytes, createdAt: created, expiresAt: life === undefined ? null : created + life, ...(requestHash ? { requestHash } : {}) };
  }

  /**
   * What an official client's retry of an upload is answered: once no attempt of the same fingerprint is still storing
   * its file (awaitFirstAttempt, `retryWaitMs` at most), the file uploadedBy finds, or undefined (the retry stores its own).
   * @throws GatewayError 409 `create_in_progress` (retryable) when the first attempt still stores it after the wait
   */
  private async retriedUpload(caller: Caller, requestHash: string, retryWaitMs: number): Promise<BatchFile | undefined> {
    if (this.deps.pending) await awaitFirstAttempt(this.deps.pending, caller.tenantId, pendingKey('files', requestHash), 'files.create', retryWaitMs);
    return this.uploadedBy(caller, requestHash);
  }

  /**
   * The file an official client's retry of an upload asks for: the tenant's newest file whose upload had the same
   * fingerprint (`requestHash`: the same user, purpose, name, content and expires_after), made within
   * RETRY_WINDOW_SECONDS and not expired. Its first attempt stored the file, and the answer was lost (a reset
   * connection, API Gateway's 504, the client's own timeout): the retry stored a second one. Listed only on a retry.
   */
  private async uploadedBy(caller: Caller, requestHash: string): Promise<BatchFile | undefined> {
    const since = now() - RETRY_WINDOW_SECONDS;
    const files = await this.deps.files.list(caller.tenantId); // oldest first
    for (let i = files.length - 1; i >= 0; i--) {
      const f = files[i]!;
      if (f.requestHash === requestHash && f.createdAt >= since) return fileExpired(f, Date.now()) ? undefined : f;
    }
    return undefined;
  }

  private async listFiles(caller: Caller, audit: AuditRecord, query: Record<string, string | undefined>, fineTuning?: FineTuningFiles): Promise<BatchAnswer> {
    audit.action = 'file.list';
    const limit = integerQuery(query, 'limit', { min: 1, max: 10_000, fallback: 10_000 });
    const after = cursorQuery(query, 'after');
    const order = query.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw invalid(`order ${quoted(order)} must be "asc" or "desc"`, 'order', 'invalid_value');
    const purpose = query.purpose;
    type Listed = { id: string; [k: string]: unknown };
    let files: Listed[] = [];
    // Only the files the caller may read: the gateway's need `inference` (a viewer listed them, then got 403 on each).
    if ((purpose === undefined || purpose === 'batch' || purpose === 'batch_output' || isStoredUploadPurpose(purpose)) && can(caller.role, 'inference')) {
      files = (await this.deps.files.list(caller.tenantId)).filter((f) => purpose === undefined || f.purpose === purpose).map(openAiFile);
    }
    // A cursor is a position in id order (ids are time-ordered), not a file that must still exist.
    if (after !== undefined && !isBatchFileId(after)) throw notFound(`file ${quoted(after)} (after) does not exist`, 'after', 'file_not_found');
    // The fine-tune files of this page: the first `limit` after the cursor in this order, the most the page can hold of
    // them; `has_more` says whether more are stored. They were read as the oldest 10,000 (the fine-tuning list's
    // default limit) and paged here: past 10,000 files, the newer ones were never listed, and no page said so.
    let moreFineTuning = false;
    if (fineTuning && (purpose === undefined || purpose === 'fine-tune') && can(caller.role, 'fine_tuning.read')) {
      const answer = await fineTuning({ purpose: 'fine-tune', order, limit: String(limit), ...(after !== undefined ? { after } : {}) });
      if (answer.status === 200 && answer.contentType === undefined) {
        const page = JSON.parse(answer.body) as { data: Listed[]; has_more: boolean };
        files.push(...page.data);
        moreFineTuning = page.has_more;
      }
    }
    files.sort((a, b) => a.id.localeCompare(b.id));
    if (order === 'desc') files.reverse();
    if (after !== undefined) files = files.filter((f) => (order === 'desc' ? f.id < after : f.id > after));
    const data = files.slice(0, limit);
    return json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: files.length > limit || moreFineTuning });
  }

  /**
   * `POST /v1/batches`: the input file is read and checked (input-file.ts readBatchFile) before the answer; a file
   * that breaks a rule makes a batch that has `failed` with `errors` naming each line, as OpenAI's does (OpenAI reports
   * it once its validation ran; here it is in the create's answer already). Otherwise the batch is `validating` and
   * `start` runs it. `expires_at` is 24 hours after creation (completion_window).
   * @throws GatewayError 400 naming the field (`endpoint` not served here, `completion_window` not "24h", metadata
   *   or `output_expires_after` out of range); 404 `file_not_found` naming `input_file_id` (unknown, another tenant's, or not purpose "batch");
   *   409 `create_in_progress` (retryable) to an SDK retry whose first attempt still runs after `retryWaitMs` (pending-creates.ts retryWaitMsOf)
   */
  private async create(raw: string | undefined, caller: Caller, audit: AuditRecord, sdkRetry: number | undefined, retryWaitMs: number): Promise<BatchAnswer> {
    const body = parseJson(raw);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the request body must be a JSON object', null, 'invalid_request');
    const b = body as Record<string, unknown>;
    const allowed = ['input_file_id', 'endpoint', 'completion_window', 'metadata', 'output_expires_after'];
    const unknown = Object.keys(b).find((k) => !allowed.includes(k));
    if (unknown) throw invalid(`unknown parameter ${quoted(unknown)} (POST /v1/batches takes ${allowed.join(', ')})`, unknown.slice(0, 100), 'unknown_parameter');
    for (const field of ['input_file_id', 'endpoint', 'completion_window']) {
      if (b[field] === undefined || b[field] === null) throw invalid(`${field} is required`, field, 'missing_required_parameter');
      if (typeof b[field] !== 'string' && field !== 'completion_window') throw invalid(`${field} must be a string`, field, 'invalid_type');
    }
    const endpoint = b.endpoint as string;
    if (!(BATCH_ENDPOINTS as readonly string[]).includes(endpoint)) {
      throw invalid(OPENAI_BATCH_ENDPOINTS.includes(endpoint)
        ? `endpoint ${quoted(endpoint)} is not served by this gateway's Batch API; it serves ${BATCH_ENDPOINTS.join(', ')}`
        : `endpoint ${quoted(endpoint)} is not one of ${BATCH_ENDPOINTS.join(', ')}`, 'endpoint', 'unsupported_value');
    }
    // OpenAI's words for a value outside an enum (BatchCreateParams.completion_window: '24h'): `Invalid value: '48h'.
    // Supported values are: '24h'.` (`invalid_value`); a value of another kind its `invalid_type` (it said
    // `completion_window "48h" is not supported: only "24h" is` until 2026-12-07).
    if (b.completion_window !== '24h') refuse(outside('completion_window', b.completion_window, ['24h']), 'completion_window');
    const metadata = checkMetadata(b.metadata);
    let outputTtl = DEFAULT_FILE_TTL_SECONDS;
    if (b.output_expires_after !== undefined && b.output_expires_after !== null) {
      const o = b.output_expires_after as Record<string, unknown>;
      if (typeof o !== 'object' || Array.isArray(o)) throw invalid('output_expires_after must be an object {anchor: "created_at", seconds}', 'output_expires_after', 'invalid_type');
      outputTtl = checkExpiresAfter(o.anchor, o.seconds, (part) => `output_expires_after.${part}`)!;
    }
    const fileId = b.input_file_id as string;
    audit.detail = { ...audit.detail, inputFileId: fileId.slice(0, 100), endpoint };
    // The rest runs under the create's note (pending-creates.ts): a retry that arrives while an attempt of the same user
    // and body still reads its file, records or starts its batch waits for that attempt, then is answered its batch
    // (below) or gets the retryable 409 create_in_progress; it found no batch yet and ran every request a second time.
    const requestHash = createRequestHash(caller.userId, raw);
    const key = pendingKey('batches', requestHash);
    if (sdkRetry !== undefined && this.deps.pending) await awaitFirstAttempt(this.deps.pending, caller.tenantId, key, 'batches.create', retryWaitMs);
    return underNote(this.deps.pending, caller.tenantId, key, () => this.makeBatch(fileId, endpoint, metadata, outputTtl, requestHash, caller, audit, sdkRetry));
  }

  /**
   * The part of `POST /v1/batches` under its note (create): an official client's retry answered the batch its first
   * attempt made (same user and body, `requestHash`), else the input file read and checked, the batch recorded and started.
   * @throws GatewayError 404 `file_not_found` naming `input_file_id`; 503 `batch_not_started`
   */
  private async makeBatch(fileId: string, endpoint: string, metadata: Record<string, string> | null, outputTtl: number, requestHash: string, caller: Caller, audit: AuditRecord, sdkRetry: number | undefined): Promise<BatchAnswer> {
    // An official client's retry of a create whose batch was made (its answer lost: a reset connection, the client's
    // own timeout) is answered that batch, as the first attempt would have been: its retry ran every request again.
    // Only on a retry, so a create lists nothing; a batch that failed (not started: batch_not_started) or was cancelled is no answer.
    // The newest batch of the same user and body decides (the list is newest first): a failed one is the trace of this
    // call's own first attempt (batch_not_started), and an older batch of an earlier, deliberate create of the same
    // body is no answer to this call.
    if (sdkRetry !== undefined) {
      const newest = (await this.deps.batches.list(caller.tenantId)).find((i) => i.requestHash === requestHash && i.owner.userId === caller.userId
        && i.batch.created_at >= now() - RETRY_WINDOW_SECONDS);
      const first = newest && !['failed', 'cancelling', 'cancelled'].includes(newest.batch.status) ? newest : undefined;
      if (first) {
        audit.detail = { ...audit.detail, batchId: first.batch.id, retryOf: first.batch.id };
        return json(first.batch);
      }
    }
    const file = isBatchFileId(fileId) ? await this.deps.files.get(caller.tenantId, fileId) : undefined;
    if (!file || file.purpose !== 'batch') {
      throw notFound(file ? `file ${fileId} has purpose "${file.purpose}"; a batch's input_file_id must be a file uploaded with purpose "batch"` : `No such File object: ${fileId.slice(0, 100)}`, 'input_file_id', 'file_not_found');
    }
    const read = await this.readInput(caller.tenantId, file, endpoint);
    if (!read) throw notFound(`No such File object: ${fileId}`, 'input_file_id', 'file_not_found');
    const created = now();
    const batch: Batch = {
      id: newBatchId(), object: 'batch', endpoint, input_file_id: fileId, completion_window: '24h', status: 'validating',
      created_at: created, expires_at: created + COMPLETION_WINDOW_SECONDS, metadata, errors: undefined,
      request_counts: { ...noCounts(), total: read.total }, ...(read.model ? { model: read.model } : {}),
    };
    if (read.errors.length) Object.assign(batch, { status: 'failed', failed_at: created, errors: { object: 'list', data: read.errors }, request_counts: noCounts() });
    const owner: BatchOwner = { tenantId: caller.tenantId, userId: caller.userId, role: caller.role, ...(caller.keyId ? { keyId: caller.keyId } : {}) };
    // The create's tags (x-tessera-tags, on its audit record: Gateway.handle) are kept with the batch: each of its requests runs with them (runner.ts runLines).
    const item: StoredBatch = { batch, owner, outputTtlSeconds: outputTtl, requestHash, ...(read.blocks && !read.errors.length ? { inputBlocks: read.blocks } : {}), ...(audit.tags?.length ? { tags: [...audit.tags] } : {}) };
    await this.deps.batches.put(item);
    audit.detail = { ...audit.detail, batchId: batch.id, requests: read.total };
    if (batch.status === 'validating') await this.started(item);
    return json(batch);
  }

  /**
   * Reads and checks a batch's input file (readBatchFile's checks): where the file store reads in ranges (`open`, on
   * AWS) as a stream, line by line, holding no more than a line and the custom_ids (batch-file-ranges.ts scanBatchFile),
   * with where each block of requests starts (`blocks`, for the worker's chunks); otherwise (`tessera serve`) whole.
   * @returns the number of valid requests, the model, the errors; undefined when the file's bytes are gone
   */
  private async readInput(tenantId: string, file: BatchFile, endpoint: string): Promise<{ total: number; model: string | undefined; errors: BatchLineError[]; blocks?: BatchInputBlock[] } | undefined> {
    const { files } = this.deps;
    if (files.open) return scanBatchFile((offset) => files.open!(tenantId, file.id, offset, file), file.bytes, endpoint);
    const content = await files.content(tenantId, file.id, file);
    if (!content) return undefined;
    const read = readBatchFile(content, endpoint);
    return { total: read.lines.length, model: read.model, errors: read.errors };
  }

  /**
   * Starts a created batch's run (`deps.start`: on AWS a message to the work queue). When that fails the batch is
   * marked `failed` (`batch_not_started`) before the error goes out, so the create's retry (the official clients retry
   * a 5xx twice) does not leave a batch behind that stays `validating` for ever and never runs; a message sent after
   * all (a lost answer) finds it ended and runs nothing (runner.ts beginBatch).
   * @throws GatewayError 503 `batch_not_started`: nothing ran; the same create again is a new batch
   */
  private async started(item: StoredBatch): Promise<void> {
    try {
      await this.deps.start(item);
    } catch (e) {
      const { tenantId } = item.owner;
      const message = `batch ${item.batch.id} could not be started (${errorCause(e)}); it is marked failed and nothing ran: create it again`;
      const error = { code: 'batch_not_started', message, line: null, param: null };
      await this.deps.batches.update(tenantId, item.batch.id, (c) => (c.batch.status === 'validating'
        ? { ...c, batch: { ...c.batch, status: 'failed', failed_at: now(), errors: { object: 'list', data: [error] }, request_counts: noCounts() } } : undefined));
      throw new GatewayError(503, message, 'server_error', 'batch_not_started');
    }
  }

  private async list(caller: Caller, query: Record<string, string | undefined>): Promise<BatchAnswer> {
    const limit = integerQuery(query, 'limit', { min: 1, max: MAX_LIST, fallback: 20 });
    const after = cursorQuery(query, 'after');
    let items = await this.deps.batches.list(caller.tenantId);
    // A cursor is a position in id order (ids are time-ordered), as the Files API's; one that is no batch id (a file id,
    // a typo) would have listed every batch from the start, as if `after` were not given.
    if (after !== undefined && !isBatchId(after)) throw notFound(`batch ${quoted(after)} (after) does not exist`, 'after', 'batch_not_found');
    if (after !== undefined) items = items.filter((i) => i.batch.id < after);
    const data = items.slice(0, limit).map((i) => i.batch);
    return json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: items.length > limit });
  }

  private async batch(caller: Caller, id: string): Promise<StoredBatch> {
    const item = isBatchId(id) ? await this.deps.batches.get(caller.tenantId, id) : undefined;
    if (!item) throw notFound(`No such Batch object: ${id.slice(0, 100)}`, 'batch_id', 'batch_not_found');
    return item;
  }

  /**
   * `POST /v1/batches/{id}/cancel`: a `validating` or `in_progress` batch becomes `cancelling`; the runner lets the
   * requests in flight finish, runs no other, writes the output and error files of what ran, then `cancelled`.
   * A batch already cancelling or cancelled is answered as it is.
   * @throws GatewayError 409 `batch_not_cancellable` naming `batch_id` for a batch that has ended (completed, failed, expired)
   */
  private async cancel(caller: Caller, id: string): Promise<BatchAnswer> {
    await this.batch(caller, id);
    let ended: Batch['status'] | undefined;
    const item = await this.deps.batches.update(caller.tenantId, id, (current) => {
      const status = current.batch.status;
      if (status === 'cancelling' || status === 'cancelled') return undefined;
      if (TERMINAL.has(status)) {
        ended = status;
        return undefined;
      }
      return { ...current, batch: { ...current.batch, status: 'cancelling', cancelling_at: now() } };
    });
    if (ended) throw new GatewayError(409, `batch ${id} cannot be cancelled: its status is "${ended}"`, 'invalid_request_error', 'batch_not_cancellable', 'batch_id');
    return json(item!.batch);
  }
}

/** The audit action of each batch route. */
const BATCH_ACTIONS: Record<string, string> = { 'POST batches': 'create', 'GET batches': 'list', 'GET batches/:id': 'read', 'POST batches/:id/cancel': 'cancel' };

/** OpenAI's FileObject of a gateway file; `expires_at` null for a file kept until deleted, as OpenAI answers it. */
/**
 * Refuses a file name `POST /v1/files` (and `POST /v1/uploads`) would not store for `purpose`: 1 to 255 bytes, no "/",
 * "\\" or control characters; a `batch` file's ends `.jsonl` (JSON Lines).
 * @param field the request field that carries the name (`file` on /v1/files, `filename` on /v1/uploads)
 * @throws GatewayError 400 `invalid_file_format` naming `field`
 */
export function refuseGatewayFilename(purpose: 'batch' | StoredUploadPurpose, name: string, field: string): void {
  const badName = !name || Buffer.byteLength(name) > 255 || /[/\\\u0000-\u001f\u007f]/.test(name);
  if (purpose !== 'batch') {
    if (badName) throw invalid(`${field} ${quoted(name)}: a file name is 1 to 255 bytes, with no "/", "\\" or control characters`, field, 'invalid_file_format');
    return;
  }
  if (badName || !/\.jsonl$/i.test(name)) {
    throw invalid(`${field} ${quoted(name)}: a batch input file is JSON Lines with a file name ending .jsonl (a name of 1 to 255 bytes, with no "/", "\\" or control characters)`, field, 'invalid_file_format');
  }
}

/**
 * Checks a file's bytes as OpenAI does for its purpose: `user_data` and `vision` by checkInputFile (its name's type,
 * its bytes of it, not empty), `assistants` (a vector store's file) as `user_data`; `batch`: UTF-8 JSON Lines of at
 * most MAX_BATCH_REQUESTS request objects and at least one (the rules that need the batch, url = endpoint, one model,
 * unique custom_id, are checked at batches.create, where OpenAI reports them).
 * @param field the request field the errors name (`file`)
 * @returns the number of requests of a `batch` file; undefined for the other purposes
 * @throws GatewayError 400 `invalid_file_format` or `too_many_tasks` naming `field`
 */
export function checkGatewayFile(purpose: 'batch' | StoredUploadPurpose, name: string, content: Uint8Array, field: string): number | undefined {
  const check = gatewayFileCheck(purpose, name, field);
  check.push(content);
  return check.end();
}

/**
 * checkGatewayFile on a file that arrives in pieces (an upload's parts, read in order at `complete`): the same checks
 * and messages, holding only the line being read (a batch file) or the leading bytes (input-files.ts InputFileCheck).
 * `end` returns the number of requests of a batch file, undefined for another purpose.
 */
export function gatewayFileCheck(purpose: 'batch' | StoredUploadPurpose, name: string, field: string): { push(bytes: Uint8Array): void; end(): number | undefined } {
  if (purpose !== 'batch') return new InputFileCheck(purpose, name, field);
  return new BatchInputFileCheck(name, field);
}

/** A batch input file read in pieces: UTF-8 JSON Lines, each non-blank line a JSON object, 1 to MAX_BATCH_REQUESTS of them. */
class BatchInputFileCheck extends Utf8LineReader {
  private requests = 0;

  constructor(private readonly name: string, private readonly field: string) {
    super();
  }

  end(): number {
    this.finish();
    if (!this.requests) throw invalid(`${this.field} ${quoted(this.name)} holds no request`, this.field, 'invalid_file_format');
    return this.requests;
  }

  protected notUtf8(): GatewayError {
    return invalid(`${this.field} ${quoted(this.name)} is not UTF-8 text`, this.field, 'invalid_file_format');
  }

  protected checkLine(line: string): void {
    if (!line.trim()) return;
    const { field, name } = this;
    if (++this.requests > MAX_BATCH_REQUESTS) throw invalid(`${field} ${quoted(name)} has more than ${MAX_BATCH_REQUESTS} requests, the most of one batch`, field, 'too_many_tasks');
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw invalid(`${field} ${quoted(name)}: line ${this.line} is not valid JSON; a batch input file holds one request object per line`, field, 'invalid_file_format');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${field} ${quoted(name)}: line ${this.line} is not a JSON object`, field, 'invalid_file_format');
  }
}

export const openAiFile = (f: BatchFile) => ({ id: f.id, object: 'file' as const, bytes: f.bytes, created_at: f.createdAt, filename: f.filename, purpose: f.purpose, status: 'processed' as const, status_details: null, expires_at: f.expiresAt ?? null });

/**
 * An `expires_after` (upload, form fields `expires_after[anchor]` and `expires_after[seconds]`) or
 * `output_expires_after` (batch, JSON): anchor `created_at`, seconds 3,600 to 2,592,000 (openai
 * FileCreateParams.ExpiresAfter, BatchCreateParams.OutputExpiresAfter).
 * @param field the name of a part as the request spelled it (`expires_after[seconds]`, `output_expires_after.seconds`)
 * @returns the seconds, or undefined when neither part is given
 * @throws GatewayError 400 naming `field('anchor')` / `field('seconds')`: seconds out of range with OpenAI's bound words
 *   and code (`integer_above_max_value`, `integer_below_min_value`: refuseIntegerOutOfRange), any other value `invalid_value`
 */
export function checkExpiresAfter(anchor: unknown, seconds: unknown, field: (part: 'anchor' | 'seconds') => string): number | undefined {
  if ((anchor === null || anchor === undefined) && (seconds === null || seconds === undefined)) return undefined;
  if (anchor !== 'created_at') throw invalid(`${field('anchor')} ${quoted(anchor)} is not supported: only "created_at" is`, field('anchor'), 'invalid_value');
  const n = typeof seconds === 'string' && /^\d+$/.test(seconds) ? Number(seconds) : seconds;
  refuseIntegerOutOfRange(field('seconds'), n, { min: MIN_TTL, max: MAX_TTL });
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_TTL || n > MAX_TTL) throw invalid(`${field('seconds')} ${quoted(seconds)} must be an integer from ${MIN_TTL} (1 hour) to ${MAX_TTL} (30 days)`, field('seconds'), 'invalid_value');
  return n;
}

/**
 * The 413 of a `POST /v1/files` body over `maxBytes` (the file and its multipart framing), whose purpose is not known:
 * the body was not read past the limit. It names what each purpose can do instead: the Uploads API, which takes the
 * gateway's purposes wherever the Batch API is served (../uploads/gateway-uploads.ts), and splitting a batch file; the
 * fine-tuning ways (the Uploads API for `fine-tune`, the tenant bucket's `training-data/`) only where fine-tuning is served.
 * @param maxBytes the most a body may have, in bytes
 * @param fineTuningServed whether this gateway serves the fine-tuning Files and Uploads APIs
 */
export function uploadTooLarge(maxBytes: number, fineTuningServed: boolean): string {
  return `the request body is over ${maxBytes} bytes, the most POST /v1/files reads on this gateway (a Lambda invocation takes at most 6 MB): `
    + 'send a larger "batch", "user_data", "vision" or "assistants" file in parts with the Uploads API (POST /v1/uploads, its parts, then complete; Node: client.uploads.create / parts.create / complete; Python: client.uploads.upload_file_chunked), or split a batch file\'s requests into several batch files'
    + (fineTuningServed ? '; a "fine-tune" file: send it in parts with the Uploads API too, or put larger training data into your bucket\'s training-data/ prefix and name it by key in training_file' : '');
}
