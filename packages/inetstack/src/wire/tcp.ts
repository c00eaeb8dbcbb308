import { EMPTY, get16, get32, set16, set32 } from './bytes.js';
import { checksumValid, foldSum, internetChecksum, pseudoHeaderSum } from './checksum.js';
import { IPPROTO_TCP } from './ipv4.js';
import { emitTcpOptions, parseTcpOptions, type TcpOptions } from './tcp-options.js';

export const TCP_HEADER_LEN = 20;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

/** A view of a TCP segment. `wrap` checks the data offset against the bytes available. */
export class TcpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Uint8Array, off: number, len: number): boolean {
    if (off < 0 || len < TCP_HEADER_LEN || off + len > buf.byteLength) return false;
    const headerLen = (buf[off + 12]! >>> 4) * 4;
    if (headerLen < TCP_HEADER_LEN || headerLen > len) return false;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return true;
  }

  get srcPort(): number {
    return get16(this.buf, this.off);
  }
  get dstPort(): number {
    return get16(this.buf, this.off + 2);
  }
  get seq(): number {
    return get32(this.buf, this.off + 4);
  }
  get ack(): number {
    return get32(this.buf, this.off + 8);
  }
  get headerLength(): number {
    return (this.buf[this.off + 12]! >>> 4) * 4;
  }
  /** FIN, SYN, RST, PSH, ACK, URG (and ECE/CWR in the top bits). */
  get flags(): number {
    return this.buf[this.off + 13]!;
  }
  get window(): number {
    return get16(this.buf, this.off + 14);
  }
  get checksum(): number {
    return get16(this.buf, this.off + 16);
  }
  get urgent(): number {
    return get16(this.buf, this.off + 18);
  }
  get optionsOffset(): number {
    return this.off + TCP_HEADER_LEN;
  }
  get optionsLength(): number {
    return this.headerLength - TCP_HEADER_LEN;
  }
  get payloadOffset(): number {
    return this.off + this.headerLength;
  }
  get payloadLength(): number {
    return this.len - this.headerLength;
  }
  /** Sequence space the segment occupies: payload plus one each for SYN and FIN. */
  get segmentLength(): number {
    const f = this.flags;
    return this.payloadLength + (f & TCP_SYN ? 1 : 0) + (f & TCP_FIN ? 1 : 0);
  }
  /** Parses the options into `out` (reset first); stops at the first malformed option as Linux does. */
  parseOptions(out: TcpOptions): void {
    parseTcpOptions(this.buf, this.optionsOffset, this.optionsLength, out);
  }
  verifyChecksum(src: number, dst: number): boolean {
    return checksumValid(
      this.buf,
      this.off,
      this.len,
      pseudoHeaderSum(src, dst, IPPROTO_TCP, this.len),
    );
  }
}

/**
 * Writes a TCP header whose options are already at off+20 (`optionsLength`
 * bytes, a multiple of 4) and payload after them; then the checksum.
 */
export function emitTcpHeader(
  buf: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  optionsLength: number,
  payloadLength: number,
  src: number,
  dst: number,
  checksum: 'full' | 'partial' | 'none',
): number {
  const headerLen = TCP_HEADER_LEN + optionsLength;
  set16(buf, off, srcPort);
  set16(buf, off + 2, dstPort);
  set32(buf, off + 4, seq);
  set32(buf, off + 8, ack);
  buf[off + 12] = (headerLen / 4) << 4;
  buf[off + 13] = flags;
  set16(buf, off + 14, window);
  set16(buf, off + 16, 0);
  set16(buf, off + 18, 0);
  const len = headerLen + payloadLength;
  if (checksum === 'full')
    set16(
      buf,
      off + 16,
      internetChecksum(buf, off, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len)),
    );
  else if (checksum === 'partial')
    set16(buf, off + 16, foldSum(pseudoHeaderSum(src, dst, IPPROTO_TCP, len)));
  return headerLen;
}

/** A plain description of a segment, for tests and tools (the stack uses views). */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  options: TcpOptions;
  payload: Uint8Array;
}

export function parseTcp(view: TcpView, options: TcpOptions): TcpRepr {
  view.parseOptions(options);
  return {
    srcPort: view.srcPort,
    dstPort: view.dstPort,
    seq: view.seq,
    ack: view.ack,
    flags: view.flags,
    window: view.window,
    options,
    payload: view.buf.slice(view.payloadOffset, view.off + view.len),
  };
}

export function emitTcp(
  repr: TcpRepr,
  buf: Uint8Array,
  off: number,
  src: number,
  dst: number,
): number {
  const optLen = emitTcpOptions(buf, off + TCP_HEADER_LEN, repr.options);
  buf.set(repr.payload, off + TCP_HEADER_LEN + optLen);
  emitTcpHeader(
    buf,
    off,
    repr.srcPort,
    repr.dstPort,
    repr.seq,
    repr.ack,
    repr.flags,
    repr.window,
    optLen,
    repr.payload.byteLength,
    src,
    dst,
    'full',
  );
  return TCP_HEADER_LEN + optLen + repr.payload.byteLength;
}

export function describeFlags(flags: number): string {
  const names: string[] = [];
  if (flags & TCP_SYN) names.push('SYN');
  if (flags & TCP_FIN) names.push('FIN');
  if (flags & TCP_RST) names.push('RST');
  if (flags & TCP_PSH) names.push('PSH');
  if (flags & TCP_ACK) names.push('ACK');
  if (flags & TCP_URG) names.push('URG');
  return names.join('|') || '-';
}
