import { ERRNO } from '@demi/core';
import { describe, expect, it } from 'vitest';
import { TcpState } from '../src/tcp/state.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../src/wire/index.js';
import { bytes, PEER_ISS, TcpHarness } from './support/tcp-harness.js';

const P = PEER_ISS + 1;

describe('tcp receive', () => {
  it('in-order data is delivered and every second segment is acknowledged at once', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: bytes(100) });
    h.nothing();
    h.send({ seq: P + 100, ack: iss + 1, flags: TCP_ACK, payload: bytes(100, 2) });
    const a = h.outOne();
    expect([a.flags, a.ack]).toEqual([TCP_ACK, P + 200]);
    expect(c.readable).toBe(200);
    const got = c.readBytes(1000);
    expect(got.subarray(0, 100)).toEqual(bytes(100));
    expect(got.subarray(100)).toEqual(bytes(100, 2));
  });

  it('a lone segment is acknowledged when the delayed-ACK timer (40 ms) fires', () => {
    const h = new TcpHarness();
    const { iss } = h.accept();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_PSH, payload: bytes(10) });
    h.advance(39);
    h.nothing();
    h.advance(1);
    expect(h.outOne().ack).toBe(P + 10);
  });

  it('an out-of-order segment is acknowledged at once with the expected sequence (and a SACK block)', () => {
    const h = new TcpHarness({ sack: true });
    const { c, iss } = h.accept({ sackPermitted: true });
    h.send({ seq: P + 100, ack: iss + 1, flags: TCP_ACK, payload: bytes(50) });
    const a = h.outOne();
    expect(a.ack).toBe(P);
    expect(a.options.sackCount).toBe(1);
    expect([a.options.sackBlocks[0], a.options.sackBlocks[1]]).toEqual([P + 100, P + 150]);
    expect(c.readable).toBe(0);
  });

  it('the most recent out-of-order block is reported first', () => {
    const h = new TcpHarness({ sack: true });
    const { iss } = h.accept({ sackPermitted: true });
    h.send({ seq: P + 100, ack: iss + 1, flags: TCP_ACK, payload: bytes(50) });
    h.out();
    h.send({ seq: P + 300, ack: iss + 1, flags: TCP_ACK, payload: bytes(50) });
    const a = h.outOne();
    expect(a.options.sackCount).toBe(2);
    expect(Array.from(a.options.sackBlocks.slice(0, 4))).toEqual([
      P + 300,
      P + 350,
      P + 100,
      P + 150,
    ]);
  });

  it('filling the hole delivers everything and acknowledges all of it at once', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    const data = bytes(300);
    h.send({ seq: P + 200, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(200) });
    h.send({ seq: P + 100, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(100, 200) });
    h.out();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(0, 100) });
    expect(h.outOne().ack).toBe(P + 300);
    expect(c.readBytes(1000)).toEqual(data);
  });

  it('overlapping and duplicate segments deliver each byte once', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    const data = bytes(300);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(0, 150) });
    h.send({ seq: P + 100, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(100, 300) });
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(0, 300) });
    expect(c.readBytes(1000)).toEqual(data);
  });

  it('an old duplicate segment is acknowledged at once', () => {
    const h = new TcpHarness();
    const { iss } = h.accept();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: bytes(100) });
    h.send({ seq: P + 100, ack: iss + 1, flags: TCP_ACK, payload: bytes(100) });
    h.out();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: bytes(100) });
    expect(h.outOne().ack).toBe(P + 200);
  });

  it('data beyond the receive window is cut off', () => {
    const h = new TcpHarness({ receiveBuffer: 1000 });
    const { c, iss } = h.accept();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: bytes(1400) });
    expect(c.readable).toBe(1000);
  });

  it('a full buffer advertises a zero window; reading sends a window update', () => {
    const h = new TcpHarness({ receiveBuffer: 4000 });
    const { c, iss } = h.accept();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: bytes(1460) });
    h.send({ seq: P + 1460, ack: iss + 1, flags: TCP_ACK, payload: bytes(1460) });
    expect(h.outOne().window).toBe(4000 - 2920);
    h.send({ seq: P + 2920, ack: iss + 1, flags: TCP_ACK, payload: bytes(1080) });
    h.advance(40);
    expect(h.outOne().window).toBe(0);
    c.readBytes(100);
    h.poll();
    h.nothing(); // 100 bytes is not worth a window update (receiver-side SWS avoidance)
    c.readBytes(3900);
    h.poll();
    const upd = h.outOne();
    expect([upd.ack, upd.window]).toEqual([P + 4000, 4000]);
  });

  it('a zero-window probe is answered with the current (zero) window', () => {
    const h = new TcpHarness({ receiveBuffer: 1000 });
    const { iss } = h.accept();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: bytes(1000) });
    h.advance(40);
    expect(h.outOne().window).toBe(0);
    h.send({ seq: P + 999, ack: iss + 1, flags: TCP_ACK });
    const r = h.outOne();
    expect([r.ack, r.window]).toEqual([P + 1000, 0]);
  });

  it('window scaling: advertised windows are shifted once both SYNs carried the option', () => {
    const h = new TcpHarness({ windowScaling: true, receiveBuffer: 1 << 20 });
    const { c, iss } = h.accept({ windowScale: 2 });
    expect(c.rcvScale).toBe(5);
    expect(c.sndScale).toBe(2);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_PSH, payload: bytes(10), window: 1000 });
    h.advance(40);
    expect(h.outOne().window).toBe(Math.floor(((1 << 20) - 10) / 32));
    expect(c.sndWnd).toBe(4000);
  });

  it('the peer FIN after data: EOF once the data is read, ACK of the FIN', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_FIN, payload: bytes(10) });
    expect(h.outOne().ack).toBe(P + 11);
    expect(c.state).toBe(TcpState.CLOSE_WAIT);
    expect(c.eof).toBe(false);
    c.readBytes(10);
    expect(c.eof).toBe(true);
  });

  it('a FIN that arrives ahead of missing data waits for it', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    h.send({ seq: P + 10, ack: iss + 1, flags: TCP_ACK | TCP_FIN, payload: bytes(10) });
    expect(h.outOne().ack).toBe(P);
    expect(c.state).toBe(TcpState.ESTABLISHED);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: bytes(10) });
    expect(h.outOne().ack).toBe(P + 21);
    expect(c.state).toBe(TcpState.CLOSE_WAIT);
    expect(c.readable).toBe(20);
  });
});

