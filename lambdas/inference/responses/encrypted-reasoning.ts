import type { ModelEntry } from '../../../lib/config/schema.js';
import { invalid } from '../openai-errors.js';
import type { ReasoningSeal } from './reasoning-seal.js';

/** The `include` value that asks for each reasoning item's `encrypted_content` (OpenAI's `ResponseIncludable`). */
export const ENCRYPTED_REASONING = 'reasoning.encrypted_content';

/**
 * Whether an OpenAI model id (a catalog entry's `upstream` on the `openai` provider) is one of OpenAI's reasoning
 * models: the o-series (`o1`, `o3-mini`, `o4-mini`, …), `codex-mini` and the gpt-5 family (`gpt-5`, `gpt-5.4-mini`, …)
 * except its chat-only `gpt-5-chat-latest` (OpenAI's models page: "non-reasoning"). Others (`gpt-4o-mini`, `gpt-4.1`)
 * answer OpenAI's 400 for `include: ["reasoning.encrypted_content"]`.
 */
export const isOpenAIReasoningModel = (upstream: string): boolean =>
  /^(o\d|codex-mini|gpt-5)/.test(upstream) && !/^gpt-5(\.\d+)?-chat/.test(upstream);

/**
 * Refuses `include: ["reasoning.encrypted_content"]` where it cannot be honoured (POST /v1/responses):
 * - a gateway without the platform's seal (a gateway built without one): 400 `unsupported_parameter` naming `include[i]`;
 * - a model of the `openai` provider that is not one of OpenAI's reasoning models (isOpenAIReasoningModel): OpenAI's
 *   400 as OpenAI sends it: "Encrypted content is not supported with this model.", `param: 'include'`, `code: null`
 *   (the audit record keeps `unsupported_parameter`).
 * Other providers' models (Bedrock, Hugging Face, SageMaker, OpenAI-compatible servers) are taken: whether they reason
 * shows in the answer (the upstream's `reasoning_content` / `reasoning`), and each reasoning item of it is sealed.
 * @throws GatewayError 400 naming `include[i]` (no seal) or `include` (OpenAI's refusal)
 */
export function checkEncryptedReasoningInclude(include: readonly string[] | null | undefined, model: Pick<ModelEntry, 'id' | 'upstream'>, seal: ReasoningSeal | undefined): void {
  const i = (include ?? []).indexOf(ENCRYPTED_REASONING);
  if (i < 0) return;
  if (!seal) throw invalid(`include[${i}] '${ENCRYPTED_REASONING}' is not served by this gateway: it holds no key to seal reasoning items with; leave it out`, `include[${i}]`, 'unsupported_parameter');
  if (model.id.startsWith('openai/') && !isOpenAIReasoningModel(model.upstream)) {
    // OpenAI's body, as its clients' users report it: {message: 'Encrypted content is not supported with this model.',
    // type: 'invalid_request_error', param: 'include', code: null} (bfcl-eval and Hermes Agent logs, 2025-2026).
    const e = invalid('Encrypted content is not supported with this model.', 'include', 'unsupported_parameter');
    e.wireCode = null;
    throw e;
  }
}

type Item = Record<string, unknown>;

/**
 * How one request's output items go out: with `include: ["reasoning.encrypted_content"]`, each `reasoning` item gets
 * its `encrypted_content` (its id and `reasoning_text` parts sealed for the caller's tenant: reasoning-seal.ts), whole
 * (the Response's `output`) and streamed (the item's `response.output_item.done`, as OpenAI's), the same blob in both;
 * else the items as they are.
 * @returns a function of one item: a new item where one changes, the item itself otherwise
 */
export function reasoningSealerOf(include: readonly string[] | null | undefined, seal: ReasoningSeal | undefined, tenantId: string): <T>(item: T) => Promise<T> {
  if (!seal || !(include ?? []).includes(ENCRYPTED_REASONING)) return async (item) => item;
  // One blob per item: its `response.output_item.done` and the finished Response carry the same, as OpenAI's do.
  const blobs = new Map<string, Promise<string>>();
  return async <T>(item: T): Promise<T> => {
    const it = item as Item;
    if (it?.type !== 'reasoning' || typeof it.encrypted_content === 'string') return item;
    const parts = Array.isArray(it.content) ? (it.content as Item[]) : [];
    const text = parts.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
    const id = String(it.id ?? '');
    const key = `${id}\u0000${text}`;
    if (!blobs.has(key)) blobs.set(key, seal.seal(tenantId, { id, text }));
    return { ...it, encrypted_content: await blobs.get(key)! } as T;
  };
}

/**
 * Checks the `encrypted_content` of each `reasoning` item sent back in `input` (a string: null counts as absent): it
 * must open with the caller's tenant's key (reasoning-seal.ts). A valid one is taken, and the item is left out of the
 * upstream's messages as every reasoning item is (items-to-messages.ts). One not made by this platform for this tenant
 * (forged, altered, another tenant's, OpenAI's own) is OpenAI's 400 `invalid_encrypted_content`, in OpenAI's words
 * ("The encrypted content … could not be verified. Reason: Encrypted content could not be decrypted or parsed.").
 * @param input the request's `input` as sent
 * @throws GatewayError 400 `invalid_encrypted_content` naming `input[i].encrypted_content`; 400 `unsupported_parameter`
 *   naming it when the gateway has no seal
 */
export async function checkSentReasoning(input: unknown, tenantId: string, seal: ReasoningSeal | undefined): Promise<void> {
  if (!Array.isArray(input)) return;
  for (const [i, item] of (input as Item[]).entries()) {
    if (item?.type !== 'reasoning' || item.encrypted_content == null) continue;
    const field = `input[${i}].encrypted_content`;
    const blob = item.encrypted_content;
    if (!seal) throw invalid(`${field} is not served by this gateway: it holds no key to open encrypted reasoning with; leave it out`, field, 'unsupported_parameter');
    if (typeof blob !== 'string' || !(await seal.open(tenantId, blob))) {
      const shown = typeof blob === 'string' ? (blob.length > 20 ? `${blob.slice(0, 10)}...${blob.slice(-6)}` : blob) : JSON.stringify(blob).slice(0, 20);
      throw invalid(`The encrypted content ${shown} could not be verified. Reason: Encrypted content could not be decrypted or parsed.`, field, 'invalid_encrypted_content');
    }
  }
}
