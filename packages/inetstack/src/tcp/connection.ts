import { ERRNO } from '@demi/core';
import type { TxDone } from '../arp/arp-layer.js';
import { ByteRing } from '../util/byte-ring.js';
import { RangeSet } from '../util/range-set.js';
import { Timer } from '../util/timers.js';
import { type CongestionControl, createCongestionControl } from './congestion/congestion.js';
import type { TcpListener } from './listener.js';
import { wantedWindowScale } from './options.js';
import { sendProbe, sendRst } from './output.js';
import { RttEstimator } from './rtt.js';
import { seqAdd, seqSub } from './seq.js';
import { TCP_STATE_NAMES, TcpState } from './state.js';
import type { TcpLayer } from './tcp-layer.js';
import { onPersistTimeout, onRetransmitTimeout, onTailLossProbe } from './timeouts.js';

/** What a connection tells its owner (the socket layer). Every callback is optional. */
export interface TcpConnectionEvents {
  /** The handshake completed (active open, or simultaneous open). */
  onEstablished?(): void;
  /** Data arrived, or the peer's FIN (then `eof` is true). */
  onReadable?(): void;
  /** Acknowledged data left the send buffer: there is room to write. */
  onWritable?(): void;
  /** Our FIN was acknowledged (a graceful close finished its part). */
  onFinAcked?(): void;
  /** The connection failed (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH). */
  onError?(errno: number): void;
  /** The connection left the table (after TIME_WAIT, a reset, or an abort). */
  onReleased?(): void;
}

/**
 * One TCP connection (a transmission control block). Protocol logic lives in
 * input.ts (segment arrival), ack.ts (acknowledgements and loss recovery),
 * output.ts (what to send) and timeouts.ts; this file holds the state and the
 * application-facing operations.
 */
export class TcpConnection {
  state: TcpState = TcpState.CLOSED;
  readonly layer: TcpLayer;
  readonly localIp: number;
  readonly localPort: number;
  readonly remoteIp: number;
  readonly remotePort: number;
  /** Set for a passive open until the application accepts it. */
  listener: TcpListener | undefined;
  events: TcpConnectionEvents | undefined;
  /** Errno once the connection failed, else 0. */
  error = 0;

  // ---- send sequence space
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** Highest sequence number sent (sndNxt rewinds on a timeout; this does not). */
  sndMax = 0;
  sndWnd = 0;
  maxSndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Bytes acknowledged so far (SYN included): the absolute offset of sndUna, for the SACK scoreboard. */
  sndUnaAbs = 0;
  /** Sequence number of the first byte in sndBuf. */
  sndBufSeq = 0;
  readonly sndBuf: ByteRing;
  /** The application closed its side: a FIN follows the data. */
  finQueued = false;
  /** Shift applied to windows the peer advertises. */
  sndScale = 0;

  // ---- receive sequence space
  irs = 0;
  rcvNxt = 0;
  /** Right edge of the window we last advertised (never moves left). */
  rcvAdvRight = 0;
  readonly rcvBuf: ByteRing;
  /** Out-of-order data held in rcvBuf past its end, as offsets from rcvNxt. */
  readonly ooo: RangeSet;
  /** The offset (from rcvNxt) of the most recent out-of-order arrival, for the first SACK block. */
  lastOooStart = -1;
  /** Shift we apply to windows we advertise. */
  rcvScale = 0;
  /** Our wanted shift (used if the peer agrees). */
  readonly wantScale: number;
  finReceived = false;
  /** Sequence number of a FIN that arrived before data ahead of it, or -1. */
  finPendingSeq = -1;

  // ---- options
  /** Largest payload we send per segment (options excluded). */
  mss = 536;
  peerMss = 536;
  tsOk = false;
  tsRecent = 0;
  tsOffset = 0;
  lastAckSent = 0;
  sackOk = false;
  /** The peer sent these in its SYN (for a passive open's SYN-ACK). */
  peerWs = -1;
  peerSackOk = false;
  peerTs = false;

  // ---- acknowledgements we owe
  ackNow = false;
  /** When we last answered an unacceptable segment without data (rate limit against ACK loops). */
  lastInvalidAckAt = Number.NEGATIVE_INFINITY;
  segsSinceAck = 0;

  // ---- RTT and retransmission
  readonly rtt: RttEstimator;
  timing = false;
  timedSeq = 0;
  timedAt = 0;
  /** Consecutive timeouts without progress. */
  rtxCount = 0;
  /** Unanswered zero-window or keepalive probes. */
  probes = 0;

