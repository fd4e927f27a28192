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
