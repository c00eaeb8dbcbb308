import { EMPTY, get16, get32, set16, set32 } from './bytes.js';
import { checksumValid, internetChecksum } from './checksum.js';

export const IPV4_HEADER_LEN = 20;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;

/**
 * A view of an IPv4 packet. `wrap` checks version, header length and total
 * length against the bytes available, and trims link-layer padding: after it
 * returns true, `len` is the packet's own length and every accessor is in bounds.
 */
export class Ipv4View {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Uint8Array, off: number, len: number): boolean {
    if (off < 0 || len < IPV4_HEADER_LEN || off + len > buf.byteLength) return false;
    const vihl = buf[off]!;
    if (vihl >>> 4 !== 4) return false;
    const headerLen = (vihl & 0x0f) * 4;
    if (headerLen < IPV4_HEADER_LEN || headerLen > len) return false;
    const total = get16(buf, off + 2);
    if (total < headerLen || total > len) return false;
    this.buf = buf;
    this.off = off;
    this.len = total;
    return true;
  }

  get headerLength(): number {
    return (this.buf[this.off]! & 0x0f) * 4;
  }
  get dscpEcn(): number {
    return this.buf[this.off + 1]!;
  }
  get totalLength(): number {
    return this.len;
  }
  get ident(): number {
    return get16(this.buf, this.off + 4);
  }
  get dontFragment(): boolean {
    return (get16(this.buf, this.off + 6) & IPV4_FLAG_DF) !== 0;
  }
  get moreFragments(): boolean {
    return (get16(this.buf, this.off + 6) & IPV4_FLAG_MF) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (get16(this.buf, this.off + 6) & 0x1fff) * 8;
  }
  get isFragment(): boolean {
    return (get16(this.buf, this.off + 6) & 0x3fff) !== 0;
  }
  get ttl(): number {
    return this.buf[this.off + 8]!;
  }
  get protocol(): number {
    return this.buf[this.off + 9]!;
  }
  get checksum(): number {
    return get16(this.buf, this.off + 10);
  }
  get src(): number {
    return get32(this.buf, this.off + 12);
  }
  get dst(): number {
    return get32(this.buf, this.off + 16);
  }
  get payloadOffset(): number {
    return this.off + this.headerLength;
  }
  get payloadLength(): number {
    return this.len - this.headerLength;
  }
  verifyChecksum(): boolean {
    return checksumValid(this.buf, this.off, this.headerLength);
  }
}

/**
 * Writes a 20-byte IPv4 header (no options) at `off`; the checksum is computed
 * unless the device offloads it (then the field is left zero for the device).
 */
export function emitIpv4Header(
  buf: Uint8Array,
  off: number,
  src: number,
  dst: number,
  protocol: number,
  payloadLength: number,
  ttl: number,
  ident: number,
  flagsAndOffset: number,
  computeChecksum: boolean,
): number {
  buf[off] = 0x45;
  buf[off + 1] = 0;
  set16(buf, off + 2, IPV4_HEADER_LEN + payloadLength);
  set16(buf, off + 4, ident);
  set16(buf, off + 6, flagsAndOffset);
  buf[off + 8] = ttl;
  buf[off + 9] = protocol;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  set32(buf, off + 12, src);
  set32(buf, off + 16, dst);
  if (computeChecksum) set16(buf, off + 10, internetChecksum(buf, off, IPV4_HEADER_LEN));
  return IPV4_HEADER_LEN;
}

export interface Ipv4Repr {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  ident: number;
  dontFragment: boolean;
  moreFragments: boolean;
  fragmentOffset: number;
  payloadLength: number;
}

export function parseIpv4(view: Ipv4View): Ipv4Repr {
  return {
    src: view.src,
    dst: view.dst,
    protocol: view.protocol,
    ttl: view.ttl,
    ident: view.ident,
    dontFragment: view.dontFragment,
    moreFragments: view.moreFragments,
    fragmentOffset: view.fragmentOffset,
    payloadLength: view.payloadLength,
  };
}

export function emitIpv4(repr: Ipv4Repr, buf: Uint8Array, off = 0, computeChecksum = true): number {
  const flags =
    (repr.dontFragment ? IPV4_FLAG_DF : 0) |
    (repr.moreFragments ? IPV4_FLAG_MF : 0) |
    ((repr.fragmentOffset / 8) & 0x1fff);
  return emitIpv4Header(
    buf,
    off,
    repr.src,
    repr.dst,
    repr.protocol,
    repr.payloadLength,
    repr.ttl,
    repr.ident,
    flags,
    computeChecksum,
  );
}
