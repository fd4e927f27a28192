import type { TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { CompletionUsage } from 'openai/resources/completions';

/**
 * Converse `usage` → OpenAI `usage`.
 *
 *   prompt_tokens     = inputTokens + cacheReadInputTokens + cacheWriteInputTokens
 *   completion_tokens = outputTokens
 *   total_tokens      = prompt_tokens + completion_tokens
 *   prompt_tokens_details = {cached_tokens: cacheReadInputTokens, cache_write_tokens: cacheWriteInputTokens}
 *
 * Converse counts cached input apart from `inputTokens`; OpenAI's `prompt_tokens` is the whole
 * prompt, cached part included, with the cached share in `prompt_tokens_details`.
 * AWS reference: TokenUsage (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_TokenUsage.html).
 */
export function completionUsage(usage: TokenUsage): CompletionUsage {
  const cacheRead = usage.cacheReadInputTokens ?? 0;
  const cacheWrite = usage.cacheWriteInputTokens ?? 0;
  const prompt = (usage.inputTokens ?? 0) + cacheRead + cacheWrite;
  const completion = usage.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_write_tokens: cacheWrite },
  };
}
