import { ERRNO } from '@demi/core';
import { describe, expect, it } from 'vitest';
import { TX_PENDING } from '../src/arp/arp-layer.js';
import { formatMac, MAC_BROADCAST } from '../src/util/addr.js';
import {
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ETHERTYPE_IPV4,
  emitUdp,
  IPPROTO_UDP,
} from '../src/wire/index.js';
import {
  arpFrame,
  ethernet,
  Harness,
  ip,
  ipFrame,
  ipv4Packet,
  mac,
  PEER_IP,
  PEER_MAC,
  STACK_IP,
  STACK_MAC,
  udpFrame,
} from './support/harness.js';

const request = (targetIp = STACK_IP, senderIp = PEER_IP) =>
  arpFrame({
    operation: ARP_OP_REQUEST,
    senderMac: mac(PEER_MAC),
    senderIp: ip(senderIp),
    targetMac: new Uint8Array(6),
    targetIp: ip(targetIp),
  });

describe('ethernet', () => {
  it('drops frames for another MAC and unknown ethertypes', () => {
    const h = new Harness();
    h.inject(ethernet('02:00:00:00:00:99', PEER_MAC, 0x0806, new Uint8Array(28)));
    h.inject(ethernet(STACK_MAC, PEER_MAC, 0x86dd, new Uint8Array(40)));
    h.nothing();
    expect(h.stack.stats.rxNotForUs).toBe(1);
    expect(h.stack.stats.rxUnknownProtocol).toBe(1);
  });
});

