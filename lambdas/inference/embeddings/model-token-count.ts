import { inputTokenizerOf, type InputTokenizer, type ModelEntry } from '../../../lib/config/schema.js';
import { providerOf } from '../policy.js';
import { encodingRanks } from '../token-decode.js';

/**
 * An embedding input's length in its model's own tokens, where the gateway's o200k count (token-count.ts) says it is
 * over the model's `maxInputTokens`. OpenAI's embedding models count in `cl100k_base` (tiktoken's `encoding_for_model`
 * for text-embedding-3-small, -3-large and -ada-002: `inputTokenizerOf`), and o200k writes some texts in more tokens
 * than cl100k (measured on this repository: docs/gateway.md +0.05%, hex +0.4%), so a text chunked at 8,191 cl100k
 * tokens, which OpenAI embeds, was refused as over 8,192 by the o200k count. Only such inputs are counted again, and
 * only up to the limit (gpt-tokenizer's `isWithinTokenLimit` stops past it), so the cost is bounded by the limit.
 */

/** Runs of this many characters are encoded in parts (BPE merges of one piece grow with its length squared: chunking.ts MAX_PIECE_CHARS). */
const MAX_PIECE_CHARS = 500;
const LONG_RUN = new RegExp(`\\S{${MAX_PIECE_CHARS + 1},}|\\s{${MAX_PIECE_CHARS + 1},}`, 'g');

type Limiter = { isWithinTokenLimit(text: string, limit: number, options?: object): false | number };
const limiters = new Map<InputTokenizer, Promise<Limiter>>();
const limiterOf = (encoding: InputTokenizer) => {
  let l = limiters.get(encoding);
  if (!l) {
    l = Promise.all([import('gpt-tokenizer/GptEncoding'), encodingRanks(encoding)])
      .then(([{ GptEncoding }, ranks]) => GptEncoding.getEncodingApi(encoding, () => ranks as never) as Limiter);
    limiters.set(encoding, l);
    l.catch(() => limiters.delete(encoding));
  }
  return l;
};

/**
 * The encoding a model counts its text inputs in, when the gateway knows it to be another than o200k: `cl100k_base`
 * for an `openai` or `openai-compatible` entry whose input tokenizer is it (OpenAI's embedding models, an entry's
 * `tokenizer`). Undefined for others: Bedrock, Hugging Face and SageMaker models count in their own tokenizers (their
 * `tokenizer` is the vocabulary of callers' ids, not theirs), and an o200k model is counted exactly already.
 */
export function modelTextEncoding(model: ModelEntry): InputTokenizer | undefined {
  const provider = providerOf(model);
  if (provider !== 'openai' && provider !== 'openai-compatible') return undefined;
  const encoding = inputTokenizerOf(model);
  return encoding === 'cl100k_base' ? encoding : undefined;
}

/**
 * Whether `text` is at most `limit` tokens of `encoding` (special-token text as plain text, as tiktoken's
 * `encode(..., disallowed_special=())`). Runs longer than MAX_PIECE_CHARS are counted in parts, which may count a
 * token more at a cut, never fewer in practice: a text so counted within the limit is within it.
 * @throws Error when the encoding's ranks cannot be loaded
 */
export async function withinTokenLimit(encoding: InputTokenizer, text: string, limit: number): Promise<boolean> {
  return (await tokensWithinLimit(encoding, text, limit)) !== false;
}

/**
 * `text`'s length in tokens of `encoding` when it is at most `limit` (counted as `withinTokenLimit` counts), false
 * past it: the count stops there, so the cost is bounded by the limit.
 * @throws Error when the encoding's ranks cannot be loaded
 */
export async function tokensWithinLimit(encoding: InputTokenizer, text: string, limit: number): Promise<number | false> {
  const { isWithinTokenLimit } = await limiterOf(encoding);
  const options = { allowedSpecial: new Set(), disallowedSpecial: new Set() };
  let left = limit;
  const take = (part: string) => {
    if (!part) return true;
    const n = isWithinTokenLimit(part, left, options);
    if (n === false) return false;
    left -= n;
    return true;
  };
  let from = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    if (!take(text.slice(from, run.index))) return false;
    const end = run.index + run[0].length;
    for (let at = run.index; at < end;) {
      let cut = Math.min(at + MAX_PIECE_CHARS, end);
      if (cut < end && /[\uD800-\uDBFF]/.test(text[cut - 1]!)) cut--;
      if (!take(text.slice(at, cut))) return false;
      at = cut;
    }
    from = end;
  }
  return take(text.slice(from)) && limit - left;
}
