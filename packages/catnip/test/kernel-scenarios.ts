// Scenarios of catnip's stack against the Linux kernel over the veth harness,
// shared by the clean-link suite and the 1% loss suite.
import { createHash } from 'node:crypto';
import { AF_INET, type LibOS, Opcode, type QResult, SOCK_DGRAM, SOCK_STREAM } from '@demi/core';
import { expect, it } from 'vitest';
import type { NetnsPair } from '../../../tools/netns/index.mjs';
import { Pattern, pumpUntil, startPeer } from './kernel-peer.js';

export interface KernelScenarioOptions {
  pair(): NetnsPair;
  libos(): LibOS;
  /** Bytes each way in the bulk scenarios. */
  bulkBytes: number;
  /** Pings sent, and how many replies are required. */
  pings: number;
  minReplies: number;
  timeoutMs: number;
}

const text = (r: QResult) =>
  Buffer.concat((r.sga?.segments ?? []).map((s) => Buffer.from(s))).toString();
const lastLine = (out: string) => out.trim().split('\n').pop() ?? '';
const size = (r: QResult) => (r.sga?.segments ?? []).reduce((n, s) => n + s.byteLength, 0);
let nextPort = 20000 + Math.floor(Math.random() * 20000);

export function kernelScenarios(o: KernelScenarioOptions): void {
  async function ok(libos: LibOS, qt: number, opcode: number): Promise<QResult> {
    const r = await libos.wait(qt, o.timeoutMs);
    expect(r.opcode, `opcode (ret ${r.ret})`).toBe(opcode);
    return r;
  }

  it('answers ARP and ping from the kernel', async () => {
    const pair = o.pair();
    const libos = o.libos();
    const ping = pair.spawn(
      'peer',
      'ping',
      ['-c', String(o.pings), '-i', '0.2', '-W', '3', pair.devIp],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    ping.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await pumpUntil(libos, new Promise((resolve) => ping.on('exit', resolve)));
    const received = Number(/(\d+) received/.exec(out)?.[1] ?? 0);
    expect(received, out).toBeGreaterThanOrEqual(o.minReplies);
    const neigh = pair.exec('peer', 'ip', ['neigh', 'show', pair.devIp]).stdout;
    expect(neigh).toContain(
      Buffer.from((libos as unknown as { stack: { config: { mac: Uint8Array } } }).stack.config.mac)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1:'),
    );
  });

  it('TCP: a kernel client connects and its bytes are echoed back', async () => {
    const pair = o.pair();
    const libos = o.libos();
    const port = nextPort++;
    const l = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(l, { address: pair.devIp, port });
    libos.listen(l, 4);
    const acceptQt = libos.accept(l);
    const message = `hello from the kernel ${'x'.repeat(3000)}`;
    const peer = startPeer(pair, ['connect-echo', pair.devIp, String(port), message]);
    const accepted = await ok(libos, acceptQt, Opcode.ACCEPT);
    expect(accepted.accepted!.addr.address).toBe(pair.peerIp);
    const qd = accepted.accepted!.qd;
    let got = '';
    while (got.length < message.length) {
      const r = await ok(libos, libos.pop(qd), Opcode.POP);
      expect(size(r)).toBeGreaterThan(0);
      got += text(r);
      await ok(libos, libos.push(qd, r.sga!), Opcode.PUSH);
    }
    expect(got).toBe(message);
    expect(lastLine(await pumpUntil(libos, peer.done))).toBe(message);
    libos.close(qd);
    libos.close(l);
  });

  it('TCP: catnip connects to a kernel server and gets its bytes back', async () => {
    const pair = o.pair();
    const libos = o.libos();
    const port = nextPort++;
    const peer = startPeer(pair, ['echo', pair.peerIp, String(port)]);
    await peer.ready;
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    await ok(libos, libos.connect(qd, { address: pair.peerIp, port }), Opcode.CONNECT);
    expect(libos.getpeername(qd)).toEqual({ address: pair.peerIp, port });
    const data = new Uint8Array(64 * 1024);
    new Pattern(7).fill(data);
    await ok(libos, libos.push(qd, { segments: [data] }), Opcode.PUSH);
    const back = new Uint8Array(data.byteLength);
    let got = 0;
    while (got < data.byteLength) {
      const r = await ok(libos, libos.pop(qd), Opcode.POP);
      for (const s of r.sga!.segments) {
        back.set(s, got);
        got += s.byteLength;
      }
    }
    expect(Buffer.compare(back, data)).toBe(0);
    await ok(libos, libos.asyncClose(qd), Opcode.CLOSE);
    await pumpUntil(libos, peer.done);
  });

  it('UDP: a datagram to the kernel comes back to our address', async () => {
    const pair = o.pair();
    const libos = o.libos();
    const port = nextPort++;
    const peer = startPeer(pair, ['udp-echo', pair.peerIp, String(port)]);
    await peer.ready;
    const qd = libos.socket(AF_INET, SOCK_DGRAM);
    libos.bind(qd, { address: pair.devIp, port: port + 1 });
    const pop = libos.pop(qd);
    // Datagrams can be lost (the loss suite): send until the echo arrives.
    let reply: QResult | undefined;
    for (let i = 0; i < 20 && reply === undefined; i++) {
      await ok(
        libos,
        libos.pushto(
          qd,
          { segments: [new TextEncoder().encode('datagram')] },
          { address: pair.peerIp, port },
        ),
        Opcode.PUSH,
      );
      reply = await libos.wait(pop, 500).catch(() => undefined);
    }
    expect(reply).toBeDefined();
    expect(text(reply!)).toBe('datagram');
    expect(reply!.addr ?? reply!.sga?.addr).toEqual({ address: pair.peerIp, port });
    expect(lastLine(await pumpUntil(libos, peer.done))).toBe(`datagram ${pair.devIp} ${port + 1}`);
    libos.close(qd);
  });

  it(`receives ${o.bulkBytes / 2 ** 20} MiB from the kernel byte-exact`, async () => {
    const pair = o.pair();
    const libos = o.libos();
    const port = nextPort++;
    const peer = startPeer(pair, ['source', pair.peerIp, String(port), String(o.bulkBytes), '11']);
    await peer.ready;
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    await ok(libos, libos.connect(qd, { address: pair.peerIp, port }), Opcode.CONNECT);
    const expected = new Pattern(11);
    for (;;) {
      const r = await ok(libos, libos.pop(qd, 1 << 20), Opcode.POP);
      if (size(r) === 0) break;
      for (const s of r.sga!.segments) expect(expected.check(s)).toBe(-1);
    }
    expect(expected.offset).toBe(o.bulkBytes);
    libos.close(qd);
    await pumpUntil(libos, peer.done);
  });

  it(`sends ${o.bulkBytes / 2 ** 20} MiB to the kernel byte-exact`, async () => {
    const pair = o.pair();
    const libos = o.libos();
    const port = nextPort++;
    const peer = startPeer(pair, ['sink', pair.peerIp, String(port)]);
    await peer.ready;
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    await ok(libos, libos.connect(qd, { address: pair.peerIp, port }), Opcode.CONNECT);
    const source = new Pattern(12);
    const hash = createHash('sha256');
    const chunk = 256 * 1024;
    const inflight: Promise<QResult>[] = [];
    for (let sent = 0; sent < o.bulkBytes; sent += chunk) {
      const data = new Uint8Array(Math.min(chunk, o.bulkBytes - sent));
      source.fill(data);
      hash.update(data);
      inflight.push(ok(libos, libos.push(qd, { segments: [data] }), Opcode.PUSH));
      if (inflight.length >= 8) await inflight.shift();
    }
    await Promise.all(inflight);
    await ok(libos, libos.asyncClose(qd), Opcode.CLOSE);
    const [count, digest] = lastLine(await pumpUntil(libos, peer.done)).split(' ');
    expect(Number(count)).toBe(o.bulkBytes);
    expect(digest).toBe(hash.digest('hex'));
  });
}
