import { describe, expect, it, vi } from 'vitest';
import { chunkText, DEFAULT_CHUNKING, MAX_PIECE_CHARS } from '../../../../lambdas/inference/vector-stores/chunking.js';

/** The longest run (of non-whitespace, or of whitespace) each encode call was given. */
const longest: number[] = [];
vi.mock('gpt-tokenizer/encoding/o200k_base', async (original) => {
  const real = await original<typeof import('gpt-tokenizer/encoding/o200k_base')>();
  return {
    ...real,
    encode: (text: string, options?: object) => {
      const run = Math.max(0, ...(text.match(/\S+|\s+/g) ?? []).map((r) => r.length));
      longest.push(run);
      // The stand-in for the hang: o200k makes such a run one piece, whose BPE merges take minutes to hours on the serve process's only thread.
      if (run > 20_000) throw new Error(`encode was given a run of ${run} characters`);
      return real.encode(text, options as never);
    },
  };
});

describe('chunking a text with very long runs (a file of one 10 MB line, a megabyte of spaces)', () => {
  it('encodes runs longer than MAX_PIECE_CHARS in parts, losing no character and splitting no surrogate pair', async () => {
    const line = `${'a'.repeat(999_999)}\u{1F600}${'b'.repeat(2_000)}`;
    const chunks = await chunkText(line, { max_chunk_size_tokens: 4096, chunk_overlap_tokens: 0 });
    expect(chunks.map((c) => c.text).join('')).toBe(line);
    expect(chunks.every((c) => c.tokens <= 4096 && !c.text.includes('\uFFFD'))).toBe(true);
    expect(Math.max(...longest)).toBeLessThanOrEqual(MAX_PIECE_CHARS);
    const spaced = await chunkText(`start${' '.repeat(300_000)}end`, DEFAULT_CHUNKING);
    expect(spaced.at(-1)!.text.endsWith('end')).toBe(true);
    expect(spaced[0]!.text.startsWith('start')).toBe(true);
  });
});
