import { describe, expect, it } from 'vitest';
import { checkRequestTokens, MAX_EMBEDDING_TOKENS_PER_REQUEST } from '../../../../lambdas/inference/embeddings/request-token-limit.js';
import type { GatewayError } from '../../../../lambdas/inference/openai-errors.js';

const refusal = async (p: Promise<unknown>) => (await p.then(() => undefined, (e: unknown) => e)) as GatewayError | undefined;

/** OpenAI's 300,000 tokens summed over an embeddings request's inputs (`EmbeddingCreateParams.input`). */
describe('checkRequestTokens', () => {
  it('takes a request of exactly 300,000 tokens, text or token ids', async () => {
    expect(await refusal(checkRequestTokens({ kind: 'text', texts: ['a', 'b', 'c'] }, [100_000, 100_000, 100_000]))).toBeUndefined();
    expect(await refusal(checkRequestTokens({ kind: 'tokens', tokens: [[1], [2]] }, [150_000, 150_000]))).toBeUndefined();
  });

  it('refuses one token more with OpenAI\'s 400 max_tokens_per_request naming input, the count and what to do', async () => {
    const e = await refusal(checkRequestTokens({ kind: 'tokens', tokens: [[1], [2]] }, [150_000, 150_001]));
    expect(e).toMatchObject({ status: 400, param: 'input', code: 'max_tokens_per_request' });
    expect(e!.message).toMatch(/^Requested 300001 tokens over the request's 2 inputs, max 300000 tokens per request .*split the inputs over several requests/);
    expect(MAX_EMBEDDING_TOKENS_PER_REQUEST).toBe(300_000);
  });

  it('counts again in the model\'s encoding a text request the o200k count puts over: within there, taken; over there too, refused', async () => {
    // The o200k counts given are over; the texts are far fewer tokens of cl100k_base.
    expect(await refusal(checkRequestTokens({ kind: 'text', texts: ['alpha', 'beta'] }, [200_000, 100_001], 'cl100k_base'))).toBeUndefined();
    // " a" is one cl100k token: 150,001 of them twice is 300,002.
    const texts = [' a'.repeat(150_001), ' a'.repeat(150_001)];
    const e = await refusal(checkRequestTokens({ kind: 'text', texts }, [150_001, 150_001], 'cl100k_base'));
    expect(e).toMatchObject({ status: 400, param: 'input', code: 'max_tokens_per_request', message: expect.stringContaining('over 300000 tokens of cl100k_base (300002 of o200k)') });
  });
});
