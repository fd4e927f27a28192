import { createHash, randomBytes } from 'node:crypto';
import type { AuditRecord } from '../inference/audit.js';
import type { Caller } from '../inference/auth.js';
import { GatewayError, invalid, notFound } from '../inference/openai-errors.js';
import { parseJson } from '../inference/request-body.js';
import { createRequestHash } from '../inference/sdk-retry.js';
import { createInProgress } from '../inference/pending-creates.js';
import { refuseRepeatedQuery, refuseUnknownQuery } from '../inference/query-parameters.js';
import { refuseTrainingFilename, newFileId, newTimeOrderedId, type FilesResponse } from './files-service.js';
import { FineTuningFileCheck } from './training-file-format.js';
import type { ContentCheck } from '../shared/s3-compose.js';
import { UploadChanged, type FileLocation, type StoredFile, type StoredUpload, type TrainingFileStore, type VersionedUpload } from './stores/file-store.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-fine-tuning');

/** Upload ids: `upload_` and 24 hex digits (milliseconds, then random), as OpenAI's `upload_…`. */
export const UPLOAD_ID = /^upload_[a-f0-9]{24}$/;
/** Part ids: `part_` and 24 hex digits, as OpenAI's `part_…`. */
export const PART_ID = /^part_[a-f0-9]{24}$/;
const UPLOAD_PATH = /^\/v1\/uploads(?:\/(?<id>[^/]+)(?:\/(?<action>parts|complete|cancel))?)?$/;
/** How long an upload takes parts: an hour (OpenAI API reference, "Create upload": "expires after an hour"). */
export const UPLOAD_TTL_SECONDS = 3600;

/**
 * The largest part `POST /v1/uploads/{id}/parts` takes on the deployed path: 4 MiB, as `POST /v1/files` (lib/fine-tuning.ts
 * MAX_TRAINING_FILE_BYTES): API Gateway hands the multipart body to Lambda base64-encoded and Lambda takes at most 6 MB
 * per synchronous invocation (Lambda quotas, "Invocation payload").
 */
export const LAMBDA_MAX_PART_BYTES = 4 * 1024 * 1024;
/** The largest part `tessera serve` takes: OpenAI's 64 MB (the Python client's DEFAULT_PART_SIZE, 64 MiB). */
export const SERVE_MAX_PART_BYTES = 64 * 1024 * 1024;
/**
 * The largest upload the deployed fine-tuning Lambda assembles inside `complete`, within API Gateway's 29 s integration
 * timeout: 256 MiB. Measured: the check of each line (FineTuningFileCheck) and the MD5 run at 310-330 MB/s on one core
 * (AMD EPYC, chat examples of ~800 bytes, 128 MiB); the Lambda's 512 MB of memory give it ~0.29 of a vCPU (Lambda
 * allocates CPU in proportion to memory, one vCPU at 1,769 MB), so ~90 MB/s; S3 reads and writes at 85-90 MB/s a
 * connection (S3 performance guidelines). Since 2026-12-06 the parts are composed by S3 (s3-compose.ts) and streamed
 * through the check, so memory no longer bounds it; time does: remeasured on a loaded Intel Xeon the check ran at
 * 161 MB/s (~47 MB/s on the Lambda), so 256 MiB stay within a third of the timeout, and OpenAI's 512 MB would not
 * leave the room for a slower S3 or a colder Lambda (docs/fine-tuning.md, "Large files: the Uploads API").
 */
export const LAMBDA_MAX_UPLOAD_BYTES = 256 * 1024 * 1024;
/**
 * The most parts one upload takes, on both paths: 256. OpenAI states no bound on the number of parts (only 64 MB a part
 * and 8 GB an upload: openai `Parts.create`), but a complete reads each part with one request of its own (S3 GetObject
 * on the deployed path, one part read ahead of the one being checked), and S3 answers small requests (under 512 KB) in
 * a median of tens of milliseconds (Amazon S3 performance guidelines, "Timeouts and retries for latency-sensitive
 * applications"): 256 reads at 50 ms are ~13 s, which with the ~9 s of LAMBDA_MAX_UPLOAD_BYTES's bytes stays inside API
 * Gateway's 29 s; 10,000 one-byte parts would take minutes. 256 parts of the largest part still carry the largest
 * upload on either path (256 x 4 MiB = 1 GiB >= 256 MiB on AWS; 256 x 64 MiB >= 512 MiB on `tessera serve`): a file
 * of the largest size needs parts averaging 1 MiB on AWS, 2 MiB on `tessera serve`. `tessera serve` reads its parts
 * from memory and could take more; it keeps the same bound so that a script that works there works deployed.
 */
export const MAX_UPLOAD_PARTS = 256;
/**
 * How long a `complete` holds an upload (status `completing`) before another request may take it over: 60 s, twice
 * the fine-tuning API Lambda's 29 s timeout (constructs/fine-tuning.ts), so a hold outlives the request that took it
 * and only a request that died (timed out, crashed) leaves one to run out.
 */
export const COMPLETE_HOLD_SECONDS = 60;
/**
 * The longest a part, complete or cancel waits for another request's `complete` of the same upload to end, in ms: 20 s,
 * within API Gateway's 29 s integration timeout; then a 409 `upload_completing`.
 */
export const SETTLE_WAIT_MS = 20_000;
const SETTLE_POLL_MS = 50;
/**
 * How often, at most, a create sweeps the store of the uploads whose parts lapsed (partsLapsed; TrainingFileStore
 * sweepUploads, on `tessera serve`), in seconds: 10 minutes. Parts are only ever added by requests to this service, so
 * a sweep run by its creates, and by `tessera serve` at start, keeps an abandoned upload's parts for at most its hour,
 * a minute of grace and this interval after the next create, of any tenant; a timer would need a stop that the serve's
 * gateway does not have, and would sweep a store that nothing adds to.
 */
