import type { InputFileReader } from './input-files.js';
import { randomUUID } from 'node:crypto';
import type { ModelEntry, PlatformConfig } from '../../lib/config/schema.js';
import { can } from '../../lib/identity/roles.js';
import { permissionFor } from '../../lib/identity/route-permissions.js';
import { auditCostUsd, isoTime, MemoryAuditSink, type AuditRecord, type AuditSink } from './audit.js';
import { MemoryAuditRecordReader, type AuditRecordReader } from './audit-records.js';
import { auditRecordRedacted } from './audit-redaction.js';
import { requestEventsWanted, type RequestEvents } from './request-events.js';
import { parseTraceparent } from './trace-context.js';
import { parseRequestTags, REQUEST_TAGS_HEADER } from './request-tags.js';
import type { Authorizer, Caller } from './auth.js';
import { actualResponseCors, answerPreflight } from './cors.js';
import { CorsResponder } from './cors-responder.js';
import { chatCompletions } from './endpoints/chat-completions.js';
import { storedChatCompletions } from './endpoints/chat-completions-stored.js';
import type { ChatCompletionStore } from './stores/chat-completion-store.js';
import { embeddings } from './endpoints/embeddings.js';
import { textCompletions } from './endpoints/completions.js';
import { listModels, retrieveModel } from './endpoints/models.js';
import { moderations } from './endpoints/moderations.js';
import { imageForms, imageGenerations } from './endpoints/images.js';
import { speech, transcription } from './endpoints/audio.js';
import { MAX_AUDIO_BODY_BYTES } from './audio/pricing.js';
import { conversations } from './endpoints/conversations.js';
import { responses } from './endpoints/responses.js';
import { createResponse } from './endpoints/responses-create.js';
import { failureOf, newRunRequestId, type BackgroundStarter, type ResponseFailure } from './responses/background.js';
import { TERMINAL_EVENTS, type StreamEvent } from './responses/background-events.js';
import { tenantKeys, type TenantAnswer, type TenantKeyService } from './endpoints/tenant-keys.js';
import { tenantUsers } from './endpoints/tenant-users.js';
import { tenantRequest } from './endpoints/tenant-requests.js';
import { tenantUsage } from './endpoints/usage.js';
import { refuseRepeatedQuery, refuseUnknownRouteQuery } from './query-parameters.js';
import { sdkRetryOf } from './sdk-retry.js';
import { retryWaitMsOf, type PendingCreates } from './pending-creates.js';
import type { ReasoningSeal } from './responses/reasoning-seal.js';
import { billedFailure, deadlineExceeded, GatewayError, internalError, notFound, permissionDenied } from './openai-errors.js';
import { requestBodyTooLarge, sentBodyBytes } from './request-body-limit.js';
import { RequestPipeline, type ApplyGuardrail } from './pipeline.js';
import { parseCacheControl } from './response-cache/cache-control.js';
import type { ResponseCache } from './response-cache/cache-store.js';
import { RequestCache } from './response-cache/request-cache.js';
import type { CacheFlights } from './response-cache/single-flight.js';
import type { BudgetAlerts } from './budget-alerts/budget-alerts.js';
import { PolicyCache, providerOf, type TenantPolicy } from './policy.js';
import type { ProviderName, ProviderRegistry } from './providers/registry.js';
import { routeMethods, unservedRouteMessage, type ServedFamilies } from './routes.js';
import { NO_ORIGINS, type CorsOrigins } from './stores/cors-origins.js';
import type { GatewayStore } from './stores/gateway-store.js';
import type { ConversationStore } from './stores/conversation-store.js';
import type { BackgroundOwner, ResponseStore, StoredResponse } from './stores/response-store.js';
import { loadTokenizer } from './token-count.js';
import { CallerGone } from './upstream-calls.js';
import { checkOwner, OwnerRefused, type OwnedWork, type OwnerRefusal, type WorkOwner } from './owner-refusal.js';
import { ApiKeyService } from '../identity/api-keys.js';
import type { ApiKeyStore } from '../identity/stores/api-key-store.js';
import type { TenantUserDirectory } from '../identity/tenant-users.js';
import type { FineTuningService } from '../fine-tuning/fine-tuning-service.js';
import { isFilesRoute, isFineTuningRoute, isUploadPart, isUploadPath } from '../fine-tuning/fine-tuning-routes.js';
import type { GatewayUploads } from './uploads/gateway-uploads.js';
import type { BatchAnswer, BatchService } from './batches/batch-service.js';
import type { BatchFailure, BatchRequestDetail, BatchRequestResult } from './batches/runner.js';
import type { BatchOwner } from './batches/stores.js';
import { lineRetryOf } from './batches/line-retry.js';
import { errorCause } from '../shared/error-cause.js';
import type { VectorStoreService } from './vector-stores/service.js';
import type { VectorStoreOwner } from './vector-stores/records.js';
import type { EmbeddingRefusal } from './vector-stores/processing.js';
import { entryLogger, serviceLogger } from '../shared/service-logger.js';
import { accessLogEntry } from './access-log.js';
import { bodyModel } from './body-model.js';
import { logDetail, withoutCredentials } from './log-text.js';
import { nameRequestLog, requestLogKeys, withRequestLog } from '../shared/request-log-context.js';

const logger = serviceLogger('tessera-gateway');
const logEntry = entryLogger(logger);

export interface GatewayRequest {
  method: string;
  path: string;
  /** Header names in lower case (HTTP field names are case-insensitive, RFC 9110 §5.1). */
  headers: Record<string, string | undefined>;
  body?: string;
  /** The body as received, where the transport has it (multipart uploads: `POST /v1/files`). @default - `body` as UTF-8 */
  bytes?: Uint8Array;
  query?: Record<string, string | undefined>;
  /**
   * The query parameter names given more than once (`query` holds the last value of each, as API Gateway's
   * `queryStringParameters` do; its `multiValueQueryStringParameters` have them all). @default - none
   */
  repeatedQuery?: readonly string[];
  /**
   * Every value, in order, of each query parameter given more than once (`include[]=a&include[]=b`, the official
   * clients' form of a list): what a list parameter reads, each value checked, not only the last. @default - none
   */
  queryValues?: Readonly<Record<string, readonly string[]>>;
  /**
   * The header names (lower case) given more than once: `headers` holds the last value of each, as API Gateway's
   * single-value `headers` do (its `multiValueHeaders` have them all; `tessera serve`: local-server.ts
   * singleValueHeaders). A repeated `traceparent` is ignored (trace-context.ts parseTraceparent). @default - none
   */
  repeatedHeaders?: readonly string[];
}

/** How a response leaves: whole (JSON) or as server-sent events. */
export interface GatewayResponder {
  json(status: number, body: string, headers?: Record<string, string>): void | Promise<void>;
  stream(headers?: Record<string, string>): { write(event: string): void | Promise<void>; end(): void | Promise<void> };
  /** An answer without content (204, RFC 9110 §15.3.5: no body, no Content-Type or Content-Length). @default - `json` with an empty body */
  empty?(status: number, headers?: Record<string, string>): void | Promise<void>;
  /** A whole answer that is not JSON (a file's content: `GET /v1/files/{id}/content`; speech's audio), text sent as UTF-8, bytes as they are. @default - not served (500) */
  content?(status: number, body: string | Uint8Array, contentType: string, headers?: Record<string, string>): void | Promise<void>;
  /** Aborted when the caller closes the connection before the answer has ended. @default - never */
  signal?: AbortSignal;
  /** The answer's body bytes sent so far (whole answers and streams), for the access line (access-log.ts). @default - not counted */
  sentBytes?(): number;
  /** The HTTP status sent, once the answer's head is (a stream's 200 whatever came after), for the access line. @default - the audit record's */
  sentStatus?(): number | undefined;
  /**
   * Aborted when the answer must end, so that the reservation is settled and the audit record
   * written before the transport's own time runs out (the router Lambda: its remaining time less
   * lambda-deadline.ts SETTLE_MARGIN_MS). @default - never (`tessera serve` has no deadline)
   */
  deadline?: AbortSignal;
}

