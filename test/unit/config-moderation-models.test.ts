import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { loadConfig } from '../../lib/config/load-config.js';
import { resolvePolicy } from '../../lambdas/inference/policy.js';
import { localTenant } from '../../lambdas/inference/local-tenant.js';
import { configErrorOf } from '../support/config-errors.js';

const moderation = { id: 'openai/text-moderation-latest', upstream: 'text-moderation-latest', kind: 'moderation', inputPricePer1k: 0, outputPricePer1k: 0 };
const withModels = (...extra: unknown[]) => ({ gateway: { models: [...DEFAULT_CONFIG.gateway.models, ...extra] } });

describe('moderation models in the catalog (kind: moderation)', () => {
  it('the embedded default has openai/omni-moderation-latest, priced 0, and every default tier may call it (they allow the openai provider\'s models)', () => {
    const config = loadConfig();
    expect(config.gateway.models.filter((m) => m.kind === 'moderation')).toEqual([
      { id: 'openai/omni-moderation-latest', upstream: 'omni-moderation-latest', kind: 'moderation', inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 },
    ]);
    for (const tier of ['starter', 'professional', 'enterprise']) expect(resolvePolicy(config, localTenant('acme', tier)).models.has('openai/omni-moderation-latest'), tier).toBe(true);
  });

  it('takes a moderation entry of the openai provider priced 0', () => {
    expect(loadConfig({ overrides: withModels(moderation) }).gateway.models.at(-1)).toMatchObject({ id: 'openai/text-moderation-latest', kind: 'moderation' });
  });

  it.each([
    ['bedrock/amazon.nova-mod', 'bedrock'],
    ['huggingface/KoalaAI/Text-Moderation', 'huggingface'],
    ['sagemaker/ft:llama-3.1-8b-instruct:acme:mod', 'sagemaker'],
    ['openai-compatible/moderation', 'openai-compatible'],
  ])('refuses a moderation model on another provider (%s), naming kind and its value', (id, provider) => {
    expect(configErrorOf(withModels({ ...moderation, id }))).toMatch(new RegExp(`gateway\\.models\\[\\d+\\]\\.kind = "moderation": is "moderation" for "${id.replace(/[.]/g, '\\.')}", ${provider === 'openai-compatible' ? 'an' : 'a'} ${provider} model: moderation models are OpenAI's \\(POST /v1/moderations\\), served by the openai provider only`));
  });

  it.each(['inputPricePer1k', 'outputPricePer1k'])('refuses a moderation model with a non-zero %s, naming the key and value', (key) => {
    expect(configErrorOf(withModels({ ...moderation, [key]: 0.001 }))).toMatch(new RegExp(`gateway\\.models\\[\\d+\\]\\.${key} = 0\\.001: is 0\\.001 for moderation model "openai/text-moderation-latest": a moderation bills no tokens \\(OpenAI's moderation is free\\), so a price would never be charged; set it to 0`));
  });

  it('refuses maxInputTokens on a moderation model, calling it one', () => {
    expect(configErrorOf(withModels({ ...moderation, maxInputTokens: 100 }))).toMatch(/gateway\.models\[\d+\]\.maxInputTokens = 100: applies to embedding models only \(kind: embedding\); "openai\/text-moderation-latest" is a moderation model: remove it/);
  });

  it('refuses a kind that does not exist, naming the three', () => {
    expect(configErrorOf(withModels({ ...moderation, kind: 'classifier' }))).toMatch(/gateway\.models\[\d+\]\.kind = "classifier": must be one of "chat", "embedding", "moderation"/);
  });
});
