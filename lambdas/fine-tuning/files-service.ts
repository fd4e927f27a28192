import { newTimeOrderedId } from '../shared/time-ordered-id.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { MAX_TRAINING_FILE_BYTES, TRAINING_FILE_ID, TRAINING_FILES_PREFIX } from '../../lib/fine-tuning.js';
import type { AuditRecord } from '../inference/audit.js';
import { CONTENT_URL_SECONDS, contentRedirect, MAX_INLINE_CONTENT_BYTES } from '../inference/file-content-redirect.js';
import type { Caller } from '../inference/auth.js';
import { forbidden, GatewayError, invalid, notFound, tooLarge } from '../inference/openai-errors.js';
import { trainingTarget } from './sagemaker-requests.js';
import { cursorQuery, integerQuery, refuseRepeatedQuery, refuseUnknownQuery } from '../inference/query-parameters.js';
import { checkFineTuningFile } from './training-file-format.js';
import { countExamples, MIN_TRAINING_EXAMPLES } from './example-count.js';
import { RETRY_WINDOW_SECONDS, uploadRequestHash } from '../inference/sdk-retry.js';
import { awaitFirstAttempt, pendingKey, underNote, type PendingCreates } from '../inference/pending-creates.js';
import type { FileLocation, StoredFile, TrainingFileStore } from './stores/file-store.js';

/** An answer of the fine-tuning Lambda: JSON unless `contentType` says otherwise (a file's content). */
export interface FilesResponse {
  status: number;
  body: string;
  contentType?: string;
  /** Headers of the answer besides its content type: a `files.content` redirect's `location` and `cache-control`. */
  headers?: Record<string, string>;
}

/** The purposes OpenAI's Files API knows (openai `FilePurpose`); this gateway stores `fine-tune` files only. */
const OPENAI_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];
/** Form fields of `POST /v1/files` (OpenAI API reference, "Upload file"). */
const FORM_FIELDS = new Set(['file', 'purpose', 'expires_after[anchor]', 'expires_after[seconds]']);

/**
 * The form fields of `POST /v1/files` as OpenAI takes them ("Upload file": file, purpose, expires_after[anchor],
 * expires_after[seconds]), each once: the check of every purpose's upload (fine-tuning's here, the gateway's in
 * lambdas/inference/batches/batch-service.ts).
 * @throws GatewayError 400 `unknown_parameter` naming an unknown field; 400 `invalid_value` naming a field given twice
 */
export function refuseFilesFormFields(form: FormData): void {
  const names = [...new Set(form.keys())];
  const unknown = names.find((n) => !FORM_FIELDS.has(n));
  if (unknown) throw invalid(`unknown field "${unknown.slice(0, 100)}" (POST /v1/files takes ${[...FORM_FIELDS].join(', ')})`, unknown.slice(0, 100), 'unknown_parameter');
  const repeated = names.find((n) => form.getAll(n).length > 1);
  if (repeated) throw invalid(`field "${repeated}" is given ${form.getAll(repeated).length} times; give it once`, repeated, 'invalid_value');
}
const FILE_PATH = /^\/v1\/files(?:\/(?<id>[^/]+)(?:\/(?<action>content))?)?$/;
/** The most files one list answers (OpenAI's `limit` for files: 1 to 10,000, default 10,000). */
const MAX_LIST = 10_000;
/**
 * Characters a filename may not hold: path separators; C0 controls, DEL and C1 controls (U+0085
 * NEL is a line break to many tools); U+2028/U+2029 (line breaks to JavaScript and Python's
 * splitlines); bidirectional formatting characters (U+202E, RIGHT-TO-LEFT OVERRIDE, displays the
 * rest of a name reversed: a name that reads as another in a listing or a console).
 */
const FILENAME_REFUSED = /[/\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** The most characters of a caller's file id an audit record keeps (a file id has 29). */
const MAX_AUDIT_ID = 100;
/** A filename's most UTF-8 bytes (most filesystems' limit; its encoded form stays well within S3's 1,024-byte keys). */
const MAX_FILENAME_BYTES = 255;

/** The refusal of a file part whose filename is empty or missing. */
const EMPTY_FILENAME = `file has no filename (an empty name): name it, e.g. "train.jsonl" (1 to ${MAX_FILENAME_BYTES} bytes, ending in .jsonl)`;

/**
 * Whether the multipart `body` has a part named `name` with a Content-Type header: a file part, sent without a
 * filename (a text field has none; undici's FormData, the official Node client's, gives a nameless file
 * `application/octet-stream` and no `filename`).
 */
function partHasContentType(body: Uint8Array | undefined, contentType: string, name: string): boolean {
  const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!body || !boundary) return false;
  const delimiter = `--${boundary[1] ?? boundary[2]}`;
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1').split(delimiter).some((part) => {
    const end = part.indexOf('\r\n\r\n');
    const headers = (end < 0 ? part : part.slice(0, end)).split('\r\n');
    const disposition = headers.find((h) => /^content-disposition\s*:/i.test(h));
    const named = disposition !== undefined && /;\s*name\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(disposition);
    return named && (named[1] ?? named[2]) === name && headers.some((h) => /^content-type\s*:/i.test(h));
  });
}

