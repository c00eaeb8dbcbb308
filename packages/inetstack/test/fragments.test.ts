import { describe, expect, it } from 'vitest';
import type { MemoryLinkOptions } from '../src/device/memory-link.js';
import type { StackConfigInput } from '../src/stack/config.js';
import {
  emitTcp,
  emitUdp,
  IPPROTO_TCP,
  IPPROTO_UDP,
  TCP_SYN,
  TcpOptions,
} from '../src/wire/index.js';
import { Harness, ip, ipFrame, PEER_IP, PEER_MAC, STACK_IP } from './support/harness.js';

// A device (NIC, AF_XDP, DPDK) can only vouch for the checksum of a frame it saw
// whole; a reassembled datagram's transport checksum is the stack's to verify.

function stack(linkOptions: MemoryLinkOptions = {}, config: Partial<StackConfigInput> = {}) {
  return new Harness({ arp: { table: { [PEER_MAC]: PEER_IP } }, ...config }, linkOptions);
}

function udpDatagram(payload: Uint8Array, dstPort = 7): Uint8Array {
  const l4 = new Uint8Array(8 + payload.length);
  emitUdp({ srcPort: 1, dstPort, payload }, l4, 0, ip(PEER_IP), ip(STACK_IP));
  return l4;
}

/** Splits a transport message into fragments of `step` bytes (a multiple of 8). */
function fragments(l4: Uint8Array, protocol: number, ident: number, step = 1480): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < l4.length; at += step) {
    const end = Math.min(at + step, l4.length);
    out.push(
      ipFrame(
        { protocol, ident, fragmentOffset: at, moreFragments: end < l4.length },
        l4.subarray(at, end),
      ),
    );
  }
  return out;
}

const payload = (n: number, seed = 0) => new Uint8Array(n).map((_, i) => (i + seed) % 251);

describe('checksums of reassembled datagrams', () => {
  const offloaded: Array<[string, MemoryLinkOptions, Partial<StackConfigInput>]> = [
    ['no offload', {}, {}],
    ['a device claiming rx checksum offload', { offloads: { rxChecksum: true } }, {}],
    ['checksum offload configured', {}, { checksumOffload: { udp: true, tcp: true } }],
  ];

  for (const [name, link, config] of offloaded) {
    it(`drops a fragmented UDP datagram with a bad checksum (${name})`, () => {
      const h = stack(link, config);
      const ep = h.stack.udp.bind(7);
      if (typeof ep === 'number') throw new Error();
      const good = udpDatagram(payload(3000));
      for (const f of fragments(good, IPPROTO_UDP, 1)) h.inject(f);
      expect(ep.queue.size).toBe(1);
      ep.queue.shift();
      const bad = udpDatagram(payload(3000));
      bad[2000]! ^= 0x40;
      const before = h.stack.stats.rxBadChecksum;
      for (const f of fragments(bad, IPPROTO_UDP, 2)) h.inject(f);
      expect(ep.queue.size).toBe(0);
      expect(h.stack.stats.rxBadChecksum).toBe(before + 1);
    });

    it(`drops a fragmented TCP segment with a bad checksum (${name})`, () => {
      const h = stack(link, config);
      h.stack.tcp.listen(80, 8);
      const syn = (corrupt: boolean, srcPort: number) => {
        const l4 = new Uint8Array(40);
        const n = emitTcp(
          {
            srcPort,
            dstPort: 80,
            seq: 1000,
            ack: 0,
            flags: TCP_SYN,
            window: 65535,
            options: new TcpOptions(),
            payload: new Uint8Array(0),
          },
          l4,
          0,
          ip(PEER_IP),
          ip(STACK_IP),
        );
        if (corrupt) l4[4]! ^= 1;
        return fragments(l4.subarray(0, n), IPPROTO_TCP, srcPort, 8);
      };
      for (const f of syn(true, 5001)) h.inject(f);
      expect(h.sent()).toEqual([]);
      for (const f of syn(false, 5002)) h.inject(f);
      expect(h.one().tcp?.dstPort).toBe(5002);
    });
  }
});

