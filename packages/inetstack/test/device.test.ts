import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FrameDevice } from '../src/device/device.js';
import {
  FaultDevice,
  ManualClock,
  MemoryLink,
  PcapDevice,
  PcapWriter,
} from '../src/device/index.js';
import { Timer, TimerHeap } from '../src/util/timers.js';

function frame(dst: Uint8Array, src: Uint8Array, tag: number, size = 60): Uint8Array {
  const f = new Uint8Array(size);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f[14] = tag;
  return f;
}

function drain(dev: FrameDevice): number[] {
  const tags: number[] = [];
  while (dev.receive((f) => tags.push(f[14]!)) > 0);
  return tags;
}

describe('MemoryLink', () => {
  it('delivers unicast to the owner of the MAC only', () => {
    const link = new MemoryLink();
    const [a, b, c] = [link.attach(), link.attach(), link.attach()];
    expect(a.send(frame(b.mac, a.mac, 1))).toBe(true);
    expect(drain(b)).toEqual([1]);
    expect(drain(c)).toEqual([]);
    expect(drain(a)).toEqual([]);
  });
  it('floods broadcast and unknown destinations to every other port', () => {
    const link = new MemoryLink();
    const [a, b, c] = [link.attach(), link.attach(), link.attach()];
    a.send(frame(new Uint8Array(6).fill(0xff), a.mac, 2));
    a.send(frame(new Uint8Array([2, 9, 9, 9, 9, 9]), a.mac, 3));
    expect(drain(b)).toEqual([2, 3]);
    expect(drain(c)).toEqual([2, 3]);
    expect(drain(a)).toEqual([]);
  });
  it('copies on send: the sender may reuse its buffer at once', () => {
    const [a, b] = MemoryLink.pair();
    const f = frame(b.mac, a.mac, 7);
    a.send(f);
    f[14] = 99;
    expect(drain(b)).toEqual([7]);
  });
  it('drops frames beyond the queue limit; oversized frames are EMSGSIZE', () => {
    const [a, b] = MemoryLink.pair({ queueLimit: 3 });
    for (let i = 0; i < 5; i++) a.send(frame(b.mac, a.mac, i));
    expect(drain(b)).toEqual([0, 1, 2]);
    expect(() => a.send(new Uint8Array(1519))).toThrow(
      expect.objectContaining({ code: 'EMSGSIZE' }),
    );
  });
  it('wakes a waiting reader when a frame arrives', async () => {
    const [a, b] = MemoryLink.pair();
    let woke = 0;
    b.setWakeup(() => woke++);
    a.send(frame(b.mac, a.mac, 1));
    a.send(frame(b.mac, a.mac, 2));
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(1);
    b.setWakeup(undefined);
    a.send(frame(b.mac, a.mac, 3));
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(1);
  });
});

