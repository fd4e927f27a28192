import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { PROVIDER_SECRET_NAME } from '../../../lib/config/schema.js';
import { configErrorOf } from '../../support/config-errors.js';

/**
 * gateway.providers.<provider>.apiKeySecretId is held to the rule a deployment's apiKeySecretId is: a secret name under
 * tessera/providers/, the only secrets the router's ProviderKeys grant (constructs/inference-api.ts) lets it read. A
 * name outside it would synthesize and deploy, and every request on that provider fail with AccessDenied.
 */
describe('config: gateway.providers.<provider>.apiKeySecretId', () => {
  it('takes the embedded default\'s secrets and other names under tessera/providers/', () => {
    for (const p of ['openai', 'huggingface'] as const) expect(DEFAULT_CONFIG.gateway.providers[p].apiKeySecretId).toMatch(PROVIDER_SECRET_NAME);
    const config = loadConfig({ overrides: { gateway: { providers: {
      openai: { apiKeySecretId: 'tessera/providers/openai-prod' },
      'openai-compatible': { baseUrl: 'https://llm.example.com/v1', apiKeySecretId: 'tessera/providers/vllm' },
    } } } });
    expect(config.gateway.providers.openai.apiKeySecretId).toBe('tessera/providers/openai-prod');
    expect(config.gateway.providers['openai-compatible']?.apiKeySecretId).toBe('tessera/providers/vllm');
  });

  it.each([
    ['openai', 'prod/openai'],
    ['huggingface', 'tessera/huggingface'],
    ['openai', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/openai-AbCdEf'],
    ['openai', 'tessera/providers/'],
  ])('refuses %s\'s secret %s at its path, naming the prefix and the grant', (provider, secret) => {
    const message = configErrorOf({ gateway: { providers: { [provider]: { apiKeySecretId: secret } } } });
    expect(message).toContain(`gateway.providers.${provider}.apiKeySecretId`);
    expect(message).toContain(secret);
    expect(message).toContain('must be a secret name under tessera/providers/ (the router\'s ProviderKeys grant reads secret:tessera/providers/* only)');
  });

  it('gives a deployment\'s secret outside the prefix the same message', () => {
    const models = [...DEFAULT_CONFIG.gateway.models, { id: 'openai/gpt-x', upstream: 'gpt-x', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 10, deployments: [{ name: 'b', apiKeySecretId: 'prod/openai' }] }];
    const message = configErrorOf({ gateway: { models } });
    expect(message).toContain('must be a secret name under tessera/providers/ (the router\'s ProviderKeys grant reads secret:tessera/providers/* only)');
  });
});
