import { L4_OFFSET } from '../link/link-layer.js';
import type { InetStack } from '../stack/inet-stack.js';
import { IPPROTO_TCP } from '../wire/ipv4.js';
import {
  emitTcpHeader,
  TCP_ACK,
  TCP_FIN,
  TCP_HEADER_LEN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
} from '../wire/tcp.js';
import { emitTcpOptions, TcpOptions } from '../wire/tcp-options.js';
import { hole, nextHole, pipe } from './ack.js';
import type { TcpConnection } from './connection.js';
import type { Segment } from './segment.js';
import { seqAdd, seqGt, seqLt, seqSub } from './seq.js';
import { TcpState } from './state.js';
import { armTailLossProbe } from './timeouts.js';

/** Options of the segment being built (one instance: building allocates nothing). */
const opts = new TcpOptions();

/** Most segments one output call sends, so one connection cannot monopolise a poll. */
const MAX_SEGMENTS_PER_OUTPUT = 1024;

function checksumMode(stack: InetStack): 'full' | 'partial' | 'none' {
  if (stack.device.offloads.txChecksum) return 'partial';
  return 'full';
}

/**
 * Sends whatever the connection may send now: the SYN or SYN-ACK, lost
 * segments during recovery, new data within the peer's window and the
 * congestion window (with Nagle and sender-side SWS avoidance), the FIN, or an
 * ACK that is owed.
 */
export function output(c: TcpConnection, now: number): void {
  c.dirty = false;
  switch (c.state) {
    case TcpState.CLOSED:
    case TcpState.LISTEN:
      return;
    case TcpState.SYN_SENT:
      if (c.sndNxt === c.iss) sendSyn(c, now);
      return;
    case TcpState.SYN_RECEIVED:
      if (c.sndNxt === c.iss) sendSyn(c, now);
      else if (c.ackNow) sendSegment(c, c.sndMax, 0, TCP_ACK, now);
      return;
    case TcpState.TIME_WAIT:
      if (c.ackNow) sendSegment(c, c.sndMax, 0, TCP_ACK, now);
      return;
    default:
      break;
  }
  let sent = 0;
  while (sent < MAX_SEGMENTS_PER_OUTPUT) {
    if (c.inRecovery || c.forceRetransmit) {
      if (nextHole(c)) {
        const room = c.cc.cwnd - (c.sackOk ? pipe(c) : seqSub(c.sndNxt, c.sndUna));
        if (c.forceRetransmit || room >= hole.len || (c.sackOk && room > 0)) {
          c.forceRetransmit = false;
          const end = seqAdd(hole.seq, sendData(c, hole.seq, hole.len, now));
          if (seqGt(end, c.highRxt)) c.highRxt = end;
          c.rxtMark = c.sndMax;
          sent++;
          continue;
        }
      }
      c.forceRetransmit = false;
    }
    const dataEnd = seqAdd(c.sndBufSeq, c.sndBuf.length);
    const dataLeft = seqSub(dataEnd, c.sndNxt);
    const finLeft = c.finQueued && seqSub(seqAdd(dataEnd, 1), c.sndNxt) > 0;
    if (dataLeft <= 0 && !finLeft) break;
    const flight = c.inRecovery && c.sackOk ? pipe(c) : seqSub(c.sndNxt, c.sndUna);
    const wndRoom = seqSub(seqAdd(c.sndUna, c.sndWnd), c.sndNxt);
    // Limited transmit (RFC 3042): each of the first two duplicate ACKs lets one new segment
    // out beyond cwnd, so a small window can still produce the third duplicate.
    const limited = c.inRecovery ? 0 : Math.min(c.dupAcks, 2) * c.mss;
    const cwndRoom = c.cc.cwnd + limited - flight;
    if (dataLeft <= 0) {
      // Only the FIN is left; it needs no window space, only the congestion window's leave.
      if (cwndRoom <= 0 && flight > 0) break;
      sendData(c, c.sndNxt, 0, now);
      sent++;
      break;
    }
    let len = Math.min(dataLeft, tsoBurst(c), wndRoom, Math.floor(cwndRoom));
    // A large segment the window or cwnd cuts short ends on a segment boundary: the device
    // would otherwise put a runt in the middle of the stream (Linux trims the same way).
    if (len > c.mss && len < dataLeft) len -= len % c.mss;
    if (len <= 0) {
      if (wndRoom <= 0 && flight === 0) armPersist(c, now);
      break;
    }
    if (len < c.mss && len < dataLeft) {
      // A runt the window forces. Wait for ACKs if any are coming; else send it only if the
      // peer's window is mostly open (RFC 9293 3.8.6.2.1), and let the persist timer decide otherwise.
      if (flight > 0) break;
      if (len < c.maxSndWnd / 2) {
        armPersist(c, now);
        break;
      }
    }
    // Nagle: one small segment in flight at a time, unless TCP_NODELAY.
    if (len < c.mss && len === dataLeft && !c.nodelay && flight > 0 && !c.finQueued) break;
    len = sendData(c, c.sndNxt, len, now);
    sent++;
    if (len === 0) break;
  }
  armTailLossProbe(c, now);
  // A pure ACK carries the highest sequence sent, not a rewound sndNxt: the peer may
  // already hold everything below it and would find an older number unacceptable.
  if (c.ackNow) sendSegment(c, c.sndMax, 0, TCP_ACK, now);
}

