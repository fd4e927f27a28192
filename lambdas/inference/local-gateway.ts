import { GatewayUploads } from './uploads/gateway-uploads.js';
import { DirUploadStore } from './uploads/dir-upload-store.js';
import { sweepLapsedUploads } from '../fine-tuning/uploads-service.js';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { failedItem, LAPSED_MESSAGE, runBackgroundResponse, type BackgroundStarter } from './responses/background.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { FileAuditSink, MemoryAuditSink, type AuditSink } from './audit.js';
import { FileAuditRecordReader, MemoryAuditRecordReader } from './audit-records.js';
import { RequestEvents } from './request-events.js';
import { Authorizer, type JwtSettings } from './auth.js';
import { apiKeysDir, DEV_AUDIENCE, DEV_ISSUER, devKeys } from './dev-keys.js';
import { Gateway } from './gateway.js';
import { fileSealSecret } from './reasoning-seal-secret.js';
import { reasoningSeal } from './responses/reasoning-seal.js';
import { providerOf } from './policy.js';
import { localKeyLookup, type LocalProviderKeys } from './local-provider-keys.js';
import { ProviderRegistry, type ProviderName } from './providers/registry.js';
import type { GatewayStore } from './stores/gateway-store.js';
import { MemoryStore } from './stores/memory-store.js';
import { FileResponseStore } from './stores/file-response-store.js';
import { DirPendingCreates } from './stores/dir-pending-creates.js';
import type { PendingCreates } from './pending-creates.js';
import { FileChatCompletionStore } from './stores/file-chat-completion-store.js';
import type { ChatCompletionStore } from './stores/chat-completion-store.js';
import type { ResponseStore } from './stores/response-store.js';
import { MemoryResponseCache, type ResponseCache } from './response-cache/cache-store.js';
import { CacheFlights } from './response-cache/single-flight.js';
import type { ConversationStore } from './stores/conversation-store.js';
import { FileConversationStore } from './stores/file-conversation-store.js';
import { tenantOrigins } from './stores/cors-origins.js';
import type { ApiKeyStore } from '../identity/stores/api-key-store.js';
import { FileApiKeyStore } from '../identity/stores/file-api-key-store.js';
import type { TenantUserDirectory } from '../identity/tenant-users.js';
import type { TenantKeyService } from './endpoints/tenant-keys.js';
import type { FineTuningDeps } from '../fine-tuning/fine-tuning-service.js';
import { MemoryJobStore, type FineTuningStore } from '../fine-tuning/stores/job-store.js';
import { memoryTenantModels } from '../fine-tuning/stores/tenant-models.js';
import type { UserTokenRevocations } from '../identity/stores/user-token-revocations.js';
import { BudgetAlerts } from './budget-alerts/budget-alerts.js';
import { fileEvents, filePutEvents, memoryEvents, type LocalEvent } from './budget-alerts/local-events.js';
import { MemoryAlertMarkers, type AlertMarkers } from './budget-alerts/markers.js';
import { BatchService, TERMINAL } from './batches/batch-service.js';
import { runBatch } from './batches/runner.js';
import { DirBatchFileStore, DirBatchStore, type BatchFileStore, type BatchStore } from './batches/stores.js';
import { VectorStoreService } from './vector-stores/service.js';
import { VectorStoreRecords } from './vector-stores/records.js';
import { DirRecordTable } from './vector-stores/dir-record-table.js';
import { LocalVectorIndex } from './vector-stores/local-index.js';
import { processVectorStoreFile } from './vector-stores/processing.js';
import { DirEmbeddingProgress } from './vector-stores/embedding-progress.js';
import { resumeVectorStoreFiles } from './vector-stores/serve-resume.js';
import type { VectorIndex } from './vector-stores/vector-index.js';
import { MAX_UPLOAD_BODY_BYTES } from '../fine-tuning/files-service.js';
import { writeWhole } from '../shared/write-whole.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

