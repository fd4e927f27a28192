import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { configWith } from './config-with.js';

/** A platform config whose gateway models all answer from a local OpenAI-compatible upstream. */
const model = (id: string, upstream: string, maxOutputTokens = 100) => ({ id, upstream, inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens });
const models = () => [
  model('openai-compatible/default', 'default'), model('openai-compatible/primary', 'primary'), model('openai-compatible/backup', 'backup'),
  model('openai/gpt-4o-mini', 'gpt-4o-mini'), model('bedrock/amazon.nova-lite', 'amazon.nova-lite-v1:0'),
  model('sagemaker/ft:nova:acme:support', 'acme-support-endpoint'), model('sagemaker/ft:nova:globex:sales', 'globex-sales-endpoint'),
];
// A tier with a tiny request quota, for the rate-limit answer.
const tiers = () => ({ tiny: { ...DEFAULT_CONFIG.tiers.enterprise, network: { ...DEFAULT_CONFIG.tiers.enterprise.network, tenantCidrPool: '10.112.0.0/12' }, limits: { requestsPerMinute: 2, requestsPerHour: 100, requestsPerDay: 1000, tokensPerDay: 1_000_000 } } });
export const gatewayConfig = () => configWith({
  gateway: { models: models(), upstreamRetries: 1, upstreamTimeoutMs: 2000 },
  tiers: tiers(),
});

/**
 * gatewayConfig() for the conformance suite, with its extra models: a reasoning model whose
 * upstream refuses `max_tokens` (`openai-compatible/reasoner`, upstream `o-reasoner`), a
 * HuggingFace TGI model (`huggingface/tgi-llama`), and the gateway settings a test needs
 * (timeouts, retries).
 */
export const conformanceConfig = (gateway: { upstreamTimeoutMs?: number; upstreamIdleTimeoutMs?: number; upstreamRetries?: number } = {}) => configWith({
  gateway: {
    models: [...models(), model('openai-compatible/reasoner', 'o-reasoner', 4096), model('huggingface/tgi-llama', 'meta-llama/Llama-3.1-8B-Instruct')],
    upstreamRetries: 1,
    upstreamTimeoutMs: 2000,
    ...gateway,
  },
  tiers: tiers(),
});


/**
 * A config with one of OpenAI's models (`gpt-5.4-mini`, the README's default model; `o4-mini`) served as
 * `openai/<id>` under its bare id as an alias, the way default-config.ts serves gpt-5.4-mini: frameworks that know
 * reasoning models by OpenAI's bare ids (the Vercel AI SDK, pydantic-ai) treat it as one.
 */
export function withOpenAIAlias<C extends ReturnType<typeof conformanceConfig>>(c: C, bareId: string): C {
  const entry = { id: `openai/${bareId}`, upstream: bareId, inputPricePer1k: 0.00075, outputPricePer1k: 0.0045, maxOutputTokens: 4096 };
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, entry], modelAliases: { ...c.gateway.modelAliases, [bareId]: entry.id } } };
}
