import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addonPath, loadAddon, type NativeEngine } from '../src/native.js';

// The raw addon, called the way no well-behaved caller would: wrong types, huge,
// negative and non-finite numbers, missing arguments, unknown queue descriptors,
// hostile arrays. Each call must throw a JS error (or succeed); a crash takes the
// whole test worker down, which fails this file.

const addon = loadAddon();
type Method = Exclude<keyof NativeEngine, never>;

const GARBAGE: unknown[] = [
  undefined,
  null,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  -0,
  0.5,
  2 ** 31,
  2 ** 32 + 1,
  2 ** 53,
  2 ** 64,
  1e308,
  -1e308,
  '1',
  '',
  true,
  10n,
  Symbol('x'),
  {},
  [],
  [1, 2],
  [new Uint8Array(1), 'x'],
  () => 1,
  new Uint8Array(3),
  new Uint16Array(3),
  new Float64Array(1),
  new ArrayBuffer(8),
  new DataView(new ArrayBuffer(8)),
  Buffer.from('abc'),
  { valueOf: () => 3 },
  {
    valueOf: () => {
      throw new Error('valueOf ran');
    },
  },
  new Proxy(
    {},
    {
      get: () => {
        throw new Error('proxy trap ran');
      },
    },
  ),
];

const METHODS: Method[] = [
  'slab',
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
  'poll',
  'setWakeups',
  'setsockopt',
  'getsockopt',
  'peername',
  'sockname',
  'socketCount',
  'sgafree',
  'slabStats',
  'shutdown',
];

/** Calls and reports what happened; only a thrown non-Error (or a crash) is wrong. */
function call(engine: NativeEngine, method: Method, args: unknown[]): 'ok' | string {
  try {
    (engine[method] as (...a: unknown[]) => unknown).apply(engine, args);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return (err as { code?: string }).code ?? (err as Error).name;
  }
}

const recordArray = () => new Float64Array(new SharedArrayBuffer(addon.RECORD_ARRAY_LENGTH * 8));

let engine: NativeEngine;
beforeEach(() => {
  engine = addon.createEngine(() => {}, recordArray());
});
afterEach(() => {
  engine.setWakeups(false);
  engine.shutdown();
});

