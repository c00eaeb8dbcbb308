import type { LibOS, LoaderContext } from '@demi/core';
import { Catmem } from './catmem.js';
import { optionsFromConfig } from './config.js';

export { POP_POOL_BYTES, PopPool } from '@demi/core';
export { Catmem } from './catmem.js';
export { type CatmemOptions, DEFAULT_RING_SIZE, MAX_RING_SIZE, MIN_RING_SIZE } from './config.js';
export {
  type EndState,
  listPipes,
  type PipeListing,
  removeStalePipes,
  removeStaleWakeFifos,
} from './pipes.js';
export {
  completePop,
  drainPushes,
  type PendingPop,
  type PendingPush,
  type PopResult,
  type RingPush,
} from './ring-ops.js';

/** The registry's entry point: `init({ libos: 'catmem' })` or DEMI_LIBOS=catmem. */
export function createLibOS(context?: LoaderContext): LibOS {
  return new Catmem(optionsFromConfig(context));
}
