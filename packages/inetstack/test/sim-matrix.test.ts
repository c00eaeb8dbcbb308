import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runTransfer } from './support/transfer.js';

// Byte-exact streams both ways across loss rates, buffer sizes and congestion
// controllers, with reordering, duplication and delay always on. Every case has
// a fixed seed, printed in its name and in any failure.
const LOSS = [0, 2, 5, 10, 20];
const BUFFERS = [
  { name: '4 KiB', receiveBuffer: 4096, sendBuffer: 4096 },
  { name: '64 KiB', receiveBuffer: 65536, sendBuffer: 65536 },
  { name: '1 MiB', receiveBuffer: 1 << 20, sendBuffer: 1 << 20 },
];
const CC = ['cubic', 'newreno'] as const;

describe('simulated network matrix', () => {
  const cases: Array<[string, number, (typeof BUFFERS)[number], (typeof CC)[number], number]> = [];
  let seed = 1000;
  for (const loss of LOSS)
    for (const buf of BUFFERS)
      for (const cc of CC)
        cases.push([`loss ${loss}%, buffers ${buf.name}, ${cc}`, loss, buf, cc, seed++]);
  it.each(cases)('%s', (_name, loss, buf, cc, s) => {
    const r = runTransfer({
      seed: s,
      bytes: 256 * 1024,
      faults: { dropPct: loss, reorderPct: 3, duplicatePct: 2, delayPct: 5, delayMs: [1, 30] },
      tcp: { receiveBuffer: buf.receiveBuffer, sendBuffer: buf.sendBuffer, congestionControl: cc },
    });
    expect(r.why).toBe(`ok (seed ${s}, t=${r.virtualMs} ms)`);
  });

  it.each([
    [
      'without SACK, timestamps or window scaling',
      { sack: false, timestamps: false, windowScaling: false },
    ],
    ['without congestion control', { congestionControl: 'none' as const }],
    ['with Nagle', { nodelay: false }],
  ])('10%% loss %s', (_name, tcp) => {
    const r = runTransfer({
      seed: 77,
      bytes: 256 * 1024,
      faults: { dropPct: 10, reorderPct: 3, duplicatePct: 2 },
      tcp,
    });
    expect(r.why).toBe(`ok (seed 77, t=${r.virtualMs} ms)`);
  });

  it('corrupted frames are caught by checksums and repaired by retransmission', () => {
    const r = runTransfer({ seed: 5, bytes: 256 * 1024, faults: { corruptPct: 5, dropPct: 1 } });
    expect(r.why).toBe(`ok (seed 5, t=${r.virtualMs} ms)`);
    expect(r.retransmits).toBeGreaterThan(0);
  });

  it('a rate-limited link still delivers everything', () => {
    const r = runTransfer({
      seed: 6,
      bytes: 128 * 1024,
      faults: { rateBytesPerSec: 2_000_000, rateBurstBytes: 30_000 },
    });
    expect(r.why).toBe(`ok (seed 6, t=${r.virtualMs} ms)`);
  });

  it('the same seed replays the same run', () => {
    const o = {
      seed: 42,
      bytes: 64 * 1024,
      faults: { dropPct: 10, reorderPct: 5, duplicatePct: 5, delayPct: 10 },
    };
    const a = runTransfer(o);
    const b = runTransfer(o);
    expect(a.ok).toBe(true);
    expect([a.virtualMs, a.retransmits]).toEqual([b.virtualMs, b.retransmits]);
  });
});

describe('random fault schedules (property)', () => {
  it('every schedule delivers both streams byte-exact', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          drop: fc.integer({ min: 0, max: 25 }),
          dup: fc.integer({ min: 0, max: 10 }),
          reorder: fc.integer({ min: 0, max: 10 }),
          corrupt: fc.integer({ min: 0, max: 5 }),
          delay: fc.integer({ min: 0, max: 20 }),
          bytes: fc.integer({ min: 0, max: 80_000 }),
          buffer: fc.constantFrom(2048, 16384, 262144),
          cc: fc.constantFrom('cubic', 'newreno', 'none'),
          sack: fc.boolean(),
          timestamps: fc.boolean(),
        }),
        (p) => {
          const r = runTransfer({
            seed: p.seed,
            bytes: p.bytes,
            faults: {
              dropPct: p.drop,
              duplicatePct: p.dup,
              reorderPct: p.reorder,
              corruptPct: p.corrupt,
              delayPct: p.delay,
            },
            tcp: {
              receiveBuffer: p.buffer,
              sendBuffer: p.buffer,
              congestionControl: p.cc as 'cubic',
              sack: p.sack,
              timestamps: p.timestamps,
            },
          });
          if (!r.ok) throw new Error(`${r.why} for ${JSON.stringify(p)}`);
        },
      ),
      { numRuns: 40, seed: 20261123 },
    );
  });
});
