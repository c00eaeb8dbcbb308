import { DemiError, loadAddon } from '@demi/core';
import type { PopResult } from './ring-ops.js';

/** One pipe as the native listing reports it. */
export interface RawPipeInfo {
  name: string;
  ringSize: number;
  /** 0 initializing, 1 ready, 2 removed, 99 unreadable header. */
  state: number;
  ends: Array<{ state: number; pid: number; alive: boolean }>;
  stale: boolean;
}

/** The addon's entry points (native/addon.cc). Every argument is checked natively too. */
export interface CatmemNative {
  newContext(onWake: () => void): number;
  destroyContext(ctx: number): void;
  setStaging(ctx: number, buffer: ArrayBuffer): void;
  create(ctx: number, name: string, ringSize: number, directory?: string): number;
  open(ctx: number, name: string, directory?: string): number;
  /**
   * [ring size, largest payload of one record, side (0 creator, 1 opener),
   * payload bytes popped so far (what the wake-up spin counts)].
   */
  info(handle: number): [number, number, number, number];
  /** Bytes written (whole records), or a negative errno. */
  push(handle: number, data: Uint8Array): number;
  /**
   * Bytes copied to the staging buffer, 0 at end of file, or a negative errno
   * (-EAGAIN: nothing yet); a pop of more than 4 KiB returns its bytes in a
   * buffer of their own: a view of `spare` when they fill at least half of it.
   */
  pop(handle: number, max: number, spare?: ArrayBuffer): PopResult;
  /** pop; if nothing is there, sleep up to ms (as sleep does) and pop once more. */
  popWait(handle: number, max: number, ms: number, spare?: ArrayBuffer): PopResult;
  /** Gives back ring memory of ends that pushed nothing since the last call and were read to the end. */
  trim(ctx: number): void;
  close(handle: number): void;
  sleep(ctx: number, ms: number): void;
  setWakeups(ctx: number, active: boolean): void;
  list(directory?: string): RawPipeInfo[];
  removeStale(directory?: string): string[];
  /** Removes wake-up FIFOs (/dev/shm/demi-catmem-wake.*) no process holds open; returns their names. */
  removeStaleBells(): string[];
  readonly layoutVersion: number;
  readonly defaultRingSize: number;
  readonly minRingSize: number;
  readonly maxRingSize: number;
}

let loaded: CatmemNative | undefined;

/** Loads the addon once; explains what to do when it is missing. */
export function native(): CatmemNative {
  loaded ??= loadAddon<CatmemNative>({
    name: 'catmem',
    fromUrl: import.meta.url,
    envVar: 'DEMI_CATMEM_ADDON',
    buildHint: 'Or point DEMI_CATMEM_ADDON at a built demi_catmem.node.',
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