/**
 * The checks of a fine-tuning file's name (`POST /v1/files`' file, `POST /v1/uploads`' filename): 1 to 255 UTF-8 bytes
 * without path separators, control, line-separator or bidirectional formatting characters, ending in `.jsonl`, not
 * hidden (a name starting with "." is hidden from the training job's `*.jsonl` glob: it would train on nothing).
 * @param field the field named in the refusal (`file`, `filename`)
 * @throws GatewayError 400 `invalid_filename` or `invalid_file_format` naming `field`
 */
export function refuseTrainingFilename(filename: string, field: string): void {
  const what = field === 'file' ? 'file\'s filename' : field;
  if (!filename) throw invalid(`${field} is empty: name it, e.g. "train.jsonl"`, field, 'invalid_filename');
  if (Buffer.byteLength(filename) > MAX_FILENAME_BYTES || FILENAME_REFUSED.test(filename)) {
    throw invalid(`${what} ${JSON.stringify(filename.slice(0, 300))} must be 1 to ${MAX_FILENAME_BYTES} bytes without "/", "\\", control characters (C0, DEL, C1), line or paragraph separators or bidirectional formatting characters`, field, 'invalid_filename');
  }
  if (!/\.jsonl$/i.test(filename)) throw invalid(`${field} "${filename}": fine-tuning files must be JSON Lines named *.jsonl`, field, 'invalid_file_format');
  if (filename.startsWith('.')) throw invalid(`${field} "${filename}": a name starting with "." is hidden from the training job; give it a name before .jsonl`, field, 'invalid_filename');
}

export { newTimeOrderedId };
/** A new file id: `file-` and 24 hex digits (newTimeOrderedId). */
export const newFileId = () => newTimeOrderedId('file-');
/** Seconds since the epoch at which a file was created, from its id. */
const createdAt = (id: string) => Math.floor(parseInt(id.slice(5, 17), 16) / 1000);

/**
 * OpenAI's Files API for fine-tuning files (`client.files.create / list / retrieve / content /
 * delete` with purpose `fine-tune`): each file is checked as a fine-tuning file (JSON Lines in one
 * of OpenAI's training formats) and stored in the caller's own tenant bucket under
 * `training-data/files/`, encrypted with its key, where `POST /v1/fine_tuning/jobs` finds it by id
 * and the training role reads it. Expiry: the bucket's `training-data/` lifecycle rule (the tier's
 * `training.dataRetentionDays`), reported as `expires_at`. Another tenant's file id reads exactly
 * like an unknown one (404). Every refusal is a 4xx in OpenAI's shape naming the field and value.
 */
export class TrainingFilesService {
  /**
   * @param deps.readers the caller's active jobs (`validating_files`, `queued`, `running`) that read `file`: their
   *   ids and statuses, newest first. @default - none: every delete goes through (a store of files without jobs)
   * @param deps.pending the notes of the uploads still being stored (inference/pending-creates.ts): an official client's
   *   retry arriving meanwhile waits for its first attempt. @default - none: such a retry stores a second file
   */
  /** The store of files (and uploads) this service reads and writes. */
  get store(): TrainingFileStore {
    return this.deps.files;
  }

  constructor(private readonly deps: { config: PlatformConfig; files: TrainingFileStore; readers?: (caller: Caller, file: StoredFile) => Promise<Array<{ id: string; status: string }>>; pending?: PendingCreates }) {}

