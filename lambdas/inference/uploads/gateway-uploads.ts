import type { AuditRecord } from '../audit.js';
import type { Caller } from '../auth.js';
import { can } from '../../../lib/identity/roles.js';
import { shownKey } from '../../../lib/zod-issues.js';
import { GatewayError, invalid, notFound, permissionDenied, unknownParameter } from '../openai-errors.js';
import { parseJson } from '../request-body.js';
import { checkExpiresAfter, isStoredUploadPurpose, openAiFile, refuseGatewayFilename, type BatchService, type StoredUploadPurpose } from '../batches/batch-service.js';
import { inputFileMediaType } from '../input-files.js';
import { isTextMediaType, TEXT_EXTENSIONS } from '../guardrails/text-file-data.js';
import { MAX_BATCH_FILE_BYTES } from '../batches/input-file.js';
import { TrainingUploadsService, UPLOAD_ID, type GatewayUploadFiles } from '../../fine-tuning/uploads-service.js';
import type { FilesResponse } from '../../fine-tuning/files-service.js';
import type { FineTuningRequest } from '../../fine-tuning/fine-tuning-service.js';
import type { FileLocation, TrainingFileStore } from '../../fine-tuning/stores/file-store.js';

/** The purposes whose uploads become the gateway's files (openai UploadCreateParams.purpose, FilePurpose, less `fine-tune` and `evals`). */
export const GATEWAY_UPLOAD_PURPOSES = ['batch', 'assistants', 'vision', 'user_data'] as const;
/** The MIME types a batch input file (JSON Lines) may be announced with, and the generic ones clients fall back to. */
const JSONL_MIME_TYPES = ['text/jsonl', 'application/jsonl', 'application/x-ndjson', 'application/jsonlines', 'text/plain', 'application/octet-stream'];
const UPLOAD_ID_PATH = /^\/v1\/uploads\/(?<id>[^/]+)\/(?:parts|complete|cancel)$/;
const extensionOf = (name: string) => /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
/**
 * A MIME type without its parameters, lowercase (`Text/Plain; charset=UTF-8` is `text/plain`); undefined when a
 * parameter is other than `charset=utf-8` (RFC 2045: a parameter may change what the bytes are, and the gateway reads
 * text files as UTF-8 only).
 */
function bareMediaType(mimeType: string): string | undefined {
  const [type, ...params] = mimeType.split(';').map((part) => part.trim().toLowerCase());
  return params.every((param) => /^charset\s*=\s*"?utf-8"?$/.test(param)) ? type : undefined;
}
const shown = (value: unknown) => JSON.stringify(typeof value === 'string' ? value.slice(0, 100) : value) ?? String(value);

/** What GatewayUploads needs. */
export interface GatewayUploadsDeps {
  /** The gateway's Files API (purposes batch, assistants, vision, user_data): its checks and its store. */
  batches: BatchService;
  /**
   * Where the uploads' records and parts are kept (its upload methods only: putUpload, getUpload, putPart, partSizes,
   * readPart, deletePart, deleteParts): `tessera serve` under its state dir (dir-upload-store.ts), AWS the batch files
   * bucket under the tenant's prefix (perTenantUploads).
   */
  uploads: TrainingFileStore;
  /** The caller's place in `uploads` (one tenant's place reaches no other tenant's uploads). */
  location: (caller: Caller) => FileLocation;
  /** The largest part, in bytes. @default uploads-service.ts SERVE_MAX_PART_BYTES */
  maxPartBytes?: number;
  /** The largest upload, in bytes. @default uploads-service.ts SERVE_MAX_UPLOAD_BYTES */
  maxUploadBytes?: number;
}

/** The request GatewayUploads answers (the gateway's, for `/v1/uploads...`): the fine-tuning API's request without its deadline. */
export type GatewayUploadRequest = Omit<FineTuningRequest, 'deadline'>;

/**
 * OpenAI's Uploads API for the gateway's own files (`client.uploads.create` / `parts.create` / `complete` / `cancel`,
 * Python's `upload_file_chunked`) with purpose `batch`, `assistants`, `vision` or `user_data`: a file larger than
 * `POST /v1/files` takes (4 MiB on the deployed path) sent in parts and assembled at `complete` into a file of that
 * purpose in the gateway's file store, checked as `POST /v1/files` checks one (batch-service.ts checkGatewayFile), so
 * that batches.create, vector stores, input_file and files.content read it as a small one. The same service as the
 * fine-tuning uploads (uploads-service.ts, its holds and SDK-retry answers), with the gateway's files as target.
 * `fine-tune` uploads, and ids this store does not know, go to `fineTuning` where it is served (unchanged); without
 * it a fine-tune create is a 400 naming `purpose` and an unknown id a 404 `upload_not_found`. Needs the `inference`
 * permission, as `POST /v1/files` of these purposes.
 */
