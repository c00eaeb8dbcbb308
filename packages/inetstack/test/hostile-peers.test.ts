import { describe, expect, it } from 'vitest';
import {
  ICMP_DEST_UNREACHABLE,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
  TCP_URG,
} from '../src/wire/index.js';
import { Harness, PEER_IP, PEER_MAC, udpFrame } from './support/harness.js';
import { bytes, PEER_ISS, TcpHarness } from './support/tcp-harness.js';

describe('blind injection (RFC 5961 5.2)', () => {
  it('data whose ACK is older than any window we sent is dropped and answered with an ACK', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    const before = h.stack.stats.tcpChallengeAcks;
    h.send({
      seq: PEER_ISS + 1,
      ack: (iss + 1 - 2 ** 30) >>> 0,
      flags: TCP_ACK,
      payload: bytes(100),
    });
    expect(c.readable).toBe(0);
    const r = h.outOne();
    expect(r.flags).toBe(TCP_ACK);
    expect(r.ack).toBe(PEER_ISS + 1);
    expect(h.stack.stats.tcpChallengeAcks).toBe(before + 1);
    // The same data with a current ACK is taken.
    h.send({ seq: PEER_ISS + 1, ack: iss + 1, flags: TCP_ACK, payload: bytes(100) });
    expect(c.readable).toBe(100);
  });

  it('an ACK just below SND.UNA but within the largest window sent is acceptable', () => {
    const h = new TcpHarness();
    const { c, iss } = h.accept();
    h.write(c, bytes(1000));
    h.out();
    h.send({ seq: PEER_ISS + 1, ack: iss + 1001, flags: TCP_ACK });
    h.send({ seq: PEER_ISS + 1, ack: iss + 1, flags: TCP_ACK, payload: bytes(10) });
    expect(c.readable).toBe(10);
  });
});

describe('a listener', () => {
  for (const [name, flags] of [
    ['SYN+FIN', TCP_SYN | TCP_FIN],
    ['SYN+FIN+PSH+URG', TCP_SYN | TCP_FIN | TCP_PSH | TCP_URG],
  ] as const) {
    it(`drops ${name} without answering or remembering it`, () => {
      const h = new TcpHarness();
      const l = h.listen();
      h.send({ seq: PEER_ISS, flags });
      h.nothing();
      expect(l.pending.size).toBe(0);
      // A plain SYN from the same port still opens.
      h.send({ seq: PEER_ISS, flags: TCP_SYN });
      expect(h.outOne().flags).toBe(TCP_SYN | TCP_ACK);
    });
  }
});

describe('ICMP port unreachable', () => {
  it('is rate-limited per destination (a burst of 6, then 1 a second), not only globally', () => {
    const h = new Harness({
      arp: { table: { [PEER_MAC]: PEER_IP, '02:00:00:00:00:03': '10.0.0.3' } },
    });
    const unreachables = () =>
      h.sent().filter((s) => s.icmp?.type === ICMP_DEST_UNREACHABLE).length;
    for (let i = 0; i < 20; i++) h.inject(udpFrame(1000 + i, 9, new Uint8Array(1)));
    expect(unreachables()).toBe(6);
    // Another host still gets its answers: the global budget was not spent.
    h.inject(udpFrame(1, 9, new Uint8Array(1), '10.0.0.3'));
    expect(unreachables()).toBe(1);
    h.advance(1000);
    for (let i = 0; i < 5; i++) h.inject(udpFrame(2000 + i, 9, new Uint8Array(1)));
    expect(unreachables()).toBe(1);
    expect(h.stack.stats.icmpRateLimited).toBe(18);
  });
});

describe('window updates without window scaling', () => {
  it('a reader draining a large buffer sends one update per window that opens, never a repeat', () => {
    const h = new TcpHarness({ receiveBuffer: 1 << 20 });
    const { c, iss } = h.accept();
    // The application is away while the peer fills the whole 1 MiB buffer.
    let seq = PEER_ISS + 1;
    while (c.readable < 1 << 20) {
      const n = Math.min(1460, (1 << 20) - c.readable);
      h.send({ seq, ack: iss + 1, flags: TCP_ACK, payload: bytes(n) });
      seq += n;
    }
    h.advance(50);
    const acks = h.out();
    expect(acks.at(-1)!.ack).toBe(seq);
    expect(acks.at(-1)!.window).toBe(0);
    const updates: Array<[number, number]> = [];
    const buf = new Uint8Array(65536);
    while (c.readable > 0) {
      c.read(buf);
      h.poll();
      for (const r of h.out()) updates.push([r.ack, r.window]);
    }
    expect(updates).toEqual([[seq, 65535]]);
  });
});