  async handle(method: string, path: string, query: Record<string, string | undefined>, repeatedQuery: readonly string[] | undefined, body: Uint8Array | undefined, contentType: string | undefined, caller: Caller, audit: AuditRecord, sdkRetry?: number, retryWaitMs = 0): Promise<FilesResponse> {
    const m = FILE_PATH.exec(path);
    if (!m) throw notFound(`no route ${method} ${path}`, null, 'route_not_found');
    const { id, action } = m.groups ?? {};
    const route = `${method} ${id ? `files/:id${action ? '/content' : ''}` : 'files'}`;
    audit.action = `fine_tuning.${FILE_ACTIONS[route] ?? 'file.unknown'}`;
    // The id is the caller's text (up to a whole URL): the audit record keeps at most MAX_AUDIT_ID characters of it, as of the path.
    if (id) audit.detail = { fileId: id.length > MAX_AUDIT_ID ? `${id.slice(0, MAX_AUDIT_ID)}…` : id };
    // GET /v1/files takes after, limit, order and purpose (OpenAI API reference, "List files"); every other route none.
    refuseUnknownQuery(query, route === 'GET files' ? ['after', 'limit', 'order', 'purpose'] : [], `${method} /v1/files${id ? `/{file_id}${action ? '/content' : ''}` : ''}`);
    refuseRepeatedQuery(repeatedQuery);
    switch (route) {
      case 'POST files': return this.upload(body, contentType, caller, audit, sdkRetry, retryWaitMs);
      case 'GET files': return this.list(caller, query);
      case 'GET files/:id': return json(this.toOpenAiFile(caller, await this.file(caller, id!)));
      case 'GET files/:id/content': return this.content(caller, id!);
      case 'DELETE files/:id': return this.delete(caller, id!);
      default: throw new GatewayError(405, `${method} is not supported on ${path}`, 'invalid_request_error', 'method_not_allowed');
    }
  }

  /**
   * The caller's stored file `value` (a file id), for `training_file` / `validation_file`; undefined when `value` is no file id.
   * @throws GatewayError 400 `invalid_training_file` naming `field` and the id when it is no fine-tuning file of the caller's: one
   * message for a file of another purpose (the gateway's `batch`, `user_data`, `vision`, `assistants` files are kept by another
   * store, which this Lambda does not read), a deleted or unknown id and another tenant's (no existence oracle)
   */
  async resolve(caller: Caller, value: string, field: string): Promise<StoredFile | undefined> {
    if (!value.startsWith('file-')) return undefined;
    const file = TRAINING_FILE_ID.test(value) ? await this.deps.files.get(this.location(caller), value) : undefined;
    if (!file) throw invalid(`${field} "${value.slice(0, 100)}" is not a fine-tuning file of yours: a job trains on a file uploaded with purpose "fine-tune" (POST /v1/files, or the Uploads API). A file of another purpose (batch, user_data, vision, assistants) cannot be trained on: upload its data again with purpose "fine-tune"; a deleted file and another tenant's are not found`, field, 'invalid_training_file');
    return file;
  }

