import type { CongestionControlName } from '../../stack/config.js';
import { Cubic } from './cubic.js';
import { NewReno } from './newreno.js';

/**
 * A congestion controller owns cwnd and ssthresh (bytes). The connection tells
 * it about ACKs of new data outside recovery, the start and end of fast
 * recovery, and retransmission timeouts; recovery itself (what to resend) is
 * the connection's.
 */
export interface CongestionControl {
  readonly name: CongestionControlName;
  cwnd: number;
  ssthresh: number;
  /** Sets the MSS (after the handshake) and with it the initial window. */
  init(mss: number, now: number): void;
  /** `acked` new bytes were acknowledged outside recovery; `flight` is what was outstanding before. */
  onAck(acked: number, flight: number, now: number, srttMs: number): void;
  /** Loss detected by duplicate ACKs or SACK: entering fast recovery. */
  onCongestion(flight: number, now: number): void;
  /** Recovery finished (the recovery point was acknowledged). */
  onRecoveryEnd(flight: number, now: number): void;
  /** The retransmission timer fired. */
  onTimeout(flight: number, now: number): void;
}

/** RFC 6928's initial window. */
export function initialWindow(mss: number): number {
  return Math.min(10 * mss, Math.max(2 * mss, 14600));
}

/** A controller that never limits: only the peer's window applies. */
export class NoCongestionControl implements CongestionControl {
  readonly name = 'none' as const;
  cwnd = Number.MAX_SAFE_INTEGER;
  ssthresh = Number.MAX_SAFE_INTEGER;
  init(): void {}
  onAck(): void {}
  onCongestion(): void {}
  onRecoveryEnd(): void {}
  onTimeout(): void {}
}

export function createCongestionControl(name: CongestionControlName): CongestionControl {
  switch (name) {
    case 'newreno':
      return new NewReno();
    case 'none':
      return new NoCongestionControl();
    default:
      return new Cubic();
  }
}