describe('tcp send', () => {
  it('sends full-MSS segments within the peer window, holding back a runt (sender SWS avoidance)', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept({ mss: 1000 }, 2500);
    expect(h.write(c, bytes(5000))).toBe(5000);
    const segs = h.out();
    const at = (s: { seq: number }) => (s.seq - iss - 1) >>> 0;
    expect(segs.map((s) => [at(s), s.payload.length])).toEqual([
      [0, 1000],
      [1000, 1000],
    ]);
    expect(segs[0]!.payload).toEqual(bytes(5000).subarray(0, 1000));
    h.send({ seq: P, ack: iss + 1 + 2000, flags: TCP_ACK, window: 2500 });
    expect(h.out().map((s) => [at(s), s.payload.length])).toEqual([
      [2000, 1000],
      [3000, 1000],
    ]);
    h.send({ seq: P, ack: iss + 1 + 4000, flags: TCP_ACK, window: 2500 });
    const last = h.outOne();
    expect([at(last), last.payload.length, last.flags & TCP_PSH]).toEqual([4000, 1000, TCP_PSH]);
  });

  it('the initial congestion window is 10 segments', () => {
    const h = new TcpHarness();
    const { c } = h.accept({ mss: 1000 }, 65535);
    h.write(c, bytes(20_000));
    expect(h.out().length).toBe(10);
  });

  it('Nagle: with nodelay off, a small write waits while data is unacknowledged', () => {
    const h = new TcpHarness({ nodelay: false });
    const { c, iss } = h.accept();
    h.write(c, bytes(10));
    expect(h.outOne().payload.length).toBe(10);
    h.write(c, bytes(10));
    h.nothing();
    h.send({ seq: P, ack: iss + 11, flags: TCP_ACK });
    expect(h.outOne().payload.length).toBe(10);
  });

  it('with nodelay (the default) small writes go out at once', () => {
    const h = new TcpHarness();
    const { c } = h.accept();
    h.write(c, bytes(10));
    h.write(c, bytes(10));
    expect(h.out().length).toBe(2);
  });

  it('retransmits on timeout with exponential back-off, and ACKs restore progress', () => {
    const h = new TcpHarness({ tailLossProbe: false });
    const { c, iss } = h.accept();
    const rto = c.rtt.rto;
    expect(rto).toBe(200); // the handshake took no time: the minimum RTO applies
    h.write(c, bytes(100));
    const first = h.outOne();
    h.advance(rto - 1);
    h.nothing();
    h.advance(1);
    const r1 = h.outOne();
    expect([r1.seq, r1.payload.length]).toEqual([first.seq, 100]);
    h.advance(2 * rto - 1);
    h.nothing();
    h.advance(1);
    expect(h.outOne().seq).toBe(first.seq);
    h.send({ seq: P, ack: iss + 101, flags: TCP_ACK });
    expect(c.unacked).toBe(0);
    expect(c.rtxTimer.armed).toBe(false);
    expect(h.stack.stats.tcpRetransmits).toBe(2);
  });

  it("Karn's rule: an ACK after a retransmission gives no RTT sample", () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    const srtt = c.rtt.srtt;
    h.write(c, bytes(100));
    h.out();
    h.advance(1000);
    h.out();
    h.advance(10);
    h.send({ seq: P, ack: iss + 101, flags: TCP_ACK });
    expect(c.rtt.srtt).toBe(srtt);
  });

  it('measures RTT from the handshake and fresh segments and sets the RTO from it (RFC 6298)', () => {
    const h = new TcpHarness();
    const l = h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN });
    const iss = h.outOne().seq;
    h.advance(100);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK });
    const c = l.accept()!;
    expect([c.rtt.srtt, c.rtt.rttvar, c.rtt.rto]).toEqual([100, 50, 300]);
    h.write(c, bytes(100));
    h.out();
    h.advance(200);
    h.send({ seq: P, ack: iss + 101, flags: TCP_ACK });
    expect(c.rtt.srtt).toBeCloseTo(112.5);
    expect(c.rtt.rttvar).toBeCloseTo(62.5);
    expect(c.rtt.rto).toBeCloseTo(362.5);
  });

  it('gives up after the retries with ETIMEDOUT', () => {
    const h = new TcpHarness({ tailLossProbe: false, retries: 3, maxRtoMs: 4000 });
    const { c } = h.accept();
    h.write(c, bytes(10));
    h.out();
    for (let i = 0; i < 3; i++) {
      h.advance(4000);
      expect(h.outOne().payload.length).toBe(10);
    }
    h.advance(4000);
    h.nothing();
    expect(h.events).toContain(`error:${ERRNO.ETIMEDOUT}`);
    expect(c.state).toBe(TcpState.CLOSED);
  });

  it('fast retransmit on the third duplicate ACK, NewReno style', () => {
    const h = new TcpHarness({ congestionControl: 'newreno' });
    const { c, iss } = h.accept({ mss: 1000 });
    h.write(c, bytes(6000));
    expect(h.out().length).toBe(6);
    for (let i = 0; i < 2; i++) {
      h.send({ seq: P, ack: iss + 1001, flags: TCP_ACK });
      if (i === 0) h.nothing();
    }
    h.nothing();
    h.send({ seq: P, ack: iss + 1001, flags: TCP_ACK });
    h.send({ seq: P, ack: iss + 1001, flags: TCP_ACK });
    const r = h.out();
    expect(r[0]!.seq).toBe(iss + 1001);
    expect(r[0]!.payload.length).toBe(1000);
    expect(c.inRecovery).toBe(true);
    expect(h.stack.stats.tcpFastRetransmits).toBe(1);
    // A partial ACK resends the next hole.
    h.send({ seq: P, ack: iss + 2001, flags: TCP_ACK });
    const p = h.out();
    expect(p[0]!.seq).toBe(iss + 2001);
    // The full ACK ends recovery.
    h.send({ seq: P, ack: iss + 6001, flags: TCP_ACK });
    expect(c.inRecovery).toBe(false);
  });

  it('SACK recovery resends exactly the holes the receiver reports', () => {
    const h = new TcpHarness({ sack: true });
    const { c, iss } = h.accept({ sackPermitted: true, mss: 1000 });
    h.write(c, bytes(8000));
    expect(h.out().length).toBe(8);
    const base = iss + 1;
    // Segments 0 and 3 lost; 1-2 and 4-7 arrived.
    h.send({ seq: P, ack: base, flags: TCP_ACK, sack: [[base + 1000, base + 3000]] });
    h.send({
      seq: P,
      ack: base,
      flags: TCP_ACK,
      sack: [
        [base + 4000, base + 6000],
        [base + 1000, base + 3000],
      ],
    });
    h.send({
      seq: P,
      ack: base,
      flags: TCP_ACK,
      sack: [
        [base + 4000, base + 8000],
        [base + 1000, base + 3000],
      ],
    });
    const r = h.out().filter((s) => s.payload.length > 0);
    expect(r.map((s) => s.seq - base)).toEqual([0, 3000]);
    expect(c.inRecovery).toBe(true);
    h.send({ seq: P, ack: base + 8000, flags: TCP_ACK });
    expect(c.inRecovery).toBe(false);
    expect(c.unacked).toBe(0);
  });

  it('zero window: probes after the RTO, resumes when the window opens', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept({}, 0);
    h.write(c, bytes(100));
    h.nothing();
    h.advance(1000);
    const probe = h.outOne();
    expect([probe.seq, probe.payload.length, probe.flags]).toEqual([iss, 0, TCP_ACK]);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, window: 0 });
    h.nothing();
    h.advance(2000);
    expect(h.outOne().seq).toBe(iss);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, window: 1000 });
    const d = h.outOne();
    expect([d.seq, d.payload.length]).toEqual([iss + 1, 100]);
  });

  it('window update after zero window restarts sending without waiting for a timer', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept({ mss: 1000 }, 1000);
    h.write(c, bytes(3000));
    expect(h.outOne().payload.length).toBe(1000);
    h.send({ seq: P, ack: iss + 1001, flags: TCP_ACK, window: 0 });
    h.nothing();
    h.send({ seq: P, ack: iss + 1001, flags: TCP_ACK, window: 2000 });
    expect(h.out().map((s) => s.payload.length)).toEqual([1000, 1000]);
  });

  it('ignores an ACK for data never sent, answering with an ACK', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    h.write(c, bytes(10));
    h.out();
    h.send({ seq: P, ack: iss + 500, flags: TCP_ACK });
    const r = h.outOne();
    expect(r.ack).toBe(P);
    expect(c.unacked).toBe(10);
  });

  it('the send buffer is bounded; ACKed space is reported writable', () => {
    const h = new TcpHarness({ sendBuffer: 2000 });
    const { c, iss } = h.accept({ mss: 1000 });
    expect(c.write(bytes(5000))).toBe(2000);
    h.stack.flush();
    h.out();
    h.send({ seq: P, ack: iss + 1001, flags: TCP_ACK });
    expect(h.events).toContain('writable');
    expect(c.writable).toBe(1000);
  });
});

