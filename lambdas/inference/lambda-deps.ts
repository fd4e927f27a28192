import { tierHasDisasterRecovery, type AuditStream } from '../../lib/audit-prefixes.js';
import { PlatformConfigSchema, type PlatformConfig } from '../../lib/config/schema.js';
import { requireEnv } from '../shared/environment.js';
import { GATEWAY_ENV } from './gateway-env.js';
import { fairQueueGroup } from './work-queues.js';
import type { TenantCredentials, TenantDocumentClient, TenantSecretsClient } from '../shared/tenant-credentials.js';
import type { AuditSink } from './audit.js';
import type { AuditRecordReader } from './audit-records.js';
import { Authorizer } from './auth.js';
import { Gateway, type GatewayDeps } from './gateway.js';
import { ProviderRegistry } from './providers/registry.js';
import { RequestEvents } from './request-events.js';
import type { GatewayStore } from './stores/gateway-store.js';
import type { ApiKeyStore } from '../identity/stores/api-key-store.js';
import type { ReasoningSeal } from './responses/reasoning-seal.js';
import type { TenantUserDirectory } from '../identity/tenant-users.js';
import type { UserTokenRevocations } from '../identity/stores/user-token-revocations.js';
import type { ConversationStore } from './stores/conversation-store.js';
import type { ChatCompletionStore } from './stores/chat-completion-store.js';
import type { ResponseStore } from './stores/response-store.js';
import type { ResponseCache } from './response-cache/cache-store.js';
import type { PendingCreates } from './pending-creates.js';
import type { TenantExistence } from './stores/tenant-existence.js';
import type { BatchService } from './batches/batch-service.js';
import type { GatewayUploads } from './uploads/gateway-uploads.js';
import type { BatchFileStore, BatchPartStore, BatchStore } from './batches/stores.js';
import type { BatchMessage, BatchWorkerDeps } from './batches/worker.js';
import type { BackgroundRunDeps, BackgroundStarter } from './responses/background.js';
import type { VectorStoreService } from './vector-stores/service.js';
import type { ProcessingDeps } from './vector-stores/processing.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');

export { GATEWAY_ENV };

let config: PlatformConfig | undefined;
let tenantClients: Promise<LambdaTenantClients> | undefined;
let store: Promise<GatewayStore> | undefined;
let authorizer: Promise<Authorizer> | undefined;
let requestAuthorizer: Promise<Authorizer> | undefined;
let userRevocations: Promise<UserTokenRevocations | undefined> | undefined;
let apiKeys: Promise<ApiKeyStore | undefined> | undefined;
let gateway: Promise<Gateway> | undefined;

/**
 * Built once per execution environment, on the first invocation, reused by every later one. The
 * AWS SDK clients (DynamoDB, S3, Secrets Manager) are imported then, not at module init.
 */
export function lambdaConfig(): PlatformConfig {
  return (config ??= PlatformConfigSchema.parse(JSON.parse(process.env.TESSERA_PLATFORM_CONFIG ?? 'null')));
}

export interface LambdaTenantClients {
  readonly credentials: TenantCredentials;
  /** Document clients of the gateway store and of the job store (which drops undefined values). */
  readonly documents: TenantDocumentClient;
  readonly jobDocuments: TenantDocumentClient;
  readonly secrets: TenantSecretsClient;
}

/**
 * Sessions of the tenant-data role, one per tenant, shared by every store and secret lookup of
 * this execution environment: the Lambdas reach a tenant's pooled items only as that tenant.
 */
export function lambdaTenantClients(): Promise<LambdaTenantClients> {
  return (tenantClients ??= import('../shared/tenant-credentials.js').then((m) => {
    const credentials = new m.TenantCredentials({ roleArn: requireEnv(GATEWAY_ENV.tenantDataRole) });
    return {
      credentials, documents: m.tenantDocumentClient(credentials), secrets: m.tenantSecretsClient(credentials),
      jobDocuments: m.tenantDocumentClient(credentials, { marshallOptions: { removeUndefinedValues: true } }),
    };
  }));
}

function lambdaStore(): Promise<GatewayStore> {
  return (store ??= Promise.all([import('./stores/dynamodb-store.js'), lambdaTenantClients()])
    .then(([{ DynamoDbStore }, clients]) => new DynamoDbStore(requireEnv(GATEWAY_ENV.registryTable), requireEnv(GATEWAY_ENV.usageTable), clients.documents)));
}

