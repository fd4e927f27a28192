import type { ModelDeployment, PlatformConfig } from '../../../lib/config/schema.js';
import type { Provider } from './provider.js';

export type ProviderName = 'bedrock' | 'openai' | 'huggingface' | 'sagemaker' | 'openai-compatible';

/** A tenant's own provider key (`tessera/tenants/<tenant>/<provider>`), told apart from the platform's (a plain string). */
export interface TenantOwnKey {
  key: string;
  tenantOwn: true;
}

/**
 * Where each provider's API key comes from: Secrets Manager in AWS, the command line for `tessera serve`. A string is
 * the platform's key; a TenantOwnKey the tenant's own (its client's failures cool a model for that tenant only).
 * `platformSecretId`: a deployment's own platform secret (`gateway.models[].deployments[].apiKeySecretId`), read
 * instead of `gateway.providers.<provider>.apiKeySecretId` when the tenant has no key of its own.
 */
export type ApiKeyLookup = (provider: ProviderName, tenantId: string, platformSecretId?: string) => Promise<string | TenantOwnKey>;

/**
 * Providers are built on first use and kept (one client per provider and key), each module
 * loaded lazily so a cold start pays only for the providers a request needs.
 */
export class ProviderRegistry {
  private readonly providers = new Map<string, Promise<Provider>>();

  constructor(private readonly config: PlatformConfig, private readonly apiKey: ApiKeyLookup) {}

  /**
   * The provider client for a tenant's call, built on first use.
   * @param deployment a catalog model's deployment (`gateway.models[].deployments[]`): Bedrock in its `region`; an
   *   OpenAI relay on its `baseUrl` with its `apiKeySecretId`'s key (each @default the provider's), unless the tenant
   *   brought its own key for the provider: then the provider's endpoint with the tenant's key, as without deployments
   *   (the client's `credentialOwner` says so). @default - the provider's own endpoint and key (Bedrock: the home region)
   * @throws Error - no base URL for an OpenAI relay, or no API key (ApiKeyLookup's)
   */
  get(name: ProviderName, tenantId: string, deployment?: ModelDeployment): Promise<Provider> {
    const at = deployment ? `#${deployment.region ?? ''}#${deployment.baseUrl ?? ''}#${deployment.apiKeySecretId ?? ''}` : '';
    const key = (name === 'bedrock' || name === 'sagemaker' ? name : `${name}#${tenantId}`) + at;
    let p = this.providers.get(key);
    if (!p) {
      p = this.build(name, tenantId, deployment);
      this.providers.set(key, p);
      p.catch(() => this.providers.delete(key));
    }
    return p;
  }

  private async build(name: ProviderName, tenantId: string, deployment: ModelDeployment | undefined): Promise<Provider> {
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
        const key = await this.apiKey(name, tenantId, deployment?.apiKeySecretId);
        // A tenant's own key is for the provider's own endpoint: a deployment (the platform's spread) does not apply.
        const baseUrl = typeof key === 'string' ? deployment?.baseUrl ?? endpoint?.baseUrl : endpoint?.baseUrl;
        if (!baseUrl) throw new Error(`provider ${name} has no endpoint configured (gateway.providers.${name})`);
        if (typeof key === 'string') return new HttpOpenAiCompatibleProvider(name, baseUrl, key);
        return Object.assign(new HttpOpenAiCompatibleProvider(name, baseUrl, key.key), { credentialOwner: tenantId });
      }
    }
  }
}
