import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import {
  AF_INET,
  DemiError,
  ERRNO,
  IPPROTO_TCP,
  init,
  Opcode,
  type QResult,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_REUSEADDR,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_NODELAY,
} from '@demi/core';
import {
  bytes,
  connectPair,
  equalBytes,
  expectDemiError,
  pattern,
  popExactly,
  sgaOf,
} from '@demi/core/conformance';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catnap } from '../src/index.js';
import { freePort } from './support/ports.js';

let libos: Catnap;
beforeEach(() => {
  libos = new Catnap();
});
afterEach(async () => {
  await libos.shutdown();
});

function env() {
  return {
    server: libos,
    client: libos,
    serverAddress: '127.0.0.1',
    nextPort: () => freePort(libos),
    closedPort: () => freePort(libos),
    teardown: async () => {},
  };
}

describe('addresses and errors', () => {
  it('binding twice is EINVAL; listening unbound is EDESTADDRREQ (no autobind)', () => {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    expectDemiError(() => libos.listen(qd, 1), 'EDESTADDRREQ');
    libos.bind(qd, { address: '127.0.0.1', port: 0 });
    expectDemiError(() => libos.bind(qd, { address: '127.0.0.1', port: 0 }), 'EINVAL');
    libos.listen(qd, 1);
    libos.close(qd);
  });

  it('bind to a port node:net holds is EADDRINUSE with the errno and syscall', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    const err = expectDemiError(() => libos.bind(qd, { address: '127.0.0.1', port }), 'EADDRINUSE');
    expect(err.errno).toBe(ERRNO.EADDRINUSE);
    expect(err.syscall).toBe('bind');
    expect(err).toBeInstanceOf(DemiError);
    libos.close(qd);
    server.close();
  });

  it('bind to an address this host does not have is EADDRNOTAVAIL', () => {
    const qd = libos.socket(AF_INET, SOCK_DGRAM);
    expectDemiError(() => libos.bind(qd, { address: '192.0.2.1', port: 0 }), 'EADDRNOTAVAIL');
    libos.close(qd);
  });

  // The kernel's answer, which catloop's semantics test asserts too.
  it('a socket bound to another loopback address connects from it: the peer sees it', async () => {
    for (const listenOn of ['127.0.0.1', '0.0.0.0']) {
      for (const mine of [0, freePort(libos)]) {
        const l = libos.socket(AF_INET, SOCK_STREAM);
        libos.bind(l, { address: listenOn, port: 0 });
        libos.listen(l, 4);
        const port = libos.getsockname(l).port;
        const accepting = libos.wait(libos.accept(l));
        const qd = libos.socket(AF_INET, SOCK_STREAM);
        libos.bind(qd, { address: '127.0.0.2', port: mine });
        const bound = libos.getsockname(qd);
        if (mine !== 0) expect(bound.port).toBe(mine);
        const [connected, acceptedResult] = await Promise.all([
          libos.wait(libos.connect(qd, { address: '127.0.0.1', port })),
          accepting,
        ]);
        expect(connected.opcode).toBe(Opcode.CONNECT);
        const accepted = acceptedResult.accepted!;
        expect(libos.getsockname(qd)).toEqual({ address: '127.0.0.2', port: bound.port });
        expect(accepted.addr).toEqual({ address: '127.0.0.2', port: bound.port });
        expect(libos.getpeername(accepted.qd)).toEqual({ address: '127.0.0.2', port: bound.port });
        expect(libos.getsockname(accepted.qd)).toEqual({ address: '127.0.0.1', port });
        expect(libos.getpeername(qd)).toEqual({ address: '127.0.0.1', port });
        libos.close(qd);
        libos.close(accepted.qd);
        libos.close(l);
      }
    }
  });

  it('protocol must match the type: EPROTONOSUPPORT', () => {
    expectDemiError(() => libos.socket(AF_INET, SOCK_STREAM, 17), 'EPROTONOSUPPORT');
    libos.close(libos.socket(AF_INET, SOCK_STREAM, 6));
    libos.close(libos.socket(AF_INET, SOCK_DGRAM, 17));
  });

  it('queue descriptors are not kernel fds: a closed qd stays EBADF when the kernel reuses its fd', () => {
    const a = libos.socket(AF_INET, SOCK_STREAM);
    libos.close(a);
    const b = libos.socket(AF_INET, SOCK_STREAM); // very likely the same kernel fd as a
    expect(b).not.toBe(a);
    expectDemiError(() => libos.getsockname(a), 'EBADF');
    expectDemiError(() => libos.close(a), 'EBADF');
    libos.close(b);
  });

  it('a qd from another Catnap instance is EBADF here', async () => {
    const other = new Catnap();
    const qd = other.socket(AF_INET, SOCK_STREAM);
    expectDemiError(() => libos.close(qd), 'EBADF');
    expectDemiError(() => libos.pop(qd), 'EBADF');
    await other.shutdown();
  });

  it('pushto on a TCP socket is ENOTSUP and leaves no token behind', () => {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    expectDemiError(
      () => libos.pushto(qd, sgaOf('x'), { address: '127.0.0.1', port: 9 }),
      'ENOTSUP',
    );
    libos.close(qd);
  });

  it('accept on a socket that is not listening is EINVAL', () => {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    expectDemiError(() => libos.accept(qd), 'EINVAL');
    libos.close(qd);
  });

  it('pop and push on a TCP socket that never connected throw ENOTCONN at the call', () => {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    expectDemiError(() => libos.pop(qd), 'ENOTCONN');
    expectDemiError(() => libos.push(qd, sgaOf('x')), 'ENOTCONN');
    libos.close(qd);
  });
});

