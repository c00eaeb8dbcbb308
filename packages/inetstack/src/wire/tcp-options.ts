import { get16, get32, set16, set32 } from './bytes.js';

export const TCPOPT_END = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WSCALE = 3;
export const TCPOPT_SACK_PERMITTED = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;
export const TCP_MAX_OPTIONS_LEN = 40;
/** RFC 7323: shifts above 14 are treated as 14. */
export const TCP_MAX_WSCALE = 14;
export const MAX_SACK_BLOCKS = 4;

/**
 * The options of one segment. The stack keeps one instance and resets it per
 * segment, so parsing allocates nothing. Absent numeric options are -1.
 */
export class TcpOptions {
  mss = -1;
  windowScale = -1;
  sackPermitted = false;
  hasTimestamp = false;
  tsVal = 0;
  tsEcr = 0;
  /** SACK blocks as [left0, right0, left1, right1, ...]. */
  readonly sackBlocks = new Uint32Array(2 * MAX_SACK_BLOCKS);
  sackCount = 0;

  reset(): this {
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.hasTimestamp = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
    return this;
  }

  setTimestamp(tsVal: number, tsEcr: number): this {
    this.hasTimestamp = true;
    this.tsVal = tsVal >>> 0;
    this.tsEcr = tsEcr >>> 0;
    return this;
  }

  addSack(left: number, right: number): this {
    if (this.sackCount < MAX_SACK_BLOCKS) {
      this.sackBlocks[2 * this.sackCount] = left;
      this.sackBlocks[2 * this.sackCount + 1] = right;
      this.sackCount++;
    }
    return this;
  }
}

/**
 * Parses options from buf[off, off+len) into `out` (after resetting it). An
 * option with a bad length ends parsing; what was parsed before stays, as in
 * Linux. A known option with the wrong size is ignored.
 */
export function parseTcpOptions(buf: Uint8Array, off: number, len: number, out: TcpOptions): void {
  out.reset();
  const end = off + len;
  let i = off;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === TCPOPT_END) return;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return;
    const size = buf[i + 1]!;
    if (size < 2 || i + size > end) return;
    switch (kind) {
      case TCPOPT_MSS:
        if (size === 4) out.mss = get16(buf, i + 2);
        break;
      case TCPOPT_WSCALE:
        if (size === 3) out.windowScale = Math.min(buf[i + 2]!, TCP_MAX_WSCALE);
        break;
      case TCPOPT_SACK_PERMITTED:
        if (size === 2) out.sackPermitted = true;
        break;
      case TCPOPT_SACK:
        if (size >= 10 && (size - 2) % 8 === 0) {
          for (let b = i + 2; b + 8 <= i + size; b += 8)
            out.addSack(get32(buf, b), get32(buf, b + 4));
        }
        break;
      case TCPOPT_TIMESTAMP:
        if (size === 10) out.setTimestamp(get32(buf, i + 2), get32(buf, i + 6));
        break;
      default:
        break;
    }
    i += size;
  }
}

/** Bytes `emitTcpOptions` will write for these options (a multiple of 4). */
export function tcpOptionsLength(o: TcpOptions): number {
  let n = 0;
  if (o.mss >= 0) n += 4;
  if (o.hasTimestamp) n += 12;
  else if (o.sackPermitted) n += 4;
  if (o.windowScale >= 0) n += 4;
  const blocks = Math.min(o.sackCount, Math.floor((TCP_MAX_OPTIONS_LEN - n - 4) / 8));
  if (blocks > 0) n += 4 + 8 * blocks;
  return n;
}

/**
 * Writes options in Linux's layout (every option aligned, padded with NOPs):
 * MSS, [SACK-permitted] timestamps, NOP window-scale, NOP NOP SACK blocks.
 * SACK blocks that would not fit in 40 bytes are left out. Returns the length.
 */
export function emitTcpOptions(buf: Uint8Array, off: number, o: TcpOptions): number {
  let i = off;
  if (o.mss >= 0) {
    buf[i] = TCPOPT_MSS;
    buf[i + 1] = 4;
    set16(buf, i + 2, o.mss);
    i += 4;
  }
  if (o.hasTimestamp) {
    if (o.sackPermitted) {
      buf[i] = TCPOPT_SACK_PERMITTED;
      buf[i + 1] = 2;
    } else {
      buf[i] = TCPOPT_NOP;
      buf[i + 1] = TCPOPT_NOP;
    }
    buf[i + 2] = TCPOPT_TIMESTAMP;
    buf[i + 3] = 10;
    set32(buf, i + 4, o.tsVal);
    set32(buf, i + 8, o.tsEcr);
    i += 12;
  } else if (o.sackPermitted) {
    buf[i] = TCPOPT_NOP;
    buf[i + 1] = TCPOPT_NOP;
    buf[i + 2] = TCPOPT_SACK_PERMITTED;
    buf[i + 3] = 2;
    i += 4;
  }
  if (o.windowScale >= 0) {
    buf[i] = TCPOPT_NOP;
    buf[i + 1] = TCPOPT_WSCALE;
    buf[i + 2] = 3;
    buf[i + 3] = o.windowScale;
    i += 4;
  }
  const room = Math.floor((TCP_MAX_OPTIONS_LEN - (i - off) - 4) / 8);
  const blocks = Math.min(o.sackCount, room);
  if (blocks > 0) {
    buf[i] = TCPOPT_NOP;
    buf[i + 1] = TCPOPT_NOP;
    buf[i + 2] = TCPOPT_SACK;
    buf[i + 3] = 2 + 8 * blocks;
    i += 4;
    for (let b = 0; b < blocks; b++) {
      set32(buf, i, o.sackBlocks[2 * b]!);
      set32(buf, i + 4, o.sackBlocks[2 * b + 1]!);
      i += 8;
    }
  }
  return i - off;
}
