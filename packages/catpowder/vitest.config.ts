import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Each file builds its own namespaces; two at a time is what 2 cores carry.
    maxWorkers: 2,
  },
});
