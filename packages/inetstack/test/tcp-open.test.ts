import { ERRNO } from '@demi/core';
import { describe, expect, it } from 'vitest';
import { TcpState } from '../src/tcp/state.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../src/wire/index.js';
import { ip, PEER_IP } from './support/harness.js';
import { PEER_ISS, PEER_PORT, PORT, TcpHarness } from './support/tcp-harness.js';

describe('tcp open: LISTEN and SYN-RECEIVED', () => {
  it('a SYN to a listener gets a SYN-ACK acknowledging it, with our MSS', () => {
    const h = new TcpHarness();
    h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN, mss: 1460 });
    const r = h.outOne();
    expect(r.flags).toBe(TCP_SYN | TCP_ACK);
    expect(r.ack).toBe(PEER_ISS + 1);
    expect(r.options.mss).toBe(1460);
    expect(r.options.windowScale).toBe(-1);
    expect(r.window).toBe(65535);
    expect(r.srcPort).toBe(PORT);
    expect(r.dstPort).toBe(PEER_PORT);
  });

  it('the ACK of our SYN-ACK establishes the connection and makes it acceptable', () => {
    const h = new TcpHarness();
    const l = h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    const iss = h.outOne().seq;
    expect(l.pending.size).toBe(1);
    expect(l.accept()).toBeUndefined();
    h.send({ seq: PEER_ISS + 1, ack: iss + 1, flags: TCP_ACK });
    h.nothing();
    const c = l.accept()!;
    expect(c.state).toBe(TcpState.ESTABLISHED);
    expect([c.remoteIp, c.remotePort, c.localPort]).toEqual([ip(PEER_IP), PEER_PORT, PORT]);
  });

  it('a retransmitted SYN in SYN-RECEIVED gets the same SYN-ACK again', () => {
    const h = new TcpHarness();
    h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    const first = h.outOne();
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    const again = h.outOne();
    expect([again.flags, again.seq, again.ack]).toEqual([first.flags, first.seq, first.ack]);
  });

  it('the SYN-ACK is retransmitted after 1 s, then 2 s; the half-open connection is dropped after the SYN retries', () => {
    const h = new TcpHarness({ synRetries: 2 });
    const l = h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    const first = h.outOne();
    h.advance(999);
    h.nothing();
    h.advance(1);
    expect(h.outOne().seq).toBe(first.seq);
    h.advance(1999);
    h.nothing();
    h.advance(1);
    expect(h.outOne().flags).toBe(TCP_SYN | TCP_ACK);
    h.advance(4000);
    h.nothing();
    expect(l.pending.size).toBe(0);
    expect(h.stack.tcp.connectionCount).toBe(0);
  });

  it('RST in SYN-RECEIVED drops the half-open connection quietly', () => {
    const h = new TcpHarness();
    const l = h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    h.outOne();
    h.send({ seq: PEER_ISS + 1, flags: TCP_RST });
    h.nothing();
    expect(l.pending.size).toBe(0);
    expect(h.stack.tcp.connectionCount).toBe(0);
  });

  it('an ACK of something we never sent in SYN-RECEIVED gets a RST', () => {
    const h = new TcpHarness();
    h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    const iss = h.outOne().seq;
    h.send({ seq: PEER_ISS + 1, ack: iss + 77, flags: TCP_ACK });
    const r = h.outOne();
    expect(r.flags).toBe(TCP_RST);
    expect(r.seq).toBe(iss + 77);
  });

  it('FIN in SYN-RECEIVED (with the ACK) goes to CLOSE-WAIT', () => {
    const h = new TcpHarness();
    const l = h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    const iss = h.outOne().seq;
    h.send({ seq: PEER_ISS + 1, ack: iss + 1, flags: TCP_ACK | TCP_FIN });
    const r = h.outOne();
    expect(r.flags).toBe(TCP_ACK);
    expect(r.ack).toBe(PEER_ISS + 2);
    const c = l.accept()!;
    expect(c.state).toBe(TcpState.CLOSE_WAIT);
    expect(c.eof).toBe(true);
  });

  it('a SYN while the accept queue (the backlog) is full is refused with RST|ACK', () => {
    const h = new TcpHarness();
    const l = h.listen(1);
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    h.send({ seq: PEER_ISS + 1, ack: h.outOne().seq + 1, flags: TCP_ACK });
    expect(l.ready.size).toBe(1);
    h.send({ srcPort: PEER_PORT + 1, seq: 7, flags: TCP_SYN });
    const r = h.outOne();
    expect(r.flags).toBe(TCP_RST | TCP_ACK);
    expect(r.ack).toBe(8);
    expect(r.dstPort).toBe(PEER_PORT + 1);
  });

  it('an ACK to a listener with no connection gets RST seq=ACK; a RST gets nothing', () => {
    const h = new TcpHarness();
    h.listen();
    h.send({ seq: 5, ack: 1234, flags: TCP_ACK });
    const r = h.outOne();
    expect([r.flags, r.seq]).toEqual([TCP_RST, 1234]);
    h.send({ seq: 5, flags: TCP_RST });
    h.nothing();
  });

  it('a SYN to a closed port gets RST|ACK acknowledging it; a segment with ACK gets RST seq=ACK', () => {
    const h = new TcpHarness();
    h.send({ seq: 4000, flags: TCP_SYN });
    let r = h.outOne();
    expect([r.flags, r.seq, r.ack]).toEqual([TCP_RST | TCP_ACK, 0, 4001]);
    h.send({ seq: 4000, ack: 99, flags: TCP_ACK, payload: new Uint8Array(10) });
    r = h.outOne();
    expect([r.flags, r.seq]).toEqual([TCP_RST, 99]);
    h.send({ seq: 4000, flags: TCP_FIN, payload: new Uint8Array(10) });
    r = h.outOne();
    expect([r.flags, r.ack]).toEqual([TCP_RST | TCP_ACK, 4011]);
    expect(h.stack.stats.tcpRstOut).toBe(3);
  });

  it('negotiates window scaling, SACK and timestamps only when the SYN offers them', () => {
    const h = new TcpHarness({ windowScaling: true, sack: true, timestamps: true });
    h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN, windowScale: 7, sackPermitted: true, ts: [500, 0] });
    const r = h.outOne();
    expect(r.options.windowScale).toBeGreaterThan(0);
    expect(r.options.sackPermitted).toBe(true);
    expect(r.options.hasTimestamp).toBe(true);
    expect(r.options.tsEcr).toBe(500);
    h.send({ srcPort: PEER_PORT + 1, seq: PEER_ISS, flags: TCP_SYN });
    const plain = h.outOne();
    expect(plain.options.windowScale).toBe(-1);
    expect(plain.options.sackPermitted).toBe(false);
    expect(plain.options.hasTimestamp).toBe(false);
  });

  it('a new SYN reuses a pair in TIME-WAIT when its sequence number is higher', () => {
    const h = new TcpHarness({ mslMs: 30_000 });
    const { c, iss } = h.accept();
    c.close();
    h.poll();
    const fin = h.outOne();
    expect(fin.flags & TCP_FIN).toBe(TCP_FIN);
    h.send({ seq: PEER_ISS + 1, ack: iss + 2, flags: TCP_ACK | TCP_FIN });
    h.outOne();
    expect(c.state).toBe(TcpState.TIME_WAIT);
    h.send({ seq: PEER_ISS + 100_000, flags: TCP_SYN });
    const r = h.outOne();
    expect(r.flags).toBe(TCP_SYN | TCP_ACK);
    expect(r.ack).toBe(PEER_ISS + 100_001);
  });
});

