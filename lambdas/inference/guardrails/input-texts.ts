import { noteGuardrailMasked } from '../audit.js';
import { redactPii, screenPromptInjection } from '../guardrails.js';
import { invalid } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { PromptInjectionError } from './caller-texts.js';

/**
 * The tenant's input guardrails on texts a caller sends to be read by a model whole (embeddings'
 * inputs, moderations' inputs), in the order chat applies them to a user's text: each text is
 * screened for prompt injection (400 `prompt_injection_detected` naming `pathOf(i)`), then
 * PII-redacted (the kinds found go to the audit record's `piiRedacted`), then, with a Bedrock
 * guardrail configured, checked by ApplyGuardrail as one call over all the texts (400
 * `guardrail_intervened` naming `blockedParam`; a guardrail that masks, a sensitive information
 * filter set to ANONYMIZE, has the masked texts sent instead, counted in the audit record's
 * `guardrailMasked.input`).
 * @param texts the caller's texts, in order
 * @param pathOf the caller's path of text `i` (`input`, `input[2]`, `input[0].text`)
 * @param blockedParam what a Bedrock guardrail's refusal names @default 'input'
 * @returns the texts to send, in order (the same array when nothing changed), and whether any changed
 * @throws GatewayError 400 as above; 502/504 when ApplyGuardrail fails or the deadline comes (gateway.ts)
 */
export async function guardInputTexts(pipeline: RequestPipeline, r: PipelineRequest, texts: string[], pathOf: (i: number) => string, blockedParam = 'input'): Promise<{ texts: string[]; changed: boolean }> {
  const g = r.policy.gateway.guardrails;
  const found: string[] = [];
  let out = texts.map((text, i) => {
    if (g.promptInjectionScreen) {
      const pattern = screenPromptInjection(text);
      if (pattern) throw new PromptInjectionError(pathOf(i), pattern);
    }
    if (!g.redactPii) return text;
    const red = redactPii(text);
    found.push(...red.found);
    return red.found.length ? red.text : text;
  });
  if (found.length) r.audit.piiRedacted = [...new Set(found)];
  let changed = found.length > 0;
  if (g.bedrockGuardrailId) {
    const verdict = await pipeline.applyGuardrail(g.bedrockGuardrailId, out);
    if (verdict.blocked) throw invalid(`the request was blocked by the tenant's Bedrock guardrail${verdict.reason ? `: ${verdict.reason}` : ''}`, blockedParam, 'guardrail_intervened');
    const masked = verdict.masked;
    if (masked) {
      // The guardrail masked (ANONYMIZE): the masked texts are sent; the audit record counts them.
      const replaced = masked.filter((text, i) => text !== out[i]).length;
      noteGuardrailMasked(r.audit, 'input', replaced);
      if (replaced) {
        out = masked;
        changed = true;
      }
    }
  }
  return { texts: changed ? out : texts, changed };
}