describe('arp', () => {
  it('answers a request for its address with a unicast reply', () => {
    const h = new Harness();
    h.inject(request());
    const r = h.one();
    expect(formatMac(r.dst)).toBe(PEER_MAC);
    expect(r.arp).toMatchObject({
      operation: ARP_OP_REPLY,
      senderIp: ip(STACK_IP),
      targetIp: ip(PEER_IP),
    });
    expect(formatMac(r.arp!.senderMac)).toBe(STACK_MAC);
    expect(formatMac(r.arp!.targetMac)).toBe(PEER_MAC);
  });
  it('ignores requests for other addresses and does not learn from them', () => {
    const h = new Harness();
    h.inject(request('10.0.0.77'));
    h.nothing();
    expect(h.stack.arp.cache.has(ip(PEER_IP))).toBe(false);
  });
  it('learns the sender of a request for us', () => {
    const h = new Harness();
    h.inject(request());
    h.sent();
    expect(formatMac(h.stack.arp.cache.get(ip(PEER_IP))!.mac)).toBe(PEER_MAC);
  });
  it('resolves before sending, queues, and sends on the reply', () => {
    const h = new Harness();
    const ep = h.stack.udp.bind(4000);
    if (typeof ep === 'number') throw new Error();
    const results: number[] = [];
    expect(
      h.stack.udp.send(ep, ip(PEER_IP), 53, [new Uint8Array([1, 2, 3])], (e) => results.push(e)),
    ).toBe(TX_PENDING);
    h.poll();
    const req = h.one();
    expect(req.dst).toEqual(MAC_BROADCAST);
    expect(req.arp).toMatchObject({
      operation: ARP_OP_REQUEST,
      targetIp: ip(PEER_IP),
      senderIp: ip(STACK_IP),
    });
    h.inject(
      arpFrame(
        {
          operation: ARP_OP_REPLY,
          senderMac: mac(PEER_MAC),
          senderIp: ip(PEER_IP),
          targetMac: mac(STACK_MAC),
          targetIp: ip(STACK_IP),
        },
        STACK_MAC,
      ),
    );
    const data = h.one();
    expect(formatMac(data.dst)).toBe(PEER_MAC);
    expect(data.udp?.payload).toEqual(new Uint8Array([1, 2, 3]));
    expect(results).toEqual([0]);
  });
  it('retries, then fails what was queued with EHOSTUNREACH', () => {
    const h = new Harness({ arp: { retries: 2, requestTimeoutMs: 1000 } });
    const ep = h.stack.udp.bind(4000);
    if (typeof ep === 'number') throw new Error();
    const results: number[] = [];
    h.stack.udp.send(ep, ip(PEER_IP), 53, [new Uint8Array(1)], (e) => results.push(e));
    h.poll();
    expect(h.one().arp?.operation).toBe(ARP_OP_REQUEST);
    h.advance(1000);
    expect(h.one().arp?.operation).toBe(ARP_OP_REQUEST);
    h.advance(1000);
    expect(h.one().arp?.operation).toBe(ARP_OP_REQUEST);
    expect(results).toEqual([]);
    h.advance(1000);
    h.nothing();
    expect(results).toEqual([ERRNO.EHOSTUNREACH]);
    expect(h.stack.arp.pendingCount).toBe(0);
  });
  it('uses static entries without asking, and never overrides them', () => {
    const h = new Harness({ arp: { table: { '02:00:00:00:00:42': PEER_IP } } });
    const ep = h.stack.udp.bind(4000);
    if (typeof ep === 'number') throw new Error();
    expect(h.stack.udp.send(ep, ip(PEER_IP), 53, [new Uint8Array(1)])).toBe(0);
    expect(formatMac(h.one().dst)).toBe('02:00:00:00:00:42');
    h.inject(request());
    h.sent();
    expect(formatMac(h.stack.arp.cache.get(ip(PEER_IP))!.mac)).toBe('02:00:00:00:00:42');
  });
  it('bounds the queue per address', () => {
    const h = new Harness({ arp: { queueLimit: 2 } });
    const ep = h.stack.udp.bind(4000);
    if (typeof ep === 'number') throw new Error();
    const r = [1, 2, 3].map(() => h.stack.udp.send(ep, ip(PEER_IP), 53, [new Uint8Array(1)]));
    expect(r).toEqual([TX_PENDING, TX_PENDING, ERRNO.ENOBUFS]);
  });
  it('with ARP disabled, an unknown address is EHOSTUNREACH at once', () => {
    const h = new Harness({ arp: { disabled: true } });
    const ep = h.stack.udp.bind(4000);
    if (typeof ep === 'number') throw new Error();
    expect(h.stack.udp.send(ep, ip(PEER_IP), 53, [new Uint8Array(1)])).toBe(ERRNO.EHOSTUNREACH);
    h.poll();
    h.nothing();
  });
  it('refreshes a stale entry in the background while still using it', () => {
    const h = new Harness({ arp: { cacheTtlMs: 5000 } });
    h.inject(request());
    h.sent();
    const ep = h.stack.udp.bind(4000);
    if (typeof ep === 'number') throw new Error();
    h.advance(6000);
    expect(h.stack.udp.send(ep, ip(PEER_IP), 53, [new Uint8Array(1)])).toBe(0);
    h.poll();
    const frames = h.sent();
    expect(frames.map((f) => (f.arp ? 'arp' : 'udp')).sort()).toEqual(['arp', 'udp']);
    expect(formatMac(frames.find((f) => f.arp)!.dst)).toBe(PEER_MAC);
  });
  it('sends via the gateway for off-subnet addresses', () => {
    const h = new Harness({
      prefixLength: 24,
      gateway: '10.0.0.254',
      arp: { table: { '02:00:00:00:00:fe': '10.0.0.254' } },
    });
    const ep = h.stack.udp.bind(4000);
    if (typeof ep === 'number') throw new Error();
    expect(h.stack.udp.send(ep, ip('192.168.1.1'), 53, [new Uint8Array(1)])).toBe(0);
    const f = h.one();
    expect(formatMac(f.dst)).toBe('02:00:00:00:00:fe');
    expect(f.ip?.dst).toBe(ip('192.168.1.1'));
  });
});

