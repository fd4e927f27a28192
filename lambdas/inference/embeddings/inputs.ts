import type { EmbeddingCreateParams } from 'openai/resources/embeddings';

/**
 * The inputs of an embeddings request, one entry per vector the answer carries: texts (a string
 * is one input, an array of strings many) or token-id arrays (an array of numbers is one input,
 * an array of arrays many).
 */
export type EmbeddingInputs = { kind: 'text'; texts: string[] } | { kind: 'tokens'; tokens: number[][] };

/** `input` as a list of inputs (the request schema has checked its shape). */
export function inputsOf(input: EmbeddingCreateParams['input']): EmbeddingInputs {
  if (typeof input === 'string') return { kind: 'text', texts: [input] };
  if (input.every((x) => typeof x === 'string')) return { kind: 'text', texts: input as string[] };
  if (input.every((x) => typeof x === 'number')) return { kind: 'tokens', tokens: [input as number[]] };
  return { kind: 'tokens', tokens: input as number[][] };
}

/** The caller's path of input `i`: `input` for a single input, `input[i]` in an array of them. */
export function inputPath(input: EmbeddingCreateParams['input'], i: number): string {
  return typeof input === 'string' || (Array.isArray(input) && typeof input[0] === 'number') ? 'input' : `input[${i}]`;
}

/** `texts` in the caller's shape: a string stays a string, an array an array. */
export function withTexts(input: EmbeddingCreateParams['input'], texts: string[]): EmbeddingCreateParams['input'] {
  return typeof input === 'string' ? texts[0] : texts;
}
