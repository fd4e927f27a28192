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
export function nearest(word: string, candidates: Iterable<string>, { maxEdits = Math.max(2, Math.floor(word.length / 3)) }: NearestOptions = {}): string | undefined {
  const lower = word.toLowerCase();
  let best: { candidate: string; d: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const d = distance(lower, candidate.toLowerCase());
    if (!best || d < best.d) best = { candidate, d };
  }
  if (!best) return undefined;
  return best.d <= maxEdits && best.d < word.length ? best.candidate : undefined;
}
