import { describe, expect, it } from 'vitest';
import { SequenceIndex } from '../src/sequence-index.js';

describe('SequenceIndex', () => {
  it('agrees with a Map under random adds and deletes, across growth and wrapped probe runs', () => {
    // Sequences spaced by the table size collide on one home slot; runs wrap past the end.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const index = new SequenceIndex<{ sequence: number }>();
    const model = new Map<number, { sequence: number }>();
    for (let step = 0; step < 50_000; step++) {
      const sequence = random(4) === 0 ? 63 + 64 * random(8) : random(3000);
      if (random(2) === 0 && !model.has(sequence)) {
        const item = { sequence };
        index.add(item);
        model.set(sequence, item);
      } else {
        expect(index.delete(sequence)).toBe(model.delete(sequence));
      }
      const probe = random(3000);
      expect(index.get(probe)).toBe(model.get(probe));
      expect(index.size).toBe(model.size);
    }
    for (const [sequence, item] of model) expect(index.get(sequence)).toBe(item);
    expect(index.filter(() => true).length).toBe(model.size);
  });

  it('finds nothing for numbers that are not sequences', () => {
    const index = new SequenceIndex<{ sequence: number }>();
    index.add({ sequence: 1 });
    for (const n of [-1, 1.5, 2 ** 40 + 1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(index.get(n)).toBeUndefined();
  });
});