describe('FaultDevice', () => {
  function faulty(options: ConstructorParameters<typeof FaultDevice>[1]) {
    const clock = new ManualClock();
    const [a, b] = MemoryLink.pair();
    const fa = new FaultDevice(a, { clock, direction: 'tx', ...options });
    return { clock, fa, a, b };
  }

  it('is deterministic for a seed, and different across seeds', () => {
    const run = (seed: number) => {
      const { fa, b } = faulty({ seed, dropPct: 30 });
      for (let i = 0; i < 100; i++) fa.send(frame(b.mac, fa.mac, i));
      return drain(b);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
    const got = run(5).length;
    expect(got).toBeGreaterThan(50);
    expect(got).toBeLessThan(90);
  });
  it('100% drop loses everything; 100% duplicate doubles everything', () => {
    const d = faulty({ dropPct: 100 });
    d.fa.send(frame(d.b.mac, d.a.mac, 1));
    expect(drain(d.b)).toEqual([]);
    expect(d.fa.stats.dropped).toBe(1);
    const u = faulty({ duplicatePct: 100 });
    u.fa.send(frame(u.b.mac, u.a.mac, 1));
    expect(drain(u.b)).toEqual([1, 1]);
  });
  it('corruption flips exactly one bit after the Ethernet header', () => {
    const { fa, b } = faulty({ corruptPct: 100, seed: 3 });
    const f = frame(b.mac, fa.mac, 0);
    fa.send(f);
    let got: Uint8Array | undefined;
    b.receive((x) => (got = x.slice()));
    let bits = 0;
    for (let i = 0; i < f.length; i++) {
      const x = f[i]! ^ got![i]!;
      if (x !== 0) expect(i).toBeGreaterThanOrEqual(14);
      bits += x.toString(2).split('1').length - 1;
    }
    expect(bits).toBe(1);
  });
  it('delay holds frames until virtual time reaches their release', () => {
    const { fa, b, clock } = faulty({ delayPct: 100, delayMs: 10 });
    fa.send(frame(b.mac, fa.mac, 1));
    fa.flush();
    expect(drain(b)).toEqual([]);
    expect(fa.nextReleaseAt()).toBe(10);
    clock.advance(10);
    fa.flush();
    expect(drain(b)).toEqual([1]);
    expect(fa.nextReleaseAt()).toBeUndefined();
  });
  it('reorder lets the next frame overtake a held one', () => {
    const { fa, b, clock } = faulty({ reorderPct: 100 });
    fa.send(frame(b.mac, fa.mac, 1));
    fa.setFaults({ reorderPct: 0 });
    fa.send(frame(b.mac, fa.mac, 2));
    expect(drain(b)).toEqual([2, 1]);
    fa.setFaults({ reorderPct: 100 });
    fa.send(frame(b.mac, fa.mac, 3));
    clock.advance(5);
    fa.flush();
    expect(drain(b)).toEqual([3]);
  });
  it('rate limit drops what exceeds the bucket', () => {
    const { fa, b, clock } = faulty({ rateBytesPerSec: 6000, rateBurstBytes: 120 });
    for (let i = 0; i < 3; i++) fa.send(frame(b.mac, fa.mac, i));
    expect(drain(b)).toEqual([0, 1]);
    clock.advance(10); // 60 bytes of credit
    fa.send(frame(b.mac, fa.mac, 9));
    expect(drain(b)).toEqual([9]);
    expect(fa.stats.rateLimited).toBe(1);
  });
  it('applies receive-side faults', () => {
    const clock = new ManualClock();
    const [a, b] = MemoryLink.pair();
    const fb = new FaultDevice(b, { clock, direction: 'rx', duplicatePct: 100 });
    a.send(frame(b.mac, a.mac, 4));
    expect(drain(fb)).toEqual([4, 4]);
  });
  it('offers a wake-up only when the inner device has one', () => {
    const [a] = MemoryLink.pair();
    expect(new FaultDevice(a).setWakeup).toBeTypeOf('function');
    const pollOnly: FrameDevice = {
      mac: a.mac,
      mtu: 1500,
      offloads: a.offloads,
      receive: () => 0,
      send: () => true,
      flush() {},
      close() {},
    };
    expect(new FaultDevice(pollOnly).setWakeup).toBeUndefined();
    expect(new PcapDevice(pollOnly, () => {}).setWakeup).toBeUndefined();
  });
});

describe('pcap', () => {
  it('writes a global header and one record per frame, both directions', () => {
    const chunks: Uint8Array[] = [];
    const clock = new ManualClock(1500);
    const [a, b] = MemoryLink.pair();
    const pa = new PcapDevice(a, (c) => chunks.push(c.slice()), { clock });
    pa.send(frame(b.mac, a.mac, 1, 64));
    b.send(frame(a.mac, b.mac, 2, 70));
    pa.receive(() => {});
    const bytes = Buffer.concat(chunks);
    expect(bytes.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(bytes.readUInt32LE(20)).toBe(1);
    expect(bytes.length).toBe(24 + 16 + 64 + 16 + 70);
    expect(bytes.readUInt32LE(24)).toBe(1); // seconds
    expect(bytes.readUInt32LE(28)).toBe(500_000); // microseconds
    expect(bytes.readUInt32LE(32)).toBe(64);
    expect(bytes.readUInt32LE(24 + 16 + 64 + 8)).toBe(70);
  });
  it('honours the snap length', () => {
    const chunks: Uint8Array[] = [];
    const w = new PcapWriter((c) => chunks.push(c.slice()), {
      snaplen: 20,
      clock: new ManualClock(),
    });
    w.write(new Uint8Array(100));
    const bytes = Buffer.concat(chunks);
    expect(bytes.readUInt32LE(24 + 8)).toBe(20);
    expect(bytes.readUInt32LE(24 + 12)).toBe(100);
    expect(bytes.length).toBe(24 + 16 + 20);
  });
});

describe('TimerHeap', () => {
  it('fires in deadline order and supports re-arming and cancelling (model check)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 9 }),
            fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(-1)),
          ),
          { maxLength: 60 },
        ),
        (ops) => {
          const heap = new TimerHeap();
          const fired: number[] = [];
          const timers = Array.from({ length: 10 }, (_, i) => new Timer(() => fired.push(i)));
          const model = new Map<number, number>();
          for (const [i, at] of ops) {
            if (at < 0) {
              heap.cancel(timers[i]!);
              model.delete(i);
            } else {
              heap.set(timers[i]!, at);
              model.set(i, at);
            }
          }
          if (heap.size !== model.size) return false;
          heap.runDue(1000);
          const expected = [...model.entries()].sort((x, y) => x[1] - y[1]).map(([, at]) => at);
          const got = fired.map((i) => model.get(i)!);
          return JSON.stringify(got) === JSON.stringify(expected) && heap.size === 0;
        },
      ),
    );
  });
  it('only fires what is due', () => {
    const heap = new TimerHeap();
    const fired: string[] = [];
    const a = new Timer(() => fired.push('a'));
    const b = new Timer(() => fired.push('b'));
    heap.set(a, 5);
    heap.set(b, 10);
    expect(heap.runDue(7)).toBe(1);
    expect(heap.nextAt()).toBe(10);
    expect(b.armed).toBe(true);
    expect(a.armed).toBe(false);
  });
});
