/**
 * Token counts for the gateway's budget reservations, in tokens of OpenAI's `o200k_base` BPE
 * encoding (GPT-4o, GPT-4.1, GPT-5 and the o-series), through `gpt-tokenizer` (a pure-JS port of
 * tiktoken). For Bedrock, SageMaker and self-hosted models (Llama, Mistral, Claude...) these are an
 * estimate of their own tokenizers' counts; the usage the provider reports settles the budget
 * after the call, so only an answer without reported usage is billed on these counts.
 *
 * Loading: the encoding's 200k ranks are 2.4 MB of JavaScript and take ~150 ms to load, so none of
 * it is on the module's import path. `await loadTokenizer()` loads them on first use, from a file
 * next to the running module when one is there (`O200K_RANKS_ASSET`: the Lambda bundle ships the
 * ranks as that separate file, copied from `o200kRanksModulePath()`), else from the package (the
 * source tree: `tessera serve`, tests). Until it has loaded, every count is the UTF-8 byte length,
 * an upper bound (a token is at least one byte), never below the real count. The built encoder is
 * kept once per process (`builtCore`), for a host that evaluates this module again (test workers).
 *
 * Speed: counts of texts seen before come from a bounded cache (system prompts, tool schemas,
 * the conversation history a chat sends again each turn): a typical request costs ~15 µs. BPE
 * merging costs ~1 µs a byte of novel CJK text and is quadratic in a pre-tokenized piece's length
 * (100 KB of one letter is one piece). So a piece over `MAX_BPE_PIECE_BYTES`, every piece not seen
 * before once a call has merged `MAX_BPE_BYTES_PER_CALL` bytes of such pieces, and any text past
 * `MAX_SCAN_CHARS_PER_CALL` count as their UTF-8 byte length: sound for a reservation (never below
 * the real count), and a call's CPU stays bounded (measured: ≤ 0.15 s for 1 MB of random CJK,
 * 2.5 ms for 100 KB of English) whatever it is sent. Ordinary text stays exact: its pieces are
 * mostly whole tokens (one map look-up each) or words merged once and remembered. A bounded count
 * is cached too (it stays an upper bound), so a long document sent again costs a look-up; it is marked as a bound, so
 * a count given larger `CountLimits` (truncation's, responses/truncation.ts) counts that text again.
 */
import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartRefusal,
  ChatCompletionContentPartText,
  ChatCompletionCreateParams,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The encoding every count is in. */
export const TOKEN_ENCODING = 'o200k_base';

/**
 * Chat framing, in tokens, per OpenAI's cookbook "How to count tokens with tiktoken"
 * (`num_tokens_from_messages`, gpt-4o and later): 3 per message (`<|start|>{role}<|message|>`...
 * `<|end|>`, the role's own token counted apart), 1 more when a message has a `name`, and 3 for the
 * reply's priming (`<|start|>assistant<|message|>`).
 */
export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const REPLY_PRIMING_TOKENS = 3;

/**
 * Tool definitions, in tokens, after the cookbook's `num_tokens_for_tools` for gpt-4o: 7 at the
 * start of each function, 12 once after them. OpenAI renders tools into the system message in a
 * format of its own; the cookbook counts only the top-level properties, so this module counts the
 * whole serialized JSON definition instead (nested schemas included, JSON's quotes and braces
 * making it an estimate above the rendering): an estimate, not an exact count.
 */
export const TOKENS_PER_TOOL = 7;
export const TOOLS_END_TOKENS = 12;

/**
 * Tool calls an assistant message carries (name + arguments counted as text): the framing of
 * each, an estimate (OpenAI documents none).
 */
export const TOKENS_PER_TOOL_CALL = 3;

/**
 * Images, in tokens, by OpenAI's vision pricing rule for GPT-4o/GPT-4.1/o-series (the
 * "Calculating costs" section of the vision guide): `detail: low` costs 85; `high` (and `auto`,
 * counted as high: it may choose it) scales the image to fit 2048×2048, then its shortest side
 * down to 768 px, and costs 85 + 170 per 512-px tile. (gpt-4o-mini bills images at other rates
 * on the same token budget; the reservation uses this rule for every model.)
 */
