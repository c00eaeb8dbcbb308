// TCP over a device with segmentation offload (DeviceOffloads.tso): the sender
// builds segments of many MSS, the device (here the memory link, as a NIC or
// the kernel behind AF_PACKET would) cuts them, and segments larger than the
// MSS arriving from a coalescing peer (GRO) are taken whole.
import { describe, expect, it } from 'vitest';
import { segmentTcpFrame } from '../src/device/tso.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, type TcpRepr } from '../src/wire/index.js';
import { parseFrame, tcpSegment } from './support/harness.js';
import { bytes, PEER_ISS, TcpHarness } from './support/tcp-harness.js';
import { runTransfer } from './support/transfer.js';

const P = PEER_ISS + 1;
const TSO = 65536 - 14;
/** The device hands the peer each offload frame whole (as a veth does with a GSO packet). */
const whole = { offloads: { tso: TSO }, deliverLarge: true };
/** The device cuts offload frames into MTU-sized ones (as a NIC does). */
const cut = { offloads: { tso: TSO } };

function offloadHarness(link: object) {
  return new TcpHarness({}, {}, link);
}

/** Everything in `segs` laid end to end from `start`, checking there are no gaps. */
function joined(segs: TcpRepr[], start: number): Uint8Array {
  const out: number[] = [];
  let seq = start;
  for (const s of segs) {
    expect(s.seq).toBe(seq >>> 0);
    out.push(...s.payload);
    seq += s.payload.length;
  }
  return Uint8Array.from(out);
}

describe('tcp segmentation offload: sending', () => {
  it('the MSS advertised still comes from the MTU', () => {
    const h = offloadHarness(whole);
    h.listen();
    h.send({ seq: PEER_ISS, flags: TCP_SYN, window: 65535, mss: 1460 });
    expect(h.outOne().options.mss).toBe(1460);
  });

  it('one segment carries the whole initial congestion window, PSH only on the end of the data', () => {
    const h = offloadHarness(whole);
    const { c, iss } = h.accept();
    const data = bytes(20_000);
    h.write(c, data);
    const first = h.outOne();
    // The initial window is 10 segments: one frame of 10 x 1460 bytes, not ten frames.
    expect(first.seq).toBe(iss + 1);
    expect(first.payload.length).toBe(14_600);
    expect(first.flags).toBe(TCP_ACK);
    expect(h.stack.stats.tcpOffloadSegments).toBe(1);
    h.send({ seq: P, ack: iss + 1 + 14_600, flags: TCP_ACK, window: 65535 });
    const rest = h.outOne();
    expect(rest.seq).toBe(iss + 1 + 14_600);
    expect(rest.payload.length).toBe(5_400);
    expect(rest.flags).toBe(TCP_ACK | TCP_PSH);
    expect(joined([first, rest], iss + 1)).toEqual(data);
  });

  it('the device cuts it into MTU-sized segments: sequence numbers advance, PSH and FIN only on the last part', () => {
    const h = offloadHarness(cut);
    const { c, iss } = h.accept();
    const data = bytes(5_000, 7);
    c.write(data);
    c.close();
    h.stack.flush();
    const parts = h.out();
    expect(parts.map((p) => p.payload.length)).toEqual([1460, 1460, 1460, 620]);
    expect(parts.map((p) => p.flags)).toEqual([
      TCP_ACK,
      TCP_ACK,
      TCP_ACK,
      TCP_ACK | TCP_PSH | TCP_FIN,
    ]);
    expect(joined(parts, iss + 1)).toEqual(data);
    expect(h.stack.stats.tcpOffloadSegments).toBe(1);
  });

  it('the peer window bounds a large segment, which ends on an MSS boundary', () => {
    const h = offloadHarness(whole);
    const { c, iss } = h.accept({}, 5_000);
    h.write(c, bytes(20_000));
    // 5,000 bytes of window: three whole MSS (4,380 bytes); the 620-byte runt waits for the ACK.
    const first = h.outOne();
    expect(first.payload.length).toBe(4_380);
    h.send({ seq: P, ack: iss + 1 + 4_380, flags: TCP_ACK, window: 5_000 });
    // 5,000 bytes of window again from the new left edge: three whole MSS.
    const next = h.outOne();
    expect([next.seq, next.payload.length]).toEqual([iss + 1 + 4_380, 4_380]);
  });

  it('a peer MSS below what the MTU allows turns offload off for that connection', () => {
    const h = offloadHarness(whole);
    const { c } = h.accept({ mss: 1000 });
    h.write(c, bytes(20_000));
    const segs = h.out();
    expect(segs.length).toBeGreaterThan(1);
    for (const s of segs) expect(s.payload.length).toBeLessThanOrEqual(1000);
    expect(h.stack.stats.tcpOffloadSegments).toBe(0);
  });

  it('a large segment that is lost is retransmitted an MSS at a time until all of it arrives', () => {
    const h = offloadHarness(whole);
    const { c, iss } = h.accept();
    const data = bytes(14_600, 3);
    h.write(c, data);
    expect(h.outOne().payload.length).toBe(14_600); // lost
    h.advance(1000); // the initial RTO
    const got: TcpRepr[] = [];
    let acked = iss + 1;
    for (let round = 0; round < 20 && acked < iss + 1 + data.length; round++) {
      const segs = h.out();
      expect(segs.length).toBeGreaterThan(0);
      for (const s of segs) {
        if (s.seq === acked) {
          got.push(s);
          acked += s.payload.length;
        }
      }
      h.send({ seq: P, ack: acked, flags: TCP_ACK, window: 65535 });
    }
    // The first retransmission after a timeout is one MSS; later ones grow with the window.
    expect(got[0]!.payload.length).toBe(1460);
    expect(joined(got, iss + 1)).toEqual(data);
    expect(h.stack.stats.tcpRetransmits).toBeGreaterThan(0);
  });
});

