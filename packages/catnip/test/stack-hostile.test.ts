// catnip's stack (DPDK net_af_packet on a veth) against SYN floods from the peer
// namespace (tools/netns/forge.py), the kernel as the legitimate client: the
// flood scenarios of @demi/catpowder's stack-hostile suite.
import { fileURLToPath } from 'node:url';
import { AF_INET, type LibOS, Opcode, SOCK_DGRAM, SOCK_STREAM } from '@demi/core';
import { describePrivileged } from '@demi/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NetnsPair } from '../../../tools/netns/index.mjs';
import { useNetnsPair } from '../../../tools/netns/vitest.mjs';
import { CatnipLibOS } from '../src/index.js';
import { missingNetnsDpdk, sleep } from './helpers.js';
import { pumpUntil } from './kernel-peer.js';

const FORGE = fileURLToPath(new URL('../../../tools/netns/forge.py', import.meta.url));
// Debian's interpreter, which has python3-scapy.
const PYTHON = '/usr/bin/python3';
const FLOOD = 20_000;
const CLIENT = `
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
s.sendall(b"hello")
s.close()
`;

/** Runs a command in the peer namespace without blocking the event loop. */
function run(
  pair: NetnsPair,
  cmd: string,
  args: string[],
): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = pair.spawn('peer', cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: no exit in time: ${out}`));
    }, 120_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, out });
    });
  });
}

async function acceptTexts(libos: LibOS, listener: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = await libos.wait(libos.accept(listener), 90_000);
    expect(a.opcode).toBe(Opcode.ACCEPT);
    const qd = a.accepted!.qd;
    let text = '';
    for (;;) {
      const r = await libos.wait(libos.pop(qd), 30_000);
      const seg = r.sga?.segments[0];
      if (seg === undefined || seg.byteLength === 0) break;
      text += Buffer.from(seg).toString();
    }
    libos.close(qd);
    out.push(text);
  }
  return out;
}

describePrivileged('catnip stack (net_af_packet) against hostile peers', missingNetnsDpdk, () => {
  const net = useNetnsPair();
  let libos: CatnipLibOS;
  beforeAll(() => {
    const { pair } = net;
    libos = new CatnipLibOS({
      config: { demikernel: { local_ipv4_addr: pair.devIp, prefix_length: 24 } },
      device: { vdevs: [`net_af_packet0,iface=${pair.devIf}`], netns: pair.devNs },
    });
  });
  afterAll(async () => {
    await libos?.shutdown();
  });

  const flood = (port: number, sources: string, seed: number) => {
    const p = net.pair;
    return run(p, PYTHON, [
      FORGE,
      'syn-flood',
      p.peerIf,
      p.devMac,
      p.devIp,
      String(port),
      String(FLOOD),
      sources,
      String(seed),
    ]);
  };
  const client = (port: number) =>
    run(net.pair, PYTHON, ['-c', CLIENT, net.pair.devIp, String(port)]);
  const listen = (port: number) => {
    const l = libos.socket(AF_INET, SOCK_STREAM);
    libos.bind(l, { address: net.pair.devIp, port });
    libos.listen(l, 16);
    return l;
  };
  /** The kernel knows the stack's MAC before a flood, as it would from earlier traffic. */
  const resolved = async () => {
    const r = await pumpUntil(libos, run(net.pair, 'ping', ['-c', '1', '-W', '5', net.pair.devIp]));
    expect(r.status).toBe(0);
  };

  it('a legitimate kernel client connects during and right after a 20,000-SYN flood', async () => {
    const l = listen(8080);
    await resolved();
    const texts = acceptTexts(libos, l, 2);
    texts.catch(() => {});
    const flooding = flood(8080, 'subnet', 1);
    await sleep(100);
    const during = await client(8080);
    expect((await flooding).out).toContain(`sent ${FLOOD}`);
    const after = await client(8080);
    expect([during.status, during.out]).toEqual([0, '']);
    expect([after.status, after.out]).toEqual([0, '']);
    expect(await texts).toEqual(['hello', 'hello']);
    expect(libos.stack.stats.tcpSynCookiesSent).toBeGreaterThan(0);
    expect(libos.stack.tcp.connectionCount).toBeLessThanOrEqual(
      libos.stack.config.tcp.synBacklog + 2,
    );
    libos.close(l);
  });

  it('a random-source SYN flood sends no ARP and keeps the stack state bounded', async () => {
    const stack = libos.stack;
    const l = listen(8081);
    await resolved();
    const texts = acceptTexts(libos, l, 1);
    texts.catch(() => {});
    const arpOut = stack.stats.arpOut;
    expect((await flood(8081, 'any', 2)).out).toContain(`sent ${FLOOD}`);
    const after = await client(8081);
    expect([after.status, after.out]).toEqual([0, '']);
    expect(await texts).toEqual(['hello']);
    expect(stack.stats.arpOut - arpOut).toBe(0);
    expect(stack.arp.pendingCount).toBe(0);
    expect(stack.tcp.connectionCount).toBeLessThanOrEqual(stack.config.tcp.synBacklog + 1);
    libos.close(l);
  });

  it('a fragmented UDP datagram with a forged checksum is not delivered', async () => {
    // DPDK's net_af_packet joins a packet fanout with the kernel's defragment flag: the
    // kernel hands it whole datagrams, and one larger than the MTU never fits a slot.
    // A datagram that fits once joined (1,000 bytes in fragments of 512) still exercises
    // forged fragments end to end.
    const p = net.pair;
    const qd = libos.socket(AF_INET, SOCK_DGRAM);
    libos.bind(qd, { address: p.devIp, port: 7007 });
    const popped = libos.wait(libos.pop(qd), 30_000);
    const r = await run(p, PYTHON, [
      FORGE,
      'frag-udp',
      p.peerIf,
      p.devMac,
      p.peerIp,
      p.devIp,
      '7007',
      '512',
      '1000',
    ]);
    expect(r.out).toContain('sent 4');
    const seg = (await popped).sga!.segments[0]!;
    expect(Buffer.from(seg).equals(Buffer.alloc(1000, 'G'))).toBe(true);
    libos.close(qd);
  });
});