export const UPLOAD_SWEEP_INTERVAL_SECONDS = 600;

/**
 * How long an upload's record is kept after its expiry (or its last complete's hold) on a store that nothing else
 * empties (`tessera serve`), in seconds: a day. Until then a part, complete or cancel of it is answered as OpenAI answers
 * an expired or ended upload (400 `upload_expired`, `upload_completed`; an SDK retry of its complete, its file), after
 * it a 404 `upload_not_found`; without it the records of every upload ever made stayed, each swept (stat) every time.
 */
export const UPLOAD_RECORD_KEPT_SECONDS = 86_400;

/** Whether an upload's record may go, at `now` (seconds since the epoch): its parts lapsed and UPLOAD_RECORD_KEPT_SECONDS passed since its expiry and any hold. */
export function recordLapsed(upload: StoredUpload, now: number): boolean {
  return partsLapsed(upload, now) && now >= Math.max(upload.expiresAt, upload.completingUntil ?? 0) + UPLOAD_RECORD_KEPT_SECONDS;
}

/**
 * Sweeps `store` at `now` (seconds since the epoch): the parts of lapsed uploads (partsLapsed) and the records of
 * uploads a day past their expiry (recordLapsed; only records last written before then are read: an upload's
 * `expires_at` is at most UPLOAD_TTL_SECONDS after its last write). @returns how many uploads were swept
 */
export function sweepLapsedUploads(store: Required<Pick<TrainingFileStore, 'sweepUploads'>>, now: number): Promise<number> {
  return store.sweepUploads((upload) => partsLapsed(upload, now), {
    lapsed: (upload) => recordLapsed(upload, now),
    writtenBeforeMs: (now - UPLOAD_TTL_SECONDS - UPLOAD_RECORD_KEPT_SECONDS) * 1000,
  });
}

/**
 * Whether an upload's stored parts are no longer of use, at `now` (seconds since the epoch): it expired (expires_at
 * passed, no complete can begin) or ended (completed, cancelled: their parts are deleted by that request, unless it died
 * first), and COMPLETE_HOLD_SECONDS have passed since its expiry and since any complete's hold ran out, so no complete
 * that began in time still reads them.
 */
export function partsLapsed(upload: StoredUpload, now: number): boolean {
  return now >= Math.max(upload.expiresAt, upload.completingUntil ?? 0) + COMPLETE_HOLD_SECONDS
    || ((upload.status === 'completed' || upload.status === 'cancelled') && now >= (upload.completingUntil ?? 0) + COMPLETE_HOLD_SECONDS);
}

/** The largest upload `tessera serve` assembles: OpenAI's 512 MB limit of a file (OpenAI API reference, "Upload file"). */
export const SERVE_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;
/** Room for the multipart framing around the largest part. */
const PART_FORM_OVERHEAD = 64 * 1024;
/** The most bytes `tessera serve` reads of a part's request (local-server.ts): the largest part and its framing. */
export const SERVE_MAX_PART_BODY_BYTES = SERVE_MAX_PART_BYTES + PART_FORM_OVERHEAD;
/** The MIME types a fine-tuning upload may announce (JSON Lines, and the generic ones clients fall back to). */
const MIME_TYPES = ['text/jsonl', 'application/jsonl', 'application/x-ndjson', 'application/jsonlines', 'text/plain', 'application/octet-stream'];
/** The fields of `POST /v1/uploads` (OpenAI API reference, "Create upload"). */
const CREATE_FIELDS = ['bytes', 'filename', 'mime_type', 'purpose', 'expires_after'];
/** The purposes OpenAI's Files API knows (openai `FilePurpose`). */
const OPENAI_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];

/** The audit action of each route (as the Files API's `fine_tuning.file.*`). */
const UPLOAD_ACTIONS: Record<string, string> = {
  'POST uploads': 'upload.create', 'POST uploads/:id/parts': 'upload.part', 'POST uploads/:id/complete': 'upload.complete', 'POST uploads/:id/cancel': 'upload.cancel',
};

/** What TrainingUploadsService needs of the Files API (files-service.ts TrainingFilesService). */
export interface UploadsDeps {
  files: TrainingFileStore;
  /** The caller's place for files; throws 403 when its tier has no fine-tuning. */
  location: (caller: Caller) => FileLocation;
  /** OpenAI's FileObject of a stored file. */
  toOpenAiFile: (caller: Caller, file: StoredFile) => object;
  /** The largest part, in bytes. @default SERVE_MAX_PART_BYTES */
  maxPartBytes?: number;
  /** The largest upload (`bytes`), in bytes. @default SERVE_MAX_UPLOAD_BYTES */
  maxUploadBytes?: number;
  /** The most parts one upload takes. @default MAX_UPLOAD_PARTS */
  maxParts?: number;
  /** Seconds since the epoch. @default - the clock */
  now?: () => number;
  /**
   * Where uploads of the gateway's own purposes (`batch`, `assistants`, `vision`, `user_data`) become files: set, this
   * service takes those purposes and no other (`fine-tune` uploads stay the fine-tuning service's; `files` then keeps
   * only the uploads' records and parts). @default - purpose `fine-tune` only, assembled into `files`
   */
  gatewayFiles?: GatewayUploadFiles;
}

/** A file an upload of a gateway purpose became, and its OpenAI FileObject. */
export interface GatewayUploadedFile {
  id: string;
  bytes: number;
  /** OpenAI's FileObject of the file. */
  openAi: object;
}

/**
 * An upload's parts as `complete` hands them to the store of the file they become, each byte read once, in order,
 * through the store's check of the content and the upload's own (`md5`, which refuses in the check's `end`).
 */
