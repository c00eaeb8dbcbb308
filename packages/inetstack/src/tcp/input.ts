import { ERRNO } from '@demi/core';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import { processAck } from './ack.js';
import type { TcpConnection } from './connection.js';
import { settleOptions, takeSynOptions } from './options.js';
import { sendRst, sendSegment } from './output.js';
import type { Segment } from './segment.js';
import { seqAdd, seqGt, seqInWindow, seqLe, seqLt, seqSub } from './seq.js';
import { TcpState } from './state.js';

/** Timestamps compare like sequence numbers. */
function tsLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** A segment for an existing connection (RFC 9293 3.10.7.3 and 3.10.7.4). */
export function segmentArrives(c: TcpConnection, seg: Segment, now: number): void {
  if (c.state === TcpState.SYN_SENT) {
    synSentArrives(c, seg, now);
    return;
  }
  const flags = seg.flags;
  const layer = c.layer;
  const stats = layer.stack.stats;

  // PAWS (RFC 7323 5): an old timestamp marks an old duplicate.
  if (
    c.tsOk &&
    seg.options.hasTimestamp &&
    (flags & TCP_RST) === 0 &&
    tsLt(seg.options.tsVal, c.tsRecent)
  ) {
    stats.tcpDropped++;
    ackUnacceptable(c, seg, now);
    return;
  }

  // A retransmitted SYN in a passive SYN-RECEIVED: our SYN-ACK was lost, send it again.
  if (
    c.state === TcpState.SYN_RECEIVED &&
    (flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN &&
    seg.seq === c.irs
  ) {
    c.sndNxt = c.iss;
    layer.markDirty(c);
    return;
  }

  // 1. Is any of it inside our receive window?
  const segLen = seg.len;
  const rcvWnd = Math.max(0, seqSub(c.rcvAdvRight, c.rcvNxt));
  let acceptable: boolean;
  // A zero-length segment may sit exactly at the right edge (as Linux allows): a sender that
  // filled our window sends its ACKs with that sequence number.
  if (segLen === 0) acceptable = seqInWindow(seg.seq, c.rcvNxt, rcvWnd + 1);
  else
    acceptable =
      rcvWnd > 0 &&
      (seqInWindow(seg.seq, c.rcvNxt, rcvWnd) ||
        seqInWindow(seqAdd(seg.seq, segLen - 1), c.rcvNxt, rcvWnd));
  if (!acceptable) {
    stats.tcpDropped++;
    if ((flags & TCP_RST) === 0) ackUnacceptable(c, seg, now);
    return;
  }
  c.lastReceiveAt = now;
  c.probes = 0;
  // RFC 7323 4.3: remember the timestamp of the segment our next ACK will cover.
  if (c.tsOk && seg.options.hasTimestamp && seqLe(seg.seq, c.lastAckSent))
    c.tsRecent = seg.options.tsVal;

  // 2. RST: exact match resets; in-window but inexact earns a challenge ACK (RFC 5961 3).
  // TIME-WAIT ignores resets (RFC 1337): a stray RST must not cut the wait short.
  if (flags & TCP_RST) {
    if (c.state === TcpState.TIME_WAIT) return;
    if (seg.seq !== c.rcvNxt) {
      stats.tcpChallengeAcks++;
      ackUnacceptable(c, seg, now);
      return;
    }
    resetArrives(c);
    return;
  }

  // 3. SYN in a synchronized state: challenge ACK (RFC 5961 4); a passive SYN-RECEIVED starts over.
  if (flags & TCP_SYN) {
    if (c.state === TcpState.SYN_RECEIVED && c.listener !== undefined) {
      c.release();
      return;
    }
    stats.tcpChallengeAcks++;
    ackUnacceptable(c, seg, now);
    return;
  }

  // 4. Everything from here on carries an ACK.
  if ((flags & TCP_ACK) === 0) return;

  // 5. ACK.
  if (c.state === TcpState.SYN_RECEIVED) {
    if (!(seqLt(c.sndUna, seg.ack) && seqLe(seg.ack, c.sndMax))) {
      sendRst(layer.stack, c.localPort, c.remoteIp, c.remotePort, seg.ack, 0, false);
      return;
    }
    c.sndWnd = seg.window << c.sndScale;
    c.maxSndWnd = Math.max(c.maxSndWnd, c.sndWnd);
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    c.state = TcpState.ESTABLISHED;
    c.armKeepalive();
    layer.established(c);
  }
  if (seqGt(seg.ack, c.sndMax)) {
    // Acknowledges something never sent.
    c.ackNow = true;
    layer.markDirty(c);
    return;
  }
  if (seqLt(seg.ack, seqAdd(c.sndUna, -c.maxSndWnd))) {
    // Older than any window we ever sent into (RFC 5961 5.2): a blind injection
    // guessing our sequence space. Drop it, data included, and (rate-limited) ACK.
    stats.tcpChallengeAcks++;
    ackUnacceptable(c, seg, now);
    return;
  }
  const hadFinAcked = c.finAcked;
  processAck(c, seg, now);
  if (c.released) return;
  if (!hadFinAcked && c.finAcked) finAcked(c);
  if (c.released) return;

  // 7. Data.
  const s = c.state;
  if (seg.dataLen > 0) {
    if (c.orphan && (s === TcpState.FIN_WAIT_1 || s === TcpState.FIN_WAIT_2)) {
      // Nobody will ever read it: tell the peer (as Linux does for data after close).
      c.abort();
      return;
    }
    if (s === TcpState.ESTABLISHED || s === TcpState.FIN_WAIT_1 || s === TcpState.FIN_WAIT_2)
      receiveData(c, seg);
    else {
      // After the peer's FIN there is nothing more to receive.
      c.ackNow = true;
    }
  }

  // 8. FIN.
  if (flags & TCP_FIN) {
    const finSeq = seqAdd(seg.seq, seg.dataLen);
    if (c.finReceived) {
      // A retransmitted FIN: our ACK was lost. In TIME_WAIT it restarts the 2 MSL wait.
      c.ackNow = true;
      if (c.state === TcpState.TIME_WAIT) c.enterTimeWait();
    } else if (finSeq === c.rcvNxt) {
      finArrives(c);
    } else if (seqGt(finSeq, c.rcvNxt) && seqLe(finSeq, c.rcvAdvRight)) {
      c.finPendingSeq = finSeq;
      // With data, receiveData has already answered this segment.
      if (seg.dataLen === 0) c.ackNow = true;
    }
  }
  if (c.ackNow || c.sndBuf.length > 0 || c.finQueued) layer.markDirty(c);
}

/** Minimum spacing of ACKs answering segments that carry no data (RFC 5961 10, Linux's tcp_invalid_ratelimit). */
const INVALID_ACK_INTERVAL_MS = 500;

/**
 * Answers an unacceptable segment (or a challenge) with an ACK. When the segment
 * carried no data it may itself be such an answer: rate-limit, or two stacks that
 * disagree would ACK each other forever.
 */
function ackUnacceptable(c: TcpConnection, seg: Segment, now: number): void {
  if (seg.dataLen === 0) {
    if (now - c.lastInvalidAckAt < INVALID_ACK_INTERVAL_MS) return;
    c.lastInvalidAckAt = now;
  }
  c.ackNow = true;
  c.layer.markDirty(c);
}

function resetArrives(c: TcpConnection): void {
  switch (c.state) {
    case TcpState.SYN_RECEIVED:
      if (c.listener !== undefined) c.release();
      else c.fail(ERRNO.ECONNREFUSED);
      return;
    case TcpState.ESTABLISHED:
    case TcpState.FIN_WAIT_1:
    case TcpState.FIN_WAIT_2:
    case TcpState.CLOSE_WAIT:
      c.fail(ERRNO.ECONNRESET);
      return;
    default:
      c.release();
  }
}

function finAcked(c: TcpConnection): void {
  const timers = c.layer.stack.timers;
  switch (c.state) {
    case TcpState.FIN_WAIT_1:
      c.state = TcpState.FIN_WAIT_2;
      timers.cancel(c.lifeTimer);
      if (c.orphan)
        timers.set(c.lifeTimer, c.layer.stack.now + c.layer.stack.config.tcp.finWait2TimeoutMs);
      break;
    case TcpState.CLOSING:
      timers.cancel(c.lifeTimer);
      c.enterTimeWait();
      break;
    case TcpState.LAST_ACK:
      c.events?.onFinAcked?.();
      c.release();
      return;
    default:
      break;
  }
  c.events?.onFinAcked?.();
}

/** In-order data goes to the application's buffer; out-of-order data waits there too, tracked by ranges. */
function receiveData(c: TcpConnection, seg: Segment): void {
  let seq = seg.seq;
  let off = seg.dataOff;
  let len = seg.dataLen;
  const stats = c.layer.stack.stats;
  if (len > c.mss) stats.tcpLargeSegmentsIn++;
  // Trim what we already have.
  const dup = seqSub(c.rcvNxt, seq);
  if (dup > 0) {
    if (dup >= len) {
      ackAtOnce(c);
      return;
    }
    seq = c.rcvNxt;
    off += dup;
    len -= dup;
  }
  // Trim what lies beyond the window (and beyond the buffer: the two agree, but be certain).
  const room = Math.min(seqSub(c.rcvAdvRight, seq), c.rcvBuf.free - seqSub(seq, c.rcvNxt));
  if (len > room) len = Math.max(0, room);
  if (len === 0) {
    c.ackNow = true;
    return;
  }
  const offset = seqSub(seq, c.rcvNxt);
  if (offset === 0) {
    const hadHoles = !c.ooo.isEmpty;
    c.rcvBuf.writeAt(c.rcvBuf.length, seg.buf, off, len);
    advance(c, len);
    if (hadHoles) {
      // Filled (part of) a hole: ACK at once so the sender's recovery moves on.
      ackAtOnce(c);
    } else if ((c.segsSinceAck += len > c.mss ? 2 : 1) >= 2) {
      // A coalesced segment (GRO) stands for several: ACK it at once, as for two full ones.
      c.ackNow = true;
    } else if (!c.delackTimer.armed) {
      c.layer.stack.timers.set(
        c.delackTimer,
        c.layer.stack.now + c.layer.stack.config.tcp.delayedAckMs,
      );
    }
    c.events?.onReadable?.();
    return;
  }
  // Out of order: keep it if the range map has room, and ACK at once (a duplicate ACK with SACK).
  stats.tcpOooSegments++;
  if (c.ooo.add(offset, offset + len)) {
    c.rcvBuf.writeAt(c.rcvBuf.length + offset, seg.buf, off, len);
    c.lastOooStart = offset;
  } else {
    stats.tcpDropped++;
  }
  ackAtOnce(c);
}

/**
 * Sends an ACK now rather than at the end of the batch: one per out-of-order or
 * duplicate segment, so a sender counting duplicate ACKs sees each of them.
 */
function ackAtOnce(c: TcpConnection): void {
  sendSegment(c, c.sndMax, 0, TCP_ACK, c.layer.stack.now);
}

/** Moves rcvNxt forward by `n` in-order bytes, absorbing out-of-order ranges that became contiguous. */
function advance(c: TcpConnection, n: number): void {
  let k = n;
  for (;;) {
    c.rcvBuf.commit(k);
    c.rcvNxt = seqAdd(c.rcvNxt, k);
    if (c.ooo.isEmpty) break;
    c.ooo.shift(k);
    c.lastOooStart -= k;
    const end = c.ooo.endOfRangeContaining(0);
    c.ooo.removeBelow(0);
    if (end === undefined) break;
    c.ooo.removeBelow(end);
    k = end;
  }
  if (c.finPendingSeq !== -1 && c.finPendingSeq === c.rcvNxt) {
    c.finPendingSeq = -1;
    finArrives(c);
  }
}

function finArrives(c: TcpConnection): void {
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  c.finReceived = true;
  c.ackNow = true;
  switch (c.state) {
    case TcpState.SYN_RECEIVED:
    case TcpState.ESTABLISHED:
      c.state = TcpState.CLOSE_WAIT;
      break;
    case TcpState.FIN_WAIT_1:
      if (c.finAcked) c.enterTimeWait();
      else c.state = TcpState.CLOSING;
      break;
    case TcpState.FIN_WAIT_2:
      c.enterTimeWait();
      break;
    default:
      break;
  }
  c.layer.stack.timers.cancel(c.delackTimer);
  c.events?.onReadable?.();
}

/** SYN-SENT (RFC 9293 3.10.7.3). */
function synSentArrives(c: TcpConnection, seg: Segment, now: number): void {
  const flags = seg.flags;
  const layer = c.layer;
  let ackOk = false;
  if (flags & TCP_ACK) {
    if (seqLe(seg.ack, c.iss) || seqGt(seg.ack, c.sndMax)) {
      if ((flags & TCP_RST) === 0)
        sendRst(layer.stack, c.localPort, c.remoteIp, c.remotePort, seg.ack, 0, false);
      return;
    }
    ackOk = true;
  }
  if (flags & TCP_RST) {
    if (ackOk) c.fail(ERRNO.ECONNREFUSED);
    return;
  }
  if ((flags & TCP_SYN) === 0) return;
  c.irs = seg.seq;
  c.rcvNxt = seqAdd(seg.seq, 1);
  c.rcvAdvRight = c.rcvNxt;
  c.lastReceiveAt = now;
  takeSynOptions(c, seg);
  settleOptions(c, now);
  if (ackOk) {
    // Our SYN is acknowledged: established. Windows in a SYN are never scaled.
    c.sndUna = seg.ack;
    c.sndUnaAbs = 1;
    c.sndWnd = seg.window;
    c.maxSndWnd = c.sndWnd;
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    if (c.timing) {
      c.rtt.sample(now - c.timedAt);
      c.timing = false;
    }
    c.rtxCount = 0;
    c.rtt.backoff = 0;
    layer.stack.timers.cancel(c.rtxTimer);
    c.state = TcpState.ESTABLISHED;
    c.armKeepalive();
    c.ackNow = true;
    layer.markDirty(c);
    c.events?.onEstablished?.();
    return;
  }
  // Simultaneous open: both sides sent a SYN.
  c.state = TcpState.SYN_RECEIVED;
  c.sndWnd = seg.window;
  c.maxSndWnd = c.sndWnd;
  c.sndNxt = c.iss;
  c.timing = false;
  layer.markDirty(c);
}
