/** Bytes of each slab that short pops are copied into. */
export const SHORT_SLAB_BYTES = 64 * 1024;

/** Pops up to this long are copied byte by byte rather than through a subarray. */
const BYTE_LOOP_MAX = 256;

/**
 * Where short pops (at most 4 KiB, copied out of the staging buffer) land:
 * one after the other, 8-byte aligned, in a 64 KiB ArrayBuffer; when the next
 * pop does not fit, a new slab is started and the old one lives on while
 * views of it do. One allocation per some thousand 64-byte messages instead
 * of an ArrayBuffer each. A slab is never written again once its bytes are
 * handed out, so a held pop never changes, freed or not (sgafree gives short
 * pops' memory to no one).
 */
export class ShortSlab {
  #slab = new Uint8Array(0);
  #used = 0;

  /** n bytes of the current slab for the caller to fill, as a view. */
  reserve(n: number): Uint8Array {
    let at = this.#used;
    if (at + n > this.#slab.byteLength) {
      this.#slab = new Uint8Array(Math.max(SHORT_SLAB_BYTES, n));
      at = 0;
    }
    this.#used = (at + n + 7) & ~7;
    return new Uint8Array(this.#slab.buffer, at, n);
  }

  /** A copy of the first n bytes of from, as a view of the current slab. */
  copy(from: Uint8Array, n: number): Uint8Array {
    const view = this.reserve(n);
    if (n <= BYTE_LOOP_MAX) {
      // No subarray to make (a view object per pop); a few bytes copy as fast this way.
      for (let i = 0; i < n; i++) view[i] = from[i]!;
    } else {
      view.set(n === from.byteLength ? from : from.subarray(0, n));
    }
    return view;
  }

  /** Lets the current slab go (shutdown). */
  clear(): void {
    this.#slab = new Uint8Array(0);
    this.#used = 0;
  }
}