export interface LocalGatewayOptions {
  config: PlatformConfig;
  /** Directory for dev keys and the audit log. */
  stateDir: string;
  /** OpenAI-compatible upstream for the `openai-compatible` provider (and, locally, `openai`/`huggingface`). */
  upstreamUrl?: string;
  /** The key of every provider's own secret not in `providerKeys` (`--upstream-key`). @default 'local' */
  upstreamKey?: string;
  /**
   * Keys by the platform secret name the deployed router reads (`--provider-keys`): a deployment's `apiKeySecretId`,
   * else its provider's (local-provider-keys.ts localKeyLookup). @default - none: `upstreamKey` for every call
   */
  providerKeys?: LocalProviderKeys;
  /** Tenants of the embedded registry. */
  tenants?: TenantRecord[];
  /** Use the real tables instead of the embedded store. */
  dynamodb?: { registryTable: string; usageTable: string };
  /** A store made by the caller (the shared store of `serve --workers`). @default - embedded or DynamoDB */
  store?: GatewayStore;
  /**
   * Serve only these providers' catalog models: the others' are left out of the catalog, so
   * `GET /v1/models` does not list them and a request for one answers 404 `model_not_found`
   * (`tessera serve` leaves out what it cannot reach: see providerRoutes in lib/cli/serve-setup.ts).
   * @default - every provider
   */
  providers?: readonly ProviderName[];
  /**
   * Verify bearer tokens with an identity provider's settings (issuer, audience, JWKS URL), as the
   * deployed authorizer does, instead of with the dev key (`tessera serve --jwt-issuer ...`).
   * @default - tokens of `tessera dev-token`: the dev key in `<stateDir>/dev-keys.json`, created if missing
   */
  jwt?: JwtSettings;
  /** Keep audit records in memory (tests) instead of `<stateDir>/audit.jsonl`. */
  memoryAudit?: boolean;
  /**
   * Serve the fine-tuning API with this SageMaker (e.g. a client pointed at moto); jobs kept in
   * memory unless a store is given. @default - fine-tuning answers 404
   */
  fineTuning?: { sageMaker: FineTuningDeps['sageMaker']; jobs?: FineTuningStore; files?: FineTuningDeps['files']; models?: FineTuningDeps['models'] };
  /**
   * Stored Responses API answers (`store`, `previous_response_id`), e.g. a MemoryResponseStore or
   * a DynamoDbResponseStore on a responses table; `false`: none kept (every response is `store: false`).
   * @default - files under `<stateDir>/responses`, shared by the worker threads of `serve --workers N`
   */
  responses?: ResponseStore | false;
  /**
   * Stored chat completions (`store: true` on /v1/chat/completions), e.g. a MemoryChatCompletionStore or a
   * DynamoDbChatCompletionStore on a responses table; `false`: none kept (`store: true` is a 400).
   * @default - none when `responses` is `false`, else files under `<stateDir>/chat-completions` (FileChatCompletionStore)
   */
  chatCompletions?: ChatCompletionStore | false;
  /**
   * The response cache of the tenants whose policy has `responseCache` (docs/gateway.md "Response cache"), e.g. a
   * DynamoDbResponseCache on a responses table; `false`: none (nothing cached). @default - a MemoryResponseCache: this
   * process's memory (a restart empties it; each worker of `serve --workers N` has its own). Identical requests that
   * miss it at once call the model once (response-cache/single-flight.ts, in this process).
   */
  responseCache?: ResponseCache | false;
  /**
   * OpenAI's Conversations API state (`/v1/conversations`, `conversation` on /v1/responses), e.g. a
   * MemoryConversationStore or a DynamoDbConversationStore on a responses table; `false`: none kept
   * (creating one is a 400).
   * @default - files under `<stateDir>/conversations` (FileConversationStore), shared by the worker threads of `serve --workers N`, kept across restarts until they expire
   */
  conversations?: ConversationStore | false;
  /**
   * Tenant API keys (`tsk_…`) the authorizer accepts and `/v1/tenant/keys` manages; `false`: none
   * (a `tsk_` bearer is 401 `api_keys_not_enabled`, `/v1/tenant/keys` 404).
   * @default - one file per key under `<stateDir>/api-keys/` (FileApiKeyStore), shared by the worker threads and `tessera dev-key`
   */
  apiKeys?: ApiKeyStore | false;
  /** What `/v1/tenant/keys` manages keys with. @default - ApiKeyService on `apiKeys` */
  keyService?: TenantKeyService;
  /** Tenant users for `/v1/tenant/users` (e.g. CognitoTenantUsers on a pool in moto). @default - none: 404 with the reason */
  users?: TenantUserDirectory;
  /** The authorizer's cache TTL in ms (tests shorten it). @default 60000 */
  authCacheMs?: number;
  /** The authorizer's clock in epoch ms (tests). @default Date.now */
  now?: () => number;
  /** Users' token revocations the authorizer checks on a JWT's cache miss (with `users`, `jwt`). @default - none */
  userRevocations?: UserTokenRevocations;
  /**
   * Budget alerts' once-only markers (budget-alerts/markers.ts): `FileAlertMarkers` for the worker
   * threads of `serve --workers N`; `false`: no budget alerts.
   * @default - in this process's memory (MemoryAlertMarkers), with the events appended to `<stateDir>/events.jsonl` (or kept in memory with `memoryAudit`)
   */
  alertMarkers?: AlertMarkers | false;
  /**
   * OpenAI's Batch API (`/v1/batches`, files of purpose `batch`): batches and files under `<stateDir>/batches/`
   * (shared by the worker threads of `serve --workers N`), each batch run in this process as it is created,
   * `concurrency` requests at a time, every request through the gateway as its creator (Gateway.batchRequest);
   * `false`: not served (404). @default - served, 4 requests at a time
   */
  batches?: false | { concurrency?: number; store?: BatchStore; files?: BatchFileStore };
  /**
   * Runs again, at start, every batch of `<stateDir>/batches/` that has not ended (`validating`, `in_progress`,
   * `finalizing`, `cancelling`: a serve stopped while it ran), keeping the answers the stopped run wrote and running
   * the requests without one, and removes the `.bin` bytes a stopped serve left with no record (resumeBatches). `serve --workers N` sets it on its first thread only, so each batch is run by one.
   * @default true
   */
  resumeBatches?: boolean;
  /** When the gateway loads its tokenizer (GatewayDeps.loadTokenizer): `tessera serve` defers it to the first request that counts tokens. @default 'start' */
  loadTokenizer?: 'start' | 'first-count';
  /** One access line per answered request (GatewayDeps.accessLog): `tessera serve` sets it unless `--no-access-log`. @default false */
  accessLog?: boolean;
  /**
   * OpenAI's Vector Stores API (`/v1/vector_stores...`): records under `<stateDir>/vector-stores/records`, vectors in
   * the local index (LocalVectorIndex) under `<stateDir>/vector-stores/index`, each attached file processed in this
   * process after its request is answered. Needs the Batch API's file store (its files are the Files API's): `false`
   * with `batches: false`. @default - served
   */
  vectorStores?: false | { index?: VectorIndex };
  /**
   * Background responses (`background: true`): each run in this process after its create is answered
   * (runBackgroundResponse), with a marker file under `<stateDir>/background-responses/` until it is settled;
   * `false`: not served (400 naming `background`). `pollMs`: how often a run reads its response to notice a cancel
   * made by another worker thread, and its creator's tenant and key (a suspension stops it: Gateway.ownerRefusal).
   * @default - served (with a response store), polling every 2000 ms for a cancel and every OWNER_POLL_MS (10 s) for the owner
   */
  background?: false | { pollMs?: number };
  /**
   * The notes of the create attempts still running (pending-creates.ts: `files.create` of every purpose, background
   * `responses.create`, `fine_tuning.jobs.create`, `batches.create`),
   * which an SDK retry arriving meanwhile waits for. @default - files under `<stateDir>/pending-creates`, shared by the
   * worker threads of `serve --workers N`
   */
  pendingCreates?: PendingCreates;
  /**
   * Settles, at start, the background responses a stopped serve left (their marker files, written by another `serveId`):
   * one still `queued` is run, one `in_progress` is `failed` (LAPSED_MESSAGE: its request may have been answered and
   * billed, so it is not run again). `serve --workers N` runs it on its first thread only, as resumeBatches.
   * @default resumeBatches
   */
  resumeBackground?: boolean;
  /**
   * The id of this serve process, the same in each of its worker threads (`serve --workers N`: made by the main thread):
   * written in the marker of each background response it runs, so that the resume at start settles only the runs of a
   * previous serve, never a live one of another thread of this serve (begun before this thread finished starting).
   * @default - a random id of this gateway (a serve of one thread)
   */
  serveId?: string;
}

