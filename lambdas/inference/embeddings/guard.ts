import { inputTokenizerOf, type InputTokenizer, type ModelEntry } from '../../../lib/config/schema.js';
import { sha256 } from '../audit.js';
import { guardInputTexts } from '../guardrails/input-texts.js';
import { invalid } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { inputPath, inputsOf, withTexts } from './inputs.js';
import { decodeInputIds } from './token-input.js';
import type { EmbeddingRequestBody } from './request-schema.js';

/**
 * The tenant's input guardrails on an embeddings request, as chat applies them to a user's text
 * (guardrails/input-texts.ts, shared with moderations): each input string is screened for prompt injection (400 `prompt_injection_detected` naming
 * `input` or `input[i]`), then PII-redacted (the kinds found go to the audit record), then, with a
 * Bedrock guardrail configured, checked by ApplyGuardrail (400 `guardrail_intervened`; a guardrail
 * that masks, a sensitive information filter set to ANONYMIZE, has the masked inputs embedded
 * instead, counted in the audit record's `guardrailMasked.input`).
 * The fingerprint of the input as it will be sent (`promptSha256` = SHA-256 of its JSON) goes to
 * the audit record, the text too when the tenant audits prompt text.
 *
 * Token-id inputs (LangChain's Python `OpenAIEmbeddings` sends them by default: it cuts long texts
 * with tiktoken's `cl100k_base`) pass untouched on a tenant with no input guardrail on. On a
 * tenant with one (PII redaction, the injection screen or a Bedrock guardrail):
 * - a model whose input encoding the catalog knows (`inputTokenizerOf`: OpenAI's embedding models
 *   are `cl100k_base`) has the ids decoded with it (an id outside the vocabulary is a 400
 *   `invalid_token_id` naming `input[i][j]`, or `input[j]` for one input, and the id), and the
 *   texts go through the same guardrails as string inputs. If they changed nothing, the caller's
 *   ids are sent unchanged; if any input changed (redacted, or masked by the Bedrock guardrail),
 *   every input is sent as its guarded text (OpenAI's `input` is all strings or all token
 *   arrays; one token array becomes one string). The audit record's `detail.tokenIdsDecodedWith`
 *   names the encoding the ids were decoded with.
 * - a model whose encoding is not known is a 400 `unscreenable_input` naming `input`: the ids are
 *   in the upstream's own vocabulary, and decoding them with another would screen a text the
 *   model never sees; a tenant's guardrails are not to be walked around by sending ids.
 *
 * Returns a new body; the caller's is not changed.
 * @param model the catalog entry called (its `tokenizer`, or the default for its provider and upstream)
 * @throws GatewayError 400 as above
 * @throws Error when the encoding's ranks cannot be loaded (a bundle without them: a 500)
 */
export async function guardEmbeddingInput(pipeline: RequestPipeline, r: PipelineRequest, body: EmbeddingRequestBody, model: ModelEntry): Promise<EmbeddingRequestBody> {
  const g = r.policy.gateway.guardrails;
  const inputs = inputsOf(body.input);
  if (inputs.kind === 'tokens') {
    const on = [g.redactPii && 'PII redaction', g.promptInjectionScreen && 'the prompt-injection screen', g.bedrockGuardrailId && 'a Bedrock guardrail'].filter(Boolean);
    if (!on.length) {
      r.audit.promptSha256 = sha256(JSON.stringify(body.input));
      return body;
    }
    const encoding = inputTokenizerOf(model);
    if (!encoding) throw invalid(`input holds token ids, which the gateway cannot check with tenant ${r.caller.tenantId}'s ${on.length > 1 ? `${on.slice(0, -1).join(', ')} and ${on.at(-1)}` : on[0]}: ${model.id}'s vocabulary is not known (its catalog entry sets no tokenizer); send the text instead (LangChain's OpenAIEmbeddings sends token ids unless constructed with check_embedding_ctx_length=False)`, 'input', 'unscreenable_input');
    return guardTokenIds(pipeline, r, body, inputs.tokens, encoding, model.id);
  }
  const { texts, changed } = await guardInputTexts(pipeline, r, inputs.texts, (i) => inputPath(body.input, i));
  const input = changed ? withTexts(body.input, texts) : body.input;
  r.audit.promptSha256 = sha256(JSON.stringify(input));
  if (r.policy.gateway.auditPromptText) r.audit.prompt = texts.join('\n');
  return input === body.input ? body : { ...body, input };
}

/**
 * Token-id inputs on a guarded tenant, their encoding known: decoded, guarded as texts, and sent
 * as the ids when nothing changed, else as the guarded texts (guardEmbeddingInput's rule).
 * @throws GatewayError 400 `invalid_token_id` naming `input[i][j]` (`input[j]` for one input) and the id; the guardrails' 400s
 */
async function guardTokenIds(pipeline: RequestPipeline, r: PipelineRequest, body: EmbeddingRequestBody, tokens: number[][], encoding: InputTokenizer, modelId: string): Promise<EmbeddingRequestBody> {
  const one = typeof (body.input as unknown[])[0] === 'number';
  const decoded = await decodeInputIds(body, tokens, encoding, modelId);
  r.audit.detail = { ...r.audit.detail, tokenIdsDecodedWith: encoding };
  const { texts, changed } = await guardInputTexts(pipeline, r, decoded, (i) => inputPath(body.input, i));
  // OpenAI's input is all strings or all token arrays: one changed text sends every input as text.
  const input = changed ? (one ? texts[0] : texts) : body.input;
  r.audit.promptSha256 = sha256(JSON.stringify(input));
  if (r.policy.gateway.auditPromptText) r.audit.prompt = texts.join('\n');
  return changed ? { ...body, input } : body;
}
