import type { LibOS, LoaderContext } from '@demi/core';
import { Catloop } from './catloop.js';
import { optionsFromConfig } from './options.js';

export { Catloop } from './catloop.js';
export {
  type CatloopOptions,
  DEFAULT_FIRST_EPHEMERAL_PORT,
  DEFAULT_RING_SIZE,
  MAX_RING_SIZE,
  MIN_RING_SIZE,
} from './options.js';

/** The registry's entry point: `init({ libos: 'catloop' })` or DEMI_LIBOS=catloop. */
export function createLibOS(context?: LoaderContext): LibOS {
  return new Catloop(optionsFromConfig(context));
}
