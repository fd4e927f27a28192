import type { CompletionUsage } from 'openai/resources/completions';

/** A token count that can be billed: a whole, non-negative number. */
export function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

/**
 * An upstream's reported usage as the gateway bills it and answers it, or undefined when it cannot
 * be billed (a prompt or completion that is not a count: the gateway counts instead). The total is
 * prompt + completion. One exception: a reported total above that sum is output the upstream
 * counted outside `completion_tokens` (Gemini's OpenAI endpoint leaves its thinking tokens out of
 * it, and counts them in the total and `completion_tokens_details.reasoning_tokens`), so
 * `completion_tokens` becomes total − prompt, OpenAI's convention (reasoning is part of the
 * completion), and the thinking is billed as output, as the provider bills it. Every other field
 * (`prompt_tokens_details`, `completion_tokens_details`, provider extras) as reported.
 */
export function billedUsage(reported: CompletionUsage | undefined | null): CompletionUsage | undefined {
  if (!reported || !isCount(reported.prompt_tokens) || !isCount(reported.completion_tokens)) return undefined;
  const sum = reported.prompt_tokens + reported.completion_tokens;
  if (isCount(reported.total_tokens) && reported.total_tokens > sum) return { ...reported, completion_tokens: reported.total_tokens - reported.prompt_tokens };
  return { ...reported, total_tokens: sum };
}
