/** Bytes of each slab that short pops are copied into. */
export const SHORT_SLAB_BYTES = 64 * 1024;

/** Pops up to this long are copied byte by byte rather than through a subarray. */
const BYTE_LOOP_MAX = 256;

/**
 * Where short pops (at most 4 KiB, copied out of the staging buffer) land:
 * one after the other, 8-byte aligned, in a 64 KiB ArrayBuffer; when the next
 * pop does not fit, a new slab is started and the old one lives on while
 * views of it (or completions not yet taken) do. One allocation per some
 * thousand 64-byte messages instead of an ArrayBuffer each, and no object per
 * pop: the copy is a place in the slab, and the pop's view of it is made only
 * when a wait takes the result. A slab is never written again once its bytes
 * are handed out, so a held pop never changes, freed or not (sgafree gives
 * short pops' memory to no one).
 */
export class ShortSlab {
  #slab = new Uint8Array(0);
  #used = 0;

  /** The slab the last copy() or reserve() went to. */
  get buffer(): ArrayBuffer {
    return this.#slab.buffer as ArrayBuffer;
  }

  /** n bytes of the current slab for the caller to fill, as a view. */
  reserve(n: number): Uint8Array {
    const at = this.#place(n);
    return new Uint8Array(this.#slab.buffer, at, n);
  }

  /** Copies the first n bytes of from into the slab (maybe a new one: see buffer); returns their offset. */
  copy(from: Uint8Array, n: number): number {
    const at = this.#place(n);
    const slab = this.#slab;
    if (n <= BYTE_LOOP_MAX) {
      // No subarray to make (a view object per pop); a few bytes copy as fast this way.
      for (let i = 0; i < n; i++) slab[at + i] = from[i]!;
    } else {
      slab.set(n === from.byteLength ? from : from.subarray(0, n), at);
    }
    return at;
  }

  /** Where the next n bytes go: their offset in the current slab (a new one when they do not fit). */
  #place(n: number): number {
    let at = this.#used;
    if (at + n > this.#slab.byteLength) {
      this.#slab = new Uint8Array(Math.max(SHORT_SLAB_BYTES, n));
      at = 0;
    }
    this.#used = (at + n + 7) & ~7;
    return at;
  }

  /** Lets the current slab go (shutdown). */
  clear(): void {
    this.#slab = new Uint8Array(0);
    this.#used = 0;
  }
}
