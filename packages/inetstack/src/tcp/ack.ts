import type { TcpConnection } from './connection.js';
import type { Segment } from './segment.js';
import { seqGe, seqGt, seqLe, seqLt, seqMax, seqSub } from './seq.js';
import { armTailLossProbe } from './timeouts.js';

/** Duplicate ACKs that signal a loss (RFC 5681). */
const DUP_THRESH = 3;

/**
 * ACK processing for a synchronized connection: window updates, the SACK
 * scoreboard, new data acknowledged (RTT, congestion control, timers), duplicate
 * ACKs and fast retransmit/recovery (NewReno, RFC 6582; with SACK, RFC 6675's
 * loss recovery).
 */
export function processAck(c: TcpConnection, seg: Segment, now: number): void {
  const ack = seg.ack;
  const stack = c.layer.stack;
  // Window update (RFC 9293 3.10.7.4): only from a segment newer than the last one that set it.
  let windowChanged = false;
  if (seqLt(c.sndWl1, seg.seq) || (c.sndWl1 === seg.seq && seqLe(c.sndWl2, ack))) {
    const wnd = seg.window * 2 ** c.sndScale;
    windowChanged = wnd !== c.sndWnd;
    c.sndWnd = wnd;
    c.sndWl1 = seg.seq;
    c.sndWl2 = ack;
    if (wnd > c.maxSndWnd) c.maxSndWnd = wnd;
    if (wnd > 0 && c.persistTimer.armed) {
      stack.timers.cancel(c.persistTimer);
      c.rtt.backoff = 0;
    }
  }
  const sackedBefore = c.sacked.size;
  const probed = c.tlpCount > 0;
  if (c.sackOk && seg.options.sackCount > 0) takeSackBlocks(c, seg);
  // New SACK information is progress: another probe may follow if the recovery stalls again.
  if (c.sacked.size > sackedBefore) c.tlpCount = 0;

  if (seqGt(ack, c.sndUna)) {
    newAck(c, seg, now);
  } else if (ack === c.sndUna && c.sndMax !== c.sndUna && (seg.flags & 3) === 0) {
    // RFC 5681's duplicate: no data, same window. RFC 6675's: it SACKs something new,
    // whatever else it carries (a reading receiver moves its window between them).
    const plain = seg.dataLen === 0 && !windowChanged;
    if (plain || c.sacked.size > sackedBefore) duplicateAck(c, now, probed);
  }
}

function takeSackBlocks(c: TcpConnection, seg: Segment): void {
  const o = seg.options;
  for (let i = 0; i < o.sackCount; i++) {
    const left = o.sackBlocks[2 * i]!;
    const right = o.sackBlocks[2 * i + 1]!;
    // Blocks below sndUna (D-SACK) or beyond what we sent are not scoreboard material.
    if (!seqLt(left, right) || seqLe(right, c.sndUna) || seqGt(right, c.sndMax)) continue;
    const base = c.sndUnaAbs;
    const l = base + Math.max(0, seqSub(left, c.sndUna));
    const r = base + seqSub(right, c.sndUna);
    c.sacked.add(l, r);
  }
  // Lost retransmission: data sent after our latest retransmission is SACKed while holes
  // we already resent are not. Resend them (a simple form of RACK's time-order rule).
  if (c.inRecovery && seqGt(c.highRxt, c.sndUna)) {
    const mark = c.sndUnaAbs + seqSub(c.rxtMark, c.sndUna);
    if ((c.sacked.last ?? 0) > mark + c.mss && hasHoleBelow(c, c.highRxt)) {
      c.highRxt = c.sndUna;
      c.rxtMark = c.sndMax;
      c.forceRetransmit = true;
      c.layer.stack.stats.tcpLostRetransmits++;
    }
  }
}

/** Whether bytes between sndUna and `seq` are neither acknowledged nor SACKed. */
function hasHoleBelow(c: TcpConnection, seq: number): boolean {
  const end = c.sndUnaAbs + seqSub(seq, c.sndUna);
  return c.sacked.sizeFrom(c.sndUnaAbs) - c.sacked.sizeFrom(end) < end - c.sndUnaAbs;
}

function newAck(c: TcpConnection, seg: Segment, now: number): void {
  const stack = c.layer.stack;
  const ack = seg.ack;
  const acked = seqSub(ack, c.sndUna);
  const flight = seqSub(c.sndMax, c.sndUna);

  // Release acknowledged data (a SYN or FIN occupies sequence space but no buffer).
  const dataAcked = Math.min(Math.max(0, seqSub(ack, c.sndBufSeq)), c.sndBuf.length);
  if (dataAcked > 0) {
    c.sndBuf.discard(dataAcked);
    c.sndBufSeq = (c.sndBufSeq + dataAcked) >>> 0;
  }
  c.sndUna = ack;
  c.sndUnaAbs += acked;
  if (seqLt(c.sndNxt, ack)) c.sndNxt = ack;
  c.sacked.removeBelow(c.sndUnaAbs);
  c.rtxCount = 0;
  c.probes = 0;

  // RTT from the timed segment only, never one that was retransmitted (Karn's rule). An echoed
  // timestamp can be stale (the peer echoes the last segment that advanced its window, which
  // after losses may be seconds old), so timestamps serve PAWS, not RTT measurement.
  if (c.timing && seqGt(ack, c.timedSeq)) {
    c.rtt.sample(now - c.timedAt);
    c.timing = false;
  }
  c.rtt.backoff = 0;

  if (c.inRecovery) {
    if (seqLe(c.recoverSeq, ack)) {
      c.inRecovery = false;
      c.dupAcks = 0;
      c.cc.onRecoveryEnd(seqSub(c.sndMax, c.sndUna), now);
    } else {
      // Partial ACK (RFC 6582 3.2): the next hole is lost too; resend it now.
      if (!c.sackOk) c.cc.cwnd = Math.max(c.cc.cwnd - acked + c.mss, c.mss);
      if (seqLe(c.highRxt, c.sndUna)) c.forceRetransmit = true;
    }
  } else {
    c.dupAcks = 0;
    c.cc.onAck(acked, flight, now, c.rtt.srtt);
  }

  // RFC 6298 5.2/5.3: stop the timer when all is acknowledged, else restart it.
  if (c.sndUna === c.sndMax) stack.timers.cancel(c.rtxTimer);
  else stack.timers.set(c.rtxTimer, now + c.rtt.rto);
  c.tlpCount = 0;
  armTailLossProbe(c, now);

  if (dataAcked > 0 && c.canSend) c.events?.onWritable?.();
  c.layer.markDirty(c);
}