export const IMAGE_BASE_TOKENS = 85;
export const IMAGE_TILE_TOKENS = 170;
/**
 * An image whose size cannot be read (an https URL, or bytes that are no PNG/JPEG/GIF/WebP...),
 * at high or auto detail: the rule's maximum, 2×4 tiles (shortest side ≤ 768 after scaling,
 * longest ≤ 2048) = 85 + 8 × 170 = 1445.
 */
export const IMAGE_UNKNOWN_SIZE_TOKENS = IMAGE_BASE_TOKENS + 8 * IMAGE_TILE_TOKENS;

/**
 * Audio input, in tokens per second: OpenAI bills user audio at 1 token per 100 ms (Realtime and
 * audio models' pricing). The duration is an estimate from the size: a WAV's header gives its
 * byte rate; a WAV without a readable header is taken as 16 kHz 16-bit mono
 * (`WAV_FALLBACK_BYTES_PER_SECOND`); MP3 as 32 kbps (`MP3_BYTES_PER_SECOND`, a low speech
 * bitrate, so 64–128 kbps recordings are over-counted 2–4×, the safe side for a reservation).
 */
export const AUDIO_TOKENS_PER_SECOND = 10;
export const WAV_FALLBACK_BYTES_PER_SECOND = 32_000;
export const MP3_BYTES_PER_SECOND = 4_000;

/**
 * File parts (PDFs): OpenAI puts each page's extracted text and an image of the page in the
 * context, and the page count is not in the size. Estimate: one token per 32 bytes of file data
 * (a page's ~1.5k tokens of text and image per ~48 KB), not a bound. A `file_id` (size unknown
 * here) counts `FILE_ID_TOKENS`, a placeholder; the provider's usage settles either.
 */
export const FILE_BYTES_PER_TOKEN = 32;
export const FILE_ID_TOKENS = 2_048;

/** The ranks file a bundle ships next to its entry (copy of `o200kRanksModulePath()`). */
export const O200K_RANKS_ASSET = 'o200k_base.ranks.mjs';

/** Pieces longer than this (UTF-8 bytes) are not BPE-merged but counted as their byte length. */
export const MAX_BPE_PIECE_BYTES = 384;
/**
 * UTF-8 bytes of pieces not seen before that one call (a request, or one `countTextTokens`) merges
 * at most: ~21k novel CJK characters, ~40–70 ms at gpt-tokenizer's ~1 µs a byte on novel CJK.
 */
export const MAX_BPE_BYTES_PER_CALL = 64 * 1024;
/** Characters one call pre-tokenizes at most (~20–40 ms); texts past it count as their bytes. */
export const MAX_SCAN_CHARS_PER_CALL = 1024 * 1024;

/** Counts of texts of at least this many characters are cached (exact, or the sound bound). */
const CACHE_MIN_CHARS = 32;
const CACHE_MAX_ENTRIES = 4_096;
const CACHE_MAX_CHARS = 4 * 1024 * 1024;
/** Merged pieces remembered (by count); a hit costs no BPE and none of the call's budget. */
const PIECE_CACHE_ENTRIES = 20_000;

/** gpt-tokenizer's BytePairEncodingCore, by the two methods this module drives (see `load`). */
interface BpeCore {
  getBpeRankFromString(piece: string): number | undefined;
  bytePairEncode(piece: string): number[];
  countNative(text: string): number;
}

interface Tokenizer {
  core: BpeCore;
  split: RegExp;
  imageSize: (bytes: Uint8Array) => { width?: number; height?: number };
}

/** What `loadTokenizer` loaded, and how long it took (ms). */
export interface TokenizerInfo {
  encoding: typeof TOKEN_ENCODING;
  ranksFrom: string;
  loadMs: number;
}

let tokenizer: Tokenizer | undefined;
let loading: Promise<TokenizerInfo> | undefined;