/**
 * Stored Responses API answers in the responses table (`TESSERA_RESPONSES_TABLE`), read and
 * written with the tenant-scoped document client. @returns undefined when the variable is not set
 * (the gateway then serves every response as `store: false`)
 */
async function lambdaResponseStore(): Promise<ResponseStore | undefined> {
  const table = process.env[GATEWAY_ENV.responsesTable];
  if (!table) return undefined;
  const [{ DynamoDbResponseStore }, clients] = await Promise.all([import('./stores/dynamodb-response-store.js'), lambdaTenantClients()]);
  return new DynamoDbResponseStore(table, clients.documents);
}

/**
 * The response cache in the responses table (`TESSERA_RESPONSES_TABLE`, under `cache#<SHA-256>` sort keys:
 * response-cache/dynamodb-response-cache.ts), with the tenant-scoped document client. @returns undefined when the
 * variable is not set (nothing is then cached, whatever the tenants' policies say)
 */
async function lambdaResponseCache(): Promise<ResponseCache | undefined> {
  const table = process.env[GATEWAY_ENV.responsesTable];
  if (!table) return undefined;
  const [{ DynamoDbResponseCache }, clients] = await Promise.all([import('./response-cache/dynamodb-response-cache.js'), lambdaTenantClients()]);
  return new DynamoDbResponseCache(table, clients.documents);
}

/**
 * Stored chat completions (`store: true`) in the responses table (`TESSERA_RESPONSES_TABLE`, under `chatcmpl-…` sort
 * keys: stores/dynamodb-chat-completion-store.ts), with the tenant-scoped document client. @returns undefined when
 * the variable is not set (`store: true` is then a 400)
 */
async function lambdaChatCompletionStore(): Promise<ChatCompletionStore | undefined> {
  const table = process.env[GATEWAY_ENV.responsesTable];
  if (!table) return undefined;
  const [{ DynamoDbChatCompletionStore }, clients] = await Promise.all([import('./stores/dynamodb-chat-completion-store.js'), lambdaTenantClients()]);
  return new DynamoDbChatCompletionStore(table, clients.documents);
}

/**
 * OpenAI's Conversations API state in the responses table (`TESSERA_RESPONSES_TABLE`, under
 * `conv_…` sort keys: stores/dynamodb-conversation-store.ts), with the tenant-scoped document
 * client. @returns undefined when the variable is not set (conversations are then not kept)
 */
async function lambdaConversationStore(): Promise<ConversationStore | undefined> {
  const table = process.env[GATEWAY_ENV.responsesTable];
  if (!table) return undefined;
  const [{ DynamoDbConversationStore }, clients] = await Promise.all([import('./stores/dynamodb-conversation-store.js'), lambdaTenantClients()]);
  return new DynamoDbConversationStore(table, clients.documents);
}

/**
 * Users' token revocations in the keys table (`TESSERA_API_KEYS_TABLE`, sort key `user#<sub>`),
 * with the tenant-scoped document client: written by `/v1/tenant/users` (disable, role change),
 * read by the authorizer on a JWT's cache miss. @returns undefined when the variable is not set
 */
function lambdaUserRevocations(): Promise<UserTokenRevocations | undefined> {
  return (userRevocations ??= (async () => {
    const table = process.env[GATEWAY_ENV.apiKeysTable];
    if (!table) return undefined;
    const [{ DynamoDbUserTokenRevocations }, clients] = await Promise.all([import('../identity/stores/user-token-revocations.js'), lambdaTenantClients()]);
    return new DynamoDbUserTokenRevocations(table, clients.documents, process.env[GATEWAY_ENV.registryTable]);
  })());
}

/**
 * Tenant API keys in the keys table (`TESSERA_API_KEYS_TABLE`), read and written with the
 * tenant-scoped document client: the authorizer reads a key only as the tenant its prefix names.
 * A key is stored only while the tenant's registry item (`TESSERA_REGISTRY_TABLE`) is ACTIVE or
 * UPDATING at the write (DynamoDbApiKeyStore `registryTable`).
 * @returns undefined when the variable is not set (a `tsk_` bearer is then 401 `api_keys_not_enabled`, `/v1/tenant/keys` 404)
 */
