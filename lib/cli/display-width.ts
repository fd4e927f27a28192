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

/** The columns `text` takes in a terminal (string-width). */
export function displayWidth(text: string): number {
  return stringWidth(text);
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