/**
 * Loads the o200k_base tokenizer (and the image header reader) once; later calls return the same
 * promise. Rejects, naming the missing file, when the ranks are neither next to the module nor in
 * node_modules (a bundle deployed without its asset); counts then stay the byte bound, and the
 * next call tries again.
 */
export function loadTokenizer(): Promise<TokenizerInfo> {
  return (loading ??= load().catch((e: unknown) => {
    loading = undefined;
    throw e;
  }));
}

/** Whether counts are exact yet (else they are the UTF-8 byte bound). */
export function tokenizerLoaded(): boolean {
  return tokenizer !== undefined;
}

/** The ESM file of the o200k ranks in node_modules: what a bundle ships as `O200K_RANKS_ASSET`. */
export function o200kRanksModulePath(): string {
  return fileURLToPath(import.meta.resolve(RANKS_SPECIFIER));
}

// Built at run time so that esbuild leaves it out of the bundle (it bundles literal specifiers).
const RANKS_SPECIFIER = ['gpt-tokenizer', 'bpeRanks', 'o200k_base'].join('/');

/** Where the ranks are read from: the bundle's asset next to this module when it is there, else the package. */
function ranksSource(): { asset: URL; ranksFrom: string } {
  const asset = new URL(`./${O200K_RANKS_ASSET}`, import.meta.url);
  return { asset, ranksFrom: asset.protocol === 'file:' && existsSync(fileURLToPath(asset)) ? asset.href : RANKS_SPECIFIER };
}

/**
 * The o200k_base ranks this module counts with (the bundle's O200K_RANKS_ASSET, else the package's), imported once
 * per process: the vector stores' chunking (vector-stores/chunking.ts) encodes with the same array, so a Lambda holds
 * one copy of the 2.4 MB ranks, not a second bundled one.
 * @throws Error naming both places when neither holds them
 */
export async function o200kRanks(): Promise<Array<string | number[]>> {
  const { asset, ranksFrom } = ranksSource();
  return (await (import(ranksFrom) as Promise<{ default: Array<string | number[]> }>).catch((e: unknown) => {
    throw new Error(`the ${TOKEN_ENCODING} ranks are missing: neither ${fileURLToPath(asset)} nor the package ${RANKS_SPECIFIER} (${(e as Error).message}); ship ${O200K_RANKS_ASSET} next to the bundle`);
  })).default;
}

async function load(): Promise<TokenizerInfo> {
  const started = performance.now();
  const { ranksFrom } = ranksSource();
  const [{ BytePairEncodingCore }, { O200KBase }, { O200K_TOKEN_SPLIT_REGEX }, { imageSize }, ranks] = await Promise.all([
    import('gpt-tokenizer/BytePairEncodingCore'),
    import('gpt-tokenizer/encodingParams/o200k_base'),
    import('gpt-tokenizer/encodingParams/constants'),
    import('image-size'),
    o200kRanks().then((r) => ({ default: r })),
  ]);
  // The count loop below needs the piece lookup and the merge of gpt-tokenizer's core, which its
  // typings mark private; the version is pinned, and the check here and the unit tests' exact counts
  // catch an upgrade that moves them.
  const core = builtCore(BytePairEncodingCore, O200KBase, ranks.default);
  if (typeof core.getBpeRankFromString !== 'function' || typeof core.bytePairEncode !== 'function') {
    throw new Error('gpt-tokenizer changed: BytePairEncodingCore has no getBpeRankFromString/bytePairEncode');
  }
  const loaded: Tokenizer = { core, split: new RegExp(O200K_TOKEN_SPLIT_REGEX.source, 'gu'), imageSize };
  const probe = 'hello world, 你好 🎉 const x = f(42);';
  if (exactCount(loaded, probe, newBudget()) !== core.countNative(probe)) throw new Error('gpt-tokenizer changed: counts differ from its own');
  for (const role of ROLES) if (singleToken(loaded, role)) roleTokens.set(role, 1);
  tokenizer = loaded;
  return { encoding: TOKEN_ENCODING, ranksFrom, loadMs: performance.now() - started };
}

