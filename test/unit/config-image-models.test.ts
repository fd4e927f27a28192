import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { loadConfig } from '../../lib/config/load-config.js';
import { resolvePolicy } from '../../lambdas/inference/policy.js';
import { localTenant } from '../../lambdas/inference/local-tenant.js';
import { configErrorOf } from '../support/config-errors.js';

const image = { id: 'openai/dall-e-3', upstream: 'dall-e-3', kind: 'image', inputPricePer1k: 0, outputPricePer1k: 0, pricePerImageUsd: 0.04 };
const withModels = (...extra: unknown[]) => ({ gateway: { models: [...DEFAULT_CONFIG.gateway.models, ...extra] } });

describe('image models in the catalog (kind: image, priced per image)', () => {
  // s31n: the default was openai/gpt-image-1, which OpenAI shut down on 2026-10-23 (the openai package 7.55.0, ImageModel).
  it('the embedded default has openai/gpt-image-2.5-flare (a current model, not a retired one), priced per image, which every default tier may call', () => {
    const config = loadConfig();
    expect(config.gateway.models.filter((m) => m.kind === 'image')).toEqual([
      { id: 'openai/gpt-image-2.5-flare', upstream: 'gpt-image-2.5-flare', kind: 'image', pricePerImageUsd: 0.25, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 4096 },
    ]);
    for (const tier of ['starter', 'professional', 'enterprise']) expect(resolvePolicy(config, localTenant('acme', tier)).models.has('openai/gpt-image-2.5-flare'), tier).toBe(true);
  });

  it.each([
    ['openai/dall-e-3', 'dall-e-3'],
    ['openai-compatible/flux', 'flux-schnell'],
    ['bedrock/amazon.nova-canvas', 'amazon.nova-canvas-v1:0'],
    ['bedrock/amazon.titan-image-generator-v2', 'amazon.titan-image-generator-v2:0'],
    ['bedrock/us.amazon.nova-canvas', 'us.amazon.nova-canvas-v1:0'],
  ])('takes an image entry %s (%s) with pricePerImageUsd and token prices 0', (id, upstream) => {
    expect(loadConfig({ overrides: withModels({ ...image, id, upstream }) }).gateway.models.at(-1)).toMatchObject({ id, upstream, kind: 'image', pricePerImageUsd: 0.04 });
  });

  it('takes a free image model (pricePerImageUsd 0)', () => {
    expect(loadConfig({ overrides: withModels({ ...image, pricePerImageUsd: 0 }) }).gateway.models.at(-1)).toMatchObject({ pricePerImageUsd: 0 });
  });

  it.each([
    ['sagemaker/ft:sdxl:acme:1', 'SageMaker'],
    ['huggingface/black-forest-labs/FLUX.1-schnell', 'Hugging Face'],
  ])('refuses an image model on %s: image models are not served there', (id, where) => {
    expect(configErrorOf(withModels({ ...image, id }))).toMatch(new RegExp(`gateway\\.models\\[\\d+\\]\\.kind = "image": is "image" for "${id.replace(/[.]/g, '\\.')}", a \\w+ model: image models are not served on ${where} \\(POST /v1/images/generations is served by the openai, openai-compatible and bedrock providers\\)`));
  });

  it('refuses a Bedrock image model the gateway does not map, naming upstream and the two it maps', () => {
    expect(configErrorOf(withModels({ ...image, id: 'bedrock/stability.sd3', upstream: 'stability.sd3-large-v1:0' }))).toMatch(/gateway\.models\[\d+\]\.upstream = "stability\.sd3-large-v1:0": is "stability\.sd3-large-v1:0" for Bedrock image model "bedrock\/stability\.sd3": the gateway maps image generation onto amazon\.nova-canvas-v1:0 and amazon\.titan-image-generator-v2:0 only/);
  });

  it('requires pricePerImageUsd on an image model', () => {
    const { pricePerImageUsd: _, ...unpriced } = image;
    expect(configErrorOf(withModels(unpriced))).toMatch(/gateway\.models\[\d+\]\.pricePerImageUsd.*is missing for image model "openai\/dall-e-3": an image model is priced per image/);
  });

  it('refuses a negative pricePerImageUsd and one below a nano-dollar, naming the value', () => {
    expect(configErrorOf(withModels({ ...image, pricePerImageUsd: -1 }))).toMatch(/gateway\.models\[\d+\]\.pricePerImageUsd = -1/);
    expect(configErrorOf(withModels({ ...image, pricePerImageUsd: 1e-9 }))).toMatch(/gateway\.models\[\d+\]\.pricePerImageUsd = 1e-9: is 1e-9 for image model "openai\/dall-e-3": must be 0 or at least 0\.000001 USD/);
  });

  it.each(['inputPricePer1k', 'outputPricePer1k'])('refuses a non-zero %s on an image model, naming the key and value', (key) => {
    expect(configErrorOf(withModels({ ...image, [key]: 0.001 }))).toMatch(new RegExp(`gateway\\.models\\[\\d+\\]\\.${key} = 0\\.001: is 0\\.001 for image model "openai/dall-e-3": an image model is priced per image \\(pricePerImageUsd\\), never by tokens`));
  });

  it('refuses pricePerImageUsd on a model of another kind', () => {
    expect(configErrorOf(withModels({ id: 'openai/gpt-4.1', upstream: 'gpt-4.1', inputPricePer1k: 0.002, outputPricePer1k: 0.008, pricePerImageUsd: 0.04 }))).toMatch(/gateway\.models\[\d+\]\.pricePerImageUsd = 0\.04: is 0\.04 for "openai\/gpt-4\.1", a chat model: a price per image applies to image models only \(kind: image\); remove it/);
  });
});
