import type { RandomSource } from '../util/random.js';
import { SipHash } from '../util/siphash.js';

/**
 * SYN cookies (RFC 4987 3.6), laid out as Linux lays them out: when a
 * listener's SYN queue is full, the SYN-ACK's sequence number carries what the
 * connection needs, so a flood of SYNs costs no memory. The ISN is
 *
 *   H1(tuple) + peer ISN + (count << 24) + ((H2(tuple, count) + mssIndex) mod 2^24)
 *
 * with `count` a one-minute clock: the returning ACK is checked by recomputing
 * both keyed hashes, and is valid for two minutes. MSS is one of four values.
 * Window scale and SACK-permitted travel in the low six bits of our timestamp
 * (echoed back by the peer), so they survive only when the peer uses timestamps.
 */
export const COOKIE_MSS = [536, 1300, 1440, 1460] as const;
const COUNT_MS = 60_000;
/** Minutes a cookie stays valid (Linux's MAX_SYNCOOKIE_AGE). */
const MAX_AGE = 2;
const LOW24 = 0xffffff;
/** Timestamp option bits: window shift (15: none) and SACK-permitted. */
const TS_WSCALE_NONE = 0xf;
const TS_SACK = 0x10;
const TS_BITS = 0x3f;

export interface CookieOptions {
  mss: number;
  /** The peer's window shift, -1 when it sent none. */
  windowScale: number;
  sackPermitted: boolean;
}

export class SynCookies {
  readonly #key1: SipHash;
  readonly #key2: SipHash;
  readonly #key3: SipHash;
  readonly #tuple = Buffer.alloc(13);

  constructor(random: RandomSource) {
    const key = () => {
      const k = Buffer.alloc(16);
      for (let i = 0; i < 4; i++) k.writeUInt32BE(random.nextU32(), 4 * i);
      return new SipHash(k);
    };
    this.#key1 = key();
    this.#key2 = key();
    this.#key3 = key();
  }

  /** The timestamp offset of a connection made from a cookie (its SYN-ACK's and its own). */
  tsOffset(localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    return this.#hash(this.#key3, localIp, localPort, remoteIp, remotePort, 0);
  }

  /** Our ISN for a SYN (`peerIsn` its sequence number) whose MSS rounds down to the table. */
  encode(
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
    peerIsn: number,
    peerMss: number,
    nowMs: number,
  ): number {
    let index = 0;
    for (let i = COOKIE_MSS.length - 1; i >= 0; i--) {
      if (COOKIE_MSS[i]! <= peerMss) {
        index = i;
        break;
      }
    }
    const count = Math.floor(nowMs / COUNT_MS) & 0xff;
    const h1 = this.#hash(this.#key1, localIp, localPort, remoteIp, remotePort, 0);
    const h2 = this.#hash(this.#key2, localIp, localPort, remoteIp, remotePort, count);
    return (h1 + peerIsn + count * 2 ** 24 + ((h2 + index) & LOW24)) >>> 0;
  }

  /** The MSS a returning ACK's cookie (`ack - 1`, peer ISN `seq - 1`) carries, or 0 if it is not ours or too old. */
  check(
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
    peerIsn: number,
    cookie: number,
    nowMs: number,
  ): number {
    const h1 = this.#hash(this.#key1, localIp, localPort, remoteIp, remotePort, 0);
    const rest = (cookie - h1 - peerIsn) >>> 0;
    const count = rest >>> 24;
    const age = ((Math.floor(nowMs / COUNT_MS) & 0xff) - count) & 0xff;
    if (age >= MAX_AGE) return 0;
    const h2 = this.#hash(this.#key2, localIp, localPort, remoteIp, remotePort, count);
    const index = ((rest & LOW24) - h2) & LOW24;
    return index < COOKIE_MSS.length ? COOKIE_MSS[index]! : 0;
  }

  #hash(
    key: SipHash,
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
    count: number,
  ): number {
    const t = this.#tuple;
    t.writeUInt32BE(localIp >>> 0, 0);
    t.writeUInt16BE(localPort, 4);
    t.writeUInt32BE(remoteIp >>> 0, 6);
    t.writeUInt16BE(remotePort, 10);
    t[12] = count;
    return key.hash(t);
  }
}

/** Our SYN-ACK timestamp with the options in its low bits, never ahead of `tsNow`. */
export function cookieTimestamp(
  tsNow: number,
  windowScale: number,
  sackPermitted: boolean,
): number {
  const bits = (windowScale >= 0 ? windowScale : TS_WSCALE_NONE) | (sackPermitted ? TS_SACK : 0);
  let ts = ((tsNow & ~TS_BITS) | bits) >>> 0;
  if (((ts - tsNow) | 0) > 0) ts = (ts - (TS_BITS + 1)) >>> 0;
  return ts;
}

/** The options an echoed cookie timestamp carries. */
export function cookieTimestampOptions(tsEcr: number): Omit<CookieOptions, 'mss'> {
  const ws = tsEcr & TS_WSCALE_NONE;
  return { windowScale: ws === TS_WSCALE_NONE ? -1 : ws, sackPermitted: (tsEcr & TS_SACK) !== 0 };
}
