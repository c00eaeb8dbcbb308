import { AF_INET, ERRNO, Opcode, SOCK_STREAM } from '@demi/core';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catloop } from '../src/index.js';
import { Peer } from './support/child.js';
import { freshPort, litter, TEST_NET } from './support/env.js';
import {
  bytesOf,
  drain,
  equalBytes,
  ok,
  pattern,
  popExactly,
  pushAll,
  sgaOf,
} from './support/stream.js';

// The server (or client) side runs in another Node process (test/fixtures/peer.ts).
const ADDRESS = `${TEST_NET}1.1`;
// A bound on "promptly", far above the documented ~200 ms: correctness, not speed.
const RESET_BOUND_MS = 5000;

let libos: Catloop;
let peers: Peer[] = [];

function peer(
  mode: string,
  port: number,
  arg?: string | number,
  options?: { maxFiles?: number },
): Peer {
  const p = new Peer(mode, ADDRESS, port, arg, options);
  peers.push(p);
  return p;
}

async function connect(port: number): Promise<number> {
  const qd = libos.socket(AF_INET, SOCK_STREAM);
  await ok(libos, libos.connect(qd, { address: ADDRESS, port }), Opcode.CONNECT);
  return qd;
}

async function refused(port: number): Promise<void> {
  const qd = libos.socket(AF_INET, SOCK_STREAM);
  const r = await libos.wait(libos.connect(qd, { address: ADDRESS, port }), 20_000);
  expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNREFUSED]);
  libos.close(qd);
}

beforeEach(() => {
  libos = new Catloop();
  peers = [];
});

afterEach(async () => {
  for (const p of peers) p.kill();
  await Promise.all(peers.map((p) => p.exited));
  await libos.shutdown();
});

afterAll(() => {
  expect(litter()).toEqual([]);
});