describe('tcp resets and challenges', () => {
  it('an exact RST resets the connection (ECONNRESET)', () => {
    const h = new TcpHarness();
    const { c } = h.accept();
    h.send({ seq: P, flags: TCP_RST });
    expect(h.events).toEqual([`error:${ERRNO.ECONNRESET}`, 'released']);
    expect(c.state).toBe(TcpState.CLOSED);
  });

  it('an in-window RST that is not exact gets a challenge ACK (RFC 5961)', () => {
    const h = new TcpHarness();
    const { c } = h.accept();
    h.send({ seq: P + 100, flags: TCP_RST });
    expect(h.outOne().ack).toBe(P);
    expect(c.state).toBe(TcpState.ESTABLISHED);
  });

  it('a RST outside the window is ignored silently', () => {
    const h = new TcpHarness();
    const { c } = h.accept();
    h.send({ seq: P + 1_000_000, flags: TCP_RST });
    h.nothing();
    expect(c.state).toBe(TcpState.ESTABLISHED);
  });

  it('a SYN on an established connection gets a challenge ACK', () => {
    const h = new TcpHarness();
    const { c } = h.accept();
    h.send({ seq: P + 5, flags: TCP_SYN });
    expect(h.outOne().flags).toBe(TCP_ACK);
    expect(c.state).toBe(TcpState.ESTABLISHED);
    expect(h.stack.stats.tcpChallengeAcks).toBe(1);
  });

  it('a segment without ACK is dropped once established', () => {
    const h = new TcpHarness();
    const { c } = h.accept();
    h.send({ seq: P, flags: TCP_PSH, payload: bytes(10) });
    h.nothing();
    expect(c.readable).toBe(0);
  });
});

