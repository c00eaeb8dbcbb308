import { init, type LibOS } from '@demi/core';

/**
 * The LibOS sockets use when their options name none: the one `init()` picks
 * from DEMI_LIBOS, made on first use and kept for the life of the process, or
 * whatever `setDefaultLibOS` installed.
 */
let current: LibOS | undefined;
let pending: Promise<LibOS> | undefined;

export function setDefaultLibOS(libos: LibOS | undefined): void {
  current = libos;
  pending = undefined;
}

/** The default LibOS if it is ready, so listen() and connect() can act synchronously as Node's do. */
export function readyDefaultLibOS(): LibOS | undefined {
  return current;
}

export function defaultLibOS(): Promise<LibOS> {
  if (current !== undefined) return Promise.resolve(current);
  pending ??= init().then((libos) => {
    current ??= libos;
    return current;
  });
  return pending;
}

/** Calls `use` with the LibOS now when it is known, else once `init()` has made it. */
export function withLibOS(
  explicit: LibOS | undefined,
  use: (libos: LibOS) => void,
  fail: (err: unknown) => void,
): void {
  const ready = explicit ?? current;
  if (ready !== undefined) {
    use(ready);
    return;
  }
  defaultLibOS().then(use, fail);
}