  /**
   * A job's `training_file` / `validation_file` given as a key (or s3:// URI) inside an uploaded file's folder,
   * `training-data/files/<file id>/…` or the folder without its slash, names that file: it must still be one of the
   * caller's files. A deleted (or never uploaded) file's folder holds nothing the job's S3Prefix channel reads, and
   * SageMaker fails the training when its instance starts ("no S3 objects"), for a queued or spot job hours after the
   * create; a delete of a file an active job reads is refused for that reason (`file_in_use`), and by id such a file is a
   * 400 `invalid_training_file` already.
   * @param value the field as the caller gave it (named in the message)
   * @param uri its resolved `s3://<tenant bucket>/training-data/...` (resolveTrainingFile)
   * @throws GatewayError 400 `invalid_training_file` naming the field, the value and the file id
   */
  async requireFolderFile(caller: Caller, value: string, uri: string, field: string): Promise<void> {
    const key = uri.replace(/^s3:\/\/[^/]+\//, '');
    const id = key.startsWith(TRAINING_FILES_PREFIX) ? /^(file-[a-f0-9]{24})(?:\/|$)/.exec(key.slice(TRAINING_FILES_PREFIX.length))?.[1] : undefined;
    if (id === undefined || await this.deps.files.get(this.location(caller), id)) return;
    throw invalid(`${field} "${value}" is in the folder of file ${id}, which is not a file of yours (deleted, or never uploaded): a job on it would read no data and fail when its training starts; upload the data again with POST /v1/files`, field, 'invalid_training_file');
  }

  /**
   * How many examples a job's training file holds, counted up to MIN_TRAINING_EXAMPLES (example-count.ts): OpenAI
   * requires at least that many of a training file and fails a job on fewer at its file validation (job error
   * `invalid_n_examples`); a job on fewer was started, trained (GPU hours billed) on a handful of lines and deployed.
   * Read only until that many are found.
   * @param file the caller's file (resolve), named in `field`
   * @returns the count, at most MIN_TRAINING_EXAMPLES
   * @throws GatewayError 400 `invalid_training_file` when the file is gone since it was resolved
   */
  async countTrainingExamples(caller: Caller, file: StoredFile, field: string): Promise<number> {
    const pieces = await this.deps.files.contentPieces(this.location(caller), file);
    if (!pieces) throw invalid(`${field} "${file.id}" is not a fine-tuning file of yours: it was deleted`, field, 'invalid_training_file');
    return countExamples(pieces, MIN_TRAINING_EXAMPLES);
  }

  /**
   * Where the caller's files live (its bucket, account and key, as its training target).
   * @throws GatewayError 403 `fine_tuning_not_allowed` when its tier has no fine-tuning
   */
  location(caller: Caller): FileLocation {
    const tier = this.deps.config.tiers[caller.tenant.tier];
    if (!tier?.training.enabled) throw forbidden(`tier "${caller.tenant.tier}" of tenant ${caller.tenantId} does not include fine-tuning, so it stores no fine-tuning files`, 'fine_tuning_not_allowed');
    const target = trainingTarget(caller.tenant);
    return { tenantId: target.tenantId, accountId: target.accountId, bucket: target.bucket, keyArn: target.keyArn };
  }

  private async upload(body: Uint8Array | undefined, contentType: string | undefined, caller: Caller, audit: AuditRecord, sdkRetry: number | undefined, retryWaitMs: number): Promise<FilesResponse> {
    // Whether the tenant stores files at all, before its body is read: a tier without training never has its uploads parsed.
    const at = this.location(caller);
    if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) {
      throw invalid(`POST /v1/files takes multipart/form-data with the fields file and purpose, not ${contentType ? `"${contentType.slice(0, 100)}"` : 'a body without Content-Type'}`, null, 'invalid_content_type');
    }
    // The body's size is not named: a transport that stopped reading at the limit (tessera serve) knows only that it is over.
    if (body && body.byteLength > MAX_UPLOAD_BODY_BYTES) {
      throw tooLarge(`the request body is over ${MAX_UPLOAD_BODY_BYTES} bytes, the most POST /v1/files reads (a file of up to ${MAX_TRAINING_FILE_BYTES} bytes, 4 MiB, and ${FORM_OVERHEAD} bytes of multipart framing)${LARGER_DATA}`);
    }
    let form: FormData;
    try {
      form = await new Request('http://gateway/v1/files', { method: 'POST', headers: { 'content-type': contentType }, body: body ?? new Uint8Array() }).formData();
    } catch (e) {
      throw invalid(`the multipart/form-data body could not be read (${(e as Error).message})`, null, 'invalid_multipart');
    }
    refuseFilesFormFields(form);

    const purpose = form.get('purpose');
    if (typeof purpose !== 'string') throw invalid(`purpose is required${purpose ? ' as a text field' : ''}: "fine-tune"`, 'purpose', purpose ? 'invalid_value' : 'missing_required_parameter');
    if (purpose !== 'fine-tune') {
      throw invalid(OPENAI_PURPOSES.includes(purpose)
        ? `purpose "${purpose}" is not served: this gateway stores files of purpose "fine-tune" (fine-tuning), "batch" (the Batch API), "user_data" and "vision" (model input), "assistants" (vector stores)`
        : `purpose "${purpose.slice(0, 100)}" is not one of ${OPENAI_PURPOSES.join(', ')}; this gateway stores "fine-tune" files`, 'purpose', 'unsupported_value');
    }
    if (form.has('expires_after[anchor]') || form.has('expires_after[seconds]')) {
      const days = this.deps.config.tiers[caller.tenant.tier]?.training.dataRetentionDays;
      throw invalid(`expires_after is not supported: fine-tuning files expire with your tenant's training data${days ? ` ${days} days after upload` : ''} (the tier's training.dataRetentionDays); delete one sooner with DELETE /v1/files/{file_id}`, 'expires_after', 'unsupported_parameter');
    }
    const file = form.get('file');
    // A file without a name: the official Node client (undici's FormData) sends `toFile(bytes, '')` with no filename
    // parameter at all, which the multipart parser reads as a text field; its part still carries a Content-Type.
    if (typeof file === 'string' && partHasContentType(body, contentType, 'file')) throw invalid(EMPTY_FILENAME, 'file', 'invalid_filename');
    if (!(file instanceof File)) throw invalid(`file is required${file !== null ? ' as a file part (with a filename), not a text field' : ''}`, 'file', file === null ? 'missing_required_parameter' : 'invalid_value');
    const filename = file.name;
    if (!filename) throw invalid(EMPTY_FILENAME, 'file', 'invalid_filename');
    refuseTrainingFilename(filename, 'file');
    if (file.size > MAX_TRAINING_FILE_BYTES) throw tooLarge(fileTooLarge(file.size, `file "${filename}"`));
    const content = new Uint8Array(await file.arrayBuffer());
    const examples = checkFineTuningFile(filename, content);

    const requestHash = uploadRequestHash(caller.userId, { purpose, filename, content, anchor: null, seconds: null });
    const key = pendingKey('files', requestHash);
    // A retry whose first attempt is still storing the file waits for it (then a retryable 409 create_in_progress).
    if (sdkRetry !== undefined && this.deps.pending) await awaitFirstAttempt(this.deps.pending, at.tenantId, key, 'files.create', retryWaitMs);
    const first = sdkRetry === undefined ? undefined : await this.uploadedBy(at, filename, content.byteLength, requestHash);
    if (first) {
      audit.detail = { fileId: first.id, filename, bytes: first.bytes, examples, retryOf: first.id };
      return json(this.toOpenAiFile(caller, first));
    }
    const stored = await underNote(this.deps.pending, at.tenantId, key, () => this.deps.files.put(at, { id: newFileId(), filename, content, requestHash }));
    audit.detail = { fileId: stored.id, filename, bytes: stored.bytes, examples };
    return json(this.toOpenAiFile(caller, stored));
  }

