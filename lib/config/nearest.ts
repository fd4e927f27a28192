import { distance } from 'fastest-levenshtein';

/**
 * "Did you mean …?": the one nearest-name suggestion of the config, the CLIs and the APIs (an unknown config key or
 * tier, CLI flag, model id or region). In a module of its own, with only the string-distance library (fastest-levenshtein)
 * behind it, so that a Lambda or the CLI that suggests names does not load the config's messages or schema.
 */

/** How {@link nearest} bounds a guess. */
export interface NearestOptions {
  /**
   * The most edits (Levenshtein distance, case-insensitive) a candidate may be from the word.
   * @default max(2, a third of the word's length, rounded down)
   */
  readonly maxEdits?: number;
}

/**
 * The candidate closest to `word` by Levenshtein distance (case-insensitive), if it is close enough to be a likely
 * misspelling: at most `maxEdits` edits ({@link NearestOptions}: by default 2 or a third of the word's length), and fewer
 * edits than the word has letters. A candidate equal to `word` is never named; of candidates at the same distance, the
 * first in `candidates`' order.
 * @returns the candidate, or undefined when none is close enough
 */
export function nearest(word: string, candidates: Iterable<string>, options: NearestOptions = {}): string | undefined {
  return nearestFew(word, candidates, { ...options, limit: 1 })[0];
}

/**
 * The candidates close enough to `word` to be likely misspellings of it, as {@link nearest} bounds them, closest first (of
 * candidates at the same distance, `candidates`' order), at most `limit` of them: for a "did you mean A or B?" that names
 * more than one.
 * @param options.limit the most candidates returned (@default all that are close enough)
 * @returns the candidates, or an empty array when none is close enough
 */
export function nearestFew(word: string, candidates: Iterable<string>, { maxEdits = Math.max(2, Math.floor(word.length / 3)), limit = Infinity }: NearestOptions & { readonly limit?: number } = {}): string[] {
  const lower = word.toLowerCase();
  const close: Array<{ candidate: string; d: number }> = [];
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const d = distance(lower, candidate.toLowerCase());
    if (d <= maxEdits && d < word.length) close.push({ candidate, d });
  }
  // Array.prototype.sort is stable: candidates at the same distance keep their order.
  return close.sort((a, b) => a.d - b.d).slice(0, limit).map((c) => c.candidate);
}