export class GatewayUploads {
  private readonly service: TrainingUploadsService;

  constructor(private readonly deps: GatewayUploadsDeps) {
    this.service = new TrainingUploadsService({
      files: deps.uploads,
      location: deps.location,
      toOpenAiFile: () => ({}),
      maxPartBytes: deps.maxPartBytes,
      maxUploadBytes: deps.maxUploadBytes,
      gatewayFiles: gatewayUploadFiles(deps.batches),
    });
  }

  /** The most bytes a transport should read for a part's request (the largest part and its framing). */
  get maxPartBodyBytes(): number {
    return this.service.maxPartBodyBytes;
  }

  /**
   * Answers one `/v1/uploads...` request.
   * @param fineTuning the fine-tuning Uploads API, where served: answers a `fine-tune` create and an upload id this store does not hold
   * @throws GatewayError 4xx in OpenAI's shape naming the field; 403 without `inference`
   */
  async handle(req: GatewayUploadRequest, caller: Caller, audit: AuditRecord, fineTuning?: () => Promise<FilesResponse>): Promise<FilesResponse> {
    const handOn = fineTuning && (await this.fineTunings(req, caller));
    if (handOn === 'create') return fineTuning!();
    if (handOn === 'id') {
      // An id this store does not hold is no upload of the caller's here: a caller the fine-tuning API refuses (no
      // fine-tuning permission, a tier without training resources) is told it is not found, as without fine-tuning.
      return fineTuning!().catch((e: unknown) => {
        if (e instanceof GatewayError && (e.code === 'permission_denied' || e.code === 'fine_tuning_not_provisioned')) {
          throw notFound(`No such Upload object: ${UPLOAD_ID_PATH.exec(req.path)!.groups!.id!.slice(0, 100)}`, 'upload_id', 'upload_not_found');
        }
        throw e;
      });
    }
    if (!can(caller.role, 'inference')) throw permissionDenied(caller.role, 'inference');
    return this.service.handle(req.method, req.path, req.query, req.repeatedQuery, req.body, req.bytes, req.contentType, caller, audit, req.sdkRetry, req.retryWaitMs);
  }

  /** Whether the request is the fine-tuning Uploads API's: a create of purpose `fine-tune`, or an upload id not held here; false otherwise. */
  private async fineTunings(req: GatewayUploadRequest, caller: Caller): Promise<'create' | 'id' | false> {
    if (req.method !== 'POST') return false;
    if (req.path === '/v1/uploads') {
      let request: unknown;
      try {
        request = parseJson(req.body);
      } catch {
        return false;
      }
      return typeof request === 'object' && request !== null && (request as { purpose?: unknown }).purpose === 'fine-tune' && 'create';
    }
    const id = UPLOAD_ID_PATH.exec(req.path)?.groups?.id;
    return id !== undefined && UPLOAD_ID.test(id) && !(await this.deps.uploads.getUpload(this.deps.location(caller), id)) && 'id';
  }
}

