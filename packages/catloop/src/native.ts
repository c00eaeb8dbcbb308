import type { PopResult } from '@demi/catmem';
import { DemiError, loadAddon } from '@demi/core';

/** The addon's entry points (native/addon.cc). Every argument is checked natively too. */
export interface CatloopNative {
  newContext(onWake: () => void): number;
  destroyContext(ctx: number): void;
  setStaging(ctx: number, buffer: ArrayBuffer): void;
  /** Claims address:port (0: an ephemeral port) as a bound socket: [handle, port]. */
  bind(ctx: number, address: string, port: number, firstEphemeralPort: number): [number, number];
  listen(handle: number, backlog: number): void;
  /**
   * The next queued connection, accepted: [handle, peer address, peer port,
   * address the peer connected to]; undefined when none waits.
   */
  accept(handle: number): [number, string, number, string] | undefined;
  /**
   * Queues a connection request from localAddress:localPort ('0.0.0.0': the
   * address connected to; port 0: an ephemeral one): [handle, local address,
   * local port]. Throws ECONNREFUSED and friends.
   */
  connect(
    ctx: number,
    address: string,
    port: number,
    localAddress: string,
    localPort: number,
    ringSize: number,
    firstEphemeralPort: number,
  ): [number, string, number];
  /** 1: connected; 0: the listener has not answered yet; negative errno: refused. */
  handshake(handle: number): number;
  /** [ring size, largest payload of one record]. */
  info(handle: number): [number, number];
  /** Bytes written (whole records), or a negative errno. */
  push(handle: number, data: Uint8Array): number;
  /**
   * Bytes copied to the staging buffer, 0 at end of file, or a negative errno
   * (-EAGAIN: nothing yet); a pop of more than 4 KiB returns its bytes in a
   * buffer of their own: a view of `spare` when they fill at least half of it.
   */
  pop(handle: number, max: number, spare?: ArrayBuffer): PopResult;
  /** As pop, but when nothing is there waits as sleep() does, up to ms, and tries again. */
  popWait(handle: number, max: number, ms: number, spare?: ArrayBuffer): PopResult;
  /** Gives back ring memory of ends that pushed nothing since the last call and were read to the end. */
  trim(ctx: number): void;
  /**
   * How many of the context's sockets have what they wait for; their handles
   * fill out, as many as fit.
   */
  ready(ctx: number, out: Uint32Array): number;
  close(handle: number): void;
  sleep(ctx: number, ms: number): void;
  setWakeups(ctx: number, active: boolean): void;
  readonly maxBacklog: number;
  readonly minRingSize: number;
  readonly maxRingSize: number;
}

let loaded: CatloopNative | undefined;

/** Loads the addon once; explains what to do when it is missing. */
export function native(): CatloopNative {
  loaded ??= loadAddon<CatloopNative>({
    name: 'catloop',
    fromUrl: import.meta.url,
    envVar: 'DEMI_CATLOOP_ADDON',
    buildHint: 'Or point DEMI_CATLOOP_ADDON at a built demi_catloop.node.',
  });
  return loaded;
}

/** Turns an exception from the addon into a DemiError carrying its errno. */
export function nativeError(err: unknown, syscall: string): DemiError {
  if (err instanceof DemiError) return err;
  const errno = (err as { errno?: unknown }).errno;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof errno === 'number') return DemiError.fromErrno(errno, message, syscall);
  return new DemiError('EINVAL', message, { syscall });
}
