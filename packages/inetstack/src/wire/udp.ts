import { EMPTY, get16, set16 } from './bytes.js';
import { foldSum, internetChecksum, onesSum, pseudoHeaderSum } from './checksum.js';
import { IPPROTO_UDP } from './ipv4.js';

export const UDP_HEADER_LEN = 8;

/** A view of a UDP datagram; `wrap` trims to the datagram's own length field. */
export class UdpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Uint8Array, off: number, len: number): boolean {
    if (off < 0 || len < UDP_HEADER_LEN || off + len > buf.byteLength) return false;
    const own = get16(buf, off + 4);
    if (own < UDP_HEADER_LEN || own > len) return false;
    this.buf = buf;
    this.off = off;
    this.len = own;
    return true;
  }

  get srcPort(): number {
    return get16(this.buf, this.off);
  }
  get dstPort(): number {
    return get16(this.buf, this.off + 2);
  }
  get checksum(): number {
    return get16(this.buf, this.off + 6);
  }
  get payloadOffset(): number {
    return this.off + UDP_HEADER_LEN;
  }
  get payloadLength(): number {
    return this.len - UDP_HEADER_LEN;
  }
  /** A zero checksum means the sender did not compute one (allowed in IPv4). */
  verifyChecksum(src: number, dst: number): boolean {
    if (this.checksum === 0) return true;
    return (
      foldSum(
        onesSum(this.buf, this.off, this.len, pseudoHeaderSum(src, dst, IPPROTO_UDP, this.len)),
      ) === 0xffff
    );
  }
}

/**
 * Writes a UDP header in front of a payload already at off+8. With `checksum`
 * 'full' the checksum is computed, 'partial' stores the pseudo-header sum for a
 * device that finishes it, 'none' leaves zero.
 */
export function emitUdpHeader(
  buf: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  payloadLength: number,
  src: number,
  dst: number,
  checksum: 'full' | 'partial' | 'none',
): number {
  const len = UDP_HEADER_LEN + payloadLength;
  set16(buf, off, srcPort);
  set16(buf, off + 2, dstPort);
  set16(buf, off + 4, len);
  set16(buf, off + 6, 0);
  if (checksum === 'full') {
    const c = internetChecksum(buf, off, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len));
    set16(buf, off + 6, c === 0 ? 0xffff : c);
  } else if (checksum === 'partial') {
    set16(buf, off + 6, foldSum(pseudoHeaderSum(src, dst, IPPROTO_UDP, len)));
  }
  return UDP_HEADER_LEN;
}

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

export function parseUdp(view: UdpView): UdpRepr {
  return {
    srcPort: view.srcPort,
    dstPort: view.dstPort,
    payload: view.buf.slice(view.payloadOffset, view.off + view.len),
  };
}

export function emitUdp(
  repr: UdpRepr,
  buf: Uint8Array,
  off: number,
  src: number,
  dst: number,
): number {
  buf.set(repr.payload, off + UDP_HEADER_LEN);
  emitUdpHeader(buf, off, repr.srcPort, repr.dstPort, repr.payload.byteLength, src, dst, 'full');
  return UDP_HEADER_LEN + repr.payload.byteLength;
}
