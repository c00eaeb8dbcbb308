import { once as onceEvent } from 'node:events';
import * as nodeNet from 'node:net';
import type { LibOS } from '@demi/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import net, { type Server, type Socket } from '../src/index.js';
import { closed, LIBOSES, once, settledTokens, useLibOS } from './support/libos.js';

function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as { port: number }).port));
  });
}

function collect(socket: Socket | nodeNet.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

function closeServer(server: Server | nodeNet.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe.each(LIBOSES)('@demi/net on %s', (name) => {
  let libos: LibOS;
  beforeAll(async () => {
    libos = await useLibOS(name);
  });
  afterEach(async () => {
    expect(await settledTokens(libos)).toBe(0);
  });
  afterAll(async () => {
    await libos.shutdown();
  });

  it('echoes through a server and a client, with addresses and byte counts', async () => {
    const server = net.createServer((s) => s.pipe(s));
    const port = await listen(server);
    expect(server.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port });
    const client = net.connect(port, '127.0.0.1');
    expect(client.connecting).toBe(true);
    expect(client.pending).toBe(true);
    expect(client.readyState).toBe('opening');
    await once(client, 'connect');
    expect(client.remoteAddress).toBe('127.0.0.1');
    expect(client.remotePort).toBe(port);
    expect(client.remoteFamily).toBe('IPv4');
    expect(client.localAddress).toBe('127.0.0.1');
    expect(client.localPort).toBeGreaterThan(0);
    expect(client.readyState).toBe('open');
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    const chunks: Buffer[] = [];
    let got = 0;
    const all = new Promise<void>((resolve) =>
      client.on('data', (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (got >= payload.length) resolve();
      }),
    );
    client.write(payload);
    await all;
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    expect(client.bytesWritten).toBe(payload.length);
    expect(client.bytesRead).toBe(payload.length);
    const wasClosed = closed(client);
    client.end();
    expect(await wasClosed).toBe(false);
    expect(client.readyState).toBe('closed');
    await closeServer(server);
  });

  it('connects to a refused port with node:net’s error', async () => {
    const server = net.createServer();
    const port = await listen(server);
    await closeServer(server);
    const client = net.connect({ port, host: '127.0.0.1' });
    const wasClosed = closed(client);
    const [err] = (await once<NodeJS.ErrnoException & { address: string; port: number }>(
      client,
      'error',
    )) as [NodeJS.ErrnoException & { address: string; port: number }];
    expect(err.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errno).toBe(-111);
    expect(err.syscall).toBe('connect');
    expect(err.address).toBe('127.0.0.1');
    expect(err.port).toBe(port);
    expect(await wasClosed).toBe(true);
  });

  it('reports EADDRINUSE as node:net does', async () => {
    const first = net.createServer();
    const port = await listen(first);
    const second = net.createServer();
    second.listen(port, '127.0.0.1');
    const [err] = (await once<NodeJS.ErrnoException>(second, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('EADDRINUSE');
    expect(err.errno).toBe(-98);
    expect(err.syscall).toBe('listen');
    expect(err.message).toBe(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
    expect(second.listening).toBe(false);
    await closeServer(first);
  });

  it('holds writes back past writableHighWaterMark and drains once the reader resumes', async () => {
    let serverSide: Socket | undefined;
    // A slow reader: paused from the start, so nothing is popped.
    const server = net.createServer({ pauseOnConnect: true }, (s) => {
      serverSide = s;
    });
    const port = await listen(server);
    const client = net.connect({ port, host: '127.0.0.1', writableHighWaterMark: 16 * 1024 });
    await once(client, 'connect');
    const chunk = Buffer.alloc(64 * 1024, 1);
    let written = 0;
    // Write until a drain does not come: the LibOS's buffers and window are full.
    for (;;) {
      written += chunk.length;
      if (client.write(chunk)) continue;
      const drained = await Promise.race([
        onceEvent(client, 'drain').then(() => true),
        new Promise((r) => setTimeout(() => r(false), 300)),
      ]);
      if (!drained) break;
      expect(written).toBeLessThan(256 * 1024 * 1024);
    }
    // Still paused: nothing was read, and the writer is still held back.
    expect(serverSide!.bytesRead).toBe(0);
    expect(client.writableNeedDrain).toBe(true);
    const drained = onceEvent(client, 'drain');
    let received = 0;
    serverSide!.on('data', (c: Buffer) => {
      received += c.length;
    });
    serverSide!.resume();
    await drained;
    const ended = once(serverSide!, 'end');
    client.end();
    await ended;
    expect(received).toBe(written);
    await closeServer(server);
  });

  it('a paused socket stops popping, so the peer’s writes back up', async () => {
    const server = net.createServer((s) => {
      const big = Buffer.alloc(1024 * 1024, 2);
      const pump = (): void => {
        while (s.write(big)) {}
      };
      s.on('drain', pump);
      s.on('error', () => {});
      pump();
    });
    const port = await listen(server);
    const client = net.connect(port, '127.0.0.1');
    client.pause();
    await once(client, 'connect');
    await new Promise((r) => setTimeout(r, 200));
    const before = client.bytesRead;
    await new Promise((r) => setTimeout(r, 200));
    // One pop's worth at most arrives after pausing; then nothing more.
    expect(client.bytesRead).toBe(before);
    expect(client.readableLength).toBeLessThanOrEqual(client.readableHighWaterMark + 512 * 1024);
    client.destroy();
    await once(client, 'close');
    await closeServer(server);
  });

  // Writes up to writableHighWaterMark (16 KiB) and larger ones take different paths.
  it.each([4096, 40_000])(
    'a buffer reused in its write callback does not change the bytes sent (%i-byte writes)',
    async (size) => {
      // The contract lets a LibOS read a pushed buffer until the push completes;
      // a write's callback may come earlier, so the bytes pushed must be a copy.
      const pushed: Uint8Array[] = [];
      const push = libos.push.bind(libos);
      libos.push = (qd, sga) => {
        pushed.push(...sga.segments);
        return push(qd, sga);
      };
      const server = net.createServer();
      const received = new Promise<Buffer>((resolve) =>
        server.once('connection', (s: Socket) => resolve(collect(s))),
      );
      const port = await listen(server);
      const client = net.connect(port, '127.0.0.1');
      await once(client, 'connect');
      const caller = Buffer.alloc(size);
      const rounds = 64;
      const expected: Buffer[] = [];
      for (let i = 0; i < rounds; i++) {
        caller.fill(i);
        expected.push(Buffer.from(caller));
        const calledBack = new Promise<void>((resolve) => client.write(caller, () => resolve()));
        await calledBack;
        // The caller takes its buffer back, as node:net allows once the callback ran.
        caller.fill(0xff);
      }
      client.end();
      try {
        expect((await received).equals(Buffer.concat(expected))).toBe(true);
        // Small writes are pushed as copies; large ones are called back only after their push.
        if (size <= client.writableHighWaterMark)
          for (const seg of pushed) expect(seg.buffer).not.toBe(caller.buffer);
      } finally {
        libos.push = push;
        await closeServer(server);
      }
    },
  );

  it('end() sends everything written, then the peer reads end of file', async () => {
    const server = net.createServer();
    const received = new Promise<Buffer>((resolve) => {
      server.once('connection', (s: Socket) => resolve(collect(s)));
    });
    const port = await listen(server);
    const client = net.connect(port, '127.0.0.1');
    const clientClosed = once(client, 'close');
    const big = Buffer.alloc(2 * 1024 * 1024, 3);
    client.write('head:');
    client.end(big);
    const data = await received;
    expect(data.length).toBe(5 + big.length);
    expect(data.subarray(0, 5).toString()).toBe('head:');
    await clientClosed;
    await closeServer(server);
  });

  it('destroy() with a connect, pops and pushes pending leaks no token', async () => {
    const sockets: Socket[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
      s.resume();
    });
    const port = await listen(server);
    for (let i = 0; i < 5; i++) {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => {});
      c.resume();
      if (i % 2 === 0) await once(c, 'connect');
      c.write(Buffer.alloc(200_000));
      c.destroy();
      await once(c, 'close');
    }
    for (const s of sockets) s.destroy();
    await closeServer(server);
  });

  it('destroy() fails the callbacks of writes still waiting, and leaks no token', async () => {
    const peers: Socket[] = [];
    const server = net.createServer({ pauseOnConnect: true }, (s) => peers.push(s));
    const port = await listen(server);
    const client = net.connect({ port, host: '127.0.0.1', writableHighWaterMark: 1024 });
    client.on('error', () => {});
    await once(client, 'connect');
    const results: (Error | null | undefined)[] = [];
    const chunk = Buffer.alloc(256 * 1024);
    // Far more than the LibOS can take while the server does not read.
    for (let i = 0; i < 256; i++) client.write(chunk, (err) => results.push(err));
    await new Promise((r) => setTimeout(r, 200));
    const before = results.length;
    expect(before).toBeLessThan(256);
    client.destroy();
    await closed(client);
    await new Promise((r) => setImmediate(r));
    expect(results.length).toBe(256);
    expect(results.slice(before).every((e) => e instanceof Error)).toBe(true);
    // The server side never reads (paused), so it cannot see the close: end it here.
    for (const p of peers) p.destroy();
    await closeServer(server);
  });

  it('reports server events and connection counts', async () => {
    const server = net.createServer();
    const events: string[] = [];
    server.on('listening', () => events.push('listening'));
    server.on('connection', () => events.push('connection'));
    server.on('close', () => events.push('close'));
    const port = await listen(server);
    const client = net.connect(port, '127.0.0.1');
    await once(server, 'connection');
    const count = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    expect(count).toBe(1);
    const closed = closeServer(server);
    expect(server.address()).toBe(null);
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(['listening', 'connection']); // close waits for the connection
    client.end();
    await closed;
    expect(events).toEqual(['listening', 'connection', 'close']);
  });

  it('drops connections past maxConnections', async () => {
    const server = net.createServer((s) => s.resume());
    server.maxConnections = 1;
    const port = await listen(server);
    const first = net.connect(port, '127.0.0.1');
    await once(server, 'connection');
    const dropped = once(server, 'drop');
    const second = net.connect(port, '127.0.0.1');
    second.on('error', () => {});
    const secondClosed = onceEvent(second, 'close');
    second.resume();
    await dropped;
    await secondClosed;
    first.destroy();
    await closeServer(server);
  });

  it('emits timeout after idle time and resets it on activity', async () => {
    const server = net.createServer((s) => s.resume());
    const port = await listen(server);
    const client = net.connect({ port, host: '127.0.0.1', timeout: 80 });
    await once(client, 'connect');
    const start = Date.now();
    await once(client, 'timeout');
    expect(Date.now() - start).toBeGreaterThanOrEqual(60);
    client.setTimeout(0);
    expect(client.timeout).toBe(undefined);
    client.destroy();
    await closeServer(server);
  });
});

describe('interop with node:net over the kernel (catnap)', () => {
  let libos: LibOS;
  beforeAll(async () => {
    libos = await useLibOS('catnap');
  });
  afterAll(async () => {
    expect(await settledTokens(libos)).toBe(0);
    await libos.shutdown();
  });

  it('a node:net client talks to a @demi/net server', async () => {
    const server = net.createServer((s) => s.pipe(s));
    const port = await listen(server);
    const client = nodeNet.connect(port, '127.0.0.1');
    const got = collect(client);
    client.end('from node:net');
    expect((await got).toString()).toBe('from node:net');
    await closeServer(server);
  });

  it('a @demi/net client with allowHalfOpen keeps writing after a node:net server ends', async () => {
    const server = nodeNet.createServer({ allowHalfOpen: true }, (s) => {
      s.end('bye');
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c));
      s.on('end', () => server.emit('heard', Buffer.concat(chunks).toString()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as nodeNet.AddressInfo;
    const heard = onceEvent(server, 'heard');
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const clientClosed = onceEvent(client, 'close');
    const reply = collect(client);
    expect((await reply).toString()).toBe('bye');
    expect(client.writable).toBe(true);
    client.end('still writing after end of file');
    expect(await heard).toEqual(['still writing after end of file']);
    await clientClosed;
    await closeServer(server);
  });

  it('a demi socket without allowHalfOpen ends its side when the peer ends', async () => {
    const server = nodeNet.createServer({ allowHalfOpen: true }, (s) => {
      s.resume();
      s.on('end', () => server.emit('peer-ended'));
      s.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as nodeNet.AddressInfo;
    const peerEnded = onceEvent(server, 'peer-ended');
    const client = net.connect(port, '127.0.0.1');
    const clientClosed = onceEvent(client, 'close');
    client.resume();
    await peerEnded;
    await clientClosed;
    await closeServer(server);
  });

  it('bad arguments throw the errors node:net throws', () => {
    const cases: [string, (m: typeof nodeNet) => unknown][] = [
      ['connect()', (m) => (m.connect as () => unknown)()],
      ['connect(65536)', (m) => m.connect(65536)],
      ['connect(-1)', (m) => m.connect(-1)],
      ['connect({port: "abc"})', (m) => m.connect({ port: 'abc' as unknown as number })],
      ['connect({port: true})', (m) => m.connect({ port: true as unknown as number })],
      ['connect({host: 5})', (m) => m.connect({ port: 1, host: 5 as unknown as string })],
      ['localAddress', (m) => m.connect({ port: 1, localAddress: 'x' })],
      ['localPort', (m) => m.connect({ port: 1, localPort: 'x' as unknown as number })],
      ['family', (m) => m.connect({ port: 1, family: 5 })],
      ['timeout', (m) => m.connect({ port: 1, timeout: 'x' as unknown as number })],
      ['listen(65536)', (m) => m.createServer().listen(65536)],
      ['listen({port: -1})', (m) => m.createServer().listen({ port: -1 })],
      ['listen({})', (m) => m.createServer().listen({})],
      ['createServer(5)', (m) => m.createServer(5 as never)],
      ['setTimeout("x")', (m) => new m.Socket().setTimeout('x' as unknown as number)],
      ['setTimeout(-1)', (m) => new m.Socket().setTimeout(-1)],
      ['getConnections()', (m) => m.createServer().getConnections(undefined as never)],
    ];
    for (const [what, call] of cases) {
      let expected: Error | undefined;
      let actual: Error | undefined;
      try {
        call(nodeNet);
      } catch (err) {
        expected = err as Error;
      }
      try {
        call(net as unknown as typeof nodeNet);
      } catch (err) {
        actual = err as Error;
      }
      expect(expected, what).toBeDefined();
      expect(actual, what).toBeDefined();
      expect(
        { name: actual!.name, code: (actual as NodeJS.ErrnoException).code, msg: actual!.message },
        what,
      ).toEqual({
        name: expected!.name,
        code: (expected as NodeJS.ErrnoException).code,
        msg: expected!.message,
      });
    }
  });

  it('isIP, isIPv4 and isIPv6 match node:net', () => {
    for (const v of ['127.0.0.1', '::1', 'x', '', '1.2.3.256', 'fe80::1%eth0'])
      expect([net.isIP(v), net.isIPv4(v), net.isIPv6(v)]).toEqual([
        nodeNet.isIP(v),
        nodeNet.isIPv4(v),
        nodeNet.isIPv6(v),
      ]);
  });
});

describe('several LibOSes in one process', () => {
  it('serves catnap and catloop side by side', async () => {
    const { init } = await import('@demi/core');
    const catnap = await init({ libos: 'catnap' });
    const catloop = await init({ libos: 'catloop' });
    const servers = [catnap, catloop].map((libos) =>
      net.createServer({ libos }, (s) => s.end(libos.name)),
    );
    const ports = await Promise.all(servers.map((s) => listen(s)));
    const replies = await Promise.all(
      [catnap, catloop].map((libos, i) =>
        collect(net.connect({ port: ports[i]!, host: '127.0.0.1', libos })),
      ),
    );
    expect(replies.map(String)).toEqual(['catnap', 'catloop']);
    await Promise.all(servers.map(closeServer));
    expect(await settledTokens(catnap)).toBe(0);
    expect(await settledTokens(catloop)).toBe(0);
    await catnap.shutdown();
    await catloop.shutdown();
  });
});