export function lambdaApiKeyStore(): Promise<ApiKeyStore | undefined> {
  return (apiKeys ??= (async () => {
    const table = process.env[GATEWAY_ENV.apiKeysTable];
    if (!table) return undefined;
    const [{ DynamoDbApiKeyStore }, clients] = await Promise.all([import('../identity/stores/dynamodb-api-key-store.js'), lambdaTenantClients()]);
    return new DynamoDbApiKeyStore(table, clients.documents, { registryTable: requireEnv(GATEWAY_ENV.registryTable) });
  })());
}

/**
 * Tenant users in the platform's Cognito pool (`TESSERA_USER_POOL_ID`), with the platform role's
 * credentials; `Tenant User Created` / `Deleted` / `Disabled` / `Role Changed` go on the platform
 * bus (`TESSERA_EVENT_BUS`) with the lifecycle source `tessera.lifecycle`, as the admin API's
 * (lambdas/shared/events.ts). Without a bus the event is logged instead.
 * An invitation reads the tenant's own registry item (strongly consistent, as the tenant) once the
 * user exists, and deletes the user again when the tenant is no longer ACTIVE or UPDATING.
 * @returns undefined when the pool is not set (an external identity provider: `/v1/tenant/users` 404)
 */
export async function lambdaTenantUsers(): Promise<TenantUserDirectory | undefined> {
  const pool = process.env[GATEWAY_ENV.userPoolId];
  if (!pool) return undefined;
  const [{ CognitoIdentityProviderClient }, { CognitoTenantUsers }, { platformClient }, { emitLifecycleEvent }] = await Promise.all([
    import('@aws-sdk/client-cognito-identity-provider'), import('../identity/cognito-tenant-users.js'), import('../shared/aws-clients.js'), import('../shared/events.js'),
  ]);
  const emit = process.env[GATEWAY_ENV.eventBus]
    ? emitLifecycleEvent
    : async (detailType: string, detail: Record<string, unknown>) => logger.warn('no event bus (TESSERA_EVENT_BUS): tenant user event not sent', { detailType, detail });
  // The invite's fence: the tenant's own registry item read strongly consistent (as the tenant) once the user exists.
  const [{ consistentTenantStatus }, clients] = await Promise.all([import('../fine-tuning/stores/dynamodb-tenant-models.js'), lambdaTenantClients()]);
  const status = (tenantId: string) => consistentTenantStatus(requireEnv(GATEWAY_ENV.registryTable), clients.documents, tenantId);
  return new CognitoTenantUsers(platformClient(CognitoIdentityProviderClient), pool, emit, undefined, await lambdaUserRevocations(), status);
}

/**
 * The registry's existence check with the Lambda's own role (GetItem of `tenantId` only), cached
 * 30 s found or not (tenant-existence-cache.ts): only the authorizer Lambda's role holds the grant.
 */
async function lambdaTenantExistence(): Promise<TenantExistence> {
  const [{ DynamoDbTenantExistence }, { CachedTenantExistence }, { platformDocumentClient }] = await Promise.all([
    import('./stores/tenant-existence.js'), import('./tenant-existence-cache.js'), import('../shared/document-clients.js'),
  ]);
  return new CachedTenantExistence(new DynamoDbTenantExistence(requireEnv(GATEWAY_ENV.registryTable), platformDocumentClient()));
}

/**
 * The authorizer of this execution environment, built once.
 * @param options.checkTenantExists the API Gateway authorizer Lambda's: a key whose prefix names no
 *   registered tenant is refused before any tenant-scoped read (no STS AssumeRole for random
 *   prefixes). The router and the fine-tuning API see only callers that authorizer let through,
 *   and their roles hold no grant on the registry. @default false
 */
export function lambdaAuthorizer(options: { checkTenantExists?: boolean } = {}): Promise<Authorizer> {
  const build = (tenants?: TenantExistence) => Promise.all([lambdaStore(), lambdaApiKeyStore(), lambdaUserRevocations()]).then(([s, keys, userRevocations]) =>
    new Authorizer({ issuer: requireEnv(GATEWAY_ENV.jwtIssuer), audience: requireEnv(GATEWAY_ENV.jwtAudience), jwks: requireEnv(GATEWAY_ENV.jwksUri) }, s, { keys, userRevocations, tenants }));
  if (options.checkTenantExists) return (requestAuthorizer ??= lambdaTenantExistence().then(build));
  return (authorizer ??= build());
}

