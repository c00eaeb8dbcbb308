import type { Clock } from './device.js';

/**
 * Node's global `performance` is a getter on globalThis: reading it once here
 * spares each of the many clock reads of a busy poll that call.
 */
const perf = performance;

/** Wall-clock time from the monotonic high-resolution timer. */
export const systemClock: Clock = { now: () => perf.now() };

/** Virtual time that moves only when told to: deterministic tests and simulations. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move a clock back (advance ${ms})`);
    this.#now += ms;
  }

  set(ms: number): void {
    if (!(ms >= this.#now))
      throw new RangeError(`cannot move a clock back (from ${this.#now} to ${ms})`);
    this.#now = ms;
  }
}