describe('across two processes (the server side in a child)', () => {
  it('TCP echo, with addresses on both sides', async () => {
    const server = peer('echo', freshPort(), 1);
    const port = await server.ready();
    const qd = await connect(port);
    await ok(libos, libos.push(qd, sgaOf('hello demi')), Opcode.PUSH);
    expect(new TextDecoder().decode(await popExactly(libos, qd, 10))).toBe('hello demi');
    expect(libos.getpeername(qd)).toEqual({ address: ADDRESS, port });
    const local = libos.getsockname(qd);
    expect(local.address).toBe(ADDRESS);
    expect(local.port).toBeGreaterThanOrEqual(49152);
    libos.close(qd);
    expect(await server.result()).toEqual({ echoed: 10, peers: [`${ADDRESS}:${local.port}`] });
    expect(await server.exited).toBe(0);
  });

  it('64 concurrent connections, each echoed', async () => {
    const server = peer('echo', freshPort(), 64);
    const port = await server.ready();
    const locals = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const qd = await connect(port);
        const msg = new Uint8Array(new Uint32Array([i * 7919]).buffer);
        await ok(libos, libos.push(qd, sgaOf(msg)), Opcode.PUSH);
        expect(equalBytes(await popExactly(libos, qd, 4), msg)).toBe(true);
        const local = libos.getsockname(qd);
        libos.close(qd);
        return `${local.address}:${local.port}`;
      }),
    );
    const result = await server.result<{ echoed: number; peers: string[] }>();
    expect(result.echoed).toBe(64 * 4);
    expect(new Set(result.peers)).toEqual(new Set(locals));
    expect(new Set(locals).size).toBe(64);
  });

  it('16 MiB in both directions at once, byte-exact', async () => {
    const size = 16 * 1024 * 1024;
    const server = peer('bulk', freshPort(), size);
    const qd = await connect(await server.ready());
    const [, got] = await Promise.all([
      pushAll(libos, qd, pattern(size, 1)),
      popExactly(libos, qd, size),
    ]);
    expect(equalBytes(got, pattern(size, 2))).toBe(true);
    await ok(libos, libos.asyncClose(qd), Opcode.CLOSE);
    expect(await server.result()).toEqual({ intact: true, extra: 0 });
  });

  it('closing gives the peer its data, then EOF', async () => {
    const server = peer('eof', freshPort());
    const qd = await connect(await server.ready());
    await ok(libos, libos.push(qd, sgaOf('goodbye')), Opcode.PUSH);
    await ok(libos, libos.asyncClose(qd), Opcode.CLOSE);
    expect(await server.result()).toEqual({ before: 'goodbye', eof: 0 });
  });

  it('the peer closing first: its last words, then EOF, then EPIPE on push', async () => {
    const server = peer('last-words', freshPort());
    const qd = await connect(await server.ready());
    expect(new TextDecoder().decode(await popExactly(libos, qd, 10))).toBe('last words');
    const eof = await ok(libos, libos.pop(qd), Opcode.POP);
    expect(bytesOf(eof.sga).byteLength).toBe(0);
    const pushed = await libos.wait(libos.push(qd, sgaOf('too late')), 20_000);
    expect([pushed.opcode, pushed.ret]).toEqual([Opcode.FAILED, ERRNO.EPIPE]);
    libos.close(qd);
    expect(await server.result()).toEqual({});
  });

  it('ECONNREFUSED: nobody listens, the listener closed, the listener was killed', async () => {
    const port = freshPort();
    await refused(port);
    const server = peer('hold', port);
    expect(await server.ready()).toBe(port);
    server.send('done');
    expect(await server.exited).toBe(0);
    await refused(port);

    const victim = peer('hold', freshPort());
    const victimPort = await victim.ready();
    victim.kill('SIGKILL');
    await victim.exited;
    await refused(victimPort);
    // The dead listener's control pipe does not block the address.
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(qd, { address: ADDRESS, port: victimPort });
    libos.listen(qd, 4);
    libos.close(qd);
  });

  it('a listener out of descriptors refuses the connect and fails its accept with EMFILE, then recovers', async () => {
    // The child may open 100 descriptors: Node and tsx take some, each accepted
    // connection one more, so the connects below exhaust them.
    const server = peer('hoard', freshPort(), undefined, { maxFiles: 100 });
    const port = await server.ready();
    const ours: number[] = [];
    let refusedAt = -1;
    for (let i = 0; i < 200 && refusedAt < 0; i++) {
      const qd = libos.socket(AF_INET, SOCK_STREAM);
      // Before, the listener dropped the request it had no descriptor for and this
      // connect waited for a reply that never came.
      const r = await libos.wait(libos.connect(qd, { address: ADDRESS, port }), 20_000);
      if (r.opcode === Opcode.CONNECT) {
        ours.push(qd);
        expect(await server.line('accepted ')).toBe(String(ours.length));
      } else {
        expect(r.ret).toBe(ERRNO.ECONNREFUSED);
        libos.close(qd);
        refusedAt = i;
      }
    }
    expect(refusedAt).toBeGreaterThan(0);
    expect(await server.line('accept-failed ')).toBe(String(ERRNO.EMFILE));
    // Once the listener's process has descriptors again, connects work again.
    server.send('release');
    await server.line('released');
    for (const qd of ours) libos.close(qd);
    const again = await connect(port);
    expect(await server.line('accepted ')).toBe('1');
    libos.close(again);
    server.send('done');
    expect(await server.result()).toEqual({ kept: 1 });
    expect(await server.exited).toBe(0);
  });

  it('a client out of descriptors gets EMFILE from connect, not ECONNREFUSED', async () => {
    const listener = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(listener, { address: ADDRESS, port: 0 });
    libos.listen(listener, 128);
    const port = libos.getsockname(listener).port;
    // 120 connects at once from a process that may open 100 descriptors: some cannot
    // open the listener's control pipe or create their own, and must say why.
    const client = peer('client', port, 120, { maxFiles: 100 });
    const result = client.result<{ results: string[] }>();
    const serving: Promise<unknown>[] = [];
    let finished = false;
    void result.finally(() => {
      finished = true;
    });
    // One accept at a time: a timed-out wait leaves its token pending, to be waited on again.
    let accept = libos.accept(listener);
    while (!finished) {
      const r = await libos.wait(accept, 200).catch((err: { code?: string }) => {
        if (err.code !== 'ETIMEDOUT') throw err;
      });
      if (r === undefined) continue;
      accept = libos.accept(listener);
      if (r.opcode !== Opcode.ACCEPT) continue;
      const qd = r.accepted!.qd;
      serving.push(
        (async () => {
          const data = await popExactly(libos, qd, 4);
          await ok(libos, libos.push(qd, sgaOf(data)), Opcode.PUSH);
          await drain(libos, qd);
          libos.close(qd);
        })(),
      );
    }
    const { results } = await result;
    const failures = results.filter((r) => r !== 'ok');
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures)
      expect(f).toMatch(new RegExp(`^connect \\d+: errno ${ERRNO.EMFILE}$`));
    await Promise.all(serving);
    expect(serving.length).toBe(results.length - failures.length);
    libos.close(listener);
  });

  it('a connect with no descriptor left to open the listener is EMFILE, and works once there are', async () => {
    const listener = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(listener, { address: ADDRESS, port: 0 });
    libos.listen(listener, 4);
    const port = libos.getsockname(listener).port;
    const client = peer('starved', port, undefined, { maxFiles: 100 });
    const accepted = ok(libos, libos.accept(listener), Opcode.ACCEPT);
    expect(await client.result()).toEqual({ starved: ERRNO.EMFILE, fed: true });
    libos.close((await accepted).accepted!.qd);
    libos.close(listener);
  });

  it('a listener that dies with connects queued refuses them', async () => {
    const server = peer('backlog', freshPort(), 4);
    const port = await server.ready();
    const qds = [0, 1].map(() => libos.socket(AF_INET, SOCK_STREAM));
    const pending = qds.map((qd) => libos.connect(qd, { address: ADDRESS, port }));
    server.kill('SIGKILL');
    await server.exited;
    for (const qt of pending) {
      const r = await libos.wait(qt, 20_000);
      expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNREFUSED]);
    }
    for (const qd of qds) libos.close(qd);
    const again = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(again, { address: ADDRESS, port });
    libos.close(again);
  });

  it('two listeners on one address across processes: EADDRINUSE', async () => {
    const server = peer('hold', freshPort());
    const port = await server.ready();
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    expect(() => libos.bind(qd, { address: ADDRESS, port })).toThrow(
      expect.objectContaining({ code: 'EADDRINUSE' }),
    );
    libos.close(qd);
    server.send('done');
    expect(await server.exited).toBe(0);
  });

  it('the backlog is enforced: connects beyond it are refused, the rest wait for accept', async () => {
    const server = peer('backlog', freshPort(), 3);
    const port = await server.ready();
    const qds = [0, 1, 2].map(() => libos.socket(AF_INET, SOCK_STREAM));
    const pending = qds.map((qd) => libos.connect(qd, { address: ADDRESS, port }));
    // Queued, not refused: they stay pending while nobody accepts.
    await expect(libos.waitAny(pending, 100)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await refused(port);
    server.send('accept 3');
    for (const qt of pending) await ok(libos, qt, Opcode.CONNECT);
    for (const [i, qd] of qds.entries()) {
      await ok(libos, libos.push(qd, sgaOf(`n${i}`)), Opcode.PUSH);
      expect(new TextDecoder().decode(await popExactly(libos, qd, 2))).toBe(`n${i}`);
      libos.close(qd);
    }
    await server.line('accepted');
    // The queue drained: there is room again.
    const again = libos.socket(AF_INET, SOCK_STREAM);
    const qt = libos.connect(again, { address: ADDRESS, port });
    server.send('accept 1');
    await ok(libos, qt, Opcode.CONNECT);
    libos.close(again);
    await server.line('accepted');
    server.send('done');
    expect(await server.result()).toEqual({ served: 4 });
  });

  it('a peer that dies gives ECONNRESET promptly; its dead listener leaves nothing in the way', async () => {
    const server = peer('victim', freshPort());
    const port = await server.ready();
    const qd = await connect(port);
    expect(new TextDecoder().decode(await popExactly(libos, qd, 5))).toBe('hello');
    await server.line('accepted');
    const qt = libos.pop(qd);
    server.kill('SIGKILL');
    await server.exited;
    const start = performance.now();
    const r = await libos.wait(qt, 20_000);
    const elapsed = performance.now() - start;
    expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNRESET]);
    expect(elapsed).toBeLessThan(RESET_BOUND_MS);
    const pushed = await libos.wait(libos.push(qd, sgaOf('anyone?')), 20_000);
    expect([pushed.opcode, pushed.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNRESET]);
    libos.close(qd);
    const again = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(again, { address: ADDRESS, port });
    libos.close(again);
  });

  it('a peer that dies is noticed by waitSync too', async () => {
    const server = peer('victim', freshPort());
    const port = await server.ready();
    const qd = await connect(port);
    expect(new TextDecoder().decode(await popExactly(libos, qd, 5))).toBe('hello');
    await server.line('accepted');
    server.kill('SIGKILL');
    await server.exited;
    const r = libos.waitSync(libos.pop(qd), 20_000);
    expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNRESET]);
    libos.close(qd);
    const again = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(again, { address: ADDRESS, port });
    libos.close(again);
  });
});

describe('clients in several processes at once', () => {
  it('three processes connect 20 times each to one listener; every connection is served', async () => {
    const listener = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(listener, { address: ADDRESS, port: 0 });
    libos.listen(listener, 128);
    const port = libos.getsockname(listener).port;
    const clients = [0, 1, 2].map(() => peer('client', port, 20));
    const serving: Promise<number>[] = [];
    for (let i = 0; i < 60; i++) {
      const { qd } = (await ok(libos, libos.accept(listener), Opcode.ACCEPT)).accepted!;
      serving.push(
        (async () => {
          const data = await popExactly(libos, qd, 4);
          await ok(libos, libos.push(qd, sgaOf(data)), Opcode.PUSH);
          const rest = await drain(libos, qd);
          libos.close(qd);
          return rest;
        })(),
      );
    }
    for (const c of clients) {
      const { results } = await c.result<{ results: string[] }>();
      expect(results).toEqual(Array(20).fill('ok'));
    }
    expect(await Promise.all(serving)).toEqual(Array(60).fill(0));
    libos.close(listener);
  });
});