describe('data path', () => {
  it('operations that can finish at once complete inside the call: waitSync needs no poll', async () => {
    const c = await connectPair(env());
    const push = libos.push(c.clientQd, sgaOf('now'));
    // A zero timeout never polls if the result is already there.
    expect(libos.waitSync(push, 0).opcode).toBe(Opcode.PUSH);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const pop = libos.pop(c.serverQd);
    expect(bytes(libos.waitSync(pop, 0).sga)).toEqual(new TextEncoder().encode('now'));
  });

  it('pop returns at most `size` bytes; the rest stays for the next pop', async () => {
    const c = await connectPair(env());
    await libos.wait(libos.push(c.clientQd, sgaOf('0123456789')));
    const first = await libos.wait(libos.pop(c.serverQd, 4));
    expect(new TextDecoder().decode(bytes(first.sga))).toBe('0123');
    expect(new TextDecoder().decode(await popExactly(libos, c.serverQd, 6))).toBe('456789');
  });

  it('config catnap.pop_size sets the default pop size', async () => {
    const small = (await init({ libos: 'catnap', config: { catnap: { pop_size: 3 } } })) as Catnap;
    try {
      const c = await connectPair({
        ...env(),
        server: small,
        client: small,
        nextPort: () => freePort(small),
      });
      await small.wait(small.push(c.clientQd, sgaOf('abcdefg')));
      expect(new TextDecoder().decode(bytes((await small.wait(small.pop(c.serverQd))).sga))).toBe(
        'abc',
      );
    } finally {
      await small.shutdown();
    }
  });

  it('queued pops complete in order, each with the next bytes', async () => {
    const c = await connectPair(env());
    const qts = [libos.pop(c.serverQd), libos.pop(c.serverQd), libos.pop(c.serverQd)];
    const order: number[] = [];
    const results = Promise.all(
      qts.map((qt, i) =>
        libos.wait(qt).then((r) => {
          order.push(i);
          return r;
        }),
      ),
    );
    for (const word of ['first', 'second', 'third']) {
      await libos.wait(libos.push(c.clientQd, sgaOf(word)));
      // Let each word arrive on its own, so each pop takes exactly one.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const got = (await results).map((r) => new TextDecoder().decode(bytes(r.sga)));
    expect(got).toEqual(['first', 'second', 'third']);
    expect(order).toEqual([0, 1, 2]);
  });

  it('more completions than one batch holds (1024 records) all arrive, in order', async () => {
    const c = await connectPair(env());
    const n = 2500;
    const qts = Array.from({ length: n }, () => libos.pop(c.serverQd, 1));
    const data = pattern(n, 77);
    await libos.wait(libos.push(c.clientQd, sgaOf(data)));
    const results = await Promise.all(qts.map((qt) => libos.wait(qt)));
    const got = Uint8Array.from(results.map((r) => bytes(r.sga)[0]!));
    expect(results.every((r) => bytes(r.sga).byteLength === 1)).toBe(true);
    expect(equalBytes(got, data)).toBe(true);
  });

  it('queued pushes larger than the socket buffer complete in order, byte exact (partial writes continue)', async () => {
    const c = await connectPair(env());
    const chunks = [0, 1, 2, 3].map((i) => pattern(3 * 1024 * 1024, 100 + i));
    const completed: number[] = [];
    const pushes = chunks.map((chunk, i) =>
      libos.wait(libos.push(c.clientQd, sgaOf(chunk))).then((r) => {
        expect(r.opcode).toBe(Opcode.PUSH);
        completed.push(i);
      }),
    );
    const received = await popExactly(libos, c.serverQd, 4 * 3 * 1024 * 1024);
    await Promise.all(pushes);
    expect(completed).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < 4; i++) {
      expect(
        equalBytes(received.subarray(i * 3 * 1024 * 1024, (i + 1) * 3 * 1024 * 1024), chunks[i]!),
      ).toBe(true);
    }
  });

  it('queued pushes sent together (one sendmsg) complete in order, byte exact', async () => {
    const c = await connectPair(env());
    // The first push fills the socket buffers, so the rest queue and later go
    // out several per system call; sizes straddle the batch's iovec limit.
    const sizes = [
      4 * 1024 * 1024,
      ...Array.from({ length: 150 }, (_, i) => 1 + ((i * 7919) % 9000)),
    ];
    const chunks = sizes.map((n, i) => pattern(n, 500 + i));
    const completed: number[] = [];
    const pushes = chunks.map((chunk, i) =>
      libos.wait(libos.push(c.clientQd, sgaOf(chunk))).then((r) => {
        expect(r.opcode).toBe(Opcode.PUSH);
        completed.push(i);
      }),
    );
    const total = sizes.reduce((a, b) => a + b, 0);
    const received = await popExactly(libos, c.serverQd, total);
    await Promise.all(pushes);
    expect(completed).toEqual(sizes.map((_, i) => i));
    let at = 0;
    for (const chunk of chunks) {
      expect(equalBytes(received.subarray(at, at + chunk.byteLength), chunk)).toBe(true);
      at += chunk.byteLength;
    }
  });

  it('a multi-segment sga goes out as its segments in order', async () => {
    const c = await connectPair(env());
    const segments = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`<${i}>`));
    await libos.wait(libos.push(c.clientQd, { segments }));
    const expected = segments.map((s) => new TextDecoder().decode(s)).join('');
    expect(new TextDecoder().decode(await popExactly(libos, c.serverQd, expected.length))).toBe(
      expected,
    );
  });

  it('the pushed buffer may be reused at once: queued data was copied', async () => {
    const c = await connectPair(env());
    const big = pattern(8 * 1024 * 1024, 5);
    const original = big.slice();
    const qt = libos.push(c.clientQd, sgaOf(big));
    big.fill(0); // the kernel cannot have taken 8 MiB before anyone reads
    const received = await popExactly(libos, c.serverQd, big.byteLength);
    await libos.wait(qt);
    expect(equalBytes(received, original)).toBe(true);
  });

  it('queued pushes of many sizes arrive byte-exact while their copy buffers are reused', async () => {
    const c = await connectPair(env());
    // Far more than the socket buffers hold, so most pushes queue (copied) and
    // later ones reuse the copy buffers of earlier, completed ones.
    const sizes = Array.from({ length: 96 }, (_, i) => ((i * 37) % 7) * 40_000 + 1 + i);
    const sent = sizes.map((n, i) => pattern(n, i + 1));
    const qts = sent.map((chunk) => {
      const reused = chunk.slice();
      const qt = libos.push(c.clientQd, sgaOf(reused));
      reused.fill(0xee); // the caller's buffer is free once push returns
      return qt;
    });
    const total = sizes.reduce((a, b) => a + b, 0);
    const received = await popExactly(libos, c.serverQd, total);
    for (const qt of qts) expect((await libos.wait(qt)).opcode).toBe(Opcode.PUSH);
    const expected = new Uint8Array(total);
    let at = 0;
    for (const chunk of sent) {
      expected.set(chunk, at);
      at += chunk.byteLength;
    }
    expect(equalBytes(received, expected)).toBe(true);
  });

  it('popped views stay valid: many pops share slabs without overwriting each other', async () => {
    const c = await connectPair(env());
    const kept: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      libos.waitSync(libos.push(c.clientQd, sgaOf(pattern(200, i + 1))), 10_000);
      const got = bytes(libos.waitSync(libos.pop(c.serverQd, 200), 10_000).sga);
      kept.push(got);
    }
    // 3000 pops of a 64 KiB-capable size cross several 512 KiB slabs.
    expect(new Set(kept.map((k) => k.buffer)).size).toBeGreaterThan(1);
    for (let i = 0; i < 3000; i++) expect(equalBytes(kept[i]!, pattern(200, i + 1))).toBe(true);
  });

  it('a popped slab cannot be transferred away (like Buffer pool memory); its view and later pops are intact', async () => {
    const c = await connectPair(env());
    await libos.wait(libos.push(c.clientQd, sgaOf('first')));
    const first = bytes((await libos.wait(libos.pop(c.serverQd))).sga);
    expect(() =>
      structuredClone(first.buffer, { transfer: [first.buffer as ArrayBuffer] }),
    ).toThrow(expect.objectContaining({ name: 'DataCloneError' }));
    expect(new TextDecoder().decode(first)).toBe('first');
    await libos.wait(libos.push(c.clientQd, sgaOf('second')));
    expect(new TextDecoder().decode(bytes((await libos.wait(libos.pop(c.serverQd))).sga))).toBe(
      'second',
    );
  });

  it('EOF is a zero-length pop, and stays EOF', async () => {
    const c = await connectPair(env());
    libos.close(c.clientQd);
    for (let i = 0; i < 2; i++) {
      const r = await libos.wait(libos.pop(c.serverQd));
      expect(r.opcode).toBe(Opcode.POP);
      expect(bytes(r.sga).byteLength).toBe(0);
    }
  });
});

