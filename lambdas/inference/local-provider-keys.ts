// `tessera serve`'s provider keys: the deployed router reads each platform key from Secrets Manager by the secret name
// the config gives (secrets.ts); serve looks the same name up in a local map (its --provider-keys file), so that each
// deployment of a model is called with its own key, as the router calls it.
import type { PlatformConfig } from '../../lib/config/schema.js';
import type { ApiKeyLookup, ProviderName } from './providers/registry.js';

/** The platform secret name → the key it holds, as `tessera serve --provider-keys <file>` gives them. */
export type LocalProviderKeys = Readonly<Record<string, string>>;

/**
 * The secret a provider's own key is read from: `gateway.providers.<provider>.apiKeySecretId` (openai, huggingface,
 * openai-compatible), undefined for a provider without one (bedrock and sagemaker call AWS with credentials).
 */
export function providerSecretOf(config: PlatformConfig, provider: string): string | undefined {
  if (provider !== 'openai' && provider !== 'huggingface' && provider !== 'openai-compatible') return undefined;
  return config.gateway.providers[provider]?.apiKeySecretId;
}

/**
 * serve's key lookup (ProviderRegistry's ApiKeyLookup), by the secret name the deployed router would read: a
 * deployment's own `apiKeySecretId` (`platformSecretId`), else the provider's (`gateway.providers.<provider>.apiKeySecretId`
 * of `config`, the config as read: serve's `--upstream` replaces the providers' endpoints, not their secrets).
 * - `bySecret[secret]` when the map has it;
 * - else `upstreamKey` (`--upstream-key`: one key for every provider's own secret, and, under `--upstream`, for a local
 *   server that may want none), else `local`.
 * `tessera serve` refuses at start a deployment of a provider sent to the config's endpoints whose own secret the map
 * lacks (lib/cli/serve-provider-keys.ts checkProviderKeys), so the fallback never calls one deployment with another's key.
 * The tenant's own keys (`providerKeys`) are not served locally: the platform's key is always the one.
 */
export function localKeyLookup(config: PlatformConfig, keys: { bySecret?: LocalProviderKeys; upstreamKey?: string }): ApiKeyLookup {
  return async (provider: ProviderName, _tenantId: string, options = {}) => {
    const secret = options.platformSecretId ?? providerSecretOf(config, provider);
    const own = secret !== undefined && keys.bySecret && Object.hasOwn(keys.bySecret, secret) ? keys.bySecret[secret] : undefined;
    return own ?? keys.upstreamKey ?? 'local';
  };
}

/** One secret a provider's catalog model is called with: whose it is (`gateway.models[i]`, the model, its deployment), and from where. */
export interface SecretUse {
  /** The platform secret name, undefined when neither the deployment nor the provider names one. */
  readonly secret: string | undefined;
  /** `gateway.models[3] openai/gpt-4o-mini` or `gateway.models[3] openai/gpt-4o-mini deployment "eu"`. */
  readonly who: string;
  /** The deployment's own `apiKeySecretId` (not the provider's). */
  readonly deploymentOwn: boolean;
  /** The deployment's own `baseUrl`, which serve calls even under `--upstream` (only the providers' endpoints are rerouted). */
  readonly baseUrl?: string;
}

/**
 * Every secret the router reads to call `provider`'s catalog models, in config order: a model without deployments reads
 * the provider's (`gateway.providers.<provider>.apiKeySecretId`); each deployment its own `apiKeySecretId`, else the
 * provider's (registry.ts ProviderRegistry.get, secrets.ts).
 */
export function secretUsesOf(config: PlatformConfig, provider: string): SecretUse[] {
  const providerSecret = providerSecretOf(config, provider);
  const uses: SecretUse[] = [];
  config.gateway.models.forEach((m, i) => {
    if (!m.id.startsWith(`${provider}/`)) return;
    const model = `gateway.models[${i}] ${m.id}`;
    if (!m.deployments?.length) uses.push({ secret: providerSecret, who: model, deploymentOwn: false });
    for (const d of m.deployments ?? []) {
      uses.push({ secret: d.apiKeySecretId ?? providerSecret, who: `${model} deployment ${JSON.stringify(d.name)}`, deploymentOwn: d.apiKeySecretId !== undefined, ...(d.baseUrl ? { baseUrl: d.baseUrl } : {}) });
    }
  });
  return uses;
}
