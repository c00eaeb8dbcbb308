import { readdirSync } from 'node:fs';
import { AF_INET, Opcode, type QDesc, SOCK_STREAM } from '@demi/core';
import type { ConformanceEnv } from '@demi/core/conformance';
import { afterEach, beforeEach, expect } from 'vitest';
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

/**
 * A fresh server and client Catloop for each test of the file (handed to `use`
 * before it runs), shut down after it; with `checkLitter` (the default), the
 * test must also leave no segment of TEST_NET behind.
 */
export function instancesPerTest(
  use: (server: Catloop, client: Catloop) => void,
  { checkLitter = true } = {},
): void {
  let server: Catloop;
  let client: Catloop;
  beforeEach(() => {
    server = new Catloop();
    client = new Catloop();
    use(server, client);
  });
  afterEach(async () => {
    await client.shutdown();
    await server.shutdown();
    if (checkLitter) expect(litter()).toEqual([]);
  });
}

/** A listener and the connections made to it (client side and accepted side, in order). */
export interface Connections {
  listener: QDesc;
  port: number;
  clients: QDesc[];
  accepted: QDesc[];
}

/** A listener of `server` on a fresh port of `address`, and `n` connections to it from `client`. */
export async function openConnections(
  server: Catloop,
  client: Catloop,
  address: string,
  n: number,
  waitMs = 20_000,
): Promise<Connections> {
  const port = freshPort();
  const listener = server.socket(AF_INET, SOCK_STREAM);
  server.bind(listener, { address, port });
  server.listen(listener, 1024);
  const clients: QDesc[] = [];
  const accepted: QDesc[] = [];
  for (let i = 0; i < n; i++) {
    const qd = client.socket(AF_INET, SOCK_STREAM);
    const connecting = client.wait(client.connect(qd, { address, port }), waitMs);
    const a = await server.wait(server.accept(listener), waitMs);
    expect(a.opcode).toBe(Opcode.ACCEPT);
    expect((await connecting).opcode).toBe(Opcode.CONNECT);
    clients.push(qd);
    accepted.push(a.accepted!.qd);
  }
  return { listener, port, clients, accepted };
}
