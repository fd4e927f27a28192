import type { InputTokenizer } from '../../../lib/config/schema.js';
import { invalid } from '../openai-errors.js';
import type { EmbeddingInputs } from './inputs.js';
import { tokensWithinLimit } from './model-token-count.js';

/**
 * OpenAI's limit on one embeddings request: "all embedding models enforce a maximum of 300,000 tokens summed across all
 * inputs in a single request" (`EmbeddingCreateParams.input` of the `openai` package, 7.x, and of the Python package;
 * OpenAI's answer past it: 400 `max_tokens_per_request`, "Requested 453357 tokens, max 300000 tokens per request",
 * quoted in OpenDataBox/CrackSQL#27 and assafelovic/gpt-researcher#1524).
 */
export const MAX_EMBEDDING_TOKENS_PER_REQUEST = 300_000;

/**
 * Refuses an embeddings request whose inputs sum to more than MAX_EMBEDDING_TOKENS_PER_REQUEST tokens, for every
 * provider, before any upstream call (and before the reservation). `counts` are the gateway's per-input counts (o200k
 * for text, the length of a token-id input; at most the model's limit where it truncates). A text request the o200k
 * count puts over is counted again in the model's own encoding where the gateway knows it (`encoding`: cl100k_base for
 * OpenAI's models, model-token-count.ts), which may count it within, so that no request OpenAI takes is refused; that
 * count stops at the limit.
 * @param encoding the model's text encoding when it is not o200k (model-token-count.ts modelTextEncoding) @default - none: the o200k count decides
 * @throws GatewayError 400 `max_tokens_per_request` naming `input`, with the count and what to do
 */
export async function checkRequestTokens(inputs: EmbeddingInputs, counts: readonly number[], encoding?: InputTokenizer): Promise<void> {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= MAX_EMBEDDING_TOKENS_PER_REQUEST) return;
  if (encoding && inputs.kind === 'text' && await withinInEncoding(encoding, inputs.texts)) return;
  const counted = encoding && inputs.kind === 'text' ? `over ${MAX_EMBEDDING_TOKENS_PER_REQUEST} tokens of ${encoding} (${total} of o200k)` : `${total} tokens`;
  throw invalid(
    `Requested ${counted} over the request's ${counts.length} input${counts.length === 1 ? '' : 's'}, max ${MAX_EMBEDDING_TOKENS_PER_REQUEST} tokens per request (OpenAI's limit for every embedding model, summed across all inputs): ` +
    'split the inputs over several requests (LangChain\'s OpenAIEmbeddings: a smaller chunk_size, the number of texts a request sends)',
    'input', 'max_tokens_per_request',
  );
}

/** Whether `texts` sum to at most the limit in `encoding`, counting each only up to what is left. */
async function withinInEncoding(encoding: InputTokenizer, texts: readonly string[]): Promise<boolean> {
  let left = MAX_EMBEDDING_TOKENS_PER_REQUEST;
  for (const text of texts) {
    const n = await tokensWithinLimit(encoding, text, left);
    if (n === false) return false;
    left -= n;
  }
  return true;
}
