// vitest glue: one namespace pair per test file, removed in afterAll (and by the
// harness's exit handlers if the worker dies first).
import { afterAll, beforeAll } from 'vitest';
import { createPair } from './index.mjs';

/** Registers beforeAll/afterAll hooks; read `.pair` inside tests. */
export function useNetnsPair(options = {}) {
  const holder = {
    /** @type {import('./index.mjs').NetnsPair | undefined} */
    current: undefined,
    get pair() {
      if (holder.current === undefined)
        throw new Error('netns pair is not up (used outside a test, or its setup failed)');
      return holder.current;
    },
  };
  beforeAll(() => {
    holder.current = createPair(options);
  });
  afterAll(() => {
    holder.current?.down();
    holder.current = undefined;
  });
  return holder;
}