/**
 * The cores built in this process, by the ranks array and the BytePairEncodingCore class they were
 * built from (`Symbol.for`: one table per process, whichever copy of this module asks). A host that
 * evaluates this module again in the same process (vitest's module reset between test files) gets
 * the same ranks array and class from the module cache, and with them the core built the first time:
 * ~0.05-0.15 s of CPU each time otherwise. A core with `mergeCacheSize: 0` is never written after
 * its constructor (its merge cache is off), so sharing it changes no count; other ranks or another
 * copy of the class (a re-evaluated package) are a new key and build their own. Lambda and
 * `tessera serve` evaluate the module once per process or thread: one entry.
 */
const BUILT_CORES = Symbol.for('tessera.token-count.o200k-cores');

type CoreClass = typeof import('gpt-tokenizer/BytePairEncodingCore').BytePairEncodingCore;
type CoreParams = typeof import('gpt-tokenizer/encodingParams/o200k_base').O200KBase;

function builtCore(Core: CoreClass, params: CoreParams, ranks: Parameters<CoreParams>[0]): BpeCore {
  const registry = globalThis as typeof globalThis & { [BUILT_CORES]?: WeakMap<object, WeakMap<CoreClass, BpeCore>> };
  const byRanks = (registry[BUILT_CORES] ??= new WeakMap());
  let byClass = byRanks.get(ranks);
  if (byClass === undefined) byRanks.set(ranks, (byClass = new WeakMap()));
  let core = byClass.get(Core);
  if (core === undefined) byClass.set(Core, (core = new Core({ ...params(ranks), mergeCacheSize: 0 }) as unknown as BpeCore));
  return core;
}

/**
 * What one count may spend: characters pre-tokenized (`scanChars`) and UTF-8 bytes of novel pieces BPE-merged
 * (`bpeBytes`); past either, texts count as their UTF-8 bytes (the upper bound).
 */
export interface CountLimits {
  /** Characters one count pre-tokenizes at most. */
  scanChars: number;
  /** UTF-8 bytes of pieces not seen before that one count merges at most. */
  bpeBytes: number;
}

/** A request's count for its reservation and `max_tokens` checks: `MAX_SCAN_CHARS_PER_CALL`, `MAX_BPE_BYTES_PER_CALL`. */
export const RESERVATION_COUNT_LIMITS: CountLimits = { scanChars: MAX_SCAN_CHARS_PER_CALL, bpeBytes: MAX_BPE_BYTES_PER_CALL };

interface Budget extends CountLimits {
  /**
   * Whether a text whose cached count is a bound (counted by its bytes past a budget) is counted again: for a count
   * given more than `RESERVATION_COUNT_LIMITS` (truncation's), which must not take the smaller count's bound.
   */
  recount: boolean;
}

function newBudget(limits: CountLimits = RESERVATION_COUNT_LIMITS): Budget {
  return {
    scanChars: limits.scanChars, bpeBytes: limits.bpeBytes,
    recount: limits.scanChars > MAX_SCAN_CHARS_PER_CALL || limits.bpeBytes > MAX_BPE_BYTES_PER_CALL,
  };
}

const cache = new Map<string, number>();
let cachedChars = 0;
const pieces = new Map<string, number>();

function remember(text: string, count: number): void {
  cache.set(text, count);
  cachedChars += text.length;
  while (cache.size > CACHE_MAX_ENTRIES || cachedChars > CACHE_MAX_CHARS) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
    cachedChars -= oldest.length;
  }
}

/** The count; negated when a piece was counted by its bytes (an upper bound then). */
function exactCount(t: Tokenizer, text: string, budget: Budget): number {
  let count = 0;
  let exact = true;
  const split = t.split;
  split.lastIndex = 0;
  for (let m = split.exec(text); m !== null; m = split.exec(text)) {
    const piece = m[0];
    if (piece.length === 0) {
      split.lastIndex++;
      continue;
    }
    if (t.core.getBpeRankFromString(piece) !== undefined) {
      count++;
      continue;
    }
    const known = pieces.get(piece);
    if (known !== undefined) {
      pieces.delete(piece); // most recently used last
      pieces.set(piece, known);
      count += known;
      continue;
    }
    const bytes = Buffer.byteLength(piece, 'utf8');
    if (bytes <= MAX_BPE_PIECE_BYTES && bytes <= budget.bpeBytes) {
      budget.bpeBytes -= bytes;
      const merged = t.core.bytePairEncode(piece).length;
      if (pieces.size >= PIECE_CACHE_ENTRIES) pieces.delete(pieces.keys().next().value as string);
      pieces.set(piece, merged);
      count += merged;
    } else {
      count += bytes;
      exact = false;
    }
  }
  return exact ? count : -count;
}

