import type { LibOS } from '@demi/core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { LIBOSES, settledTokens, useLibOS } from './libos.js';

/**
 * The parts of Node's test/common that the ported node:net tests use:
 * mustCall and friends count calls, and `check()` asserts the counts once the
 * test has finished (Node checks them at process exit).
 */
export class Common {
  readonly #checks: (() => void)[] = [];
  readonly #failures: unknown[] = [];
  readonly localhostIPv4 = '127.0.0.1';

  mustCall<A extends unknown[], R>(fn?: (...args: A) => R, times = 1) {
    return this.#counted(fn, (n) => expect(n, `calls of ${fn?.name || 'a mustCall'}`).toBe(times));
  }

  mustCallAtLeast<A extends unknown[], R>(fn?: (...args: A) => R, least = 1) {
    return this.#counted(fn, (n) =>
      expect(n, `calls of ${fn?.name || 'a mustCallAtLeast'}`).toBeGreaterThanOrEqual(least),
    );
  }

  mustNotCall(what = 'mustNotCall') {
    return (...args: unknown[]): void => {
      this.#failures.push(new Error(`${what} was called with ${String(args[0])}`));
    };
  }

  mustSucceed<A extends unknown[]>(fn?: (...args: A) => void) {
    return this.mustCall((err: unknown, ...args: A) => {
      if (err) this.#failures.push(err);
      fn?.(...args);
    });
  }

  /** Records an assertion failure thrown inside a callback instead of losing it. */
  guard<A extends unknown[]>(fn: (...args: A) => void) {
    return (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        this.#failures.push(err);
      }
    };
  }

  check(): void {
    if (this.#failures.length > 0) throw this.#failures[0];
    for (const c of this.#checks) c();
  }

  #counted<A extends unknown[], R>(
    fn: ((...args: A) => R) | undefined,
    verify: (n: number) => void,
  ) {
    let calls = 0;
    this.#checks.push(() => verify(calls));
    const failures = this.#failures;
    return function (this: unknown, ...args: A): R | undefined {
      calls++;
      try {
        return fn?.apply(this, args);
      } catch (err) {
        failures.push(err);
        return undefined;
      }
    };
  }
}

/**
 * Runs a ported test: `body(common, done)` calls `done()` where Node's test
 * would let the process exit; then the mustCall counts are checked.
 */
export function ported(
  body: (common: Common, done: () => void) => void,
  timeoutMs = 10_000,
): () => Promise<void> {
  return async () => {
    const common = new Common();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        try {
          common.check();
        } catch (err) {
          reject(err);
          return;
        }
        reject(new Error(`the ported test did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      try {
        body(common, () => {
          clearTimeout(timer);
          // Let events queued by the last step run, as they would before exit.
          setTimeout(resolve, 20);
        });
      } catch (err) {
        clearTimeout(timer);
        reject(err);
      }
    });
    common.check();
  };
}

/** Per describe block: open the LibOS, make it the default, and check no token is left. */
export function onLibOS(name: string): () => LibOS {
  let libos: LibOS;
  beforeAll(async () => {
    libos = await useLibOS(name);
  });
  afterEach(async () => {
    expect(await settledTokens(libos), 'tokens left in the LibOS').toBe(0);
  });
  afterAll(async () => {
    await libos.shutdown();
  });
  return () => libos;
}

export { LIBOSES };