describe('close', () => {
  it('close fails pending pops and pushes with ECANCELED; closing twice is EBADF', async () => {
    const c = await connectPair(env());
    const pop = libos.pop(c.serverQd);
    // Fill the socket buffers so a push stays pending.
    const pushes: number[] = [];
    for (let i = 0; i < 64; i++)
      pushes.push(libos.push(c.clientQd, sgaOf(new Uint8Array(1024 * 1024))));
    libos.close(c.serverQd);
    libos.close(c.clientQd);
    const popped = await libos.wait(pop);
    expect([popped.opcode, popped.ret]).toEqual([Opcode.FAILED, ERRNO.ECANCELED]);
    const results = await Promise.all(pushes.map((qt) => libos.wait(qt)));
    expect(results.some((r) => r.opcode === Opcode.FAILED && r.ret === ERRNO.ECANCELED)).toBe(true);
    expectDemiError(() => libos.close(c.clientQd), 'EBADF');
  });

  it('asyncClose completes CLOSE after the pushes queued before it; the peer gets every byte, then EOF', async () => {
    const c = await connectPair(env());
    const data = pattern(12 * 1024 * 1024, 3);
    const order: string[] = [];
    const pushed = libos
      .wait(libos.push(c.clientQd, sgaOf(data)))
      .then((r) => order.push(`push ${r.opcode}`));
    const closed = libos
      .wait(libos.asyncClose(c.clientQd))
      .then((r) => order.push(`close ${r.opcode}`));
    expectDemiError(() => libos.push(c.clientQd, sgaOf('late')), 'EBADF');
    expect(equalBytes(await popExactly(libos, c.serverQd, data.byteLength), data)).toBe(true);
    await Promise.all([pushed, closed]);
    expect(order).toEqual([`push ${Opcode.PUSH}`, `close ${Opcode.CLOSE}`]);
    expect(bytes((await libos.wait(libos.pop(c.serverQd))).sga).byteLength).toBe(0);
    expect(libos.socketCount).toBe(2); // listener and server side; the client is gone
  });

  it('asyncClose fails a pending pop with ECANCELED when it completes', async () => {
    const c = await connectPair(env());
    const pop = libos.pop(c.clientQd);
    const close = await libos.wait(libos.asyncClose(c.clientQd));
    expect(close.opcode).toBe(Opcode.CLOSE);
    const popped = await libos.wait(pop);
    expect([popped.opcode, popped.ret]).toEqual([Opcode.FAILED, ERRNO.ECANCELED]);
  });

  it('shutdown cancels everything, closes every socket, and later calls are EBADF', async () => {
    const c = await connectPair(env());
    const pop = libos.pop(c.serverQd);
    const waiting = libos.wait(pop);
    expect(libos.socketCount).toBe(3);
    await libos.shutdown();
    const r: QResult = await waiting;
    expect([r.opcode, r.ret]).toEqual([Opcode.FAILED, ERRNO.ECANCELED]);
    expect(libos.socketCount).toBe(0);
    expectDemiError(() => libos.socket(AF_INET, SOCK_STREAM), 'EBADF');
  });
});