/** A text's count (cached: exact, or negated when it is the byte bound a spent budget gave). */
function countWithin(text: string | null | undefined, budget: Budget): number {
  if (typeof text !== 'string' || text.length === 0) return 0;
  const cached = cache.get(text);
  if (cached !== undefined && (cached >= 0 || !budget.recount)) {
    cache.delete(text); // most recently used last
    cache.set(text, cached);
    return Math.abs(cached);
  }
  const t = tokenizer;
  if (t === undefined || text.length > budget.scanChars) return Buffer.byteLength(text, 'utf8');
  budget.scanChars -= text.length;
  const n = exactCount(t, text, budget);
  if (text.length >= CACHE_MIN_CHARS) {
    if (cached !== undefined) forget(text);
    remember(text, n);
  }
  return Math.abs(n);
}

function forget(text: string): void {
  if (cache.delete(text)) cachedChars -= text.length;
}

/** Forgets the cached counts of texts and pieces (for benchmarks and tests of a cold process). */
export function clearTokenCountCaches(): void {
  cache.clear();
  cachedChars = 0;
  pieces.clear();
  definitions.clear();
  definitionChars = 0;
}

/**
 * Tokens of a text in o200k_base (special tokens such as `<|endoftext|>` counted as the plain
 * text they are in a request). Exact once `loadTokenizer()` has resolved, except for the bounded
 * cases above (then an upper bound); before that, the UTF-8 byte length (an upper bound).
 */
export function countTextTokens(text: string): number {
  return countWithin(text, newBudget());
}

/**
 * Tokens of an answer's text (content, refusal, tool names and arguments joined), for a
 * completion that reported no usage, e.g. a stream cut short. Same count as `countTextTokens`;
 * the provider's stop token is not included.
 */
export function countCompletionTokens(text: string): number {
  return countTextTokens(text);
}

/**
 * Prompt tokens of a chat-completions request: OpenAI's chat framing per message and for the
 * reply, every text (string contents and text parts, refusals, names, tool results, the
 * assistant's tool calls and function calls), images by the vision rule (dimensions read from a
 * data URL's PNG/JPEG/GIF/WebP header; the 1445 bound for a URL), audio and files by their
 * size, and the `tools`/`functions` definitions and a JSON schema `response_format` serialized
 * (estimates, see the constants). Exact for text-only requests without tools once
 * `loadTokenizer()` has resolved (up to the bounds above); never throws on an odd shape.
 */
export function countPromptTokens(body: ChatCompletionCreateParams): number {
  const budget = newBudget();
  let n = REPLY_PRIMING_TOKENS;
  for (const m of body.messages ?? []) n += messageTokens(m, budget);
  return n + definitionsTokens(body, budget);
}

/** The `tools` / `functions` definitions and a JSON schema `response_format`, serialized. */
function definitionsTokens(body: ChatCompletionCreateParams, budget: Budget): number {
  let n = 0;
  const tools = body.tools ?? [];
  for (const tool of tools) n += TOKENS_PER_TOOL + countWithin(definitionJson(tool.type === 'custom' ? tool.custom : tool.function), budget);
  const functions = body.functions ?? [];
  for (const f of functions) n += TOKENS_PER_TOOL + countWithin(definitionJson(f), budget);
  if (tools.length + functions.length > 0) n += TOOLS_END_TOKENS;
  const format = body.response_format;
  if (format?.type === 'json_schema') n += countWithin(safeJson(format.json_schema), budget);
  return n;
}

