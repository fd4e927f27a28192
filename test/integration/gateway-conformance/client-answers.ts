import type { ScriptedEvent } from '../../support/fake-upstream.js';
import { conformanceConfig } from '../../support/gateway-config.js';

/** An embedding model of the OpenAI-compatible provider, beside the conformance config's chat models. */
export const EMBEDDING_MODEL = { id: 'openai-compatible/embeddings', upstream: 'bge', kind: 'embedding' as const, inputPricePer1k: 0.0001, outputPricePer1k: 0, maxOutputTokens: 4096 };

/** The conformance config (test/support/gateway-config.ts) with {@link EMBEDDING_MODEL} in its catalog. */
export const configWithEmbeddings = () => {
  const c = conformanceConfig();
  return { ...c, gateway: { ...c.gateway, models: [...c.gateway.models, EMBEDDING_MODEL] } };
};

/** The chat model the client suites call (the fake upstream's `default`). */
export const MODEL = 'openai-compatible/default';
/** The usage every scripted answer reports (OpenAI's chat completions `usage`). */
export const USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };

/**
 * The fake upstream's chat answers as the official-client suites script them (older-node-clients, node-helpers,
 * python-helpers), each suite with its own `system_fingerprint`, so a test sees the upstream's answer reached the client.
 * @returns `base` (id `chatcmpl-up`, model `default`); `whole(message, finish)`: a whole answer over an assistant message
 *   with content null; `chunk(delta, finish)`: one stream event; `USAGE_CHUNK`: the usage chunk (`choices: []`);
 *   `streamed(pieces)`: the role chunk, the pieces, the finish, the usage chunk and `[DONE]`
 */
export function upstreamAnswers(systemFingerprint: string) {
  const base = { id: 'chatcmpl-up', created: 1_764_000_000, model: 'default', system_fingerprint: systemFingerprint };
  const whole = (message: Record<string, unknown>, finish = 'stop') => ({
    body: { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null, ...message }, logprobs: null, finish_reason: finish }], usage: USAGE },
  });
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): ScriptedEvent => ({ data: { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] } });
  const USAGE_CHUNK: ScriptedEvent = { data: { ...base, object: 'chat.completion.chunk', choices: [], usage: USAGE } };
  const streamed = (pieces: string[]) => ({ events: [chunk({ role: 'assistant', content: '' }), ...pieces.map((p) => chunk({ content: p })), chunk({}, 'stop'), USAGE_CHUNK, { data: '[DONE]' }] });
  return { base, whole, chunk, USAGE_CHUNK, streamed };
}