describe('socket options', () => {
  it('TCP_NODELAY is on by default, on new and accepted sockets', async () => {
    const c = await connectPair(env());
    expect(libos.getsockopt(c.clientQd, IPPROTO_TCP, TCP_NODELAY)).toBe(true);
    expect(libos.getsockopt(c.serverQd, IPPROTO_TCP, TCP_NODELAY)).toBe(true);
  });

  it('tcp_socket_options.nodelay: false turns it off', async () => {
    const other = (await init({
      libos: 'catnap',
      config: { tcp_socket_options: { nodelay: false } },
    })) as Catnap;
    const qd = other.socket(AF_INET, SOCK_STREAM);
    expect(other.getsockopt(qd, IPPROTO_TCP, TCP_NODELAY)).toBe(false);
    await other.shutdown();
  });

  it('tcp_socket_options keepalive and linger apply to new sockets', async () => {
    const other = (await init({
      libos: 'catnap',
      config: {
        tcp_socket_options: {
          keepalive: { enabled: true, time_millis: 5000 },
          linger: { enabled: true, time_seconds: 2 },
        },
      },
    })) as Catnap;
    const qd = other.socket(AF_INET, SOCK_STREAM);
    expect(other.getsockopt(qd, SOL_SOCKET, SO_KEEPALIVE)).toBe(true);
    expect(other.getsockopt(qd, SOL_SOCKET, SO_LINGER)).toEqual({ onoff: true, linger: 2 });
    await other.shutdown();
  });

  it('listeners get SO_REUSEADDR, so a restarted server binds while old connections linger', async () => {
    const e = env();
    const c = await connectPair(e);
    expect(libos.getsockopt(c.listener, SOL_SOCKET, SO_REUSEADDR)).toBe(true);
    const { port } = libos.getsockname(c.listener);
    // Server closes first: its side of the connection sits in TIME_WAIT.
    libos.close(c.serverQd);
    libos.close(c.listener);
    await libos.wait(libos.pop(c.clientQd));
    libos.close(c.clientQd);
    const again = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(again, { address: '127.0.0.1', port });
    libos.listen(again, 4);
    libos.close(again);
  });

  it('set and get SO_KEEPALIVE, SO_REUSEADDR, TCP_NODELAY (booleans) and SO_LINGER ({onoff, linger})', () => {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    for (const [level, name] of [
      [SOL_SOCKET, SO_KEEPALIVE],
      [SOL_SOCKET, SO_REUSEADDR],
      [IPPROTO_TCP, TCP_NODELAY],
    ] as const) {
      libos.setsockopt(qd, level, name, true);
      expect(libos.getsockopt(qd, level, name)).toBe(true);
      libos.setsockopt(qd, level, name, false);
      expect(libos.getsockopt(qd, level, name)).toBe(false);
    }
    libos.setsockopt(qd, SOL_SOCKET, SO_LINGER, { onoff: true, linger: 7 });
    expect(libos.getsockopt(qd, SOL_SOCKET, SO_LINGER)).toEqual({ onoff: true, linger: 7 });
    libos.setsockopt(qd, SOL_SOCKET, SO_LINGER, { onoff: false, linger: 0 });
    // Linux keeps the old linger time when lingering is turned off.
    expect(libos.getsockopt(qd, SOL_SOCKET, SO_LINGER)).toMatchObject({ onoff: false });
    libos.close(qd);
  });

  it('unknown options are ENOPROTOOPT; wrong values EINVAL; closed qd EBADF', () => {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    expectDemiError(() => libos.setsockopt(qd, SOL_SOCKET, 7, true), 'ENOPROTOOPT'); // SO_SNDBUF
    expectDemiError(() => libos.getsockopt(qd, SOL_SOCKET, 7), 'ENOPROTOOPT');
    expectDemiError(() => libos.getsockopt(qd, 41, 1), 'ENOPROTOOPT');
    expectDemiError(() => libos.setsockopt(qd, SOL_SOCKET, SO_LINGER, true), 'EINVAL');
    expectDemiError(() => libos.setsockopt(qd, SOL_SOCKET, SO_KEEPALIVE, 5), 'EINVAL');
    libos.close(qd);
    expectDemiError(() => libos.getsockopt(qd, SOL_SOCKET, SO_KEEPALIVE), 'EBADF');
  });

  it('SO_LINGER {onoff: true, linger: 0} makes close reset the connection: the peer sees ECONNRESET', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const accepted = once(server, 'connection');
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    await libos.wait(libos.connect(qd, { address: '127.0.0.1', port }));
    const [peer] = (await accepted) as [import('node:net').Socket];
    const error = once(peer, 'error');
    libos.setsockopt(qd, SOL_SOCKET, SO_LINGER, { onoff: true, linger: 0 });
    libos.close(qd);
    const [err] = (await error) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNRESET');
    server.close();
  });
});