describe('raw addon with garbage arguments', () => {
  it('createEngine rejects a missing callback, a bad record array and bad options', () => {
    const create = addon.createEngine as unknown as (...a: unknown[]) => NativeEngine;
    const f = () => {};
    const n = addon.RECORD_ARRAY_LENGTH;
    const bad: unknown[][] = [
      [],
      [1],
      ['f', recordArray()],
      [f],
      [f, new Float64Array(n)], // detachable memory is refused
      [f, new Float64Array(new SharedArrayBuffer(8))],
      [f, new Float32Array(new SharedArrayBuffer(n * 8))],
      [f, new SharedArrayBuffer(n * 8)],
      [f, recordArray(), 5],
      [f, recordArray(), { nodelay: 1 }],
      [f, recordArray(), { lingerSeconds: -1 }],
      [f, recordArray(), { keepIdleSeconds: Number.NaN }],
    ];
    for (const args of bad) expect(() => create(...args)).toThrow(/must be/);
    expect(() => new (addon.createEngine as unknown as new () => unknown)()).toThrow();
  });

  it('every method, every argument position, every garbage value: a JS error, never a crash', () => {
    const qd = engine.socket(2);
    const valid: Record<Method, unknown[]> = {
      slab: [1],
      socket: [1],
      bind: [qd, 0x7f000001, 0],
      listen: [qd, 4],
      accept: [qd, 1],
      connect: [qd, 1, 0x7f000001, 9],
      close: [qd],
      asyncClose: [qd, 1],
      push: [qd, 1, new Uint8Array(1)],
      pushto: [qd, 1, new Uint8Array(1), 0x7f000001, 9],
      pop: [qd, 1, 16],
      poll: [0],
      setWakeups: [false],
      setsockopt: [qd, 1, 2, 1, 0],
      getsockopt: [qd, 1, 2],
      peername: [qd],
      sockname: [qd],
      socketCount: [],
      sgafree: [1],
      slabStats: [],
      shutdown: [],
    };
    let calls = 0;
    for (const method of METHODS) {
      if (method === 'shutdown' || method === 'close' || method === 'asyncClose') continue;
      const base = valid[method];
      for (let position = 0; position < Math.max(base.length, 1) + 1; position++) {
        for (const value of GARBAGE) {
          // Never let garbage pick a real remote address: keep connect/pushto's address valid.
          if ((method === 'connect' && position === 2) || (method === 'pushto' && position === 3))
            continue;
          if (method === 'poll' && typeof value === 'number' && value > 0) continue; // would block
          if (method === 'setWakeups' && value === true) continue;
          const args = [...base];
          args[position] = value;
          call(engine, method, args);
          calls++;
        }
        // And with the argument missing altogether.
        call(engine, method, base.slice(0, position));
      }
    }
    expect(calls).toBeGreaterThan(1000);
    // The engine still works.
    expect(engine.socketCount()).toBeGreaterThanOrEqual(1);
  });

  it('names the error: EBADF for unknown qds, EINVAL for bad values', () => {
    const code = (method: Method, ...args: unknown[]) => call(engine, method, args);
    expect(code('push', 123456789, 1, new Uint8Array(1))).toBe('EBADF');
    expect(code('pop', 2 ** 31, 1, 16)).toBe('EBADF');
    expect(code('pop', -5, 1, 16)).toBe('EBADF');
    expect(code('close', 0)).toBe('EBADF');
    const qd = engine.socket(1);
    expect(code('pop', qd, Number.NaN, 16)).toBe('EINVAL');
    expect(code('pop', qd, 0, 16)).toBe('EINVAL');
    expect(code('pop', qd, 2 ** 53, 16)).toBe('EINVAL');
    expect(code('pop', qd, 1, 0)).toBe('EINVAL');
    expect(code('pop', qd, 1, 2 ** 31)).toBe('EINVAL');
    expect(code('push', qd, 1, 'text')).toBe('EINVAL');
    expect(code('push', qd, 1, [new Uint8Array(1), new Uint16Array(1)])).toBe('EINVAL');
    expect(code('push', qd, 1, new Array(5000).fill(new Uint8Array(1)))).toBe('EINVAL');
    expect(code('bind', qd, 2 ** 32, 80)).toBe('EINVAL');
    expect(code('bind', qd, 0x7f000001, 65536)).toBe('EINVAL');
    expect(code('listen', qd, -1)).toBe('EINVAL');
    expect(code('poll', -1)).toBe('EINVAL');
    expect(code('poll', Number.NaN)).toBe('EINVAL');
    expect(code('slab', 999)).toBe('EINVAL');
    expect(code('socket', 3)).toBe('EINVAL');
    expect(code('setsockopt', qd, 1, 2, 2, 0)).toBe('EINVAL');
    expect(code('setsockopt', qd, 1, 99, 1, 0)).toBe('ENOPROTOOPT');
    expect(code('setWakeups', 1)).toBe('EINVAL');
  });

  it('hostile segment arrays: a getter that closes the socket or detaches a segment', () => {
    const qd = engine.socket(1);
    const seg = new Uint8Array(16);
    const closing: Uint8Array[] = [seg];
    Object.defineProperty(closing, 1, {
      enumerable: true,
      get: () => {
        engine.close(qd);
        return seg;
      },
    });
    expect(call(engine, 'push', [qd, 1, closing])).toBe('EBADF');

    const qd2 = engine.socket(1);
    const victim = new Uint8Array(new ArrayBuffer(64));
    const detaching: Uint8Array[] = [victim];
    Object.defineProperty(detaching, 1, {
      enumerable: true,
      get: () => {
        structuredClone(victim.buffer, { transfer: [victim.buffer as ArrayBuffer] });
        return seg;
      },
    });
    // Not connected: the kernel says EPIPE or ENOTCONN through a FAILED record; no crash.
    expect(call(engine, 'push', [qd2, 1, detaching])).toBe('ok');
    const shutting: Uint8Array[] = [seg];
    Object.defineProperty(shutting, 1, {
      enumerable: true,
      get: () => {
        engine.shutdown();
        return seg;
      },
    });
    expect(call(engine, 'push', [qd2, 2, shutting])).toBe('EBADF');
  });

  it('methods work unbound and outlive the engine object (each holds the engine)', () => {
    const script = `
      const addon = require(process.argv[1]);
      const records = new Float64Array(new SharedArrayBuffer(addon.RECORD_ARRAY_LENGTH * 8));
      let engine = addon.createEngine(() => {}, records);
      const { socket, poll, shutdown } = engine;
      engine = null;
      globalThis.gc();
      setImmediate(() => {
        globalThis.gc();
        const qd = socket(1);
        if (poll(0) !== 0 || !(qd > 0)) process.exit(2);
        shutdown();
        console.log('ok');
      });`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script, addonPath()], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });

  it('after shutdown every method is EBADF or a no-op', () => {
    engine.shutdown();
    for (const method of METHODS) {
      const result = call(engine, method, [1, 1, new Uint8Array(1), 0x7f000001, 9]);
      expect(['ok', 'EBADF', 'EINVAL']).toContain(result);
    }
  });

  it('random argument lists (fast-check) never crash', () => {
    const safe = METHODS.filter(
      (m) => !['connect', 'pushto', 'poll', 'setWakeups', 'shutdown'].includes(m),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...safe),
        fc.array(fc.oneof(fc.anything(), fc.constantFrom(...GARBAGE), fc.double(), fc.integer()), {
          maxLength: 6,
        }),
        (method, args) => {
          call(engine, method, args);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
