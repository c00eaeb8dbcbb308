import type { InetStack } from '../stack/inet-stack.js';
import { RangeSet } from '../util/range-set.js';
import { Timer } from '../util/timers.js';
import type { Ipv4View } from '../wire/ipv4.js';

/** Largest IPv4 payload: 65535 minus a minimal header. */
const MAX_PAYLOAD = 65535 - 20;

class Datagram {
  buf = new Uint8Array(0);
  readonly have = new RangeSet(64);
  /** Payload length, known once the last fragment (MF clear) arrived. */
  total = -1;
  readonly timer: Timer;
  constructor(
    readonly key: string,
    readonly src: number,
    readonly dst: number,
    readonly protocol: number,
    fire: (now: number) => void,
  ) {
    this.timer = new Timer(fire);
  }
}

/** A reassembled datagram's payload. */
export interface Reassembled {
  buf: Uint8Array;
  length: number;
  src: number;
  dst: number;
  protocol: number;
}

/** What a datagram in progress costs besides its buffer (map entry, timer, ranges), for the memory bound. */
const DATAGRAM_COST = 256;
/** Smallest buffer, so a trickle of small fragments does not reallocate each time. */
const MIN_BUFFER = 2048;

/**
 * IPv4 fragment reassembly (RFC 791) bounded by memory, as Linux bounds it with
 * ipfrag_high_thresh: buffers plus a fixed cost per datagram stay under
 * `reassemblyMaxBytes`, and when a fragment needs room the oldest datagrams in
 * progress are evicted (down to 3/4 of the bound, so a flood does not evict on
 * every fragment). A legitimate datagram completes within a round trip while
 * forged first fragments sit until evicted, so floods push out their own
 * fragments first. Each datagram also expires after `reassemblyTimeoutMs`.
 * A fragment that overlaps received bytes with different ones, or a datagram
 * that would exceed 64 KiB, drops the datagram whole.
 */
export class Reassembler {
  /** In arrival order of each datagram's first fragment: the oldest come first. */
  readonly #datagrams = new Map<string, Datagram>();
  #bytes = 0;

  constructor(readonly stack: InetStack) {}

  get inProgress(): number {
    return this.#datagrams.size;
  }
  /** Bytes charged against the bound: buffers plus a fixed cost per datagram. */
  get bytesHeld(): number {
    return this.#bytes;
  }

  /** Adds one fragment; returns the whole payload when it completes the datagram. */
  add(ip: Ipv4View): Reassembled | undefined {
    const cfg = this.stack.config.ip;
    const stats = this.stack.stats;
    const offset = ip.fragmentOffset;
    const length = ip.payloadLength;
    const end = offset + length;
    if (end > MAX_PAYLOAD || (ip.moreFragments && (length === 0 || length % 8 !== 0))) {
      stats.rxMalformed++;
      return undefined;
    }
    const key = `${ip.src}/${ip.dst}/${ip.ident}/${ip.protocol}`;
    let d = this.#datagrams.get(key);
    if (d === undefined) {
      if (
        (this.#datagrams.size >= cfg.reassemblyMaxDatagrams ||
          this.#bytes + DATAGRAM_COST > cfg.reassemblyMaxBytes) &&
        !this.#evict(undefined, DATAGRAM_COST)
      ) {
        stats.reassemblyDrops++;
        return undefined;
      }
      const created: Datagram = new Datagram(key, ip.src, ip.dst, ip.protocol, () =>
        this.#expire(created),
      );
      d = created;
      this.#datagrams.set(key, d);
      this.#bytes += DATAGRAM_COST;
      this.stack.timers.set(d.timer, this.stack.now + cfg.reassemblyTimeoutMs);
    }
    if (!ip.moreFragments) {
      if ((d.total >= 0 && d.total !== end) || end < (d.have.last ?? 0)) {
        this.#drop(d);
        stats.rxMalformed++;
        return undefined;
      }
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      this.#drop(d);
      stats.rxMalformed++;
      return undefined;
    }
    if (end > d.buf.byteLength) {
      const size = Math.min(MAX_PAYLOAD, Math.max(end, d.total, d.buf.byteLength * 2, MIN_BUFFER));
      const grow = size - d.buf.byteLength;
      if (this.#bytes + grow > cfg.reassemblyMaxBytes && !this.#evict(d, grow)) {
        this.#drop(d);
        stats.reassemblyDrops++;
        return undefined;
      }
      const grown = new Uint8Array(size);
      grown.set(d.buf);
      this.#bytes += grow;
      d.buf = grown;
    }
    const data = ip.buf.subarray(ip.payloadOffset, ip.payloadOffset + length);
    if (conflicts(d, offset, data)) {
      // Overlapping fragments that disagree (a teardrop, an IDS evasion): drop the
      // whole datagram, as Linux does since CVE-2018-5391. Exact duplicates pass.
      this.#drop(d);
      stats.reassemblyOverlaps++;
      return undefined;
    }
    d.buf.set(data, offset);
    if (!d.have.add(offset, end)) {
      this.#drop(d);
      stats.reassemblyDrops++;
      return undefined;
    }
    if (d.total < 0 || !d.have.covers(0, d.total)) return undefined;
    this.#drop(d);
    stats.reassembled++;
    return { buf: d.buf, length: d.total, src: d.src, dst: d.dst, protocol: d.protocol };
  }

  /**
   * Evicts the oldest datagrams other than `keep` until `need` more bytes fit
   * under 3/4 of the memory bound (and a new datagram under the count bound).
   * False if they cannot.
   */
  #evict(keep: Datagram | undefined, need: number): boolean {
    const cfg = this.stack.config.ip;
    const bytesGoal = Math.floor((cfg.reassemblyMaxBytes * 3) / 4);
    const countGoal = cfg.reassemblyMaxDatagrams + (keep === undefined ? 0 : 1);
    for (const d of this.#datagrams.values()) {
      if (this.#bytes + need <= bytesGoal && this.#datagrams.size < countGoal) break;
      if (d === keep) continue;
      this.#drop(d);
      this.stack.stats.reassemblyEvictions++;
    }
    return this.#bytes + need <= cfg.reassemblyMaxBytes && this.#datagrams.size < countGoal;
  }

  #expire(d: Datagram): void {
    if (this.#datagrams.get(d.key) !== d) return;
    this.stack.stats.reassemblyTimeouts++;
    this.#drop(d);
  }

  #drop(d: Datagram): void {
    if (!this.#datagrams.delete(d.key)) return;
    this.#bytes -= d.buf.byteLength + DATAGRAM_COST;
    this.stack.timers.cancel(d.timer);
  }
}

/** Whether `data` at `offset` overlaps bytes already received that differ from it. */
function conflicts(d: Datagram, offset: number, data: Uint8Array): boolean {
  const end = offset + data.byteLength;
  for (let i = 0; i < d.have.count; i++) {
    const from = Math.max(offset, d.have.start(i));
    const to = Math.min(end, d.have.end(i));
    for (let at = from; at < to; at++) if (d.buf[at] !== data[at - offset]) return true;
  }
  return false;
}