function duplicateAck(c: TcpConnection, now: number, probed: boolean): void {
  c.dupAcks++;
  if (c.inRecovery) {
    // NewReno inflation: each duplicate means a segment left the network.
    if (!c.sackOk) c.cc.cwnd += c.mss;
    c.layer.markDirty(c);
    return;
  }
  // Early retransmit (RFC 5827): with fewer than four segments out and nothing new to
  // send, three duplicates can never come; one fewer than the segments out will do.
  let thresh = DUP_THRESH;
  const unsent = seqSub((c.sndBufSeq + c.sndBuf.length) >>> 0, c.sndNxt);
  if (unsent <= 0) {
    const outSegs = Math.ceil(seqSub(c.sndMax, c.sndUna) / c.mss);
    if (outSegs < 4) thresh = Math.max(1, outSegs - 1);
  }
  // A tail loss probe that arrives above a hole shows the loss on its own (RFC 8985 7.4's aim).
  const sackLoss =
    c.sackOk && (c.sacked.size > (thresh - 1) * c.mss || (probed && c.sacked.size > 0));
  // After a timeout, duplicates of data sent before it must not trigger another reduction
  // (RFC 6582 4.1). SACK needs no such guard: new SACKed data above a hole is a real loss.
  if (sackLoss || (c.dupAcks >= thresh && seqGe(c.sndUna, c.recoverSeq))) enterRecovery(c, now);
}

export function enterRecovery(c: TcpConnection, now: number): void {
  const flight = seqSub(c.sndMax, c.sndUna);
  c.inRecovery = true;
  c.layer.stack.timers.cancel(c.tlpTimer);
  c.recoverSeq = c.sndMax;
  c.highRxt = c.sndUna;
  c.rxtMark = c.sndMax;
  c.forceRetransmit = true;
  c.timing = false;
  c.cc.onCongestion(flight, now);
  if (!c.sackOk) c.cc.cwnd = c.cc.ssthresh + DUP_THRESH * c.mss;
  c.layer.stack.stats.tcpFastRetransmits++;
  c.layer.markDirty(c);
}

/** The next segment to retransmit in recovery, written to `hole`; false when there is none. */
export const hole = { seq: 0, len: 0 };

export function nextHole(c: TcpConnection): boolean {
  const dataEnd = (c.sndBufSeq + c.sndBuf.length) >>> 0;
  const start = seqMax(c.sndUna, c.highRxt);
  if (!c.sackOk || c.sacked.isEmpty) {
    // Without SACK only the first unacknowledged segment is known to be lost.
    if (seqGt(start, c.sndUna)) return false;
    const len = Math.min(c.mss, seqSub(dataEnd, c.sndUna));
    if (len <= 0) return false;
    hole.seq = c.sndUna;
    hole.len = len;
    return true;
  }
  const base = c.sndUnaAbs;
  const endAbs = base + seqSub(dataEnd, c.sndUna);
  const high = c.sacked.last!;
  let abs = base + seqSub(start, c.sndUna);
  while (abs < high) {
    const covered = c.sacked.endOfRangeContaining(abs);
    if (covered !== undefined) {
      abs = covered;
      continue;
    }
    // RFC 6675 IsLost: the first hole is; others need enough SACKed data above them.
    if (abs !== base && c.sacked.sizeFrom(abs) <= (DUP_THRESH - 1) * c.mss) return false;
    let holeEnd = high;
    for (let i = 0; i < c.sacked.count; i++) {
      if (c.sacked.start(i) > abs) {
        holeEnd = c.sacked.start(i);
        break;
      }
    }
    const len = Math.min(c.mss, holeEnd - abs, endAbs - abs);
    if (len <= 0) return false;
    hole.seq = (c.sndUna + (abs - base)) >>> 0;
    hole.len = len;
    return true;
  }
  return false;
}

/** RFC 6675's pipe: bytes believed to be in the network during SACK recovery. */
export function pipe(c: TcpConnection): number {
  const base = c.sndUnaAbs;
  const maxAbs = base + seqSub(c.sndMax, c.sndUna);
  const high = c.sacked.last ?? base;
  const above = maxAbs - Math.max(high, base);
  const rxt = Math.min(base + Math.max(0, seqSub(c.highRxt, c.sndUna)), Math.max(high, base));
  const sackedBelowRxt = c.sacked.sizeFrom(base) - c.sacked.sizeFrom(rxt);
  return Math.max(0, above + (rxt - base - sackedBelowRxt));
}