/**
 * Most data bytes one segment may carry: one MSS, or with segmentation offload
 * as many whole MSS-sized parts as fit the device's limit. The device cuts
 * parts of MTU - 40 - options bytes, so offload is used only when that is the
 * connection's MSS (the peer's MSS does not ask for less).
 */
export function tsoBurst(c: TcpConnection): number {
  const cfg = c.layer.stack.config;
  if (cfg.tso === 0 || Math.min(c.peerMss, cfg.mtu - 40) !== cfg.mtu - 40) return c.mss;
  const room = cfg.tso - 40 - (c.tsOk ? 12 : 0);
  return Math.max(c.mss, room - (room % c.mss));
}

function armPersist(c: TcpConnection, now: number): void {
  if (!c.persistTimer.armed) c.layer.stack.timers.set(c.persistTimer, now + c.rtt.rto);
}

/**
 * Sends data bytes [seq, seq+len) from the send buffer (a FIN rides along when
 * they reach its end); returns the data bytes sent.
 */
export function sendData(c: TcpConnection, seq: number, len: number, now: number): number {
  const dataEnd = seqAdd(c.sndBufSeq, c.sndBuf.length);
  const end = seqAdd(seq, len);
  let flags = TCP_ACK;
  if (end === dataEnd) flags |= len > 0 ? TCP_PSH : 0;
  if (c.finQueued && end === dataEnd) flags |= TCP_FIN;
  const retransmit = seqLt(seq, c.sndMax);
  const n = sendSegment(c, seq, len, flags, now);
  const fin = (flags & TCP_FIN) !== 0 && n === len;
  const segEnd = seqAdd(seq, n + (fin ? 1 : 0));
  if (seqGt(segEnd, c.sndNxt)) c.sndNxt = segEnd;
  if (seqGt(segEnd, c.sndMax)) c.sndMax = segEnd;
  const stats = c.layer.stack.stats;
  if (retransmit) stats.tcpRetransmits++;
  else if (!c.timing && n > 0 && !c.inRecovery) {
    // Not during recovery: the ACK of new data sent past holes waits for their repair.
    c.timing = true;
    c.timedSeq = seq;
    c.timedAt = now;
  }
  if (!c.rtxTimer.armed) c.layer.stack.timers.set(c.rtxTimer, now + c.rtt.rto);
  if (c.persistTimer.armed) c.layer.stack.timers.cancel(c.persistTimer);
  return n;
}

function sendSyn(c: TcpConnection, now: number): void {
  const flags = c.state === TcpState.SYN_RECEIVED ? TCP_SYN | TCP_ACK : TCP_SYN;
  if (c.rtxCount === 0) {
    c.timing = true;
    c.timedSeq = c.iss;
    c.timedAt = now;
  } else {
    c.layer.stack.stats.tcpRetransmits++;
  }
  sendSegment(c, c.iss, 0, flags, now);
  c.sndNxt = seqAdd(c.iss, 1);
  if (seqGt(c.sndNxt, c.sndMax)) c.sndMax = c.sndNxt;
  if (!c.rtxTimer.armed) c.layer.stack.timers.set(c.rtxTimer, now + c.rtt.rto);
}