/** How often serve's streaming background runs append their events to the file store, and their readers look for more: a local file's append and read are cheap. */
const SERVE_EVENTS_FLUSH_MS = 25;

/** The lease of a background response run by `tessera serve`: its process's lifetime (a restart settles what it left: resumeBackgroundResponses). */
const SERVE_LEASE_MS = Number.MAX_SAFE_INTEGER / 2;

/** `tessera serve`'s gateway: dev JWT keys (or `jwt`), embedded (or DynamoDB) store, providers pointed at a local upstream. */
export async function createLocalGateway(options: LocalGatewayOptions): Promise<{ gateway: Gateway; store: GatewayStore; audit: AuditSink; keysFile: string; jobs?: FineTuningStore; responses?: ResponseStore; conversations?: ConversationStore; apiKeys?: ApiKeyStore; budgetAlerts?: BudgetAlerts; events?: LocalEvent[]; cacheFlights?: CacheFlights; batchesIdle: () => Promise<void>; stopBatches: () => void }> {
  const keysFile = resolve(options.stateDir, 'dev-keys.json'); // absolute: the 401's hint names it wherever the client runs
  const keys = options.jwt ? undefined : await devKeys(keysFile);
  const served = options.providers && new Set<string>(options.providers);
  const catalog = served ? options.config.gateway.models.filter((m) => served.has(providerOf(m))) : options.config.gateway.models;
  // What serve leaves out of the catalog: a tenant's request for one says it is not served here.
  const withheld = served ? options.config.gateway.models.filter((m) => !served.has(providerOf(m))) : undefined;
  const config: PlatformConfig = {
    ...options.config,
    gateway: {
      ...options.config.gateway,
      models: catalog,
      providers: options.upstreamUrl
        ? { openai: { baseUrl: options.upstreamUrl }, huggingface: { baseUrl: options.upstreamUrl }, 'openai-compatible': { baseUrl: options.upstreamUrl } }
        : options.config.gateway.providers,
    },
  };
  // The DynamoDB registry's modules are imported only with --dynamodb: with them the DynamoDB, STS and Secrets Manager
  // clients, ~50 ms of CPU of every other serve start and of each of its --workers threads.
  const dynamo = options.dynamodb && await dynamoDbModules();
  let store: GatewayStore;
  if (options.store) store = options.store;
  // A local tool against real tables acts with the operator's own credentials (the Lambdas act as each tenant).
  else if (options.dynamodb) store = new dynamo!.DynamoDbStore(options.dynamodb.registryTable, options.dynamodb.usageTable, dynamo!.unscopedDocumentClient());
  else {
    const memory = new MemoryStore();
    for (const t of options.tenants ?? []) memory.putTenant(t);
    store = memory;
  }
  const audit = options.memoryAudit ? new MemoryAuditSink() : new FileAuditSink(join(options.stateDir, 'audit.jsonl'));
  // GET /v1/tenant/requests/{request_id}: the records of this gateway's audit log (every --workers thread appends to it).
  const auditRecords = audit instanceof MemoryAuditSink ? new MemoryAuditRecordReader(audit.records) : new FileAuditRecordReader(join(options.stateDir, 'audit.jsonl'), audit);
  // A key is kept only while its tenant is ACTIVE or UPDATING in this gateway's registry, read after the write (FileApiKeyStore).
  const apiKeys = options.apiKeys === false ? undefined : (options.apiKeys ?? new FileApiKeyStore(apiKeysDir(options.stateDir), async (id) => (await store.getTenant(id))?.status));
  // tessera dev-token and dev-key mint for any tenant id (they cannot know the tenants of a serve started later): the 403 says where serve's come from.
  const unknownTenantHint = options.dynamodb
    ? (id: string) => `this gateway (tessera serve --dynamodb) serves the tenants of the registry table ${options.dynamodb!.registryTable}, which has no tenant "${id}"`
    : (id: string) => `this gateway (tessera serve) serves only the tenants of its --tenant and --tenants-file options; start it with --tenant ${id}:<tier> (or add ${id} to its tenants file), or mint the token or key for one of its tenants`;
  const authorizer = new Authorizer(options.jwt ?? { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: { keys: [keys!.publicJwk] }, keyHint: `this gateway accepts tokens signed with the dev key in ${keysFile} (tessera dev-token with the same --state-dir)` }, store, { keys: apiKeys, cacheMs: options.authCacheMs, now: options.now, userRevocations: options.userRevocations, unknownTenantHint });
  const keyService = options.keyService;
  const providers = new ProviderRegistry(config, localKeyLookup(options.config, { bySecret: options.providerKeys, upstreamKey: options.upstreamKey }));
  const jobs = options.fineTuning && (options.fineTuning.jobs ?? new MemoryJobStore());
  // DELETE /v1/models/{model} takes the model out of the registry this gateway reads: the embedded one, or the tables of --dynamodb.
  const models = options.fineTuning?.models ?? (store instanceof MemoryStore ? memoryTenantModels(store)
    : options.dynamodb ? dynamo!.dynamoDbTenantModels(options.dynamodb.registryTable, store, dynamo!.unscopedDocumentClient()) : undefined);
  // Imported only when fine-tuning is served (--fine-tuning): the service's SageMaker commands load the SageMaker
  // client's schemas (~0.8 MB of JavaScript), ~20 ms of every other serve start and of each of its --workers threads.
  const pendingCreates = options.pendingCreates ?? new DirPendingCreates(join(options.stateDir, 'pending-creates'));
  const fineTuning = jobs && new (await import('../fine-tuning/fine-tuning-service.js')).FineTuningService({ config, jobs, sageMaker: options.fineTuning!.sageMaker, files: options.fineTuning!.files, models, pending: pendingCreates });
  const responses = options.responses === false ? undefined : (options.responses ?? new FileResponseStore(join(options.stateDir, 'responses')));
  const chatCompletions = options.chatCompletions === false || (options.chatCompletions === undefined && options.responses === false) ? undefined
    : (options.chatCompletions ?? new FileChatCompletionStore(join(options.stateDir, 'chat-completions')));
  const conversations = options.conversations === false ? undefined : (options.conversations ?? new FileConversationStore(join(options.stateDir, 'conversations')));
  // Browser preflights: the origins the embedded tenants allow (none with --dynamodb, which has no origin index here).
  const corsOrigins = tenantOrigins(options.tenants ?? []);
  // Budget alerts as in AWS; the events go beside the audit log (or into memory for tests).
  // Stamped as EventBridge stamps the gateway's PutEvents: the platform account, the home Region.
  const origin = { account: config.platformAccountId, region: config.homeRegion };
  const events = options.memoryAudit ? memoryEvents(origin) : { emit: fileEvents(join(options.stateDir, 'events.jsonl'), origin), put: filePutEvents(join(options.stateDir, 'events.jsonl'), origin), events: undefined };
  // Request events of the tenants that want them (`gateway.requestEvents`), on the same file (or memory): gathered 50 ms, as the audit log's lines.
  const requestEvents = new RequestEvents({ put: events.put, flushMs: 50 });
  const budgetAlerts = options.alertMarkers === false ? undefined : new BudgetAlerts({ store, markers: options.alertMarkers ?? new MemoryAlertMarkers(), emit: events.emit });
  let batches: BatchService | undefined;
  // Bytes of the state dir written before this process started are a previous serve's (resumeBatches' sweep of
  // unrecorded files): the process's start, not this thread's, which `serve --workers N`'s other threads share.
  const startedAtMs = Date.now() - process.uptime() * 1000;
  const running = new Set<Promise<unknown>>();
  // Aborted by stopBatches (serve's stop): the runs start no more line and leave their batches for the next serve.
  const stopping = new AbortController();
  let startRun: (tenantId: string, id: string) => void = () => undefined;
  let gatewayFiles: BatchFileStore | undefined;
  if (options.batches !== false) {
    const b = options.batches ?? {};
    const batchStore = b.store ?? new DirBatchStore(join(options.stateDir, 'batches', 'batches'));
    const batchFiles = b.files ?? new DirBatchFileStore(join(options.stateDir, 'batches', 'files'));
    gatewayFiles = batchFiles;
    batches = new BatchService({
      config, batches: batchStore, files: batchFiles, maxUploadBytes: MAX_UPLOAD_BODY_BYTES, pending: pendingCreates,
      // Run in this process, off the create's answer; a failure is logged, and the batch stays as it was last written until a serve starts again on the state dir (resumeBatches).
      start: async (item) => startRun(item.owner.tenantId, item.batch.id),
    });
    startRun = (tenantId, id) => {
      const run = runBatch({ batches: batchStore, files: batchFiles, concurrency: b.concurrency, stopping: stopping.signal, execute: (owner, url, body, detail) => gateway.batchRequest(owner, url, body, detail) }, tenantId, id)
        .catch((e) => logger.error('batch run failed', { batchId: id, error: (e as Error).message }))
        .finally(() => running.delete(run));
      running.add(run);
    };
    if (options.resumeBatches !== false && batchStore instanceof DirBatchStore) {
      const resuming: Promise<unknown> = resumeBatches(batchStore, startRun, batchFiles instanceof DirBatchFileStore ? { store: batchFiles, startedAtMs } : undefined)
        .catch((e) => logger.error('batch resume failed', { error: (e as Error).message }))
        .finally(() => running.delete(resuming));
      running.add(resuming);
    }
  }
  // OpenAI's Uploads API for the gateway's files (batch, assistants, vision, user_data): records and parts under the
  // state dir, shared by the --workers threads (a part may reach another thread than its create); files in batchFiles.
  // At start, the parts of the uploads a stopped serve left that have lapsed (expired, or ended with parts left) are
  // removed, and the records of uploads a day past their expiry; while it runs, its creates sweep (uploads-service.ts UPLOAD_SWEEP_INTERVAL_SECONDS).
  const uploadStore = batches && new DirUploadStore(join(options.stateDir, 'uploads'));
  if (uploadStore) {
    const now = Math.floor(Date.now() / 1000);
    await sweepLapsedUploads(uploadStore, now)
      .catch((e) => logger.error('uploads sweep failed', { error: (e as Error).message }));
  }
  const uploads = batches && uploadStore && new GatewayUploads({
    batches, uploads: uploadStore,
    location: (caller) => ({ tenantId: caller.tenantId, accountId: caller.tenantId, bucket: 'gateway-uploads' }),
  });
  let vectorStores: VectorStoreService | undefined;
  if (options.vectorStores !== false && gatewayFiles) {
    const table = new DirRecordTable(join(options.stateDir, 'vector-stores', 'records'));
    const records = new VectorStoreRecords(table);
    const index = options.vectorStores?.index ?? new LocalVectorIndex(join(options.stateDir, 'vector-stores', 'index'));
    const files = gatewayFiles;
    const waitingFiles: Array<() => Promise<void>> = [];
    let filesRunning = 0;
    // A run settles after the next is added to `running`, so batchesIdle never finds it empty while files wait.
    // After serve's stop (stopBatches) no waiting file starts: each stays in_progress for the next serve (resumeVectorStoreFiles).
    const startWaitingFiles = () => {
      while (!stopping.signal.aborted && filesRunning < SERVE_VECTOR_STORE_FILES_AT_ONCE && waitingFiles.length) {
        filesRunning += 1;
        const run: Promise<unknown> = waitingFiles.shift()!().finally(() => {
          filesRunning -= 1;
          running.delete(run);
          startWaitingFiles();
        });
        running.add(run);
      }
    };
    // A file stopped mid-way keeps its embeddings beside the records for its next run (embedding-progress.ts).
    const progress = new DirEmbeddingProgress(join(options.stateDir, 'vector-stores', 'progress'));
    const processing = { records, index, files, stopping: stopping.signal, progress, embed: (owner: Parameters<Gateway['vectorStoreEmbeddings']>[0], model: string, texts: string[], detail: Record<string, string>) => gateway.vectorStoreEmbeddings(owner, model, texts, detail) };
    vectorStores = new VectorStoreService({
      config, records, index, files, embed: processing.embed,
      // In this process, off the request's answer (processVectorStoreFile never throws: a failure is the file's last_error),
      // SERVE_VECTOR_STORE_FILES_AT_ONCE at a time, the others waiting in order (a file cancelled or detached meanwhile is skipped when its turn comes).
      start: (tenantId, storeId, fileId, fileRun) => {
        waitingFiles.push(() => processVectorStoreFile(processing, tenantId, storeId, fileId, fileRun));
        startWaitingFiles();
      },
    });
    if (options.resumeBatches !== false) {
      const resuming: Promise<unknown> = resumeVectorStoreFiles(table, records, startedAtMs, (tenantId, storeId, fileId, run) => {
        waitingFiles.push(() => processVectorStoreFile(processing, tenantId, storeId, fileId, run));
        startWaitingFiles();
      })
        // The embeddings kept for files no run will take (detached, deleted, their store deleted) go.
        .then(() => progress.sweep(startedAtMs, async (tenantId, storeId, fileId) => (await records.getFile(tenantId, storeId, fileId))?.status === 'in_progress'))
        .catch((e) => logger.error('vector store files resume failed', { error: (e as Error).message }))
        .finally(() => running.delete(resuming));
      running.add(resuming);
    }
  }
  let background: BackgroundStarter | undefined;
  if (responses && options.background !== false) {
    const pollMs = options.background?.pollMs;
    const markers = join(options.stateDir, 'background-responses');
    const serveId = options.serveId ?? randomBytes(12).toString('hex');
    const marker = (tenantId: string, id: string) => join(markers, tenantId, id);
    const stops = new Map<string, AbortController>();
    const runOne = (tenantId: string, id: string) => {
      const key = `${tenantId}/${id}`;
      const stop = new AbortController();
      stops.set(key, stop);
      const run: Promise<unknown> = runBackgroundResponse({ responses, pollMs, stopping: stopping.signal, ...(pollMs !== undefined ? { ownerPollMs: pollMs } : {}), ownerRefused: (owner) => gateway.ownerRefusal(owner, 'background response'), eventsFlushMs: SERVE_EVENTS_FLUSH_MS, execute: (owner, body, responseId, settle, signal, events, requestId, serveStop) => gateway.backgroundResponse(owner, body, responseId, settle, signal, events, requestId, serveStop) }, tenantId, id, SERVE_LEASE_MS, { signal: stop.signal })
        // A start that ran nothing because another thread runs it (a retry's second start: startRun) leaves that run's marker.
        // One not begun because serve is stopping ('stopped': still queued) keeps its marker: the next serve runs it.
        .then(async (outcome) => (outcome === 'stopped' ? undefined : outcome === 'skipped' && (await responses.get(tenantId, id))?.response.status === 'in_progress' ? undefined : rm(marker(tenantId, id), { force: true })))
        .catch((e) => logger.error('background response run failed', { responseId: id, error: (e as Error).message }))
        .finally(() => { running.delete(run); stops.delete(key); });
      running.add(run);
    };
    background = {
      start: async (tenantId, id) => {
        await mkdir(join(markers, tenantId), { recursive: true });
        // Written whole (a rename): the resume of another thread never reads it empty, as a previous serve's.
        await writeWhole(marker(tenantId, id), serveId);
        // Started again (a create's retry: startRun) while this thread runs it: nothing more to start.
        if (!stops.has(`${tenantId}/${id}`)) runOne(tenantId, id);
      },
      cancelled: (tenantId, id) => stops.get(`${tenantId}/${id}`)?.abort(),
      followPollMs: SERVE_EVENTS_FLUSH_MS,
    };
    if (options.resumeBackground ?? options.resumeBatches !== false) {
      const resuming: Promise<unknown> = resumeBackgroundResponses(markers, responses, serveId, runOne)
        .catch((e) => logger.error('background response resume failed', { error: (e as Error).message }))
        .finally(() => running.delete(resuming));
      running.add(resuming);
    }
  }
  const responseCache = options.responseCache === false ? undefined : (options.responseCache ?? new MemoryResponseCache());
  const cacheFlights = responseCache ? new CacheFlights() : undefined;
  const gateway = new Gateway({ config, store, authorizer, providers, audit, fineTuning, responses, chatCompletions, responseCache, ...(cacheFlights ? { cacheFlights } : {}), conversations, corsOrigins, servedProviders: options.providers, withheldModels: withheld, keys: apiKeys, keyService, users: options.users, budgetAlerts, batches, uploads, vectorStores, background, pendingCreates, auditRecords, requestEvents, loadTokenizer: options.loadTokenizer, accessLog: options.accessLog,
    // include: ["reasoning.encrypted_content"]: sealed with a key kept beside the dev signing key.
    reasoningSeal: reasoningSeal(fileSealSecret(resolve(options.stateDir, 'reasoning-seal.key'))) });
  /**
   * Resolves once the batches, background responses and vector store files this process runs have ended. serve's stop
   * awaits it after stopBatches, within its grace (serve-shutdown.ts closeGateway): the calls under way end and their
   * answers are written (a batch line's to its output file), so the next serve does not run them again.
   */
  const batchesIdle = async () => { while (running.size) await Promise.all([...running]); };
  /**
   * Stops the work serve runs after its requests are answered, before serve settles (serve-shutdown.ts): no batch line,
   * no vector store file's embeddings call and no background response not yet begun is started after it, so a serve
   * started next on the state dir resumes what is left alone (resumeBatches, resumeVectorStoreFiles, resumeBackgroundResponses).
   */
  const stopBatches = () => stopping.abort();
  return { gateway, store, audit, keysFile, jobs, responses, conversations, apiKeys, budgetAlerts, events: events.events, ...(cacheFlights ? { cacheFlights } : {}), batchesIdle, stopBatches };
}

