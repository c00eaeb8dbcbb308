import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AF_INET, ERRNO, IPPROTO_UDP, init, Opcode, SOCK_DGRAM, SOCK_STREAM } from '@demi/core';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { Catloop, createLibOS } from '../src/index.js';
import { freshPort, instancesPerTest, litter, TEST_NET } from './support/env.js';
import { bytesOf, ok, pattern, popExactly, sgaOf } from './support/stream.js';

const ADDRESS = `${TEST_NET}2.1`;

let server: Catloop;
let client: Catloop;
// Segments are checked once, after the whole file (afterAll below).
instancesPerTest(
  (s, c) => {
    server = s;
    client = c;
  },
  { checkLitter: false },
);

afterAll(() => {
  expect(litter()).toEqual([]);
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

function listening(libos: Catloop, port: number, backlog = 16, address = ADDRESS): number {
  const qd = libos.socket(AF_INET, SOCK_STREAM);
  libos.bind(qd, { address, port });
  libos.listen(qd, backlog);
  return qd;
}

async function connectResult(
  port: number,
  address = ADDRESS,
): Promise<{ qd: number; opcode: number; ret: number }> {
  const qd = client.socket(AF_INET, SOCK_STREAM);
  const r = await client.wait(client.connect(qd, { address, port }), 20_000);
  return { qd, opcode: r.opcode, ret: r.ret };
}

describe('what catloop is', () => {
  it('has TCP and multiprocess, no UDP: datagram sockets are ENOTSUP', () => {
    expect(server.name).toBe('catloop');
    expect([...server.capabilities].sort()).toEqual(['multiprocess', 'tcp']);
    expect(code(() => server.socket(AF_INET, SOCK_DGRAM))).toBe('ENOTSUP');
    expect(code(() => server.socket(AF_INET, SOCK_STREAM, IPPROTO_UDP))).toBe('EPROTONOSUPPORT');
    expect(code(() => server.createPipe('x'))).toBe('ENOTSUP');
    expect(code(() => server.setsockopt(server.socket(AF_INET, SOCK_STREAM), 6, 1, true))).toBe(
      'ENOTSUP',
    );
  });

  it('is loaded by init() and reads the catloop section of the configuration', async () => {
    const libos = (await init({
      libos: 'catloop',
      config: { catloop: { ring_size: 8192, first_ephemeral_port: 61000 } },
    })) as Catloop;
    try {
      expect(libos.name).toBe('catloop');
      expect(libos.ringSize).toBe(8192);
      expect(libos.firstEphemeralPort).toBe(61000);
      const port = freshPort();
      const l = listening(server, port);
      const qd = libos.socket(AF_INET, SOCK_STREAM);
      const connecting = libos.connect(qd, { address: ADDRESS, port });
      const accepted = await ok(server, server.accept(l), Opcode.ACCEPT);
      await ok(libos, connecting, Opcode.CONNECT);
      expect(libos.getsockname(qd).port).toBeGreaterThanOrEqual(61000);
      expect(accepted.accepted!.addr).toEqual(libos.getsockname(qd));
      // The connecting side's ring size decides: a push larger than half its ring arrives in pieces.
      const pushed = libos.push(qd, sgaOf(pattern(10_000, 3)));
      const first = bytesOf((await ok(server, server.pop(accepted.accepted!.qd), Opcode.POP)).sga);
      expect(first.byteLength).toBe(4096 - 8);
      const [rest] = await Promise.all([
        popExactly(server, accepted.accepted!.qd, 10_000 - first.byteLength),
        ok(libos, pushed, Opcode.PUSH),
      ]);
      expect(rest).toEqual(pattern(10_000, 3).subarray(first.byteLength));
    } finally {
      await libos.shutdown();
    }
    expect(() =>
      createLibOS({ config: { catloop: { ring_size: 1000 } }, configSource: 'test', env: {} }),
    ).toThrow(/ringSize must be a power of two/);
    expect(() => new Catloop({ firstEphemeralPort: 0 })).toThrow(/firstEphemeralPort/);
  });
});

describe('addresses', () => {
  it('bind to port 0 takes distinct ephemeral ports; closing frees an address for the next bind', () => {
    const a = server.socket(AF_INET, SOCK_STREAM);
    const b = server.socket(AF_INET, SOCK_STREAM);
    server.bind(a, { address: ADDRESS, port: 0 });
    server.bind(b, { address: ADDRESS, port: 0 });
    const pa = server.getsockname(a).port;
    const pb = server.getsockname(b).port;
    expect(pa).toBeGreaterThanOrEqual(49152);
    expect(pb).toBeGreaterThanOrEqual(49152);
    expect(pa).not.toBe(pb);
    const c = client.socket(AF_INET, SOCK_STREAM);
    expect(code(() => client.bind(c, { address: ADDRESS, port: pa }))).toBe('EADDRINUSE');
    server.close(a);
    client.bind(c, { address: ADDRESS, port: pa });
    expect(client.getsockname(c)).toEqual({ address: ADDRESS, port: pa });
    client.close(c);
    server.close(b);
  });

  it('a listener on 0.0.0.0 serves every address and conflicts with each of them', async () => {
    const port = freshPort();
    const wildcard = listening(server, port, 16, '0.0.0.0');
    // connect completes when the listener accepts: wait for both at once.
    const [{ qd, opcode }, acceptedResult] = await Promise.all([
      connectResult(port, `${TEST_NET}2.9`),
      ok(server, server.accept(wildcard), Opcode.ACCEPT),
    ]);
    expect(opcode).toBe(Opcode.CONNECT);
    const accepted = acceptedResult.accepted!;
    expect(server.getsockname(accepted.qd)).toEqual({ address: `${TEST_NET}2.9`, port });
    expect(client.getpeername(qd)).toEqual({ address: `${TEST_NET}2.9`, port });
    expect(server.getpeername(accepted.qd)).toEqual(client.getsockname(qd));
    const specific = client.socket(AF_INET, SOCK_STREAM);
    expect(code(() => client.bind(specific, { address: `${TEST_NET}2.9`, port }))).toBe(
      'EADDRINUSE',
    );
    client.close(qd);
    server.close(accepted.qd);
    server.close(wildcard);
    expect(existsSync(`/dev/shm/demi-catmem.catloop.0.0.0.0:${port}`)).toBe(false);
    // And the other way round: a specific address first, then the wildcard.
    client.bind(specific, { address: `${TEST_NET}2.9`, port });
    const any = server.socket(AF_INET, SOCK_STREAM);
    expect(code(() => server.bind(any, { address: '0.0.0.0', port }))).toBe('EADDRINUSE');
    client.close(specific);
    server.close(any);
  });

  it('a bound socket that connects keeps its port', async () => {
    const port = freshPort();
    const l = listening(server, port);
    const accepting = server.accept(l);
    const qd = client.socket(AF_INET, SOCK_STREAM);
    const mine = freshPort();
    client.bind(qd, { address: ADDRESS, port: mine });
    const [, accepted] = await Promise.all([
      ok(client, client.connect(qd, { address: ADDRESS, port }), Opcode.CONNECT),
      ok(server, accepting, Opcode.ACCEPT),
    ]);
    expect(client.getsockname(qd)).toEqual({ address: ADDRESS, port: mine });
    expect(accepted.accepted!.addr).toEqual({ address: ADDRESS, port: mine });
    client.close(qd);
    server.close(l);
  });

  // As on Linux (catnap's semantics test asserts the kernel's answer): a socket
  // bound to one loopback address connects from it to another.
  it('a socket bound to another address connects from that address: the peer sees it', async () => {
    const other = `${TEST_NET}3.7`;
    for (const listenOn of [ADDRESS, '0.0.0.0']) {
      for (const mine of [0, freshPort()]) {
        const port = freshPort();
        const l = listening(server, port, 16, listenOn);
        const accepting = server.accept(l);
        const qd = client.socket(AF_INET, SOCK_STREAM);
        client.bind(qd, { address: other, port: mine });
        const bound = client.getsockname(qd);
        if (mine !== 0) expect(bound.port).toBe(mine);
        const [, { accepted }] = await Promise.all([
          ok(client, client.connect(qd, { address: ADDRESS, port }), Opcode.CONNECT),
          ok(server, accepting, Opcode.ACCEPT),
        ]);
        expect(client.getsockname(qd)).toEqual({ address: other, port: bound.port });
        expect(accepted!.addr).toEqual({ address: other, port: bound.port });
        expect(server.getpeername(accepted!.qd)).toEqual({ address: other, port: bound.port });
        // The accepted socket is local to the address the client connected to.
        expect(server.getsockname(accepted!.qd)).toEqual({ address: ADDRESS, port });
        expect(client.getpeername(qd)).toEqual({ address: ADDRESS, port });
        const data = pattern(100, 7);
        await ok(client, client.push(qd, sgaOf(data)), Opcode.PUSH);
        expect(await popExactly(server, accepted!.qd, data.length)).toEqual(data);
        client.close(qd);
        server.close(accepted!.qd);
        server.close(l);
      }
    }
  });

  it('a socket bound to 0.0.0.0 connects from the address it connects to', async () => {
    const port = freshPort();
    const l = listening(server, port);
    const accepting = server.accept(l);
    const qd = client.socket(AF_INET, SOCK_STREAM);
    const mine = freshPort();
    client.bind(qd, { address: '0.0.0.0', port: mine });
    const [, { accepted }] = await Promise.all([
      ok(client, client.connect(qd, { address: ADDRESS, port }), Opcode.CONNECT),
      ok(server, accepting, Opcode.ACCEPT),
    ]);
    expect(client.getsockname(qd)).toEqual({ address: ADDRESS, port: mine });
    expect(server.getpeername(accepted!.qd)).toEqual({ address: ADDRESS, port: mine });
    client.close(qd);
    server.close(accepted!.qd);
    server.close(l);
  });
});

describe('connection set-up', () => {
  it('a bound socket that is not listening refuses; once it listens, connects go through', async () => {
    const port = freshPort();
    const qd = server.socket(AF_INET, SOCK_STREAM);
    server.bind(qd, { address: ADDRESS, port });
    const first = await connectResult(port);
    expect([first.opcode, first.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNREFUSED]);
    // A failed connect leaves the socket closed (core's rule): only close works.
    expect(code(() => client.getpeername(first.qd))).toBe('EBADF');
    client.close(first.qd);
    server.listen(qd, 4);
    const [second] = await Promise.all([
      connectResult(port),
      ok(server, server.accept(qd), Opcode.ACCEPT),
    ]);
    expect(second.opcode).toBe(Opcode.CONNECT);
    client.close(second.qd);
    server.close(qd);
  });

  it('backlog 0 still queues one connect; the next is refused', async () => {
    const port = freshPort();
    const l = listening(server, port, 0);
    const qd = client.socket(AF_INET, SOCK_STREAM);
    const queued = client.connect(qd, { address: ADDRESS, port });
    const extra = await connectResult(port);
    expect([extra.opcode, extra.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNREFUSED]);
    await ok(server, server.accept(l), Opcode.ACCEPT);
    await ok(client, queued, Opcode.CONNECT);
    client.close(extra.qd);
    client.close(qd);
    server.close(l);
  });

  it('a listener that closes refuses the connects it queued', async () => {
    const port = freshPort();
    const l = listening(server, port, 8);
    const qds = [0, 1, 2].map(() => client.socket(AF_INET, SOCK_STREAM));
    const pending = qds.map((qd) => client.connect(qd, { address: ADDRESS, port }));
    await ok(server, server.asyncClose(l), Opcode.CLOSE);
    for (const qt of pending) {
      const r = await client.wait(qt, 20_000);
      expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNREFUSED]);
    }
    for (const qd of qds) client.close(qd);
  });

  it('a client that gives up before accept is skipped; accept returns the next one', async () => {
    const port = freshPort();
    const l = listening(server, port, 8);
    const quitter = client.socket(AF_INET, SOCK_STREAM);
    const abandoned = client.connect(quitter, { address: ADDRESS, port });
    const stayer = client.socket(AF_INET, SOCK_STREAM);
    const connecting = client.connect(stayer, { address: ADDRESS, port });
    client.close(quitter);
    const r = await client.wait(abandoned, 20_000);
    expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECANCELED]);
    const accepted = (await ok(server, server.accept(l), Opcode.ACCEPT)).accepted!;
    await ok(client, connecting, Opcode.CONNECT);
    expect(accepted.addr).toEqual(client.getsockname(stayer));
    client.close(stayer);
    server.close(accepted.qd);
    server.close(l);
  });

  it('calls in the wrong state: EDESTADDRREQ, EINVAL, ENOTCONN, EISCONN, EINPROGRESS, ENOTSUP', async () => {
    const port = freshPort();
    const l = listening(server, port);
    const qd = client.socket(AF_INET, SOCK_STREAM);
    expect(code(() => client.push(qd, sgaOf('x')))).toBe('ENOTCONN');
    expect(code(() => client.pop(qd))).toBe('ENOTCONN');
    expect(code(() => client.getpeername(qd))).toBe('ENOTCONN');
    expect(client.getsockname(qd)).toEqual({ address: '0.0.0.0', port: 0 });
    expect(code(() => client.accept(qd))).toBe('EINVAL');
    expect(code(() => client.listen(qd, 1))).toBe('EDESTADDRREQ');
    const connecting = client.connect(qd, { address: ADDRESS, port });
    expect(code(() => client.connect(qd, { address: ADDRESS, port }))).toBe('EINPROGRESS');
    expect(code(() => client.listen(qd, 1))).toBe('EADDRINUSE');
    expect(code(() => client.push(qd, sgaOf('x')))).toBe('ENOTCONN');
    const accepted = (await ok(server, server.accept(l), Opcode.ACCEPT)).accepted!;
    await ok(client, connecting, Opcode.CONNECT);
    expect(code(() => client.connect(qd, { address: ADDRESS, port }))).toBe('EISCONN');
    expect(code(() => client.listen(qd, 1))).toBe('EISCONN');
    expect(code(() => client.bind(qd, { address: ADDRESS, port: 0 }))).toBe('EINVAL');
    expect(code(() => server.connect(l, { address: ADDRESS, port }))).toBe('ENOTSUP');
    client.close(qd);
    server.close(accepted.qd);
    server.close(l);
  });
});

