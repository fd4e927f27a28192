import { removeOrphanedTempDirs } from './temp-dirs.js';

/**
 * vitest's globalSetup (vitest.config.ts), in the main process: before the run and after it, the
 * temp dirs of test processes that were killed (test/support/temp-dirs.ts) are removed, so a
 * worker stopped on a timeout leaves nothing behind.
 */
export default function setup(): () => void {
  removeOrphanedTempDirs();
  return () => {
    removeOrphanedTempDirs();
  };
}
