import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { AF_INET, Opcode, SOCK_STREAM } from '@demi/core';
import { equalBytes, pattern, popExactly, pushAll, sgaOf } from '@demi/core/conformance';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catnap } from '../src/index.js';
import { deferred } from './support/deferred.js';
import { echoServer } from './support/echo.js';

// Peers not written here: Node's own TCP (libuv) on the other end of every connection.

let libos: Catnap;
beforeEach(() => {
  libos = new Catnap();
});
afterEach(async () => {
  await libos.shutdown();
});

function listen(backlog = 64): { qd: number; port: number } {
  const qd = libos.socket(AF_INET, SOCK_STREAM);
  libos.bind(qd, { address: '127.0.0.1', port: 0 });
  libos.listen(qd, backlog);
  return { qd, port: libos.getsockname(qd).port };
}

/** Sends `data` on a node:net socket and collects everything until the peer closes. */
async function netRoundTrip(port: number, data: Buffer): Promise<Buffer> {
  const socket = createConnection({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'connect');
  socket.end(data);
  await once(socket, 'close');
  return Buffer.concat(chunks);
}

describe('catnap server, node:net clients', () => {
  it('echoes for 16 concurrent clients, each byte exact', async () => {
    const { qd, port } = listen();
    const n = 16;
    const serving = echoServer(libos, qd, n);
    const payloads = Array.from({ length: n }, (_, i) =>
      Buffer.from(pattern(1000 + i * 3001, i + 1)),
    );
    const echoed = await Promise.all(payloads.map((p) => netRoundTrip(port, p)));
    for (let i = 0; i < n; i++) expect(echoed[i]!.equals(payloads[i]!)).toBe(true);
    expect(await serving).toEqual(payloads.map((p) => p.byteLength));
    libos.close(qd);
  });

  it('sees the client address in accept and getpeername', async () => {
    const { qd, port } = listen();
    const accepting = libos.wait(libos.accept(qd));
    const client = createConnection({ host: '127.0.0.1', port });
    await once(client, 'connect');
    const accepted = await accepting;
    expect(accepted.opcode).toBe(Opcode.ACCEPT);
    expect(accepted.accepted!.addr).toEqual({ address: '127.0.0.1', port: client.localPort });
    expect(libos.getpeername(accepted.accepted!.qd)).toEqual({
      address: '127.0.0.1',
      port: client.localPort,
    });
    client.destroy();
    libos.close(accepted.accepted!.qd);
    libos.close(qd);
  });
});

describe('catnap client, node:net server', () => {
  it('connects, pushes, pops the echo, sees EOF when the server ends', async () => {
    const server = createServer((socket) => socket.pipe(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    const connected = await libos.wait(libos.connect(qd, { address: '127.0.0.1', port }));
    expect(connected.opcode).toBe(Opcode.CONNECT);
    expect(libos.getpeername(qd)).toEqual({ address: '127.0.0.1', port });
    for (const text of ['one', 'two two', 'three three three']) {
      expect((await libos.wait(libos.push(qd, sgaOf(text)))).opcode).toBe(Opcode.PUSH);
      const got = await popExactly(libos, qd, text.length);
      expect(Buffer.from(got).toString()).toBe(text);
    }
    // Half-close: node's pipe() ends its side once ours ends, which is our EOF.
    await libos.wait(libos.asyncClose(qd));
    server.close();
  });

  it('gets EOF (a zero-length pop) when the node:net peer closes', async () => {
    const server = createServer((socket) => socket.end('bye'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    await libos.wait(libos.connect(qd, { address: '127.0.0.1', port }));
    expect(Buffer.from(await popExactly(libos, qd, 3)).toString()).toBe('bye');
    const eof = await libos.wait(libos.pop(qd));
    expect(eof.opcode).toBe(Opcode.POP);
    expect(eof.sga!.segments[0]!.byteLength).toBe(0);
    libos.close(qd);
    server.close();
  });
});

describe('16 MiB byte exact in each direction with node:net', () => {
  it('catnap → node:net and node:net → catnap on one connection', async () => {
    const size = 16 * 1024 * 1024;
    const up = pattern(size, 11);
    const down = Buffer.from(pattern(size, 12));
    const received: Buffer[] = [];
    let receivedBytes = 0;
    const allReceived = deferred();
    let peer: Socket | undefined;
    const server = createServer((socket) => {
      peer = socket;
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        receivedBytes += chunk.byteLength;
        if (receivedBytes === size) allReceived.resolve();
      });
      socket.write(down);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    await libos.wait(libos.connect(qd, { address: '127.0.0.1', port }));
    const [, gotDown] = await Promise.all([
      pushAll(libos, qd, up, 256 * 1024),
      popExactly(libos, qd, size),
    ]);
    await allReceived.promise;
    expect(equalBytes(Buffer.concat(received), up)).toBe(true);
    expect(equalBytes(gotDown, down)).toBe(true);
    libos.close(qd);
    peer?.destroy();
    server.close();
  });
});