describe('data', () => {
  async function pair(ringSize?: number) {
    const c = ringSize === undefined ? client : new Catloop({ ringSize });
    const port = freshPort();
    const l = listening(server, port);
    const accepting = server.accept(l);
    const qd = c.socket(AF_INET, SOCK_STREAM);
    const [, accepted] = await Promise.all([
      ok(c, c.connect(qd, { address: ADDRESS, port }), Opcode.CONNECT),
      ok(server, accepting, Opcode.ACCEPT),
    ]);
    const sq = accepted.accepted!.qd;
    return { c, qd, sq, l };
  }

  it('a pop smaller than what arrived returns it in order, in pieces', async () => {
    const { qd, sq, l } = await pair();
    const data = pattern(1000, 9);
    await ok(client, client.push(qd, sgaOf(data)), Opcode.PUSH);
    const pieces: Uint8Array[] = [];
    for (let got = 0; got < 1000; ) {
      const piece = bytesOf((await ok(server, server.pop(sq, 300), Opcode.POP)).sga);
      expect(piece.byteLength).toBeLessThanOrEqual(300);
      pieces.push(piece);
      got += piece.byteLength;
    }
    expect(Buffer.concat(pieces)).toEqual(Buffer.from(data));
    client.close(qd);
    server.close(sq);
    server.close(l);
  });

  it('a pop asking for more than 64 KiB gets up to one whole record', async () => {
    const { qd, sq, l } = await pair();
    const data = pattern(600_000, 11);
    const pushed = client.push(qd, sgaOf(data));
    const first = bytesOf((await ok(server, server.pop(sq, 1 << 20), Opcode.POP)).sga);
    // Records are at most half the default 1 MiB ring, less their 8-byte header.
    expect(first.byteLength).toBe(512 * 1024 - 8);
    const [rest] = await Promise.all([
      popExactly(server, sq, data.byteLength - first.byteLength),
      ok(client, pushed, Opcode.PUSH),
    ]);
    expect(Buffer.concat([first, rest]).equals(Buffer.from(data))).toBe(true);
    client.close(qd);
    server.close(sq);
    server.close(l);
  });

  it('a push larger than the ring completes as the peer reads; asyncClose waits for it to leave', async () => {
    const { c, qd, sq, l } = await pair(4096);
    const data = pattern(100_000, 5);
    try {
      const pushed = c.push(qd, { segments: [data.subarray(0, 50_000), data.subarray(50_000)] });
      const closed = c.asyncClose(qd);
      // The pushing side makes progress only while it is polled: wait on both.
      const [got] = await Promise.all([
        popExactly(server, sq, data.byteLength),
        ok(c, pushed, Opcode.PUSH),
      ]);
      expect(Buffer.from(got).equals(Buffer.from(data))).toBe(true);
      await ok(c, closed, Opcode.CLOSE);
      expect(bytesOf((await ok(server, server.pop(sq), Opcode.POP)).sga).byteLength).toBe(0);
      server.close(sq);
      server.close(l);
    } finally {
      await c.shutdown();
    }
  });

  it('an async wait sleeps: almost no CPU while a pop waits', async () => {
    const { qd, sq, l } = await pair();
    const waiting = server.wait(server.pop(sq), 20_000);
    const before = process.cpuUsage();
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const used = process.cpuUsage(before);
    const wall = performance.now() - start;
    // Busy-polling would use the whole 500 ms; sleeping uses next to nothing.
    expect((used.user + used.system) / 1000).toBeLessThan(wall * 0.25);
    await ok(client, client.push(qd, sgaOf('wake')), Opcode.PUSH);
    expect(new TextDecoder().decode(bytesOf((await waiting).sga))).toBe('wake');
    client.close(qd);
    server.close(sq);
    server.close(l);
  });

  it('waitSync spins only briefly, then sleeps: a long sync wait uses little CPU', async () => {
    const { qd, sq, l } = await pair();
    const qt = client.pop(qd);
    const before = process.cpuUsage();
    const start = performance.now();
    expect(() => client.waitSync(qt, 300)).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    const used = process.cpuUsage(before);
    const wall = performance.now() - start;
    expect(wall).toBeGreaterThanOrEqual(299);
    // Busy-polling would use all of it; spin, yield, then futex sleep uses a sliver.
    expect((used.user + used.system) / 1000).toBeLessThan(wall * 0.25);
    await ok(server, server.push(sq, sgaOf('late')), Opcode.PUSH);
    expect(new TextDecoder().decode(bytesOf(client.waitSync(qt, 20_000).sga))).toBe('late');
    client.close(qd);
    server.close(sq);
    server.close(l);
  });

  it('shutdown closes everything: the peer sees EOF, pending operations ECANCELED', async () => {
    const { qd, sq, l } = await pair();
    const pending = server.pop(sq);
    const accepting = server.accept(l);
    const peerPop = client.pop(qd);
    await server.shutdown();
    for (const qt of [pending, accepting]) {
      const r = await server.wait(qt);
      expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECANCELED]);
    }
    const eof = await ok(client, peerPop, Opcode.POP);
    expect(bytesOf(eof.sga).byteLength).toBe(0);
    expect(code(() => server.socket(AF_INET, SOCK_STREAM))).toBe('EBADF');
    client.close(qd);
  });
});

