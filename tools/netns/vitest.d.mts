import type { NetnsPair, PairOptions } from './index.mjs';

export function useNetnsPair(options?: PairOptions): { readonly pair: NetnsPair };
