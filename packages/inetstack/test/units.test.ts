import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialWindow, NoCongestionControl } from '../src/tcp/congestion/congestion.js';
import { Cubic } from '../src/tcp/congestion/cubic.js';
import { NewReno } from '../src/tcp/congestion/newreno.js';
import { IsnGenerator } from '../src/tcp/isn.js';
import { RttEstimator } from '../src/tcp/rtt.js';
import { seqAdd, seqGe, seqGt, seqInWindow, seqLe, seqLt, seqMax, seqSub } from '../src/tcp/seq.js';
import { ByteRing } from '../src/util/byte-ring.js';
import { SeededRandom } from '../src/util/random.js';
import { RangeSet } from '../src/util/range-set.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const dist = fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 });

describe('sequence arithmetic (wraps at 2^32)', () => {
  it('a + d compares to a as d compares to 0, across the wrap', () => {
    fc.assert(
      fc.property(u32, dist, (a, d) => {
        const b = seqAdd(a, d);
        return (
          seqSub(b, a) === d &&
          seqLt(a, b) === d > 0 &&
          seqGt(a, b) === d < 0 &&
          seqLe(a, b) === d >= 0 &&
          seqGe(a, b) === d <= 0 &&
          b >= 0 &&
          b <= 0xffffffff
        );
      }),
    );
  });
  it('is antisymmetric and consistent with max', () => {
    fc.assert(
      fc.property(
        u32,
        dist,
        (a, d) => d === 0 || seqLt(a, seqAdd(a, d)) !== seqLt(seqAdd(a, d), a),
      ),
    );
    fc.assert(
      fc.property(u32, dist, (a, d) => seqMax(a, seqAdd(a, d)) === (d > 0 ? seqAdd(a, d) : a)),
    );
  });
  it('windows that straddle the wrap', () => {
    expect(seqInWindow(5, 0xfffffff0, 100)).toBe(true);
    expect(seqInWindow(0xffffffef, 0xfffffff0, 100)).toBe(false);
    expect(seqInWindow(0x53, 0xfffffff0, 100)).toBe(true);
    expect(seqInWindow(0x54, 0xfffffff0, 100)).toBe(false);
    fc.assert(
      fc.property(
        u32,
        fc.integer({ min: 1, max: 1 << 30 }),
        fc.integer({ min: 0, max: 1 << 30 }),
        (lo, size, off) => seqInWindow(seqAdd(lo, off), lo, size) === off < size,
      ),
    );
  });
});

describe('RangeSet (model check)', () => {
  it('covers exactly the union of what was added, merged and sorted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 30 })), {
          maxLength: 40,
        }),
        fc.integer({ min: 0, max: 250 }),
        (adds, cut) => {
          const set = new RangeSet(1000);
          const model = new Set<number>();
          for (const [s, n] of adds) {
            set.add(s, s + n);
            for (let i = s; i < s + n; i++) model.add(i);
          }
          set.removeBelow(cut);
          for (const x of [...model]) if (x < cut) model.delete(x);
          const covered = new Set<number>();
          let prevEnd = -1;
          for (const [s, e] of set.toArray()) {
            if (s <= prevEnd || e <= s) return false;
            prevEnd = e;
            for (let i = s; i < e; i++) covered.add(i);
          }
          return (
            covered.size === model.size &&
            [...model].every((x) => covered.has(x)) &&
            set.size === model.size
          );
        },
      ),
    );
  });
  it('refuses a new disjoint range beyond its bound, but still merges', () => {
    const s = new RangeSet(2);
    expect(s.add(0, 10)).toBe(true);
    expect(s.add(20, 30)).toBe(true);
    expect(s.add(40, 50)).toBe(false);
    expect(s.add(10, 20)).toBe(true);
    expect(s.toArray()).toEqual([[0, 30]]);
  });
});

describe('ByteRing (model check)', () => {
  it('behaves as a FIFO of bytes across growth and wrap-around', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 60 }),
        (ops) => {
          const ring = new ByteRing(8192, 16);
          const model: number[] = [];
          let next = 0;
          for (const [write, n] of ops) {
            if (write) {
              const data = Uint8Array.from({ length: n }, () => next++ & 0xff);
              const k = ring.write(data, 0, n);
              for (let i = 0; i < k; i++) model.push(data[i]!);
              next -= n - k;
            } else {
              const out = new Uint8Array(n);
              const k = ring.read(out, 0, n);
              const want = model.splice(0, k);
              if (k !== want.length || want.some((v, i) => out[i] !== v)) return false;
            }
            if (ring.length !== model.length) return false;
          }
          return true;
        },
      ),
    );
  });
});

