import { shownKey } from '../../../lib/zod-issues.js';
import { invalid, unknownParameter } from '../openai-errors.js';
import { refuseIntegerOutOfRange } from '../openai-issues.js';
import { o200kRanks } from '../token-count.js';
import type { StaticChunking } from './records.js';

/**
 * OpenAI's static chunking of vector store files (Vector Stores API reference, `chunking_strategy`): the file's text
 * in windows of `max_chunk_size_tokens` tokens, each starting `max_chunk_size_tokens - chunk_overlap_tokens` tokens
 * after the previous one, counted in o200k_base (the tokenizer of token-count.ts, through the same gpt-tokenizer port).
 */

/** `auto` (and no strategy): OpenAI's defaults, max_chunk_size_tokens 800 and chunk_overlap_tokens 400. */
export const DEFAULT_CHUNKING: StaticChunking = { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 };
/** OpenAI's bounds of `max_chunk_size_tokens` (StaticFileChunkingStrategy: "minimum value is 100 and the maximum value is 4096"). */
export const MIN_CHUNK_TOKENS = 100;
export const MAX_CHUNK_TOKENS = 4096;

/**
 * A request's `chunking_strategy` (FileChunkingStrategyParam): absent or `{type: "auto"}` is DEFAULT_CHUNKING;
 * `{type: "static", static: {max_chunk_size_tokens 100-4096, chunk_overlap_tokens ≥ 0 and ≤ half of it}}`.
 * @param field the request's field, as the 400 names it (`chunking_strategy`, `files[2].chunking_strategy`)
 * @param fallback what absent means @default DEFAULT_CHUNKING
 * @throws GatewayError 400 naming the field and the value
 */
