import { Buffer } from 'node:buffer';
import type { EmbeddingInputs } from './inputs.js';

/**
 * Special tokens an embedding model's tokenizer may add to each input: BERT-style `[CLS]` and
 * `[SEP]`, SentencePiece `<s>`/`</s>`, an instruction prefix's separators. Four covers every
 * tokenizer in the catalog (TEI's BERT/BGE/E5, Cohere, Titan, OpenAI's cl100k/o200k add none).
 */
export const SPECIAL_TOKENS_PER_INPUT = 4;

/**
 * Tokens to reserve for one embeddings call: an upper bound of what any upstream can bill, never
 * the gateway's own o200k count, which another tokenizer may exceed (a BERT WordPiece count of a
 * short text is often twice o200k's). Byte-level BPE and SentencePiece with byte fallback make at
 * most one token per UTF-8 byte, WordPiece at most one per character (≤ bytes), plus the special
 * tokens; a token-id input is its length plus the special tokens. The settlement then replaces the
 * reservation by what the upstream reported, so the bound costs the budget nothing; it only keeps
 * concurrent calls from spending past it (a reservation smaller than the bill would let
 * `in flight × (bill − reservation)` through).
 * @param inputs the request's inputs after the guardrails (what the upstream receives)
 * @param maxInputTokens the catalog entry's per-input limit: no upstream bills an input past it (plus its special tokens) @default - none
 * @returns tokens, summed over the inputs
 */
export function reservationTokens(inputs: EmbeddingInputs, maxInputTokens?: number): number {
  const cap = (maxInputTokens ?? Number.POSITIVE_INFINITY) + SPECIAL_TOKENS_PER_INPUT;
  const sizes = inputs.kind === 'text' ? inputs.texts.map((t) => Buffer.byteLength(t, 'utf8')) : inputs.tokens.map((t) => t.length);
  return sizes.reduce((sum, n) => sum + Math.min(n + SPECIAL_TOKENS_PER_INPUT, cap), 0);
}