describe('waiting', () => {
  it('waitSync with a timeout blocks in epoll and wakes for data from another process', async () => {
    const server = createServer((s) => s.pipe(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    // A node:net echo peer in this process cannot answer while waitSync blocks the loop,
    // so the peer is a child process.
    server.close();
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('net').createServer(s=>s.pipe(s)).listen(${port},'127.0.0.1',()=>console.log('up'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(child.stdout, 'data');
    try {
      const qd = libos.socket(AF_INET, SOCK_STREAM);
      expect(libos.waitSync(libos.connect(qd, { address: '127.0.0.1', port }), 10_000).opcode).toBe(
        Opcode.CONNECT,
      );
      for (let i = 0; i < 50; i++) {
        libos.waitSync(libos.push(qd, sgaOf(`m${i}`)), 10_000);
        expect(new TextDecoder().decode(bytes(libos.waitSync(libos.pop(qd), 10_000).sga))).toBe(
          `m${i}`,
        );
      }
      libos.close(qd);
    } finally {
      child.kill();
    }
  });

  it('waitNextN hands out completions of tokens nobody waits on', async () => {
    const c = await connectPair(env());
    const a = libos.pop(c.serverQd);
    libos.push(c.clientQd, sgaOf('x'));
    const results = await libos.waitNextN(4, 10_000);
    expect(results.length).toBeGreaterThan(0);
    const all = [...results];
    while (!all.some((r) => r.qt === a)) all.push(...(await libos.waitNextN(4, 10_000)));
    expect(bytes(all.find((r) => r.qt === a)!.sga)).toEqual(new TextEncoder().encode('x'));
  });

  it('connect from node:net is accepted while an async accept waits (libuv wakes catnap)', async () => {
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(qd, { address: '127.0.0.1', port: 0 });
    libos.listen(qd, 4);
    const accepting = libos.wait(libos.accept(qd));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const client = createConnection({ host: '127.0.0.1', port: libos.getsockname(qd).port });
    const result = await accepting;
    expect(result.opcode).toBe(Opcode.ACCEPT);
    client.destroy();
  });
});