describe('tcp timestamps', () => {
  it('echoes the peer timestamp and drops an older one (PAWS)', () => {
    const h = new TcpHarness({ timestamps: true });
    const { c, iss } = h.accept({ ts: [100, 0] });
    expect(c.tsOk).toBe(true);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_PSH, payload: bytes(10), ts: [200, 0] });
    h.advance(40);
    const a = h.outOne();
    expect(a.options.tsEcr).toBe(200);
    h.send({
      seq: P + 10,
      ack: iss + 1,
      flags: TCP_ACK | TCP_PSH,
      payload: bytes(10),
      ts: [150, 0],
    });
    expect(c.readable).toBe(10);
    expect(h.outOne().ack).toBe(P + 10);
  });
});

describe('tcp keepalive', () => {
  it('probes after the idle time and fails with ETIMEDOUT when nobody answers', () => {
    const h = new TcpHarness({
      keepalive: { enabled: true, idleMs: 10_000, intervalMs: 1000, probes: 2 },
    });
    const { iss } = h.accept();
    h.advance(9_999);
    h.nothing();
    h.advance(1);
    const p = h.outOne();
    expect([p.seq, p.payload.length]).toEqual([iss, 0]);
    h.advance(1000);
    expect(h.outOne().seq).toBe(iss);
    h.advance(1000);
    h.nothing();
    expect(h.events).toContain(`error:${ERRNO.ETIMEDOUT}`);
  });

  it('an answered probe keeps the connection', () => {
    const h = new TcpHarness({
      keepalive: { enabled: true, idleMs: 10_000, intervalMs: 1000, probes: 1 },
    });
    const { c, iss } = h.accept();
    h.advance(10_000);
    h.outOne();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK });
    h.advance(5_000);
    h.nothing();
    expect(c.state).toBe(TcpState.ESTABLISHED);
  });
});

