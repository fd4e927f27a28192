import { describe, expect, it } from 'vitest';
import { reservationTokens, SPECIAL_TOKENS_PER_INPUT } from '../../../../lambdas/inference/embeddings/reservation.js';

describe('embeddings reservation: an upper bound of any tokenizer\'s count', () => {
  it('reserves UTF-8 bytes plus the special tokens per text input', () => {
    expect(reservationTokens({ kind: 'text', texts: ['hello world'] })).toBe(11 + SPECIAL_TOKENS_PER_INPUT);
    expect(reservationTokens({ kind: 'text', texts: ['héllo', '日本'] })).toBe(6 + 6 + 2 * SPECIAL_TOKENS_PER_INPUT);
  });

  it('reserves the length plus the special tokens per token-id input', () => {
    expect(reservationTokens({ kind: 'tokens', tokens: [[1, 2, 3], [4]] })).toBe(4 + 2 * SPECIAL_TOKENS_PER_INPUT);
  });

  it('never reserves more per input than the model takes (maxInputTokens) plus its special tokens', () => {
    expect(reservationTokens({ kind: 'text', texts: ['x'.repeat(10_000), 'short'] }, 512)).toBe(512 + SPECIAL_TOKENS_PER_INPUT + 5 + SPECIAL_TOKENS_PER_INPUT);
  });
});
