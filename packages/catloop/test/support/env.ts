import { readdirSync } from 'node:fs';
import type { ConformanceEnv } from '@demi/core/conformance';
import { Catloop, type CatloopOptions } from '../../src/index.js';

/**
 * Addresses these tests use: their own corner of 127/8, so their segments are
 * told apart from anything else on the host using catloop, and the litter check
 * looks only at them.
 */
export const TEST_NET = '127.77.';

let nextPort = 20_000 + (process.pid % 2000) * 10;

/** A port no other scenario of this process used. */
export function freshPort(): number {
  nextPort = nextPort >= 60_000 ? 20_000 : nextPort + 1;
  return nextPort;
}

/** Shared-memory objects catloop made for an address in TEST_NET. */
export function litter(): string[] {
  return readdirSync('/dev/shm').filter((f) => f.startsWith(`demi-catmem.catloop.${TEST_NET}`));
}

/** A conformance environment: a server and a client Catloop (two instances) on `address`. */
export async function twoInstances(
  address: string,
  options: CatloopOptions = {},
): Promise<ConformanceEnv> {
  const server = new Catloop(options);
  const client = new Catloop(options);
  return {
    server,
    client,
    serverAddress: address,
    nextPort: freshPort,
    closedPort: freshPort,
    async teardown() {
      await client.shutdown();
      await server.shutdown();
    },
  };
}
