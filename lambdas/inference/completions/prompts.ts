import { sha256 } from '../audit.js';
import { guardInputTexts } from '../guardrails/input-texts.js';
import { invalid } from '../openai-errors.js';
import type { PipelineRequest, RequestPipeline } from '../pipeline.js';
import { DEFAULT_COMPLETION_MAX_TOKENS, type CompletionRequestBody } from './request-schema.js';

/** A text completion's prompts: strings (one per prompt), or token-id arrays (one per prompt). */
export type CompletionPrompts = { kind: 'text'; texts: string[] } | { kind: 'tokens'; tokens: number[][] };

/**
 * The prompts of `prompt` in every form OpenAI takes: a string (one prompt), an array of strings, an array of token
 * ids (one prompt), an array of token-id arrays; `null` is one empty prompt (OpenAI's `<|endoftext|>`).
 */
export function promptsOf(prompt: CompletionRequestBody['prompt']): CompletionPrompts {
  if (prompt === null || prompt === undefined) return { kind: 'text', texts: [''] };
  if (typeof prompt === 'string') return { kind: 'text', texts: [prompt] };
  if (prompt.length && typeof prompt[0] === 'string') return { kind: 'text', texts: prompt as string[] };
  if (prompt.length && typeof prompt[0] === 'number') return { kind: 'tokens', tokens: [prompt as number[]] };
  return { kind: 'tokens', tokens: prompt as number[][] };
}

/**
 * The tokens a text completion reserves against the budgets:
 * - `prompt`: every prompt's tokens (a string counted by `count`, the gateway's token counter; a token-id array by
 *   its length), plus the `suffix` once per prompt;
 * - `completion`: `max_tokens` (@default 16, OpenAI's) × max(`n`, `best_of`) × the number of prompts: OpenAI answers
 *   `n` choices per prompt and bills the `best_of` candidates it generated server-side.
 * @param maxTokens the completion limit per choice after the tenant's and the model's caps (pipeline.completionLimit) @default body.max_tokens ?? 16
 * @returns `prompt` and `completion` tokens, and `choices` (per prompt × max(n, best_of), what a 429 divides by)
 */
export function completionReservation(body: Pick<CompletionRequestBody, 'prompt' | 'suffix' | 'n' | 'best_of' | 'max_tokens'>, count: (text: string) => number, maxTokens = body.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS): { prompt: number; completion: number; choices: number } {
  const prompts = promptsOf(body.prompt);
  const sizes = prompts.kind === 'text' ? prompts.texts.map(count) : prompts.tokens.map((t) => t.length);
  const suffix = body.suffix ? count(body.suffix) : 0;
  const prompt = sizes.reduce((sum, n) => sum + n + suffix, 0);
  const choices = sizes.length * Math.max(body.n ?? 1, body.best_of ?? 1);
  return { prompt, completion: maxTokens * choices, choices };
}

/** The caller's path of prompt `i` (`prompt`, `prompt[2]`). */
const promptPath = (prompt: CompletionRequestBody['prompt'], i: number) => (Array.isArray(prompt) ? `prompt[${i}]` : 'prompt');

/**
 * The tenant's input guardrails on a text completion, as chat applies them to a user's text (guardrails/input-texts.ts):
 * each prompt string and the `suffix` screened for prompt injection (400 naming `prompt[i]` or `suffix`), PII-redacted,
 * and checked by the tenant's Bedrock guardrail (400 `guardrail_intervened` naming `prompt`; masked texts are sent).
 * A token-id prompt cannot be read: on a tenant with any input guardrail on it is a 400 `unscreenable_input` naming
 * `prompt`; on one with none it passes untouched. The prompt's fingerprint (and text, with `auditPromptText`) goes to the
 * audit record. Returns a new body when anything changed; the caller's is not changed.
 * @throws GatewayError 400 as above; 502/504 when ApplyGuardrail fails or the deadline comes (gateway.ts)
 */
export async function guardCompletionInput(pipeline: RequestPipeline, r: PipelineRequest, body: CompletionRequestBody): Promise<CompletionRequestBody> {
  const g = r.policy.gateway.guardrails;
  const prompts = promptsOf(body.prompt);
  const on = [g.redactPii && 'PII redaction', g.promptInjectionScreen && 'the prompt-injection screen', g.bedrockGuardrailId && 'a Bedrock guardrail'].filter(Boolean) as string[];
  if (prompts.kind === 'tokens') {
    if (on.length) {
      throw invalid(`prompt holds token ids, which the gateway cannot check with tenant ${r.caller.tenantId}'s ${on.length > 1 ? `${on.slice(0, -1).join(', ')} and ${on.at(-1)}` : on[0]}: send the prompt as text`, 'prompt', 'unscreenable_input');
    }
    r.audit.promptSha256 = sha256(JSON.stringify(body.prompt));
    return body;
  }
  const hasSuffix = typeof body.suffix === 'string' && body.suffix.length > 0;
  const texts = hasSuffix ? [...prompts.texts, body.suffix as string] : prompts.texts;
  const n = prompts.texts.length;
  const guarded = on.length ? await guardInputTexts(pipeline, r, texts, (i) => (i === n ? 'suffix' : promptPath(body.prompt, i)), 'prompt') : { texts, changed: false };
  let out = body;
  if (guarded.changed) {
    const promptTexts = guarded.texts.slice(0, n);
    out = { ...body, prompt: typeof body.prompt === 'string' || body.prompt === null ? promptTexts[0] : promptTexts };
    if (hasSuffix) out.suffix = guarded.texts[n];
  }
  r.audit.promptSha256 = sha256(JSON.stringify(out.prompt));
  if (r.policy.gateway.auditPromptText) r.audit.prompt = guarded.texts.join('\n');
  return out;
}
