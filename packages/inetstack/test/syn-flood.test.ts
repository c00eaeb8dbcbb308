import { describe, expect, it } from 'vitest';
import { TcpState } from '../src/tcp/state.js';
import { COOKIE_MSS } from '../src/tcp/syn-cookies.js';
import { SipHash } from '../src/util/siphash.js';
import { TCP_ACK, TCP_RST, TCP_SYN } from '../src/wire/index.js';
import { bytes, PEER_ISS, PEER_PORT, TcpHarness } from './support/tcp-harness.js';

/** Spoofed SYNs from ports 20000.. that will never complete. */
function flood(h: TcpHarness, n: number): void {
  for (let i = 0; i < n; i++)
    h.send({ srcPort: 20000 + i, seq: 77 + i, flags: TCP_SYN, mss: 1460 });
}

describe('SYN queue and SYN cookies', () => {
  it('spoofed SYNs do not lock a small-backlog listener out: a legitimate client completes at once', () => {
    const h = new TcpHarness({ synBacklog: 8 });
    const l = h.listen(2);
    flood(h, 128);
    expect(l.pending.size).toBe(8);
    expect(h.stack.stats.tcpSynCookiesSent).toBe(120);
    h.out();
    const { c } = h.accept();
    expect(c.state).toBe(TcpState.ESTABLISHED);
    expect(h.stack.stats.tcpRstOut).toBe(0);
  });

  it('a cookie keeps MSS, window scale, SACK-permitted and timestamps, and the ACK carrying data completes it', () => {
    const h = new TcpHarness({ synBacklog: 1, timestamps: true, sack: true, windowScaling: true });
    const l = h.listen();
    flood(h, 1);
    h.out();
    h.send({
      seq: PEER_ISS,
      flags: TCP_SYN,
      mss: 1460,
      windowScale: 7,
      sackPermitted: true,
      ts: [5000, 0],
    });
    const synAck = h.outOne();
    expect(synAck.flags).toBe(TCP_SYN | TCP_ACK);
    expect(l.pending.size).toBe(1);
    expect(h.stack.tcp.connectionCount).toBe(1);
    expect(synAck.options.mss).toBe(1460);
    expect(synAck.options.windowScale).toBeGreaterThanOrEqual(0);
    expect(synAck.options.sackPermitted).toBe(true);
    expect(synAck.options.hasTimestamp).toBe(true);
    h.advance(30);
    h.send({
      seq: PEER_ISS + 1,
      ack: synAck.seq + 1,
      flags: TCP_ACK,
      window: 1000,
      ts: [5001, synAck.options.tsVal],
      payload: bytes(100),
    });
    const c = l.accept()!;
    expect(c).toBeDefined();
    expect(c.state).toBe(TcpState.ESTABLISHED);
    expect(c.mss).toBe(1460 - 12);
    expect(c.sndScale).toBe(7);
    expect(c.sndWnd).toBe(1000 << 7);
    expect(c.rcvScale).toBe(synAck.options.windowScale);
    expect([c.sackOk, c.tsOk]).toEqual([true, true]);
    expect(c.readable).toBe(100);
    expect(h.stack.stats.tcpSynCookiesValid).toBe(1);
  });

  it('without timestamps a cookie offers no window scale or SACK and rounds the MSS down to its table', () => {
    const h = new TcpHarness({ synBacklog: 1, sack: true, windowScaling: true });
    const l = h.listen();
    flood(h, 1);
    h.out();
    h.send({ seq: PEER_ISS, flags: TCP_SYN, mss: 1400, windowScale: 7, sackPermitted: true });
    const synAck = h.outOne();
    expect(synAck.options.windowScale).toBe(-1);
    expect(synAck.options.sackPermitted).toBe(false);
    h.send({ seq: PEER_ISS + 1, ack: synAck.seq + 1, flags: TCP_ACK });
    const c = l.accept()!;
    expect(c.mss).toBe(COOKIE_MSS[1]);
    expect([c.sndScale, c.sackOk, c.tsOk]).toEqual([0, false, false]);
  });

  it('a forged or stale cookie is refused with a reset and creates nothing', () => {
    const h = new TcpHarness({ synBacklog: 1 });
    const l = h.listen();
    flood(h, 1);
    h.out();
    h.send({ seq: PEER_ISS, flags: TCP_SYN, mss: 1460 });
    const synAck = h.outOne();
    h.send({ seq: PEER_ISS + 1, ack: synAck.seq + 2, flags: TCP_ACK });
    expect(h.outOne().flags).toBe(TCP_RST);
    h.send({ srcPort: PEER_PORT + 1, seq: PEER_ISS + 1, ack: synAck.seq + 1, flags: TCP_ACK });
    expect(h.outOne().flags).toBe(TCP_RST);
    h.advance(3 * 60_000);
    h.out();
    h.send({ seq: PEER_ISS + 1, ack: synAck.seq + 1, flags: TCP_ACK });
    expect(h.outOne().flags).toBe(TCP_RST);
    expect(l.ready.size).toBe(0);
    expect(h.stack.stats.tcpSynCookiesValid).toBe(0);
  });

  it('with cookies off, SYNs beyond the SYN queue are dropped silently', () => {
    const h = new TcpHarness({ synBacklog: 2, synCookies: false });
    const l = h.listen();
    flood(h, 5);
    expect(h.out().length).toBe(2);
    expect(l.pending.size).toBe(2);
    expect(h.stack.stats.tcpSynQueueDrops).toBe(3);
  });
});

describe('SipHash-2-4', () => {
  it('matches the reference vectors (key 00..0f, message 00..len-1)', () => {
    const h = new SipHash(Uint8Array.from({ length: 16 }, (_, i) => i));
    const msg = Uint8Array.from({ length: 64 }, (_, i) => i);
    // Low 32 bits of the paper's 64-bit outputs for lengths 0, 8 and 15.
    expect([0, 8, 15].map((n) => h.hash(msg, n).toString(16))).toEqual([
      'dd0e0e31',
      '9a932462',
      '49be45e5',
    ]);
  });
});

describe('closing a listener', () => {
  it('drops half-open connections quietly (no reset to spoofed sources) and resets established ones', () => {
    const h = new TcpHarness();
    const l = h.listen();
    h.accept();
    flood(h, 10);
    h.out();
    expect(l.pending.size).toBe(10);
    h.send({ srcPort: 6000, seq: 5, flags: TCP_SYN });
    h.send({ srcPort: 6000, seq: 6, ack: h.outOne().seq + 1, flags: TCP_ACK });
    h.stack.tcp.unlisten(l);
    h.poll();
    const out = h.out();
    expect(out.map((s) => [s.dstPort, s.flags])).toEqual([[6000, TCP_RST | TCP_ACK]]);
    expect(h.stack.tcp.connectionCount).toBe(1);
  });
});

describe('what keeps the process alive', () => {
  it('half-open connections hold nothing; unacknowledged data of an accepted one does', () => {
    const h = new TcpHarness();
    h.listen();
    flood(h, 20);
    h.out();
    expect(h.stack.timers.size).toBeGreaterThan(0);
    expect(h.stack.timers.holding).toBe(0);
    const { c, iss } = h.accept();
    h.write(c, bytes(100));
    expect(h.stack.timers.holding).toBeGreaterThan(0);
    h.send({ seq: PEER_ISS + 1, ack: iss + 101, flags: TCP_ACK });
    expect(h.stack.timers.holding).toBe(0);
  });
});