describe('tcp open: SYN-SENT', () => {
  it('sends a SYN with MSS, window scale, SACK-permitted and timestamps when enabled', () => {
    const h = new TcpHarness({ windowScaling: true, sack: true, timestamps: true });
    const c = h.stack.tcp.connect(ip(PEER_IP), PEER_PORT, PORT);
    expect(typeof c).toBe('object');
    h.poll();
    const syn = h.outOne();
    expect(syn.flags).toBe(TCP_SYN);
    expect(syn.options.mss).toBe(1460);
    expect(syn.options.windowScale).toBeGreaterThanOrEqual(0);
    expect(syn.options.sackPermitted).toBe(true);
    expect(syn.options.hasTimestamp).toBe(true);
    expect(syn.options.tsEcr).toBe(0);
  });

  it('a SYN-ACK establishes the connection and is acknowledged', () => {
    const h = new TcpHarness();
    const { c, iss } = h.connect();
    expect(c.state).toBe(TcpState.ESTABLISHED);
    expect(h.events).toEqual(['established']);
    expect(c.sndUna).toBe((iss + 1) >>> 0);
  });

  it('RST|ACK acknowledging our SYN refuses the connection (ECONNREFUSED)', () => {
    const h = new TcpHarness();
    const c = h.watch(h.stack.tcp.connect(ip(PEER_IP), PEER_PORT, PORT) as never);
    h.poll();
    const iss = h.outOne().seq;
    h.send({ seq: 0, ack: iss + 1, flags: TCP_RST | TCP_ACK });
    expect(h.events).toEqual([`error:${ERRNO.ECONNREFUSED}`, 'released']);
    expect(c.state).toBe(TcpState.CLOSED);
  });

  it('a RST without an ACK in SYN-SENT is ignored', () => {
    const h = new TcpHarness();
    const c = h.stack.tcp.connect(ip(PEER_IP), PEER_PORT, PORT) as never as { state: number };
    h.poll();
    h.out();
    h.send({ seq: 0, flags: TCP_RST });
    expect(c.state).toBe(TcpState.SYN_SENT);
  });

  it('an unacceptable ACK in SYN-SENT gets a RST', () => {
    const h = new TcpHarness();
    h.stack.tcp.connect(ip(PEER_IP), PEER_PORT, PORT);
    h.poll();
    const iss = h.outOne().seq;
    h.send({ seq: 300, ack: iss + 5, flags: TCP_SYN | TCP_ACK });
    const r = h.outOne();
    expect([r.flags, r.seq]).toEqual([TCP_RST, (iss + 5) >>> 0]);
  });

  it('simultaneous open: a SYN in SYN-SENT leads through SYN-RECEIVED to ESTABLISHED', () => {
    const h = new TcpHarness();
    const c = h.watch(h.stack.tcp.connect(ip(PEER_IP), PEER_PORT, PORT) as never);
    h.poll();
    const iss = h.outOne().seq;
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    const synAck = h.outOne();
    expect([synAck.flags, synAck.seq, synAck.ack]).toEqual([TCP_SYN | TCP_ACK, iss, PEER_ISS + 1]);
    expect(c.state).toBe(TcpState.SYN_RECEIVED);
    // The peer's own SYN-ACK crosses ours: it is a duplicate to us, answered with a plain ACK.
    h.send({ seq: PEER_ISS, ack: iss + 1, flags: TCP_SYN | TCP_ACK });
    const ack = h.outOne();
    expect(ack.flags).toBe(TCP_ACK);
    h.send({ seq: PEER_ISS + 1, ack: iss + 1, flags: TCP_ACK });
    expect(c.state).toBe(TcpState.ESTABLISHED);
    expect(h.events).toEqual(['established']);
  });

  it('the SYN is retransmitted with exponential back-off, then connect fails with ETIMEDOUT', () => {
    const h = new TcpHarness({ synRetries: 3 });
    h.watch(h.stack.tcp.connect(ip(PEER_IP), PEER_PORT, PORT) as never);
    h.poll();
    const iss = h.outOne().seq;
    for (const wait of [1000, 2000, 4000]) {
      h.advance(wait - 1);
      h.nothing();
      h.advance(1);
      const r = h.outOne();
      expect([r.flags, r.seq]).toEqual([TCP_SYN, iss]);
    }
    h.advance(8000);
    h.nothing();
    expect(h.events).toEqual([`error:${ERRNO.ETIMEDOUT}`, 'released']);
  });

  it("MSS: clamped to the peer's, 536 without the option, and reduced by timestamps", () => {
    const a = new TcpHarness();
    expect(a.connect({ mss: 1000 }).c.mss).toBe(1000);
    const b = new TcpHarness();
    expect(b.connect({ mss: undefined }).c.mss).toBe(536);
    const c = new TcpHarness({ timestamps: true });
    expect(c.connect({ mss: 9000, ts: [1, 1] }).c.mss).toBe(1460 - 12);
  });

  it('connect to an address that does not resolve fails with EHOSTUNREACH', () => {
    const h = new TcpHarness({}, { arp: { table: {}, retries: 1, requestTimeoutMs: 100 } });
    h.watch(h.stack.tcp.connect(ip('10.0.0.9'), PEER_PORT, PORT) as never);
    h.poll();
    h.advance(100);
    h.advance(100);
    expect(h.events).toEqual([`error:${ERRNO.EHOSTUNREACH}`, 'released']);
  });
});
