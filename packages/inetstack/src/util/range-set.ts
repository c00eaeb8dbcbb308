/**
 * A bounded, sorted set of disjoint half-open ranges [start, end) of plain
 * numbers: the out-of-order map of a TCP receiver, the SACK scoreboard of a
 * sender, the holes of an IP datagram being reassembled. Adjacent and
 * overlapping ranges merge. Ranges live in one flat array, so there is no
 * allocation per insert once it has grown.
 */
export class RangeSet {
  /** [start0, end0, start1, end1, ...], sorted. */
  readonly #r: number[] = [];

  constructor(readonly maxRanges = 32) {}

  get count(): number {
    return this.#r.length >> 1;
  }
  get isEmpty(): boolean {
    return this.#r.length === 0;
  }
  start(i: number): number {
    return this.#r[2 * i]!;
  }
  end(i: number): number {
    return this.#r[2 * i + 1]!;
  }
  /** Lowest start, or undefined. */
  get first(): number | undefined {
    return this.#r[0];
  }
  /** Highest end, or undefined. */
  get last(): number | undefined {
    return this.#r.length === 0 ? undefined : this.#r[this.#r.length - 1];
  }
  /** Total length covered. */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.#r.length; i += 2) n += this.#r[i + 1]! - this.#r[i]!;
    return n;
  }

  clear(): void {
    this.#r.length = 0;
  }

  /** Adds [start, end). Returns false (and changes nothing) if that would need more than maxRanges ranges. */
  add(start: number, end: number): boolean {
    if (end <= start) return true;
    const r = this.#r;
    // First range whose end reaches start (touching merges).
    let i = 0;
    while (i < r.length && r[i + 1]! < start) i += 2;
    // Ranges from i that start at or before end overlap or touch.
    let j = i;
    while (j < r.length && r[j]! <= end) j += 2;
    if (i === j) {
      if (r.length >= 2 * this.maxRanges) return false;
      r.splice(i, 0, start, end);
      return true;
    }
    const s = Math.min(start, r[i]!);
    const e = Math.max(end, r[j - 1]!);
    r.splice(i, j - i, s, e);
    return true;
  }

  /** Removes everything below `point` (trimming a range that spans it). */
  removeBelow(point: number): void {
    const r = this.#r;
    let i = 0;
    while (i < r.length && r[i + 1]! <= point) i += 2;
    if (i > 0) r.splice(0, i);
    if (r.length > 0 && r[0]! < point) r[0] = point;
  }

  /** Subtracts `delta` from every bound (the origin moved forward). */
  shift(delta: number): void {
    const r = this.#r;
    for (let i = 0; i < r.length; i++) r[i] = r[i]! - delta;
  }

  /** Whether [start, end) is entirely covered. */
  covers(start: number, end: number): boolean {
    const r = this.#r;
    for (let i = 0; i < r.length; i += 2) if (r[i]! <= start && r[i + 1]! >= end) return true;
    return end <= start;
  }

  /** If a range contains `point`, its end; else undefined. */
  endOfRangeContaining(point: number): number | undefined {
    const r = this.#r;
    for (let i = 0; i < r.length; i += 2) {
      if (r[i]! > point) return undefined;
      if (r[i + 1]! > point) return r[i + 1];
    }
    return undefined;
  }

  /** Bytes covered at or above `point`. */
  sizeFrom(point: number): number {
    const r = this.#r;
    let n = 0;
    for (let i = 0; i < r.length; i += 2)
      if (r[i + 1]! > point) n += r[i + 1]! - Math.max(point, r[i]!);
    return n;
  }

  toArray(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.#r.length; i += 2) out.push([this.#r[i]!, this.#r[i + 1]!]);
    return out;
  }
}
