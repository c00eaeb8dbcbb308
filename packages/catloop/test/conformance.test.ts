import { runConformance } from '@demi/core/conformance';
import { afterAll, expect } from 'vitest';
import type { Catloop } from '../src/index.js';
import { litter, TEST_NET, twoInstances } from './support/env.js';

// Every stream scenario of core's suite: server and client are two Catloop
// instances (each with its own wake-up FIFO) in this process.
runConformance({
  name: 'catloop (two instances)',
  capabilities: new Set(['tcp', 'multiprocess']),
  setup: () => twoInstances(`${TEST_NET}0.1`),
});

// The same scenarios with one instance playing both sides.
runConformance({
  name: 'catloop (one instance)',
  capabilities: new Set(['tcp', 'multiprocess']),
  async setup() {
    const env = await twoInstances(`${TEST_NET}0.2`);
    await env.client.shutdown();
    const libos = env.server as Catloop;
    return { ...env, client: libos, teardown: () => libos.shutdown() };
  },
});

afterAll(() => {
  expect(litter()).toEqual([]);
});
