// The gateway Lambdas' environment names, in a module of their own: the constructs that set them
// (constructs/inference-api.ts, admin-api.ts, fine-tuning.ts) import only these names, not the
// gateway's dependency wiring (lambda-deps.ts), which would load the gateway at every synth.

/** Environment of the gateway Lambdas (set by the InferenceApi construct). */
export const GATEWAY_ENV = {
  registryTable: 'TESSERA_REGISTRY_TABLE',
  usageTable: 'TESSERA_USAGE_TABLE',
  auditBucket: 'TESSERA_AUDIT_BUCKET',
  jwtIssuer: 'TESSERA_JWT_ISSUER',
  jwtAudience: 'TESSERA_JWT_AUDIENCE',
  jwksUri: 'TESSERA_JWKS_URI',
  /** The tenant-data role: every read and write of a tenant's pooled items and secrets is made as it, tagged with the tenant. */
  tenantDataRole: 'TESSERA_TENANT_DATA_ROLE_ARN',
  /** Stored Responses API answers (partition key `tenantId`, sort key `responseId`), read and written as the tenant. */
  responsesTable: 'TESSERA_RESPONSES_TABLE',
  /** The CORS origin index (partition key `origin`, sort key `tenantId`): answers browser preflights, which carry no credentials. */
  corsOriginsTable: 'TESSERA_CORS_ORIGINS_TABLE',
  /** Tenant API keys (partition key `tenantId`, sort key `keyHash`), read and written as the tenant. */
  apiKeysTable: 'TESSERA_API_KEYS_TABLE',
  /** The platform's Cognito pool of tenant users (`/v1/tenant/users`); unset with an external identity provider. */
  userPoolId: 'TESSERA_USER_POOL_ID',
  /** The platform bus, for `Tenant User Created` / `Tenant User Deleted`. */
  eventBus: 'TESSERA_EVENT_BUS',
  /** The Batch API's work queue (SQS): a message per batch chunk to run, consumed by the router function itself. */
  batchQueueUrl: 'TESSERA_BATCH_QUEUE_URL',
  /**
   * The background responses' work queue (SQS, `tessera-background-responses`): a message per `background: true`
   * response to run, consumed by the router function itself; set on the router only.
   */
  backgroundResponsesQueueUrl: 'TESSERA_BACKGROUND_RESPONSES_QUEUE_URL',
  /**
   * The vector store files' work queue (SQS, `tessera-vector-store-files`): a message per file attached to a vector
   * store, processed by the router function itself; set on the router only. With the batch files bucket and the
   * responses table, it turns `/v1/vector_stores` on (lambda-deps.ts vectorStoresServed).
   */
  vectorStoreFilesQueueUrl: 'TESSERA_VECTOR_STORE_FILES_QUEUE_URL',
  /**
   * The platform's secret of the reasoning seal (`include: ["reasoning.encrypted_content"]`, responses/reasoning-seal.ts):
   * its ARN, set on the router only. @default - unset: that include is a 400
   */
  reasoningSealSecret: 'TESSERA_REASONING_SEAL_SECRET_ARN',
  /** The Batch API's file bucket: content of purpose `batch` / `batch_output` files at `tenants/<tenantId>/batch-files/<fileId>`, read and written as the tenant. */
  batchFilesBucket: 'TESSERA_BATCH_FILES_BUCKET',
} as const;
