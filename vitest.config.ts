import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synthesizing the whole app takes seconds on a 2-core machine; these are limits, not targets.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
