import { ERRNO } from '@demi/core';
import type { InetStack } from '../stack/inet-stack.js';
import { MAC_BROADCAST, MAC_ZERO } from '../util/addr.js';
import { Timer } from '../util/timers.js';
import { ARP_LEN, ARP_OP_REPLY, ARP_OP_REQUEST, ArpView, emitArp } from '../wire/arp.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { ArpCache } from './arp-cache.js';

/** A frame was queued until its next hop resolves; the result arrives through the callback. */
export const TX_PENDING = -1;

/** Told the outcome of a packet that waited for ARP: 0 sent, else an errno. */
export type TxDone = (errno: number) => void;

interface Waiting {
  frame: Uint8Array;
  done: TxDone | undefined;
}

class Resolution {
  readonly packets: Waiting[] = [];
  retriesLeft: number;
  readonly timer: Timer;
  constructor(retries: number, fire: (now: number) => void) {
    this.retriesLeft = retries;
    this.timer = new Timer(fire);
  }
}

/**
 * ARP (RFC 826) for Ethernet/IPv4: answers for our address, learns senders,
 * resolves next hops with retries, and holds a bounded queue of packets per
 * address being resolved. On give-up they fail with EHOSTUNREACH.
 */
export class ArpLayer {
  readonly cache: ArpCache;
  readonly #view = new ArpView();
  readonly #pending = new Map<number, Resolution>();
  readonly #buf = new Uint8Array(ETH_HEADER_LEN + ARP_LEN);
  /** Packets waiting across all resolutions. */
  #queued = 0;

  constructor(readonly stack: InetStack) {
    const c = stack.config.arp;
    this.cache = new ArpCache(c.cacheTtlMs, c.cacheLimit);
    for (const [ip, mac] of c.staticEntries) this.cache.setStatic(ip, mac);
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  input(buf: Uint8Array, off: number, len: number): void {
    const v = this.#view;
    const s = this.stack.stats;
    if (!v.wrap(buf, off, len) || !v.isEthernetIpv4) {
      s.rxMalformed++;
      return;
    }
    const op = v.operation;
    const senderIp = v.senderIp;
    const ours = this.stack.config.ipv4;
    s.arpIn++;
    if (senderIp === 0 || senderIp === ours) return; // probes and conflicts teach nothing
    const forUs = v.targetIp === ours;
    const senderMac = buf.subarray(v.senderMacOffset, v.senderMacOffset + 6);
    if ((senderMac[0]! & 1) === 1) return; // a group address is never a host's
    // RFC 826 merge: refresh what we know; learn new senders only when they talk to us.
    if (forUs || this.cache.has(senderIp) || this.#pending.has(senderIp))
      this.cache.learn(senderIp, senderMac, this.stack.now);
    if (op === ARP_OP_REQUEST && forUs) this.#send(ARP_OP_REPLY, senderMac, senderIp, senderMac);
    if (this.#pending.has(senderIp)) this.#resolved(senderIp);
  }

  /**
   * The MAC for `ip`, or undefined while it resolves (a request goes out). A
   * stale entry is still returned and refreshed in the background.
   */
  lookup(ip: number): Uint8Array | undefined {
    const e = this.cache.get(ip);
    if (e !== undefined) {
      if (
        e.expiresAt <= this.stack.now &&
        !this.#pending.has(ip) &&
        !this.stack.config.arp.disabled
      )
        this.#start(ip, e.mac);
      return e.mac;
    }
    return undefined;
  }

  /** Holds a frame (Ethernet header to be filled) until `ip` resolves. Returns TX_PENDING or an errno. */
  enqueue(ip: number, frame: Uint8Array, done: TxDone | undefined): number {
    const cfg = this.stack.config.arp;
    if (cfg.disabled) return ERRNO.EHOSTUNREACH;
    let r = this.#pending.get(ip);
    if (
      (r === undefined && this.#pending.size >= cfg.pendingLimit) ||
      (r !== undefined && r.packets.length >= cfg.queueLimit) ||
      this.#queued >= cfg.queuedLimit
    ) {
      // Bounded: a flood of destinations must not become a flood of requests and queued frames.
      this.stack.stats.arpQueueDrops++;
      return ERRNO.ENOBUFS;
    }
    if (r === undefined) r = this.#start(ip, MAC_BROADCAST);
    r.packets.push({ frame, done });
    this.#queued++;
    return TX_PENDING;
  }

  #start(ip: number, dstMac: Uint8Array): Resolution {
    const cfg = this.stack.config.arp;
    const r = new Resolution(cfg.retries, (now) => this.#retry(ip, r, now));
    this.#pending.set(ip, r);
    this.#send(ARP_OP_REQUEST, dstMac, ip, MAC_ZERO);
    this.stack.timers.set(r.timer, this.stack.now + cfg.requestTimeoutMs);
    return r;
  }

  #retry(ip: number, r: Resolution, now: number): void {
    if (this.#pending.get(ip) !== r) return;
    if (r.retriesLeft > 0) {
      r.retriesLeft--;
      this.#send(ARP_OP_REQUEST, MAC_BROADCAST, ip, MAC_ZERO);
      this.stack.timers.set(r.timer, now + this.stack.config.arp.requestTimeoutMs);
      return;
    }
    this.#pending.delete(ip);
    this.#queued -= r.packets.length;
    this.cache.delete(ip);
    this.stack.stats.arpFailures++;
    for (const p of r.packets) p.done?.(ERRNO.EHOSTUNREACH);
  }

  #resolved(ip: number): void {
    const r = this.#pending.get(ip);
    const e = this.cache.get(ip);
    if (r === undefined || e === undefined) return;
    this.#pending.delete(ip);
    this.#queued -= r.packets.length;
    this.stack.timers.cancel(r.timer);
    for (const p of r.packets) {
      const errno = this.stack.link.transmitIpv4(p.frame, p.frame.byteLength, e.mac);
      p.done?.(errno);
    }
  }

  #send(op: number, dstMac: Uint8Array, targetIp: number, targetMac: Uint8Array): void {
    const b = this.#buf;
    emitArp(
      {
        operation: op,
        senderMac: this.stack.config.mac,
        senderIp: this.stack.config.ipv4,
        targetMac,
        targetIp,
      },
      b,
      ETH_HEADER_LEN,
    );
    this.stack.stats.arpOut++;
    this.stack.link.transmitArp(b, b.byteLength, dstMac);
  }

  /** Fails everything waiting (the stack is closing). */
  close(): void {
    for (const r of this.#pending.values()) {
      this.stack.timers.cancel(r.timer);
      for (const p of r.packets) p.done?.(ERRNO.ECANCELED);
    }
    this.#pending.clear();
    this.#queued = 0;
  }
}