export function parseChunking(value: unknown, field = 'chunking_strategy', fallback: StaticChunking = DEFAULT_CHUNKING): StaticChunking {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${field} must be an object {type: "auto"} or {type: "static", static: {...}}`, field, 'invalid_type');
  const v = value as Record<string, unknown>;
  if (v.type === 'auto') {
    const extra = Object.keys(v).find((k) => k !== 'type');
    if (extra) throw unknownParameter(`${field}.${shownKey(extra)}`, 'The auto strategy takes type only');
    return DEFAULT_CHUNKING;
  }
  const extra = Object.keys(v).find((k) => k !== 'type' && k !== 'static');
  if (v.type === 'static' && extra) throw unknownParameter(`${field}.${shownKey(extra)}`, 'The static strategy takes type, static');
  if (v.type !== 'static') throw invalid(`${field}.type ${JSON.stringify(v.type)?.slice(0, 100)} must be "auto" or "static"`, `${field}.type`, 'invalid_value');
  const s = v.static as Record<string, unknown> | undefined;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw invalid(`${field}.static is required for the static strategy: {max_chunk_size_tokens, chunk_overlap_tokens}`, `${field}.static`, 'missing_required_parameter');
  const unknown = Object.keys(s).find((k) => k !== 'max_chunk_size_tokens' && k !== 'chunk_overlap_tokens');
  if (unknown) throw unknownParameter(`${field}.static.${shownKey(unknown)}`, 'Static chunking takes max_chunk_size_tokens, chunk_overlap_tokens');
  const max = s.max_chunk_size_tokens;
  const overlap = s.chunk_overlap_tokens;
  refuseIntegerOutOfRange(`${field}.static.max_chunk_size_tokens`, max, { min: MIN_CHUNK_TOKENS, max: MAX_CHUNK_TOKENS });
  if (typeof max !== 'number' || !Number.isInteger(max) || max < MIN_CHUNK_TOKENS || max > MAX_CHUNK_TOKENS) {
    throw invalid(`${field}.static.max_chunk_size_tokens ${JSON.stringify(max)?.slice(0, 50)} must be an integer from ${MIN_CHUNK_TOKENS} to ${MAX_CHUNK_TOKENS}`, `${field}.static.max_chunk_size_tokens`, 'invalid_value');
  }
  if (typeof overlap !== 'number' || !Number.isInteger(overlap) || overlap < 0) {
    throw invalid(`${field}.static.chunk_overlap_tokens ${JSON.stringify(overlap)?.slice(0, 50)} must be a non-negative integer`, `${field}.static.chunk_overlap_tokens`, 'invalid_value');
  }
  if (overlap > max / 2) {
    throw invalid(`${field}.static.chunk_overlap_tokens ${overlap} must not exceed half of max_chunk_size_tokens (${max})`, `${field}.static.chunk_overlap_tokens`, 'invalid_value');
  }
  return { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap };
}

type Encoder = { encode(text: string, options?: object): number[]; decode(tokens: number[]): string };
/** The encoder and its ranks (index: token; value: its text, or its bytes when they are not whole UTF-8). */
type O200k = Encoder & { ranks: ReadonlyArray<string | readonly number[]> };
let encoder: Promise<O200k> | undefined;
/**
 * o200k_base's encoder, built on first use from the ranks token-count.ts counts with (o200kRanks: the bundle's asset,
 * imported once per process), so that a Lambda holds one copy of them, not a second one bundled with the encoder.
 */
const o200k = () => (encoder ??= Promise.all([import('gpt-tokenizer/GptEncoding'), o200kRanks()])
  .then(([{ GptEncoding }, ranks]) => {
    const api = GptEncoding.getEncodingApi('o200k_base', () => ranks as never) as Encoder;
    return { encode: api.encode, decode: api.decode, ranks };
  })
  .catch((e: unknown) => {
    encoder = undefined;
    throw e;
  }));

/** One chunk: its text and its tokens. */
export interface Chunk {
  text: string;
  tokens: number;
}

/**
 * Cuts `text` into chunks of at most `max_chunk_size_tokens` o200k tokens, each sharing about its first
 * `chunk_overlap_tokens` tokens with the previous chunk's last. Special-token text (`<|endoftext|>`) is plain text.
 * A chunk never starts or ends inside a character: a character o200k writes as several tokens of partial UTF-8 (many
 * CJK characters, emoji, a skin-tone modifier) would otherwise be cut, and each half decode to U+FFFD in the chunk's
 * text, which is embedded, answered by a search and quoted to the model by `file_search`. Such a cut is moved back to
 * the character's first token (at most 3 tokens: a character is at most 4 bytes), so a chunk may hold up to 3 tokens
 * fewer than `max_chunk_size_tokens`, and a chunk's start moved back so may overlap the previous one by up to 3 more.
 * @returns no chunk for a text of only whitespace
 */
export async function chunkText(text: string, chunking: StaticChunking): Promise<Chunk[]> {
  if (!text.trim()) return [];
  const { encode, decode, ranks } = await o200k();
  const tokens = encodeBounded(encode, text);
  const { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap } = chunking;
  // A cut before token i splits a character when token i's bytes begin with a UTF-8 continuation byte (10xxxxxx);
  // a token of whole UTF-8 (a string in the ranks) never does.
  const splitsCharacter = (i: number) => {
    const r = ranks[tokens[i]!];
    return typeof r !== 'string' && r !== undefined && r.length > 0 && (r[0]! & 0xc0) === 0x80;
  };
  // The nearest cut at or before `at` (and after `floor`) that splits no character; `at` itself when there is none.
  const wholeCut = (at: number, floor: number) => {
    for (let i = at; i > floor && at - i <= 3; i--) if (!splitsCharacter(i)) return i;
    return at;
  };
  const chunks: Chunk[] = [];
  for (let start = 0; ;) {
    const end = start + max >= tokens.length ? tokens.length : wholeCut(start + max, start);
    const window = tokens.slice(start, end);
    chunks.push({ text: decode(window), tokens: window.length });
    if (end >= tokens.length) break;
    start = wholeCut(Math.max(end - overlap, start + 1), start);
  }
  return chunks;
}

/**
 * Runs of this many characters (of non-whitespace, or of whitespace) are the longest encoded whole: o200k's
 * pre-tokenizer makes such a run one piece, and the BPE merges of one piece grow with its length squared (a 400,000
 * character word took 3 minutes of the serve process's only thread; the 4 MB one-line file the Files API takes, hours).
 * Longer runs are encoded in parts of this length, which changes their tokens only at the cuts.
 */
export const MAX_PIECE_CHARS = 500;
const LONG_RUN = new RegExp(`\\S{${MAX_PIECE_CHARS + 1},}|\\s{${MAX_PIECE_CHARS + 1},}`, 'g');

/** `text`'s o200k tokens, special-token text as plain text, each run longer than MAX_PIECE_CHARS encoded in parts. */
function encodeBounded(encode: Encoder['encode'], text: string): number[] {
  const options = { allowedSpecial: new Set(), disallowedSpecial: new Set() };
  const tokens: number[] = [];
  const add = (part: string) => { if (part) for (const t of encode(part, options)) tokens.push(t); };
  let from = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    add(text.slice(from, run.index));
    const end = run.index + run[0].length;
    for (let at = run.index; at < end;) {
      let cut = Math.min(at + MAX_PIECE_CHARS, end);
      // Never between the two halves of a surrogate pair.
      if (cut < end && /[\uD800-\uDBFF]/.test(text[cut - 1]!)) cut--;
      add(text.slice(at, cut));
      at = cut;
    }
    from = end;
  }
  add(text.slice(from));
  return tokens;
}