/** A request's prompt tokens in parts: `messages[i]` the tokens of `body.messages[i]` (its framing included), `rest` the others (the reply's priming, tools, a JSON schema). */
export interface PromptTokenParts {
  messages: number[];
  rest: number;
}

/**
 * `countPromptTokens(body)` in parts, counted within `limits` (their sum is that count when neither budget is spent), the messages counted
 * last first: when `limits` run out, the earliest messages are the ones counted by their bytes, the latest exact
 * (truncation drops from the start, so it needs the latest exact).
 * @param limits what the count may spend before texts count as their bytes @default RESERVATION_COUNT_LIMITS
 */
export function countPromptTokenParts(body: ChatCompletionCreateParams, limits: CountLimits = RESERVATION_COUNT_LIMITS): PromptTokenParts {
  const budget = newBudget(limits);
  const rest = REPLY_PRIMING_TOKENS + definitionsTokens(body, budget);
  const all = body.messages ?? [];
  const messages = new Array<number>(all.length);
  for (let i = all.length - 1; i >= 0; i--) messages[i] = messageTokens(all[i]!, budget);
  return { messages, rest };
}

/** The chat roles' names, counted in every message. */
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];
/** Tokens of the role names that are one o200k token each (filled when the tokenizer has loaded). */
const roleTokens = new Map<string, number>();

/** Whether `text` is one pre-tokenized piece that is itself a token: counted 1 whatever the call's BPE budget. */
function singleToken(t: Tokenizer, text: string): boolean {
  t.split.lastIndex = 0;
  const m = t.split.exec(text);
  return m !== null && m.index === 0 && m[0] === text && t.core.getBpeRankFromString(text) !== undefined;
}

/**
 * `countWithin(role, budget)`, the same count and the same scan budget spent, without the
 * pre-tokenizer pass for a role name known to be one token (every message names one).
 */
function roleCount(role: string, budget: Budget): number {
  const known = typeof role === 'string' && role.length <= budget.scanChars ? roleTokens.get(role) : undefined;
  if (known === undefined) return countWithin(role, budget);
  budget.scanChars -= role.length;
  return known;
}

function messageTokens(m: ChatCompletionMessageParam, budget: Budget): number {
  let n = TOKENS_PER_MESSAGE + roleCount(m.role, budget);
  if ('name' in m && typeof m.name === 'string' && m.name) n += countWithin(m.name, budget) + TOKENS_PER_NAME;
  n += contentTokens(m.content, budget);
  if (m.role === 'assistant') {
    n += countWithin(m.refusal, budget);
    for (const call of m.tool_calls ?? []) {
      const c = call.type === 'custom' ? { name: call.custom?.name, text: call.custom?.input } : { name: call.function?.name, text: call.function?.arguments };
      n += TOKENS_PER_TOOL_CALL + countWithin(c.name, budget) + countWithin(c.text, budget);
    }
    if (m.function_call) n += TOKENS_PER_TOOL_CALL + countWithin(m.function_call.name, budget) + countWithin(m.function_call.arguments, budget);
  }
  return n;
}

type AnyPart = ChatCompletionContentPart | ChatCompletionContentPartRefusal | ChatCompletionContentPartText;

function contentTokens(content: string | AnyPart[] | null | undefined, budget: Budget): number {
  if (typeof content === 'string') return countWithin(content, budget);
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content) {
    switch (part?.type) {
      case 'text': n += countWithin(part.text, budget); break;
      case 'refusal': n += countWithin(part.refusal, budget); break;
      case 'image_url': n += imagePartTokens(part.image_url?.url, part.image_url?.detail); break;
      case 'input_audio': n += audioTokens(part.input_audio?.data, part.input_audio?.format); break;
      case 'file': n += fileTokens(part.file?.file_data, part.file?.file_id) + countWithin(part.file?.filename, budget); break;
      default: break;
    }
  }
  return n;
}

/**
 * Tokens of an image of `width`×`height` px at `detail`, by OpenAI's vision rule (see
 * `IMAGE_BASE_TOKENS`); an unknown size (undefined, 0) at high/auto is the 1445 bound.
 * 1024×1024 high = 765, 2048×4096 high = 1105, any size low = 85. `original` (chat accepts it
 * from openai 7) is counted as `high`: an estimate, settled by the usage the upstream reports.
 */