export interface GatewayDeps {
  config: PlatformConfig;
  store: GatewayStore;
  authorizer: Authorizer;
  providers: ProviderRegistry;
  audit: AuditSink;
  /** Awaited before the response ends (Lambda) or written after it (local server). @default false */
  awaitAudit?: boolean;
  /**
   * One access line per answered request (access-log.ts accessLogEntry: method, path, status, duration, request id,
   * tenant, model), through the gateway's Logger: `tessera serve` (unless `--no-access-log`). The deployed router has
   * API Gateway's access logs and its metrics line instead. @default false
   */
  accessLog?: boolean;
  /** Bedrock ApplyGuardrail on the caller's input and on answers (streamed ones in windows: chat/output-guard.ts), for tenants that configure a guardrail. @default - Bedrock's, loaded on first use */
  applyGuardrail?: ApplyGuardrail;
  /** OpenAI's fine-tuning API (`/v1/fine_tuning/jobs...`). @default - not served here (404) */
  fineTuning?: FineTuningService;
  /**
   * Whether another Lambda serves the fine-tuning routes (routes.ts FINE_TUNING_ROUTES) beside this gateway on the
   * same API: the deployed router, behind whose `/v1/{proxy+}` API Gateway sends every /v1 path no more specific
   * resource takes (lib/inference-api-methods.ts). Its 404 then lists them as served, a path of theirs with a method
   * they do not take (which API Gateway passes on to `/v1/{proxy+}`) is the 405 naming what the path takes, and
   * `/v1/models/{model}` takes DELETE in `Allow`. @default false (a fine-tuning path is the 404 "not served here")
   */
  fineTuningBeside?: boolean;
  /**
   * OpenAI's Batch API (`/v1/batches...`) and the Files API for its files (`/v1/files...`, purpose `batch`; other
   * files go on to `fineTuning` where it is served). @default - not served here (404)
   */
  batches?: BatchService;
  /**
   * OpenAI's Uploads API for the gateway's files (`/v1/uploads...`, purposes batch, assistants, vision, user_data:
   * uploads/gateway-uploads.ts), served with `batches`; `fine-tune` uploads go on to `fineTuning` where it is served.
   * @default - `/v1/uploads` is fine-tuning's only
   */
  uploads?: GatewayUploads;
  /** OpenAI's Vector Stores API (`/v1/vector_stores...`: vector-stores/service.ts). @default - not served here (404) */
  vectorStores?: VectorStoreService;
  /** Stored Responses API answers (`store`, `previous_response_id`, retrieve, delete, input_items). @default - none kept: every response is served as `store: false`, `previous_response_id` is a 400, retrieve and delete a 404 */
  responses?: ResponseStore;
  /**
   * Stored chat completions (`store: true` on /v1/chat/completions; list, retrieve, update, delete, messages), kept
   * with the stored responses (same tenant policy and TTL). @default - none kept: `store: true` is a 400, the list
   * empty, every id a 404
   */
  chatCompletions?: ChatCompletionStore;
  /**
   * OpenAI's Conversations API (`/v1/conversations...`, `conversation` on `/v1/responses`).
   * @default - none kept: creating a conversation and `conversation` on /v1/responses are 400s, every conversation id a 404
   */
  conversations?: ConversationStore;
  /**
   * The response cache (response-cache/cache-store.ts): chat completions (whole and streamed), embeddings and `store: false`
   * Responses API creates of the tenants whose
   * policy has `responseCache`, answered again without an upstream call (docs/gateway.md "Response cache"). On AWS the
   * responses table (`cache#` items), in `tessera serve` this process's memory. @default - none: nothing is cached
   */
  responseCache?: ResponseCache;
  /**
   * Single flight per cache key (response-cache/single-flight.ts): identical requests that miss the cache at once call
   * the model once, the others answered with its answer. `tessera serve` (one process, many requests at once).
   * @default - none (the Lambda gateway: an execution environment answers one request at a time)
   */
  cacheFlights?: CacheFlights;
  /**
   * Runs background responses (`background: true`, responses/background.ts): `tessera serve` in its process, AWS by
   * the router's work queue. @default - none: `background: true` is a 400 naming `background`
   */
  background?: BackgroundStarter;
  /**
   * The notes of the background creates still running (pending-creates.ts): an SDK retry of one that arrives meanwhile
   * waits for it (responses-create.ts). @default - none: such a retry makes a second response
   */
  pendingCreates?: PendingCreates;
  /**
   * The platform's seal of reasoning items (`include: ["reasoning.encrypted_content"]`, responses/reasoning-seal.ts): on
   * AWS keyed by the platform's Secrets Manager secret, in `tessera serve` by a key file in its state dir.
   * @default - none: that include, and a reasoning item sent back with `encrypted_content`, are a 400
   */
  reasoningSeal?: ReasoningSeal;
  /**
   * Providers this gateway can reach; the others' models (a tenant's fine-tuned SageMaker models
   * included) are not the tenant's here: not listed, not retrievable, 404 when called.
   * @default - every provider
   */
  servedProviders?: readonly ProviderName[];
  /**
   * Catalog models taken out of `config` because their provider is not among `servedProviders`
   * (`tessera serve`): a tenant's request for one is a 404 that says it is not served here.
   * @default - none
   */
  withheldModels?: readonly ModelEntry[];
  /**
   * The origin index answering CORS preflights, which come without credentials: whether some
   * tenant allows an origin (stores/cors-origins.ts). @default - none allowed: preflights get no CORS headers
   */
  corsOrigins?: CorsOrigins;
  /** Tenant API keys (`tsk_…`): `/v1/tenant/keys`. @default - not served (404) */
  keys?: ApiKeyStore;
  /** What `/v1/tenant/keys` manages keys with. @default - ApiKeyService on `keys` (lambdas/identity/api-keys.ts) */
  keyService?: TenantKeyService;
  /** Tenant users in the platform's Cognito pool: `/v1/tenant/users`. @default - not served (404) */
  users?: TenantUserDirectory;
  /**
   * Tenant budget alerts (budget-alerts/budget-alerts.ts): checked after each settle, off the
   * answer's path; with `awaitAudit` (Lambda) also awaited before the invocation ends. @default - none
   */
  budgetAlerts?: BudgetAlerts;
  /**
   * Where `GET /v1/tenant/requests/{request_id}` reads a request's audit record back: the audit bucket as the tenant
   * (S3AuditRecordReader), `tessera serve`'s audit.jsonl (FileAuditRecordReader).
   * @default - the records of `audit` when it is a MemoryAuditSink; else none (the route answers 404 `route_not_found`)
   */
  auditRecords?: AuditRecordReader;
  /**
   * `Gateway Request Completed` events (request-events.ts) of the requests whose tenant wants them (its
   * `gateway.requestEvents`, else the platform's): added when the record is written, and with `awaitAudit` (Lambda)
   * awaited with it, before the invocation ends. @default - none put
   */
  requestEvents?: RequestEvents;
  /**
   * When the o200k tokenizer (token-count.ts loadTokenizer: its 2.4 MB of ranks and their lookup table, ~0.15-0.2 s of
   * CPU) is loaded: `'start'`, as this gateway is built (a Lambda's init, off the first request's path); `'first-count'`,
   * by the first request that counts tokens (each such endpoint awaits it before counting), so a `tessera serve` start
   * that answers no such request never loads it; the first that counts waits for it. The counts are the same either way.
   * @default 'start'
   */
  loadTokenizer?: 'start' | 'first-count';
}

const NEVER = new AbortController().signal;
/** Longest request path an audit record keeps (a URL may be up to API Gateway's 10,240 bytes, all the caller's). */
const MAX_AUDIT_PATH = 1024;
const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * The OpenAI-compatible gateway, transport-free: the local server and the Lambda adapters feed it
 * requests. It authenticates the caller (claims only), resolves the tenant policy, routes to the
 * endpoint (`endpoints/`, each on the shared `RequestPipeline`), answers errors in OpenAI's shape
 * and writes one audit record per request.
 */
export class Gateway {
  private readonly policies: PolicyCache;
  private readonly pipeline: RequestPipeline;
  /** Tenant policies narrowed to a key's `models`, per policy object (a new one when the tenant changes) and key id. */
  private readonly narrowed = new WeakMap<TenantPolicy, Map<string, TenantPolicy>>();
  private readonly keyService?: TenantKeyService;
  /** Requests being handled (past OPTIONS), and who waits for there to be none (settled()). */
  private active = 0;
  private quiet: Array<() => void> = [];
  /** Records whose request event is put (their tenant wants them: eventsOf). */
  private readonly eventful = new WeakSet<AuditRecord>();

  /** The tenant's files a request names by `file_id` (input-files.ts): the Batch API's file store, where it is served. */
  private readonly inputFiles?: InputFileReader;