export interface UploadedParts {
  /** The parts' bytes, in order, each piece pushed to `check` before it is yielded (`check.end()` before the last). */
  pieces(check: ContentCheck): AsyncIterable<Uint8Array>;
  /**
   * Writes the parts as the object `target.key` of the uploads' own bucket, without holding them (S3: the parts'
   * objects composed by a multipart upload, s3-compose.ts), through `check`; nothing is written when it refuses.
   * @returns the object's size in bytes
   * @default - absent where the parts are not S3 objects (`tessera serve`'s own store): `pieces` is used
   */
  composeTo?(target: { key: string; contentType: string }, check: ContentCheck): Promise<number>;
}

/**
 * The gateway's Files API as the Uploads API needs it for the purposes it stores (lambdas/inference/uploads/
 * gateway-uploads.ts): the checks `POST /v1/files` makes, and its store.
 */
export interface GatewayUploadFiles {
  /** The purposes taken (openai UploadCreateParams.purpose, less `fine-tune`). */
  purposes: readonly string[];
  /**
   * Refuses at create what the file's purpose does not take: its name, `mime_type`, `bytes` over the purpose's limit,
   * `expires_after`. @returns the file's lifetime in seconds (`expires_after.seconds`), or undefined for the purpose's default
   * @throws GatewayError 400 naming `filename`, `mime_type`, `bytes` or `expires_after.*`; 413 naming `bytes`
   */
  refuseCreate(purpose: string, request: { filename: string; mimeType: unknown; bytes: number; expiresAfter: unknown }): number | undefined;
  /**
   * Checks the upload's bytes (`parts`, `bytes` of them) as `POST /v1/files` checks a file of `purpose`, as they are
   * read, and stores them as the caller's file; nothing is stored when the check (or the upload's md5) refuses them.
   * @throws GatewayError 400 naming the field
   */
  store(caller: Caller, upload: { purpose: string; filename: string; bytes: number; parts: UploadedParts; ttl?: number }): Promise<GatewayUploadedFile>;
  /** The caller's file `id`, or undefined (gone, another tenant's). */
  get(caller: Caller, id: string): Promise<GatewayUploadedFile | undefined>;
  /** Removes the caller's file `id`. */
  delete(caller: Caller, id: string): Promise<void>;
}

/**
 * OpenAI's Uploads API for fine-tuning files (`client.uploads.create`, `.parts.create`, `.complete`, `.cancel`; Python's
 * `client.uploads.upload_file_chunked`): a file larger than one request, sent in parts and assembled at `complete` into a
 * file of the Files API (checked as `POST /v1/files` checks one: checkFineTuningFile, line by line over the parts in
 * order). The upload's record and parts live beside the files in the caller's own place (stores/file-store.ts
 * uploadPrefix), so another tenant's upload id reads as an unknown one (404). Purpose `fine-tune` only: a 400 naming
 * `purpose` otherwise. Parts are deleted at complete and cancel; the bucket's lifecycle rule on the uploads' prefix
 * removes what an expired or abandoned upload left.
 */
export class TrainingUploadsService {
  private readonly maxPartBytes: number;
  private readonly maxUploadBytes: number;
  private readonly maxParts: number;
  private readonly now: () => number;
  /** When this service last swept the store (sweepUploads), seconds since the epoch. */
  private sweptAt = -Infinity;