/**
 * The audit bucket's sink of a stream (`TESSERA_AUDIT_BUCKET`): the records of tenants whose tier
 * has a DR region (this Lambda's config) under `tessera-audit/dr-tier/<stream>/`, the only Tessera
 * records replicated out of the home region; the others under `tessera-audit/<stream>/`
 * (lib/audit-prefixes.ts).
 */
export async function lambdaAuditSink(stream: AuditStream): Promise<AuditSink> {
  const { S3AuditSink } = await import('./s3-audit-sink.js');
  return new S3AuditSink(requireEnv(GATEWAY_ENV.auditBucket), stream, (tier) => tierHasDisasterRecovery(lambdaConfig().tiers, tier));
}

/**
 * The gateway's records in the audit bucket (`TESSERA_AUDIT_BUCKET`, streams `inference` then `fine-tuning`: the router's
 * and the fine-tuning API's), read back by `GET /v1/tenant/requests/{request_id}` through the tenant-data role's session
 * of the caller's tenant (its grant: GetObject of that tenant's `tessera-audit/{,dr-tier/}{inference,fine-tuning}/<tenant>/*`
 * only), never with the Lambda's own role.
 */
export async function lambdaAuditRecords(): Promise<AuditRecordReader> {
  const [{ S3AuditRecordReader }, { S3Client }, { clientWith }, clients] = await Promise.all([
    import('./s3-audit-reader.js'), import('@aws-sdk/client-s3'), import('../shared/aws-clients.js'), lambdaTenantClients(),
  ]);
  return new S3AuditRecordReader(requireEnv(GATEWAY_ENV.auditBucket), (tenantId) => clients.credentials.clientFor(tenantId, 's3', (c) => clientWith(S3Client, c)), (tier) => tierHasDisasterRecovery(lambdaConfig().tiers, tier));
}

/**
 * The gateway of the router and the tenant-users function, built once per container: the fine-tuning Lambda serves
 * its routes beside them on the same API (lib/platform-stack.ts always deploys it), so their 404 lists those routes
 * and a fine-tuning path's method that reaches them is a 405 (GatewayDeps.fineTuningBeside).
 */
export function lambdaGateway(): Promise<Gateway> {
  return (gateway ??= buildLambdaGateway({ fineTuningBeside: true }));
}

/**
 * The gateway as the Lambdas run it: DynamoDB store, Secrets Manager keys, S3 audit awaited before
 * the answer ends, tenant API keys in the keys table and tenant users in the Cognito pool (each
 * when its variable is set).
 */
/**
 * Whether this Lambda serves OpenAI's Batch API: its file bucket (`TESSERA_BATCH_FILES_BUCKET`) and the responses
 * table (`TESSERA_RESPONSES_TABLE`, where batches and file records are kept) are set. Unset: `/v1/batches` is 404.
 */
export const batchesServed = () => Boolean(process.env[GATEWAY_ENV.batchFilesBucket] && process.env[GATEWAY_ENV.responsesTable]);

let batchStores: Promise<{ batches: BatchStore; files: BatchFileStore & BatchPartStore }> | undefined;

/**
 * The Batch API's stores on AWS: batches and file records in the responses table (DynamoDbBatchStore,
 * S3BatchFileStore), file content and the worker's parts in the batch files bucket, all through the tenant-data
 * role's session of each tenant (its DynamoDB and S3 clients).
 */
export function lambdaBatchStores(): Promise<{ batches: BatchStore; files: BatchFileStore & BatchPartStore }> {
  return (batchStores ??= Promise.all([
    import('./batches/dynamodb-batch-store.js'), import('./batches/s3-batch-file-store.js'), import('@aws-sdk/client-s3'), import('../shared/aws-clients.js'), lambdaTenantClients(),
  ]).then(([{ DynamoDbBatchStore }, { S3BatchFileStore }, { S3Client }, { clientWith }, clients]) => {
    const table = requireEnv(GATEWAY_ENV.responsesTable);
    const s3For = (tenantId: string) => clients.credentials.clientFor(tenantId, 's3', (c) => clientWith(S3Client, c));
    return { batches: new DynamoDbBatchStore(table, clients.documents), files: new S3BatchFileStore(requireEnv(GATEWAY_ENV.batchFilesBucket), table, s3For, clients.documents) };
  }));
}

