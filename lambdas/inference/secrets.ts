import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { tenantProviderSecretName } from '../../lib/tenant-naming.js';
import { platformClient } from '../shared/aws-clients.js';
import type { TenantSecretsClient } from '../shared/tenant-credentials.js';
import { TenantKeyUnreadable } from './openai-errors.js';
import type { ApiKeyLookup, KeyLookupOptions } from './providers/registry.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');


/** A read of a secret: its value, or why there is none (`missing`: ResourceNotFound or, for a tenant secret, AccessDenied). */
type Read = { value: string } | { none: 'missing' | 'empty' | string; denied?: boolean };

/**
 * Provider API keys from Secrets Manager: a tenant's own key (`tessera/tenants/<tenant>/<provider>`,
 * tagged `tessera:tenant-id` = the tenant), read with the tenant's scoped client (`tenantSecrets`), or the
 * platform's, read with the Lambda's own credentials: a deployment's own secret when the registry asks for one
 * (`platformSecretId`: `gateway.models[].deployments[].apiKeySecretId`), else the provider's
 * (`gateway.providers.<provider>.apiKeySecretId`); which of the two, as the tenant's `gateway.providerKeys.<provider>`
 * says (`source`: ProviderKeySource):
 * - `own-or-platform` (the default): the tenant's own when it can be read, else the platform's;
 * - `own`: the tenant's own, else TenantKeyUnreadable (502 `tenant_provider_key_unreadable`): never a platform key,
 *   neither the provider's nor a deployment's;
 * - `platform`: the platform's (the deployment's or the provider's); the tenant's secret is not read.
 * Reads (values and failures) are cached for `ttlMs`; never logged. The tenant's own key is returned as a
 * TenantOwnKey (its failures cool a model for that tenant only: model-health.ts), the platform's as a string.
 *
 * With tenant-scoped credentials a tenant secret that is missing may answer AccessDenied rather
 * than ResourceNotFound (the session may read only secrets tagged with its tenant, and a missing
 * secret has no tags); so may one created without the tag. Both mean "no own key"; the untagged case is
 * logged once per secret so an operator can tag it. An empty value is no key either.
 * @throws TenantKeyUnreadable with `own` and no readable non-empty own key; Error naming both secrets when no key exists
 *   at all; the SDK's error for any other failure of the platform's secret (and, with `own-or-platform`, of the tenant's)
 */
export function secretsManagerKeys(config: PlatformConfig, tenantSecrets: TenantSecretsClient, ttlMs = 300_000): ApiKeyLookup {
  const cache = new Map<string, { read: Read; until: number }>();
  const warned = new Set<string>();
  const read = async (secretId: string, client: () => Promise<SecretsManagerClient>, tenantOwn: boolean): Promise<Read> => {
    const hit = cache.get(secretId);
    if (hit && hit.until > Date.now()) return hit.read;
    let result: Read;
    try {
      const out = await (await client()).send(new GetSecretValueCommand({ SecretId: secretId }));
      const value = out.SecretString ?? '';
      result = value.trim() === '' ? { none: 'empty' } : { value };
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'ResourceNotFoundException' || (name === 'AccessDeniedException' && tenantOwn)) result = { none: 'missing', denied: name === 'AccessDeniedException' };
      else if (tenantOwn) result = { none: name || 'Error' }; // not cached: a throttle or a network error may pass
      else throw e;
      if (result.none !== 'missing') return result;
    }
    cache.set(secretId, { read: result, until: Date.now() + ttlMs });
    return result;
  };
  const warnOnce = (secretId: string, message: string) => {
    if (warned.has(secretId)) return;
    warned.add(secretId);
    logger.warn(message, { secretId });
  };
  return async (provider, tenantId, { source = 'own-or-platform', platformSecretId }: KeyLookupOptions = {}) => {
    const ownId = tenantProviderSecretName(tenantId, provider);
    if (source !== 'platform') {
      const own = await read(ownId, () => tenantSecrets(tenantId), true);
      if ('value' in own) return { key: own.value, tenantOwn: true };
      if (source === 'own') {
        const reason = own.none === 'missing' ? `missing, or not tagged tessera:tenant-id=${tenantId} (AWS answers AccessDenied for both)` : own.none === 'empty' ? 'its value is empty' : `Secrets Manager answered ${own.none}`;
        warnOnce(ownId, 'tenant provider secret not readable with the tenant\'s credentials and the tenant\'s policy says own: its requests to the provider fail closed (502 tenant_provider_key_unreadable)');
        throw new TenantKeyUnreadable(tenantId, provider, reason);
      }
      if (own.none !== 'missing' && own.none !== 'empty') throw Object.assign(new Error(`tenant provider secret ${ownId}: Secrets Manager answered ${own.none}`), { name: own.none });
      if (own.denied) warnOnce(ownId, 'tenant provider secret not readable with the tenant\'s credentials: absent, or not tagged tessera:tenant-id with its tenant; the platform key is used');
    }
    const endpoint = provider === 'openai-compatible' ? config.gateway.providers['openai-compatible'] : provider === 'openai' || provider === 'huggingface' ? config.gateway.providers[provider] : undefined;
    // A deployment's own secret (gateway.models[].deployments[].apiKeySecretId, under tessera/providers/), else the provider's.
    const secretId = platformSecretId ?? endpoint?.apiKeySecretId;
    const platform = secretId ? await read(secretId, async () => platformClient(SecretsManagerClient), false) : undefined;
    if (platform === undefined || !('value' in platform)) throw new Error(`no API key for provider ${provider}: ${source === 'platform' ? 'the tenant\'s policy says platform and the platform secret does not exist' : `neither ${ownId} nor the platform secret exists`}${secretId ? ` (${secretId})` : ''}`);
    return platform.value;
  };
}
