import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Catmem } from '../src/index.js';
import { uniqueName } from './support/child.js';

// Any mix of push sizes and pop sizes moves the same bytes in the same order,
// and a message no longer than maxMessage arrives in one pop when the pop is large enough.
describe('byte stream model', () => {
  it('random pushes and pops over a 4 KiB ring', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 6000 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 }),
        async (pushSizes, popSizes) => {
          const a = new Catmem({ ringSize: 4096 });
          const b = new Catmem();
          const name = uniqueName('prop');
          const qa = a.createPipe(name);
          const qb = b.openPipe(name);
          const maxMessage = a.pipeInfo(qa).maxMessage;
          let counter = 0;
          const pushed = pushSizes.map((n) =>
            Uint8Array.from({ length: n }, () => counter++ & 255),
          );
          const total = pushed.reduce((s, p) => s + p.byteLength, 0);
          const pushing = Promise.all(
            pushed.map((data) => a.wait(a.push(qa, { segments: [data] }), 5000)),
          );
          const got: number[] = [];
          const pieces: number[] = [];
          for (let i = 0; got.length < total; i++) {
            const size = popSizes[i % popSizes.length]!;
            const r = await b.wait(b.pop(qb, size), 5000);
            const data = r.sga!.segments[0]!;
            expect(data.byteLength).toBeGreaterThan(0);
            expect(data.byteLength).toBeLessThanOrEqual(Math.min(size, maxMessage));
            pieces.push(data.byteLength);
            got.push(...data);
          }
          expect((await pushing).every((r) => r.ret === 0)).toBe(true);
          expect(got).toEqual(Array.from({ length: total }, (_, i) => i & 255));
          a.close(qa);
          expect((await b.wait(b.pop(qb), 5000)).sga!.segments).toHaveLength(0);
          await a.shutdown();
          await b.shutdown();
          if (popSizes.every((s) => s >= maxMessage) && pushSizes.every((s) => s <= maxMessage))
            expect(pieces).toEqual(pushSizes);
        },
      ),
      { numRuns: 60 },
    );
  });
});
