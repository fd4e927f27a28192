import { describe, expect, it } from 'vitest';
import { langChainChunkSize, langChainJsBatchSize, requestBodyTooLarge } from '../../../lambdas/inference/request-body-limit.js';

/** LangChain's OpenAIEmbeddings body for `n` texts of `tokens` ids each, every id the largest six-digit one: the worst case. */
const worstBody = (n: number, tokens: number) => JSON.stringify({ input: Array.from({ length: n }, () => Array.from({ length: tokens }, () => 199_997)), model: 'text-embedding-3-small', encoding_format: 'base64' });

describe('the embeddings 413: the chunk_size LangChain needs under the limit', () => {
  it.each([[1_048_576, 1000, 149], [1_048_576, 8191, 18], [2_000_000, 1000, 285], [2_000_000, 8191, 34], [1024, 8191, 1]])('limit %i bytes, texts of %i tokens: chunk_size %i, whose worst-case body fits and one more text does not', (limit, tokens, expected) => {
    const n = langChainChunkSize(limit, tokens);
    expect(n).toBe(expected);
    if (limit < 2048) return; // the floor of 1: nothing fits such a limit
    expect(Buffer.byteLength(worstBody(n, tokens))).toBeLessThanOrEqual(limit);
    expect(Buffer.byteLength(worstBody(n + 2, tokens))).toBeGreaterThan(limit);
  });

  it.each([[1_048_576, 4000, 261], [2_000_000, 4000, 499], [1_048_576, 100, 10_170]])('LangChain JS, limit %i bytes, texts of %i bytes: batchSize %i, whose body fits and one more text does not', (limit, bytes, expected) => {
    // LangChain JS's body: the texts as strings (each its bytes, two quotes and a comma) beside model and encoding_format
    const body = (n: number) => JSON.stringify({ model: 'text-embedding-3-small', input: Array.from({ length: n }, () => 'a'.repeat(bytes)), encoding_format: 'base64' });
    const n = langChainJsBatchSize(limit, bytes);
    expect(n).toBe(expected);
    expect(Buffer.byteLength(body(n))).toBeLessThanOrEqual(limit);
    // the rule the 413 gave before (the limit's bytes / the text's bytes: 262 at 1 MiB) made a body over the limit
    expect(Buffer.byteLength(body(Math.floor(limit / bytes)))).toBeGreaterThan(limit);
    expect(requestBodyTooLarge(limit + 1, limit, '/v1/embeddings').message).toContain(`batchSize=${langChainJsBatchSize(limit, 4000)} for texts of up to 4,000 bytes as JSON`);
  });

  it('the message gives both values for the configured limit, not the default one', () => {
    const message = requestBodyTooLarge(2_500_000, 2_000_000, '/v1/embeddings').body();
    expect(JSON.parse(message).error).toMatchObject({ code: 'request_too_large', message: expect.stringContaining('chunk_size=285 keeps its requests under this limit for texts of up to 1,000 tokens') });
    expect(JSON.parse(message).error.message).toContain('chunk_size=34 for any text');
    expect(JSON.parse(message).error.message).toContain('LangChain JS sends its texts as they are, batchSize (512 by default) a request');
  });
});
