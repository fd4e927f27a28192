import { PlatformConfigSchema, type PlatformConfig } from '../../lib/config/schema.js';
import { requireEnv } from '../shared/environment.js';
import { Authorizer } from './auth.js';
import { Gateway, type GatewayDeps } from './gateway.js';
import { ProviderRegistry } from './providers/registry.js';
import type { GatewayStore } from './stores/gateway-store.js';

/** Environment of the gateway Lambdas (set by the InferenceApi construct). */
export const GATEWAY_ENV = {
  registryTable: 'TESSERA_REGISTRY_TABLE',
  usageTable: 'TESSERA_USAGE_TABLE',
  auditBucket: 'TESSERA_AUDIT_BUCKET',
  jwtIssuer: 'TESSERA_JWT_ISSUER',
  jwtAudience: 'TESSERA_JWT_AUDIENCE',
  jwksUri: 'TESSERA_JWKS_URI',
} as const;

let config: PlatformConfig | undefined;
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

function lambdaStore(): Promise<GatewayStore> {
  return (store ??= import('./stores/dynamodb-store.js').then(({ DynamoDbStore }) => new DynamoDbStore(requireEnv(GATEWAY_ENV.registryTable), requireEnv(GATEWAY_ENV.usageTable))));
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
    providers: new ProviderRegistry(lambdaConfig(), secretsManagerKeys(lambdaConfig())),
    audit: new S3AuditSink(requireEnv(GATEWAY_ENV.auditBucket), extra.fineTuning ? 'tessera-audit/fine-tuning/' : undefined),
    awaitAudit: true,
    ...extra,
  });
}

export { lambdaStore };
