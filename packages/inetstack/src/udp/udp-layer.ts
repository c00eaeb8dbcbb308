import { ERRNO } from '@demi/core';
import type { TxDone } from '../arp/arp-layer.js';
import { L4_OFFSET } from '../link/link-layer.js';
import type { InetStack } from '../stack/inet-stack.js';
import { FrameQueue } from '../util/frame-queue.js';
import { randomBelow } from '../util/random.js';
import { IPPROTO_UDP, IPV4_HEADER_LEN } from '../wire/ipv4.js';
import { emitUdpHeader, UDP_HEADER_LEN, UdpView } from '../wire/udp.js';

export const EPHEMERAL_FIRST = 49152;
export const EPHEMERAL_LAST = 65535;

export interface Datagram {
  data: Uint8Array;
  srcIp: number;
  srcPort: number;
}

/** A bound UDP port: received datagrams wait here for the application. */
export class UdpEndpoint {
  readonly queue: FrameQueue<Datagram>;
  /** Called when a datagram was queued. */
  onReadable: (() => void) | undefined;
  dropped = 0;
  closed = false;

  constructor(
    readonly port: number,
    queueLimit: number,
  ) {
    this.queue = new FrameQueue(queueLimit, 16);
  }
}

/** UDP (RFC 768): ports, checksums, and datagrams in both directions. */
export class UdpLayer {
  readonly #view = new UdpView();
  readonly #ports = new Map<number, UdpEndpoint>();

  constructor(readonly stack: InetStack) {}

  /** Binds `port` (0 picks an ephemeral one); an errno when it is taken or none is free. */
  bind(port: number): UdpEndpoint | number {
    if (port === 0) {
      const p = this.#ephemeral();
      if (p === undefined) return ERRNO.EADDRINUSE;
      port = p;
    } else if (this.#ports.has(port)) return ERRNO.EADDRINUSE;
    const ep = new UdpEndpoint(port, this.stack.config.udp.queueLimit);
    this.#ports.set(port, ep);
    return ep;
  }

  unbind(ep: UdpEndpoint): void {
    ep.closed = true;
    ep.onReadable = undefined;
    ep.queue.clear();
    if (this.#ports.get(ep.port) === ep) this.#ports.delete(ep.port);
  }

  isBound(port: number): boolean {
    return this.#ports.has(port);
  }

  #ephemeral(): number | undefined {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    const start = randomBelow(this.stack.random, span);
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_FIRST + ((start + i) % span);
      if (!this.#ports.has(p)) return p;
    }
    return undefined;
  }

  input(
    src: number,
    dst: number,
    buf: Uint8Array,
    off: number,
    len: number,
    ipOff: number,
    broadcast: boolean,
    /** The device may have verified the checksum (false for reassembled datagrams). */
    offloadable = true,
  ): void {
    const v = this.#view;
    const stack = this.stack;
    const s = stack.stats;
    if (!v.wrap(buf, off, len)) {
      s.rxMalformed++;
      return;
    }
    if (
      !(offloadable && (stack.device.offloads.rxChecksum || stack.config.checksumOffload.udp)) &&
      !v.verifyChecksum(src, dst)
    ) {
      s.rxBadChecksum++;
      return;
    }
    s.udpIn++;
    const ep = this.#ports.get(v.dstPort);
    if (ep === undefined) {
      s.udpNoPort++;
      if (!broadcast && ipOff >= 0) stack.icmp.portUnreachable(src, buf, ipOff, off + len - ipOff);
      return;
    }
    const data = buf.slice(v.payloadOffset, v.payloadOffset + v.payloadLength);
    if (!ep.queue.push({ data, srcIp: src, srcPort: v.srcPort })) {
      ep.dropped++;
      s.udpQueueDrops++;
      return;
    }
    ep.onReadable?.();
  }

  /**
   * Sends one datagram made of `segments`. Returns 0 when sent, TX_PENDING when
   * it waits for ARP (then `done` gets the outcome), or an errno.
   */
  send(
    ep: UdpEndpoint,
    dst: number,
    dstPort: number,
    segments: readonly Uint8Array[],
    done?: TxDone,
  ): number {
    const stack = this.stack;
    let length = 0;
    for (const s of segments) length += s.byteLength;
    if (length > 65535 - IPV4_HEADER_LEN - UDP_HEADER_LEN) return ERRNO.EMSGSIZE;
    const mode = stack.device.offloads.txChecksum
      ? 'partial'
      : stack.config.checksumOffload.udp
        ? 'none'
        : 'full';
    const src = stack.config.ipv4;
    stack.stats.udpOut++;
    if (UDP_HEADER_LEN + length + IPV4_HEADER_LEN <= stack.config.mtu) {
      const b = stack.link.tx;
      let at = L4_OFFSET + UDP_HEADER_LEN;
      for (const s of segments) {
        b.set(s, at);
        at += s.byteLength;
      }
      emitUdpHeader(b, L4_OFFSET, ep.port, dstPort, length, src, dst, mode);
      return stack.ipv4.output(dst, IPPROTO_UDP, UDP_HEADER_LEN + length, done);
    }
    // Larger than the MTU: build the whole datagram, then fragment. The device
    // cannot finish a checksum across fragments, so compute it here.
    const msg = new Uint8Array(UDP_HEADER_LEN + length);
    let at = UDP_HEADER_LEN;
    for (const s of segments) {
      msg.set(s, at);
      at += s.byteLength;
    }
    emitUdpHeader(msg, 0, ep.port, dstPort, length, src, dst, mode === 'none' ? 'none' : 'full');
    return stack.ipv4.outputLarge(dst, IPPROTO_UDP, msg, done);
  }

  close(): void {
    for (const ep of this.#ports.values()) this.unbind(ep);
  }
}
