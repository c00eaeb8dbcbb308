import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CatmemNative, native } from '../src/native.js';

const ENTRY_POINTS = [
  'newContext',
  'destroyContext',
  'setStaging',
  'create',
  'open',
  'info',
  'push',
  'pop',
  'close',
  'popWait',
  'sleep',
  'setWakeups',
  'list',
  'removeStale',
] as const;

// Values near what the addon accepts, plus junk: the interesting inputs are the almost-valid ones.
const arg = fc.oneof(
  fc.anything(),
  fc.integer({ min: -2, max: 6 }),
  fc.constantFrom(0, 1, 2, 4096, 1e12, -0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 1.5),
  fc.constantFrom('x', '', 'a/b', '../..', '/tmp', 'garbage-pipe', 'é', '\0'),
  fc.constantFrom(
    new Uint8Array(0),
    new Uint8Array(70000),
    new Uint16Array(3),
    new ArrayBuffer(16),
    Buffer.from('hi'),
    new DataView(new ArrayBuffer(4)),
  ),
  fc.constantFrom(true, false, null, undefined, () => {}, Symbol('s'), 10n, {}, []),
);

describe('the raw addon survives garbage', () => {
  it('every entry point either returns or throws an Error carrying a code', () => {
    const addon = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const made: unknown[] = [];
    const scratch = mkdtempSync(join(tmpdir(), 'catmem-garbage-'));
    fc.assert(
      fc.property(fc.constantFrom(...ENTRY_POINTS), fc.array(arg, { maxLength: 5 }), (fn, args) => {
        // Never ask for a real sleep from junk, nor clean other programs' pipes.
        if (fn === 'sleep' && typeof args[1] === 'number' && args[1] > 1) args[1] = 1;
        if (fn === 'popWait' && typeof args[2] === 'number' && args[2] > 1) args[2] = 1;
        if (fn === 'removeStale') args[0] = scratch;
        try {
          const out = addon[fn]!(...args);
          if (fn === 'newContext') made.push(out);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          expect(typeof (err as { code?: unknown }).code).toBe('string');
        }
      }),
      { numRuns: 3000 },
    );
    // Tear down whatever the junk happened to create (pipes close with their context).
    for (const ctx of made) {
      try {
        (native() as CatmemNative).destroyContext(ctx as number);
      } catch {}
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a real pipe survives junk aimed at its handles', () => {
    const n = native();
    const ctx = n.newContext(() => {});
    n.setStaging(ctx, new ArrayBuffer(4096));
    const name = `garbage-${process.pid}`;
    const h = n.create(ctx, name, 4096);
    const h2 = n.open(ctx, name);
    for (const bad of [h + 1000, 0, -h, h + 0.5, Number.NaN, `${h}`, null]) {
      expect(() => n.push(bad as number, new Uint8Array(1))).toThrow();
      expect(() => n.pop(bad as number, 10)).toThrow();
    }
    expect(() => n.push(h, 'text' as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => n.push(h, new Uint16Array(2) as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
    expect(() => n.pop(h2, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(n.push(h, new Uint8Array([1, 2, 3]))).toBe(3);
    expect(n.pop(h2, 1e12)).toBe(3);
    n.close(h);
    expect(() => n.close(h)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(n.pop(h2, 10)).toBe(0);
    n.destroyContext(ctx);
    expect(() => n.pop(h2, 10)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => n.destroyContext(ctx)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
