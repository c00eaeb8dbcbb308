import { describe, expect, it } from 'vitest';
import { native } from '../src/native.js';
import { fixture, uniqueName } from './support/child.js';

// After a wake-up that popped something, the event loop may spin briefly for
// what its ends wait for next (bulk records, or the reply of a ping-pong). How
// much a pass popped is counted in payload bytes, and a spin that finds
// nothing backs off: a waiting process never stays busy.
describe('spinning after a wake-up', () => {
  it('counts popped payload bytes, not ring positions, across wrap markers and partial pops', () => {
    const addon = native();
    const ctx = addon.newContext(() => {});
    addon.setStaging(ctx, new ArrayBuffer(1 << 16));
    const name = uniqueName('count');
    const a = addon.create(ctx, name, addon.defaultRingSize);
    const b = addon.open(ctx, name);
    try {
      // Records of about 1 KiB wrap every few records inside the ring's 4 KiB
      // starting limit; each wrap marker skips the rest of the ring.
      const sizes = [1000, 1024, 64, 3000, 1, 1023, 2048, 7, 1500, 4000];
      let sent = 0;
      let popped = 0;
      for (let round = 0; round < 50; round++) {
        for (const n of sizes.slice(0, 3 + (round % 7))) {
          expect(addon.push(a, new Uint8Array(n).fill(round))).toBe(n);
          sent += n;
          // Every other round pops in parts smaller than a record.
          const max = round % 2 === 0 ? 1 << 16 : 333;
          for (let left = n; left > 0; ) {
            const r = addon.pop(b, max);
            expect(r).toBe(Math.min(max, left));
            popped += r as number;
            left -= r as number;
          }
        }
      }
      expect(popped).toBe(sent);
      const [, , , consumed] = addon.info(b);
      expect(consumed).toBe(sent);
      expect(addon.info(a)[3]).toBe(0);
    } finally {
      addon.close(a);
      addon.close(b);
      addon.destroyContext(ctx);
    }
  });

  it('leaves a process idle when the reply it spins for never comes', async () => {
    const { Catmem } = await import('../src/index.js');
    const libos = new Catmem();
    const name = uniqueName('idle');
    const qd = libos.createPipe(name);
    try {
      const rounds = 2000;
      const peer = fixture('ping-then-idle.mjs', name, String(rounds));
      // Echo every ping but the last.
      for (let i = 0; i < rounds; i++) {
        const r = await libos.wait(libos.pop(qd), 10_000);
        expect(r.ret).toBe(0);
        await libos.wait(libos.push(qd, r.sga!), 10_000);
      }
      const last = await libos.wait(libos.pop(qd), 10_000);
      expect(last.sga!.segments[0]).toHaveLength(64);
      const line = await peer.line();
      expect(line).toMatch(/^cpu \d+$/);
      // A loop that kept spinning would use most of that second's CPU, or
      // its share of a loaded machine; an idle one a few milliseconds.
      expect(Number(line.slice(4))).toBeLessThan(100_000);
      expect((await peer.exited).code).toBe(0);
    } finally {
      libos.close(qd);
      await libos.shutdown();
    }
  }, 60_000);
});
