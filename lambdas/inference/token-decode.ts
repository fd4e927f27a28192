/**
 * Token ids back to text, in OpenAI's `cl100k_base` or `o200k_base` BPE encoding (gpt-tokenizer's
 * ranks, the same tables as tiktoken's): what `/v1/embeddings` decodes a token-id input with, for a
 * model whose encoding the catalog knows (`inputTokenizerOf`, lib/config/schema.ts), so a guarded
 * tenant's guardrails screen the text the model embeds (embeddings/guard.ts).
 *
 * Loading: as token-count.ts loads o200k, nothing of the ranks is on the import path. The first
 * decode in an encoding imports its ranks (`cl100k_base`: 1.1 MB of JavaScript) from a file next to
 * the running module when one is there (`CL100K_RANKS_ASSET`, `O200K_RANKS_ASSET`: the gateway's
 * Lambda bundle ships both, copied from `ranksModulePath`), else from the package (`tessera serve`,
 * tests). o200k's file is the one token-count.ts imports, so the process holds it once. Decoding
 * needs only the ranks array (rank → the token's text or bytes) and the encoding's special tokens:
 * no BPE core is built.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InputTokenizer } from '../../lib/config/schema.js';
import { O200K_RANKS_ASSET } from './token-count.js';

/** The cl100k ranks file a bundle ships next to its entry (copy of `ranksModulePath('cl100k_base')`). */
export const CL100K_RANKS_ASSET = 'cl100k_base.ranks.mjs';

/** The file a bundle ships each encoding's ranks as. */
export const RANKS_ASSETS: Readonly<Record<InputTokenizer, string>> = { cl100k_base: CL100K_RANKS_ASSET, o200k_base: O200K_RANKS_ASSET };

/** gpt-tokenizer's ranks module of an encoding (built, so a bundler does not follow it). */
const ranksSpecifier = (encoding: InputTokenizer) => ['gpt-tokenizer', 'bpeRanks', encoding].join('/');

/** The ESM file of an encoding's ranks in node_modules: what a bundle ships as `RANKS_ASSETS[encoding]`. */
export function ranksModulePath(encoding: InputTokenizer): string {
  return fileURLToPath(import.meta.resolve(ranksSpecifier(encoding)));
}

/** A loaded encoding: rank → text (a valid UTF-8 token) or bytes (others, holes undefined), and the special tokens by id. */
interface Decoder {
  ranks: ReadonlyArray<string | number[] | undefined>;
  special: ReadonlyMap<number, string>;
}

const loading = new Map<InputTokenizer, Promise<Decoder>>();

async function load(encoding: InputTokenizer): Promise<Decoder> {
  const asset = new URL(`./${RANKS_ASSETS[encoding]}`, import.meta.url);
  const ranksFrom = asset.protocol === 'file:' && existsSync(fileURLToPath(asset)) ? asset.href : ranksSpecifier(encoding);
  const [ranks, params] = await Promise.all([
    (import(ranksFrom) as Promise<{ default: Array<string | number[]> }>).catch((e: unknown) => {
      throw new Error(`the ${encoding} ranks are missing: neither ${fileURLToPath(asset)} nor the package ${ranksSpecifier(encoding)} (${(e as Error).message}); ship ${RANKS_ASSETS[encoding]} next to the bundle`);
    }),
    encoding === 'cl100k_base'
      ? import('gpt-tokenizer/encodingParams/cl100k_base').then((m) => m.Cl100KBase)
      : import('gpt-tokenizer/encodingParams/o200k_base').then((m) => m.O200KBase),
  ]);
  const { specialTokensEncoder } = params(ranks.default);
  return { ranks: ranks.default, special: new Map([...specialTokensEncoder].map(([text, id]) => [id, text])) };
}

/**
 * Loads an encoding's ranks once (later calls share the promise; a failed load is tried again).
 * @throws Error naming the missing file when the ranks are neither next to the module nor in the package
 */
function decoderOf(encoding: InputTokenizer): Promise<Decoder> {
  let p = loading.get(encoding);
  if (!p) {
    loading.set(encoding, (p = load(encoding)));
    p.catch(() => loading.delete(encoding));
  }
  return p;
}

/**
 * An encoding's ranks (rank → the token's text, or its bytes when they are not whole UTF-8), loaded once and shared with
 * decodeTokenIds: what embeddings/model-token-count.ts encodes with.
 * @throws Error when the encoding's ranks cannot be loaded
 */
export async function encodingRanks(encoding: InputTokenizer): Promise<ReadonlyArray<string | number[] | undefined>> {
  return (await decoderOf(encoding)).ranks;
}

/** What `decodeTokenIds` answers: the texts, or the first id outside the vocabulary (input `input`, position `position`). */
export type DecodedTokenIds = { ok: true; texts: string[] } | { ok: false; input: number; position: number; id: number };

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Each token-id input as text, as tiktoken's `Encoding.decode` gives it (`errors="replace"`): the
 * tokens' bytes joined, then read as UTF-8, a byte sequence that is not UTF-8 (a character that a
 * caller's chunking cut between two inputs) becoming U+FFFD. A special token (`<|endoftext|>`...)
 * decodes to its text. An id that is neither a rank of the encoding nor one of its special tokens
 * is outside the vocabulary: the answer names the first (input, position, id).
 * @param encoding the encoding the ids are in
 * @param inputs the inputs, each a non-empty array of non-negative integers (the request schema checked it)
 * @throws Error when the encoding's ranks cannot be loaded
 */
export async function decodeTokenIds(encoding: InputTokenizer, inputs: readonly number[][]): Promise<DecodedTokenIds> {
  const { ranks, special } = await decoderOf(encoding);
  const texts: string[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const parts: Uint8Array[] = [];
    let size = 0;
    const ids = inputs[i];
    for (let j = 0; j < ids.length; j++) {
      const id = ids[j];
      const rank = ranks[id];
      const piece = typeof rank === 'string' ? encoder.encode(rank) : Array.isArray(rank) ? Uint8Array.from(rank) : special.has(id) ? encoder.encode(special.get(id)!) : undefined;
      if (!piece) return { ok: false, input: i, position: j, id };
      parts.push(piece);
      size += piece.length;
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    texts.push(utf8.decode(bytes));
  }
  return { ok: true, texts };
}
