import { stripVTControlCharacters } from 'node:util';
import stringWidth from 'string-width';

/**
 * Text laid out by what a terminal shows, not by JavaScript's `length` (UTF-16 code units). A CJK character or an emoji
 * takes two columns, a combining mark none, and an emoji of several code points (a flag, a ZWJ family) two: `length`
 * counts them 1, 2, 1 and up to 11, so a table column holding `株式会社アクメ` (a key's name in `keys list`) was seven columns short, and a cut
 * at a count of characters could split a letter from its accent. Widths come from `string-width` (Sindre Sorhus; East
 * Asian Width and emoji, ANSI escapes counted 0), the library the CLI's own dependencies already use, rather than a table
 * of our own; graphemes (what a cut must not split) from the platform's `Intl.Segmenter`.
 */

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** One RGI emoji (Unicode's recommended-for-general-interchange set: its ZWJ sequences, keycaps, flags, tag sequences). */
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
/** A character no terminal draws (a zero-width space or joiner, a word joiner, a BOM, a soft hyphen: Default_Ignorable_Code_Point). */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * The columns `text` takes in a terminal: each grapheme (Intl.Segmenter) that is an RGI emoji two, any other as string-width
 * counts it without the characters no terminal draws. string-width 4.2.3 (the version installed, pinned by the lock) counts
 * an emoji ZWJ sequence whose parts carry U+FE0F or a skin tone as its parts (`❤️‍🔥` 5, `🧑🏻‍🤝‍🧑🏿` 8) and a zero-width space
 * 1; its later major versions count both as this does (a grapheme at a time, RGI_Emoji two, Default_Ignorable none).
 */
export function displayWidth(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  // ANSI escapes take no columns (string-width strips them from the whole; a grapheme at a time would see their parts)
  for (const { segment } of graphemes.segment(stripVTControlCharacters(text))) width += RGI_EMOJI.test(segment) ? 2 : stringWidth(segment.replace(INVISIBLE, ''));
  return width;
}

/** `text` followed by spaces up to `columns` terminal columns (itself when it is as wide or wider): String#padEnd by display width. */
export function padDisplay(text: string, columns: number): string {
  return text + ' '.repeat(Math.max(0, columns - displayWidth(text)));
}

/**
 * `text` cut to at most `columns` terminal columns, `marker` included, on a grapheme boundary (never inside a surrogate
 * pair, between a letter and its combining mark, or inside an emoji sequence).
 * @param marker what ends a cut text @default "..."
 * @returns `text` itself when it fits
 */
export function clipDisplay(text: string, columns: number, marker = '...'): string {
  if (displayWidth(text) <= columns) return text;
  const room = Math.max(0, columns - displayWidth(marker));
  let kept = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = displayWidth(segment);
    if (used + w > room) break;
    kept += segment;
    used += w;
  }
  return kept + marker;
}