  constructor(private readonly deps: UploadsDeps) {
    this.maxPartBytes = deps.maxPartBytes ?? SERVE_MAX_PART_BYTES;
    this.maxUploadBytes = deps.maxUploadBytes ?? SERVE_MAX_UPLOAD_BYTES;
    this.maxParts = deps.maxParts ?? MAX_UPLOAD_PARTS;
    this.now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** The most bytes a transport should read for a part's request (the largest part and its framing). */
  get maxPartBodyBytes(): number {
    return this.maxPartBytes + PART_FORM_OVERHEAD;
  }

  /**
   * Answers one `/v1/uploads...` request.
   * @param body the request's body as text (create, complete); `bytes` the body as received (parts: multipart)
   * @param sdkRetry the official client's retry number (`x-stainless-retry-count`) @default - a first attempt
   * @param retryWaitMs how long a retry of a complete waits for its first attempt still completing the upload @default 0
   * @throws GatewayError 4xx in OpenAI's shape naming the field
   */
  async handle(method: string, path: string, query: Record<string, string | undefined>, repeatedQuery: readonly string[] | undefined, body: string | undefined, bytes: Uint8Array | undefined, contentType: string | undefined, caller: Caller, audit: AuditRecord, sdkRetry?: number, retryWaitMs = 0): Promise<FilesResponse> {
    const m = UPLOAD_PATH.exec(path);
    if (!m) throw notFound(`no route ${method} ${path}`, null, 'route_not_found');
    const { id, action } = m.groups ?? {};
    if (id && !action) throw notFound(`no route ${method} ${path}: an upload is not read back by id; POST /v1/uploads/{upload_id}/parts, /complete or /cancel`, null, 'route_not_found');
    const route = `${method} ${id ? `uploads/:id/${action}` : 'uploads'}`;
    // The fine-tuning uploads' actions are fine_tuning.upload.*, the gateway purposes' upload.* (as file.* beside fine_tuning.file.*).
    audit.action = `${this.deps.gatewayFiles ? '' : 'fine_tuning.'}${UPLOAD_ACTIONS[route] ?? 'upload.unknown'}`;
    if (id) audit.detail = { uploadId: id.length > 100 ? `${id.slice(0, 100)}…` : id };
    refuseUnknownQuery(query, [], `${method} /v1/uploads${id ? `/{upload_id}/${action}` : ''}`);
    refuseRepeatedQuery(repeatedQuery);
    if (method !== 'POST') throw new GatewayError(405, `${method} is not supported on ${path}; POST is`, 'invalid_request_error', 'method_not_allowed');
    const at = this.deps.location(caller);
    switch (action) {
      case undefined:
        // Not awaited: the create does not wait for the sweep (it logs its own failure).
        void this.sweep();
        return this.create(at, body, audit);
      case 'parts': return this.addPart(at, id!, bytes ?? (body === undefined ? undefined : Buffer.from(body)), contentType, audit);
      case 'complete': return this.complete(caller, at, id!, body, audit, sdkRetry, retryWaitMs);
      default: return this.cancel(at, id!);
    }
  }

  private async create(at: FileLocation, body: string | undefined, audit: AuditRecord): Promise<FilesResponse> {
    const request = parseJson(body);
    if (typeof request !== 'object' || request === null || Array.isArray(request)) throw invalid('the body must be a JSON object with bytes, filename, mime_type and purpose', null, 'invalid_value');
    const r = request as Record<string, unknown>;
    const unknown = Object.keys(r).find((k) => !CREATE_FIELDS.includes(k));
    if (unknown) throw invalid(`unknown parameter "${unknown.slice(0, 100)}" (POST /v1/uploads takes ${CREATE_FIELDS.join(', ')})`, unknown.slice(0, 100), 'unknown_parameter');
    for (const field of ['bytes', 'filename', 'mime_type', 'purpose']) {
      if (r[field] === undefined || r[field] === null) throw invalid(`${field} is required`, field, 'missing_required_parameter');
    }
    const { purpose, filename, mime_type: mimeType, bytes } = r;
    const gateway = this.deps.gatewayFiles;
    if (gateway) return this.createGateway(at, gateway, r, audit);
    if (typeof purpose !== 'string') throw invalid('purpose must be a string: "fine-tune"', 'purpose', 'invalid_type');
    if (purpose !== 'fine-tune') {
      throw invalid(OPENAI_PURPOSES.includes(purpose)
        ? `purpose "${purpose}" is not served by uploads: this gateway assembles uploads into fine-tuning files only (purpose "fine-tune"); send a ${purpose} file with POST /v1/files`
        : `purpose "${purpose.slice(0, 100)}" is not one of ${OPENAI_PURPOSES.join(', ')}; uploads take "fine-tune"`, 'purpose', 'unsupported_value');
    }
    if (typeof filename !== 'string') throw invalid('filename must be a string', 'filename', 'invalid_type');
    refuseTrainingFilename(filename, 'filename');
    if (typeof mimeType !== 'string' || !MIME_TYPES.includes(mimeType.toLowerCase())) {
      throw invalid(`mime_type ${JSON.stringify(typeof mimeType === 'string' ? mimeType.slice(0, 100) : mimeType)} is not one of a fine-tuning file's (JSON Lines): ${MIME_TYPES.join(', ')}`, 'mime_type', 'invalid_value');
    }
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) throw invalid(`bytes ${shown(bytes)} must be a positive integer (the file's size in bytes, at most ${this.maxUploadBytes})`, 'bytes', 'invalid_value');
    if (bytes > this.maxUploadBytes) {
      throw new GatewayError(413, `bytes ${bytes} is over the ${this.maxUploadBytes}-byte limit of an upload here (its parts are checked and assembled within one request of complete); put larger training data into your bucket's training-data/ prefix and name it by key in training_file`, 'request_too_large', 'request_too_large', 'bytes');
    }
    if (r.expires_after !== undefined) {
      throw invalid('expires_after is not supported: a fine-tuning file expires with your tenant\'s training data (the tier\'s training.dataRetentionDays); delete it sooner with DELETE /v1/files/{file_id}', 'expires_after', 'unsupported_parameter');
    }
    const created = this.now();
    const upload: StoredUpload = { id: newTimeOrderedId('upload_'), bytes, filename, mimeType, purpose, createdAt: created, expiresAt: created + UPLOAD_TTL_SECONDS, status: 'pending' };
    await this.deps.files.putUpload(at, upload, null);
    audit.detail = { uploadId: upload.id, filename, bytes };
    return json(this.toOpenAiUpload(upload));
  }

