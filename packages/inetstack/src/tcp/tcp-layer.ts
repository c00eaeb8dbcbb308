import { ERRNO } from '@demi/core';
import type { InetStack } from '../stack/inet-stack.js';
import { EPHEMERAL_FIRST, EPHEMERAL_LAST } from '../udp/udp-layer.js';
import { randomBelow } from '../util/random.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TcpView } from '../wire/tcp.js';
import { TcpConnection } from './connection.js';
import { segmentArrives } from './input.js';
import { IsnGenerator } from './isn.js';
import { TcpListener } from './listener.js';
import { settleOptions, takeSynOptions, wantedWindowScale } from './options.js';
import { output, sendCookieSynAck, sendRst } from './output.js';
import { Segment } from './segment.js';
import { seqAdd, seqGt } from './seq.js';
import { TcpState } from './state.js';
import { cookieTimestamp, cookieTimestampOptions, SynCookies } from './syn-cookies.js';

/** How long after a SYN queue overflow ACKs are checked for cookies (their validity). */
const COOKIE_WINDOW_MS = 120_000;

/**
 * TCP demultiplexing: finds the connection or listener for each segment,
 * answers the rest with resets (RFC 9293 3.10.7.1), opens connections both
 * ways, and sends what dirty connections have ready at the end of each batch.
 */
export class TcpLayer {
  readonly #view = new TcpView();
  readonly #seg = new Segment();
  /** remote IP -> (remotePort << 16 | localPort) -> connection. */
  readonly #connections = new Map<number, Map<number, TcpConnection>>();
  readonly #listeners = new Map<number, TcpListener>();
  /** Connections per local port (for ephemeral port choice). */
  readonly #localPorts = new Map<number, number>();
  #count = 0;
  #last: TcpConnection | undefined;
  readonly #dirty: TcpConnection[] = [];
  readonly isn: IsnGenerator;
  /** Made on the first SYN queue overflow (its keys are drawn then). */
  #cookies: SynCookies | undefined;

  constructor(readonly stack: InetStack) {
    this.isn = new IsnGenerator(stack.random);
  }

