import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { loadConfig } from '../../lib/config/load-config.js';
import { configErrorOf } from '../support/config-errors.js';

const whisper = { id: 'openai/whisper-1', upstream: 'whisper-1', kind: 'transcription', inputPricePer1k: 0, outputPricePer1k: 0, audioPricePerMinute: 0.006 };
const tts = { id: 'openai/tts-1', upstream: 'tts-1', kind: 'speech', inputPricePer1k: 0, outputPricePer1k: 0, pricePer1MCharacters: 15 };
const withModels = (...extra: unknown[]) => ({ gateway: { models: [...DEFAULT_CONFIG.gateway.models, ...extra] } });

describe('audio models in the catalog (kind: transcription, kind: speech)', () => {
  it('takes transcription models priced per minute or per token, and speech models priced per character or per token, on openai and openai-compatible', () => {
    const models = loadConfig({ overrides: withModels(whisper, tts,
      { id: 'openai/gpt-4o-transcribe', upstream: 'gpt-4o-transcribe', kind: 'transcription', inputPricePer1k: 0.006, outputPricePer1k: 0.01 },
      { id: 'openai-compatible/whisper', upstream: 'whisper', kind: 'transcription', inputPricePer1k: 0, outputPricePer1k: 0 },
      { id: 'openai/gpt-4o-mini-tts', upstream: 'gpt-4o-mini-tts', kind: 'speech', inputPricePer1k: 0.0006, outputPricePer1k: 0 }) }).gateway.models;
    expect(models.filter((m) => m.kind === 'transcription' || m.kind === 'speech').map((m) => m.id)).toEqual(['openai/whisper-1', 'openai/tts-1', 'openai/gpt-4o-transcribe', 'openai-compatible/whisper', 'openai/gpt-4o-mini-tts']);
  });

  it.each([['bedrock/whisper', 'bedrock'], ['sagemaker/whisper', 'sagemaker'], ['huggingface/openai/whisper-large-v3', 'huggingface']])('refuses an audio model on %s, naming kind and its value', (id, provider) => {
    expect(configErrorOf(withModels({ ...whisper, id }))).toMatch(new RegExp(`gateway\\.models\\[\\d+\\]\\.kind = "transcription": is "transcription" for "${id.replace(/[./]/g, '\\$&')}", a ${provider} model: audio models are not served on ${provider}`));
    expect(configErrorOf(withModels({ ...tts, id }))).toMatch(/\.kind = "speech": is "speech" for .*audio models are not served/);
  });

  it('refuses a price on the wrong kind, and speech priced twice or by output tokens, naming the key and value', () => {
    expect(configErrorOf(withModels({ ...tts, audioPricePerMinute: 0.01 }))).toMatch(/gateway\.models\[\d+\]\.audioPricePerMinute = 0\.01: is 0\.01 for "openai\/tts-1", a speech model: it prices transcription models only/);
    expect(configErrorOf(withModels({ ...whisper, pricePer1MCharacters: 15 }))).toMatch(/gateway\.models\[\d+\]\.pricePer1MCharacters = 15: is 15 for "openai\/whisper-1", a transcription model: it prices speech models only/);
    expect(configErrorOf(withModels({ ...tts, inputPricePer1k: 0.001 }))).toMatch(/gateway\.models\[\d+\]\.inputPricePer1k = 0\.001: .*priced per character already \(pricePer1MCharacters 15\)/);
    expect(configErrorOf(withModels({ ...tts, outputPricePer1k: 0.012 }))).toMatch(/gateway\.models\[\d+\]\.outputPricePer1k = 0\.012: is 0\.012 for speech model "openai\/tts-1": speech answers audio without usage/);
    expect(configErrorOf(withModels({ ...whisper, audioPricePerMinute: -1 }))).toMatch(/gateway\.models\[\d+\]\.audioPricePerMinute = -1/);
  });
});