export function imageTokens(width: number | undefined, height: number | undefined, detail: ImageDetail = 'auto'): number {
  if (detail === 'low') return IMAGE_BASE_TOKENS;
  if (!width || !height || !(width > 0 && height > 0) || !Number.isFinite(width * height)) return IMAGE_UNKNOWN_SIZE_TOKENS;
  let w = width;
  let h = height;
  const fit = 2048 / Math.max(w, h);
  if (fit < 1) [w, h] = [w * fit, h * fit];
  const shortest = 768 / Math.min(w, h);
  if (shortest < 1) [w, h] = [w * shortest, h * shortest];
  const tiles = Math.ceil(w / 512 - 1e-9) * Math.ceil(h / 512 - 1e-9);
  return IMAGE_BASE_TOKENS + IMAGE_TILE_TOKENS * tiles;
}

/** Base64 characters decoded first to find an image's size (JPEG's may follow EXIF/ICC data). */
const IMAGE_HEAD_BASE64_CHARS = 96 * 1024;

/** An image part's `detail` (`ChatCompletionContentPartImage.ImageURL['detail']`). */
type ImageDetail = 'auto' | 'low' | 'high' | 'original';

function imagePartTokens(url: string | undefined, detail: ImageDetail | undefined): number {
  if (detail === 'low') return IMAGE_BASE_TOKENS;
  const data = typeof url === 'string' ? base64Of(url, true) : undefined;
  const read = tokenizer?.imageSize;
  if (data === undefined || read === undefined) return IMAGE_UNKNOWN_SIZE_TOKENS;
  const size = (b64: string) => {
    try {
      return read(Buffer.from(b64, 'base64'));
    } catch {
      return undefined;
    }
  };
  const dims = size(data.slice(0, IMAGE_HEAD_BASE64_CHARS)) ?? (data.length > IMAGE_HEAD_BASE64_CHARS ? size(data) : undefined);
  return imageTokens(dims?.width, dims?.height, detail);
}

/** Audio tokens from a base64 WAV or MP3 (see `AUDIO_TOKENS_PER_SECOND`). */
export function audioTokens(data: string | undefined, format: string | undefined): number {
  const b64 = typeof data === 'string' ? base64Of(data, false) : undefined;
  if (!b64) return 0;
  const bytes = base64Bytes(b64);
  let perSecond = format === 'mp3' ? MP3_BYTES_PER_SECOND : WAV_FALLBACK_BYTES_PER_SECOND;
  if (format !== 'mp3') {
    const head = Buffer.from(b64.slice(0, 64), 'base64');
    // RIFF....WAVEfmt : the byte rate is the little-endian uint32 at offset 28.
    if (head.length >= 32 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 16) === 'WAVEfmt ') {
      const rate = head.readUInt32LE(28);
      if (rate >= 1_000) perSecond = rate;
    }
  }
  return Math.ceil((bytes / perSecond) * AUDIO_TOKENS_PER_SECOND);
}

/** File tokens from its base64 data (see `FILE_BYTES_PER_TOKEN`), or `FILE_ID_TOKENS` for an id. */
export function fileTokens(fileData: string | undefined, fileId: string | undefined): number {
  const b64 = typeof fileData === 'string' ? base64Of(fileData, false) : undefined;
  if (b64) return Math.ceil(base64Bytes(b64) / FILE_BYTES_PER_TOKEN);
  return fileId ? FILE_ID_TOKENS : 0;
}

/** The base64 payload of a `data:...;base64,` URL, or the string itself when bare base64 is allowed. */
function base64Of(value: string, dataUrlOnly: boolean): string | undefined {
  if (value.startsWith('data:')) {
    const comma = value.indexOf(',');
    return comma > 0 && value.slice(0, comma).endsWith(';base64') ? value.slice(comma + 1) : undefined;
  }
  return dataUrlOnly ? undefined : value;
}

