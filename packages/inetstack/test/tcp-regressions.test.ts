import { describe, expect, it } from 'vitest';
import { TcpState } from '../src/tcp/state.js';
import { ByteRing } from '../src/util/byte-ring.js';
import { TCP_ACK, TCP_FIN, TCP_RST } from '../src/wire/index.js';
import { bytes, PEER_ISS, TcpHarness } from './support/tcp-harness.js';

const P = PEER_ISS + 1;

// Each of these was found by the simulated-network matrix.
describe('tcp regressions', () => {
  it('ByteRing: bytes placed past the end survive the readable part being drained', () => {
    const r = new ByteRing(64, 16);
    r.write(bytes(10), 0, 10);
    r.writeAt(20, bytes(5, 9), 0, 5);
    expect(r.read(new Uint8Array(10), 0, 10)).toBe(10);
    // The placed bytes are now 10 past the (moved) read position.
    r.writeAt(0, bytes(10, 3), 0, 10);
    r.commit(15);
    const out = new Uint8Array(15);
    r.read(out, 0, 15);
    expect(out.subarray(0, 10)).toEqual(bytes(10, 3));
    expect(out.subarray(10)).toEqual(bytes(5, 9));
  });

  it('out-of-order data held while the application drains the buffer is delivered intact', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    const data = bytes(300);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(0, 100) });
    h.send({ seq: P + 200, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(200) });
    expect(c.readBytes(100)).toEqual(data.subarray(0, 100));
    h.send({ seq: P + 100, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(100, 200) });
    expect(c.readBytes(1000)).toEqual(data.subarray(100));
  });

  it('a pure ACK whose sequence number sits exactly at the right edge of our window is accepted', () => {
    const h = new TcpHarness({ receiveBuffer: 1000 });
    const { c, iss } = h.accept();
    h.write(c, bytes(50));
    h.out();
    h.send({ seq: P + 1000, ack: iss + 51, flags: TCP_ACK });
    expect(c.unacked).toBe(0);
  });

  it('pure ACKs carry the highest sequence sent even after a timeout rewound the send point', () => {
    const h = new TcpHarness({ tailLossProbe: false });
    const { c, iss } = h.accept({ mss: 1000 });
    h.write(c, bytes(3000));
    h.out();
    h.advance(c.rtt.rto);
    expect(h.outOne().seq).toBe(iss + 1);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_FIN });
    const ack = h.out().find((s) => s.payload.length === 0)!;
    expect(ack.seq).toBe(iss + 3001);
  });

  it('unacceptable segments without data are answered at most every 500 ms (no ACK loops)', () => {
    const h = new TcpHarness();
    const { iss } = h.accept();
    h.send({ seq: P + 1_000_000, ack: iss + 1, flags: TCP_ACK });
    expect(h.out().length).toBe(1);
    h.send({ seq: P + 1_000_000, ack: iss + 1, flags: TCP_ACK });
    h.nothing();
    h.advance(500);
    h.send({ seq: P + 1_000_000, ack: iss + 1, flags: TCP_ACK });
    expect(h.out().length).toBe(1);
    // A duplicate carrying data is always acknowledged.
    h.send({ seq: P - 10, ack: iss + 1, flags: TCP_ACK, payload: bytes(10) });
    expect(h.out().length).toBe(1);
  });

  it('TIME-WAIT ignores a RST (RFC 1337)', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    c.close();
    h.poll();
    h.out();
    h.send({ seq: P, ack: iss + 2, flags: TCP_ACK | TCP_FIN });
    h.out();
    h.send({ seq: P + 1, flags: TCP_RST });
    expect(c.state).toBe(TcpState.TIME_WAIT);
  });
});
