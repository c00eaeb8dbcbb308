import { ERRNO } from '@demi/core';
import type { TcpConnection } from './connection.js';
import { output, sendData, sendProbe } from './output.js';
import { seqAdd, seqLt, seqMax, seqSub } from './seq.js';
import { TcpState } from './state.js';

/**
 * The retransmission timer (RFC 6298 5.4-5.7): resend from the oldest
 * unacknowledged byte with a backed-off RTO and a one-segment congestion window;
 * after too many tries the connection fails with ETIMEDOUT.
 */
export function onRetransmitTimeout(c: TcpConnection, now: number): void {
  const s = c.state;
  if (
    s === TcpState.CLOSED ||
    s === TcpState.LISTEN ||
    s === TcpState.TIME_WAIT ||
    c.sndUna === c.sndMax
  )
    return;
  const stack = c.layer.stack;
  const handshake = s === TcpState.SYN_SENT || s === TcpState.SYN_RECEIVED;
  const limit = handshake ? stack.config.tcp.synRetries : stack.config.tcp.retries;
  if (c.rtxCount >= limit) {
    stack.stats.tcpTimedOut++;
    // A half-open child of a listener just goes away; anything else reports the failure.
    if (s === TcpState.SYN_RECEIVED && c.listener !== undefined) c.release();
    else c.fail(ERRNO.ETIMEDOUT);
    return;
  }
  c.rtxCount++;
  stack.stats.tcpTimeouts++;
  stack.timers.cancel(c.tlpTimer);
  c.tlpCount = 0;
  if (!handshake) c.cc.onTimeout(seqSub(c.sndMax, c.sndUna), now);
  c.inRecovery = false;
  c.forceRetransmit = false;
  c.dupAcks = 0;
  c.sacked.clear();
  c.recoverSeq = c.sndMax;
  c.highRxt = c.sndUna;
  c.rxtMark = c.sndMax;
  c.timing = false;
  c.rtt.backOff();
  c.sndNxt = c.sndUna;
  stack.timers.set(c.rtxTimer, now + c.rtt.rto);
  output(c, now);
}

/**
 * The persist timer: the peer's window is closed (or too small to be worth a
 * segment) and nothing is in flight to bring an update. Send what fits, or probe.
 */
export function onPersistTimeout(c: TcpConnection, now: number): void {
  const s = c.state;
  if (
    s !== TcpState.ESTABLISHED &&
    s !== TcpState.CLOSE_WAIT &&
    s !== TcpState.FIN_WAIT_1 &&
    s !== TcpState.CLOSING &&
    s !== TcpState.LAST_ACK
  )
    return;
  const stack = c.layer.stack;
  const dataEnd = seqAdd(c.sndBufSeq, c.sndBuf.length);
  const dataLeft = seqSub(dataEnd, c.sndNxt);
  if (dataLeft <= 0) return;
  const wndRoom = seqSub(seqAdd(c.sndUna, c.sndWnd), c.sndNxt);
  if (wndRoom > 0) {
    // The override RFC 9293 allows: send the runt the window permits.
    sendData(c, c.sndNxt, Math.min(wndRoom, c.mss, dataLeft), now);
    return;
  }
  if (c.probes >= stack.config.tcp.retries) {
    stack.stats.tcpTimedOut++;
    c.fail(ERRNO.ETIMEDOUT);
    return;
  }
  c.probes++;
  sendProbe(c);
  c.rtt.backOff();
  stack.timers.set(c.persistTimer, now + c.rtt.rto);
}

/** Probes per episode: RFC 8985 sends one, but against 200 ms of RTO a few cheap ones pay. */
const MAX_PROBES = 3;

/** States in which data is in flight and a probe makes sense. */
function sending(c: TcpConnection): boolean {
  const s = c.state;
  return (
    s === TcpState.ESTABLISHED ||
    s === TcpState.CLOSE_WAIT ||
    s === TcpState.FIN_WAIT_1 ||
    s === TcpState.CLOSING ||
    s === TcpState.LAST_ACK
  );
}

/**
 * Arms the tail loss probe: when the last segments of a flight are lost no
 * duplicate ACK ever comes, and only the RTO (200 ms at least) would notice. Also
 * armed in recovery, where a lost ACK or retransmission leaves nothing else to
 * clock the sender out of a stall.
 */
export function armTailLossProbe(c: TcpConnection, now: number): void {
  const timers = c.layer.stack.timers;
  if (
    !c.layer.stack.config.tcp.tailLossProbe ||
    c.tlpCount >= MAX_PROBES ||
    c.rtxCount > 0 ||
    !c.rtt.hasSample ||
    c.sndUna === c.sndMax ||
    !sending(c) ||
    !c.rtxTimer.armed
  ) {
    timers.cancel(c.tlpTimer);
    return;
  }
  // As Linux (6.7 on): 2 SRTT plus a little, or plus the delayed-ACK time when one segment is
  // out. Linux adds 2 ms (two jiffies); our timers are finer, and on a LAN every ms counts.
  let pto = 2 * c.rtt.srtt;
  if (seqSub(c.sndMax, c.sndUna) <= c.mss)
    pto += Math.max(c.layer.stack.config.tcp.delayedAckMs, 10);
  else pto += 1;
  // A probe or its answer can be lost too: try again, backing off, while the RTO is still far.
  pto *= 2 ** c.tlpCount;
  if (now + pto >= c.rtxTimer.at) timers.cancel(c.tlpTimer);
  else timers.set(c.tlpTimer, now + pto);
}

/**
 * The probe, one segment regardless of the congestion window.
 * - Outside recovery, the last segment sent goes again (RFC 8985 7.3 sends new data
 *   when it can; a receiver may hold its ACK of one new in-order segment for its
 *   delayed-ACK time, but answers a duplicate at once). If the tail was lost, the
 *   probe's SACK above the hole starts recovery (see duplicateAck); if only an ACK
 *   was lost, the answer acknowledges everything.
 * - In recovery (a retransmission or the ACKs after it lost), the oldest
 *   unacknowledged segment goes again: it repairs the hole if the retransmission was
 *   lost, and draws an ACK with the receiver's whole state if only ACKs were.
 */
export function onTailLossProbe(c: TcpConnection, now: number): void {
  if (c.tlpCount >= MAX_PROBES || c.sndUna === c.sndMax || !sending(c)) return;
  c.tlpCount++;
  c.layer.stack.stats.tcpTailLossProbes++;
  const dataEnd = seqAdd(c.sndBufSeq, c.sndBuf.length);
  if (c.inRecovery) {
    sendData(c, c.sndUna, Math.min(c.mss, Math.max(0, seqSub(dataEnd, c.sndUna))), now);
  } else {
    // The highest data sent (a FIN rides along when it was sent).
    const sentEnd = seqLt(c.sndMax, dataEnd) ? c.sndMax : dataEnd;
    const start = seqMax(c.sndUna, (sentEnd - c.mss) >>> 0);
    const len = seqSub(sentEnd, start);
    if (len > 0 || c.finQueued) sendData(c, start, Math.max(0, len), now);
  }
  armTailLossProbe(c, now);
}
