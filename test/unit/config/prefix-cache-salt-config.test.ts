import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

const entry = (id: string, extra: Record<string, unknown> = {}) => ({ id, upstream: 'm', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 100, prefixCacheSalt: true, ...extra });
const withModels = (...models: unknown[]) => ({ gateway: { models: [...DEFAULT_CONFIG.gateway.models, ...models] } });

describe('config: gateway.models[].prefixCacheSalt (vLLM\'s cache_salt per tenant)', () => {
  it('is taken on openai-compatible, huggingface and sagemaker chat and completion models, and absent from the embedded default', () => {
    const models = loadConfig({ overrides: withModels(entry('openai-compatible/vllm'), entry('huggingface/vllm'), entry('sagemaker/vllm'), entry('openai-compatible/vllm-base', { kind: 'completion' }), entry('openai-compatible/off', { prefixCacheSalt: false })) }).gateway.models;
    expect(models.filter((m) => m.prefixCacheSalt).map((m) => m.id)).toEqual(['openai-compatible/vllm', 'huggingface/vllm', 'sagemaker/vllm', 'openai-compatible/vllm-base']);
    expect(loadConfig({ overrides: {} }).gateway.models.some((m) => 'prefixCacheSalt' in m)).toBe(false);
  });

  it('refuses it on openai and bedrock models and on other kinds, naming gateway.models[i].prefixCacheSalt and the model', () => {
    const i = DEFAULT_CONFIG.gateway.models.length;
    expect(configErrorOf(withModels(entry('openai/gpt-4o-mini-2')))).toMatch(new RegExp(`gateway\\.models\\[${i}\\]\\.prefixCacheSalt = .*"openai/gpt-4o-mini-2", an openai model.*OpenAI refuses a request with a field it does not know`));
    expect(configErrorOf(withModels(entry('bedrock/amazon.nova-micro', { upstream: 'amazon.nova-micro-v1:0' })))).toMatch(new RegExp(`gateway\\.models\\[${i}\\]\\.prefixCacheSalt = .*"bedrock/amazon.nova-micro", a bedrock model`));
    expect(configErrorOf(withModels(entry('openai-compatible/embed', { kind: 'embedding' })))).toMatch(new RegExp(`gateway\\.models\\[${i}\\]\\.prefixCacheSalt = .*an? embedding model: vLLM's cache_salt is a field of chat and text completion requests only`));
    expect(configErrorOf(withModels(entry('openai-compatible/vllm', { prefixCacheSalt: 'yes' })))).toMatch(new RegExp(`gateway\\.models\\[${i}\\]\\.prefixCacheSalt = "yes"`));
  });
});
