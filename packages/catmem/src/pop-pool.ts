import { DemiError, type Sga } from '@demi/core';

/** Freed pop memory one instance keeps for later pops, at most (a few 64 KiB records' worth). */
export const POP_POOL_BYTES = 4 << 20;

/**
 * The memory of long pops, given back by sgafree and reused by later pops
 * (the Demikernel way: a popped sga belongs to the caller until it frees it).
 * A pop of more than 4 KiB lands in a buffer of its own; once the caller frees
 * its sga, that buffer goes on a small stack here and the next long pop the
 * buffer fits (the bytes fill at least half of it) is copied into it instead
 * of into fresh memory: no allocation, no collection, memory already in the
 * cache. Sgas never freed are collected as usual.
 *
 * Every sga an instance hands out (pops, sgaalloc) is recorded, so freeing one
 * it did not hand out, or one already freed, is EINVAL and never reaches the
 * stack; a buffer goes on the stack at most once per pop that lent it.
 */
/** A class whose constructor returns the object it is given, so a subclass can add a private field to it. */
class Adopt {
  constructor(o: object) {
    // biome-ignore lint/correctness/noConstructorReturn: how a private field is put on any object
    return o;
  }
}

/**
 * Which pool handed an sga or a buffer out and has not had it back: a private
 * field on the object itself. A WeakSet per pool would do, but every entry is
 * an ephemeron V8 must track through each collection (5 % of a bulk reader's
 * time); and unlike a property, no copy of the object (`{...sga}`) carries it.
 */
class Owner extends Adopt {
  #pool: PopPool | undefined;

  static get(o: object): PopPool | undefined {
    return #pool in o ? (o as Owner).#pool : undefined;
  }

  static set(o: object, pool: PopPool | undefined): void {
    if (!(#pool in o)) new Owner(o);
    (o as Owner).#pool = pool;
  }
}

/** How many freed buffers, newest first, `spare` looks at for one of the last pop's size. */
const SPARE_SEARCH = 8;

export class PopPool {
  readonly #free: ArrayBuffer[] = [];
  #freeBytes = 0;
  /** Bytes of the last long pop. */
  #lastLength = 0;

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
    // The spare offered is among the newest: no need to look further.
    const free = this.#free;
    for (let i = free.length - 1; i >= 0 && i >= free.length - SPARE_SEARCH; i--) {
      if (free[i] !== buffer) continue;
      free.splice(i, 1);
      this.#freeBytes -= buffer.byteLength;
      break;
    }
    Owner.set(buffer, this);
    return this.issue({ segments: [data] });
  }

  /** Records an sga this instance hands out without lending pool memory (short pops, sgaalloc). */
  issue(sga: Sga): Sga {
    Owner.set(sga, this);
    return sga;
  }

  /** sgafree: puts the buffers the sga's pop lent back on the stack, while it has room. */
  free(sga: Sga): void {
    if (Owner.get(sga) !== this) {
      throw new DemiError(
        'EINVAL',
        'sga was not handed out by this LibOS instance (pop or sgaalloc), or was freed already',
        { syscall: 'sgafree' },
      );
    }
    Owner.set(sga, undefined);
    for (const segment of sga.segments) {
      const buffer = segment.buffer as ArrayBuffer;
      if (Owner.get(buffer) !== this) continue;
      Owner.set(buffer, undefined);
      if (buffer.byteLength === 0) continue; // detached
      if (this.#freeBytes + buffer.byteLength > this.maxBytes) continue;
      this.#free.push(buffer);
      this.#freeBytes += buffer.byteLength;
    }
  }

  /** Forgets the stack (shutdown). */
  clear(): void {
    this.#free.length = 0;
    this.#freeBytes = 0;
  }
}