/**
 * Sends a chunk's message to the Batch API's work queue (`TESSERA_BATCH_QUEUE_URL`) with the Lambda's own role, in its
 * tenant's message group (work-queues.ts fairQueueGroup: SQS fair queues deliver another tenant's chunk before the
 * backlog of a tenant that holds most of the BATCH_MAX_CONCURRENCY consumers).
 * @param options.delaySeconds SQS's DelaySeconds (0 to 900): the message is delivered that much later (a chunk whose lines wait for a rate limit) @default 0
 */
export async function enqueueBatch(message: BatchMessage, options: { delaySeconds?: number } = {}): Promise<void> {
  const [{ SQSClient, SendMessageCommand }, { platformClient }] = await Promise.all([import('@aws-sdk/client-sqs'), import('../shared/aws-clients.js')]);
  await platformClient(SQSClient).send(new SendMessageCommand({ QueueUrl: requireEnv(GATEWAY_ENV.batchQueueUrl), MessageBody: JSON.stringify(message), ...fairQueueGroup(message.tenantId), ...(options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {}) }));
}

/**
 * The Batch API where this Lambda serves it (batchesServed): a batch created is run by the work queue (one message
 * `{tenantId, batchId}`, enqueueBatch), not in this invocation. @returns undefined when not served
 */
async function lambdaBatchService(): Promise<BatchService | undefined> {
  if (!batchesServed()) return undefined;
  const [{ BatchService }, { MAX_UPLOAD_BODY_BYTES }, stores] = await Promise.all([import('./batches/batch-service.js'), import('../fine-tuning/files-service.js'), lambdaBatchStores()]);
  return new BatchService({
    config: lambdaConfig(), batches: stores.batches, files: stores.files, maxUploadBytes: MAX_UPLOAD_BODY_BYTES,
    start: (item) => enqueueBatch({ tenantId: item.owner.tenantId, batchId: item.batch.id }),
    pending: await lambdaPendingCreates(),
  });
}

/**
 * The notes of the create attempts still running (pending-creates.ts), in the responses table (`TESSERA_RESPONSES_TABLE`)
 * with the tenant-scoped document client: an SDK retry of `files.create`, a background `responses.create`,
 * `fine_tuning.jobs.create` or `batches.create` that arrives while its first attempt still runs waits for it. @returns undefined when the variable is not set
 */
export async function lambdaPendingCreates(): Promise<PendingCreates | undefined> {
  const table = process.env[GATEWAY_ENV.responsesTable];
  if (!table) return undefined;
  const [{ DynamoDbPendingCreates }, clients] = await Promise.all([import('./stores/dynamodb-pending-creates.js'), lambdaTenantClients()]);
  return new DynamoDbPendingCreates(table, clients.documents);
}

/**
 * The batch worker's dependencies on the router (batches/queue-handler.ts): its stores, the work queue, and each
 * request through this Lambda's gateway as the batch's owner (Gateway.batchRequest).
 */
export async function lambdaBatchWorker(): Promise<BatchWorkerDeps> {
  const [stores, gatewayOf] = await Promise.all([lambdaBatchStores(), lambdaGateway()]);
  return {
    batches: stores.batches, files: stores.files, parts: stores.files, enqueue: enqueueBatch,
    execute: (owner, url, body, detail, signal) => gatewayOf.batchRequest(owner, url, body, detail, signal),
  };
}

/**
 * Background responses (`background: true`) where their work queue is configured
 * (`TESSERA_BACKGROUND_RESPONSES_QUEUE_URL`, `tessera-background-responses`: apart from the Batch API's, so that a
 * batch's chunks never delay one) and responses are stored: a create sends `{kind: 'response', tenantId, responseId}`
 * to that queue, in its tenant's message group (work-queues.ts fairQueueGroup), with the Lambda's own role, and the router consuming it runs the response (lambdaBackgroundWorker).
 * @returns undefined when not configured (a 400 naming `background`)
 */
