import { EMPTY, get16, get32, set16, set32 } from './bytes.js';

export const ARP_LEN = 28;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;

/** A view of an ARP packet; only Ethernet/IPv4 ARP is meaningful to the stack. */
export class ArpView {
  buf: Uint8Array = EMPTY;
  off = 0;

  wrap(buf: Uint8Array, off: number, len: number): boolean {
    if (off < 0 || len < ARP_LEN || off + len > buf.byteLength) return false;
    this.buf = buf;
    this.off = off;
    return true;
  }

  /** Hardware Ethernet, protocol IPv4, address lengths 6 and 4. */
  get isEthernetIpv4(): boolean {
    const b = this.buf;
    const o = this.off;
    return get16(b, o) === 1 && get16(b, o + 2) === 0x0800 && b[o + 4] === 6 && b[o + 5] === 4;
  }
  get operation(): number {
    return get16(this.buf, this.off + 6);
  }
  /** Offset of the sender hardware address in `buf`. */
  get senderMacOffset(): number {
    return this.off + 8;
  }
  get senderMac(): Uint8Array {
    return this.buf.slice(this.off + 8, this.off + 14);
  }
  get senderIp(): number {
    return get32(this.buf, this.off + 14);
  }
  get targetMac(): Uint8Array {
    return this.buf.slice(this.off + 18, this.off + 24);
  }
  get targetIp(): number {
    return get32(this.buf, this.off + 24);
  }
}

export interface ArpRepr {
  operation: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

export function parseArp(view: ArpView): ArpRepr | undefined {
  if (!view.isEthernetIpv4) return undefined;
  return {
    operation: view.operation,
    senderMac: view.senderMac,
    senderIp: view.senderIp,
    targetMac: view.targetMac,
    targetIp: view.targetIp,
  };
}

export function emitArp(repr: ArpRepr, buf: Uint8Array, off = 0): number {
  set16(buf, off, 1);
  set16(buf, off + 2, 0x0800);
  buf[off + 4] = 6;
  buf[off + 5] = 4;
  set16(buf, off + 6, repr.operation);
  buf.set(repr.senderMac.subarray(0, 6), off + 8);
  set32(buf, off + 14, repr.senderIp);
  buf.set(repr.targetMac.subarray(0, 6), off + 18);
  set32(buf, off + 24, repr.targetIp);
  return ARP_LEN;
}