  constructor(private readonly deps: GatewayDeps) {
    this.inputFiles = deps.batches && ((tenantId, id) => deps.batches!.inputFile(tenantId, id));
    this.policies = new PolicyCache(deps.config, undefined, deps.servedProviders && new Set(deps.servedProviders), deps.withheldModels);
    const applyGuardrail = guardrailFailuresNamed(deps.applyGuardrail ?? (async (id, texts, source, signal) => (await import('./bedrock-guardrail.js')).applyBedrockGuardrail(id, texts, source, signal)));
    this.pipeline = new RequestPipeline(deps.config, deps.store, deps.providers, applyGuardrail, deps.budgetAlerts);
    this.keyService = deps.keyService ?? (deps.keys && new ApiKeyService(deps.keys, deps.config));
    // Off the first request's path as far as possible (Lambda: during init), unless deferred to the first count (serve). A failure is logged; counts then stay the byte bound.
    if (deps.loadTokenizer !== 'first-count') loadTokenizer().catch((e) => logger.error('tokenizer not loaded', { error: (e as Error).message }));
  }

  /**
   * Answers one request through `raw`. `OPTIONS` is answered before authentication (cors.ts
   * answerPreflight) and not audited: it carries no identity and reads nothing. Every other answer
   * carries `Vary: Origin`, and `Access-Control-Allow-Origin` once the caller's tenant is known and
   * its policy allows the request's `Origin` (whole answers, streams and errors alike).
   */
  async handle(req: GatewayRequest, raw: GatewayResponder): Promise<void> {
    // Log lines written while it is answered name it (requestId, tenantId): lambdas/shared/request-log-context.ts.
    return withRequestLog(() => this.answerRequest(req, raw));
  }

