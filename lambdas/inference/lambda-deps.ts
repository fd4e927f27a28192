import { PlatformConfigSchema, type PlatformConfig } from '../../lib/config/schema.js';
import { requireEnv } from '../shared/environment.js';
import type { TenantCredentials, TenantDocumentClient, TenantSecretsClient } from '../shared/tenant-credentials.js';
import { Authorizer } from './auth.js';
import { Gateway, type GatewayDeps } from './gateway.js';
import { ProviderRegistry } from './providers/registry.js';
import type { GatewayStore } from './stores/gateway-store.js';
import type { ResponseStore } from './stores/response-store.js';

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
} as const;

let config: PlatformConfig | undefined;
let tenantClients: Promise<LambdaTenantClients> | undefined;
let store: Promise<GatewayStore> | undefined;
let authorizer: Promise<Authorizer> | undefined;
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

export function lambdaAuthorizer(): Promise<Authorizer> {
  return (authorizer ??= lambdaStore().then((s) => new Authorizer({ issuer: requireEnv(GATEWAY_ENV.jwtIssuer), audience: requireEnv(GATEWAY_ENV.jwtAudience), jwks: requireEnv(GATEWAY_ENV.jwksUri) }, s)));
}

export function lambdaGateway(): Promise<Gateway> {
  return (gateway ??= buildLambdaGateway());
}

/** The gateway as the Lambdas run it: DynamoDB store, Secrets Manager keys, S3 audit awaited before the answer ends. */
export async function buildLambdaGateway(extra: Pick<GatewayDeps, 'fineTuning'> = {}): Promise<Gateway> {
  const [{ S3AuditSink }, { secretsManagerKeys }] = await Promise.all([import('./s3-audit-sink.js'), import('./secrets.js')]);
  return new Gateway({
    config: lambdaConfig(), store: await lambdaStore(), authorizer: await lambdaAuthorizer(),
    providers: new ProviderRegistry(lambdaConfig(), secretsManagerKeys(lambdaConfig(), (await lambdaTenantClients()).secrets)),
    audit: new S3AuditSink(requireEnv(GATEWAY_ENV.auditBucket), extra.fineTuning ? 'tessera-audit/fine-tuning/' : undefined),
    awaitAudit: true,
    responses: await lambdaResponseStore(),
    // Preflights that reach this Lambda (the router answers its own before building the gateway; the fine-tuning API's come here).
    corsOrigins: (await import('./lambda-cors.js')).lambdaCorsOrigins(),
    ...extra,
  });
}

export { lambdaStore };