/** The gateway's Files API (BatchService) as the Uploads API's target for purposes GATEWAY_UPLOAD_PURPOSES. */
export function gatewayUploadFiles(batches: BatchService): GatewayUploadFiles {
  return {
    purposes: GATEWAY_UPLOAD_PURPOSES,
    refuseCreate(purpose, { filename, mimeType, bytes, expiresAfter }) {
      const p = purpose as 'batch' | StoredUploadPurpose;
      refuseGatewayFilename(p, filename, 'filename');
      const wanted = p === 'batch' ? JSONL_MIME_TYPES : [...new Set([inputFileMediaType(filename), 'application/octet-stream'].filter((t): t is string => t !== undefined))];
      if (p !== 'batch' && !inputFileMediaType(filename)) {
        // checkInputFile's message: what a model reads, by the name's extension.
        throw invalid(`filename ${shown(filename)}: a file of purpose "${p}" is ${p === 'vision' ? 'an image (png, jpg, jpeg, gif, webp)' : 'one a model reads: an image (png, jpg, jpeg, gif, webp), a document (pdf, doc, docx, xls, xlsx, csv, html, md) or a text file (txt, json, source code, ...)'}, by the name's extension`, 'filename', 'invalid_file_format');
      }
      if (p === 'vision' && !inputFileMediaType(filename)!.startsWith('image/')) {
        throw invalid(`filename ${shown(filename)}: a file of purpose "vision" is an image (png, jpg, jpeg, gif, webp, by the name's extension)`, 'filename', 'invalid_file_format');
      }
      // A text file (source code, Markdown, JSON...) may be announced with any text type: OpenAI's supported-files table
      // names text/x-python, text/javascript, application/typescript, application/x-sh, text/x-c..., and Python's
      // mimetypes.guess_type (what pipelines pass to upload_file_chunked) text/x-csrc, text/x-java, text/x-sh; its bytes
      // are checked as UTF-8 text at complete whatever the type said.
      const textFile = p !== 'batch' && TEXT_EXTENSIONS.has(extensionOf(filename));
      const type = typeof mimeType === 'string' ? bareMediaType(mimeType) : undefined;
      if (type === undefined || !(wanted.includes(type) || (textFile && isTextMediaType(type)))) {
        throw invalid(`mime_type ${shown(mimeType)} is not one a ${p} file ${shown(filename)} is sent with: ${wanted.join(', ')}${textFile ? ', or another text type (text/*, application/json, application/typescript, application/x-sh...)' : ''}`, 'mime_type', 'invalid_value');
      }
      if (p === 'batch' && bytes > MAX_BATCH_FILE_BYTES) {
        throw invalid(`bytes ${bytes} is over the ${MAX_BATCH_FILE_BYTES}-byte (200 MiB, OpenAI's "200 MB") limit of a batch input file; split the requests into several batches`, 'bytes', 'invalid_value');
      }
      if (expiresAfter === undefined || expiresAfter === null) return undefined;
      if (typeof expiresAfter !== 'object' || Array.isArray(expiresAfter)) throw invalid(`expires_after ${shown(expiresAfter)} must be an object {anchor: "created_at", seconds}`, 'expires_after', 'invalid_type');
      const e = expiresAfter as Record<string, unknown>;
      const unknown = Object.keys(e).find((k) => k !== 'anchor' && k !== 'seconds');
      if (unknown) throw unknownParameter(`expires_after.${shownKey(unknown)}`, 'expires_after takes anchor, seconds');
      return checkExpiresAfter(e.anchor ?? null, e.seconds ?? null, (part) => `expires_after.${part}`);
    },
    async store(caller, upload) {
      if (upload.purpose !== 'batch' && !isStoredUploadPurpose(upload.purpose)) throw new GatewayError(500, `upload of purpose ${upload.purpose} has no file store`, 'api_error', 'internal_error');
      const file = await batches.storeAssembled(caller, { ...upload, purpose: upload.purpose });
      return { id: file.id, bytes: file.bytes, openAi: openAiFile(file) };
    },
    async get(caller, id) {
      const file = await batches.file(caller, id);
      return file && { id: file.id, bytes: file.bytes, openAi: openAiFile(file) };
    },
    async delete(caller, id) {
      await batches.deleteFile(caller, id);
    },
  };
}

/**
 * A store of uploads whose every call goes to the store of the call's tenant (`at.tenantId`), as `storeFor` makes it:
 * on AWS an S3FileStore per tenant on the batch files bucket, keyed below s3-batch-file-store.ts gatewayUploadsPrefix
 * (the tenant-data role reaches only that tenant's prefix).
 */
export function perTenantUploads(storeFor: (tenantId: string) => TrainingFileStore): TrainingFileStore {
  const stores = new Map<string, TrainingFileStore>();
  return new Proxy({} as TrainingFileStore, {
    // No sweep (TrainingFileStore sweepUploads): the bucket's lifecycle rule removes what an upload left.
    get: (_target, method: keyof TrainingFileStore) => method === 'sweepUploads' ? undefined : (at: FileLocation, ...rest: unknown[]) => {
      const store = stores.get(at.tenantId) ?? stores.set(at.tenantId, storeFor(at.tenantId)).get(at.tenantId)!;
      return (store[method] as (...args: unknown[]) => unknown).call(store, at, ...rest);
    },
  });
}

/**
 * The largest upload of a gateway purpose on the deployed path (the fine-tuning API Lambda: 512 MB, API Gateway's 29 s):
 * 512 MiB, OpenAI's limit of a file (openai `files.create`: "Individual files can be up to 512 MB"; a `batch` file is
 * still refused over its 200 MB at create, MAX_BATCH_FILE_BYTES), the same as on `tessera serve` (SERVE_MAX_UPLOAD_BYTES).
 * `complete` no longer holds the file: the parts are streamed through the purpose's check (batch-service.ts
 * gatewayFileCheck) and composed into the file's object by S3 (s3-compose.ts), so memory stays flat (measured on
 * 2026-12-06: a 64 MiB batch file's check grew the process by 298 MiB read whole, 28 MiB streamed; 200 MiB streamed,
 * 34 MiB). The time: the check runs at ~285-350 MB/s on one core (UTF-8 text, a PDF's magic; a batch file's JSON lines
 * ~290 MB/s, with the MD5), ~85 MB/s on the Lambda's ~0.29 vCPU, so 512 MiB take ~6 s of check and ~6 s of S3 reads
 * and part uploads (85-90 MB/s a connection, overlapped), within half the timeout.
 */
export const LAMBDA_MAX_GATEWAY_UPLOAD_BYTES = 512 * 1024 * 1024;
