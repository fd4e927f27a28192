import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { platformClient } from '../shared/aws-clients.js';
import type { ApiKeyLookup } from './providers/registry.js';

/**
 * Provider API keys from Secrets Manager: a tenant's own key (`tessera/tenants/<tenant>/<provider>`)
 * when it brought one, else the platform's (`gateway.providers.<provider>.apiKeySecretId`). Cached
 * for `ttlMs`; never logged.
 */
export function secretsManagerKeys(config: PlatformConfig, ttlMs = 300_000): ApiKeyLookup {
  const cache = new Map<string, { value: string; until: number }>();
  const read = async (secretId: string): Promise<string | undefined> => {
    const hit = cache.get(secretId);
    if (hit && hit.until > Date.now()) return hit.value;
    try {
      const out = await platformClient(SecretsManagerClient).send(new GetSecretValueCommand({ SecretId: secretId }));
      const value = out.SecretString ?? '';
      cache.set(secretId, { value, until: Date.now() + ttlMs });
      return value;
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  };
  return async (provider, tenantId) => {
    const own = await read(`tessera/tenants/${tenantId}/${provider}`);
    if (own) return own;
    const endpoint = provider === 'openai-compatible' ? config.gateway.providers['openai-compatible'] : provider === 'openai' || provider === 'huggingface' ? config.gateway.providers[provider] : undefined;
    const platformKey = endpoint?.apiKeySecretId ? await read(endpoint.apiKeySecretId) : undefined;
    if (platformKey === undefined) throw new Error(`no API key for provider ${provider}: neither tessera/tenants/${tenantId}/${provider} nor the platform secret exists`);
    return platformKey;
  };
}