describe('tcp tail loss probe', () => {
  it('resends the tail after 2 SRTT + 1 ms, well before the RTO', () => {
    const h = new TcpHarness();
    const l = h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN, mss: 1460 });
    const iss = h.outOne().seq;
    h.advance(20);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK });
    const c = l.accept()!;
    expect(c.rtt.srtt).toBe(20);
    h.write(c, bytes(3000));
    const first = h.out();
    expect(first.length).toBe(3);
    // Only the first segment is acknowledged; the tail (two segments) is lost.
    h.send({ seq: P, ack: iss + 1 + 1460, flags: TCP_ACK });
    // 36 ms: the ACK's own sample (0 ms) pulled SRTT to 17.5; two segments out add 1 ms.
    const pto = 2 * c.rtt.srtt + 1;
    expect(pto).toBeLessThan(c.rtt.rto);
    h.advance(pto - 1);
    h.nothing();
    h.advance(1);
    // The probe carries the highest MSS worth of data, which covers the lost tail.
    const probe = h.outOne();
    expect([probe.seq, probe.payload.length]).toEqual([(iss + 1 + 1540) >>> 0, 1460]);
    expect(h.stack.stats.tcpTailLossProbes).toBe(1);
    expect(h.stack.stats.tcpTimeouts).toBe(0);
  });
});
