import { ERRNO } from '@demi/core';
import { describe, expect, it } from 'vitest';
import {
  ICMP_CODE_PORT_UNREACHABLE,
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
} from '../src/wire/index.js';
import {
  Harness,
  icmpFrame,
  ip,
  ipFrame,
  PEER_IP,
  PEER_MAC,
  STACK_IP,
  udpFrame,
} from './support/harness.js';

const peer = () => new Harness({ arp: { table: { [PEER_MAC]: PEER_IP } } });

describe('icmp', () => {
  it('answers an echo request with the same identifier, sequence and payload', () => {
    const h = peer();
    const payload = new Uint8Array(56).map((_, i) => i);
    h.inject(icmpFrame({ type: ICMP_ECHO_REQUEST, code: 0, rest: (0x4242 << 16) | 1, payload }));
    const r = h.one();
    expect(r.ip).toMatchObject({ src: ip(STACK_IP), dst: ip(PEER_IP) });
    expect(r.ipChecksumOk).toBe(true);
    expect(r.icmp).toEqual({ type: ICMP_ECHO_REPLY, code: 0, rest: (0x4242 << 16) | 1, payload });
  });
  it('ignores an echo request with a bad checksum, and broadcast pings', () => {
    const h = peer();
    const f = icmpFrame({ type: ICMP_ECHO_REQUEST, code: 0, rest: 1, payload: new Uint8Array(8) });
    f[f.length - 1]! ^= 1;
    h.inject(f);
    h.inject(
      icmpFrame(
        { type: ICMP_ECHO_REQUEST, code: 0, rest: 1, payload: new Uint8Array(8) },
        PEER_IP,
        '10.0.0.255',
      ),
    );
    h.nothing();
  });
  it('answers a ping larger than the MTU (reassembled) with fragments', () => {
    const h = peer();
    const payload = new Uint8Array(3000).fill(7);
    const whole = icmpFrame({ type: ICMP_ECHO_REQUEST, code: 0, rest: 9, payload }).subarray(
      14 + 20,
    );
    const frames = [0, 1480, 2960].map((at) => {
      const end = Math.min(at + 1480, whole.length);
      return { at, end };
    });
    for (const { at, end } of frames) {
      h.inject(ipFrameFragment(whole.subarray(at, end), at, end < whole.length));
    }
    const out = h.sent();
    expect(out.length).toBe(3);
    expect(out.every((f) => f.ip!.src === ip(STACK_IP))).toBe(true);
  });
});

function ipFrameFragment(data: Uint8Array, offset: number, more: boolean): Uint8Array {
  return ipFrame(
    { protocol: IPPROTO_ICMP, ident: 99, fragmentOffset: offset, moreFragments: more },
    data,
  );
}

describe('udp', () => {
  it('queues datagrams with their source and notifies', () => {
    const h = peer();
    const ep = h.stack.udp.bind(9000);
    if (typeof ep === 'number') throw new Error();
    let woke = 0;
    ep.onReadable = () => woke++;
    h.inject(udpFrame(1234, 9000, new Uint8Array([1, 2])));
    expect(woke).toBe(1);
    expect(ep.queue.shift()).toEqual({
      data: new Uint8Array([1, 2]),
      srcIp: ip(PEER_IP),
      srcPort: 1234,
    });
  });
  it('drops a bad checksum, and accepts a zero (absent) one', () => {
    const h = peer();
    const ep = h.stack.udp.bind(9000);
    if (typeof ep === 'number') throw new Error();
    const bad = udpFrame(1, 9000, new Uint8Array([5]));
    bad[bad.length - 1]! ^= 0x10;
    h.inject(bad);
    expect(ep.queue.size).toBe(0);
    const none = udpFrame(1, 9000, new Uint8Array([5]));
    none[14 + 20 + 6] = 0;
    none[14 + 20 + 7] = 0;
    h.inject(none);
    expect(ep.queue.size).toBe(1);
  });
  it('answers a closed port with ICMP port unreachable quoting the datagram', () => {
    const h = peer();
    const f = udpFrame(1234, 9999, new Uint8Array([1, 2, 3]));
    h.inject(f);
    const r = h.one();
    expect(r.icmp?.type).toBe(ICMP_DEST_UNREACHABLE);
    expect(r.icmp?.code).toBe(ICMP_CODE_PORT_UNREACHABLE);
    expect(r.icmp?.payload).toEqual(f.subarray(14));
    expect(h.stack.stats.udpNoPort).toBe(1);
  });
  it('sends with a checksum the receiver verifies', () => {
    const h = peer();
    const ep = h.stack.udp.bind(9000);
    if (typeof ep === 'number') throw new Error();
    expect(
      h.stack.udp.send(ep, ip(PEER_IP), 53, [new Uint8Array([1]), new Uint8Array([2, 3])]),
    ).toBe(0);
    const r = h.one();
    expect(r.udp).toEqual({ srcPort: 9000, dstPort: 53, payload: new Uint8Array([1, 2, 3]) });
    // Re-inject the same datagram towards the stack's bound port to prove the checksum is right.
    const back = udpFrame(53, 9000, new Uint8Array([1, 2, 3]));
    h.inject(back);
    expect(ep.queue.size).toBe(1);
  });
  it('binding: EADDRINUSE twice on a port; ephemeral ports are distinct and in range', () => {
    const h = peer();
    expect(typeof h.stack.udp.bind(9000)).toBe('object');
    expect(h.stack.udp.bind(9000)).toBe(ERRNO.EADDRINUSE);
    const ports = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const ep = h.stack.udp.bind(0);
      if (typeof ep === 'number') throw new Error();
      expect(ep.port).toBeGreaterThanOrEqual(49152);
      ports.add(ep.port);
    }
    expect(ports.size).toBe(50);
  });
  it('bounds the receive queue', () => {
    const h = new Harness({ udp: { queueLimit: 2 }, arp: { table: { [PEER_MAC]: PEER_IP } } });
    const ep = h.stack.udp.bind(9000);
    if (typeof ep === 'number') throw new Error();
    for (let i = 0; i < 4; i++) h.inject(udpFrame(1, 9000, new Uint8Array([i])));
    expect(ep.queue.size).toBe(2);
    expect(ep.dropped).toBe(2);
  });
  it('rejects a datagram too large for IPv4', () => {
    const h = peer();
    const ep = h.stack.udp.bind(9000);
    if (typeof ep === 'number') throw new Error();
    expect(h.stack.udp.send(ep, ip(PEER_IP), 1, [new Uint8Array(65508)])).toBe(ERRNO.EMSGSIZE);
  });
});
