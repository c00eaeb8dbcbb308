import { init, type LibOS } from '@demi/core';
import { setDefaultLibOS } from '../../src/index.js';

/** The LibOSes every test here runs on: kernel sockets and shared-memory rings. */
export const LIBOSES = ['catnap', 'catloop'] as const;
export type LibOSName = (typeof LIBOSES)[number];

/** Opens a LibOS and makes it the default @demi/net uses. */
export async function useLibOS(name: string): Promise<LibOS> {
  const libos = await init({ libos: name });
  setDefaultLibOS(libos);
  return libos;
}

/**
 * Operations the LibOS still holds. BaseLibOS keeps its token table in a
 * protected field with no public accessor, so the test reads it directly.
 */
export function pendingTokens(libos: LibOS): number {
  return (libos as unknown as { tokens: { size: number } }).tokens.size;
}

/** Waits (up to 2 s) for every token to be consumed; resolves with how many remain. */
export async function settledTokens(libos: LibOS): Promise<number> {
  for (let i = 0; i < 200 && pendingTokens(libos) > 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  return pendingTokens(libos);
}

export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      emitter.removeListener(event, onEvent);
      reject(err);
    };
    const onEvent = (...args: T[]): void => {
      if (event !== 'error') emitter.removeListener('error', onError);
      resolve(args);
    };
    emitter.once(event, onEvent);
    if (event !== 'error') emitter.once('error', onError);
  });
}

/** Resolves on the next 'close' (with hadError), whatever else is emitted first. */
export function closed(emitter: NodeJS.EventEmitter): Promise<boolean> {
  return new Promise((resolve) => emitter.once('close', (hadError: boolean) => resolve(hadError)));
}
