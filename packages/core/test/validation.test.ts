import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AF_INET, DemiError, type LibOS, SOCK_STREAM } from '../src/index.js';
import { MemoryLibOS, MemoryNetwork } from './support/memory-libos.js';

const anything = fc.oneof(
  fc.anything(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    -1,
    0,
    1,
    2 ** 31,
    2 ** 53,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    null,
    undefined,
  ),
  fc.record({
    address: fc.oneof(fc.ipV4(), fc.string()),
    port: fc.oneof(fc.integer(), fc.double()),
  }),
  fc.record({ segments: fc.array(fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.string())) }),
);

const calls: Array<keyof LibOS> = [
  'socket',
  'bind',
  'listen',
  'accept',
  'connect',
  'close',
  'asyncClose',
  'push',
  'pushto',
  'pop',
  'sgaalloc',
  'sgafree',
  'createPipe',
  'openPipe',
  'setsockopt',
  'getsockopt',
  'getpeername',
  'getsockname',
  'waitSync',
  'waitAnySync',
];

describe('argument validation', () => {
  it('any argument to any call either works or throws a DemiError', () => {
    const libos = new MemoryLibOS(new MemoryNetwork());
    libos.socket(AF_INET, SOCK_STREAM);
    fc.assert(
      fc.property(fc.constantFrom(...calls), fc.array(anything, { maxLength: 4 }), (call, args) => {
        // waitAnySync([], t) is a valid busy wait of t ms: keep generated timeouts short.
        if (call.startsWith('wait') && typeof args[1] === 'number' && args[1] > 5) args[1] = 5;
        try {
          (libos[call] as (...a: unknown[]) => unknown)(...args);
        } catch (err) {
          if (!(err instanceof DemiError)) throw err;
          expect(typeof err.code).toBe('string');
          expect(err.errno).toBeGreaterThan(0);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('async waits reject bad arguments with a DemiError instead of throwing synchronously', async () => {
    const libos = new MemoryLibOS(new MemoryNetwork());
    for (const bad of [undefined, null, -5, 'x', {}, 2 ** 60]) {
      await expect(libos.wait(bad as number)).rejects.toBeInstanceOf(DemiError);
      await expect(libos.waitAny(bad as number[])).rejects.toBeInstanceOf(DemiError);
    }
    await expect(libos.wait(1, -1)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('addresses must be dotted IPv4 with a port in range', () => {
    const libos = new MemoryLibOS(new MemoryNetwork());
    const qd = libos.socket(AF_INET, SOCK_STREAM);
    for (const addr of [
      { address: '256.0.0.1', port: 1 },
      { address: '1.2.3', port: 1 },
      { address: '::1', port: 1 },
      { address: '1.2.3.4', port: -1 },
      { address: '1.2.3.4', port: 65536 },
      { address: '1.2.3.4', port: 1.5 },
    ]) {
      expect(() => libos.bind(qd, addr)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    expect(() => libos.connect(qd, { address: '1.2.3.4', port: 0 })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });
});
