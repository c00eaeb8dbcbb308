import { afterEach, expect } from 'vitest';

/** What carries the stack's counters: an InetStackLibOS, a CatnipLibOS, an InetStack. */
interface Counted {
  readonly stats: { readonly internalErrors: number };
}

/**
 * Makes the current test file fail any test after which a tracked stack has
 * counted an internal error (an exception it caught and swallowed). Returns
 * `track`, which registers a LibOS or stack and hands it back.
 */
export function failOnInternalErrors(): <T extends Counted>(counted: T) => T {
  const tracked = new Map<Counted, number>();
  afterEach(() => {
    const grown: string[] = [];
    for (const [c, seen] of tracked) {
      const now = c.stats.internalErrors;
      if (now !== seen) grown.push(`${now - seen} new`);
      tracked.set(c, now);
    }
    expect(grown, 'internal errors the stack caught and swallowed').toEqual([]);
  });
  return (counted) => {
    tracked.set(counted, counted.stats.internalErrors);
    return counted;
  };
}