const python = () =>
  spawnSync('python3', ['-c', 'import fcntl; fcntl.F_OFD_SETLK'], { stdio: 'ignore' }).status === 0
    ? undefined
    : 'needs python3 with fcntl.F_OFD_SETLK to hold a lock byte from another process';

describePrivileged("a client stuck holding the clients' lock", python, () => {
  it("costs others a refusal after a bounded wait, and does not hang the listener's close", async () => {
    const port = freshPort();
    const l = listening(server, port);
    const holder = spawn(
      'python3',
      [
        fileURLToPath(new URL('./fixtures/hold-lock.py', import.meta.url)),
        `/dev/shm/demi-catmem.catloop.${ADDRESS}:${port}`,
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    try {
      await once(holder.stdout!, 'data');
      const r = await connectResult(port);
      expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECONNREFUSED]);
      client.close(r.qd);
      server.close(l);
      expect(existsSync(`/dev/shm/demi-catmem.catloop.${ADDRESS}:${port}`)).toBe(false);
    } finally {
      holder.stdin!.end();
      await once(holder, 'exit');
    }
  });
});

describe('the addon never crashes on bad arguments', () => {
  it('every entry point rejects garbage with a code', async () => {
    const { native } = await import('../src/native.js');
    const n = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const garbage: unknown[] = [
      undefined,
      null,
      -1,
      0,
      1.5,
      2 ** 53,
      Number.NaN,
      'x',
      {},
      [],
      new Uint8Array(4),
    ];
    for (const fn of [
      'destroyContext',
      'setStaging',
      'bind',
      'listen',
      'accept',
      'connect',
      'handshake',
      'info',
      'push',
      'pop',
      'close',
      'sleep',
      'setWakeups',
    ]) {
      for (const a of garbage) {
        for (const b of garbage) {
          let err: unknown;
          try {
            n[fn]!(a, b, b, b, b, b);
          } catch (e) {
            err = e;
          }
          expect(err, `${fn}(${String(a)}, ${String(b)})`).toMatchObject({
            code: expect.stringMatching(/^E[A-Z]+$/),
          });
        }
      }
    }
    const ctx = n.newContext!(() => {}) as number;
    expect(() => n.bind!(ctx, '300.1.1.1', 1, 49152)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => n.bind!(ctx, ADDRESS, 70000, 49152)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => n.connect!(ctx, ADDRESS, 1, '0.0.0.0', 0, 1000, 49152)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    const [h] = n.bind!(ctx, ADDRESS, 0, 49152) as [number, number];
    expect(() => n.push!(h, new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'ENOTCONN' }),
    );
    expect(() => n.accept!(h)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => n.info!(h)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    n.close!(h);
    expect(() => n.close!(h)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    n.destroyContext!(ctx);
    expect(() => n.bind!(ctx, ADDRESS, 0, 49152)).toThrow(
      expect.objectContaining({ code: 'EBADF' }),
    );
  });
});
