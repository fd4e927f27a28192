import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { loadConfig } from '../../lib/config/load-config.js';
import { configErrorOf } from '../support/config-errors.js';
import { providerRoutes } from '../../lib/cli/serve-setup.js';

const embedding = { id: 'openai-compatible/bge', upstream: 'bge', kind: 'embedding', inputPricePer1k: 0.00001, outputPricePer1k: 0 };
const withModels = (...extra: unknown[]) => ({ gateway: { models: [...DEFAULT_CONFIG.gateway.models, ...extra] } });

describe('embedding models in the catalog', () => {
  it('the embedded default has the four embedding entries, kind embedding, priced by input only', () => {
    const config = loadConfig();
    const embeddings = config.gateway.models.filter((m) => m.kind === 'embedding');
    expect(embeddings.map((m) => m.id)).toEqual(['bedrock/amazon.titan-embed-text-v2', 'bedrock/cohere.embed-english-v3', 'openai/text-embedding-3-small', 'openai-compatible/embeddings']);
    expect(embeddings.map((m) => m.upstream)).toEqual(['amazon.titan-embed-text-v2:0', 'cohere.embed-english-v3', 'text-embedding-3-small', 'default']);
    for (const m of embeddings) expect(m.outputPricePer1k).toBe(0);
    expect(embeddings.find((m) => m.id.includes('titan'))!.maxInputTokens).toBe(8192);
  });

  it('takes an embedding entry with maxInputTokens', () => {
    const config = loadConfig({ overrides: withModels({ ...embedding, maxInputTokens: 512 }) });
    expect(config.gateway.models.at(-1)).toMatchObject({ id: 'openai-compatible/bge', kind: 'embedding', maxInputTokens: 512 });
  });

  it('refuses an embedding entry with an output price, naming the key', () => {
    expect(configErrorOf(withModels({ ...embedding, outputPricePer1k: 0.001 }))).toMatch(/gateway\.models\[\d+\]\.outputPricePer1k = 0\.001: is 0\.001 for embedding model "openai-compatible\/bge": embeddings are priced by input tokens only, set it to 0/);
  });

  it('refuses a non-zero price under 0.000001 per 1,000 tokens (one nano-dollar a token, the unit the stores count in): one line naming the path, the model id, the value once and the floor with its unit; 0 and 0.000001 pass', () => {
    // 0.0000004 per 1,000: a 1-token request would cost USD 4e-10, which no integer nano-dollar counts.
    const floor = 'must be 0 or at least 0.000001 USD per 1,000 tokens (USD 0.001 per 1M, one nano-dollar a token, the unit the gateway counts cost in)';
    const lines = (overrides: unknown) => configErrorOf(overrides).split('\n').slice(1);
    const n = DEFAULT_CONFIG.gateway.models.length; // the added entry's position
    expect(lines(withModels({ ...embedding, inputPricePer1k: 0.0000004 }))).toEqual([
      `  - context tessera:config: gateway.models[${n}].inputPricePer1k = 4e-7: the price of model "openai-compatible/bge" ${floor}; a lower one would count small requests as free`,
    ]);
    expect(lines(withModels({ id: 'openai-compatible/chatty', upstream: 'c', inputPricePer1k: 0.001, outputPricePer1k: 1e-9 }))).toEqual([
      `  - context tessera:config: gateway.models[${n}].outputPricePer1k = 1e-9: the price of model "openai-compatible/chatty" ${floor}; a lower one would count small requests as free`,
    ]);
    // A negative price: one line (before, zod's "must be at least 0" and the floor's, each with the value).
    expect(lines(withModels({ ...embedding, inputPricePer1k: -1 }))).toEqual([
      `  - context tessera:config: gateway.models[${n}].inputPricePer1k = -1: the price of model "openai-compatible/bge" ${floor}; a price cannot be negative`,
    ]);
    // A fine-tuning base model's price, named as such.
    const base = { ...DEFAULT_CONFIG.fineTuning.baseModels[0], outputPricePer1k: 1e-9 };
    expect(lines({ fineTuning: { baseModels: [base] } })).toEqual([
      `  - context tessera:config: fineTuning.baseModels[0].outputPricePer1k = 1e-9: the price of fine-tuning base model "${base.id}" ${floor}; a lower one would count small requests as free`,
    ]);
    // In the same round as the entry's other errors (a price given as a string, a missing id).
    expect(lines(withModels({ id: 'openai-compatible/chatty', upstream: 'c', inputPricePer1k: '0.001', outputPricePer1k: 4e-7 }))).toEqual([
      `  - context tessera:config: gateway.models[${n}].inputPricePer1k = "0.001": must be a number, not the string "0.001": write 0.001 without quotes`,
      `  - context tessera:config: gateway.models[${n}].outputPricePer1k = 4e-7: the price of model "openai-compatible/chatty" ${floor}; a lower one would count small requests as free`,
    ]);
    expect(lines(withModels({ upstream: 'c', inputPricePer1k: 4e-7, outputPricePer1k: 0 }))[1]).toBe(`  - context tessera:config: gateway.models[${n}].inputPricePer1k = 4e-7: the price of this model ${floor}; a lower one would count small requests as free`);
    expect(loadConfig({ overrides: withModels({ ...embedding, inputPricePer1k: 0.000001 }) }).gateway.models.at(-1)!.inputPricePer1k).toBe(0.000001);
    expect(loadConfig({ overrides: withModels({ ...embedding, inputPricePer1k: 0 }) }).gateway.models.at(-1)!.inputPricePer1k).toBe(0);
  });

  it('refuses maxInputTokens on a chat model', () => {
    expect(configErrorOf(withModels({ id: 'openai-compatible/chatty', upstream: 'c', inputPricePer1k: 0, outputPricePer1k: 0, maxInputTokens: 100 }))).toMatch(/gateway\.models\[\d+\]\.maxInputTokens = 100: applies to embedding models only/);
  });

  it('takes contextWindow on a chat model only (what Responses truncation "auto" fits into)', () => {
    expect(loadConfig({ overrides: withModels({ id: 'openai-compatible/chatty', upstream: 'c', inputPricePer1k: 0, outputPricePer1k: 0, contextWindow: 32_768 }) }).gateway.models.at(-1)!.contextWindow).toBe(32_768);
    expect(configErrorOf(withModels({ ...embedding, contextWindow: 8192 }))).toMatch(/gateway\.models\[\d+\]\.contextWindow = 8192: applies to chat models only/);
  });

  it("tessera serve's provider filtering lists embedding models with their provider's", () => {
    const routes = providerRoutes(loadConfig(), { upstream: 'http://127.0.0.1:9/v1', awsCredentials: false });
    expect(routes.served).toEqual(['openai', 'huggingface', 'openai-compatible']);
    expect(routes.report.find((l) => l.startsWith('openai-compatible '))).toContain('openai-compatible/embeddings');
    expect(routes.report.find((l) => l.startsWith('bedrock '))).toMatch(/bedrock\/amazon\.titan-embed-text-v2, bedrock\/cohere\.embed-english-v3\).*not served, no AWS credentials/);
  });
});