describe('RTO (RFC 6298)', () => {
  it('first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR; clamped; doubled per back-off', () => {
    const r = new RttEstimator(1000, 200, 60_000);
    expect(r.rto).toBe(1000);
    r.sample(100);
    expect([r.srtt, r.rttvar, r.rto]).toEqual([100, 50, 300]);
    r.backOff();
    r.backOff();
    expect(r.rto).toBe(1200);
    for (let i = 0; i < 20; i++) r.backOff();
    expect(r.rto).toBe(60_000);
    const fast = new RttEstimator(1000, 200, 60_000);
    fast.sample(1);
    expect(fast.rto).toBe(200);
  });
});

describe('congestion control', () => {
  it('initial window per RFC 6928', () => {
    expect(initialWindow(1460)).toBe(14600);
    expect(initialWindow(536)).toBe(5360);
    expect(initialWindow(9000)).toBe(18000);
  });

  it('NewReno: slow start doubles per window, halves on loss, one MSS per window after', () => {
    const cc = new NewReno();
    cc.init(1000);
    expect(cc.cwnd).toBe(10_000);
    cc.onAck(10_000, 10_000);
    expect(cc.cwnd).toBe(20_000);
    cc.onCongestion(20_000);
    expect([cc.ssthresh, cc.cwnd]).toEqual([10_000, 10_000]);
    cc.onAck(5000, 10_000);
    expect(cc.cwnd).toBe(10_000);
    cc.onAck(5000, 10_000);
    expect(cc.cwnd).toBe(11_000);
    cc.onTimeout(11_000);
    expect([cc.ssthresh, cc.cwnd]).toEqual([5500, 1000]);
  });

  it('NewReno: an application-limited flow does not grow the window', () => {
    const cc = new NewReno();
    cc.init(1000);
    cc.onAck(1000, 1000);
    expect(cc.cwnd).toBe(10_000);
  });

  it('CUBIC: reduces to 0.7 and regrows along the cubic curve back to Wmax after K seconds', () => {
    const cc = new Cubic();
    cc.init(1000);
    cc.cwnd = 100_000;
    cc.ssthresh = 50_000;
    cc.onCongestion();
    expect(cc.cwnd).toBeCloseTo(70_000);
    expect(cc.wMax).toBe(100);
    // K = cbrt(Wmax (1 - beta) / C) = cbrt(100 * 0.3 / 0.4) seconds.
    const k = Math.cbrt(75);
    // A long RTT keeps CUBIC out of its Reno-friendly region (with short RTTs Reno grows faster).
    const rtt = 400;
    let now = 0;
    cc.onAck(1000, 70_000, now, rtt);
    expect(cc.k).toBeCloseTo(k, 5);
    const at = (t: number) => 0.4 * (t - k) ** 3 + 100;
    // Ack one window per RTT until K has passed: the window tracks W(t + RTT).
    while (now < k * 1000) {
      now += rtt;
      const w = cc.cwnd;
      for (let acked = 0; acked < w; acked += 1000) cc.onAck(1000, w, now, rtt);
      expect(cc.cwnd / 1000).toBeLessThanOrEqual(Math.max(at(now / 1000 + rtt / 1000), 70) + 1);
    }
    expect(cc.cwnd / 1000).toBeGreaterThan(95);
    expect(cc.cwnd / 1000).toBeLessThan(105);
  });

  it('CUBIC: fast convergence lowers Wmax when losses come before the window recovered', () => {
    const cc = new Cubic();
    cc.init(1000);
    cc.cwnd = 100_000;
    cc.onCongestion();
    cc.onCongestion();
    expect(cc.wMax).toBeCloseTo((70 * 1.7) / 2);
  });

  it('CUBIC: a timeout leaves one MSS', () => {
    const cc = new Cubic();
    cc.init(1000);
    cc.cwnd = 40_000;
    cc.onTimeout();
    expect([cc.cwnd, cc.ssthresh]).toEqual([1000, 28_000]);
  });

  it('none: never limits', () => {
    const cc = new NoCongestionControl();
    cc.onTimeout();
    expect(cc.cwnd).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('ISN (RFC 6528)', () => {
  it('is reproducible from the seed, differs per 4-tuple, and advances with the clock (4 us ticks)', () => {
    const a = new IsnGenerator(new SeededRandom(1));
    const b = new IsnGenerator(new SeededRandom(1));
    const c = new IsnGenerator(new SeededRandom(2));
    const t = [0x0a000001, 80, 0x0a000002, 5000] as const;
    const [isnA] = a.generate(...t, 0);
    expect(b.generate(...t, 0)[0]).toBe(isnA);
    expect(c.generate(...t, 0)[0]).not.toBe(isnA);
    expect(a.generate(0x0a000001, 80, 0x0a000002, 5001, 0)[0]).not.toBe(isnA);
    expect(a.generate(...t, 1)[0]).toBe((isnA + 250) >>> 0);
  });
});