describe('ipv4', () => {
  const withPeer = () => new Harness({ arp: { table: { [PEER_MAC]: PEER_IP } } });

  it('drops a bad header checksum, another destination, and malformed headers', () => {
    const h = withPeer();
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    const good = udpFrame(1, 7, new Uint8Array([9]));
    const badSum = good.slice();
    badSum[14 + 10]! ^= 0xff;
    h.inject(badSum);
    h.inject(udpFrame(1, 7, new Uint8Array([9]), PEER_IP, '10.0.0.3'));
    const short = good.slice(0, 14 + 19);
    h.inject(short);
    expect(ep.queue.size).toBe(0);
    expect(h.stack.stats.rxBadChecksum).toBe(1);
    expect(h.stack.stats.rxNotForUs).toBe(1);
    expect(h.stack.stats.rxMalformed).toBe(1);
    h.inject(good);
    expect(ep.queue.size).toBe(1);
  });

  it('trusts the device when it verified checksums (rx offload)', () => {
    const h = new Harness(
      { arp: { table: { [PEER_MAC]: PEER_IP } } },
      { offloads: { rxChecksum: true } },
    );
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    const f = udpFrame(1, 7, new Uint8Array([9]));
    f[14 + 10]! ^= 0xff;
    h.inject(f);
    expect(ep.queue.size).toBe(1);
  });

  it('leaves checksums to the device with tx offload (pseudo-header sum in the UDP field)', () => {
    const h = new Harness(
      { arp: { table: { [PEER_MAC]: PEER_IP } } },
      { offloads: { txChecksum: true } },
    );
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    h.stack.udp.send(ep, ip(PEER_IP), 9, [new Uint8Array([1])]);
    const f = h.one();
    expect(f.ipChecksumOk).toBe(false);
    expect(f.frame[14 + 10]! | f.frame[14 + 11]!).toBe(0);
  });

  it('reassembles fragments in any order and delivers the datagram once', () => {
    const h = withPeer();
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    const payload = new Uint8Array(3000).map((_, i) => i % 251);
    const l4 = new Uint8Array(8 + payload.length);
    emitUdp({ srcPort: 1, dstPort: 7, payload }, l4, 0, ip(PEER_IP), ip(STACK_IP));
    const frags = [0, 1480, 2960].map((at) => {
      const end = Math.min(at + 1480, l4.length);
      return ipFrame(
        { protocol: IPPROTO_UDP, ident: 77, fragmentOffset: at, moreFragments: end < l4.length },
        l4.subarray(at, end),
      );
    });
    h.inject(frags[2]!);
    h.inject(frags[0]!);
    expect(ep.queue.size).toBe(0);
    h.inject(frags[0]!); // duplicate
    h.inject(frags[1]!);
    expect(ep.queue.size).toBe(1);
    expect(ep.queue.shift()!.data).toEqual(payload);
    expect(h.stack.ipv4.reassembly.inProgress).toBe(0);
  });

  it('drops an incomplete datagram after the reassembly timeout', () => {
    const h = new Harness({ ip: { reassemblyTimeoutMs: 500 } });
    h.inject(ipFrame({ protocol: IPPROTO_UDP, ident: 5, moreFragments: true }, new Uint8Array(16)));
    expect(h.stack.ipv4.reassembly.inProgress).toBe(1);
    expect(h.stack.ipv4.reassembly.bytesHeld).toBeGreaterThan(0);
    h.advance(500);
    expect(h.stack.ipv4.reassembly.inProgress).toBe(0);
    expect(h.stack.ipv4.reassembly.bytesHeld).toBe(0);
    expect(h.stack.stats.reassemblyTimeouts).toBe(1);
  });

  it('bounds reassembly memory and datagram count', () => {
    const h = new Harness({ ip: { reassemblyMaxDatagrams: 2, reassemblyMaxBytes: 8192 } });
    for (let id = 0; id < 5; id++)
      h.inject(
        ipFrame({ protocol: IPPROTO_UDP, ident: id, moreFragments: true }, new Uint8Array(16)),
      );
    expect(h.stack.ipv4.reassembly.inProgress).toBe(2);
    h.inject(
      ipFrame({ protocol: IPPROTO_UDP, ident: 0, fragmentOffset: 60000 }, new Uint8Array(16)),
    );
    expect(h.stack.ipv4.reassembly.bytesHeld).toBeLessThanOrEqual(8192);
  });

  it('fragments a UDP datagram larger than the MTU', () => {
    const h = withPeer();
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    expect(h.stack.udp.send(ep, ip(PEER_IP), 9, [new Uint8Array(4000)])).toBe(0);
    const frags = h.sent();
    expect(frags.length).toBe(3);
    expect(
      frags.map((f) => [f.ip!.fragmentOffset, f.ip!.moreFragments, f.ip!.payloadLength]),
    ).toEqual([
      [0, true, 1480],
      [1480, true, 1480],
      [2960, false, 4008 - 2960],
    ]);
    expect(new Set(frags.map((f) => f.ip!.ident)).size).toBe(1);
  });

  it('accepts padding after the IP packet (short Ethernet frames)', () => {
    const h = withPeer();
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    const f = udpFrame(1, 7, new Uint8Array([1]));
    const padded = new Uint8Array(64);
    padded.set(f);
    h.inject(padded);
    expect(ep.queue.shift()!.data).toEqual(new Uint8Array([1]));
  });

  it('ignores a packet whose length field exceeds the frame', () => {
    const h = withPeer();
    const p = ipv4Packet({ protocol: IPPROTO_UDP }, new Uint8Array(20));
    p[3] = 200;
    h.inject(ethernet(STACK_MAC, PEER_MAC, ETHERTYPE_IPV4, p));
    expect(h.stack.stats.rxMalformed).toBe(1);
    h.nothing();
  });
});
