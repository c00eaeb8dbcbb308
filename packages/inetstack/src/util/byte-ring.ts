/**
 * A byte ring that grows (by doubling, up to `maxCapacity`) as it fills, so an
 * idle connection holds a small buffer and a busy one a large one. Data is
 * contiguous from the read position; bytes may also be placed beyond the end
 * (`writeAt`) and made part of it later (`commit`): that is how TCP keeps
 * out-of-order segments in the receive buffer itself.
 */
export class ByteRing {
  #buf: Uint8Array;
  #head = 0;
  #length = 0;
  /** The first real allocation: nothing is allocated until a byte arrives (a half-open connection holds no buffer). */
  readonly #initial: number;

  constructor(
    readonly maxCapacity: number,
    initialCapacity = 16 * 1024,
  ) {
    this.#initial = Math.max(1, Math.min(initialCapacity, maxCapacity));
    this.#buf = new Uint8Array(1);
  }

  /** Bytes readable. */
  get length(): number {
    return this.#length;
  }
  /** Bytes that may still be added (before reaching maxCapacity). */
  get free(): number {
    return this.maxCapacity - this.#length;
  }
  get capacity(): number {
    return this.#buf.byteLength;
  }

  /** Appends up to `free` bytes of src[off, off+n); returns how many. */
  write(src: Uint8Array, off: number, n: number): number {
    const k = Math.min(n, this.free);
    if (k <= 0) return 0;
    this.writeAt(this.#length, src, off, k);
    this.#length += k;
    return k;
  }

  /** Places src[off, off+n) at `offset` past the read position without making it readable. */
  writeAt(offset: number, src: Uint8Array, off: number, n: number): void {
    if (n <= 0) return;
    if (offset < 0 || offset + n > this.maxCapacity)
      throw new RangeError(
        `ring write [${offset}, ${offset + n}) beyond capacity ${this.maxCapacity}`,
      );
    this.#ensure(offset + n);
    const cap = this.#buf.byteLength;
    let pos = (this.#head + offset) % cap;
    let done = 0;
    while (done < n) {
      const chunk = Math.min(n - done, cap - pos);
      this.#buf.set(src.subarray(off + done, off + done + chunk), pos);
      done += chunk;
      pos = 0;
    }
  }

  /** Makes `n` bytes placed past the end readable. */
  commit(n: number): void {
    if (n < 0 || this.#length + n > this.maxCapacity)
      throw new RangeError(`ring commit ${n} beyond capacity`);
    this.#ensure(this.#length + n);
    this.#length += n;
  }

  /** Copies `n` readable bytes starting `offset` past the read position into dst[at...], leaving them. */
  peek(offset: number, dst: Uint8Array, at: number, n: number): void {
    if (offset < 0 || offset + n > this.#length)
      throw new RangeError(`ring peek [${offset}, ${offset + n}) beyond length ${this.#length}`);
    const cap = this.#buf.byteLength;
    let pos = (this.#head + offset) % cap;
    let done = 0;
    while (done < n) {
      const chunk = Math.min(n - done, cap - pos);
      dst.set(this.#buf.subarray(pos, pos + chunk), at + done);
      done += chunk;
      pos = 0;
    }
  }

  /**
   * A view of `n` readable bytes starting `offset` past the read position, no
   * copy: at most the bytes up to the ring's wrap (the caller asks again for
   * the rest). Valid until the ring is next written or grows.
   */
  view(offset: number, n: number): Uint8Array {
    if (offset < 0 || n < 0 || offset + n > this.#length)
      throw new RangeError(`ring view [${offset}, ${offset + n}) beyond length ${this.#length}`);
    const cap = this.#buf.byteLength;
    const pos = (this.#head + offset) % cap;
    return this.#buf.subarray(pos, pos + Math.min(n, cap - pos));
  }

  /** Copies and consumes up to `n` bytes; returns how many. */
  read(dst: Uint8Array, at: number, n: number): number {
    const k = Math.min(n, this.#length);
    this.peek(0, dst, at, k);
    this.discard(k);
    return k;
  }

  /** Consumes `n` bytes without copying them. */
  discard(n: number): void {
    const k = Math.min(n, this.#length);
    this.#head = (this.#head + k) % this.#buf.byteLength;
    this.#length -= k;
    // The head stays put even when empty: bytes placed past the end (writeAt) are relative to it.
  }

  #ensure(size: number): void {
    const cap = this.#buf.byteLength;
    if (size <= cap) return;
    let next = Math.max(cap, this.#initial);
    while (next < size) next *= 2;
    next = Math.min(next, this.maxCapacity);
    const grown = new Uint8Array(next);
    // Keep everything from the read position to the old capacity: readable bytes and any placed beyond them.
    const first = Math.min(cap - this.#head, cap);
    grown.set(this.#buf.subarray(this.#head, this.#head + first), 0);
    if (this.#head > 0) grown.set(this.#buf.subarray(0, this.#head), first);
    this.#buf = grown;
    this.#head = 0;
  }
}