  get #synCookies(): SynCookies {
    this.#cookies ??= new SynCookies(this.stack.random);
    return this.#cookies;
  }

  get connectionCount(): number {
    return this.#count;
  }

  /** Every connection (for tools and tests). */
  *connections(): IterableIterator<TcpConnection> {
    for (const m of this.#connections.values()) yield* m.values();
  }

  lookup(remoteIp: number, remotePort: number, localPort: number): TcpConnection | undefined {
    const last = this.#last;
    if (
      last !== undefined &&
      last.remoteIp === remoteIp &&
      last.remotePort === remotePort &&
      last.localPort === localPort &&
      !last.released
    )
      return last;
    const c = this.#connections.get(remoteIp)?.get(remotePort * 65536 + localPort);
    if (c !== undefined) this.#last = c;
    return c;
  }

  /** `offloadable`: the device may have verified the checksum (false for reassembled datagrams). */
  input(
    src: number,
    dst: number,
    buf: Uint8Array,
    off: number,
    len: number,
    offloadable = true,
  ): void {
    const v = this.#view;
    const stack = this.stack;
    const stats = stack.stats;
    if (!v.wrap(buf, off, len)) {
      stats.rxMalformed++;
      return;
    }
    if (
      !(offloadable && (stack.device.offloads.rxChecksum || stack.config.checksumOffload.tcp)) &&
      !v.verifyChecksum(src, dst)
    ) {
      stats.rxBadChecksum++;
      return;
    }
    stats.tcpIn++;
    const seg = this.#seg;
    seg.srcIp = src;
    seg.dstIp = dst;
    seg.srcPort = v.srcPort;
    seg.dstPort = v.dstPort;
    seg.seq = v.seq;
    seg.ack = v.ack;
    seg.flags = v.flags;
    seg.window = v.window;
    seg.buf = buf;
    seg.dataOff = v.payloadOffset;
    seg.dataLen = v.payloadLength;
    v.parseOptions(seg.options);
    if (seg.srcPort === 0 || seg.dstPort === 0) {
      stats.tcpDropped++;
      return;
    }
    const now = stack.now;
    let c = this.lookup(src, seg.srcPort, seg.dstPort);
    if (
      c !== undefined &&
      c.state === TcpState.TIME_WAIT &&
      (seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN &&
      seqGt(seg.seq, c.rcvNxt) &&
      this.#listeners.has(seg.dstPort)
    ) {
      // A new incarnation may reuse a TIME_WAIT pair when its SYN is above the old sequence space (RFC 1122 4.2.2.13).
      c.release();
      c = undefined;
    }
    if (c !== undefined) {
      segmentArrives(c, seg, now);
      return;
    }
    const listener = this.#listeners.get(seg.dstPort);
    if (listener !== undefined) {
      this.#listenInput(listener, seg, now);
      return;
    }
    this.#refuse(seg);
  }

  /** LISTEN (RFC 9293 3.10.7.2). */
  #listenInput(l: TcpListener, seg: Segment, now: number): void {
    const flags = seg.flags;
    if (flags & TCP_RST) return;
    if (flags & TCP_ACK) {
      if ((flags & TCP_SYN) === 0 && this.#cookieAck(l, seg, now)) return;
      sendRst(this.stack, seg.dstPort, seg.srcIp, seg.srcPort, seg.ack, 0, false);
      return;
    }
    // SYN+FIN is no opening a peer makes, only a scan or an evasion: Linux drops it.
    if ((flags & TCP_SYN) === 0 || flags & TCP_FIN) {
      this.stack.stats.tcpDropped++;
      return;
    }
    if (this.stack.ipv4.nextHop(seg.srcIp) === undefined) {
      // No route back (off-subnet without a gateway): as Linux, no state and no answer.
      this.stack.stats.tcpDropped++;
      this.stack.stats.ipNoRoute++;
      return;
    }
    if (l.full) {
      this.stack.stats.tcpDropped++;
      this.#refuse(seg);
      return;
    }
    if (l.synQueueFull) {
      l.overflowAt = now;
      if (this.stack.config.tcp.synCookies) this.#sendCookie(seg, now);
      else {
        this.stack.stats.tcpDropped++;
        this.stack.stats.tcpSynQueueDrops++;
      }
      return;
    }
    const c = new TcpConnection(this, this.stack.config.ipv4, seg.dstPort, seg.srcIp, seg.srcPort);
    const [iss, tsOffset] = this.isn.generate(
      c.localIp,
      c.localPort,
      c.remoteIp,
      c.remotePort,
      now,
    );
    c.iss = iss;
    c.tsOffset = tsOffset;
    c.sndUna = c.sndNxt = c.sndMax = c.recoverSeq = c.highRxt = iss;
    c.sndBufSeq = seqAdd(iss, 1);
    c.irs = seg.seq;
    c.rcvNxt = seqAdd(seg.seq, 1);
    c.rcvAdvRight = c.rcvNxt;
    c.sndWnd = seg.window;
    c.maxSndWnd = seg.window;
    c.sndWl1 = seg.seq;
    c.lastReceiveAt = now;
    takeSynOptions(c, seg);
    settleOptions(c, now);
    c.state = TcpState.SYN_RECEIVED;
    c.listener = l;
    c.peerMac = this.stack.link.rxSourceMac?.slice();
    l.pending.add(c);
    this.#add(c);
    this.markDirty(c);
  }

  /** Answers a SYN with a cookie SYN-ACK, keeping nothing (Linux's layout: see syn-cookies.ts). */
  #sendCookie(seg: Segment, now: number): void {
    const cfg = this.stack.config.tcp;
    const o = seg.options;
    const local = this.stack.config.ipv4;
    const iss = this.#synCookies.encode(
      local,
      seg.dstPort,
      seg.srcIp,
      seg.srcPort,
      seg.seq,
      o.mss > 0 ? o.mss : 536,
      now,
    );
    // Window scale and SACK survive only inside the timestamp: without one, offer neither.
    const ts = cfg.timestamps && o.hasTimestamp;
    const peerWs = ts && cfg.windowScaling ? o.windowScale : -1;
    const sack = ts && cfg.sack && o.sackPermitted;
    let tsVal = -1;
    if (ts) {
      const tsOffset = this.#synCookies.tsOffset(local, seg.dstPort, seg.srcIp, seg.srcPort);
      tsVal = cookieTimestamp((Math.floor(now) + tsOffset) >>> 0, peerWs, sack);
    }
    sendCookieSynAck(this.stack, seg, iss, peerWs >= 0 ? wantedWindowScale(cfg) : -1, sack, tsVal);
  }

  /**
   * An ACK for a listener that may return a SYN cookie: if it is valid, the
   * connection is made as it would have been on the SYN and this ACK completes
   * it. Looked at only for a while after the SYN queue overflowed, as Linux does.
   */
  #cookieAck(l: TcpListener, seg: Segment, now: number): boolean {
    const cfg = this.stack.config.tcp;
    if (!cfg.synCookies || now - l.overflowAt > COOKIE_WINDOW_MS) return false;
    const local = this.stack.config.ipv4;
    const iss = seqAdd(seg.ack, -1);
    const irs = seqAdd(seg.seq, -1);
    const mss = this.#synCookies.check(local, seg.dstPort, seg.srcIp, seg.srcPort, irs, iss, now);
    if (mss === 0) return false;
    this.stack.stats.tcpSynCookiesValid++;
    if (l.full) {
      // As Linux: no room to accept, drop the ACK; the peer's retransmission may find room.
      this.stack.stats.tcpDropped++;
      return true;
    }
    const c = new TcpConnection(this, local, seg.dstPort, seg.srcIp, seg.srcPort);
    const tsOffset = this.#synCookies.tsOffset(local, seg.dstPort, seg.srcIp, seg.srcPort);
    c.iss = iss;
    c.tsOffset = tsOffset;
    c.sndUna = c.recoverSeq = c.highRxt = iss;
    c.sndNxt = c.sndMax = c.sndBufSeq = seqAdd(iss, 1);
    c.irs = irs;
    c.rcvNxt = seg.seq;
    c.rcvAdvRight = seqAdd(c.rcvNxt, Math.min(cfg.receiveBuffer, 65535));
    c.sndWl1 = seg.seq;
    c.lastReceiveAt = now;
    c.peerMss = mss;
    const o = seg.options;
    if (cfg.timestamps && o.hasTimestamp) {
      const carried = cookieTimestampOptions(o.tsEcr);
      c.peerTs = true;
      c.tsRecent = o.tsVal;
      c.peerWs = cfg.windowScaling ? carried.windowScale : -1;
      c.peerSackOk = carried.sackPermitted;
    }
    settleOptions(c, now);
    c.state = TcpState.SYN_RECEIVED;
    c.listener = l;
    c.peerMac = this.stack.link.rxSourceMac?.slice();
    l.pending.add(c);
    this.#add(c);
    segmentArrives(c, seg, now);
    return true;
  }

  /** A passive open completed its handshake. */
  established(c: TcpConnection): void {
    const l = c.listener;
    if (l === undefined) {
      c.events?.onEstablished?.();
      return;
    }
    l.pending.delete(c);
    // The handshake proved the peer receives at the MAC its frames came from:
    // remember it, as a neighbour confirmed by traffic (no ARP needed).
    const stack = this.stack;
    if (
      c.peerMac !== undefined &&
      stack.ipv4.nextHop(c.remoteIp) === c.remoteIp &&
      !stack.arp.cache.has(c.remoteIp)
    )
      stack.arp.cache.learn(c.remoteIp, c.peerMac, stack.now);
    if (l.closed || !l.ready.push(c)) {
      c.abort();
      return;
    }
    l.onAcceptable?.();
  }

  /** CLOSED (RFC 9293 3.10.7.1): every segment but a reset earns a reset. */
  #refuse(seg: Segment): void {
    const flags = seg.flags;
    if (flags & TCP_RST) return;
    if (flags & TCP_ACK)
      sendRst(this.stack, seg.dstPort, seg.srcIp, seg.srcPort, seg.ack, 0, false);
    else
      sendRst(
        this.stack,
        seg.dstPort,
        seg.srcIp,
        seg.srcPort,
        0,
        seqAdd(seg.seq, seg.dataLen + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0)),
        true,
      );
  }

  /** Starts an active open from `localPort` (0: ephemeral). Returns the connection or an errno. */
  connect(remoteIp: number, remotePort: number, localPort = 0): TcpConnection | number {
    if (localPort === 0) {
      const p = this.#ephemeral(remoteIp, remotePort);
      if (p === undefined) return ERRNO.EADDRNOTAVAIL;
      localPort = p;
    } else if (this.lookup(remoteIp, remotePort, localPort) !== undefined) {
      return ERRNO.EADDRINUSE;
    }
    const now = this.stack.now;
    const c = new TcpConnection(this, this.stack.config.ipv4, localPort, remoteIp, remotePort);
    const [iss, tsOffset] = this.isn.generate(c.localIp, localPort, remoteIp, remotePort, now);
    c.iss = iss;
    c.tsOffset = tsOffset;
    c.sndUna = c.sndNxt = c.sndMax = c.recoverSeq = c.highRxt = iss;
    c.sndBufSeq = seqAdd(iss, 1);
    c.state = TcpState.SYN_SENT;
    this.#add(c);
    this.markDirty(c);
    return c;
  }

  /** Listens on `port`; EADDRINUSE when another listener has it. */
  listen(port: number, backlog: number): TcpListener | number {
    if (this.#listeners.has(port)) return ERRNO.EADDRINUSE;
    const cfg = this.stack.config.tcp;
    const l = new TcpListener(port, Math.min(Math.max(backlog, 1), cfg.maxBacklog), cfg.synBacklog);
    this.#listeners.set(port, l);
    return l;
  }

  /** Stops listening; connections not yet accepted are reset. */
  unlisten(l: TcpListener): void {
    if (l.closed) return;
    l.closed = true;
    if (this.#listeners.get(l.port) === l) this.#listeners.delete(l.port);
    // Half-open connections go quietly (as in Linux): a flood's spoofed sources
    // would otherwise each earn a reset.
    for (const c of l.pending) c.release();
    l.pending.clear();
    for (let c = l.ready.shift(); c !== undefined; c = l.ready.shift()) c.abort();
    l.onAcceptable = undefined;
  }

  isListening(port: number): boolean {
    return this.#listeners.has(port);
  }

  portInUse(port: number): boolean {
    return this.#listeners.has(port) || (this.#localPorts.get(port) ?? 0) > 0;
  }

  #ephemeral(remoteIp: number, remotePort: number): number | undefined {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    const start = randomBelow(this.stack.random, span);
    const usable = (p: number) => !this.#listeners.has(p) && !this.reservedPorts.has(p);
    // Prefer a port nothing uses; failing that, one whose 4-tuple with this peer is free.
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_FIRST + ((start + i) % span);
      if (usable(p) && !this.#localPorts.has(p)) return p;
    }
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_FIRST + ((start + i) % span);
      if (usable(p) && this.lookup(remoteIp, remotePort, p) === undefined) return p;
    }
    return undefined;
  }

  /** Ports the socket layer holds bound without a connection (kept out of ephemeral choice). */
  readonly reservedPorts = new Set<number>();

  #add(c: TcpConnection): void {
    let m = this.#connections.get(c.remoteIp);
    if (m === undefined) {
      m = new Map();
      this.#connections.set(c.remoteIp, m);
    }
    m.set(c.remotePort * 65536 + c.localPort, c);
    this.#localPorts.set(c.localPort, (this.#localPorts.get(c.localPort) ?? 0) + 1);
    this.#count++;
  }

  /** @internal Called by TcpConnection.release. */
  remove(c: TcpConnection): void {
    const m = this.#connections.get(c.remoteIp);
    const key = c.remotePort * 65536 + c.localPort;
    if (m?.get(key) === c) {
      m.delete(key);
      if (m.size === 0) this.#connections.delete(c.remoteIp);
      const n = (this.#localPorts.get(c.localPort) ?? 1) - 1;
      if (n <= 0) this.#localPorts.delete(c.localPort);
      else this.#localPorts.set(c.localPort, n);
      this.#count--;
    }
    if (this.#last === c) this.#last = undefined;
    c.listener?.pending.delete(c);
  }

  markDirty(c: TcpConnection): void {
    if (c.dirty || c.released) return;
    c.dirty = true;
    this.#dirty.push(c);
  }

  /** Sends what every dirty connection has ready. */
  flush(): void {
    const dirty = this.#dirty;
    // Every poll flushes; an empty list is left alone (setting an array's length is a runtime call).
    if (dirty.length === 0) return;
    const now = this.stack.now;
    // Output may dirty other connections (not itself): loop until quiet.
    for (let i = 0; i < dirty.length; i++) {
      const c = dirty[i]!;
      c.dirty = false;
      if (!c.released) output(c, now);
    }
    dirty.length = 0;
  }

  /**
   * The stack is shutting down: listeners stop and every connection still open or
   * closing is reset (RST), so peers learn at once that nothing will answer them.
   */
  close(): void {
    for (const l of [...this.#listeners.values()]) {
      l.closed = true;
      l.onAcceptable = undefined;
    }
    this.#listeners.clear();
    for (const c of [...this.connections()]) c.abort(true);
  }
}
