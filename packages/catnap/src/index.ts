import type { LoaderContext } from '@demi/core';
import { Catnap } from './catnap.js';
import { optionsFromConfig } from './options.js';

export { Catnap } from './catnap.js';
export type { SlabStats } from './native.js';
export type { CatnapOptions } from './options.js';
export { optionsFromConfig } from './options.js';

/** The loader `init()` calls for DEMI_LIBOS=catnap (the default LibOS). */
export function createLibOS(context: LoaderContext): Catnap {
  return new Catnap(optionsFromConfig(context.config));
}
