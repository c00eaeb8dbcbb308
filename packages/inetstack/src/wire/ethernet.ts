import { macEquals } from '../util/addr.js';
import { EMPTY, get16, set16 } from './bytes.js';

export const ETH_HEADER_LEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;

/**
 * A view of an Ethernet II frame. `wrap` is the single length check; once it
 * returns true no accessor reads outside the frame.
 */
export class EthernetView {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;

  wrap(buf: Uint8Array, off = 0, len = buf.byteLength - off): boolean {
    if (off < 0 || len < ETH_HEADER_LEN || off + len > buf.byteLength) return false;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return true;
  }

  dstIs(mac: Uint8Array): boolean {
    return macEquals(this.buf, this.off, mac);
  }
  srcIs(mac: Uint8Array): boolean {
    return macEquals(this.buf, this.off + 6, mac);
  }
  /** Multicast or broadcast destination. */
  get dstIsGroup(): boolean {
    return (this.buf[this.off]! & 1) === 1;
  }
  get dst(): Uint8Array {
    return this.buf.slice(this.off, this.off + 6);
  }
  get src(): Uint8Array {
    return this.buf.slice(this.off + 6, this.off + 12);
  }
  get etherType(): number {
    return get16(this.buf, this.off + 12);
  }
  get payloadOffset(): number {
    return this.off + ETH_HEADER_LEN;
  }
  get payloadLength(): number {
    return this.len - ETH_HEADER_LEN;
  }
}

/** Writes an Ethernet header at `off`; returns its length. */
export function emitEthernetHeader(
  buf: Uint8Array,
  off: number,
  dst: Uint8Array,
  src: Uint8Array,
  etherType: number,
): number {
  buf.set(dst.subarray(0, 6), off);
  buf.set(src.subarray(0, 6), off + 6);
  set16(buf, off + 12, etherType);
  return ETH_HEADER_LEN;
}

export interface EthernetRepr {
  dst: Uint8Array;
  src: Uint8Array;
  etherType: number;
}

export function parseEthernet(view: EthernetView): EthernetRepr {
  return { dst: view.dst, src: view.src, etherType: view.etherType };
}

export function emitEthernet(repr: EthernetRepr, buf: Uint8Array, off = 0): number {
  return emitEthernetHeader(buf, off, repr.dst, repr.src, repr.etherType);
}