  /**
   * The file an official client's retry of an upload asks for: the newest of the tenant's files with this name and size
   * made within RETRY_WINDOW_SECONDS (from its time-ordered id) whose upload had the same fingerprint (the same user,
   * name and content: TrainingFileStore.requestHashOf, a HeadObject for each such file, newest first, on a retry only).
   * Its first attempt stored it and the answer was lost (API Gateway's 504, a reset connection, the client's timeout).
   */
  private async uploadedBy(at: FileLocation, filename: string, bytes: number, requestHash: string): Promise<StoredFile | undefined> {
    const since = Math.floor(Date.now() / 1000) - RETRY_WINDOW_SECONDS;
    const candidates = (await this.deps.files.list(at)).filter((f) => f.filename === filename && f.bytes === bytes && createdAt(f.id) >= since).reverse();
    for (const f of candidates) if ((await this.deps.files.requestHashOf(at, f)) === requestHash) return f;
    return undefined;
  }

  private async list(caller: Caller, query: Record<string, string | undefined>): Promise<FilesResponse> {
    const limit = integerQuery(query, 'limit', { min: 1, max: MAX_LIST, fallback: MAX_LIST });
    const after = cursorQuery(query, 'after');
    const order = query.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw invalid(`order "${order}" must be "asc" or "desc"`, 'order', 'invalid_value');
    // Only fine-tune files are stored: another purpose lists nothing, as OpenAI's filter would.
    if (query.purpose !== undefined && query.purpose !== 'fine-tune') return json({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
    let files = await this.deps.files.list(this.location(caller));
    if (order === 'desc') files.reverse();
    if (after !== undefined) {
      // A cursor is a position in id order (ids are time-ordered), not a file that must still exist:
      // a client that deletes the files of a page before asking for the next one goes on from there.
      if (!TRAINING_FILE_ID.test(after)) throw notFound(`file "${after.slice(0, 100)}" (after) does not exist`, 'after', 'file_not_found');
      files = files.filter((f) => (order === 'desc' ? f.id < after : f.id > after));
    }
    const data = files.slice(0, limit).map((f) => this.toOpenAiFile(caller, f));
    return json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: files.length > limit });
  }

  private async file(caller: Caller, id: string): Promise<StoredFile> {
    // Another tenant's file id reads exactly like an unknown one: the lookup is in the caller's own bucket.
    const file = TRAINING_FILE_ID.test(id) ? await this.deps.files.get(this.location(caller), id) : undefined;
    if (!file) throw notFound(`No such File object: ${id.slice(0, 100)}`, 'file_id', 'file_not_found');
    return file;
  }

