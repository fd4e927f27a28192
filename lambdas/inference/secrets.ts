import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { platformClient } from '../shared/aws-clients.js';
import type { TenantSecretsClient } from '../shared/tenant-credentials.js';
import type { ApiKeyLookup } from './providers/registry.js';

/**
 * Provider API keys from Secrets Manager: a tenant's own key (`tessera/tenants/<tenant>/<provider>`,
 * tagged `tessera:tenant-id` = the tenant) when it brought one, read with the tenant's scoped
 * client (`tenantSecrets`), else the platform's (`gateway.providers.<provider>.apiKeySecretId`),
 * read with the Lambda's own credentials (a deployment's own `apiKeySecretId` instead, when the registry asks for one). Cached for `ttlMs`; never logged. The tenant's own key is returned as a
 * TenantOwnKey (its failures cool a model for that tenant only: model-health.ts), the platform's as a string.
 *
 * With tenant-scoped credentials a tenant secret that is missing may answer AccessDenied rather
 * than ResourceNotFound (the session may read only secrets tagged with its tenant, and a missing
 * secret has no tags); so may one created without the tag. Both mean "no own key": the platform's
 * is used, and the untagged case is logged once so an operator can tag it.
 */
export function secretsManagerKeys(config: PlatformConfig, tenantSecrets: TenantSecretsClient, ttlMs = 300_000): ApiKeyLookup {
  const cache = new Map<string, { value: string | undefined; until: number }>();
  const warned = new Set<string>();
  const read = async (secretId: string, client: () => Promise<SecretsManagerClient>): Promise<string | undefined> => {
    const hit = cache.get(secretId);
    if (hit && hit.until > Date.now()) return hit.value;
    let value: string | undefined;
    try {
      const out = await (await client()).send(new GetSecretValueCommand({ SecretId: secretId }));
      value = out.SecretString ?? '';
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'AccessDeniedException' && secretId.startsWith('tessera/tenants/') && !warned.has(secretId)) {
        warned.add(secretId);
        console.warn(JSON.stringify({ level: 'WARN', message: 'tenant provider secret not readable with the tenant\'s credentials: absent, or not tagged tessera:tenant-id with its tenant; the platform key is used', secretId }));
      }
      if (name !== 'ResourceNotFoundException' && !(name === 'AccessDeniedException' && secretId.startsWith('tessera/tenants/'))) throw e;
    }
    cache.set(secretId, { value, until: Date.now() + ttlMs });
    return value;
  };
  return async (provider, tenantId, platformSecretId) => {
    const own = await read(`tessera/tenants/${tenantId}/${provider}`, () => tenantSecrets(tenantId));
    if (own) return { key: own, tenantOwn: true };
    const endpoint = provider === 'openai-compatible' ? config.gateway.providers['openai-compatible'] : provider === 'openai' || provider === 'huggingface' ? config.gateway.providers[provider] : undefined;
    // A deployment's own secret (gateway.models[].deployments[].apiKeySecretId, under tessera/providers/), else the provider's.
    const secretId = platformSecretId ?? endpoint?.apiKeySecretId;
    const platformKey = secretId ? await read(secretId, async () => platformClient(SecretsManagerClient)) : undefined;
    if (platformKey === undefined) throw new Error(`no API key for provider ${provider}: neither tessera/tenants/${tenantId}/${provider} nor the platform secret exists${secretId ? ` (${secretId})` : ''}`);
    return platformKey;
  };
}
