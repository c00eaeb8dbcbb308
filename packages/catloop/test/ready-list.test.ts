// A wake-up moves forward only the sockets the addon reports ready. These
// scenarios would hang (and time out) if a completion were missed: a socket
// that becomes ready while others are handled, a handle reused by a new
// connection, connections closed while their operations are pending.
import { AF_INET, type DemiError, Opcode, type QDesc, type QResult, SOCK_STREAM } from '@demi/core';
import { describe, expect, it } from 'vitest';
import type { Catloop } from '../src/index.js';
import { instancesPerTest, openConnections, TEST_NET } from './support/env.js';

const ADDRESS = `${TEST_NET}5.1`;
const WAIT_MS = 30_000;

let server: Catloop;
let client: Catloop;
instancesPerTest((s, c) => {
  server = s;
  client = c;
});

/** A listener on a fresh port and `n` connections to it: [listener, port, client qds, server qds]. */
async function connectMany(n: number): Promise<[QDesc, number, QDesc[], QDesc[]]> {
  const c = await openConnections(server, client, ADDRESS, n, WAIT_MS);
  return [c.listener, c.port, c.clients, c.accepted];
}

async function connectOne(listener: QDesc, port: number): Promise<[QDesc, QDesc]> {
  const qd = client.socket(AF_INET, SOCK_STREAM);
  const connecting = client.wait(client.connect(qd, { address: ADDRESS, port }), WAIT_MS);
  const a = await server.wait(server.accept(listener), WAIT_MS);
  expect((await connecting).opcode).toBe(Opcode.CONNECT);
  return [qd, a.accepted!.qd];
}

/** Bytes of message `k` on connection `i`: a length and content of their own. */
function message(i: number, k: number): Uint8Array {
  const out = new Uint8Array(1 + ((i * 131 + k * 17) % 1500));
  for (let j = 0; j < out.length; j++) out[j] = (i * 7 + k * 13 + j) & 255;
  return out;
}

/** Pops on `qd` until `length` bytes arrived; their concatenation. */
async function receive(libos: Catloop, qd: QDesc, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const r = await libos.wait(libos.pop(qd), WAIT_MS);
    expect(r.opcode).toBe(Opcode.POP);
    for (const s of r.sga!.segments) {
      expect(s.byteLength).toBeGreaterThan(0); // no end of file before the echo
      out.set(s, got);
      got += s.byteLength;
    }
  }
  return out;
}

/**
 * The server of demi-echo-many: one pop pending per connection, every
 * completion through waitNextN; echoes until stopped, closes at end of file.
 * Resolves with how many bytes it echoed per connection.
 */
function echoServer(accepted: QDesc[], stop: { now: boolean }): Promise<Map<QDesc, number>> {
  const echoed = new Map<QDesc, number>();
  const open = new Set(accepted);
  for (const qd of accepted) server.pop(qd);
  return (async () => {
    while (!stop.now || open.size > 0) {
      let results: QResult[];
      try {
        results = await server.waitNextN(64, 20);
      } catch (err) {
        if ((err as DemiError).code === 'ETIMEDOUT') {
          if (stop.now) break;
          continue;
        }
        throw err;
      }
      for (const r of results) {
        if (r.opcode === Opcode.POP) {
          if (!open.has(r.qd)) continue;
          const bytes = r.sga!.segments.reduce((n, s) => n + s.byteLength, 0);
          if (bytes === 0) {
            open.delete(r.qd);
            server.close(r.qd);
            continue;
          }
          echoed.set(r.qd, (echoed.get(r.qd) ?? 0) + bytes);
          server.push(r.qd, r.sga!);
          server.pop(r.qd);
        } else if (r.opcode === Opcode.FAILED && open.has(r.qd)) {
          open.delete(r.qd);
          server.close(r.qd);
        }
      }
    }
    return echoed;
  })();
}