function base64Bytes(b64: string): number {
  let pad = 0;
  if (b64.endsWith('==')) pad = 2;
  else if (b64.endsWith('=')) pad = 1;
  return Math.max(0, Math.floor((b64.length * 3) / 4) - pad);
}

/** Tool definitions serialized before, by name: the JSON text, and what it serializes (compiled: known). */
const definitions = new Map<string, { json: string; value: Known }>();
const DEFINITION_ENTRIES = 1_024;
/**
 * Characters of JSON the remembered definitions may hold in all (their compiled copies take a few
 * times that in memory), and the largest one remembered: a real tool is a few KB.
 */
const DEFINITION_MAX_CHARS = 512 * 1024;
const DEFINITION_MAX_ONE = 32 * 1024;
let definitionChars = 0;

/**
 * `safeJson(definition)`, the same string, without serializing a definition seen before: agents send
 * the same tools every turn. A definition is looked up by its `name` and compared, value by value
 * and key by key in order, with the one serialized then (sameJson): equal, they serialize to the
 * same text, which is returned (the very string counted then, so the count cache's look-up hashes
 * nothing new). Anything else is serialized.
 */
function definitionJson(definition: unknown): string {
  const name = definition !== null && typeof definition === 'object' ? (definition as { name?: unknown }).name : undefined;
  if (typeof name !== 'string') return safeJson(definition);
  const known = definitions.get(name);
  if (known !== undefined && sameJson(known.value, definition)) return known.json;
  const json = safeJson(definition);
  if (json.length >= CACHE_MIN_CHARS && json.length <= DEFINITION_MAX_ONE) {
    const replaced = definitions.get(name);
    if (replaced !== undefined) {
      definitions.delete(name);
      definitionChars -= replaced.json.length;
    }
    while (definitions.size >= DEFINITION_ENTRIES || (definitions.size > 0 && definitionChars + json.length > DEFINITION_MAX_CHARS)) {
      const oldest = definitions.keys().next().value as string;
      definitionChars -= definitions.get(oldest)!.json.length;
      definitions.delete(oldest);
    }
    definitions.set(name, { json, value: compile(JSON.parse(json)) });
    definitionChars += json.length;
  }
  return json;
}

/** A JSON object's keys in order (Object.keys: JSON.stringify's order) and their values. */
class KnownObject {
  constructor(readonly keys: string[], readonly values: Known[]) {}
}
/** A value JSON.parse made, its objects as KnownObject (a private copy: no caller's object is kept). */
type Known = string | number | boolean | null | Known[] | KnownObject;

function compile(value: unknown): Known {
  if (Array.isArray(value)) return value.map(compile);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    return new KnownObject(keys, keys.map((k) => compile((value as Record<string, unknown>)[k])));
  }
  return value as Known;
}

/**
 * Whether `b` serializes (JSON.stringify) to the text `known` came from: the same strings, finite
 * numbers (0 and -0 alike), booleans and nulls; arrays of the same length with such items; plain
 * objects (prototype Object.prototype or null) with the same keys in the same order (for...in gives
 * the own keys in JSON.stringify's order; an inherited enumerable key makes them differ). Anything
 * else (functions, undefined, toJSON, class instances, NaN) is "not the same", so it is serialized.
 */
function sameJson(known: Known, b: unknown): boolean {
  if (known instanceof KnownObject) {
    if (typeof b !== 'object' || b === null || Array.isArray(b)) return false;
    const proto = Object.getPrototypeOf(b);
    if (proto !== Object.prototype && proto !== null) return false;
    const { keys, values } = known;
    let i = 0;
    for (const key in b) {
      if (key !== keys[i] || !sameJson(values[i], (b as Record<string, unknown>)[key])) return false;
      i++;
    }
    return i === keys.length;
  }
  if (Array.isArray(known)) {
    if (!Array.isArray(b) || known.length !== b.length) return false;
    for (let i = 0; i < known.length; i++) if (!sameJson(known[i], b[i])) return false;
    return true;
  }
  return known === b && (typeof known !== 'number' || Number.isFinite(known));
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}