  /** `POST /v1/uploads` of a gateway purpose (gatewayFiles): the purpose's checks, then the upload's record. */
  private async createGateway(at: FileLocation, gateway: GatewayUploadFiles, r: Record<string, unknown>, audit: AuditRecord): Promise<FilesResponse> {
    const { purpose, filename, mime_type: mimeType, bytes } = r;
    if (typeof purpose !== 'string' || !gateway.purposes.includes(purpose)) {
      // A fine-tune upload reaches this service only where fine-tuning is not served (gateway-uploads.ts hands it on otherwise).
      throw invalid(`purpose ${shown(purpose)} is not one of ${gateway.purposes.join(', ')}, fine-tune${purpose === 'fine-tune' ? ': a fine-tune upload needs fine-tuning served (tessera serve --fine-tuning; a deployed platform serves it to tenants whose tier has training.enabled: true)' : ' (fine-tune where fine-tuning is served)'}`, 'purpose', typeof purpose === 'string' ? 'unsupported_value' : 'invalid_type');
    }
    if (typeof filename !== 'string') throw invalid('filename must be a string', 'filename', 'invalid_type');
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 1) throw invalid(`bytes ${shown(bytes)} must be a positive integer (the file's size in bytes, at most ${this.maxUploadBytes})`, 'bytes', 'invalid_value');
    if (bytes > this.maxUploadBytes) {
      throw new GatewayError(413, `bytes ${bytes} is over the ${this.maxUploadBytes}-byte limit of an upload here (its parts are checked and assembled within one request of complete)`, 'request_too_large', 'request_too_large', 'bytes');
    }
    const ttl = gateway.refuseCreate(purpose, { filename, mimeType, bytes, expiresAfter: r.expires_after });
    const created = this.now();
    const upload: StoredUpload = { id: newTimeOrderedId('upload_'), bytes, filename, mimeType: mimeType as string, purpose, createdAt: created, expiresAt: created + UPLOAD_TTL_SECONDS, status: 'pending', ...(ttl === undefined ? {} : { fileTtlSeconds: ttl }) };
    await this.deps.files.putUpload(at, upload, null);
    audit.detail = { uploadId: upload.id, filename, bytes, purpose };
    return json(this.toOpenAiUpload(upload));
  }

  /**
   * Removes the parts of lapsed uploads, and the records of long-expired ones (sweepLapsedUploads), from a store that has no lifecycle of its own (sweepUploads), at
   * most once every UPLOAD_SWEEP_INTERVAL_SECONDS, beside the create that runs it; a failure is logged.
   */
  private async sweep(): Promise<void> {
    const sweepUploads = this.deps.files.sweepUploads?.bind(this.deps.files);
    const now = this.now();
    if (!sweepUploads || now < this.sweptAt + UPLOAD_SWEEP_INTERVAL_SECONDS) return;
    this.sweptAt = now;
    try {
      await sweepLapsedUploads({ sweepUploads }, now);
    } catch (e) {
      logger.error('uploads sweep failed', { error: (e as Error).message });
    }
  }

  /** The caller's upload `id` and its record's version; another tenant's reads as an unknown one. */
  private async upload(at: FileLocation, id: string): Promise<VersionedUpload> {
    const found = UPLOAD_ID.test(id) ? await this.deps.files.getUpload(at, id) : undefined;
    if (!found) throw notFound(`No such Upload object: ${id.slice(0, 100)}`, 'upload_id', 'upload_not_found');
    return found;
  }

  /**
   * The upload once no `complete` holds it: while another request completes it (status `completing`, its hold not run
   * out), read again every SETTLE_POLL_MS, so a request racing a complete sees the outcome (completed, or pending again).
   * @param retryWaitMs for an SDK retry of the complete: how long it waits (inference/pending-creates.ts retryWaitMsOf)
   *   @default - SETTLE_WAIT_MS, and not a retry
   * @throws GatewayError 409 `upload_completing` (`x-should-retry: false`) when the complete still runs after
   *   SETTLE_WAIT_MS; to a retry, 409 `create_in_progress` (retryable, `retry-after`) after `retryWaitMs`
   */
  private async settled(at: FileLocation, id: string, retryWaitMs?: number): Promise<VersionedUpload> {
    const until = Date.now() + (retryWaitMs ?? SETTLE_WAIT_MS);
    for (;;) {
      const found = await this.upload(at, id);
      if (this.statusOf(found.upload) !== 'completing') return found;
      // An SDK retry whose first attempt still completes it: the retryable 409, after which its next retry is answered the upload.
      if (retryWaitMs !== undefined && Date.now() >= until) throw createInProgress('uploads.complete', ((found.upload.completingUntil ?? this.now() + COMPLETE_HOLD_SECONDS) - COMPLETE_HOLD_SECONDS) * 1000);
      if (Date.now() >= until) throw new GatewayError(409, `upload ${id} is being completed by another request, still after ${SETTLE_WAIT_MS / 1000} s; try again in a moment`, 'invalid_request_error', 'upload_completing', 'upload_id');
      await new Promise((ok) => setTimeout(ok, SETTLE_POLL_MS));
    }
  }

  /** The upload, refused unless it still takes parts (pending, not expired), after any complete in progress ended. */
  private async pending(at: FileLocation, id: string, doing: string): Promise<VersionedUpload> {
    const found = await this.settled(at, id);
    this.refuseUnlessPending(found.upload, doing);
    return found;
  }

  /** @throws GatewayError 400 `upload_<status>` (param `upload_id`) unless `upload` takes parts */
  private refuseUnlessPending(upload: StoredUpload, doing: string): void {
    const status = this.statusOf(upload);
    if (status !== 'pending') {
      throw invalid(`upload ${upload.id} is ${status}${status === 'expired' ? ` (an upload takes parts for an hour after its creation, until ${new Date(upload.expiresAt * 1000).toISOString()})` : ''}: it cannot ${doing}; create a new upload`, 'upload_id', `upload_${status}`);
    }
  }

  private async addPart(at: FileLocation, id: string, body: Uint8Array | undefined, contentType: string | undefined, audit: AuditRecord): Promise<FilesResponse> {
    const { upload } = await this.pending(at, id, 'take parts');
    if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) {
      throw invalid(`POST /v1/uploads/{upload_id}/parts takes multipart/form-data with the field data, not ${contentType ? `"${contentType.slice(0, 100)}"` : 'a body without Content-Type'}`, null, 'invalid_content_type');
    }
    if (body && body.byteLength > this.maxPartBodyBytes) throw this.partTooLarge(`the request body is over ${this.maxPartBodyBytes} bytes`);
    let form: FormData;
    try {
      form = await new Request('http://gateway/v1/uploads', { method: 'POST', headers: { 'content-type': contentType }, body: body ?? new Uint8Array() }).formData();
    } catch (e) {
      throw invalid(`the multipart/form-data body could not be read (${(e as Error).message})`, null, 'invalid_multipart');
    }
    const unknown = [...form.keys()].find((k) => k !== 'data');
    if (unknown) throw invalid(`unknown field "${unknown.slice(0, 100)}" (POST /v1/uploads/{upload_id}/parts takes data)`, unknown.slice(0, 100), 'unknown_parameter');
    const data = form.getAll('data');
    if (data.length !== 1) throw invalid(data.length ? 'data is given more than once; give it once' : 'data is required (the part\'s bytes, as a file part)', 'data', data.length ? 'invalid_value' : 'missing_required_parameter');
    // A text field is decoded as UTF-8 by the form reader (a character split at the part's edge would be replaced): bytes come as a file part.
    if (!(data[0] instanceof File)) throw invalid('data must be a file part (with a filename and the part\'s bytes), not a text field', 'data', 'invalid_value');
    const part = new Uint8Array(await data[0].arrayBuffer());
    if (part.byteLength > this.maxPartBytes) throw this.partTooLarge(`part is ${part.byteLength} bytes`);
    if (part.byteLength === 0) throw invalid('data is empty: a part holds at least one byte', 'data', 'invalid_value');
    // The bounds on parts, their number (maxParts) and their bytes (the upload's `bytes`): refused before storing when
    // the upload already holds as many parts or the part would take the bytes held past `bytes`, and checked again
    // once stored (parts sent at once each count the others): a part is kept only if, counted with every part stored
    // before it was counted, the upload holds at most maxParts parts and `bytes` bytes, so the parts kept never pass
    // either bound (S3 lists strongly consistently). Two parts in flight that pass `bytes` together may both be refused;
    // parts of a file of `bytes` bytes never are. No counter on the record: the listings are the ones the count bound
    // already makes, a counter's conditional writes would contend with a complete's hold, and a request dying between
    // counting and storing would leave bytes counted that no part holds.
    const before = await this.deps.files.partSizes(at, upload.id);
    // A part's id carries a mark of its bytes (newPartId), and of the parts of the same bytes one does not count
    // against `bytes` (counted): a part sent again is kept under an id of its own (the gateway cannot tell a retry of
    // a part whose answer was lost, or whose first attempt still runs, from the next part of a file of equal blocks
    // whose first attempt was refused before it was stored), and its copy takes no room, whichever the client names.
    const partId = newPartId(upload.id, part);
    const held = counted(new Map(before).set(partId, part.byteLength));
    if (held.parts > this.maxParts) throw this.tooManyParts(upload.id, held.parts - 1);
    if (held.bytes > upload.bytes) throw this.pastBytes(upload, part.byteLength, held.bytes - part.byteLength);
    await this.deps.files.putPart(at, upload.id, partId, part);
    // A complete or cancel may have begun since the check above: the part counts only if the upload still takes parts
    // now that it is stored (a complete holds the upload before it lists the parts, so one that began after this read
    // lists this part); else it goes, refused as it would have been a moment later, never answered 200 and dropped.
    try {
      this.refuseUnlessPending((await this.settled(at, upload.id)).upload, 'take parts');
      const after = counted(await this.deps.files.partSizes(at, upload.id));
      if (after.parts > this.maxParts) throw this.tooManyParts(upload.id, after.parts - 1);
      if (after.bytes > upload.bytes) throw this.pastBytes(upload, part.byteLength, after.bytes - part.byteLength);
    } catch (e) {
      await this.deps.files.deletePart(at, upload.id, partId);
      throw e;
    }
    audit.detail = { uploadId: upload.id, partId, bytes: part.byteLength };
    return json({ id: partId, object: 'upload.part', created_at: this.now(), upload_id: upload.id });
  }

  /** The 400 naming `data` and the bound (code `too_many_parts`) for a part past maxParts; `held` the parts already stored. */
  private tooManyParts(uploadId: string, held: number): GatewayError {
    return invalid(`upload ${uploadId} already holds ${held} parts, the most an upload takes here (${this.maxParts}): this part would pass the bound (a complete reads each part with a request of its own, within the request's time); send the file in fewer, larger parts (up to ${this.maxPartBytes} bytes each; Python: client.uploads.upload_file_chunked(..., part_size=${this.maxPartBytes}))`, 'data', 'too_many_parts');
  }

  /** The 400 naming `data` (code `upload_bytes_exceeded`) for a part that would take the bytes held past the upload's `bytes`; `held` the other parts' bytes. */
  private pastBytes(upload: StoredUpload, part: number, held: number): GatewayError {
    return invalid(`data is ${part} bytes: with the ${held} bytes upload ${upload.id} already holds in its parts, that is ${held + part} bytes, over the ${upload.bytes} bytes it was created with (bytes); nothing was stored. Send the parts of a file of ${upload.bytes} bytes, or create an upload with the file's size`, 'data', 'upload_bytes_exceeded');
  }

  private partTooLarge(what: string): GatewayError {
    return new GatewayError(413, `${what}, over the ${this.maxPartBytes}-byte limit of an upload's part on this gateway${this.maxPartBytes < SERVE_MAX_PART_BYTES ? ' (a Lambda invocation takes at most 6 MB, and the part arrives base64-encoded)' : ''}: send smaller parts (Python: client.uploads.upload_file_chunked(..., part_size=${this.maxPartBytes}))`, 'request_too_large', 'request_too_large', 'data');
  }

  private async complete(caller: Caller, at: FileLocation, id: string, body: string | undefined, audit: AuditRecord, sdkRetry: number | undefined, retryWaitMs: number): Promise<FilesResponse> {
    const request = parseJson(body);
    if (typeof request !== 'object' || request === null || Array.isArray(request)) throw invalid('the body must be a JSON object with part_ids', null, 'invalid_value');
    const r = request as Record<string, unknown>;
    const unknown = Object.keys(r).find((k) => k !== 'part_ids' && k !== 'md5');
    if (unknown) throw invalid(`unknown parameter "${unknown.slice(0, 100)}" (POST /v1/uploads/{upload_id}/complete takes part_ids, md5)`, unknown.slice(0, 100), 'unknown_parameter');
    const partIds = r.part_ids;
    if (!Array.isArray(partIds) || partIds.length === 0) throw invalid(`part_ids ${shown(partIds)} must be a non-empty array of part ids, in the order of the file`, 'part_ids', partIds === undefined ? 'missing_required_parameter' : 'invalid_value');
    const notId = partIds.findIndex((p) => typeof p !== 'string');
    if (notId >= 0) throw invalid(`part_ids[${notId}] ${shown(partIds[notId])} is not a part id (a string "part_…", as POST /v1/uploads/{upload_id}/parts answered)`, 'part_ids', 'invalid_value');
    const md5 = r.md5;
    if (md5 !== undefined && (typeof md5 !== 'string' || !/^[a-f0-9]{32}$/i.test(md5))) {
      // The base64 form (as S3's Content-MD5) is the same digest written otherwise: name the hex form OpenAI takes.
      const hex = typeof md5 === 'string' && /^[A-Za-z0-9+/]{22}==$/.test(md5) ? Buffer.from(md5, 'base64').toString('hex') : undefined;
      throw invalid(`md5 ${shown(md5)} must be the file's MD5 as 32 hex digits${hex ? ` (it looks like the base64 form of ${hex}: give that)` : ''}`, 'md5', 'invalid_value');
    }
    const ids = partIds as string[];
    const seen = new Set<string>();
    const repeated = ids.find((p) => seen.size === seen.add(p).size);
    if (repeated) throw invalid(`part_ids names part ${repeated.slice(0, 100)} twice; name each part once, in the order of the file`, 'part_ids', 'invalid_value');

    // An official client's retry of a complete whose first attempt completed the upload (its answer lost: API Gateway's
    // 504 after 29 s, a reset connection) is answered the completed upload and its file, as the first attempt would have
    // been: it got a 400 upload_completed, and the file's id only by listing the files. Only the same user's same body
    // (the clients resend it byte for byte): a "retry" naming other parts or another md5 is not the complete that made
    // the file, and gets the 400 as a complete that is no retry (x-stainless-retry-count) does.
    const completeHash = createRequestHash(caller.userId, body);
    if (sdkRetry !== undefined) {
      // Its first attempt may still be completing the upload (the client's timeout cut it): waited for as long as the
      // client's timeout allows (retryWaitMs), then a retryable 409 create_in_progress, not a 409 the SDK gives up on.
      const { upload } = await this.settled(at, id, retryWaitMs);
      const gateway = this.deps.gatewayFiles;
      if (gateway) {
        const file = upload.status === 'completed' && upload.fileId && upload.completeHash === completeHash ? await gateway.get(caller, upload.fileId) : undefined;
        if (file) {
          audit.detail = { uploadId: upload.id, fileId: file.id, filename: upload.filename, bytes: file.bytes, purpose: upload.purpose, retryOf: upload.id };
          return json({ ...this.toOpenAiUpload(upload), file: file.openAi });
        }
      }
      const made = !gateway && upload.status === 'completed' && upload.fileId && upload.completeHash === completeHash ? await this.deps.files.get(at, upload.fileId) : undefined;
      if (made) {
        audit.detail = { uploadId: upload.id, fileId: made.id, filename: upload.filename, bytes: made.bytes, retryOf: upload.id };
        return json({ ...this.toOpenAiUpload(upload), file: this.deps.toOpenAiFile(caller, made) });
      }
    }
    // Hold the upload (status completing, a conditional write of its record): of two completes, or a complete and a
    // cancel, one holds it and the other waits for its outcome (settled). Parts are listed after the hold, so every part
    // answered 200 before it is listed (addPart checks again after storing one).
    const files = this.deps.files;
    let upload: StoredUpload;
    let held: string;
    for (;;) {
      const found = await this.pending(at, id, 'be completed');
      upload = { ...found.upload, status: 'pending', completingUntil: undefined };
      try {
        held = await files.putUpload(at, { ...upload, status: 'completing', completingUntil: this.now() + COMPLETE_HOLD_SECONDS }, found.version);
        break;
      } catch (e) {
        if (!(e instanceof UploadChanged)) throw e;
      }
    }
    let stored: StoredFile | GatewayUploadedFile;
    let examples = 0;
    const gateway = this.deps.gatewayFiles;
    try {
      const sizes = await files.partSizes(at, upload.id);
      const stranger = ids.find((p) => !PART_ID.test(p) || !sizes.has(p));
      if (stranger !== undefined) throw invalid(`part_ids names ${JSON.stringify(stranger.slice(0, 100))}, which is not a part of upload ${upload.id}`, 'part_ids', 'invalid_value');
      const total = ids.reduce((sum, p) => sum + sizes.get(p)!, 0);
      if (total !== upload.bytes) throw invalid(`the parts in part_ids hold ${total} bytes, not the ${upload.bytes} bytes the upload was created with (bytes)`, 'part_ids', 'invalid_value');

      // The file, read part by part in the caller's order: checked line by line (a line may span parts) and hashed as
      // it is read, and written without being held (a store in S3 composes the parts' objects into the file:
      // putFromParts, s3-compose.ts); a refusal anywhere stores nothing (the write is aborted). A gateway purpose's file
      // is checked as POST /v1/files checks one, as it is read too (gatewayFiles.store).
      const check = gateway ? undefined : new FineTuningFileCheck(upload.filename);
      const hash = createHash('md5');
      const withMd5 = (inner: { push(bytes: Uint8Array): void; end(): unknown } | undefined): ContentCheck => ({
        push(bytes) {
          inner?.push(bytes);
          hash.update(bytes);
        },
        end() {
          examples = (inner?.end() as number | undefined) ?? 0;
          const digest = hash.digest('hex');
          if (md5 !== undefined && digest !== (md5 as string).toLowerCase()) {
            throw invalid(`md5 ${md5 as string} is not the MD5 of the parts in part_ids, in that order (${digest})`, 'md5', 'invalid_value');
          }
        },
      });
      const uploadId = upload.id;
      const parts = ids.map((p) => ({ id: p, bytes: sizes.get(p)! }));
      /** The parts' bytes in order, each pushed to `checked` as it is read (the next part read while this one is checked and written). */
      async function* pieces(checked: ContentCheck): AsyncGenerator<Uint8Array> {
        let next = files.readPart(at, uploadId, ids[0]!);
        for (let i = 0; i < ids.length; i++) {
          const piece = await next;
          if (i + 1 < ids.length) next = files.readPart(at, uploadId, ids[i + 1]!);
          checked.push(piece);
          if (i + 1 === ids.length) checked.end();
          yield piece;
        }
      }
      if (gateway) {
        stored = await gateway.store(caller, {
          purpose: upload.purpose, filename: upload.filename, bytes: total, ttl: upload.fileTtlSeconds,
          parts: {
            pieces: (purposeCheck) => pieces(withMd5(purposeCheck)),
            ...(files.composeParts ? { composeTo: (target, purposeCheck) => files.composeParts!(at, uploadId, parts, target, withMd5(purposeCheck)) } : {}),
          },
        });
      } else {
        const file = { id: newFileId(), filename: upload.filename };
        stored = files.putFromParts ? await files.putFromParts(at, file, uploadId, parts, withMd5(check)) : await files.putFromPieces(at, file, pieces(withMd5(check)));
      }
    } catch (e) {
      // Refused: the upload takes parts again (unless another request took it over since).
      await files.putUpload(at, upload, held).catch(() => undefined);
      throw e;
    }
    const done: StoredUpload = { ...upload, status: 'completed', fileId: stored.id, completeHash };
    try {
      await files.putUpload(at, done, held);
    } catch (e) {
      // The hold ran out and another request took the upload over: this file is not the upload's.
      await (gateway ? gateway.delete(caller, stored.id) : files.delete(at, stored as StoredFile)).catch(() => undefined);
      if (e instanceof UploadChanged) throw new GatewayError(409, `upload ${upload.id} was taken over by another request while this complete ran (over ${COMPLETE_HOLD_SECONDS} s); no file was made by this request`, 'invalid_request_error', 'upload_completing', 'upload_id');
      throw e;
    }
    await files.deleteParts(at, upload.id);
    if (gateway) {
      audit.detail = { uploadId: upload.id, fileId: stored.id, filename: upload.filename, bytes: stored.bytes, purpose: upload.purpose };
      return json({ ...this.toOpenAiUpload(done), file: (stored as GatewayUploadedFile).openAi });
    }
    audit.detail = { uploadId: upload.id, fileId: stored.id, filename: upload.filename, bytes: stored.bytes, examples };
    return json({ ...this.toOpenAiUpload(done), file: this.deps.toOpenAiFile(caller, stored as StoredFile) });
  }

  private async cancel(at: FileLocation, id: string): Promise<FilesResponse> {
    for (;;) {
      const { upload, version } = await this.pending(at, id, 'be cancelled');
      const cancelled: StoredUpload = { ...upload, status: 'cancelled', completingUntil: undefined };
      try {
        await this.deps.files.putUpload(at, cancelled, version);
      } catch (e) {
        if (e instanceof UploadChanged) continue; // a complete or another cancel came first: its outcome decides
        throw e;
      }
      await this.deps.files.deleteParts(at, upload.id);
      return json(this.toOpenAiUpload(cancelled));
    }
  }

  /** The upload's status now: a hold that ran out counts as pending, a pending upload past expiresAt as expired. */
  private statusOf(upload: StoredUpload): StoredUpload['status'] | 'expired' {
    const now = this.now();
    const status = upload.status === 'completing' && now >= (upload.completingUntil ?? 0) ? 'pending' : upload.status;
    return status === 'pending' && now >= upload.expiresAt ? 'expired' : status;
  }

  /** OpenAI's Upload object (openai `Upload`), `file` null until completed. */
  private toOpenAiUpload(upload: StoredUpload) {
    return { id: upload.id, object: 'upload' as const, bytes: upload.bytes, created_at: upload.createdAt, expires_at: upload.expiresAt, filename: upload.filename, purpose: upload.purpose, status: this.statusOf(upload), file: null };
  }
}