describe('completions through the ready list', () => {
  it('300 connections echo 20 messages each, concurrently and byte-exact', async () => {
    const n = 300;
    const rounds = 20;
    const [listener, , clients, accepted] = await connectMany(n);
    const stop = { now: false };
    const serving = echoServer(accepted, stop);
    await Promise.all(
      clients.map(async (qd, i) => {
        for (let k = 0; k < rounds; k++) {
          const msg = message(i, k);
          const pushed = client.push(qd, { segments: [msg] });
          expect(await receive(client, qd, msg.length)).toEqual(msg);
          expect((await client.wait(pushed, WAIT_MS)).opcode).toBe(Opcode.PUSH);
        }
        client.close(qd);
      }),
    );
    stop.now = true;
    const echoed = await serving;
    accepted.forEach((qd, i) => {
      let total = 0;
      for (let k = 0; k < rounds; k++) total += message(i, k).length;
      expect(echoed.get(qd)).toBe(total);
    });
    server.close(listener);
  }, 120_000);

  it('a socket made ready while another one is handled is not missed (a relay over 300 connections)', async () => {
    const n = 300;
    const laps = 3;
    const [listener, , clients, accepted] = await connectMany(n);
    const index = new Map(accepted.map((qd, i) => [qd, i]));
    for (const qd of accepted) server.pop(qd);
    // Connection i's message, once the server has it, makes the client push on
    // connection i + 1 before the server's handling of this wake-up ends: the
    // next hop is readiness that arrives while the server is busy with others.
    const hops = n * laps;
    const order: number[] = [];
    client.push(clients[0]!, { segments: [message(0, 0)] });
    while (order.length < hops) {
      for (const r of await server.waitNextN(16, WAIT_MS)) {
        if (r.opcode !== Opcode.POP) continue;
        const i = index.get(r.qd)!;
        const hop = order.length;
        expect(r.sga!.segments[0]).toEqual(message(i, Math.floor(hop / n)));
        order.push(i);
        server.pop(r.qd);
        if (hop + 1 < hops) {
          const next = (i + 1) % n;
          client.push(clients[next]!, { segments: [message(next, Math.floor((hop + 1) / n))] });
        }
      }
    }
    expect(order).toEqual(Array.from({ length: hops }, (_, h) => h % n));
    for (const qd of clients) client.close(qd);
    for (const qd of accepted) server.close(qd);
    server.close(listener);
  }, 120_000);

  it('connections closed mid-flight and new ones on reused handles: the rest complete byte-exact', async () => {
    const n = 200;
    const rounds = 10;
    const [listener, port, clients, accepted] = await connectMany(n);
    const stop = { now: false };
    const serving = echoServer(accepted, stop);
    // Every third connection pushes and closes without reading its echo, at a
    // round of its own; the others echo all their rounds.
    const quitters = new Set(clients.filter((_, i) => i % 3 === 0));
    await Promise.all(
      clients.map(async (qd, i) => {
        for (let k = 0; k < rounds; k++) {
          const msg = message(i, k);
          client.push(qd, { segments: [msg] });
          if (quitters.has(qd) && k === i % rounds) {
            client.close(qd);
            return;
          }
          expect(await receive(client, qd, msg.length)).toEqual(msg);
        }
        client.close(qd);
      }),
    );
    stop.now = true;
    const echoed1 = await serving;
    for (const [i, qd] of accepted.entries()) {
      if (quitters.has(clients[i]!)) continue;
      let total = 0;
      for (let k = 0; k < rounds; k++) total += message(i, k).length;
      expect(echoed1.get(qd)).toBe(total);
    }
    // The server closed every socket at end of file; new connections take
    // their native handles and echo too.
    const fresh: [QDesc, QDesc][] = [];
    for (let i = 0; i < quitters.size; i++) fresh.push(await connectOne(listener, port));
    const stop2 = { now: false };
    const serving2 = echoServer(
      fresh.map(([, a]) => a),
      stop2,
    );
    await Promise.all(
      fresh.map(async ([qd], i) => {
        for (let k = 0; k < rounds; k++) {
          const msg = message(1000 + i, k);
          client.push(qd, { segments: [msg] });
          expect(await receive(client, qd, msg.length)).toEqual(msg);
        }
        client.close(qd);
      }),
    );
    stop2.now = true;
    const echoed = await serving2;
    expect(echoed.size).toBe(fresh.length);
    server.close(listener);
  }, 120_000);

  it('the server closes connections whose clients wait: each pending pop ends with end of file', async () => {
    const n = 200;
    const [listener, , clients, accepted] = await connectMany(n);
    const pops = clients.map((qd) => client.wait(client.pop(qd), WAIT_MS));
    // Half get a message first; the server closes every connection, odd ones first.
    for (let i = 0; i < n; i += 2) server.push(accepted[i]!, { segments: [message(i, 0)] });
    for (let i = 1; i < n; i += 2) server.close(accepted[i]!);
    for (let i = 0; i < n; i += 2) server.close(accepted[i]!);
    const got = await Promise.all(pops);
    got.forEach((r, i) => {
      expect(r.opcode).toBe(Opcode.POP);
      if (i % 2 === 0) expect(r.sga!.segments[0]).toEqual(message(i, 0));
      else expect(r.sga!.segments[0]!.byteLength).toBe(0);
    });
    const eofs = await Promise.all(
      clients.filter((_, i) => i % 2 === 0).map((qd) => client.wait(client.pop(qd), WAIT_MS)),
    );
    for (const r of eofs) expect(r.sga!.segments[0]!.byteLength).toBe(0);
    for (const qd of clients) client.close(qd);
    server.close(listener);
  }, 120_000);
});