  /** `handle` within its request's log context. */
  private async answerRequest(req: GatewayRequest, raw: GatewayResponder): Promise<void> {
    const path = req.path.replace(/\/+$/, '');
    if (req.method === 'OPTIONS') return this.preflight({ path, headers: req.headers }, raw);
    const started = performance.now();
    // What this gateway serves: `tessera serve` has no /v1/tenant/users (no user pool), nor /v1/tenant/keys without a key
    // store. Its 404 lists these routes, and its 405 and OPTIONS name the methods of these only (routes.ts routeMethods).
    const served = this.served();
    const listed = served.fineTuning;
    const res = new CorsResponder(raw);
    // The chat completion's id is the request id (`chatcmpl-…`, as OpenAI's), a text completion's too (`cmpl-…`); other routes' are `req_…`, as OpenAI's x-request-id.
    const requestId = `${path === '/v1/chat/completions' ? 'chatcmpl-' : path === '/v1/completions' ? 'cmpl-' : 'req_'}${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    // A path is the caller's text: the audit record keeps at most MAX_AUDIT_PATH characters of it, a credential pasted
    // into it redacted first (a key cut in half by the bound would pass the patterns); record() redacts the other fields.
    const audit: AuditRecord = { requestId, at: isoTime(), method: req.method, path: shorten(withoutCredentials(path), MAX_AUDIT_PATH), latencyMs: 0, status: 200, outcome: 'ok' };
    nameRequestLog(audit);
    // W3C Trace Context: a valid `traceparent` is kept on the record (and its event); an invalid one is ignored, with a note.
    const trace = parseTraceparent(req.headers.traceparent, req.repeatedHeaders?.includes('traceparent'));
    if (trace.traceparent) audit.traceparent = trace.traceparent;
    res.requestId = requestId;
    res.started = started;
    // The request's response cache, released when it ended (a flight it leads ends without an answer unless it kept one).
    let cache: RequestCache | undefined;
    /** The refusal's `param`, for the access line. */
    let refusedParam: string | null = null;
    this.active++;
    try {
      const route = `${req.method} ${path}`;
      // With the Batch API served, /v1/files is its (fine-tune files go on from it to the fine-tuning API).
      const batchFiles = Boolean(this.deps.batches) && isFilesRoute(path);
      const batchRoute = Boolean(this.deps.batches) && (path === '/v1/batches' || path.startsWith('/v1/batches/'));
      // With the gateway's uploads served, /v1/uploads is theirs (a fine-tune upload goes on from them to the fine-tuning API).
      const gatewayUploads = Boolean(this.deps.uploads) && isUploadPath(path);
      const fineTuning = isFineTuningRoute(path, req.method) && !batchFiles && !gatewayUploads;
      // A file upload and an upload's part have their own limits (files-service.ts, uploads-service.ts); every other body gateway.maxRequestBytes.
      const upload = ((fineTuning || batchFiles) && req.method === 'POST' && path === '/v1/files') || ((fineTuning || gatewayUploads) && isUploadPart(req.method, path)) || isAudioUpload(req.method, path) || isImageForm(req.method, path);
      // UTF-8 takes at most 3 bytes per UTF-16 unit: a body of at most a third of the limit in units is not counted.
      const body = req.body ?? '';
      refuseContentEncoding(req.headers['content-encoding'], body.length > 0 || (req.bytes?.length ?? 0) > 0);
      // A path no route serves is its 404, whatever the body's size (an 8 MB client.audio.transcriptions upload was told to
      // shrink the file, then refused as not served; API Gateway answers such a path 404 on the deployed path).
      const routed = fineTuning || gatewayUploads || routeMethods(path, served) !== undefined;
      if (routed && !upload && body.length * 3 > this.deps.config.gateway.maxRequestBytes && Buffer.byteLength(body) > this.deps.config.gateway.maxRequestBytes) {
        throw requestBodyTooLarge(sentBodyBytes(req.headers, body), this.deps.config.gateway.maxRequestBytes, path);
      }
      const caller = await this.deps.authorizer.authorize(req.headers.authorization);
      Object.assign(audit, { tenantId: caller.tenantId, tier: caller.tenant.tier, userId: caller.userId, role: caller.role }, caller.keyId ? { keyId: caller.keyId } : {});
      this.eventsOf(audit, caller);
      res.cors = actualResponseCors(req.headers.origin, caller.tenant.gateway?.allowedOrigins);
      // The caller's tags (`x-tessera-tags`: request-tags.ts), on the record (its request event, GET /v1/tenant/requests/{id}); a bad one is a 400.
      const tags = parseRequestTags(req.headers[REQUEST_TAGS_HEADER], req.repeatedHeaders?.includes(REQUEST_TAGS_HEADER));
      if (tags.length) audit.tags = tags;
      // A route this gateway does not serve at all is its 404 before the role check: a caller is not sent to an admin for
      // a role that would reach nothing (a member's files.create was a 403 "ask your tenant admin", a developer's a 404).
      refuseUnserved(req.method, path, { fineTuning: fineTuning && !listed, keys: !this.keyService, users: !this.deps.users });
      // The role check (lib/identity/route-permissions.ts): a route the table does not know answers 404/405 below,
      // except under /v1/responses, whose every route reads the tenant's stored responses (POST .../cancel looks one up).
      // Batch files are checked by the Batch API (`inference`; a fine-tune file by the fine-tuning API's permission).
      // The gateway's uploads likewise (`inference`; a fine-tune upload by the fine-tuning API's permission).
      const permission = batchFiles || gatewayUploads ? undefined : permissionFor(req.method, path) ?? (path.startsWith('/v1/responses') ? 'inference' : undefined);
      // The refusal carries its permission into the audit record (the catch below).
      if (permission && !can(caller.role, permission)) throw permissionDenied(caller.role, permission);
      // A query parameter the route does not take is a 400 naming it, never dropped unseen (query-parameters.ts ROUTE_QUERY_PARAMETERS).
      refuseUnknownRouteQuery(req.method, path, req.query ?? {});
      // Beside the fine-tuning Lambda (fineTuningBeside), its paths reach this gateway only with a method it does not take: the 405 or 404 below.
      if (fineTuning && this.deps.fineTuning) {
        const answer = await this.deps.fineTuning.handle({
          method: req.method, path, query: req.query ?? {}, repeatedQuery: req.repeatedQuery, body: req.body, bytes: req.bytes, contentType: req.headers['content-type'],
          sdkRetry: sdkRetryOf(req.headers['x-stainless-retry-count']), deadline: res.deadline,
        }, caller, audit);
        return await sendWhole(res, answer);
      }
      if (gatewayUploads) {
        const fineTuningUploads = this.deps.fineTuning && (async () => {
          const needed = permissionFor(req.method, path);
          if (needed && !can(caller.role, needed)) throw permissionDenied(caller.role, needed);
          // As the fine-tuning branch above passes it (a fine-tune upload answered as without the gateway's uploads).
          return this.deps.fineTuning!.handle({ method: req.method, path, query: req.query ?? {}, repeatedQuery: req.repeatedQuery, body: req.body, bytes: req.bytes, contentType: req.headers['content-type'], sdkRetry: sdkRetryOf(req.headers['x-stainless-retry-count']), deadline: res.deadline }, caller, audit);
        });
        const upload = { method: req.method, path, query: req.query ?? {}, repeatedQuery: req.repeatedQuery, body: req.body, bytes: req.bytes, contentType: req.headers['content-type'], sdkRetry: sdkRetryOf(req.headers['x-stainless-retry-count']), retryWaitMs: retryWaitMsOf(req.headers) };
        return await sendWhole(res, await this.deps.uploads!.handle(upload, caller, audit, fineTuningUploads));
      }
      if (batchFiles || batchRoute) {
        const batches = this.deps.batches!;
        const fineTuningFiles = this.deps.fineTuning && (async (query?: Record<string, string | undefined>): Promise<BatchAnswer> => {
          const needed = permissionFor(req.method, path);
          if (needed && !can(caller.role, needed)) throw permissionDenied(caller.role, needed);
          return this.deps.fineTuning!.handle({ method: req.method, path, query: query ?? req.query ?? {}, repeatedQuery: query ? undefined : req.repeatedQuery, body: req.body, bytes: req.bytes, contentType: req.headers['content-type'], sdkRetry: sdkRetryOf(req.headers['x-stainless-retry-count']), retryWaitMs: retryWaitMsOf(req.headers) }, caller, audit);
        });
        const answer = batchRoute
          ? await batches.batches(req.method, path, req.query ?? {}, req.repeatedQuery, req.body, caller, audit, sdkRetryOf(req.headers['x-stainless-retry-count']), retryWaitMsOf(req.headers))
          : await batches.files({ method: req.method, path, query: req.query ?? {}, repeatedQuery: req.repeatedQuery, bytes: req.bytes ?? (req.body === undefined ? undefined : Buffer.from(req.body)), contentType: req.headers['content-type'], sdkRetry: sdkRetryOf(req.headers['x-stainless-retry-count']), retryWaitMs: retryWaitMsOf(req.headers) }, caller, audit, fineTuningFiles);
        return await sendWhole(res, answer);
      }
      if (isTenantKeys(path)) {
        // API Gateway keeps only the last value of a repeated name (`limit=1&limit=2` read as 2): a 400 naming it, as the other list routes.
        refuseRepeatedQuery(req.repeatedQuery);
        return await answer(res, audit, await tenantKeys(this.keyService!, caller, req.method, path, req.body, req.query));
      }
      if (isTenantUsers(path)) {
        return await answer(res, audit, await tenantUsers(this.deps.users!, caller, req.method, path, req.body));
      }
      const policy = this.policyOf(caller);
      if (this.deps.vectorStores && (path === '/v1/vector_stores' || path.startsWith('/v1/vector_stores/'))) {
        return await sendWhole(res, await this.deps.vectorStores.handle({ method: req.method, path, query: req.query ?? {}, repeatedQuery: req.repeatedQuery, body: req.body, sdkRetry: sdkRetryOf(req.headers['x-stainless-retry-count']) }, caller, policy, audit));
      }
      // The tenant's response cache (response-cache/), on the routes it serves; its headers are checked there whether it is on or not.
      const cacheable = route === 'POST /v1/chat/completions' || route === 'POST /v1/embeddings' || route === 'POST /v1/responses';
      const endpointOf = (m: ModelEntry) => (this.deps.config.gateway.providers as Partial<Record<string, { baseUrl?: string }>>)[providerOf(m)]?.baseUrl;
      cache = cacheable ? RequestCache.of(this.deps.responseCache, parseCacheControl(req.headers, req.repeatedHeaders), caller, policy, audit, endpointOf, this.deps.cacheFlights) : undefined;
      const request = {
        caller, policy, audit, signal: res.signal ?? NEVER, deadline: res.deadline, files: this.inputFiles, sdkRetry: sdkRetryOf(req.headers['x-stainless-retry-count']),
        pendingCreates: this.deps.pendingCreates, retryWaitMs: retryWaitMsOf(req.headers), reasoningSeal: this.deps.reasoningSeal, ...(cache ? { cache } : {}),
      };
      if (route === 'POST /v1/chat/completions') return await chatCompletions(this.pipeline, request, req.body, res, this.deps.chatCompletions);
      if ((path === '/v1/chat/completions' || path.startsWith('/v1/chat/completions/')) && routeMethods(path, served)?.includes(req.method)) {
        return await storedChatCompletions(this.deps.chatCompletions, request, { method: req.method, path, body: req.body, query: req.query ?? {}, repeatedQuery: req.repeatedQuery }, res);
      }
      if (route === 'POST /v1/completions') return await textCompletions(this.pipeline, request, req.body, res);
      if (route === 'POST /v1/embeddings') return await embeddings(this.pipeline, request, req.body, res);
      if (route === 'POST /v1/moderations') return await moderations(this.pipeline, request, req.body, res);
      if (route === 'POST /v1/images/generations') return await imageGenerations(this.pipeline, request, req.body, res);
      if (route === 'POST /v1/audio/speech') return await speech(this.pipeline, request, req.body, req.headers.accept, res);
      if (isImageForm(req.method, path)) return await imageForms(this.pipeline, request, path === '/v1/images/edits' ? 'edits' : 'variations', req.bytes ? Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength) : req.body === undefined ? undefined : Buffer.from(req.body), req.headers['content-type'], res);
      if (isAudioUpload(req.method, path)) return await transcription(this.pipeline, request, path === '/v1/audio/translations' ? 'translations' : 'transcriptions', req.bytes ? Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength) : req.body === undefined ? undefined : Buffer.from(req.body), req.headers['content-type'], res);
      if (path === '/v1/responses' || path.startsWith('/v1/responses/')) {
        return await responses(this.pipeline, request, { method: req.method, path, body: req.body, query: req.query ?? {}, repeatedQuery: req.repeatedQuery, queryValues: req.queryValues, upgrade: req.headers.upgrade }, res, this.deps.responses, this.deps.conversations, this.deps.background, this.deps.vectorStores);
      }
      if (path === '/v1/conversations' || path.startsWith('/v1/conversations/')) {
        return await conversations(this.pipeline, request, { method: req.method, path, body: req.body, query: req.query ?? {}, repeatedQuery: req.repeatedQuery, queryValues: req.queryValues }, res, this.deps.conversations);
      }
      if (route === 'GET /v1/models') return await res.json(200, listModels(policy));
      if (path.startsWith('/v1/models/')) {
        if (req.method !== 'GET') throw new GatewayError(405, `${req.method} is not supported on /v1/models/{model}; GET retrieves a model`, 'invalid_request_error', 'method_not_allowed');
        return await res.json(200, retrieveModel(policy, path.slice('/v1/models/'.length)));
      }
      // A repeated parameter (`group_by=user&group_by=model`, `date=…&date=…`) is refused as the list routes refuse it: API
      // Gateway's queryStringParameters (and serve's) keep the last value, so the first was dropped unseen.
      if (route === 'GET /v1/usage') {
        refuseRepeatedQuery(req.repeatedQuery);
        return await res.json(200, await tenantUsage(this.deps.store, policy, caller, req.query ?? {}));
      }
      if (req.method === 'GET' && isTenantRequest(path)) {
        refuseRepeatedQuery(req.repeatedQuery);
        const reader = this.deps.auditRecords ?? (this.deps.audit instanceof MemoryAuditSink ? new MemoryAuditRecordReader(this.deps.audit.records) : undefined);
        if (!reader) throw notFound(`${route}: request records are not served on this endpoint (no audit records to read here)`, null, 'route_not_found');
        return await answer(res, audit, await tenantRequest(reader, caller, path, req.query ?? {}));
      }
      // A path of the route tables (routes.ts) that no branch above answers for this method: a 405 naming what it takes.
      if (routeMethods(path, served)?.includes(req.method) === false) {
        throw new GatewayError(405, `${req.method} is not supported on ${req.path}`, 'invalid_request_error', 'method_not_allowed');
      }
      throw notFound(unservedRouteMessage(req.method, path, served), null, 'route_not_found');
    } catch (e) {
      if (e instanceof CallerGone) {
        // Nobody to answer: 499 (the caller closed the request) in the audit record, as nginx logs it.
        Object.assign(audit, { status: 499, outcome: 'cancelled' });
        return;
      }
      const failed = e instanceof GatewayError ? e : internalError(audit.requestId);
      if (!(e instanceof GatewayError)) logger.error('gateway failure', { requestId: audit.requestId, error: (e as Error).message });
      // Settled with a cost (the upstream answered, the budget was charged) and still a 5xx: the SDKs must not buy it again.
      const err = failed.status >= 500 && audit.costUsd !== undefined && failed.headers['x-should-retry'] !== 'false' ? billedFailure(failed, audit) : failed;
      Object.assign(audit, { status: err.status, outcome: err.code });
      refusedParam = err.param;
      // A refused credential's tenant, user or key, and a 403's permission (never overriding what a served caller set).
      if (err.audit) {
        const { permission, ...who } = err.audit;
        for (const [field, value] of Object.entries(who)) if (value !== undefined && audit[field as 'tenantId'] === undefined) audit[field as 'tenantId'] = value;
        if (permission) audit.detail = { ...audit.detail, permission };
      }
      // A 405 names what the path takes (RFC 9110 §15.5.6: `Allow` MUST be sent), from the route table OPTIONS answers from.
      // With this gateway's routes: /v1/models/{model} takes DELETE only where fine-tuning is served (client.models.delete).
      const methods = err.status === 405 ? routeMethods(path, served) : undefined;
      try {
        await res.json(err.status, err.body(), { ...err.headers, ...(methods ? { allow: [...methods, 'OPTIONS'].join(', ') } : {}), 'x-request-id': audit.requestId });
      } catch (gone) {
        if (!(gone instanceof CallerGone)) throw gone;
        Object.assign(audit, { status: 499, outcome: 'cancelled' }); // the refusal never reached the caller
      }
    } finally {
      cache?.release();
      audit.latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
      // Nano-dollars, as the ledger counts it: no float tail in .tessera/audit.jsonl, S3 or the metrics (budgets settled the exact figure).
      if (audit.costUsd !== undefined) audit.costUsd = auditCostUsd(audit.costUsd);
      // After the endpoint, which may have set `detail` anew.
      if (trace.ignored) audit.detail = { ...audit.detail, traceparentIgnored: trace.ignored };
      // An official SDK's retry of an earlier attempt (x-stainless-retry-count): its records tell it from a new call.
      const sdkRetry = sdkRetryOf(req.headers['x-stainless-retry-count']);
      if (sdkRetry !== undefined) audit.detail = { ...audit.detail, sdkRetry };
      if (this.deps.accessLog) {
        // A 4xx refused before its model was resolved (a schema's 400): the model the body named, read again; not for a 401
        // (a caller not authenticated: its body was never read) nor a 413 (a body over the limit).
        const named = audit.status >= 400 && audit.status < 499 && audit.status !== 401 && audit.status !== 413 && audit.model === undefined ? bodyModel(req.body) : undefined;
        logEntry(accessLogEntry(audit, { status: raw.sentStatus?.(), bytes: raw.sentBytes?.() }, { param: refusedParam, bodyModel: named }));
      }
      const written = this.record(audit);
      try {
        if (this.deps.awaitAudit) await written;
        if (this.deps.awaitAudit) await this.deps.budgetAlerts?.idle(); // budget alerts: done before a Lambda invocation ends (a frozen environment would hold them)
      } finally {
        if (--this.active === 0 && this.quiet.length) for (const wake of this.quiet.splice(0)) wake();
      }
    }
  }

  /**
   * One request of a batch (batches/runner.ts), as a live call by the batch's owner: the owner's tenant (and key)
   * read again as the authorizer reads them (a suspended tenant, a revoked or expired key: refused), its role's
   * permission for `url`, the tenant policy (a key's `models` subset), then the endpoint on the shared pipeline
   * (model routing, rate limits, guardrails, budget reservation and settle, fallbacks) and one audit record, with
   * `detail.batchId` and `detail.customId`, and the batch's tags (`detail.tags`, its create's `x-tessera-tags`) as the
   * record's `tags`: its usage counts under them (`GET /v1/usage?group_by=tag`), as a live call's with the header does.
   * The body limit (gateway.maxRequestBytes) applies to each request.
   * @param url one of the batch endpoints (batch-service.ts BATCH_ENDPOINTS)
   * @param body the request line's `body`, as JSON
   * @returns the status, the JSON body answered (OpenAI's error shape for a refusal) and the request id, with
   *   `ownerRefused` when the owner's tenant or key is refused (the batch fails: runner.ts runLines); never throws
   */
  async batchRequest(owner: BatchOwner, url: string, body: string, detail: BatchRequestDetail, deadline?: AbortSignal): Promise<BatchRequestResult> {
    const started = performance.now();
    const requestId = `${url === '/v1/chat/completions' ? 'chatcmpl-' : url === '/v1/completions' ? 'cmpl-' : 'req_'}${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    const audit: AuditRecord = { requestId, at: isoTime(), method: 'POST', path: url, latencyMs: 0, status: 200, outcome: 'ok', tenantId: owner.tenantId, userId: owner.userId, role: owner.role, ...(owner.keyId ? { keyId: owner.keyId } : {}), detail: { batchId: detail.batchId, customId: detail.customId.slice(0, 100) }, ...(detail.tags?.length ? { tags: [...detail.tags] } : {}) };
    let answered: BatchRequestResult | undefined;
    let ownerRefused: BatchFailure | undefined;
    const res: GatewayResponder = {
      json: (status, text) => { answered = { status, body: text, requestId }; },
      stream: () => { throw new GatewayError(400, 'stream is not supported in a batch: its requests are answered whole (leave stream out)', 'invalid_request_error', 'invalid_value', 'stream'); },
      deadline,
    };
    this.active++;
    try {
      if (Buffer.byteLength(body) > this.deps.config.gateway.maxRequestBytes) throw requestBodyTooLarge(Buffer.byteLength(body), this.deps.config.gateway.maxRequestBytes, url);
      const checked = await checkOwner(this.deps.authorizer, owner, 'batch');
      // The owner itself refused (its tenant not served, its key gone): no later line of the batch can run either.
      if (checked.refused) {
        ownerRefused = checked.refused;
        throw checked.error;
      }
      const { caller } = checked;
      Object.assign(audit, { tier: caller.tenant.tier, role: caller.role });
      this.eventsOf(audit, caller);
      const permission = permissionFor('POST', url);
      if (permission && !can(caller.role, permission)) throw permissionDenied(caller.role, permission);
      const policy = this.policyOf(caller);
      const request = { caller, policy, audit, signal: NEVER, deadline, files: this.inputFiles, batch: true };
      if (url === '/v1/chat/completions') await chatCompletions(this.pipeline, request, body, res);
      else if (url === '/v1/completions') await textCompletions(this.pipeline, request, body, res);
      else if (url === '/v1/embeddings') await embeddings(this.pipeline, request, body, res);
      else if (url === '/v1/moderations') await moderations(this.pipeline, request, body, res);
      // The hosted file_search tool runs in a batch's line as in a live call (the tenant's stores, the owner's searches).
      else if (url === '/v1/responses') await responses(this.pipeline, request, { method: 'POST', path: url, body, query: {} }, res, this.deps.responses, undefined, undefined, this.deps.vectorStores);
      else throw notFound(`no route POST ${url.slice(0, 200)} in a batch`, 'url', 'route_not_found');
      return answered ?? { status: 500, body: internalError(requestId).body(), requestId };
    } catch (e) {
      const err = e instanceof GatewayError ? e : internalError(requestId);
      if (!(e instanceof GatewayError)) logger.error('batch request failure', { requestId, batchId: detail.batchId, error: (e as Error).message });
      Object.assign(audit, { status: err.status, outcome: err.code });
      const retry = lineRetryOf(err);
      return { status: err.status, body: err.body(), requestId, ...(retry ? { retry } : {}), ...(ownerRefused ? { ownerRefused } : {}) };
    } finally {
      await this.endWork(audit, answered, started);
    }
  }

  /**
   * Embeds a vector store's texts (its files' chunks, a search's queries: vector-stores/processing.ts EmbedTexts) as a
   * `POST /v1/embeddings` call of the store's creator, as batchRequest runs a batch's request: the owner's tenant (and
   * key) read again, its role's permission, the tenant policy, the embeddings endpoint on the shared pipeline (routing,
   * rate limits, guardrails, budget reservation and settle), one audit record with `detail.vectorStoreId`.
   * @returns the vectors, one per text in order; or the refusal: its status and message, and, for an error the
   *   pipeline threw (a rate limit, a budget, an upstream's 429), its type, code and headers. Never throws.
   */
  async vectorStoreEmbeddings(owner: VectorStoreOwner, model: string, texts: string[], detail: Record<string, string>): Promise<{ vectors: number[][] } | EmbeddingRefusal> {
    const started = performance.now();
    const requestId = `req_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    const audit: AuditRecord = { requestId, at: isoTime(), method: 'POST', path: '/v1/embeddings', latencyMs: 0, status: 200, outcome: 'ok', tenantId: owner.tenantId, userId: owner.userId, role: owner.role, ...(owner.keyId ? { keyId: owner.keyId } : {}), detail: { ...detail } };
    let answered: { status: number; body: string } | undefined;
    let ownerRefused: OwnerRefusal | undefined;
    const res: GatewayResponder = {
      json: (status, text) => { answered = { status, body: text }; },
      stream: () => { throw new GatewayError(400, 'stream is not served for vector store embeddings', 'invalid_request_error', 'invalid_value', 'stream'); },
    };
    const failed = (a: { status: number; body: string }) => {
      let message = a.body;
      try { message = (JSON.parse(a.body) as { error?: { message?: string } }).error?.message ?? a.body; } catch { /* the body as it is */ }
      return { status: a.status, message };
    };
    this.active++;
    try {
      const checked = await checkOwner(this.deps.authorizer, owner, 'vector store file');
      // The owner itself refused: the file stops (processing.ts), its last_error naming the refusal.
      if (checked.refused) {
        ownerRefused = checked.refused;
        throw checked.error;
      }
      const { caller } = checked;
      Object.assign(audit, { tier: caller.tenant.tier, role: caller.role });
      this.eventsOf(audit, caller);
      const permission = permissionFor('POST', '/v1/embeddings');
      if (permission && !can(caller.role, permission)) throw permissionDenied(caller.role, permission);
      const request = { caller, policy: this.policyOf(caller), audit, signal: NEVER, files: this.inputFiles };
      await embeddings(this.pipeline, request, JSON.stringify({ model, input: texts }), res);
      if (!answered) return { status: 500, message: `the embeddings call ended without an answer (request ${requestId})` };
      if (answered.status !== 200) return failed(answered);
      const data = (JSON.parse(answered.body) as { data: Array<{ index: number; embedding: number[] }> }).data;
      const vectors = [...data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      if (vectors.length !== texts.length || !vectors.every((v) => Array.isArray(v))) return { status: 502, message: `the embedding model answered ${vectors.length} float vectors for ${texts.length} texts` };
      return { vectors };
    } catch (e) {
      const err = e instanceof GatewayError ? e : internalError(requestId);
      if (!(e instanceof GatewayError)) logger.error('vector store embeddings failure', { requestId, error: (e as Error).message });
      Object.assign(audit, { status: err.status, outcome: err.code });
      answered = { status: err.status, body: err.body() };
      return { ...failed(answered), type: err.type, code: err.code, headers: err.headers, ...(ownerRefused ? { ownerRefused } : {}) };
    } finally {
      await this.endWork(audit, answered, started);
    }
  }

  /**
   * The end of a request the gateway runs on its own (a batch's request, a background response's run): the status
   * answered (when it was not a 200) on the audit record, its latency and rounded cost, the record written (a failed
   * write logged, never thrown), and the request counted as done (settled()).
   * @param answered what the endpoint answered, if anything
   * @param started `performance.now()` when the request began
   */
  private async endWork(audit: AuditRecord, answered: { status: number } | undefined, started: number): Promise<void> {
    if (answered && answered.status !== 200) Object.assign(audit, { status: answered.status });
    audit.latencyMs = Math.round((performance.now() - started) * 1000) / 1000;
    if (audit.costUsd !== undefined) audit.costUsd = auditCostUsd(audit.costUsd);
    await this.record(audit);
    if (--this.active === 0 && this.quiet.length) for (const wake of this.quiet.splice(0)) wake();
  }

  /** Marks `audit` for a request event when its caller's tenant wants them (requestEventsWanted: the tenant's `requestEvents`, else the platform's). */
  private eventsOf(audit: AuditRecord, caller: Caller): void {
    if (this.deps.requestEvents && requestEventsWanted(caller.tenant.gateway, this.deps.config.gateway.requestEvents)) this.eventful.add(audit);
  }

  /**
   * Writes the settled request's audit record and, when marked (eventsOf), adds its request event beside it (the two
   * at once: on the router Lambda, which awaits this, the event adds the time PutEvents takes beyond S3's PutObject).
   * Both hold the record with a credential pasted into the caller's text redacted (audit-redaction.ts auditRecordRedacted).
   * Never rejects: a failed write is logged, a failed event logged and counted (RequestEvents).
   */
  private record(audit: AuditRecord): Promise<unknown> {
    const kept = auditRecordRedacted(audit);
    const written = this.deps.audit.write(kept).catch((e) => logger.error('audit write failed', { error: (e as Error).message }));
    return this.eventful.has(audit) ? Promise.all([written, this.deps.requestEvents!.add(kept)]) : written;
  }

  /**
   * Whether the owner of running work is refused now (owner-refusal.ts checkOwner: its tenant read again, its creating
   * key by id): what a background response's run checks while it runs (responses/background.ts BackgroundRunDeps.ownerRefused).
   * Neither billed nor audited (the run that stops writes its audit record).
   * @returns the refusal, or undefined while the owner is served
   * @throws what a registry or key store read throws
   */
  async ownerRefusal(owner: WorkOwner, work: OwnedWork): Promise<OwnerRefused | undefined> {
    const checked = await checkOwner(this.deps.authorizer, owner, work);
    return checked.refused ? new OwnerRefused(checked.refused, checked.error) : undefined;
  }

  /**
   * The run of a background response (responses/background.ts runBackgroundResponse), as a live call by its creator,
   * as batchRequest runs a batch's request: the owner's tenant (and key) read again, its role's permission, the tenant
   * policy, then `POST /v1/responses` on the shared pipeline (guardrails, budget reservation and settle, fallbacks,
   * conversation writes; not the rate limits, counted when it was created) with the stored response's id, and one
   * audit record (`action: response.create`, `detail.background: true`). The finished response goes to `settle`.
   * @param signal aborted when the response is cancelled (or the Lambda's deadline comes): the upstream call is cut; aborted
   *   with an OwnerRefused reason when its creator is refused while it runs (runBackgroundResponse): then audited with
   *   the refusal's status and code and `detail.stoppedWhileRunning`, and the failure is the refusal's (failureOf)
   * @param stopping aborted when `tessera serve` stops (runBackgroundResponse's `stopping`): a `file_search` run makes no
   *   further model call or search after it and fails (runFileSearchTurn: 503 `server_stopping`); a call under way goes on
   * @returns the failure to settle it with (a refusal, an upstream error, a cancel's cut, serve's stop), or undefined when it was answered
   */
  async backgroundResponse(owner: BackgroundOwner, body: string, responseId: string, settle: (item: StoredResponse) => Promise<void>, signal: AbortSignal, events?: (event: StreamEvent) => void, runRequestId?: string, stopping?: AbortSignal): Promise<ResponseFailure | undefined> {
    const started = performance.now();
    const requestId = runRequestId !== undefined && /^req_[0-9a-f]{24}$/.test(runRequestId) ? runRequestId : newRunRequestId();
    const audit: AuditRecord = { requestId, at: isoTime(), method: 'POST', path: '/v1/responses', latencyMs: 0, status: 200, outcome: 'ok', tenantId: owner.tenantId, userId: owner.userId, role: owner.role, ...(owner.keyId ? { keyId: owner.keyId } : {}) };
    let answered: { status: number; body: string } | undefined;
    // A streaming run's events go to `events` (kept for the stream's readers); its terminal event says how it ended, and
    // the `error` event before a `response.failed` the gateway's code (the Response's `error.code` is OpenAI's closed list).
    let terminal: StreamEvent | undefined;
    let streamedCode: string | undefined;
    /** The body of a refusal thrown before an answer (an owner refused, a permission): its `param` for the run's line. */
    let refusal: string | undefined;
    const res: GatewayResponder = {
      json: (status, text) => { answered = { status, body: text }; },
      stream: () => {
        if (!events) throw new GatewayError(400, 'stream is not served with background: true', 'invalid_request_error', 'unsupported_parameter', 'stream');
        return {
          write: (text) => {
            const event = JSON.parse(text.slice(text.indexOf('\ndata: ') + 7)) as StreamEvent;
            if (TERMINAL_EVENTS.has(event.type)) terminal = event;
            const code = event.type === 'error' ? (event as { code?: unknown }).code : undefined;
            if (typeof code === 'string') streamedCode = code;
            events(event);
          },
          end: () => { answered ??= terminal ? { status: 200, body: '' } : undefined; },
        };
      },
      signal,
    };
    this.active++;
    try {
      const checked = await checkOwner(this.deps.authorizer, owner, 'background response');
      if (checked.refused) throw checked.error;
      const { caller } = checked;
      Object.assign(audit, { tier: caller.tenant.tier, role: caller.role });
      this.eventsOf(audit, caller);
      const permission = permissionFor('POST', '/v1/responses');
      if (permission && !can(caller.role, permission)) throw permissionDenied(caller.role, permission);
      const request = { caller, policy: this.policyOf(caller), audit, signal, files: this.inputFiles, reasoningSeal: this.deps.reasoningSeal };
      await createResponse(this.pipeline, request, body, res, this.deps.responses, this.deps.conversations, { run: { responseId, settle, ...(stopping ? { stopping } : {}) } }, this.deps.vectorStores);
      if (answered && answered.status !== 200) return failureOf(answered.status, answered.body);
      if (terminal?.type === 'response.failed') {
        const error = (terminal.response as { error?: { code?: string; message?: string } } | undefined)?.error;
        const code = streamedCode ?? error?.code;
        return { code: 'server_error', message: `${code ? `${code}: ` : ''}${error?.message ?? 'the stream failed'}`.slice(0, 2000) };
      }
      return answered ? undefined : { code: 'server_error', message: `the background response ended without an answer (request ${requestId})` };
    } catch (e) {
      // Stopped because its owner was refused while it ran (runBackgroundResponse's owner check): audited and settled as that refusal.
      const stoppedBy = signal.reason instanceof OwnerRefused ? signal.reason : undefined;
      if (e instanceof CallerGone && stoppedBy) {
        Object.assign(audit, { status: stoppedBy.error.status, outcome: stoppedBy.error.code, detail: { ...audit.detail, stoppedWhileRunning: true } });
        return failureOf(stoppedBy.error.status, stoppedBy.error.body());
      }
      if (e instanceof CallerGone) {
        Object.assign(audit, { status: 499, outcome: 'cancelled' });
        return { code: 'server_error', message: 'the background response was stopped before it was answered (cancelled)' };
      }
      const err = e instanceof GatewayError ? e : internalError(requestId);
      if (!(e instanceof GatewayError)) logger.error('background response failure', { requestId, responseId, error: (e as Error).message });
      Object.assign(audit, { status: err.status, outcome: err.code });
      refusal = err.body();
      return failureOf(err.status, refusal);
    } finally {
      await this.endWork(audit, answered, started);
      // The run answers no caller, so no access line was printed for it: a line of its own (serve's `accessLog` only),
      // as an access line with the response's id, so that a run the upstream refused says so, and names the field.
      if (this.deps.accessLog) logEntry({ ...accessLogEntry(audit, {}, { param: refusedParamOf(answered?.body ?? refusal) }), message: 'background response run', responseId });
    }
  }

  /**
   * Resolves when no request is being handled and what the handled ones left behind is done: audit
   * records stored (AuditSink.flush), budget alert checks ended, request events sent, API keys' lastUsedAt written.
   * `tessera serve` awaits it after its server stopped taking requests, before it exits; requests
   * that arrive meanwhile are waited for too. Never rejects (the parts log their own failures).
   */
  async settled(): Promise<void> {
    while (this.active > 0) await new Promise<void>((wake) => this.quiet.push(wake));
    await this.deps.audit.flush?.().catch((e) => logger.error('audit flush failed', { error: (e as Error).message }));
    await this.deps.budgetAlerts?.idle();
    await this.deps.requestEvents?.flush();
    await this.deps.authorizer.settled?.();
  }

  /**
   * The caller's policy: the tenant's, narrowed for a key with a `models` subset to the models of
   * both (a model outside it is then 404 `model_not_found`, as one the tenant lacks, and
   * `/v1/models` lists only the subset; fallbacks outside it are skipped).
   */
  private policyOf(caller: Caller): TenantPolicy {
    const policy = this.policies.get(caller.tenant);
    const subset = caller.key?.models;
    if (!subset || !caller.keyId) return policy;
    let perKey = this.narrowed.get(policy);
    if (!perKey) this.narrowed.set(policy, (perKey = new Map()));
    const signature = `${caller.keyId}\n${subset.join('\n')}`;
    let narrow = perKey.get(signature);
    if (!narrow) {
      const allowed = new Set(subset);
      narrow = { ...policy, models: new Map([...policy.models].filter(([id]) => allowed.has(id))) };
      perKey.set(signature, narrow);
    }
    return narrow;
  }

  private preflight(req: { path: string; headers: Record<string, string | undefined> }, res: GatewayResponder): Promise<void> {
    return answerOptions(req, res, this.deps.corsOrigins ?? NO_ORIGINS, this.served());
  }

  /**
   * The route families this gateway serves (routes.ts ServedFamilies): fine-tuning where it is served here or beside it
   * (`fineTuning`, `fineTuningBeside`), `/v1/tenant/keys` with a key service, `/v1/tenant/users` with a user directory
   * (`tessera serve` has none), the Batch API with a batch service. What its 404 lists and its 405's and OPTIONS' `Allow` names.
   */
  private served(): Required<ServedFamilies> {
    return { fineTuning: Boolean(this.deps.fineTuning) || Boolean(this.deps.fineTuningBeside), tenantKeys: Boolean(this.keyService), tenantUsers: Boolean(this.deps.users), batches: Boolean(this.deps.batches), vectorStores: Boolean(this.deps.vectorStores) };
  }
}

/** `POST /v1/audio/transcriptions` or `/translations`: a multipart upload with its own limit (audio/pricing.ts MAX_AUDIO_BODY_BYTES). */
export const isAudioUpload = (method: string, path: string) => method === 'POST' && (path === '/v1/audio/transcriptions' || path === '/v1/audio/translations');
/** `POST /v1/images/edits` or `/variations`: a multipart upload with the audio uploads' limit (images/image-form.ts MAX_IMAGE_FORM_BYTES, the same). */
export const isImageForm = (method: string, path: string) => method === 'POST' && (path === '/v1/images/edits' || path === '/v1/images/variations');
/** The largest body an audio upload takes (transports buffer up to this much for those routes). */
export const AUDIO_UPLOAD_BYTES = MAX_AUDIO_BODY_BYTES;

/** `/v1/tenant/keys` and below. */
const isTenantKeys = (path: string) => path === '/v1/tenant/keys' || path.startsWith('/v1/tenant/keys/');
/** `/v1/tenant/requests/{request_id}`. */
const isTenantRequest = (path: string) => /^\/v1\/tenant\/requests\/[^/]+$/.test(path);
/** `/v1/tenant/users` and below. */
const isTenantUsers = (path: string) => path === '/v1/tenant/users' || path.startsWith('/v1/tenant/users/');

/**
 * The 404 `route_not_found` of a route this gateway does not serve at all, answered before the role check (a role
 * would reach nothing): what is not served, and how it is served.
 * - fine-tuning (`/v1/fine_tuning/jobs...`, `/v1/uploads...`, `DELETE /v1/models/{model}`, and a `/v1/files...` method
 *   the Files routes do not take) where the gateway has no FineTuningService (the message names no `client.files`: the
 *   Files API is served for batch, model input and vector store files, a fine-tune file refused with a 400): `tessera serve` serves it with `--fine-tuning`; a deployed platform serves it (the fine-tuning
 *   Lambda) to tenants whose tier has `training.enabled` (lib/config/schema.ts);
 * - `/v1/tenant/keys...` without a key store, `/v1/tenant/users...` without a user directory (`tessera serve` has none).
 * @param method the request's method
 * @param path the path without its trailing slash (at most 200 characters quoted)
 * @param unserved which of these this gateway lacks; `fineTuning` true only for a fine-tuning route (isFineTuningRoute, lambdas/fine-tuning/fine-tuning-routes.ts)
 * @throws GatewayError 404 `route_not_found` when the path is one of them; else returns
 */
function refuseUnserved(method: string, path: string, unserved: { fineTuning: boolean; keys: boolean; users: boolean }): void {
  const route = `no route ${method} ${shorten(path, 200)}`;
  if (unserved.fineTuning) {
    throw notFound(`${route}: fine-tuning (client.fine_tuning.jobs, client.uploads, client.models.delete) is not served by this gateway; tessera serve serves it when started with --fine-tuning (a deployed platform serves it to tenants whose tier has training.enabled: true)`, null, 'route_not_found');
  }
  if (unserved.keys && isTenantKeys(path)) throw notFound(`${route}: tenant API keys are not served on this endpoint (no keys table configured here)`, null, 'route_not_found');
  if (unserved.users && isTenantUsers(path)) throw notFound(`${route}: tenant users are not served on this endpoint (no Cognito user pool configured here; tessera serve has none)`, null, 'route_not_found');
}

/** Answers a `/v1/tenant/...` request; its audit record gets the status answered (201 for a created key or user), the action and the key or user acted on. */
/** A fine-tuning or Batch API answer: JSON, or a file's content of its own type (`res.content`, which the transport must have). */
async function sendWhole(res: GatewayResponder, a: { status: number; body: string | Uint8Array; contentType?: string; headers?: Record<string, string> }): Promise<void> {
  // A redirect (files.content's 307 to a presigned URL) has no content; a transport without `empty` sends it as empty JSON.
  if (a.status >= 300 && a.status < 400 && a.body === '' && res.empty) return await res.empty(a.status, a.headers);
  if (a.contentType === undefined) return await res.json(a.status, a.body as string, a.headers);
  if (!res.content) throw new Error(`this transport cannot answer ${a.contentType}`);
  return await res.content(a.status, a.body, a.contentType, a.headers);
}

const answer = (res: GatewayResponder, audit: AuditRecord, a: TenantAnswer) => {
  Object.assign(audit, { status: a.status, action: a.action }, a.detail ? { detail: { ...audit.detail, ...a.detail } } : {});
  return res.json(a.status, a.body);
};

/**
 * Answers an `OPTIONS` request (a CORS preflight or a plain `OPTIONS`) from the route table and
 * the origin index, with no authentication (cors.ts answerPreflight). The router Lambda calls it
 * directly, so a preflight never builds the gateway (registry, authorizer, providers).
 * @param req path as received (`/v1/...`, trailing slashes allowed), header names in lower case
 * @param served what is served here (routes.ts ServedFamilies: a path of a family it lacks is a 404, as its other methods'
 *   answer); a boolean is whether `/v1/fine_tuning/jobs...` is served, with the tenant keys and users (the router's) @default false
 */
export async function answerOptions(req: { path: string; headers: Record<string, string | undefined> }, res: GatewayResponder, origins: CorsOrigins, served: boolean | ServedFamilies = false): Promise<void> {
  const path = req.path.replace(/\/+$/, '');
  const methods = routeMethods(path, served);
  // A path not served: the 404 of any other method (the path cut at 200 characters, the missing-/v1 hint, what is served).
  const answer = await answerPreflight({ path, headers: req.headers }, methods, origins, methods ? undefined : unservedRouteMessage('OPTIONS', path, served));
  // Every answer carries a request id, these too (a 404 route_not_found, a 503 when the origin index is unreadable: what a report quotes).
  const headers = { ...answer.headers, 'x-request-id': `req_${randomUUID().replaceAll('-', '').slice(0, 24)}` };
  if (answer.body === undefined && res.empty) return await res.empty(answer.status, headers);
  await res.json(answer.status, answer.body ?? '', headers);
}

/**
 * ApplyGuardrail failing (AccessDenied, a guardrail that does not exist, throttling, no
 * credentials, no region) is the platform's problem, not a defect of the gateway: the caller gets
 * a 502 `guardrail_unavailable` naming the tenant's guardrail and the cause, the error's name and
 * message (`Error: Region is missing`, not just `Error`), with the ARNs, account ids and access
 * key ids AWS's messages carry masked (errorCause: they name platform roles and accounts); the
 * whole error goes to the log. With `x-should-retry: false`, as every 502 (GatewayError): the SDK
 * already made its 3 attempts with backoff (bedrock-guardrail.ts GUARDRAIL_SDK_ATTEMPTS), and a
 * missing region, credentials or permission does not heal on a retry (the OpenAI SDKs' 2 retries
 * made each such request 3 × 3 ApplyGuardrail calls).
 * A call stopped by its `signal` (the request's deadline), or not started because the deadline
 * has come, is the 504 `request_deadline_exceeded` instead, and logs nothing.
 */
function guardrailFailuresNamed(apply: ApplyGuardrail): ApplyGuardrail {
  return async (guardrailId, texts, source, signal) => {
    const started = performance.now();
    try {
      if (signal?.aborted) throw signal.reason;
      return await apply(guardrailId, texts, source, signal);
    } catch (e) {
      if (e instanceof GatewayError) throw e;
      if (signal?.aborted) throw guardrailPastDeadline(source);
      const name = (e as Error)?.name || 'Error';
      // The request's keys, Bedrock's status and id of the call (`$metadata`: what AWS Support asks for) and how long it took.
      const meta = (e as { $metadata?: { httpStatusCode?: number; requestId?: string } } | undefined)?.$metadata;
      logger.error('ApplyGuardrail failed', {
        ...requestLogKeys(), guardrailId, source: source ?? 'INPUT', error: name, detail: logDetail((e as Error)?.message ?? String(e)),
        ...(meta?.httpStatusCode !== undefined ? { status: meta.httpStatusCode } : {}), ...(meta?.requestId ? { upstreamRequestId: meta.requestId } : {}),
        latencyMs: Math.round(performance.now() - started),
      });
      throw new GatewayError(502, `the tenant's Bedrock guardrail ${JSON.stringify(guardrailId)} could not be applied (${errorCause(e)}); the platform team must check the guardrail and the gateway's access to it`, 'upstream_error', 'guardrail_unavailable');
    }
  };
}

/** The 504 of a guardrail call stopped by the request's deadline (router Lambda: lambda-deadline.ts). */
const guardrailPastDeadline = (source: 'INPUT' | 'OUTPUT' | undefined) => deadlineExceeded(source === 'OUTPUT'
  ? "the gateway's time for this request ran out while the tenant's Bedrock guardrail checked the answer: the text not yet checked was not sent (what the model produced is billed); ask for a shorter answer (max_completion_tokens) or split the task"
  : "the gateway's time for this request ran out while the tenant's Bedrock guardrail checked the input; nothing was sent to the model");

/**
 * A request body is taken as it is sent (`identity`): one with a `Content-Encoding` (gzip, deflate,
 * br, zstd) is a 415 `unsupported_content_encoding` naming it, in `tessera serve` and behind API
 * Gateway alike (the REST API does not decompress request bodies: no `minimumCompressionSize`, and
 * a JSON content type arrives as text, not base64). Decoding was the alternative, with the body
 * limit applied to the decoded size; refused instead because nothing needs it: the official
 * OpenAI SDKs never compress a request, and OpenAI's API reference documents no compressed
 * request body. Before, such a body was parsed as it came and answered 400 invalid_json.
 * @param encoding the request's Content-Encoding header
 * @param hasBody whether the request has a body (a GET with the header alone is not refused)
 */
function refuseContentEncoding(encoding: string | undefined, hasBody: boolean): void {
  if (!hasBody || encoding === undefined) return;
  const codings = encoding.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
  if (!codings.length) return;
  throw new GatewayError(415, `Content-Encoding: ${shorten(encoding.trim(), 100)} is not supported: send the request body uncompressed (Content-Encoding: identity, or no such header), as the OpenAI SDKs do`, 'invalid_request_error', 'unsupported_content_encoding');
}

/**
 * The `param` of an OpenAI error body (`{"error": {"param": "temperature", …}}`), for a background run's log line; undefined
 * for a body that is not one or names no field (null).
 */
function refusedParamOf(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const param = (JSON.parse(body) as { error?: { param?: unknown } } | null)?.error?.param;
    return typeof param === 'string' ? param : undefined;
  } catch {
    return undefined;
  }
}
