import { describe, expect, it } from 'vitest';
import { completionUsage } from '../../../../lambdas/inference/providers/bedrock/usage.js';

describe('completionUsage', () => {
  it('counts cached input in prompt_tokens and reports the cached share', () => {
    expect(completionUsage({ inputTokens: 10, outputTokens: 5, totalTokens: 115, cacheReadInputTokens: 80, cacheWriteInputTokens: 20 })).toEqual({
      prompt_tokens: 110, completion_tokens: 5, total_tokens: 115, prompt_tokens_details: { cached_tokens: 80, cache_write_tokens: 20 },
    });
  });

  it('reads absent cache counts as 0', () => {
    expect(completionUsage({ inputTokens: 12, outputTokens: 3, totalTokens: 15 })).toEqual({
      prompt_tokens: 12, completion_tokens: 3, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    });
  });
});
