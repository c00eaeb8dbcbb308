/**
 * The Internet checksum (RFC 1071): ones'-complement sum of big-endian 16-bit
 * words. Sums are kept unfolded while accumulating and folded once at the end.
 */

/** Adds the 16-bit words of buf[off, off+len) to `initial`; an odd last byte is padded with zero. */
export function onesSum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  let i = off;
  const end4 = off + (len & ~3);
  // Two words per step; the running sum stays far below 2^53 for any frame.
  for (; i < end4; i += 4)
    sum += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!);
  const end2 = off + (len & ~1);
  if (i < end2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    i += 2;
  }
  if ((len & 1) === 1) sum += buf[off + len - 1]! << 8;
  return sum;
}

/** Folds carries back into 16 bits. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for buf[off, off+len) plus a partial sum (e.g. a pseudo-header). */
export function internetChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return ~foldSum(onesSum(buf, off, len, initial)) & 0xffff;
}

/** Partial sum of the IPv4 pseudo-header for TCP/UDP. */
export function pseudoHeaderSum(
  src: number,
  dst: number,
  protocol: number,
  length: number,
): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/** True when the data including its checksum field sums to all ones. */
export function checksumValid(buf: Uint8Array, off: number, len: number, initial = 0): boolean {
  return foldSum(onesSum(buf, off, len, initial)) === 0xffff;
}
