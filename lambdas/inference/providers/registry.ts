import type { ModelDeployment, PlatformConfig } from '../../../lib/config/schema.js';
import { providerKeySource, type ProviderKeys, type ProviderKeySource } from '../../../lib/tenant-record.js';
import type { Provider } from './provider.js';

export type ProviderName = 'bedrock' | 'openai' | 'huggingface' | 'sagemaker' | 'openai-compatible';

/** A tenant's own provider key (`tessera/tenants/<tenant>/<provider>`), told apart from the platform's (a plain string). */
export interface TenantOwnKey {
  key: string;
  tenantOwn: true;
}

/**
 * What a key lookup needs besides the provider and the tenant (both optional).
 * - `source`: the tenant's `gateway.providerKeys.<provider>` (ProviderKeySource; @default `own-or-platform`): with
 *   `own` the lookup answers the tenant's own key or throws (TenantKeyUnreadable), never a platform key (neither the
 *   provider's nor a deployment's); with `platform` it never reads the tenant's secret.
 * - `platformSecretId`: a deployment's own platform secret (`gateway.models[].deployments[].apiKeySecretId`), read
 *   instead of `gateway.providers.<provider>.apiKeySecretId` when the platform's key is the one to use.
 *   @default - the provider's secret
 */
export interface KeyLookupOptions {
  source?: ProviderKeySource;
  platformSecretId?: string;
}

/**
 * Where each provider's API key comes from: Secrets Manager in AWS (secrets.ts), the command line for `tessera serve`. A
 * string is the platform's key; a TenantOwnKey the tenant's own (its client's failures cool a model for that tenant only).
 */
export type ApiKeyLookup = (provider: ProviderName, tenantId: string, options?: KeyLookupOptions) => Promise<string | TenantOwnKey>;

/** Which client of a provider a call needs besides the provider and the tenant (ProviderRegistry.get). */
export interface ProviderFor {
  /**
   * A catalog model's deployment (`gateway.models[].deployments[]`): Bedrock in its `region`; an OpenAI relay on its
   * `baseUrl` with its `apiKeySecretId`'s key (each @default the provider's), unless the tenant's own key for the
   * provider calls it: then the provider's endpoint with the tenant's key, as without deployments (the client's
   * `credentialOwner` says so). @default - the provider's own endpoint and key (Bedrock: the home region)
   */
  deployment?: ModelDeployment;
  /** The tenant's `gateway.providerKeys` (GatewayPolicy). @default - every provider `own-or-platform` */
  keys?: ProviderKeys;
}

/**
 * Providers are built on first use and kept (one client per provider, tenant, key source, deployment and key), each
 * module loaded lazily so a cold start pays only for the providers a request needs. The key is looked up on every `get`
 * (the lookup caches it: secrets.ts), so a tenant's key that was set, rotated or removed, or a policy whose
 * `providerKeys` changed, takes effect with the lookup's cache, not with the execution environment's end.
 */
export class ProviderRegistry {
  private readonly providers = new Map<string, Promise<Provider>>();
  /** The key each kept keyed provider was built with (by the `providers` key). */
  private readonly builtWith = new Map<string, string>();

  constructor(private readonly config: PlatformConfig, private readonly apiKey: ApiKeyLookup) {}

  /**
   * The provider client for a tenant's call (ProviderFor: at a deployment, on the key the tenant's policy says).
   * @throws TenantKeyUnreadable (the lookup's) when the tenant's policy says `own` for the provider and its key cannot be read
   * @throws Error - no base URL for an OpenAI relay, or no API key (ApiKeyLookup's)
   */
  async get(name: ProviderName, tenantId: string, options: ProviderFor = {}): Promise<Provider> {
    const { deployment, keys } = options;
    const at = deployment ? `#${deployment.region ?? ''}#${deployment.baseUrl ?? ''}#${deployment.apiKeySecretId ?? ''}` : '';
    if (name === 'bedrock' || name === 'sagemaker') return this.kept(name + at, () => this.build(name, tenantId, deployment, undefined));
    if (!this.config.gateway.providers[name] && !deployment?.baseUrl) throw new Error(`provider ${name} has no endpoint configured (gateway.providers.${name})`);
    const source = providerKeySource(keys, name);
    const key = await this.apiKey(name, tenantId, { source, platformSecretId: deployment?.apiKeySecretId });
    const slot = `${name}#${tenantId}#${source}${at}`;
    const value = typeof key === 'string' ? key : `own:${key.key}`;
    if (this.builtWith.get(slot) !== value) {
      this.providers.delete(slot);
      this.builtWith.set(slot, value);
    }
    return this.kept(slot, () => this.build(name, tenantId, deployment, key));
  }

  private kept(slot: string, build: () => Promise<Provider>): Promise<Provider> {
    let p = this.providers.get(slot);
    if (!p) {
      p = build();
      this.providers.set(slot, p);
      p.catch(() => this.providers.delete(slot));
    }
    return p;
  }

  private async build(name: ProviderName, tenantId: string, deployment: ModelDeployment | undefined, key: string | TenantOwnKey | undefined): Promise<Provider> {
    const { gateway } = this.config;
    switch (name) {
      case 'bedrock':
        return new (await import('./bedrock.js')).BedrockProvider(deployment?.region);
      case 'sagemaker':
        return new (await import('./sagemaker.js')).SageMakerProvider();
      default: {
        // openai, huggingface and openai-compatible all speak OpenAI's API: one relay for the three.
        const endpoint = gateway.providers[name];
        const { HttpOpenAiCompatibleProvider } = await import('./http-openai-compatible.js');
        if (key === undefined) throw new Error(`provider ${name} needs an API key`);
        // A tenant's own key is for the provider's own endpoint: a deployment (the platform's spread) does not apply.
        const baseUrl = typeof key === 'string' ? deployment?.baseUrl ?? endpoint?.baseUrl : endpoint?.baseUrl;
        if (!baseUrl) throw new Error(`provider ${name} has no endpoint configured (gateway.providers.${name})`);
        if (typeof key === 'string') return new HttpOpenAiCompatibleProvider(name, baseUrl, key);
        return Object.assign(new HttpOpenAiCompatibleProvider(name, baseUrl, key.key), { credentialOwner: tenantId });
      }
    }
  }
}
