import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { AF_INET, Opcode, SOCK_DGRAM } from '@demi/core';
import { sgaOf } from '@demi/core/conformance';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catnap } from '../src/index.js';
import { deferred } from './support/deferred.js';

let libos: Catnap;
beforeEach(() => {
  libos = new Catnap();
});
afterEach(async () => {
  await libos.shutdown();
});

describe('UDP with node:dgram', () => {
  it('catnap server answers node:dgram clients and sees their addresses', async () => {
    const qd = libos.socket(AF_INET, SOCK_DGRAM);
    libos.bind(qd, { address: '127.0.0.1', port: 0 });
    const { port } = libos.getsockname(qd);
    const client = createSocket('udp4');
    client.bind(0, '127.0.0.1');
    await once(client, 'listening');
    const replies: string[] = [];
    const allReplies = deferred();
    client.on('message', (msg: Buffer) => {
      replies.push(msg.toString());
      if (replies.length === 5) allReplies.resolve();
    });
    for (let i = 0; i < 5; i++) {
      client.send(`datagram ${i}`, port, '127.0.0.1');
      const got = await libos.wait(libos.pop(qd));
      expect(got.opcode).toBe(Opcode.POP);
      expect(got.addr).toEqual({ address: '127.0.0.1', port: client.address().port });
      expect(got.sga!.addr).toEqual(got.addr);
      const text = Buffer.from(got.sga!.segments[0]!).toString();
      expect(text).toBe(`datagram ${i}`);
      await libos.wait(libos.pushto(qd, sgaOf(`re: ${text}`), got.addr!));
    }
    await allReplies.promise;
    expect(replies).toEqual([0, 1, 2, 3, 4].map((i) => `re: datagram ${i}`));
    client.close();
    libos.close(qd);
  });

  it('catnap client sends to a node:dgram server and pops its answer', async () => {
    const server = createSocket('udp4');
    server.on('message', (msg: Buffer, rinfo: RemoteInfo) =>
      server.send(Buffer.concat([msg, msg]), rinfo.port, rinfo.address),
    );
    server.bind(0, '127.0.0.1');
    await once(server, 'listening');
    const port = server.address().port;
    const qd = libos.socket(AF_INET, SOCK_DGRAM);
    const sent = await libos.wait(libos.pushto(qd, sgaOf('abc'), { address: '127.0.0.1', port }));
    expect(sent.opcode).toBe(Opcode.PUSH);
    const got = await libos.wait(libos.pop(qd));
    expect(Buffer.from(got.sga!.segments[0]!).toString()).toBe('abcabc');
    expect(got.addr).toEqual({ address: '127.0.0.1', port });
    // Datagram boundaries hold: two sends, two pops.
    await libos.wait(libos.pushto(qd, sgaOf('x'), { address: '127.0.0.1', port }));
    await libos.wait(libos.pushto(qd, sgaOf('yz'), { address: '127.0.0.1', port }));
    const a = await libos.wait(libos.pop(qd));
    const b = await libos.wait(libos.pop(qd));
    expect([
      Buffer.from(a.sga!.segments[0]!).toString(),
      Buffer.from(b.sga!.segments[0]!).toString(),
    ]).toEqual(['xx', 'yzyz']);
    server.close();
    libos.close(qd);
  });
});
