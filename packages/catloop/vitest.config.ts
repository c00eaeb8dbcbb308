import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Cross-process tests spawn node children and share 2 cores: one file at a time.
    fileParallelism: false,
  },
});