export function lambdaBackgroundStarter(): BackgroundStarter | undefined {
  const queueUrl = process.env[GATEWAY_ENV.backgroundResponsesQueueUrl];
  if (!queueUrl || !process.env[GATEWAY_ENV.responsesTable]) return undefined;
  return {
    start: async (tenantId, responseId) => {
      const [{ SQSClient, SendMessageCommand }, { platformClient }] = await Promise.all([import('@aws-sdk/client-sqs'), import('../shared/aws-clients.js')]);
      await platformClient(SQSClient).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ kind: 'response', tenantId, responseId }), ...fairQueueGroup(tenantId) }));
    },
  };
}

/** The background response worker on the router (batches/queue-handler.ts): the responses table, the run through this Lambda's gateway as the response's creator (Gateway.backgroundResponse), its creator read again while it runs (Gateway.ownerRefusal). */
export async function lambdaBackgroundWorker(): Promise<BackgroundRunDeps> {
  const [responses, gatewayOf] = await Promise.all([lambdaResponseStore(), lambdaGateway()]);
  if (!responses) throw new Error(`background responses need the responses table (${GATEWAY_ENV.responsesTable})`);
  return { responses, ownerRefused: (owner) => gatewayOf.ownerRefusal(owner, 'background response'), execute: (owner, body, responseId, settle, signal, events, requestId) => gatewayOf.backgroundResponse(owner, body, responseId, settle, signal, events, requestId) };
}

/**
 * Whether this Lambda serves OpenAI's Vector Stores API: the Batch API's stores are there (batchesServed: the files a
 * store takes are the Files API's, its records go in the responses table) and the vector store files' work queue
 * (`TESSERA_VECTOR_STORE_FILES_QUEUE_URL`, set on the router only). Unset: `/v1/vector_stores` is 404.
 */
export const vectorStoresServed = () => batchesServed() && Boolean(process.env[GATEWAY_ENV.vectorStoreFilesQueueUrl]);

let vectorStoreProcessing: Promise<ProcessingDeps> | undefined;

/**
 * What the Vector Stores API reads and writes on AWS, built once: the records in the responses table
 * (DynamoDbRecordTable, as the tenant: the tenant-data role's session), the files of the Files API (lambdaBatchStores),
 * the chunk vectors in the tenant's vector bucket in its own account (s3VectorsIndexFor: the tenant's
 * `tessera-<tenant>-vector-store` role, the account and the tenant key's ARN from the tenant's registry record, read as
 * the tenant), and each
 * embedding as a `/v1/embeddings` call of the file's owner through the router's gateway (Gateway.vectorStoreEmbeddings).
 */
export function lambdaVectorStoreProcessing(): Promise<ProcessingDeps> {
  return (vectorStoreProcessing ??= Promise.all([
    import('./vector-stores/records.js'), import('./vector-stores/dynamodb-record-table.js'), import('./vector-stores/lambda-s3-vectors.js'), lambdaTenantClients(), lambdaBatchStores(),
  ]).then(([{ VectorStoreRecords }, { DynamoDbRecordTable }, { s3VectorsIndexFor }, clients, stores]) => {
    const tenantOf = async (tenantId: string) => {
      const record = await (await lambdaStore()).getTenant(tenantId);
      if (!record?.accountId) throw new Error(`tenant ${tenantId} has no account in the registry: its vector bucket cannot be reached`);
      return { accountId: record.accountId, keyArn: record.stackOutputs.KeyArn };
    };
    return {
      records: new VectorStoreRecords(new DynamoDbRecordTable(requireEnv(GATEWAY_ENV.responsesTable), clients.documents)),
      index: s3VectorsIndexFor(tenantOf), files: stores.files,
      embed: async (owner, model, texts, detail) => (await lambdaGateway()).vectorStoreEmbeddings(owner, model, texts, detail),
    };
  }));
}

/**
 * Sends a vector store file's message (file-queue.ts) to the vector store files' work queue
 * (`TESSERA_VECTOR_STORE_FILES_QUEUE_URL`) with the Lambda's own role, in its tenant's message group, as enqueueBatch does.
 */