  // ---- congestion control and recovery
  readonly cc: CongestionControl;
  dupAcks = 0;
  inRecovery = false;
  recoverSeq = 0;
  /** End of the highest retransmission in this recovery. */
  highRxt = 0;
  /** sndMax at the latest retransmission: SACKs beyond it show that what we resent before was lost. */
  rxtMark = 0;
  /** Send the first lost segment regardless of the window (on entering recovery or a partial ACK). */
  forceRetransmit = false;
  /** SACKed ranges above sndUna, as absolute offsets. */
  readonly sacked = new RangeSet(16);

  // ---- options the application can set
  nodelay: boolean;
  keepalive: boolean;
  keepaliveIdleMs: number;
  keepaliveIntervalMs: number;
  keepaliveProbes: number;
  lastReceiveAt = 0;

  // ---- timers
  readonly rtxTimer: Timer;
  /** Tail loss probe (RFC 8985 7): fires before the RTO when the tail of a flight may be lost. */
  readonly tlpTimer: Timer;
  /** Probes sent since anything new was acknowledged or SACKed. */
  tlpCount = 0;
  readonly persistTimer: Timer;
  readonly delackTimer: Timer;
  readonly keepaliveTimer: Timer;
  /** TIME_WAIT, FIN_WAIT_2 for orphans, and SO_LINGER's deadline. */
  readonly lifeTimer: Timer;
  /** Whether the application has let go (closed its descriptor). */
  orphan = false;
  /** Queued in the layer's dirty list. */
  dirty = false;
  released = false;
  /** A passive open's peer MAC from its SYN: where to answer while ARP knows nothing of it. */
  peerMac: Uint8Array | undefined;
  /** ARP outcome of segments that waited for resolution. */
  readonly arpDone: TxDone;

  constructor(
    layer: TcpLayer,
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
  ) {
    this.layer = layer;
    this.localIp = localIp;
    this.localPort = localPort;
    this.remoteIp = remoteIp;
    this.remotePort = remotePort;
    const cfg = layer.stack.config.tcp;
    this.sndBuf = new ByteRing(cfg.sendBuffer, 16 * 1024);
    this.rcvBuf = new ByteRing(cfg.receiveBuffer, 16 * 1024);
    this.ooo = new RangeSet(cfg.maxOooRanges);
    this.wantScale = wantedWindowScale(cfg);
    this.rtt = new RttEstimator(cfg.initialRtoMs, cfg.minRtoMs, cfg.maxRtoMs);
    this.cc = createCongestionControl(cfg.congestionControl);
    this.nodelay = cfg.nodelay;
    this.keepalive = cfg.keepalive.enabled;
    this.keepaliveIdleMs = cfg.keepalive.idleMs;
    this.keepaliveIntervalMs = cfg.keepalive.intervalMs;
    this.keepaliveProbes = cfg.keepalive.probes;
    // A passive open's SYN-ACK is owed to no application yet: it keeps nothing alive.
    this.rtxTimer = new Timer(
      (now) => onRetransmitTimeout(this, now),
      () => this.listener === undefined,
    );
    this.tlpTimer = new Timer((now) => onTailLossProbe(this, now), true);
    this.persistTimer = new Timer((now) => onPersistTimeout(this, now), true);
    this.delackTimer = new Timer(() => {
      this.ackNow = true;
      this.layer.markDirty(this);
    });
    this.keepaliveTimer = new Timer((now) => this.#onKeepalive(now));
    this.lifeTimer = new Timer(() => this.#onLifeTimer());
    this.arpDone = (errno) => {
      if (errno === ERRNO.EHOSTUNREACH && this.state === TcpState.SYN_SENT)
        this.fail(ERRNO.EHOSTUNREACH);
    };
  }

  get stateName(): string {
    return TCP_STATE_NAMES[this.state];
  }

  // ---- application side -----------------------------------------------------

  /** Bytes the application may read now. */
  get readable(): number {
    return this.rcvBuf.length;
  }
  /** The peer finished sending and everything it sent has been read. */
  get eof(): boolean {
    return this.finReceived && this.rcvBuf.length === 0;
  }
  /** Room in the send buffer. */
  get writable(): number {
    return this.canSend ? this.sndBuf.free : 0;
  }
  /** Data may still be written (the application has not closed its side, the connection is alive). */
  get canSend(): boolean {
    const s = this.state;
    return (
      !this.finQueued &&
      this.error === 0 &&
      (s === TcpState.ESTABLISHED ||
        s === TcpState.CLOSE_WAIT ||
        s === TcpState.SYN_SENT ||
        s === TcpState.SYN_RECEIVED)
    );
  }
  /** Bytes sent but not yet acknowledged, plus bytes not yet sent. */
  get unacked(): number {
    return this.sndBuf.length;
  }

  /** Copies up to `n` bytes into the send buffer; returns how many were taken. */
  write(src: Uint8Array, off = 0, n = src.byteLength - off): number {
    if (!this.canSend) return 0;
    const k = this.sndBuf.write(src, off, n);
    if (k > 0) this.layer.markDirty(this);
    return k;
  }

  /** Moves up to `n` received bytes into dst[at...]; returns how many. */
  read(dst: Uint8Array, at = 0, n = dst.byteLength - at): number {
    const k = this.rcvBuf.read(dst, at, n);
    if (k > 0) this.#windowMayHaveOpened();
    return k;
  }

  /** Up to `max` received bytes in a new array (empty when none). */
  readBytes(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.rcvBuf.length));
    this.read(out, 0, out.byteLength);
    return out;
  }