/**
 * Vector store files `tessera serve` processes at once (each reads the file, chunks it and embeds it 32 chunks per
 * call): a batch of 2,000 files queues its files and runs this many, as the work queue's maximum concurrency bounds
 * the router's on AWS (constructs/batch-work.ts VectorStoreFileWork).
 */
export const SERVE_VECTOR_STORE_FILES_AT_ONCE = 4;

/**
 * `tessera serve`'s resume at start: every batch of the store that has not ended (a serve stopped while it ran left it
 * `validating`, `in_progress`, `finalizing` or `cancelling`) is run again by `start` (runBatch), from its record: the
 * answers the stopped run wrote to its output and error files (StoredBatch.appending, written as each line ended) are
 * kept and only the requests without one run (a request in flight at the stop runs again: its answer was never
 * written). A batch past its `expires_at` ends `expired` at once (its requests not answered in the error file as
 * `batch_expired`, those answered in its files); a `cancelling` one ends `cancelled`.
 * With `files` (and `startedAtMs`), the `.bin` bytes a previous serve left with no record and no unfinished batch
 * writing them are removed (a file's `put` or a batch run stopped before its record, by a serve before session 43
 * that recorded no StoredBatch.appending): only bytes older than `startedAtMs` (the serve process's start), so no
 * write of a live thread of this serve (`--workers N`) is touched.
 */