  /**
   * `GET /v1/files/{id}/content`: the file's bytes, or, where the store serves a URL (on AWS) and the file is over
   * MAX_INLINE_CONTENT_BYTES (4 MiB, which Lambda's 6 MB answer holds as base64), a 307 to a presigned GET of the
   * tenant's object living CONTENT_URL_SECONDS (../inference/file-content-redirect.ts), as the gateway's own files answer:
   * a larger file did not fit the Lambda's answer (a 502).
   */
  private async content(caller: Caller, id: string): Promise<FilesResponse> {
    const file = await this.file(caller, id);
    if (this.deps.files.contentUrl && file.bytes > MAX_INLINE_CONTENT_BYTES) {
      return contentRedirect(await this.deps.files.contentUrl(this.location(caller), file, CONTENT_URL_SECONDS));
    }
    const bytes = await this.deps.files.content(this.location(caller), file);
    if (!bytes) throw notFound(`No such File object: ${id}`, 'file_id', 'file_not_found');
    // Stored files are UTF-8 (checked on upload): as text, the answer is byte for byte the upload.
    return { status: 200, body: Buffer.from(bytes).toString('utf8'), contentType: 'application/octet-stream' };
  }

  private async delete(caller: Caller, id: string): Promise<FilesResponse> {
    const file = await this.file(caller, id);
    // SageMaker reads a job's channel when its training instance starts (File mode: the data is downloaded then),
    // which for a queued or spot job can be hours after the create, and a restarted spot instance reads it again:
    // a delete marker before that fails the training ("no S3 objects found"), so an OpenAI script that deletes its
    // file once the job is created lost the job on AWS (on moto, which reads no data, it went through). OpenAI keeps
    // the job going; here the bytes are the job's input, so the delete is refused and nothing changes.
    const readers = (await this.deps.readers?.(caller, file)) ?? [];
    if (readers.length) {
      throw invalid(`file ${file.id} is read by fine-tuning job${readers.length > 1 ? 's' : ''} ${readers.map((j) => `${j.id} (${j.status})`).join(', ')}: SageMaker reads it when the training starts, so deleting it now would fail the job; delete it once the job has ended, or cancel the job first`, 'file_id', 'file_in_use');
    }
    await this.deps.files.delete(this.location(caller), file);
    return json({ id: file.id, object: 'file', deleted: true });
  }

  /**
   * OpenAI's `FileObject`; `expires_at` is when the bucket's lifecycle rule removes it (S3 rounds to the next midnight
   * UTC), or null when the caller's tier names no `training.dataRetentionDays`: as the gateway's other files answer it
   * (batches/batch-service.ts openAiFile; `GET /v1/files` lists both), which the Python client reads as
   * `Optional[int]` None (the Node type declares `expires_at?: number`: absent and null both read as no expiry).
   */
  toOpenAiFile(caller: Caller, file: StoredFile) {
    const created = createdAt(file.id);
    const days = this.deps.config.tiers[caller.tenant.tier]?.training.dataRetentionDays;
    const expires = days === undefined ? undefined : Math.ceil((created + days * 86_400) / 86_400) * 86_400;
    return { id: file.id, object: 'file' as const, bytes: file.bytes, created_at: created, filename: file.filename, purpose: 'fine-tune' as const, status: 'processed' as const, status_details: null, expires_at: expires ?? null };
  }
}

/** The audit action of each route. */
const FILE_ACTIONS: Record<string, string> = {
  'POST files': 'file.create', 'GET files': 'file.list', 'GET files/:id': 'file.read', 'GET files/:id/content': 'file.content', 'DELETE files/:id': 'file.delete',
};

/** Room for the multipart framing around a file of the largest size (boundaries, part headers, the purpose field). */
const FORM_OVERHEAD = 64 * 1024;
/** The largest body `POST /v1/files` reads: the largest file and its multipart framing (transports buffer up to this much for that route). */
export const MAX_UPLOAD_BODY_BYTES = MAX_TRAINING_FILE_BYTES + FORM_OVERHEAD;

const LARGER_DATA = `; send a larger file in parts with the Uploads API (POST /v1/uploads; Python: client.uploads.upload_file_chunked), or put larger training data into your bucket's training-data/ prefix and name it by key in training_file`;
const fileTooLarge = (bytes: number, what: string) =>
  `${what} is ${bytes} bytes, over the ${MAX_TRAINING_FILE_BYTES}-byte (4 MiB) limit of POST /v1/files on this gateway (a Lambda invocation takes at most 6 MB)${LARGER_DATA}`;

const json = (body: unknown): FilesResponse => ({ status: 200, body: JSON.stringify(body) });
