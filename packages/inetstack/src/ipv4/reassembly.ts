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

/**
 * IPv4 fragment reassembly (RFC 791) with bounded memory: at most N datagrams and
 * M bytes in progress, each dropped when its timer expires. A fragment that
 * overlaps received bytes with different ones, or a datagram that would exceed
 * 64 KiB, drops the datagram whole.
 */
export class Reassembler {
  readonly #datagrams = new Map<string, Datagram>();
  #bytes = 0;

  constructor(readonly stack: InetStack) {}

  get inProgress(): number {
    return this.#datagrams.size;
  }
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
      if (this.#datagrams.size >= cfg.reassemblyMaxDatagrams) {
        stats.reassemblyDrops++;
        return undefined;
      }
      const created: Datagram = new Datagram(key, ip.src, ip.dst, ip.protocol, () =>
        this.#expire(created),
      );
      d = created;
      this.#datagrams.set(key, d);
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
      const size = Math.min(MAX_PAYLOAD, Math.max(end, d.total, d.buf.byteLength * 2, 2048));
      if (this.#bytes - d.buf.byteLength + size > cfg.reassemblyMaxBytes) {
        this.#drop(d);
        stats.reassemblyDrops++;
        return undefined;
      }
      const grown = new Uint8Array(size);
      grown.set(d.buf);
      this.#bytes += size - d.buf.byteLength;
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

  #expire(d: Datagram): void {
    if (this.#datagrams.get(d.key) !== d) return;
    this.stack.stats.reassemblyTimeouts++;
    this.#drop(d);
  }

  #drop(d: Datagram): void {
    this.#datagrams.delete(d.key);
    this.#bytes -= d.buf.byteLength;
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
