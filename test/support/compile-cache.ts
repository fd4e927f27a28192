import { readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Node's compile cache (NODE_COMPILE_CACHE, Node ≥ 22.1) of the test suite: vitest's processes (set
 * by test/support/run-tests.ts and vitest.config.ts) and the children tests start
 * (test/support/cli-bundle.ts) reuse the V8 code of a file one of them compiled before. Under
 * node_modules/.cache, not in the temp dir the suite checks for leaks. No imports beyond node:
 * vitest.config.ts loads it.
 */
export const COMPILE_CACHE_DIR = join(fileURLToPath(new URL('../..', import.meta.url)), 'node_modules', '.cache', 'tessera-test-compile-cache');

/** Entries neither read nor written for this long are removed by {@link pruneCompileCache}. */
const KEEP_MS = 3 * 86_400_000;
/** pruneCompileCache looks at the entries at most this often (a scan of ~20,000 entries: ~0.1-0.3 s). */
const PRUNE_EVERY_MS = 86_400_000;
/** The file whose mtime says when the cache was last pruned (a name Node's entries never have). */
const MARKER = '.tessera-pruned';

/**
 * Removes the compile cache's entries not used for 3 days. Node adds an entry per compiled file and
 * never removes one; every rebuilt test CLI bundle is new files (its directory is named by its
 * inputs' hash), so the cache grew to ~780 MB in a day of runs here. "Used": the later of the
 * entry's mtime (written) and atime (read; with Linux's default `relatime` updated at most daily,
 * so 3 days is safe; under `noatime` an entry read but not rewritten for 3 days is compiled again).
 * Entries another process removes meanwhile are skipped. At most once a day (a marker file's mtime).
 * @param dir the cache @default COMPILE_CACHE_DIR
 * @returns how many entries were removed
 */
export function pruneCompileCache(dir = COMPILE_CACHE_DIR, now = Date.now()): number {
  let removed = 0;
  let versions: string[];
  try {
    versions = readdirSync(dir);
  } catch {
    return 0; // no cache yet
  }
  try {
    if (now - statSync(join(dir, MARKER)).mtimeMs < PRUNE_EVERY_MS) return 0;
  } catch { /* never pruned */ }
  writeFileSync(join(dir, MARKER), '');
  utimesSync(join(dir, MARKER), new Date(now), new Date(now));
  for (const version of versions) {
    if (version === MARKER) continue;
    const versionDir = join(dir, version);
    let names: string[];
    try {
      names = readdirSync(versionDir);
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(versionDir, name);
      try {
        const s = statSync(path);
        if (now - Math.max(s.mtimeMs, s.atimeMs) > KEEP_MS) {
          rmSync(path, { recursive: true, force: true });
          removed += 1;
        }
      } catch { /* removed meanwhile */ }
    }
  }
  return removed;
}