export async function enqueueVectorStoreFile(tenantId: string, storeId: string, fileId: string, run: string, batchId?: string): Promise<void> {
  const [{ SQSClient, SendMessageCommand }, { platformClient }, { vectorStoreFileMessage }] = await Promise.all([import('@aws-sdk/client-sqs'), import('../shared/aws-clients.js'), import('./vector-stores/file-queue.js')]);
  await platformClient(SQSClient).send(new SendMessageCommand({ QueueUrl: requireEnv(GATEWAY_ENV.vectorStoreFilesQueueUrl), MessageBody: JSON.stringify(vectorStoreFileMessage(tenantId, storeId, fileId, run, batchId)), ...fairQueueGroup(tenantId) }));
}

/**
 * OpenAI's Vector Stores API where this Lambda serves it (vectorStoresServed): lambdaVectorStoreProcessing's stores,
 * and a file attached is processed by the work queue (one message per file: enqueueVectorStoreFile, consumed by the
 * router: batches/queue-handler.ts), not in the request. @returns undefined when not served
 */
async function lambdaVectorStoreService(): Promise<VectorStoreService | undefined> {
  if (!vectorStoresServed()) return undefined;
  const [{ VectorStoreService }, deps] = await Promise.all([import('./vector-stores/service.js'), lambdaVectorStoreProcessing()]);
  return new VectorStoreService({ config: lambdaConfig(), ...deps, start: enqueueVectorStoreFile });
}

/**
 * OpenAI's Uploads API for the gateway's files on AWS (uploads/gateway-uploads.ts): each upload's record and parts in
 * the batch files bucket below the tenant's gatewayUploadsPrefix, through the tenant-data role's session (its S3
 * client: that tenant's prefix only); parts of LAMBDA_MAX_PART_BYTES (one invocation), uploads of LAMBDA_MAX_GATEWAY_UPLOAD_BYTES.
 */
async function lambdaGatewayUploads(batches: BatchService): Promise<GatewayUploads> {
  const [{ GatewayUploads, perTenantUploads, LAMBDA_MAX_GATEWAY_UPLOAD_BYTES }, { S3FileStore }, { LAMBDA_MAX_PART_BYTES }, { gatewayUploadsPrefix }, { S3Client }, { clientWith }, clients] = await Promise.all([
    import('./uploads/gateway-uploads.js'), import('../fine-tuning/stores/s3-file-store.js'), import('../fine-tuning/uploads-service.js'), import('./batches/s3-batch-file-store.js'),
    import('@aws-sdk/client-s3'), import('../shared/aws-clients.js'), lambdaTenantClients(),
  ]);
  const bucket = requireEnv(GATEWAY_ENV.batchFilesBucket);
  const s3For = (tenantId: string) => clients.credentials.clientFor(tenantId, 's3', (c) => clientWith(S3Client, c));
  return new GatewayUploads({
    batches,
    uploads: perTenantUploads((tenantId) => new S3FileStore(gatewayUploadsPrefix(tenantId), () => s3For(tenantId))),
    // The platform's bucket: no tenant account to expect as its owner (s3-file-store.ts owner), the bucket's own key.
    location: (caller) => ({ tenantId: caller.tenantId, accountId: '', bucket }),
    maxPartBytes: LAMBDA_MAX_PART_BYTES,
    maxUploadBytes: LAMBDA_MAX_GATEWAY_UPLOAD_BYTES,
  });
}

/**
 * `Gateway Request Completed` events on the platform bus (`TESSERA_EVENT_BUS`, the budget alerts' bus), each call of up
 * to 10 entries (request-events.ts putEventsBatches) as the router's role (its `GatewayRequestEvents` grant:
 * constructs/inference-api.ts). Records are gathered for no time (flushMs 0): the router awaits the send beside the audit
 * record's PutObject before its invocation ends (a frozen environment would hold a later send).
 * @returns undefined when no bus is set (no events, whatever the tenants' policies say)
 */
export function lambdaRequestEvents(): RequestEvents | undefined {
  const bus = process.env[GATEWAY_ENV.eventBus];
  if (!bus) return undefined;
  return new RequestEvents({
    put: async (entries) => {
      const [{ EventBridgeClient, PutEventsCommand }, { platformClient }] = await Promise.all([import('@aws-sdk/client-eventbridge'), import('../shared/aws-clients.js')]);
      // The gateway's `request` HTTP timeouts (lib/aws-http-timeouts.ts): a small call on the router's way out.
      const out = await platformClient(EventBridgeClient, '', { http: 'request' }).send(new PutEventsCommand({ Entries: entries.map((e) => ({ ...e, EventBusName: bus })) }));
      return { failed: out.FailedEntryCount ?? 0, errorCode: out.Entries?.find((e) => e.ErrorCode)?.ErrorCode };
    },
  });
}

