/**
 * TCP sequence numbers are 32-bit and wrap: comparisons are by signed distance
 * (RFC 9293 3.4), valid while the numbers compared are within 2^31 of each other.
 */

export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** The signed distance a - b. */
export function seqSub(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

export function seqMax(a: number, b: number): number {
  return seqGt(a, b) ? a : b;
}

export function seqMin(a: number, b: number): number {
  return seqLt(a, b) ? a : b;
}

/** lo <= x < lo + size. */
export function seqInWindow(x: number, lo: number, size: number): boolean {
  const d = (x - lo) | 0;
  return d >= 0 && d < size;
}
