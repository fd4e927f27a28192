import { sha256 } from '../audit.js';
import { guardInputTexts } from '../guardrails/input-texts.js';
import { invalid } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { inputPath, inputsOf, withTexts } from './inputs.js';
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
 * Token-id inputs cannot be screened or redacted: the ids are in the upstream's own vocabulary,
 * which the gateway does not know (decoding them with o200k would screen a text the model never
 * sees). So a tenant with any input guardrail on (PII redaction, the injection screen or a
 * Bedrock guardrail) gets a 400 `unscreenable_input` naming `input` for them, rather than a way
 * around its guardrails; a tenant with none gets them through untouched.
 *
 * Returns a new body; the caller's is not changed.
 * @throws GatewayError 400 as above
 */
export async function guardEmbeddingInput(pipeline: RequestPipeline, r: PipelineRequest, body: EmbeddingRequestBody): Promise<EmbeddingRequestBody> {
  const g = r.policy.gateway.guardrails;
  const inputs = inputsOf(body.input);
  if (inputs.kind === 'tokens') {
    const on = [g.redactPii && 'PII redaction', g.promptInjectionScreen && 'the prompt-injection screen', g.bedrockGuardrailId && 'a Bedrock guardrail'].filter(Boolean);
    if (on.length) throw invalid(`input holds token ids, which the gateway cannot check with tenant ${r.caller.tenantId}'s ${on.length > 1 ? `${on.slice(0, -1).join(', ')} and ${on.at(-1)}` : on[0]}; send the text instead (LangChain's OpenAIEmbeddings sends token ids unless constructed with check_embedding_ctx_length=False)`, 'input', 'unscreenable_input');
    r.audit.promptSha256 = sha256(JSON.stringify(body.input));
    return body;
  }
  const { texts, changed } = await guardInputTexts(pipeline, r, inputs.texts, (i) => inputPath(body.input, i));
  const input = changed ? withTexts(body.input, texts) : body.input;
  r.audit.promptSha256 = sha256(JSON.stringify(input));
  if (r.policy.gateway.auditPromptText) r.audit.prompt = texts.join('\n');
  return input === body.input ? body : { ...body, input };
}
