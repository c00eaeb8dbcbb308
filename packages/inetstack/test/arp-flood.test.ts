import { ERRNO } from '@demi/core';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/util/random.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  emitTcp,
  IPPROTO_TCP,
  TCP_ACK,
  TCP_SYN,
  TcpOptions,
} from '../src/wire/index.js';
import {
  ethernet,
  Harness,
  ip,
  ipv4Packet,
  PEER_MAC,
  STACK_IP,
  STACK_MAC,
} from './support/harness.js';
import { TcpHarness } from './support/tcp-harness.js';

/** A SYN from `src` (any address) to port 80, in a frame from PEER_MAC. */
function synFrom(src: number, srcPort: number, seq: number): Uint8Array {
  const l4 = new Uint8Array(40);
  const o = new TcpOptions();
  o.mss = 1460;
  const n = emitTcp(
    {
      srcPort,
      dstPort: 80,
      seq,
      ack: 0,
      flags: TCP_SYN,
      window: 65535,
      options: o,
      payload: new Uint8Array(0),
    },
    l4,
    0,
    src,
    ip(STACK_IP),
  );
  return ethernet(
    STACK_MAC,
    PEER_MAC,
    ETHERTYPE_IPV4,
    ipv4Packet({ protocol: IPPROTO_TCP, src }, l4.subarray(0, n)),
  );
}

describe('a random-source SYN flood', () => {
  it('is answered without ARP: replies go to the frame source MAC, martian sources are dropped, state is bounded', () => {
    const h = new TcpHarness({ synBacklog: 64 }, { prefixLength: 16 });
    h.listen();
    const rng = new SeededRandom(5);
    let arp = 0;
    let synAcks = 0;
    for (let i = 0; i < 20_000; i++) {
      // On our /16, anywhere else (no gateway: off-subnet), or in 0/8.
      const r = rng.nextU32();
      const src =
        i % 3 === 0 ? ip('10.0.0.0') + (r & 0xffff) : i % 3 === 1 ? r >>> 0 : r & 0xffffff;
      if (src === ip(STACK_IP)) continue;
      h.inject(synFrom(src, 1024 + (i % 60000), rng.nextU32()));
      for (const s of h.sent()) {
        if (s.etherType === ETHERTYPE_ARP) arp++;
        else if (s.tcp?.flags === (TCP_SYN | TCP_ACK)) {
          synAcks++;
          expect(Buffer.from(s.dst).equals(Buffer.from([2, 0, 0, 0, 0, 2]))).toBe(true);
        }
      }
    }
    const st = h.stack.stats;
    expect(arp).toBe(0);
    expect(h.stack.arp.pendingCount).toBe(0);
    expect(st.rxMartian).toBeGreaterThan(0);
    // Off-subnet sources have no route without a gateway: nothing is sent to them.
    expect(st.rxMartian).toBeGreaterThan(6000);
    expect(st.ipNoRoute).toBeGreaterThan(5000);
    expect(synAcks).toBeGreaterThan(6500);
    expect(st.tcpSynCookiesSent).toBeGreaterThan(6000);
    expect(h.stack.tcp.connectionCount).toBeLessThanOrEqual(64);
    // Only on-subnet sources got state: the others have no route back.
    for (const c of h.stack.tcp.connections())
      expect(c.remoteIp >>> 16).toBe(ip('10.0.0.0') >>> 16);
    expect(h.stack.arp.cache.size).toBeLessThanOrEqual(1024);
  });
});

describe('ARP bounds', () => {
  it('never resolves an off-subnet address without a gateway: EHOSTUNREACH at once', () => {
    const h = new Harness();
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    expect(h.stack.udp.send(ep, ip('192.168.5.5'), 9, [new Uint8Array(1)])).toBe(
      ERRNO.EHOSTUNREACH,
    );
    expect(h.stack.udp.send(ep, ip('0.1.2.3'), 9, [new Uint8Array(1)])).toBe(ERRNO.EHOSTUNREACH);
    h.nothing();
  });

  it('bounds the addresses being resolved and the frames waiting for them', () => {
    const h = new Harness({
      prefixLength: 16,
      arp: { pendingLimit: 32, queuedLimit: 100, queueLimit: 1000 },
    });
    const ep = h.stack.udp.bind(7);
    if (typeof ep === 'number') throw new Error();
    const results = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const r = h.stack.udp.send(ep, ip('10.0.0.0') + 100 + i, 9, [new Uint8Array(1)]);
      results.set(r, (results.get(r) ?? 0) + 1);
    }
    expect(h.stack.arp.pendingCount).toBe(32);
    expect(h.sent().filter((s) => s.etherType === ETHERTYPE_ARP).length).toBe(32);
    for (let i = 0; i < 200; i++) h.stack.udp.send(ep, ip('10.0.0.100'), 9, [new Uint8Array(1)]);
    expect(h.stack.stats.arpQueueDrops).toBe(1000 - 32 + 200 - 68);
    expect(results.get(ERRNO.ENOBUFS)).toBe(1000 - 32);
  });

  it('the learned cache is bounded, oldest first, static entries kept', () => {
    const h = new Harness({ arp: { cacheLimit: 4, table: { '02:00:00:00:00:09': '10.0.0.9' } } });
    const cache = h.stack.arp.cache;
    for (let i = 0; i < 10; i++) cache.learn(ip('10.0.0.20') + i, new Uint8Array(6).fill(i), 0);
    expect(cache.size).toBe(5);
    expect(cache.has(ip('10.0.0.9'))).toBe(true);
    expect(cache.has(ip('10.0.0.29'))).toBe(true);
    expect(cache.has(ip('10.0.0.20'))).toBe(false);
  });

  it('a completed passive open remembers the peer MAC: later segments need no ARP', () => {
    const h = new TcpHarness({}, { arp: { table: {} } });
    const { c } = h.accept();
    expect(h.stack.arp.cache.has(c.remoteIp)).toBe(true);
    h.write(c, new Uint8Array(10));
    expect(h.out().length).toBe(1);
    expect(h.stack.stats.arpOut).toBe(0);
  });
});
