import { Adopt } from './adopt.js';
import { ShortSlab } from './short-slab.js';
import type { TokenTable, ViewMaker } from './token-table.js';
import type { QToken, Sga } from './types.js';

/** Freed pop memory one instance keeps for later pops, at most (a few 64 KiB records' worth). */
export const POP_POOL_BYTES = 4 << 20;

/** Pops up to this long are copies in a slab shared with other short pops, never lent. */
export const SHORT_POP_MAX = 4096;

/** A spare at least this long (or as long as the pop) takes a claimed pop. */
const REUSE_MIN = 64 * 1024;

/**
 * Which pool lent a buffer out and has not had it back: a private field on the
 * buffer itself. A WeakSet per pool would do, but every entry is an ephemeron
 * V8 must track through each collection (5 % of a bulk reader's time).
 */
class Lender extends Adopt {
  #pool: PopPool | undefined;

  static get(o: object): PopPool | undefined {
    return #pool in o ? (o as Lender).#pool : undefined;
  }

  static set(o: object, pool: PopPool | undefined): void {
    if (!(#pool in o)) new Lender(o);
    (o as Lender).#pool = pool;
  }
}

/**
 * An sga a pool handed out (a pop's or sgaalloc's), with a private field naming
 * the pool that may take it back: as cheap to make as a plain object, and no
 * copy of it (`{...sga}`, `{segments: sga.segments}`) carries the field.
 */
class IssuedSga implements Sga {
  #pool: PopPool | undefined;

  constructor(
    public segments: Uint8Array[],
    pool: PopPool,
  ) {
    this.#pool = pool;
  }

  /** True, once, if `pool` handed `sga` out. */
  static takeBack(sga: Sga, pool: PopPool): boolean {
    if (!(#pool in sga) || (sga as IssuedSga).#pool !== pool) return false;
    (sga as IssuedSga).#pool = undefined;
    return true;
  }
}

/** How many freed buffers, newest first, `spare` looks at for one of the last pop's size. */
const SPARE_SEARCH = 8;

/**
 * The memory of long pops, given back by sgafree and reused by later pops
 * (the Demikernel way: a popped sga belongs to the caller until it frees it).
 * A pop of more than 4 KiB lands in a buffer of its own; once the caller frees
 * its sga, that buffer goes on a small stack here and the next long pop the
 * buffer fits (the bytes fill at least half of it) is copied into it instead
 * of into fresh memory: no allocation, no collection, memory already in the
 * cache. Sgas never freed are collected as usual. Short pops are copies in
 * a slab shared with other short pops (ShortSlab), which is never reused.
 *
 * Every sga an instance hands out with memory it may take back (long pops,
 * sgaalloc) carries its pool in a private field, so one it did not hand out
 * (or a copy of one) never reaches the stack; a buffer goes on the stack at
 * most once per pop that lent it.
 */
export class PopPool implements ViewMaker {
  readonly #free: ArrayBuffer[] = [];
  #freeBytes = 0;
  /** Bytes of the last long pop. */
  #lastLength = 0;
  /** Long pops since the last idle check. */
  #lends = 0;
  /** Where short pops are copied (never lent: sgafree of one gives nothing back). */
  readonly #short = new ShortSlab();

  constructor(readonly maxBytes = POP_POOL_BYTES) {}

  /**
   * The buffer the next long pop may fill: the last one freed that the last
   * long pop would have filled (streams repeat their sizes), else the last one
   * freed.
   */
  get spare(): ArrayBuffer | undefined {
    const free = this.#free;
    const n = this.#lastLength;
    for (let i = free.length - 1, looked = 0; i >= 0 && looked < SPARE_SEARCH; i--, looked++) {
      const length = free[i]!.byteLength;
      if (n <= length && length <= 2 * n) return free[i];
    }
    return free.at(-1);
  }

  /** Bytes waiting on the stack for a pop. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /** The sga of a long pop, whose bytes are the start of a buffer of their own (maybe the spare). */
  lend(data: Uint8Array): Sga {
    const buffer = data.buffer as ArrayBuffer;
    this.#lastLength = data.byteLength;
    this.#lends++;
    // The spare offered is among the newest: no need to look further.
    const free = this.#free;
    for (let i = free.length - 1; i >= 0 && i >= free.length - SPARE_SEARCH; i--) {
      if (free[i] !== buffer) continue;
      if (i === free.length - 1) free.pop();
      else free.splice(i, 1);
      this.#freeBytes -= buffer.byteLength;
      break;
    }
    Lender.set(buffer, this);
    return new IssuedSga([data], this);
  }

  /**
   * Completes a short pop: copies the first n bytes of staging into a slab
   * shared with other short pops; the sga (a view of them) is made when a
   * wait takes the result (sgaOf).
   */
  completeShort(tokens: TokenTable, qt: QToken, staging: Uint8Array, n: number): void {
    const offset = this.#short.copy(staging, n);
    tokens.completeView(qt, this, this.#short.buffer, offset, n);
  }

  /**
   * The sga of a short pop completed by completeShort: a plain object, as
   * the pool takes no short pop's memory back (sgafree of it changes nothing).
   */
  sgaOf(buffer: ArrayBuffer, offset: number, length: number): Sga {
    return { segments: [new Uint8Array(buffer, offset, length)] };
  }

  /**
   * Where a pop of up to `n` bytes that the caller copies in itself goes: a
   * view of the short slab (n <= SHORT_POP_MAX), the spare when it holds at
   * least min(n, 64 KiB) (the view is then as long as the spare allows, so a
   * stream's pops settle on the sizes freed), else fresh memory of n bytes
   * left unzeroed (the caller fills every byte). Hand the filled view to
   * issueFilled.
   */
  claim(n: number): Uint8Array {
    if (n <= SHORT_POP_MAX) return this.#short.reserve(n);
    const spare = this.spare;
    if (spare !== undefined && spare.byteLength >= Math.min(n, REUSE_MIN))
      return new Uint8Array(spare, 0, Math.min(n, spare.byteLength));
    const fresh = Buffer.allocUnsafeSlow(n);
    return new Uint8Array(fresh.buffer, fresh.byteOffset, n);
  }

  /** The sga of a pop whose bytes the caller copied into a claim()ed view. */
  issueFilled(data: Uint8Array): Sga {
    // A short pop's memory goes back to no one: a plain sga, as completeShort's.
    return data.byteLength <= SHORT_POP_MAX ? { segments: [data] } : this.lend(data);
  }

  /** An sga this instance hands out without lending pool memory (end of file, sgaalloc). */
  issue(segments: Uint8Array[]): Sga {
    return new IssuedSga(segments, this);
  }

  /**
   * sgafree: puts the buffers the sga's pop lent back on the stack, while it
   * has room. An sga this pool did not hand out (the caller's own, another
   * instance's, a copy of a popped one) is accepted and changes nothing, as on
   * every LibOS; core has already refused one freed twice.
   */
  free(sga: Sga): void {
    if (!IssuedSga.takeBack(sga, this)) return;
    for (const segment of sga.segments) {
      const buffer = segment.buffer as ArrayBuffer;
      if (Lender.get(buffer) !== this) continue;
      Lender.set(buffer, undefined);
      if (buffer.byteLength === 0) continue; // detached
      if (this.#freeBytes + buffer.byteLength > this.maxBytes) continue;
      this.#free.push(buffer);
      this.#freeBytes += buffer.byteLength;
    }
  }

  /**
   * Called now and then (each instance's trim timer, every second): drops the
   * stack when no long pop came since the last call, so a burst's memory does
   * not stay with an instance that went quiet.
   */
  trimIdle(): void {
    if (this.#lends === 0) this.#dropFree();
    this.#lends = 0;
  }

  /** Forgets the stack and the short pops' slab (shutdown). */
  clear(): void {
    this.#dropFree();
    this.#short.clear();
  }

  #dropFree(): void {
    this.#free.length = 0;
    this.#freeBytes = 0;
  }
}
