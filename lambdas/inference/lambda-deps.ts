import { PlatformConfigSchema, type PlatformConfig } from '../../lib/config/schema.js';
import { requireEnv } from '../shared/environment.js';
import { Authorizer } from './auth.js';
import { Gateway } from './gateway.js';
import { ProviderRegistry } from './providers/registry.js';
import { S3AuditSink } from './s3-audit-sink.js';
import { secretsManagerKeys } from './secrets.js';
import { DynamoDbStore } from './stores/dynamodb-store.js';

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
let store: DynamoDbStore | undefined;
let authorizer: Authorizer | undefined;
let gateway: Gateway | undefined;

/** Built once per execution environment (module scope), reused by every invocation. */
export function lambdaConfig(): PlatformConfig {
  return (config ??= PlatformConfigSchema.parse(JSON.parse(process.env.TESSERA_PLATFORM_CONFIG ?? 'null')));
}

export function lambdaAuthorizer(): Authorizer {
  store ??= new DynamoDbStore(requireEnv(GATEWAY_ENV.registryTable), requireEnv(GATEWAY_ENV.usageTable));
  return (authorizer ??= new Authorizer({ issuer: requireEnv(GATEWAY_ENV.jwtIssuer), audience: requireEnv(GATEWAY_ENV.jwtAudience), jwks: requireEnv(GATEWAY_ENV.jwksUri) }, store));
}

export function lambdaGateway(): Gateway {
  const auth = lambdaAuthorizer();
  return (gateway ??= new Gateway({
    config: lambdaConfig(), store: store!, authorizer: auth,
    providers: new ProviderRegistry(lambdaConfig(), secretsManagerKeys(lambdaConfig())),
    audit: new S3AuditSink(requireEnv(GATEWAY_ENV.auditBucket)),
    awaitAudit: true,
    applyGuardrail: async (id, texts) => (await import('./bedrock-guardrail.js')).applyBedrockGuardrail(id, texts),
  }));
}
