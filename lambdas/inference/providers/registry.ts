import type { PlatformConfig } from '../../../lib/config/schema.js';
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
 */
export type ApiKeyLookup = (provider: ProviderName, tenantId: string) => Promise<string | TenantOwnKey>;

/**
 * Providers are built on first use and kept (one client per provider and key), each module
 * loaded lazily so a cold start pays only for the providers a request needs.
 */
export class ProviderRegistry {
  private readonly providers = new Map<string, Promise<Provider>>();

  constructor(private readonly config: PlatformConfig, private readonly apiKey: ApiKeyLookup) {}

  get(name: ProviderName, tenantId: string): Promise<Provider> {
    const key = name === 'bedrock' || name === 'sagemaker' ? name : `${name}#${tenantId}`;
    let p = this.providers.get(key);
    if (!p) {
      p = this.build(name, tenantId);
      this.providers.set(key, p);
      p.catch(() => this.providers.delete(key));
    }
    return p;
  }

  private async build(name: ProviderName, tenantId: string): Promise<Provider> {
    const { gateway } = this.config;
    switch (name) {
      case 'bedrock':
        return new (await import('./bedrock.js')).BedrockProvider();
      case 'sagemaker':
        return new (await import('./sagemaker.js')).SageMakerProvider();
      default: {
        // openai, huggingface and openai-compatible all speak OpenAI's API: one relay for the three.
        const endpoint = gateway.providers[name];
        if (!endpoint) throw new Error(`provider ${name} has no endpoint configured (gateway.providers.${name})`);
        const { HttpOpenAiCompatibleProvider } = await import('./http-openai-compatible.js');
        const key = await this.apiKey(name, tenantId);
        if (typeof key === 'string') return new HttpOpenAiCompatibleProvider(name, endpoint.baseUrl, key);
        return Object.assign(new HttpOpenAiCompatibleProvider(name, endpoint.baseUrl, key.key), { credentialOwner: tenantId });
      }
    }
  }
}
