import { statSync } from 'node:fs';
import { AF_INET, Opcode, SOCK_STREAM } from '@demi/core';
import { describe, expect, it } from 'vitest';
import type { Catloop } from '../src/index.js';
import { freshPort, instancesPerTest, litter, openConnections, TEST_NET } from './support/env.js';

const ADDRESS = `${TEST_NET}4.1`;
const CONNECTIONS = 1000;

let server: Catloop;
let client: Catloop;
instancesPerTest((s, c) => {
  server = s;
  client = c;
});

/** Bytes of shared memory the test's connections hold (tmpfs counts reserved pages). */
function reservedBytes(): number {
  return litter().reduce((sum, f) => sum + statSync(`/dev/shm/${f}`).blocks * 512, 0);
}

describe('many connections', () => {
  it(`${CONNECTIONS} connections each echo a message and then hold a few pages each`, async () => {
    const { listener, clients, accepted } = await openConnections(
      server,
      client,
      ADDRESS,
      CONNECTIONS,
    );
    // One message each way on every connection.
    for (let i = 0; i < CONNECTIONS; i++) {
      const msg = new Uint8Array(64).fill(i & 255);
      await client.wait(client.push(clients[i]!, { segments: [msg] }), 20_000);
      const got = await server.wait(server.pop(accepted[i]!), 20_000);
      expect(got.sga!.segments[0]).toEqual(msg);
      await server.wait(server.push(accepted[i]!, got.sga!), 20_000);
      const back = await client.wait(client.pop(clients[i]!), 20_000);
      expect(back.sga!.segments[0]).toEqual(msg);
    }
    // The header page and one page of each ring: 12 KiB a connection (plus the listener).
    const perConnection = reservedBytes() / CONNECTIONS;
    expect(perConnection).toBeLessThanOrEqual(3 * 4096 + 64);
    for (const qd of clients) client.close(qd);
    for (const qd of accepted) server.close(qd);
    server.close(listener);
  }, 120_000);

  it('200 connections with pops pending at once: each completes with its own bytes, then EOF', async () => {
    const n = 200;
    const port = freshPort();
    const listener = server.socket(AF_INET, SOCK_STREAM);
    server.bind(listener, { address: ADDRESS, port });
    server.listen(listener, 1024);
    const clients: number[] = [];
    const accepted: number[] = [];
    for (let i = 0; i < n; i++) {
      const qd = client.socket(AF_INET, SOCK_STREAM);
      const connecting = client.wait(client.connect(qd, { address: ADDRESS, port }), 20_000);
      const a = await server.wait(server.accept(listener), 20_000);
      expect((await connecting).opcode).toBe(Opcode.CONNECT);
      clients.push(qd);
      accepted.push(a.accepted!.qd);
    }
    // Every server socket has a pop pending; the clients push in a shuffled order.
    const pops = accepted.map((qd) => server.wait(server.pop(qd), 20_000));
    const order = clients.map((_, i) => i).sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n));
    for (const i of order) {
      const msg = new Uint8Array(100 + i).fill(i & 255);
      await client.wait(client.push(clients[i]!, { segments: [msg] }), 20_000);
    }
    const got = await Promise.all(pops);
    got.forEach((r, i) => {
      expect(r.opcode).toBe(Opcode.POP);
      expect(r.sga!.segments[0]).toEqual(new Uint8Array(100 + i).fill(i & 255));
    });
    // Pending pops again, then every client closes: each sees end of file.
    const eofs = accepted.map((qd) => server.wait(server.pop(qd), 20_000));
    for (const qd of clients) client.close(qd);
    for (const r of await Promise.all(eofs)) {
      expect(r.opcode).toBe(Opcode.POP);
      expect(r.sga!.segments[0]!.byteLength).toBe(0);
    }
    for (const qd of accepted) server.close(qd);
    server.close(listener);
  }, 120_000);
});
