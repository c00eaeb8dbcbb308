import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // DPDK's EAL starts once per process: every test file gets its own process,
    // and files run one at a time (they share two cores and the veth harness).
    pool: 'forks',
    isolate: true,
    fileParallelism: false,
  },
});