export async function resumeBatches(store: DirBatchStore, start: (tenantId: string, id: string) => void, files?: { store: DirBatchFileStore; startedAtMs: number }): Promise<void> {
  for (const tenantId of await store.tenantIds()) {
    // The files first, then the batches: a run records its files (appending) before it writes them.
    const unrecorded = files ? await files.store.unrecorded(tenantId, files.startedAtMs) : [];
    const writing = new Set<string>();
    for (const item of await store.list(tenantId)) {
      if (TERMINAL.has(item.batch.status)) continue;
      if (item.appending) for (const id of [item.appending.output, item.appending.error]) writing.add(id);
      start(tenantId, item.batch.id);
    }
    for (const id of unrecorded) if (!writing.has(id)) await files!.store.removeUnrecorded(tenantId, id);
  }
}

/**
 * `tessera serve`'s settle at start of the background responses a stopped serve left: each marker file
 * (`<markers>/<tenantId>/<responseId>`, its content the `serveId` of the serve that started it; empty from a serve
 * older than that) names one. A marker of this serve (`serveId`) is a live run of one of its threads (begun before the
 * resuming thread finished starting): left alone. Of another serve's: a response still `queued` is run (`start`); one
 * `in_progress` is settled `failed` (LAPSED_MESSAGE: the stopped run may have had it answered and billed, so it is not
 * run again); a marker whose response has settled or is gone is removed. Never leaves one `in_progress` forever.
 */
