import type { TcpConfig } from '../stack/config.js';
import { TCP_MAX_WSCALE } from '../wire/tcp-options.js';
import type { TcpConnection } from './connection.js';

/** The window shift we ask for: enough to advertise the whole receive buffer, -1 when scaling is off. */
export function wantedWindowScale(cfg: TcpConfig): number {
  if (!cfg.windowScaling) return -1;
  let scale = 0;
  while (scale < TCP_MAX_WSCALE && 65535 * 2 ** scale < cfg.receiveBuffer) scale++;
  return scale;
}

import type { Segment } from './segment.js';

/** Records what the peer's SYN offered (MSS, window scale, SACK, timestamps). */
export function takeSynOptions(c: TcpConnection, seg: Segment): void {
  const o = seg.options;
  c.peerMss = o.mss > 0 ? o.mss : 536;
  c.peerWs = o.windowScale;
  c.peerSackOk = o.sackPermitted;
  c.peerTs = o.hasTimestamp;
  if (o.hasTimestamp) c.tsRecent = o.tsVal;
}

/**
 * Settles the options both SYNs agreed on, the MSS we send with, and the
 * congestion controller's initial window.
 */
export function settleOptions(c: TcpConnection, now: number): void {
  const cfg = c.layer.stack.config;
  if (c.wantScale >= 0 && c.peerWs >= 0) {
    c.rcvScale = c.wantScale;
    c.sndScale = c.peerWs;
  } else {
    c.rcvScale = 0;
    c.sndScale = 0;
  }
  c.sackOk = cfg.tcp.sack && c.peerSackOk;
  c.tsOk = cfg.tcp.timestamps && c.peerTs;
  // Clamp to our MTU (the peer may offer more than our link carries) and keep room for timestamps.
  c.mss = Math.max(64, Math.min(c.peerMss, cfg.mtu - 40) - (c.tsOk ? 12 : 0));
  c.cc.init(c.mss, now);
}
