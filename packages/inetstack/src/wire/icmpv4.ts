import { EMPTY, get16, set16 } from './bytes.js';
import { checksumValid, internetChecksum } from './checksum.js';

export const ICMP_HEADER_LEN = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_CODE_PORT_UNREACHABLE = 3;
export const ICMP_CODE_FRAG_NEEDED = 4;

/** A view of an ICMPv4 message: type, code, checksum, 4 bytes of "rest", payload. */
export class IcmpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Uint8Array, off: number, len: number): boolean {
    if (off < 0 || len < ICMP_HEADER_LEN || off + len > buf.byteLength) return false;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return true;
  }

  get type(): number {
    return this.buf[this.off]!;
  }
  get code(): number {
    return this.buf[this.off + 1]!;
  }
  get checksum(): number {
    return get16(this.buf, this.off + 2);
  }
  /** Echo identifier. */
  get ident(): number {
    return get16(this.buf, this.off + 4);
  }
  /** Echo sequence number. */
  get sequence(): number {
    return get16(this.buf, this.off + 6);
  }
  get payloadOffset(): number {
    return this.off + ICMP_HEADER_LEN;
  }
  get payloadLength(): number {
    return this.len - ICMP_HEADER_LEN;
  }
  verifyChecksum(): boolean {
    return checksumValid(this.buf, this.off, this.len);
  }
}

export interface IcmpRepr {
  type: number;
  code: number;
  /** The 4 bytes after the checksum, as a number (ident << 16 | sequence for echo). */
  rest: number;
  payload: Uint8Array;
}

export function parseIcmp(view: IcmpView): IcmpRepr {
  return {
    type: view.type,
    code: view.code,
    rest: ((view.ident << 16) | view.sequence) >>> 0,
    payload: view.buf.slice(view.payloadOffset, view.off + view.len),
  };
}

/** Writes an ICMP message with its checksum; returns its length. */
export function emitIcmp(repr: IcmpRepr, buf: Uint8Array, off = 0): number {
  buf[off] = repr.type;
  buf[off + 1] = repr.code;
  set16(buf, off + 2, 0);
  set16(buf, off + 4, repr.rest >>> 16);
  set16(buf, off + 6, repr.rest & 0xffff);
  buf.set(repr.payload, off + ICMP_HEADER_LEN);
  const len = ICMP_HEADER_LEN + repr.payload.byteLength;
  set16(buf, off + 2, internetChecksum(buf, off, len));
  return len;
}
