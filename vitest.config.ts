import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synthesizing the whole app takes seconds on a 2-core machine; these are limits, not targets.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Silent Powertools logs, and every temp dir made through test/support/temp-dirs.ts removed after its file.
    setupFiles: ['test/support/test-setup.ts'],
  },
});
