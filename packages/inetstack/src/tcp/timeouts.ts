import { ERRNO } from '@demi/core';
import type { TcpConnection } from './connection.js';
import { output, sendData, sendProbe } from './output.js';
import { seqAdd, seqMax, seqSub } from './seq.js';
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
    stack.stats.tcpTimeouts++;
    // A half-open child of a listener just goes away; anything else reports the failure.
    if (s === TcpState.SYN_RECEIVED && c.listener !== undefined) c.release();
    else c.fail(ERRNO.ETIMEDOUT);
    return;
  }
  c.rtxCount++;
  stack.stats.tcpRtoFired++;
  stack.timers.cancel(c.tlpTimer);
  c.tlpSent = false;
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
    stack.stats.tcpTimeouts++;
    c.fail(ERRNO.ETIMEDOUT);
    return;
  }
  c.probes++;
  sendProbe(c);
  c.rtt.backOff();
  stack.timers.set(c.persistTimer, now + c.rtt.rto);
}

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
 * duplicate ACK ever comes, and only the RTO (200 ms at least) would notice.
 * PTO = 2 SRTT (plus the delayed-ACK time when one segment is out), at least 10 ms.
 */
export function armTailLossProbe(c: TcpConnection, now: number): void {
  const timers = c.layer.stack.timers;
  if (
    !c.layer.stack.config.tcp.tailLossProbe ||
    c.tlpSent ||
    c.inRecovery ||
    c.rtxCount > 0 ||
    !c.rtt.hasSample ||
    c.sndUna === c.sndMax ||
    !sending(c) ||
    !c.rtxTimer.armed
  ) {
    timers.cancel(c.tlpTimer);
    return;
  }
  let pto = Math.max(2 * c.rtt.srtt, 10);
  if (seqSub(c.sndMax, c.sndUna) <= c.mss) pto += c.layer.stack.config.tcp.delayedAckMs;
  if (now + pto >= c.rtxTimer.at) timers.cancel(c.tlpTimer);
  else timers.set(c.tlpTimer, now + pto);
}

/** The probe: one new segment if the window allows, else the last segment sent again. */
export function onTailLossProbe(c: TcpConnection, now: number): void {
  if (c.tlpSent || c.inRecovery || c.sndUna === c.sndMax || !sending(c)) return;
  c.tlpSent = true;
  c.layer.stack.stats.tcpTailLossProbes++;
  const dataEnd = seqAdd(c.sndBufSeq, c.sndBuf.length);
  const unsent = seqSub(dataEnd, c.sndNxt);
  const room = seqSub(seqAdd(c.sndUna, c.sndWnd), c.sndNxt);
  if (unsent > 0 && room > 0) {
    sendData(c, c.sndNxt, Math.min(unsent, room, c.mss), now);
    return;
  }
  // Resend the highest data (a FIN rides along when it was sent).
  const start = seqMax(c.sndUna, (dataEnd - Math.min(c.mss, c.sndBuf.length)) >>> 0);
  const len = seqSub(dataEnd, start);
  if (len > 0 || c.finQueued) sendData(c, start, Math.max(0, len), now);
}