  /** After a read: tell the peer about a window that opened noticeably (receiver-side SWS avoidance). */
  #windowMayHaveOpened(): void {
    if (!this.#receiving()) return;
    // Without window scaling the field caps the window at 64 KiB: room beyond
    // what the field can say opens nothing, and updating would repeat the last ACK.
    const free = Math.min(this.rcvBuf.free, 65535 * 2 ** this.rcvScale);
    const advertised = seqSub(this.rcvAdvRight, this.rcvNxt);
    const threshold = Math.min(this.rcvBuf.maxCapacity / 2, 2 * this.mss);
    if (free - advertised >= threshold) {
      this.ackNow = true;
      this.layer.markDirty(this);
    }
  }

  #receiving(): boolean {
    const s = this.state;
    return s === TcpState.ESTABLISHED || s === TcpState.FIN_WAIT_1 || s === TcpState.FIN_WAIT_2;
  }

  /**
   * Half close (shutdown for writing): a FIN follows any data still queued, and
   * the connection keeps receiving until the peer closes too.
   */
  shutdown(): void {
    if (this.released || this.finQueued) return;
    const s = this.state;
    if (s === TcpState.SYN_SENT) {
      this.release();
      return;
    }
    if (s !== TcpState.ESTABLISHED && s !== TcpState.SYN_RECEIVED && s !== TcpState.CLOSE_WAIT)
      return;
    this.finQueued = true;
    this.state = s === TcpState.CLOSE_WAIT ? TcpState.LAST_ACK : TcpState.FIN_WAIT_1;
    this.layer.markDirty(this);
  }

  /**
   * Graceful close: a FIN follows any data still queued. With `lingerMs`, a close
   * not finished by then becomes an abort. Unread received data makes it an abort
   * at once (RFC 2525), so the peer learns its data was not consumed.
   */
  close(lingerMs?: number): void {
    if (this.released) return;
    const s = this.state;
    if (s === TcpState.CLOSED || s === TcpState.LISTEN || s === TcpState.SYN_SENT) {
      this.release();
      return;
    }
    if (this.rcvBuf.length > 0) {
      this.abort();
      return;
    }
    if (lingerMs === 0) {
      this.abort();
      return;
    }
    if (this.finQueued) return;
    this.finQueued = true;
    if (s === TcpState.ESTABLISHED || s === TcpState.SYN_RECEIVED) this.state = TcpState.FIN_WAIT_1;
    else if (s === TcpState.CLOSE_WAIT) this.state = TcpState.LAST_ACK;
    if (lingerMs !== undefined)
      this.layer.stack.timers.set(this.lifeTimer, this.layer.stack.now + lingerMs);
    this.layer.markDirty(this);
  }

  /**
   * Resets the connection (RST to the peer) and releases it. As Linux's abort, a
   * connection whose FIN is out and whose peer has closed too (CLOSING, LAST_ACK) gets
   * no RST: the exchange finishes on its own. `stackClosing` resets those as well:
   * the stack is going away and will answer nothing, so a peer would otherwise
   * retransmit its FIN, or wait for ours, until its own timers give up.
   */
  abort(stackClosing = false): void {
    if (this.released) return;
    const s = this.state;
    if (
      s === TcpState.SYN_RECEIVED ||
      s === TcpState.ESTABLISHED ||
      s === TcpState.FIN_WAIT_1 ||
      s === TcpState.FIN_WAIT_2 ||
      s === TcpState.CLOSE_WAIT ||
      (stackClosing && (s === TcpState.CLOSING || s === TcpState.LAST_ACK))
    ) {
      sendRst(
        this.layer.stack,
        this.localPort,
        this.remoteIp,
        this.remotePort,
        this.sndNxt,
        this.rcvNxt,
        true,
        this.peerMac,
      );
    }
    this.release();
  }

  /** The application lets go of the connection; it finishes (or times out) on its own. */
  detach(): void {
    this.events = undefined;
    this.orphan = true;
    if (this.state === TcpState.FIN_WAIT_2)
      this.layer.stack.timers.set(
        this.lifeTimer,
        this.layer.stack.now + this.layer.stack.config.tcp.finWait2TimeoutMs,
      );
  }

  setKeepalive(on: boolean): void {
    this.keepalive = on;
    this.armKeepalive();
  }

  // ---- protocol side ---------------------------------------------------------

  /** Fails the connection with `errno` (no RST: the peer reset us, or it is unreachable). */
  fail(errno: number): void {
    if (this.released) return;
    this.error = errno;
    this.events?.onError?.(errno);
    this.release();
  }

  /** Removes the connection from the stack and stops its timers. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.state = TcpState.CLOSED;
    const timers = this.layer.stack.timers;
    timers.cancel(this.rtxTimer);
    timers.cancel(this.tlpTimer);
    timers.cancel(this.persistTimer);
    timers.cancel(this.delackTimer);
    timers.cancel(this.keepaliveTimer);
    timers.cancel(this.lifeTimer);
    this.layer.remove(this);
    this.events?.onReleased?.();
  }

  enterTimeWait(): void {
    this.state = TcpState.TIME_WAIT;
    const timers = this.layer.stack.timers;
    timers.cancel(this.rtxTimer);
    timers.cancel(this.tlpTimer);
    timers.cancel(this.persistTimer);
    timers.cancel(this.keepaliveTimer);
    timers.set(this.lifeTimer, this.layer.stack.now + 2 * this.layer.stack.config.tcp.mslMs);
  }

  /** Sequence number of our FIN (valid once queued). */
  get finSeq(): number {
    return seqAdd(this.sndBufSeq, this.sndBuf.length);
  }

  /** Our FIN has been sent and acknowledged. */
  get finAcked(): boolean {
    return this.finQueued && this.sndUna === seqAdd(this.finSeq, 1);
  }

  armKeepalive(): void {
    const timers = this.layer.stack.timers;
    if (
      !this.keepalive ||
      (this.state !== TcpState.ESTABLISHED && this.state !== TcpState.CLOSE_WAIT)
    ) {
      timers.cancel(this.keepaliveTimer);
      return;
    }
    if (!this.keepaliveTimer.armed)
      timers.set(this.keepaliveTimer, this.lastReceiveAt + this.keepaliveIdleMs);
  }

  #onKeepalive(now: number): void {
    if (
      !this.keepalive ||
      (this.state !== TcpState.ESTABLISHED && this.state !== TcpState.CLOSE_WAIT)
    )
      return;
    const idle = now - this.lastReceiveAt;
    const timers = this.layer.stack.timers;
    if (idle < this.keepaliveIdleMs) {
      this.probes = 0;
      timers.set(this.keepaliveTimer, this.lastReceiveAt + this.keepaliveIdleMs);
      return;
    }
    // Data in flight is the retransmission timer's business.
    if (this.sndUna !== this.sndMax) {
      timers.set(this.keepaliveTimer, now + this.keepaliveIntervalMs);
      return;
    }
    if (this.probes >= this.keepaliveProbes) {
      this.layer.stack.stats.tcpTimedOut++;
      this.fail(ERRNO.ETIMEDOUT);
      return;
    }
    this.probes++;
    sendProbe(this);
    timers.set(this.keepaliveTimer, now + this.keepaliveIntervalMs);
  }

  #onLifeTimer(): void {
    const s = this.state;
    if (s === TcpState.TIME_WAIT || s === TcpState.FIN_WAIT_2) {
      this.release();
      return;
    }
    // SO_LINGER's deadline passed before the close finished.
    if (this.finQueued) this.abort();
  }
}
