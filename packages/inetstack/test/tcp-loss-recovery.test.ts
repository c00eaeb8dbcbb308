import { describe, expect, it } from 'vitest';
import { TCP_ACK } from '../src/wire/index.js';
import { bytes, PEER_ISS, TcpHarness } from './support/tcp-harness.js';

// Loss recovery as a sender, segment by segment: SACK-based recovery (RFC 6675),
// tail loss probes (RFC 8985 7) and what the counters say. MSS 1000 keeps the
// arithmetic readable; the initial window is 10 segments.
const P = PEER_ISS + 1;

function sender(tcp: ConstructorParameters<typeof TcpHarness>[0] = {}) {
  const h = new TcpHarness({ sack: true, ...tcp });
  const { c, iss } = h.accept({ sackPermitted: true, mss: 1000 });
  return { h, c, base: iss + 1 };
}

const dataSeqs = (h: TcpHarness, base: number) =>
  h
    .out()
    .filter((s) => s.payload.length > 0)
    .map((s) => s.seq - base);

describe('tcp SACK loss recovery', () => {
  it('three SACKed segments beyond a hole retransmit it at once, without waiting for the RTO', () => {
    const { h, c, base } = sender();
    h.write(c, bytes(10_000));
    expect(h.out().length).toBe(10);
    // One ACK: segment 0 missing, 1-3 arrived. No timer has run.
    h.send({ seq: P, ack: base, flags: TCP_ACK, sack: [[base + 1000, base + 4000]] });
    expect(dataSeqs(h, base)).toEqual([0]);
    expect(c.inRecovery).toBe(true);
    expect(h.stack.stats.tcpFastRetransmits).toBe(1);
    expect(h.stack.stats.tcpTimeouts).toBe(0);
  });

  it('two holes in one window are both retransmitted on one ACK (within one RTT)', () => {
    const { h, c, base } = sender();
    h.write(c, bytes(10_000));
    expect(h.out().length).toBe(10);
    // Segments 0 and 3 lost; everything else arrived, reported in one ACK.
    h.send({
      seq: P,
      ack: base,
      flags: TCP_ACK,
      sack: [
        [base + 4000, base + 10_000],
        [base + 1000, base + 3000],
      ],
    });
    expect(dataSeqs(h, base)).toEqual([0, 3000]);
    expect(h.stack.stats.tcpTimeouts).toBe(0);
    h.send({ seq: P, ack: base + 10_000, flags: TCP_ACK });
    expect(c.inRecovery).toBe(false);
    expect(c.unacked).toBe(0);
  });

  it('a hole with fewer than three segments SACKed above it waits (RFC 6675 IsLost)', () => {
    const { h, c, base } = sender();
    h.write(c, bytes(20_000));
    expect(h.out().length).toBe(10);
    // Segment 0 lost, 1-2 arrived: two SACKed segments are not yet a loss with more data to send.
    h.send({ seq: P, ack: base, flags: TCP_ACK, sack: [[base + 1000, base + 3000]] });
    expect(c.inRecovery).toBe(false);
    expect(h.out().filter((s) => s.seq - base < 10_000 && s.payload.length > 0)).toEqual([]);
  });

  it('when ACKs stop during recovery a probe resends the oldest segment before the RTO', () => {
    const { h, c, base } = sender();
    h.write(c, bytes(10_000));
    h.out();
    h.send({ seq: P, ack: base, flags: TCP_ACK, sack: [[base + 1000, base + 4000]] });
    expect(dataSeqs(h, base)).toEqual([0]);
    // Nothing more comes back (the retransmission or its ACK was lost). SRTT is 0 here,
    // so the probe timeout is 1 ms.
    h.advance(0.5);
    h.nothing();
    h.advance(0.5);
    expect(dataSeqs(h, base)).toEqual([0]);
    expect(h.stack.stats.tcpTailLossProbes).toBe(1);
    expect(h.stack.stats.tcpTimeouts).toBe(0);
    // It arrives, and its answer shows segments 4-9 arrived too.
    h.send({ seq: P, ack: base + 10_000, flags: TCP_ACK });
    expect(c.inRecovery).toBe(false);
    expect(c.unacked).toBe(0);
  });

  it('a probe SACKed above a hole starts recovery at once', () => {
    const { h, c, base } = sender();
    h.write(c, bytes(30_000));
    expect(h.out().length).toBe(10);
    // Every segment of the flight is lost. The probe is the last one again.
    h.advance(1);
    expect(dataSeqs(h, base)).toEqual([9000]);
    // Only the probe arrives: one SACKed segment, and more data waits to be sent (no
    // early retransmit), yet it shows the first segment lost.
    h.send({ seq: P, ack: base, flags: TCP_ACK, sack: [[base + 9000, base + 10_000]] });
    expect(dataSeqs(h, base)[0]).toBe(0);
    expect(c.inRecovery).toBe(true);
    expect(h.stack.stats.tcpTimeouts).toBe(0);
  });

  it('unanswered probes back off; the RTO follows and is counted', () => {
    const { h, c, base } = sender();
    h.write(c, bytes(3000));
    expect(h.out().length).toBe(3);
    // Probes at 1, 1+2 and 3+4 ms, each the last segment again.
    const at: number[] = [];
    for (let t = 1; t <= 199; t++) {
      h.advance(1);
      const s = dataSeqs(h, base);
      if (s.length > 0) {
        expect(s).toEqual([2000]);
        at.push(t);
      }
    }
    expect(at).toEqual([1, 3, 7]);
    expect(h.stack.stats.tcpTailLossProbes).toBe(3);
    expect(h.stack.stats.tcpTimeouts).toBe(0);
    // The RTO (200 ms minimum) restarts from the oldest byte and is counted as a timeout.
    h.advance(1);
    expect(dataSeqs(h, base)).toEqual([0]);
    expect(h.stack.stats.tcpTimeouts).toBe(1);
    expect(h.stack.stats.tcpTimedOut).toBe(0);
    expect(c.error).toBe(0);
  });
});
