import { type AddonSpec, addonPaths, DemiError, loadAddon as loadNative } from '@demi/core';

/**
 * The addon's surface (native/engine.cc). Every call validates its arguments
 * again natively; calls that can complete operations return how many
 * completion records they wrote into `records()`.
 */
/** Receive-slab pool counters (see the README's "Popped bytes are views into shared slabs"). */
export interface SlabStats {
  /** Pool blocks backing slabs that are not yet back in the pool. */
  outstanding: number;
  /** Free pool blocks, kept for the next slabs. */
  pooled: number;
  /** Slabs whose memory went back because every view of them was freed with sgafree. */
  returnedEarly: number;
}

export interface NativeEngine {
  slab(generation: number): ArrayBuffer;
  /** One view of slab `generation` was freed (each view once). */
  sgafree(generation: number): void;
  slabStats(): SlabStats;
  socket(type: number): number;
  bind(qd: number, ip: number, port: number): void;
  listen(qd: number, backlog: number): void;
  accept(qd: number, qt: number): number;
  connect(qd: number, qt: number, ip: number, port: number): number;
  close(qd: number): void;
  asyncClose(qd: number, qt: number): number;
  push(qd: number, qt: number, data: Uint8Array | readonly Uint8Array[]): number;
  pushto(
    qd: number,
    qt: number,
    data: Uint8Array | readonly Uint8Array[],
    ip: number,
    port: number,
  ): number;
  pop(qd: number, qt: number, size: number): number;
  poll(timeoutMs: number, spinning?: boolean): number;
  setWakeups(active: boolean): void;
  setsockopt(qd: number, level: number, name: number, value: number, lingerSeconds: number): void;
  getsockopt(qd: number, level: number, name: number): boolean | { onoff: boolean; linger: number };
  peername(qd: number): number;
  sockname(qd: number): number;
  socketCount(): number;
  shutdown(): void;
}

/** TCP options every new socket gets. */
export interface EngineOptions {
  nodelay?: boolean;
  keepalive?: boolean;
  keepIdleSeconds?: number;
  keepIntervalSeconds?: number;
  linger?: boolean;
  lingerSeconds?: number;
  /** Busy-poll budget after a wake-up, in microseconds (0..1000; default 50). */
  wakeSpinMicros?: number;
  /** Returns an uninitialized ArrayBuffer of SLAB_BYTES for the next slab (recv() fills it). */
  allocSlab?: () => ArrayBuffer;
}

export interface Addon {
  /** `records`: a Float64Array of RECORD_ARRAY_LENGTH over a SharedArrayBuffer. */
  createEngine(
    onWake: (records: number) => void,
    records: Float64Array,
    options?: EngineOptions,
  ): NativeEngine;
  /** Float64 slots per completion record. */
  RECORD_SLOTS: number;
  /** Records one call can write at most. */
  RECORD_CAPACITY: number;
  /** Length of the records array: the records, then the control slots. */
  RECORD_ARRAY_LENGTH: number;
  /** Control slot: 1 while the addon runs JS from a wake-up. */
  IN_WAKE: number;
  /** Control slot: whether JS wants wake-ups, applied when the wake-up returns. */
  WANT_WAKEUPS: number;
  SLAB_BYTES: number;
}

const ADDON: AddonSpec = {
  name: 'catnap',
  fromUrl: import.meta.url,
  envVar: 'DEMI_CATNAP_ADDON',
  buildHint: 'Or set DEMI_CATNAP_ADDON to a built demi_catnap.node.',
};

/** Where the addon is looked for first: DEMI_CATNAP_ADDON, else build/Release beside src/ and dist/. */
export function addonPath(env: NodeJS.ProcessEnv = process.env): string {
  return addonPaths({ ...ADDON, env })[0]!;
}

let loaded: Addon | undefined;

export function loadAddon(): Addon {
  if (loaded !== undefined) return loaded;
  if (process.platform !== 'linux') {
    throw new DemiError('ENOTSUP', `catnap needs Linux (epoll); this is ${process.platform}`, {
      syscall: 'init',
    });
  }
  loaded = loadNative<Addon>(ADDON);
  return loaded;
}

/** A native exception as a DemiError (the addon sets `errno` on everything it throws). */
export function toDemiError(err: unknown, syscall: string): unknown {
  if (err instanceof DemiError) return err;
  const errno = (err as { errno?: unknown } | null)?.errno;
  if (err instanceof Error && typeof errno === 'number')
    return DemiError.fromErrno(errno, err.message, syscall);
  return err;
}
