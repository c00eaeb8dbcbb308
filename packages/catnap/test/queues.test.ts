// Per-socket operation queues against kernel peers (node:net): many sockets
// each with one pop pending, several pops queued on one socket, and pushes
// queued far beyond the socket buffer, drained, and queued again.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { AF_INET, Opcode, type QResult, SOCK_STREAM } from '@demi/core';
import { bytes, equalBytes, pattern } from '@demi/core/conformance';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catnap } from '../src/index.js';

let libos: Catnap;
beforeEach(() => {
  libos = new Catnap();
});
afterEach(async () => {
  await libos.shutdown();
});

function listen(): { qd: number; port: number } {
  const qd = libos.socket(AF_INET, SOCK_STREAM);
  libos.bind(qd, { address: '127.0.0.1', port: 0 });
  libos.listen(qd, 512);
  return { qd, port: libos.getsockname(qd).port };
}

describe('operation queues', () => {
  it('300 connections, each with one small pop pending, each get their own bytes', async () => {
    const { qd: listener, port } = listen();
    const peers: Socket[] = [];
    const accepted: number[] = [];
    for (let i = 0; i < 300; i++) {
      const peer = createConnection({ host: '127.0.0.1', port });
      peers.push(peer);
      await once(peer, 'connect');
      const r = await libos.wait(libos.accept(listener));
      expect(r.opcode).toBe(Opcode.ACCEPT);
      accepted.push(r.accepted!.qd);
    }
    // Which peer is which accepted socket: ask each for its peer's port.
    const byPort = new Map(accepted.map((qd) => [libos.getpeername(qd).port, qd]));
    const pops = new Map<number, number>(); // qd -> token
    for (const qd of accepted) pops.set(qd, libos.pop(qd));
    const expected = new Map<number, Uint8Array>();
    peers.forEach((peer, i) => {
      const message = pattern(16 + (i % 48), i + 1);
      expected.set(byPort.get(peer.localPort!)!, message);
      peer.write(message);
    });
    const results = await Promise.all([...pops].map(([, qt]) => libos.wait(qt)));
    for (const r of results) {
      expect(r.opcode).toBe(Opcode.POP);
      expect(equalBytes(bytes(r.sga), expected.get(r.qd)!)).toBe(true);
    }
    for (const peer of peers) peer.destroy();
    for (const qd of accepted) libos.close(qd);
    libos.close(listener);
  });

  it('pops queued on one socket complete in the order they were issued', async () => {
    const { qd: listener, port } = listen();
    const peer = createConnection({ host: '127.0.0.1', port });
    await once(peer, 'connect');
    const qd = (await libos.wait(libos.accept(listener))).accepted!.qd;
    const tokens = Array.from({ length: 100 }, () => libos.pop(qd, 10));
    const sent = pattern(1000, 7);
    peer.write(sent);
    const got: Uint8Array[] = [];
    for (const qt of tokens) got.push(bytes((await libos.wait(qt)).sga));
    const joined = Buffer.concat(got);
    expect(joined.byteLength).toBe(1000);
    expect(equalBytes(joined, sent)).toBe(true);
    peer.destroy();
    libos.close(qd);
    libos.close(listener);
  });

  it('pushes queued far beyond the socket buffer arrive whole and in order, twice over', async () => {
    let received = createHash('sha256');
    let receivedBytes = 0;
    let peer: Socket | undefined;
    const server = createServer((s) => {
      peer = s;
      s.pause(); // let pushes queue in the engine until we resume
      s.on('data', (chunk) => {
        received.update(chunk);
        receivedBytes += chunk.byteLength;
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    expect((await libos.wait(libos.connect(qd, { address: '127.0.0.1', port }))).opcode).toBe(
      Opcode.CONNECT,
    );
    while (peer === undefined) await new Promise((r) => setTimeout(r, 5));
    for (const burst of [1, 2]) {
      const sent = createHash('sha256');
      const tokens: number[] = [];
      for (let i = 0; i < 400; i++) {
        const chunk = pattern(64 * 1024, burst * 1000 + i);
        sent.update(chunk);
        tokens.push(libos.push(qd, { segments: [chunk] }));
      }
      peer.resume();
      const done: QResult[] = [];
      for (const qt of tokens) done.push(await libos.wait(qt));
      expect(done.every((r) => r.opcode === Opcode.PUSH)).toBe(true);
      while (receivedBytes < 400 * 64 * 1024) await new Promise((r) => setTimeout(r, 5));
      expect(receivedBytes).toBe(400 * 64 * 1024);
      expect(received.digest('hex')).toBe(sent.digest('hex'));
      peer.pause();
      received = createHash('sha256');
      receivedBytes = 0;
    }
    libos.close(qd);
    peer.destroy();
    server.close();
  });
});
