import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synthesizing the whole app takes seconds on a 2-core machine; these are limits, not targets.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Every temp dir a test makes through test/support/temp-dirs.ts is removed after its file.
    setupFiles: ['test/support/remove-temp-dirs.ts'],
  },
});
