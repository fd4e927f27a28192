import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The order files start in (vitest.config.ts `sequence.sequencer`): longest first, so the run does
 * not end with one long file alone on one worker while the others are idle.
 *
 * vitest's own sequencer does that from its results cache (each file's duration in the last run,
 * `node_modules/.vite/vitest/`), but a fresh clone has no cache, and there it starts the largest
 * files (in bytes) first: the lifecycle, preflight and isolation files, up to 90 s long, are not
 * the largest. So a file without a cached result takes its seconds from
 * test/support/file-durations.json (wall seconds per file of a full run, written by
 * `npm run bench:test -- vitest --durations`). Simulated on the 17:05 full run's 271 files and 3
 * workers: 502 s wall in size order, 443 s longest first (the sum over 3 workers).
 *
 * Everything else is vitest's: projects run one after the other (`isolated`, then `shared`,
 * `shared-reset`: a worker is reused only while the next file is of its project), files that
 * failed last time first, and a file known to neither source before the known ones.
 */
export const DURATIONS_FILE = 'test/support/file-durations.json';

/** Wall seconds per file (`/`-separated, relative to the project root) from {@link DURATIONS_FILE}; none if it is missing. */
export function readDurations(root: string): Record<string, number> {
  const path = join(root, DURATIONS_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>) : {};
}

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx;
    const durations = readDurations(config.root);
    const known = new Map<TestSpecification, { failed: boolean; ms: number } | undefined>();
    for (const spec of files) {
      const cached = cache.getTestSpecificationResult(spec);
      const seconds = durations[relative(config.root, spec.moduleId).split('\\').join('/')];
      known.set(spec, cached ? { failed: cached.failed, ms: cached.duration } : seconds === undefined ? undefined : { failed: false, ms: seconds * 1000 });
    }
    return [...files].sort((a, b) => {
      const groupOrder = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder;
      if (groupOrder !== 0) return groupOrder;
      if (a.project.name !== b.project.name) return a.project.name < b.project.name ? -1 : 1;
      const [ka, kb] = [known.get(a), known.get(b)];
      if (!ka || !kb) return !ka && kb ? -1 : ka && !kb ? 1 : 0;
      if (ka.failed !== kb.failed) return ka.failed ? -1 : 1;
      return kb.ms - ka.ms;
    });
  }
}