/**
 * The seal of reasoning items (`include: ["reasoning.encrypted_content"]`) keyed by the platform's secret
 * (`TESSERA_REASONING_SEAL_SECRET_ARN`, the router's only), read with the router's own credentials once, when first needed.
 * @returns undefined when the variable is not set (that include is then a 400)
 */
export async function lambdaReasoningSeal(): Promise<ReasoningSeal | undefined> {
  const secretId = process.env[GATEWAY_ENV.reasoningSealSecret];
  if (!secretId) return undefined;
  const [{ reasoningSeal }, { secretsManagerSealSecret }, { SecretsManagerClient }, { platformClient }] = await Promise.all([
    import('./responses/reasoning-seal.js'), import('./reasoning-seal-secret.js'), import('@aws-sdk/client-secrets-manager'), import('../shared/aws-clients.js'),
  ]);
  return reasoningSeal(secretsManagerSealSecret(secretId, async () => platformClient(SecretsManagerClient)));
}

export async function buildLambdaGateway(extra: Pick<GatewayDeps, 'fineTuning' | 'fineTuningBeside'> = {}): Promise<Gateway> {
  const batches = await lambdaBatchService();
  const [{ MetricsAuditSink }, { secretsManagerKeys }] = await Promise.all([import('./metrics-audit-sink.js'), import('./secrets.js')]);
  return new Gateway({
    config: lambdaConfig(), store: await lambdaStore(), authorizer: await lambdaAuthorizer(),
    providers: new ProviderRegistry(lambdaConfig(), secretsManagerKeys(lambdaConfig(), (await lambdaTenantClients()).secrets)),
    // Each record also prints its CloudWatch metrics (EMF) to the function's log group.
    audit: new MetricsAuditSink(await lambdaAuditSink(extra.fineTuning ? 'fine-tuning' : 'inference')),
    awaitAudit: true,
    responses: await lambdaResponseStore(),
    chatCompletions: await lambdaChatCompletionStore(),
    responseCache: await lambdaResponseCache(),
    conversations: await lambdaConversationStore(),
    keys: await lambdaApiKeyStore(),
    users: await lambdaTenantUsers(),
    // Budget alerts on the router (the fine-tuning API reserves no budget).
    budgetAlerts: extra.fineTuning ? undefined : await (await import('./budget-alerts/lambda-budget-alerts.js')).lambdaBudgetAlerts(await lambdaStore(), (await lambdaTenantClients()).documents),
    // Preflights that reach this Lambda (the router answers its own before building the gateway; the fine-tuning API's come here).
    corsOrigins: (await import('./lambda-cors.js')).lambdaCorsOrigins(),
    // OpenAI's Batch API where configured: `/v1/batches` on the router, `/v1/files` of purpose batch on the fine-tuning API.
    batches,
    // OpenAI's Uploads API for the gateway's files, with the Batch API: on the fine-tuning API (beside fine-tune uploads), else on the router.
    uploads: batches && (await lambdaGatewayUploads(batches)),
    // Vector stores on the router (the fine-tuning API serves no /v1/vector_stores; only the router has their queue).
    vectorStores: extra.fineTuning ? undefined : await lambdaVectorStoreService(),
    // Background responses on the router (the fine-tuning API serves no /v1/responses).
    background: extra.fineTuning ? undefined : lambdaBackgroundStarter(),
    pendingCreates: extra.fineTuning ? undefined : await lambdaPendingCreates(),
    // GET /v1/tenant/requests/{request_id} on the router: its own records, read as the tenant.
    auditRecords: extra.fineTuning ? undefined : await lambdaAuditRecords(),
    // Request events of the tenants that want them (the router; the fine-tuning API has no grant for them).
    requestEvents: extra.fineTuning ? undefined : lambdaRequestEvents(),
    // include: ["reasoning.encrypted_content"] on the router (its secret's variable and grant are the router's only).
    reasoningSeal: extra.fineTuning ? undefined : await lambdaReasoningSeal(),
    ...extra,
  });
}

export { lambdaStore };
