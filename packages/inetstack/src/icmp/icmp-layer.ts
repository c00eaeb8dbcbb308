import { L4_OFFSET } from '../link/link-layer.js';
import type { InetStack } from '../stack/inet-stack.js';
import { set16 } from '../wire/bytes.js';
import { internetChecksum } from '../wire/checksum.js';
import {
  ICMP_CODE_PORT_UNREACHABLE,
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_LEN,
  IcmpView,
} from '../wire/icmpv4.js';
import { IPPROTO_ICMP, IPV4_HEADER_LEN } from '../wire/ipv4.js';

/** Error messages sent per second at most (a token bucket), as Linux rate-limits ICMP errors. */
const ERRORS_PER_SECOND = 1000;
const ERROR_BURST = 50;
/**
 * Per destination, as Linux's icmp_ratelimit: one error a second with a burst of
 * six, so one host scanning closed ports cannot take the whole global budget.
 */
const PER_DEST_INTERVAL_MS = 1000;
const PER_DEST_BURST = 6;
/** Destinations remembered at most; the least recently used is forgotten first. */
const PER_DEST_MAX = 4096;
/** Bytes of the offending datagram quoted in an error (its header plus the start of its payload). */
const QUOTE_BYTES = 64;

/**
 * ICMPv4 (RFC 792): answers echo requests (so `ping` works) and reports UDP
 * datagrams to closed ports. Broadcast pings are ignored, as Linux does by default.
 */
export class IcmpLayer {
  readonly #view = new IcmpView();
  #tokens = ERROR_BURST;
  #tokensAt = 0;
  /** Destination -> [tokens, time of last refill], in least recently used order. */
  readonly #perDest = new Map<number, [number, number]>();

  constructor(readonly stack: InetStack) {}

  input(
    src: number,
    _dst: number,
    buf: Uint8Array,
    off: number,
    len: number,
    broadcast: boolean,
  ): void {
    const v = this.#view;
    const s = this.stack.stats;
    if (!v.wrap(buf, off, len) || !v.verifyChecksum()) {
      s.rxMalformed++;
      return;
    }
    s.icmpIn++;
    if (v.type === ICMP_ECHO_REQUEST && v.code === 0 && !broadcast)
      this.#echoReply(src, buf, off, len);
  }

  #echoReply(dst: number, buf: Uint8Array, off: number, len: number): void {
    const stack = this.stack;
    // The reply is the request with its type changed: copy, retype, re-checksum.
    if (len + IPV4_HEADER_LEN <= stack.config.mtu) {
      const b = stack.link.tx;
      b.set(buf.subarray(off, off + len), L4_OFFSET);
      this.#finish(b, L4_OFFSET, len, ICMP_ECHO_REPLY);
      stack.stats.icmpOut++;
      stack.ipv4.output(dst, IPPROTO_ICMP, len);
      return;
    }
    const msg = buf.slice(off, off + len);
    this.#finish(msg, 0, len, ICMP_ECHO_REPLY);
    stack.stats.icmpOut++;
    stack.ipv4.outputLarge(dst, IPPROTO_ICMP, msg);
  }

  #finish(b: Uint8Array, at: number, len: number, type: number): void {
    b[at] = type;
    b[at + 1] = 0;
    set16(b, at + 2, 0);
    set16(b, at + 2, internetChecksum(b, at, len));
  }

  /** Reports that the datagram whose IP header starts at buf[ipOff] reached a closed port. */
  portUnreachable(dst: number, buf: Uint8Array, ipOff: number, ipLen: number): void {
    if (!this.#allowError(dst)) return;
    const stack = this.stack;
    const quote = Math.min(ipLen, QUOTE_BYTES);
    const b = stack.link.tx;
    const at = L4_OFFSET;
    b[at] = ICMP_DEST_UNREACHABLE;
    b[at + 1] = ICMP_CODE_PORT_UNREACHABLE;
    b.fill(0, at + 2, at + ICMP_HEADER_LEN);
    b.set(buf.subarray(ipOff, ipOff + quote), at + ICMP_HEADER_LEN);
    const len = ICMP_HEADER_LEN + quote;
    set16(b, at + 2, internetChecksum(b, at, len));
    stack.stats.icmpOut++;
    stack.ipv4.output(dst, IPPROTO_ICMP, len);
  }

  #allowError(dst: number): boolean {
    const now = this.stack.now;
    const peer = this.#perDest.get(dst);
    let tokens = PER_DEST_BURST;
    if (peer !== undefined) {
      this.#perDest.delete(dst);
      tokens = Math.min(PER_DEST_BURST, peer[0] + (now - peer[1]) / PER_DEST_INTERVAL_MS);
    } else if (this.#perDest.size >= PER_DEST_MAX) {
      this.#perDest.delete(this.#perDest.keys().next().value!);
    }
    this.#perDest.set(dst, [tokens, now]);
    if (tokens < 1) {
      this.stack.stats.icmpRateLimited++;
      return false;
    }
    this.#tokens = Math.min(
      ERROR_BURST,
      this.#tokens + ((now - this.#tokensAt) * ERRORS_PER_SECOND) / 1000,
    );
    this.#tokensAt = now;
    if (this.#tokens < 1) {
      this.stack.stats.icmpRateLimited++;
      return false;
    }
    this.#tokens -= 1;
    this.#perDest.get(dst)![0] = tokens - 1;
    return true;
  }
}
