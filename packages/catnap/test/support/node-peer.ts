import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { AF_INET, Opcode, type QDesc, SOCK_STREAM } from '@demi/core';
import { afterEach, beforeEach, expect } from 'vitest';
import { Catnap } from '../../src/index.js';

/** node:net servers on 127.0.0.1 that a test's catnap sockets read from; closeAll after each test. */
export class NodePeers {
  readonly #servers: Server[] = [];

  /** A server that gives each connection (and its index) to `onPeer`; resolves with its port. */
  async serve(onPeer: (peer: Socket, index: number) => void): Promise<number> {
    let count = 0;
    const server = createServer((peer) => {
      peer.on('error', () => {});
      onPeer(peer, count++);
    });
    this.#servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  }

  closeAll(): void {
    for (const s of this.#servers.splice(0)) s.close();
  }
}

/** A catnap TCP socket connected to 127.0.0.1:`port`. */
export async function connectTcp(libos: Catnap, port: number): Promise<QDesc> {
  const qd = libos.socket(AF_INET, SOCK_STREAM);
  const r = await libos.wait(libos.connect(qd, { address: '127.0.0.1', port }));
  expect(r.opcode).toBe(Opcode.CONNECT);
  return qd;
}

/** Whether JS could transfer (detach) `view`'s memory: allocator slabs yes, pool slabs no. */
export function detachable(view: Uint8Array): boolean {
  try {
    const buffer = view.buffer as ArrayBuffer;
    structuredClone(buffer, { transfer: [buffer] });
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh Catnap for each test of the file (handed to `use` before it runs),
 * shut down after it along with every node:net peer the test served. Returns
 * the file's `serve` (a peer server) and `connect` (a socket to it).
 */
export function catnapPerTest(use: (libos: Catnap) => void): {
  serve: NodePeers['serve'];
  connect: (port: number) => Promise<QDesc>;
} {
  let libos: Catnap;
  const peers = new NodePeers();
  beforeEach(() => {
    libos = new Catnap();
    use(libos);
  });
  afterEach(async () => {
    await libos.shutdown();
    peers.closeAll();
  });
  return { serve: peers.serve.bind(peers), connect: (port) => connectTcp(libos, port) };
}
