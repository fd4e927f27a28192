import { sha256 } from '../audit.js';
import { screenPromptInjection } from '../guardrails.js';
import { PromptInjectionError } from '../guardrails/caller-texts.js';
import { guardInputTexts } from '../guardrails/input-texts.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { isMultiModal, textsOf, withTexts } from './inputs.js';
import type { ModerationRequestBody } from './request-schema.js';

/**
 * The tenant's input guardrails on a moderations request, exactly as embeddings applies them to
 * its inputs (guardrails/input-texts.ts): each text (a string input, each string of an array, each
 * `text` part) is screened for prompt injection (400 `prompt_injection_detected` naming `input`,
 * `input[i]` or `input[i].text`), PII-redacted (the upstream sees `[EMAIL]`; the kinds go to the
 * audit record) and checked by the tenant's Bedrock guardrail (400 `guardrail_intervened`; masked
 * texts are sent masked). The text parts of a multimodal input are one input to the model, so with
 * the screen on they are screened joined too, as chat screens a message's text parts. Image parts
 * are not read (as chat's are not): they go on untouched.
 * The audit record gets `promptSha256` (SHA-256 of the JSON of `input` as sent), and the texts
 * when the tenant audits prompt text.
 *
 * Returns a new body; the caller's is not changed.
 * @throws GatewayError 400 as above
 */
export async function guardModerationInput(pipeline: RequestPipeline, r: PipelineRequest, body: ModerationRequestBody): Promise<ModerationRequestBody> {
  const found = textsOf(body.input);
  if (r.policy.gateway.guardrails.promptInjectionScreen && isMultiModal(body.input) && found.length > 1) {
    // A phrase split across text parts: named as the whole input (one within a part is named by its path below).
    const joined = screenPromptInjection(found.map((t) => t.text).join(''));
    if (joined && !found.some((t) => screenPromptInjection(t.text))) throw new PromptInjectionError('input', joined);
  }
  const { texts, changed } = await guardInputTexts(pipeline, r, found.map((t) => t.text), (i) => found[i]!.path);
  const input = changed ? withTexts(body.input, texts) : body.input;
  r.audit.promptSha256 = sha256(JSON.stringify(input));
  if (r.policy.gateway.auditPromptText) r.audit.prompt = texts.join('\n');
  return input === body.input ? body : { ...body, input };
}
