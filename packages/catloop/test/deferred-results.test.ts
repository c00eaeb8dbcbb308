import { createHash } from 'node:crypto';
import { Opcode, type QResult } from '@demi/core';
import { describe, expect, it } from 'vitest';
import type { Catloop } from '../src/index.js';
import { instancesPerTest, openConnections, TEST_NET } from './support/env.js';

// Completed pushes and short pops wait in the token table as a few fields of
// their entry; their result objects (and a short pop's view of the slab it was
// copied into) are made only when a wait takes them. These tests keep many
// such completions waiting at once, across several 64 KiB slabs, and check
// that each result still names its own descriptor and token and carries its
// own bytes.

const ADDRESS = `${TEST_NET}8.1`;
const CONNECTIONS = 300;
const WAIT_MS = 20_000;

let server: Catloop;
let client: Catloop;
instancesPerTest((s, c) => {
  server = s;
  client = c;
});

/** Connection i's message: a size that differs by connection (some copied byte by byte, some by set, some long), bytes derived from i and the round. */
function message(i: number, round: number): Uint8Array {
  const sizes = [1, 64, 255, 256, 257, 1500, 4096, 5000];
  const size = sizes[(i + round) % sizes.length]!;
  const seed = createHash('sha256').update(`${i}/${round}`).digest();
  const out = new Uint8Array(size);
  for (let k = 0; k < size; k++) out[k] = seed[k % seed.length]! ^ (k >> 5);
  return out;
}

function bytesOf(r: QResult): Uint8Array {
  const segments = r.sga!.segments;
  const out = new Uint8Array(segments.reduce((n, s) => n + s.byteLength, 0));
  let at = 0;
  for (const s of segments) {
    out.set(s, at);
    at += s.byteLength;
  }
  return out;
}

/** Every client pushes its message; each push is waited on by name (so none is left unclaimed). */
async function sendAll(clients: number[], round: number): Promise<void> {
  for (let i = 0; i < clients.length; i++) {
    const r = await client.wait(
      client.push(clients[i]!, { segments: [message(i, round)] }),
      WAIT_MS,
    );
    expect(r).toMatchObject({ opcode: Opcode.PUSH, qd: clients[i], ret: 0 });
  }
}

describe('results made when a wait takes them', () => {
  it(`${CONNECTIONS} connections' pops and pushes, all completed before any is taken, come out with their own qd, qt and bytes`, async () => {
    const { listener, clients, accepted } = await openConnections(
      server,
      client,
      ADDRESS,
      CONNECTIONS,
      WAIT_MS,
    );
    const connectionOf = new Map(accepted.map((qd, i) => [qd, i]));
    // Never completes: a wait on it polls the server without taking any other result.
    const blocker = server.accept(listener);
    for (let round = 0; round < 3; round++) {
      // A pop pending on every connection, none waited on by name.
      const pops = new Map(accepted.map((qd) => [server.pop(qd), qd]));
      await sendAll(clients, round);
      // Every pop completes and waits, unclaimed, while the server polls.
      expect(() => server.waitSync(blocker, 100)).toThrow(
        expect.objectContaining({ code: 'ETIMEDOUT' }),
      );
      // Every tenth pop by name, the rest through waitNextN in completion order.
      const byName = [...pops.keys()].filter((_, k) => k % 10 === 0);
      const results: QResult[] = [];
      for (const qt of byName) results.push(server.waitSync(qt, WAIT_MS));
      while (results.length < pops.size) {
        for (const r of await server.waitNextN(1000, WAIT_MS)) results.push(r);
      }
      expect(results).toHaveLength(pops.size);
      expect(new Set(results.map((r) => r.qt)).size).toBe(pops.size);
      const echoes = new Map<number, number>();
      for (const r of results) {
        expect(r.opcode).toBe(Opcode.POP);
        expect(r.ret).toBe(0);
        expect(pops.get(r.qt)).toBe(r.qd);
        const i = connectionOf.get(r.qd)!;
        expect(Buffer.from(bytesOf(r)).equals(Buffer.from(message(i, round)))).toBe(true);
        // Echo it back; the push's completion waits unclaimed too.
        echoes.set(server.push(r.qd, r.sga!), r.qd);
      }
      const pushed: QResult[] = [];
      while (pushed.length < echoes.size) {
        for (const r of await server.waitNextN(64, WAIT_MS)) pushed.push(r);
      }
      for (const r of pushed) {
        expect(r).toEqual({ opcode: Opcode.PUSH, qd: echoes.get(r.qt), qt: r.qt, ret: 0 });
      }
      for (let i = 0; i < clients.length; i++) {
        const back = await client.wait(client.pop(clients[i]!), WAIT_MS);
        expect(Buffer.from(bytesOf(back)).equals(Buffer.from(message(i, round)))).toBe(true);
      }
    }
    for (const qd of clients) client.close(qd);
    for (const qd of accepted) server.close(qd);
    server.close(listener);
    expect(await server.wait(blocker, WAIT_MS)).toMatchObject({ opcode: Opcode.FAILED });
  }, 120_000);
});
