import { ERRNO } from '@demi/core';
import { TX_PENDING, type TxDone } from '../arp/arp-layer.js';
import { IP_OFFSET, L4_OFFSET, placeParts } from '../link/link-layer.js';
import type { InetStack } from '../stack/inet-stack.js';
import { IPV4_BROADCAST, isMartian, MAC_BROADCAST, prefixMask } from '../util/addr.js';
import {
  emitIpv4Header,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  IPV4_HEADER_LEN,
  Ipv4View,
} from '../wire/ipv4.js';
import { Reassembler } from './reassembly.js';

/**
 * IPv4 (RFC 791): verifies and demultiplexes received packets (reassembling
 * fragments), and sends packets whose transport part is already in the link's
 * transmit buffer, resolving the next hop and fragmenting when needed.
 */
export class Ipv4Layer {
  readonly #view = new Ipv4View();
  readonly reassembly: Reassembler;
  #ident: number;
  readonly #mask: number;
  readonly #subnetBroadcast: number;
  /** Source address of the packet being processed, -1 between packets (see `#replyMac`). */
  #rxSource = -1;

  constructor(readonly stack: InetStack) {
    this.reassembly = new Reassembler(stack);
    this.#ident = stack.random.nextU32() & 0xffff;
    const c = stack.config;
    this.#mask = prefixMask(c.prefixLength);
    this.#subnetBroadcast =
      c.prefixLength >= 31 ? IPV4_BROADCAST : ((c.ipv4 & this.#mask) | ~this.#mask) >>> 0;
  }

  input(buf: Uint8Array, off: number, len: number): void {
    const ip = this.#view;
    const stack = this.stack;
    const s = stack.stats;
    if (!ip.wrap(buf, off, len)) {
      s.rxMalformed++;
      return;
    }
    if (!stack.device.offloads.rxChecksum && !ip.verifyChecksum()) {
      s.rxBadChecksum++;
      return;
    }
    const dst = ip.dst;
    const broadcast = dst === IPV4_BROADCAST || dst === this.#subnetBroadcast;
    if (dst !== stack.config.ipv4 && !broadcast) {
      s.rxNotForUs++;
      return;
    }
    if (isMartian(ip.src) || ip.src === this.#subnetBroadcast) {
      s.rxMartian++;
      return;
    }
    s.ipIn++;
    this.#rxSource = ip.src;
    try {
      this.#dispatch(ip, buf, dst, broadcast);
    } finally {
      this.#rxSource = -1;
    }
  }

  #dispatch(ip: Ipv4View, buf: Uint8Array, dst: number, broadcast: boolean): void {
    if (ip.isFragment) {
      const whole = this.reassembly.add(ip);
      if (whole !== undefined)
        this.#deliver(
          whole.protocol,
          whole.src,
          whole.dst,
          whole.buf,
          0,
          whole.length,
          -1,
          broadcast,
        );
      return;
    }
    this.#deliver(
      ip.protocol,
      ip.src,
      dst,
      buf,
      ip.payloadOffset,
      ip.payloadLength,
      ip.off,
      broadcast,
    );
  }

  #deliver(
    protocol: number,
    src: number,
    dst: number,
    buf: Uint8Array,
    off: number,
    len: number,
    /** Where the IP header starts, -1 for a reassembled datagram. */
    ipOff: number,
    broadcast: boolean,
  ): void {
    const stack = this.stack;
    // A device verifies the checksums of single frames only: a reassembled
    // datagram's transport checksum is always ours to check.
    const verified = ipOff >= 0;
    if (protocol === IPPROTO_TCP) {
      if (!broadcast) stack.tcp.input(src, dst, buf, off, len, verified);
    } else if (protocol === IPPROTO_UDP)
      stack.udp.input(src, dst, buf, off, len, ipOff, broadcast, verified);
    else if (protocol === IPPROTO_ICMP) stack.icmp.input(src, dst, buf, off, len, broadcast);
    else stack.stats.rxUnknownProtocol++;
  }

  /**
   * The address a packet for `dst` is handed to on the link: `dst` itself when
   * on our subnet, else the gateway; undefined when there is no route (no
   * gateway, or an address no host may have): then nothing is resolved or sent.
   */
  nextHop(dst: number): number | undefined {
    const c = this.stack.config;
    if (isMartian(dst)) return undefined;
    if (((dst ^ c.ipv4) & this.#mask) === 0) return dst;
    return c.gateway;
  }

  /**
   * While a received packet is processed, a reply to its sender goes to the
   * frame's source MAC without resolving it first: a spoofed flood then costs
   * no ARP traffic or state (Linux confirms neighbours from traffic similarly).
   */
  #replyMac(hop: number, hint: Uint8Array | undefined): Uint8Array | undefined {
    if (hint !== undefined) return hint;
    const mac = this.stack.link.rxSourceMac;
    if (mac === undefined || this.#rxSource < 0 || this.nextHop(this.#rxSource) !== hop)
      return undefined;
    return mac;
  }

  isBroadcast(dst: number): boolean {
    return dst === IPV4_BROADCAST || dst === this.#subnetBroadcast;
  }

  /**
   * Sends the `l4Length` bytes at link.tx[L4_OFFSET...] to `dst`. Returns 0 when
   * sent, TX_PENDING when waiting for ARP (then `done` gets the outcome), or an errno.
   */
  output(
    dst: number,
    protocol: number,
    l4Length: number,
    done?: TxDone,
    /** The peer's MAC as seen in its frames, used if ARP has no entry (a passive open's peer). */
    macHint?: Uint8Array,
    /** The last bytes of the packet, when they are not in link.tx (see LinkLayer.transmit). */
    body?: Uint8Array,
    rest?: Uint8Array,
  ): number {
    const stack = this.stack;
    const b = stack.link.tx;
    const df = protocol === IPPROTO_TCP ? IPV4_FLAG_DF : 0;
    emitIpv4Header(
      b,
      IP_OFFSET,
      stack.config.ipv4,
      dst,
      protocol,
      l4Length,
      stack.config.ip.ttl,
      this.#nextIdent(),
      df,
      !stack.device.offloads.txChecksum,
    );
    return this.#route(dst, b, L4_OFFSET + l4Length, done, macHint, body, rest);
  }

  /**
   * Sends a transport payload that may exceed the MTU, fragmenting it. `l4` is
   * the whole transport message (header included, checksum already set).
   */
  outputLarge(dst: number, protocol: number, l4: Uint8Array, done?: TxDone): number {
    const stack = this.stack;
    const room = stack.config.mtu - IPV4_HEADER_LEN;
    const b = stack.link.tx;
    if (l4.byteLength <= room) {
      b.set(l4, L4_OFFSET);
      return this.output(dst, protocol, l4.byteLength, done);
    }
    if (l4.byteLength > 65535 - IPV4_HEADER_LEN) return ERRNO.EMSGSIZE;
    const step = room & ~7;
    const ident = this.#nextIdent();
    let result = 0;
    let pending = 0;
    let firstError = 0;
    const fragmentDone: TxDone | undefined =
      done === undefined
        ? undefined
        : (errno) => {
            if (errno !== 0 && firstError === 0) firstError = errno;
            if (--pending === 0) done(firstError);
          };
    for (let at = 0; at < l4.byteLength; at += step) {
      const n = Math.min(step, l4.byteLength - at);
      const more = at + n < l4.byteLength ? IPV4_FLAG_MF : 0;
      b.set(l4.subarray(at, at + n), L4_OFFSET);
      emitIpv4Header(
        b,
        IP_OFFSET,
        stack.config.ipv4,
        dst,
        protocol,
        n,
        stack.config.ip.ttl,
        ident,
        more | (at / 8),
        !stack.device.offloads.txChecksum,
      );
      const r = this.#route(dst, b, L4_OFFSET + n, fragmentDone);
      if (r === TX_PENDING) pending++;
      else if (r !== 0) return r;
      result = r === TX_PENDING ? TX_PENDING : result;
    }
    stack.stats.fragmentsSent++;
    return result;
  }

  #route(
    dst: number,
    b: Uint8Array,
    length: number,
    done: TxDone | undefined,
    macHint?: Uint8Array,
    body?: Uint8Array,
    rest?: Uint8Array,
  ): number {
    const stack = this.stack;
    const link = stack.link;
    stack.stats.ipOut++;
    if (dst === stack.config.ipv4)
      return link.transmitIpv4(b, length, stack.config.mac, body, rest);
    if (this.isBroadcast(dst)) return link.transmitIpv4(b, length, MAC_BROADCAST, body, rest);
    const hop = this.nextHop(dst);
    if (hop === undefined) {
      stack.stats.ipNoRoute++;
      return ERRNO.EHOSTUNREACH;
    }
    const mac = stack.arp.lookup(hop);
    if (mac !== undefined) return link.transmitIpv4(b, length, mac, body, rest);
    const reply = this.#replyMac(hop, macHint);
    if (reply !== undefined) {
      stack.stats.txToFrameSource++;
      return link.transmitIpv4(b, length, reply, body, rest);
    }
    if (body !== undefined) placeParts(b, length, body, rest);
    return stack.arp.enqueue(hop, b.slice(0, length), done);
  }

  #nextIdent(): number {
    this.#ident = (this.#ident + 1) & 0xffff;
    return this.#ident;
  }
}