/** A request's value for an error message: JSON, at most 100 characters. */
const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
};

/**
 * A new part's id: `part_`, 12 hex digits of the milliseconds (time-ordered, as newTimeOrderedId), 6 of the SHA-256 of
 * the upload's id and the part's bytes (its mark: partMark) and 6 random ones. A part id as any other for part_ids
 * (PART_ID); parts of the same bytes share their mark.
 */
export const newPartId = (uploadId: string, bytes: Uint8Array): string =>
  `${newTimeOrderedId('part_').slice(0, -12)}${createHash('sha256').update(uploadId).update('\0').update(bytes).digest('hex').slice(0, 6)}${randomBytes(3).toString('hex')}`;

/** The mark of a part's bytes in its id (newPartId): its 13th to 18th hex digits. */
const partMark = (partId: string): string => partId.slice(17, 23);

/**
 * The parts and bytes an upload's stored parts (partSizes) count against maxParts and `bytes`: every part against
 * maxParts (a complete reads at most that many); against `bytes` every part but one of each set of parts of the same
 * bytes (partMark), so a part stored twice (a retry of a part whose answer was lost, or whose first attempt still
 * runs, at once or later) counts as the one part the client names, and a file of equal parts named each once is
 * within the bound as well. One free part per set: parts sent twice over store at most twice `bytes` (a third copy
 * counts); marks of other bytes that happen to match (1 in 2^24 a pair) free one part more.
 */
function counted(sizes: Map<string, number>): { parts: number; bytes: number } {
  const sets = new Map<string, number[]>();
  for (const [id, size] of sizes) sets.set(partMark(id), [...(sets.get(partMark(id)) ?? []), size]);
  let bytes = 0;
  for (const set of sets.values()) bytes += set.reduce((a, b) => a + b, 0) - (set.length > 1 ? Math.min(...set) : 0);
  return { parts: sizes.size, bytes };
}

const json = (body: unknown): FilesResponse => ({ status: 200, body: JSON.stringify(body) });
