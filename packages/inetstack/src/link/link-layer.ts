import { ERRNO } from '@demi/core';
import { partsLength } from '../device/frame-parts.js';
import type { InetStack } from '../stack/inet-stack.js';
import { MAC_BROADCAST, macEquals } from '../util/addr.js';
import { FrameQueue } from '../util/frame-queue.js';
import {
  ETH_HEADER_LEN,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  EthernetView,
  emitEthernetHeader,
} from '../wire/ethernet.js';

const EMPTY = new Uint8Array(0);

/** Copies a frame's tail given in parts to its place in buf, so that buf[0, length) is the whole frame. */
export function placeParts(
  buf: Uint8Array,
  length: number,
  body: Uint8Array,
  rest: Uint8Array | undefined,
): void {
  const at = length - partsLength(EMPTY, body, rest);
  buf.set(body, at);
  if (rest !== undefined) buf.set(rest, at + body.byteLength);
}

/** Where the IPv4 header and the transport header start in the transmit buffer. */
export const IP_OFFSET = ETH_HEADER_LEN;
export const L4_OFFSET = ETH_HEADER_LEN + 20;

/**
 * Ethernet: accepts frames for our MAC and broadcast, hands ARP and IPv4 up, and
 * owns the one transmit buffer every layer writes its packets into.
 */
export class LinkLayer {
  /** Scratch for building one outgoing frame; the device copies it on send. */
  readonly tx: Uint8Array;
  readonly #eth = new EthernetView();
  /** Views of `tx` by frame length, so sending does not allocate a view per frame. */
  readonly #views: Array<Uint8Array | undefined> = [];
  /** Only MTU-sized frames get cached views; segmentation-offload frames vary too much. */
  readonly #viewsUpTo: number;
  /** Frames we sent to our own address, handed back in at the next poll. */
  readonly #loopback = new FrameQueue<Uint8Array>(1024);

  /** The source MAC of the IPv4 frame being processed (a view valid during its input), for replies. */
  rxSourceMac: Uint8Array | undefined;

  constructor(readonly stack: InetStack) {
    this.tx = new Uint8Array(Math.max(stack.config.mtu, stack.config.tso) + ETH_HEADER_LEN);
    this.#viewsUpTo = stack.config.mtu + ETH_HEADER_LEN;
  }

  input(frame: Uint8Array): void {
    const eth = this.#eth;
    const s = this.stack.stats;
    if (!eth.wrap(frame)) {
      s.rxMalformed++;
      return;
    }
    if (!eth.dstIs(this.stack.config.mac) && !eth.dstIs(MAC_BROADCAST)) {
      s.rxNotForUs++;
      return;
    }
    const type = eth.etherType;
    if (type === ETHERTYPE_IPV4) {
      this.rxSourceMac = frame.subarray(6, 12);
      try {
        this.stack.ipv4.input(frame, eth.payloadOffset, eth.payloadLength);
      } finally {
        this.rxSourceMac = undefined;
      }
    } else if (type === ETHERTYPE_ARP)
      this.stack.arp.input(frame, eth.payloadOffset, eth.payloadLength);
    else s.rxUnknownProtocol++;
  }

  /** Hands looped-back frames to `input`; returns how many. */
  drainLoopback(): number {
    let n = 0;
    for (let f = this.#loopback.shift(); f !== undefined && n < 256; f = this.#loopback.shift()) {
      n++;
      this.input(f);
    }
    return n;
  }

  /**
   * Writes the Ethernet header into buf[0..14) and sends a frame of `length`
   * bytes: buf[0, length), or, when `body` is given, buf[0, length - body -
   * rest) followed by `body` and `rest` (a payload left where it lies, such as
   * a send buffer). The device copies such parts straight into its queue when
   * it can; otherwise they are placed in buf first.
   */
  transmit(
    buf: Uint8Array,
    length: number,
    dstMac: Uint8Array,
    etherType: number,
    body?: Uint8Array,
    rest?: Uint8Array,
  ): number {
    emitEthernetHeader(buf, 0, dstMac, this.stack.config.mac, etherType);
    const device = this.stack.device;
    const local = macEquals(dstMac, 0, this.stack.config.mac);
    if (body !== undefined && (local || device.sendParts === undefined)) {
      placeParts(buf, length, body, rest);
      body = rest = undefined;
    }
    if (local) {
      if (!this.#loopback.push(buf.slice(0, length))) return ERRNO.ENOBUFS;
      return 0;
    }
    const frameLength = body === undefined ? length : length - partsLength(EMPTY, body, rest);
    let frame: Uint8Array;
    if (buf === this.tx && frameLength <= this.#viewsUpTo) {
      frame =
        this.#views[frameLength] ?? (this.#views[frameLength] = this.tx.subarray(0, frameLength));
    } else if (buf === this.tx) {
      frame = this.tx.subarray(0, frameLength);
    } else {
      frame = buf.byteLength === frameLength ? buf : buf.subarray(0, frameLength);
    }
    this.stack.stats.txFrames++;
    if (body === undefined) {
      if (device.send(frame)) return 0;
      // A full queue: push the batch out and try once more, as a driver would.
      device.flush();
      if (device.send(frame)) return 0;
    } else {
      this.stack.stats.txFramesInParts++;
      if (device.sendParts!(frame, body, rest)) return 0;
      device.flush();
      if (device.sendParts!(frame, body, rest)) return 0;
    }
    this.stack.stats.txDropped++;
    return ERRNO.ENOBUFS;
  }

  /** Sends an IPv4 packet held at buf[14, length) (its tail in `body` and `rest` when given) to `dstMac`. */
  transmitIpv4(
    buf: Uint8Array,
    length: number,
    dstMac: Uint8Array,
    body?: Uint8Array,
    rest?: Uint8Array,
  ): number {
    return this.transmit(buf, length, dstMac, ETHERTYPE_IPV4, body, rest);
  }

  transmitArp(buf: Uint8Array, length: number, dstMac: Uint8Array): number {
    return this.transmit(buf, length, dstMac, ETHERTYPE_ARP);
  }
}