/** A zero-window or keepalive probe: an old sequence number that makes the peer answer with an ACK. */
export function sendProbe(c: TcpConnection): void {
  sendSegment(c, (c.sndUna - 1) >>> 0, 0, TCP_ACK, c.layer.stack.now);
}

/** The window field to advertise, and the right edge it implies (never moving left). */
function windowField(c: TcpConnection, syn: boolean): number {
  let right = seqAdd(c.rcvNxt, c.rcvBuf.free);
  if (seqLt(right, c.rcvAdvRight)) right = c.rcvAdvRight;
  else if (
    seqSub(right, c.rcvAdvRight) < Math.min(c.rcvBuf.maxCapacity / 2, c.mss) &&
    seqGt(c.rcvAdvRight, c.rcvNxt)
  ) {
    // Receiver-side SWS avoidance: do not offer a sliver more; the window is not closed.
    right = c.rcvAdvRight;
  }
  const wnd = Math.max(0, seqSub(right, c.rcvNxt));
  const field = syn ? Math.min(wnd, 65535) : Math.min(Math.floor(wnd / 2 ** c.rcvScale), 65535);
  const edge = seqAdd(c.rcvNxt, syn ? field : field * 2 ** c.rcvScale);
  if (seqGt(edge, c.rcvAdvRight)) c.rcvAdvRight = edge;
  return field;
}

/**
 * Builds and sends one segment from the connection's state. Returns the data
 * bytes it carried (fewer than asked when options leave less room).
 */
export function sendSegment(
  c: TcpConnection,
  seq: number,
  len: number,
  flags: number,
  now: number,
): number {
  const stack = c.layer.stack;
  const cfg = stack.config;
  const b = stack.link.tx;
  const o = opts.reset();
  const syn = (flags & TCP_SYN) !== 0;
  const tsNow = (Math.floor(now) + c.tsOffset) >>> 0;
  if (syn) {
    const synAck = (flags & TCP_ACK) !== 0;
    o.mss = cfg.tcp.mss;
    if (c.wantScale >= 0 && (!synAck || c.peerWs >= 0)) o.windowScale = c.wantScale;
    if (cfg.tcp.sack && (!synAck || c.peerSackOk)) o.sackPermitted = true;
    if (cfg.tcp.timestamps && (!synAck || c.peerTs)) o.setTimestamp(tsNow, synAck ? c.tsRecent : 0);
  } else {
    if (c.tsOk) o.setTimestamp(tsNow, c.tsRecent);
    if (c.sackOk && !c.ooo.isEmpty && (flags & TCP_ACK) !== 0) addSackBlocks(c, o);
  }
  const optLen = emitTcpOptions(b, L4_OFFSET + TCP_HEADER_LEN, o);
  let room = cfg.mtu - 20 - TCP_HEADER_LEN - optLen;
  if (len > room && cfg.tso > 0) {
    // Segmentation offload: whole parts of `room` bytes, the datagram within the device's limit.
    const parts = Math.floor((cfg.tso - 20 - TCP_HEADER_LEN - optLen) / room);
    if (parts > 1) {
      room = Math.min(len, parts * room);
      stack.stats.tcpOffloadSegments++;
    }
  }
  if (len > room) {
    len = room;
    flags &= ~(TCP_FIN | TCP_PSH);
  }
  // With the checksum left to the device the payload need not pass through the transmit
  // buffer: the device copies it straight from the send buffer (no full checksum to compute).
  const mode = checksumMode(stack);
  let body: Uint8Array | undefined;
  let rest: Uint8Array | undefined;
  if (len > 0) {
    const offset = seqSub(seq, c.sndBufSeq);
    if (mode === 'partial') {
      body = c.sndBuf.view(offset, len);
      if (body.byteLength < len)
        rest = c.sndBuf.view(offset + body.byteLength, len - body.byteLength);
    } else {
      c.sndBuf.peek(offset, b, L4_OFFSET + TCP_HEADER_LEN + optLen, len);
    }
  }
  const window = windowField(c, syn);
  const ack = flags & TCP_ACK ? c.rcvNxt : 0;
  emitTcpHeader(
    b,
    L4_OFFSET,
    c.localPort,
    c.remotePort,
    seq,
    ack,
    flags,
    window,
    optLen,
    len,
    c.localIp,
    c.remoteIp,
    mode,
  );
  stack.stats.tcpOut++;
  if (flags & TCP_ACK) {
    c.lastAckSent = c.rcvNxt;
    c.ackNow = false;
    c.segsSinceAck = 0;
    if (c.delackTimer.armed) stack.timers.cancel(c.delackTimer);
  }
  stack.ipv4.output(
    c.remoteIp,
    IPPROTO_TCP,
    TCP_HEADER_LEN + optLen + len,
    c.arpDone,
    c.peerMac,
    body,
    rest,
  );
  return len;
}

