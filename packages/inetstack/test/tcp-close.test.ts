import { describe, expect, it } from 'vitest';
import { TcpState } from '../src/tcp/state.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST } from '../src/wire/index.js';
import { bytes, PEER_ISS, TcpHarness } from './support/tcp-harness.js';

const P = PEER_ISS + 1;

describe('tcp close', () => {
  it('active close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, then released after 2 MSL', () => {
    const h = new TcpHarness({ mslMs: 1000 });
    const { c, iss } = h.accept();
    c.close();
    h.poll();
    const fin = h.outOne();
    expect([fin.flags, fin.seq, fin.ack]).toEqual([TCP_ACK | TCP_FIN, iss + 1, P]);
    expect(c.state).toBe(TcpState.FIN_WAIT_1);
    h.send({ seq: P, ack: iss + 2, flags: TCP_ACK });
    expect(c.state).toBe(TcpState.FIN_WAIT_2);
    expect(h.events).toEqual(['finacked']);
    h.send({ seq: P, ack: iss + 2, flags: TCP_ACK | TCP_FIN });
    const ack = h.outOne();
    expect([ack.flags, ack.ack]).toEqual([TCP_ACK, P + 1]);
    expect(c.state).toBe(TcpState.TIME_WAIT);
    h.advance(1999);
    expect(c.state).toBe(TcpState.TIME_WAIT);
    h.advance(1);
    expect(c.state).toBe(TcpState.CLOSED);
    expect(h.stack.tcp.connectionCount).toBe(0);
  });

  it('data queued at close is sent before the FIN, which rides on the last segment', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept({ mss: 1000 });
    c.write(bytes(1500));
    c.close();
    h.poll();
    const segs = h.out();
    expect(segs.map((s) => [s.seq - iss - 1, s.payload.length, s.flags & TCP_FIN])).toEqual([
      [0, 1000, 0],
      [1000, 500, TCP_FIN],
    ]);
  });

  it('passive close: the peer FIN gives CLOSE-WAIT and EOF; our close gives LAST-ACK; its ACK releases', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_FIN });
    h.outOne();
    expect(c.state).toBe(TcpState.CLOSE_WAIT);
    expect(c.eof).toBe(true);
    c.write(bytes(10));
    c.close();
    expect(c.state).toBe(TcpState.LAST_ACK);
    h.poll();
    const fin = h.outOne();
    expect([fin.flags, fin.payload.length]).toEqual([TCP_ACK | TCP_PSH | TCP_FIN, 10]);
    h.send({ seq: P + 1, ack: iss + 12, flags: TCP_ACK });
    expect(c.state).toBe(TcpState.CLOSED);
    expect(h.events).toEqual(['readable', 'finacked', 'released']);
  });

  it('simultaneous close: FIN-WAIT-1 meets the peer FIN, CLOSING, then TIME-WAIT on the ACK', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    c.close();
    h.poll();
    h.outOne();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_FIN });
    expect(h.outOne().ack).toBe(P + 1);
    expect(c.state).toBe(TcpState.CLOSING);
    h.send({ seq: P + 1, ack: iss + 2, flags: TCP_ACK });
    expect(c.state).toBe(TcpState.TIME_WAIT);
  });

  it('FIN and the ACK of our FIN together go straight to TIME-WAIT', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    c.close();
    h.poll();
    h.outOne();
    h.send({ seq: P, ack: iss + 2, flags: TCP_ACK | TCP_FIN });
    expect(h.outOne().ack).toBe(P + 1);
    expect(c.state).toBe(TcpState.TIME_WAIT);
  });

  it('the FIN is retransmitted when not acknowledged', () => {
    const h = new TcpHarness({ tailLossProbe: false });
    const { c, iss } = h.accept();
    c.close();
    h.poll();
    h.outOne();
    h.advance(c.rtt.rto);
    const again = h.outOne();
    expect([again.flags, again.seq]).toEqual([TCP_ACK | TCP_FIN, iss + 1]);
  });

  it('TIME-WAIT answers a retransmitted FIN with an ACK', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    c.close();
    h.poll();
    h.out();
    h.send({ seq: P, ack: iss + 2, flags: TCP_ACK | TCP_FIN });
    h.out();
    h.send({ seq: P, ack: iss + 2, flags: TCP_ACK | TCP_FIN });
    expect(h.outOne().ack).toBe(P + 1);
    expect(c.state).toBe(TcpState.TIME_WAIT);
  });

  it('closing with unread data resets the connection (RFC 2525)', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_PSH, payload: bytes(10) });
    c.close();
    h.poll();
    const r = h.out().find((s) => s.flags & TCP_RST)!;
    expect([r.flags, r.seq, r.ack]).toEqual([TCP_RST | TCP_ACK, iss + 1, P + 10]);
    expect(c.state).toBe(TcpState.CLOSED);
  });

  it('abort sends RST and releases at once', () => {
    const h = new TcpHarness();
    const { c } = h.accept();
    c.abort();
    h.poll();
    expect(h.outOne().flags & TCP_RST).toBe(TCP_RST);
    expect(h.stack.tcp.connectionCount).toBe(0);
  });

  it('an orphaned connection that receives new data after close resets', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    c.close();
    c.detach();
    h.poll();
    h.out();
    h.send({ seq: P, ack: iss + 2, flags: TCP_ACK, payload: bytes(10) });
    expect(h.outOne().flags & TCP_RST).toBe(TCP_RST);
    expect(c.state).toBe(TcpState.CLOSED);
  });

  it('an orphaned FIN-WAIT-2 connection is released after the FIN-WAIT-2 timeout', () => {
    const h = new TcpHarness({ finWait2TimeoutMs: 5000 });
    const { c, iss } = h.accept();
    c.close();
    c.detach();
    h.poll();
    h.out();
    h.send({ seq: P, ack: iss + 2, flags: TCP_ACK });
    expect(c.state).toBe(TcpState.FIN_WAIT_2);
    h.advance(5000);
    expect(c.state).toBe(TcpState.CLOSED);
  });

  it('SO_LINGER: a close not finished by the deadline becomes a reset', () => {
    const h = new TcpHarness();
    const { c } = h.accept({}, 0);
    c.write(bytes(100));
    c.close(3000);
    h.poll();
    h.out();
    h.advance(3000);
    expect(h.out().some((s) => s.flags & TCP_RST)).toBe(true);
    expect(c.state).toBe(TcpState.CLOSED);
  });

  it('closing in SYN-SENT just forgets the connection', () => {
    const h = new TcpHarness();
    const c = h.stack.tcp.connect(0x0a000002, 5000, 80);
    if (typeof c === 'number') throw new Error();
    h.poll();
    h.out();
    c.close();
    h.advance(5000);
    h.nothing();
    expect(h.stack.tcp.connectionCount).toBe(0);
  });

  it('closing a listener resets connections never accepted', () => {
    const h = new TcpHarness();
    const l = h.listen();
    h.send({ seq: PEER_ISS, flags: 2 });
    const iss = h.outOne().seq;
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK });
    expect(l.ready.size).toBe(1);
    h.stack.tcp.unlisten(l);
    h.poll();
    expect(h.outOne().flags & TCP_RST).toBe(TCP_RST);
    expect(h.stack.tcp.connectionCount).toBe(0);
  });
  describe('stack shutdown', () => {
    // Each case leaves one connection in a state, then closes the stack.
    const cases: [
      string,
      TcpState,
      (h: TcpHarness) => { state: TcpState; rstSeq: number | undefined },
    ][] = [
      [
        'ESTABLISHED: RST',
        TcpState.ESTABLISHED,
        (h) => {
          const { c, iss } = h.accept();
          return { state: c.state, rstSeq: iss + 1 };
        },
      ],
      [
        'FIN-WAIT-2 (our FIN acknowledged, the peer still open): RST',
        TcpState.FIN_WAIT_2,
        (h) => {
          const { c, iss } = h.accept();
          c.close();
          h.poll();
          h.out();
          h.send({ seq: P, ack: iss + 2, flags: TCP_ACK });
          return { state: c.state, rstSeq: iss + 2 };
        },
      ],
      [
        'LAST-ACK (the peer would wait for our FIN or its ACK): RST',
        TcpState.LAST_ACK,
        (h) => {
          const { c, iss } = h.accept();
          h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_FIN });
          c.close();
          h.poll();
          h.out();
          return { state: c.state, rstSeq: iss + 2 };
        },
      ],
      [
        'TIME-WAIT (the peer is done): nothing',
        TcpState.TIME_WAIT,
        (h) => {
          const { c, iss } = h.accept();
          c.close();
          h.poll();
          h.send({ seq: P, ack: iss + 2, flags: TCP_ACK | TCP_FIN });
          h.out();
          return { state: c.state, rstSeq: undefined };
        },
      ],
    ];
    for (const [name, expected, setup] of cases) {
      it(name, () => {
        const h = new TcpHarness();
        const { state, rstSeq } = setup(h);
        expect(state).toBe(expected);
        h.stack.close();
        const sent = h.out();
        if (rstSeq === undefined) expect(sent).toEqual([]);
        else {
          expect(sent.map((x) => [x.flags & TCP_RST, x.seq])).toEqual([[TCP_RST, rstSeq]]);
        }
        expect(h.stack.tcp.connectionCount).toBe(0);
      });
    }
  });
});