describe('tcp segmentation offload: receiving large segments (GRO)', () => {
  it('a segment far above the MSS is taken whole and acknowledged at once', () => {
    const h = offloadHarness(whole);
    const { c, iss } = h.accept();
    const data = bytes(30_000, 5);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK | TCP_PSH, payload: data });
    const a = h.outOne();
    expect(a.ack).toBe(P + 30_000);
    expect(c.readBytes(40_000)).toEqual(data);
    expect(h.stack.stats.tcpLargeSegmentsIn).toBe(1);
  });

  it('a large segment past a hole is held and delivered when the hole fills', () => {
    const h = offloadHarness(whole);
    const { c, iss } = h.accept();
    const data = bytes(40_000, 9);
    h.send({ seq: P + 1000, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(1000) });
    expect(h.outOne().ack).toBe(P);
    h.send({ seq: P, ack: iss + 1, flags: TCP_ACK, payload: data.subarray(0, 1000) });
    expect(h.outOne().ack).toBe(P + 40_000);
    expect(c.readBytes(50_000)).toEqual(data);
  });
});

describe('segmentTcpFrame', () => {
  it('leaves frames within the MTU and non-TCP frames alone', () => {
    const small = tcpSegment({
      srcPort: 1,
      dstPort: 2,
      seq: 5,
      flags: TCP_ACK,
      payload: bytes(100),
    });
    const parts: Uint8Array[] = [];
    expect(segmentTcpFrame(small, 1500, (p) => parts.push(p))).toBe(1);
    expect(parts[0]).toBe(small);
  });

  it('cuts a large segment into parts with valid checksums that add up to it', () => {
    const payload = bytes(10_000, 11);
    const big = tcpSegment({
      srcPort: 1,
      dstPort: 2,
      seq: 0xffff_f000,
      ack: 9,
      flags: TCP_ACK | TCP_PSH | TCP_FIN,
      payload,
    });
    const parts: Uint8Array[] = [];
    expect(segmentTcpFrame(big, 1500, (p) => parts.push(p))).toBe(7);
    const parsed = parts.map((p) => parseFrame(p));
    for (const s of parsed) {
      expect(s.ipChecksumOk).toBe(true);
      expect(s.tcpChecksumOk).toBe(true);
      expect(s.frame.byteLength).toBeLessThanOrEqual(1514);
    }
    const segs = parsed.map((s) => s.tcp!);
    expect(segs.slice(0, -1).every((s) => s.flags === TCP_ACK)).toBe(true);
    expect(segs.at(-1)!.flags).toBe(TCP_ACK | TCP_PSH | TCP_FIN);
    // Sequence numbers wrap past 2^32 like any other.
    expect(joined(segs, 0xffff_f000)).toEqual(payload);
  });
});

describe('tcp segmentation offload: whole transfers', () => {
  for (const [title, link] of [
    ['cut by the device', cut],
    ['handed over whole', whole],
  ] as const) {
    it(`4 MiB each way, ${title}, byte-exact with 5% of frames lost each way`, () => {
      const r = runTransfer({
        seed: 7,
        bytes: 4 << 20,
        link,
        faults: { dropPct: 5, delayPct: 100, delayMs: 0.05 },
      });
      expect(r.ok, r.why).toBe(true);
      expect(r.offloadSegments).toBeGreaterThan(0);
      expect(r.retransmits).toBeGreaterThan(0);
      if (link === whole) expect(r.largeSegmentsIn).toBeGreaterThan(0);
    });
  }
});
