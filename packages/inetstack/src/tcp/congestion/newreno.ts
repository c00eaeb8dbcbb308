import { type CongestionControl, initialWindow } from './congestion.js';

/**
 * Reno/NewReno window growth (RFC 5681, RFC 6582): slow start below ssthresh,
 * one MSS per window of ACKed bytes above it, halve on loss, one MSS after a timeout.
 */
export class NewReno implements CongestionControl {
  readonly name = 'newreno' as const;
  cwnd = 14600;
  ssthresh = Number.MAX_SAFE_INTEGER;
  mss = 1460;
  #acc = 0;

  init(mss: number): void {
    this.mss = mss;
    this.cwnd = initialWindow(mss);
  }

  onAck(acked: number, flight: number): void {
    // Grow only when the window was in use (RFC 7661's idea): an application-limited flow must not inflate cwnd.
    if (flight + acked < this.cwnd / 2) return;
    if (this.cwnd < this.ssthresh) {
      this.cwnd = Math.min(this.cwnd + acked, Math.max(this.ssthresh, this.cwnd + this.mss));
      return;
    }
    this.#acc += acked;
    if (this.#acc >= this.cwnd) {
      this.#acc -= this.cwnd;
      this.cwnd += this.mss;
    }
  }

  onCongestion(flight: number): void {
    this.ssthresh = Math.max(flight / 2, 2 * this.mss);
    this.cwnd = this.ssthresh;
    this.#acc = 0;
  }

  onRecoveryEnd(flight: number): void {
    this.cwnd = Math.max(Math.min(this.ssthresh, flight + this.mss), this.mss);
  }

  onTimeout(flight: number): void {
    this.ssthresh = Math.max(flight / 2, 2 * this.mss);
    this.cwnd = this.mss;
    this.#acc = 0;
  }
}