/** SACK blocks: the one holding the latest arrival first (RFC 2018 4), then the rest in order. */
function addSackBlocks(c: TcpConnection, o: TcpOptions): void {
  const ooo = c.ooo;
  let first = -1;
  for (let i = 0; i < ooo.count; i++) {
    if (ooo.start(i) <= c.lastOooStart && ooo.end(i) > c.lastOooStart) {
      first = i;
      break;
    }
  }
  if (first >= 0) o.addSack(seqAdd(c.rcvNxt, ooo.start(first)), seqAdd(c.rcvNxt, ooo.end(first)));
  for (let i = 0; i < ooo.count; i++)
    if (i !== first) o.addSack(seqAdd(c.rcvNxt, ooo.start(i)), seqAdd(c.rcvNxt, ooo.end(i)));
}

/**
 * A SYN-ACK that keeps no state: the answer to a SYN while the SYN queue is
 * full, its sequence number a SYN cookie. `tsVal` < 0 sends no timestamp.
 */
export function sendCookieSynAck(
  stack: InetStack,
  seg: Segment,
  iss: number,
  windowScale: number,
  sackPermitted: boolean,
  tsVal: number,
): void {
  const cfg = stack.config;
  const b = stack.link.tx;
  const o = opts.reset();
  o.mss = cfg.tcp.mss;
  if (windowScale >= 0) o.windowScale = windowScale;
  if (sackPermitted) o.sackPermitted = true;
  if (tsVal >= 0) o.setTimestamp(tsVal, seg.options.tsVal);
  const optLen = emitTcpOptions(b, L4_OFFSET + TCP_HEADER_LEN, o);
  emitTcpHeader(
    b,
    L4_OFFSET,
    seg.dstPort,
    seg.srcPort,
    iss,
    seqAdd(seg.seq, 1),
    TCP_SYN | TCP_ACK,
    Math.min(cfg.tcp.receiveBuffer, 65535),
    optLen,
    0,
    cfg.ipv4,
    seg.srcIp,
    checksumMode(stack),
  );
  stack.stats.tcpOut++;
  stack.stats.tcpSynCookiesSent++;
  stack.ipv4.output(seg.srcIp, IPPROTO_TCP, TCP_HEADER_LEN + optLen);
}

/** A reset for a segment no connection owns, or to abort one. */
export function sendRst(
  stack: InetStack,
  localPort: number,
  remoteIp: number,
  remotePort: number,
  seq: number,
  ack: number,
  withAck: boolean,
  macHint?: Uint8Array,
): void {
  const b = stack.link.tx;
  const flags = TCP_RST | (withAck ? TCP_ACK : 0);
  emitTcpHeader(
    b,
    L4_OFFSET,
    localPort,
    remotePort,
    seq,
    withAck ? ack : 0,
    flags,
    0,
    0,
    0,
    stack.config.ipv4,
    remoteIp,
    checksumMode(stack),
  );
  stack.stats.tcpOut++;
  stack.stats.tcpRstOut++;
  stack.ipv4.output(remoteIp, IPPROTO_TCP, TCP_HEADER_LEN, undefined, macHint);
}