export async function resumeBackgroundResponses(markers: string, responses: ResponseStore, serveId: string, start: (tenantId: string, id: string) => void): Promise<void> {
  const names = async (dir: string) => readdir(dir).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return [] as string[]; throw e; });
  for (const tenantId of await names(markers)) {
    for (const id of await names(join(markers, tenantId))) {
      if (id.endsWith('.tmp')) continue; // a marker being written by a live thread
      const file = join(markers, tenantId, id);
      const owner = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return serveId; throw e; });
      if (owner === serveId) continue; // this serve's: a live run (or one settled meanwhile)
      const done = () => rm(file, { force: true });
      const item = await responses.get(tenantId, id);
      const status = item?.response.status;
      if (status === 'queued' && item?.job) start(tenantId, id);
      else if (status === 'in_progress' && item?.job) {
        const after = await responses.update(tenantId, id, (c) => (c.response.status === 'in_progress' ? failedItem(c, { code: 'server_error', message: LAPSED_MESSAGE }) : undefined));
        if (after?.response.status !== 'in_progress') await done();
      } else await done();
    }
  }
}

export { apiKeysDir };

/** A registry record for a tenant of the embedded store (lambdas/inference/local-tenant.ts). */
export { localTenant } from './local-tenant.js';

/** What `tessera serve --dynamodb` needs beyond the embedded registry: the DynamoDB store and tenant models, and the operator's document client. */
async function dynamoDbModules() {
  const [{ DynamoDbStore }, { unscopedDocumentClient }, { dynamoDbTenantModels }] = await Promise.all([
    import('./stores/dynamodb-store.js'), import('../shared/tenant-credentials.js'), import('../fine-tuning/stores/dynamodb-tenant-models.js'),
  ]);
  return { DynamoDbStore, unscopedDocumentClient, dynamoDbTenantModels };
}
