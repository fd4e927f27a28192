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
 * completion), and the thinking is billed as output, as the provider bills it. The cache counts
 * the upstream reported (`prompt_tokens_details.cached_tokens`, `cache_write_tokens`) are answered
 * as billed (cacheTokensOf: whole, within the prompt; a count that is not one, such as `"5"`, -3 or
 * null, is 0), so the answer never shows more cached tokens than prompt tokens, nor a count that
 * OpenAI's `CompletionUsage` type (a number) does not allow. Every other field
 * (`completion_tokens_details`, the other `prompt_tokens_details`, provider extras) as reported.
 */
export function billedUsage(reported: CompletionUsage | undefined | null): CompletionUsage | undefined {
  if (!reported || !isCount(reported.prompt_tokens) || !isCount(reported.completion_tokens)) return undefined;
  const sum = reported.prompt_tokens + reported.completion_tokens;
  const billed = isCount(reported.total_tokens) && reported.total_tokens > sum
    ? { ...reported, completion_tokens: reported.total_tokens - reported.prompt_tokens }
    : { ...reported, total_tokens: sum };
  return withBilledCacheCounts(billed);
}

/** `usage` with the cache counts its `prompt_tokens_details` holds replaced by those billed (cacheTokensOf); a field not reported stays absent. */
function withBilledCacheCounts(usage: CompletionUsage): CompletionUsage {
  const details = usage.prompt_tokens_details as Record<string, unknown> | null | undefined;
  if (!details || typeof details !== 'object') return usage;
  const { cachedTokens, cacheWriteTokens } = cacheTokensOf(usage);
  const out: Record<string, unknown> = { ...details };
  if ('cached_tokens' in details) out.cached_tokens = cachedTokens;
  if ('cache_write_tokens' in details) out.cache_write_tokens = cacheWriteTokens;
  return { ...usage, prompt_tokens_details: out };
}

/** The prompt tokens a provider served from or wrote to its prompt cache: parts of `prompt_tokens`, priced apart (costOf). */
export interface CacheTokens {
  /** Prompt tokens read from the cache (OpenAI `prompt_tokens_details.cached_tokens`; Bedrock Converse `cacheReadInputTokens`). */
  cachedTokens: number;
  /** Prompt tokens written to the cache (Bedrock Converse `cacheWriteInputTokens`, as `prompt_tokens_details.cache_write_tokens`: providers/bedrock/usage.ts). */
  cacheWriteTokens: number;
}

/**
 * The cache reads and writes of a usage as the gateway bills them: `prompt_tokens_details.cached_tokens` and
 * `cache_write_tokens` (the Bedrock mapper's name, providers/bedrock/usage.ts), each 0 when absent or not a count, and
 * held within the prompt (they are part of `prompt_tokens`, OpenAI's convention): reads at most `prompt_tokens`, writes
 * at most what the reads leave, so no prompt token is priced twice. An estimated usage (no report) has none.
 * @param usage an OpenAI `CompletionUsage` (chat or legacy completions), as billedUsage returns it
 * @returns `{cachedTokens, cacheWriteTokens}`, both whole and non-negative, their sum at most `prompt_tokens`
 */
export function cacheTokensOf(usage: CompletionUsage | undefined | null): CacheTokens {
  const prompt = isCount(usage?.prompt_tokens) ? usage.prompt_tokens : 0;
  const details = usage?.prompt_tokens_details as { cached_tokens?: unknown; cache_write_tokens?: unknown } | undefined | null;
  const read = Math.min(isCount(details?.cached_tokens) ? details.cached_tokens : 0, prompt);
  const write = Math.min(isCount(details?.cache_write_tokens) ? details.cache_write_tokens : 0, prompt - read);
  return { cachedTokens: read, cacheWriteTokens: write };
}