describe('overlapping fragments', () => {
  it('an overlap with different bytes drops the whole datagram', () => {
    const h = stack();
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    const l4 = udpDatagram(payload(3000));
    const [a, b, c] = fragments(l4, IPPROTO_UDP, 9);
    // A second copy of bytes 1480..2960 that says something else, sent before the real one.
    const forged = l4.slice(1480, 2960);
    forged[100]! ^= 0xff;
    h.inject(a!);
    h.inject(
      ipFrame(
        { protocol: IPPROTO_UDP, ident: 9, fragmentOffset: 1480, moreFragments: true },
        forged,
      ),
    );
    h.inject(b!);
    expect(h.stack.stats.reassemblyOverlaps).toBe(1);
    expect(h.stack.ipv4.reassembly.inProgress).toBe(0);
    h.inject(c!);
    expect(ep.queue.size).toBe(0);
  });

  it('a partial overlap rewriting delivered bytes (last write would win) drops the datagram', () => {
    const h = stack();
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    const l4 = udpDatagram(payload(2000));
    h.inject(
      ipFrame({ protocol: IPPROTO_UDP, ident: 4, moreFragments: true }, l4.subarray(0, 1000)),
    );
    // Starts inside the first fragment (teardrop-style) and changes bytes there.
    const tail = l4.slice(992);
    tail[0]! ^= 1;
    h.inject(ipFrame({ protocol: IPPROTO_UDP, ident: 4, fragmentOffset: 992 }, tail));
    expect(ep.queue.size).toBe(0);
    expect(h.stack.stats.reassemblyOverlaps).toBe(1);
  });

  it('an overlap repeating the same bytes is harmless', () => {
    const h = stack();
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    const l4 = udpDatagram(payload(2000));
    h.inject(
      ipFrame({ protocol: IPPROTO_UDP, ident: 4, moreFragments: true }, l4.subarray(0, 1000)),
    );
    h.inject(ipFrame({ protocol: IPPROTO_UDP, ident: 4, fragmentOffset: 992 }, l4.subarray(992)));
    expect(ep.queue.size).toBe(1);
    expect(ep.queue.shift()!.data).toEqual(payload(2000));
    expect(h.stack.stats.reassemblyOverlaps).toBe(0);
  });
});

describe('reassembly under a fragment flood', () => {
  /** A fragmented echo request of `size` bytes, as fragments of 1480. */
  function ping(ident: number, size = 3000): Uint8Array[] {
    const l4 = new Uint8Array(8 + size);
    l4[0] = 8;
    l4.set(payload(size, ident), 8);
    let sum = 0;
    for (let i = 0; i < l4.length; i += 2) sum += (l4[i]! << 8) | (l4[i + 1] ?? 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    l4[2] = c >>> 8;
    l4[3] = c & 0xff;
    return fragments(l4, 1, ident);
  }
  const replies = (h: Harness) =>
    h.sent().filter((s) => s.ip?.protocol === 1 && s.ip.fragmentOffset === 0).length;

  it('first fragments arriving faster than they expire do not starve legitimate fragmented datagrams', () => {
    const h = stack();
    let forged = 0;
    let answered = 0;
    for (let round = 0; round < 12; round++) {
      // 70 eight-byte first fragments that never complete, then a real fragmented ping.
      for (let i = 0; i < 70; i++)
        h.inject(
          ipFrame(
            { protocol: IPPROTO_UDP, ident: 40000 + forged++, moreFragments: true },
            new Uint8Array(8),
          ),
        );
      for (const f of ping(round)) h.inject(f);
      answered += replies(h);
      h.advance(7000);
    }
    expect(answered).toBe(12);
    expect(h.stack.ipv4.reassembly.bytesHeld).toBeLessThanOrEqual(
      h.stack.config.ip.reassemblyMaxBytes,
    );
  });

  it('memory stays under the bound and the oldest datagrams go first', () => {
    const h = stack({}, { ip: { reassemblyMaxBytes: 1 << 20 } });
    const r = h.stack.ipv4.reassembly;
    const max = h.stack.config.ip.reassemblyMaxBytes;
    let peak = 0;
    const forge = (ident: number) =>
      h.inject(
        ipFrame({ protocol: IPPROTO_UDP, ident, moreFragments: true }, new Uint8Array(1480)),
      );
    for (let i = 0; i < 5000; i++) {
      forge(i);
      peak = Math.max(peak, r.bytesHeld);
    }
    expect(peak).toBeLessThanOrEqual(max);
    expect(h.stack.stats.reassemblyEvictions).toBeGreaterThan(4000);
    // A real datagram's first half, then more flood than a quarter of the bound: it survives.
    const [a, b, c] = ping(9);
    h.inject(a!);
    for (let i = 0; i < 100; i++) forge(10000 + i);
    h.inject(b!);
    h.inject(c!);
    expect(replies(h)).toBe(1);
    expect(r.bytesHeld).toBeLessThanOrEqual(max);
  });
});
