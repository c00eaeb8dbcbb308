import { type CongestionControl, initialWindow } from './congestion.js';

const C = 0.4;
const BETA = 0.7;
/** RFC 9438 4.3: the Reno-friendly additive increase matching Reno's average rate. */
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);

/**
 * CUBIC (RFC 9438). Windows are tracked in segments internally and exposed in
 * bytes. Slow start as Reno; in congestion avoidance the window follows
 * W(t) = C (t - K)^3 + Wmax, never below the Reno-friendly estimate; on loss
 * the window becomes beta * cwnd, with fast convergence.
 */
export class Cubic implements CongestionControl {
  readonly name = 'cubic' as const;
  cwnd = 14600;
  ssthresh = Number.MAX_SAFE_INTEGER;
  mss = 1460;
  /** Window before the last reduction (segments). */
  wMax = 0;
  /** Time (ms) the current congestion-avoidance epoch began, -1 before it starts. */
  epochStart = -1;
  k = 0;
  /** Reno-friendly estimate (segments). */
  wEst = 0;

  init(mss: number): void {
    this.mss = mss;
    this.cwnd = initialWindow(mss);
  }

  onAck(acked: number, flight: number, now: number, srttMs: number): void {
    if (flight + acked < this.cwnd / 2) return;
    if (this.cwnd < this.ssthresh) {
      this.cwnd = Math.min(this.cwnd + acked, Math.max(this.ssthresh, this.cwnd + this.mss));
      return;
    }
    const seg = this.cwnd / this.mss;
    if (this.epochStart < 0) {
      this.epochStart = now;
      if (this.wMax < seg) {
        this.wMax = seg;
        this.k = 0;
      } else {
        this.k = Math.cbrt((this.wMax - seg) / C);
      }
      this.wEst = seg;
    }
    const t = (now - this.epochStart) / 1000;
    const rtt = Math.max(srttMs, 1) / 1000;
    const ackedSeg = acked / this.mss;
    const alpha = this.wEst >= this.wMax ? 1 : ALPHA;
    this.wEst += (alpha * ackedSeg) / seg;
    const wCubicNow = C * (t - this.k) ** 3 + this.wMax;
    let next: number;
    if (wCubicNow < this.wEst) {
      next = this.wEst;
    } else {
      const target = Math.min(Math.max(C * (t + rtt - this.k) ** 3 + this.wMax, seg), 1.5 * seg);
      next = seg + ((target - seg) / seg) * ackedSeg;
    }
    this.cwnd = Math.max(this.cwnd, next * this.mss);
  }

  onCongestion(): void {
    this.#reduce();
    this.cwnd = this.ssthresh;
  }

  onRecoveryEnd(): void {
    this.cwnd = Math.max(this.ssthresh, this.mss);
  }

  onTimeout(): void {
    this.#reduce();
    this.cwnd = this.mss;
  }

  #reduce(): void {
    const seg = this.cwnd / this.mss;
    // Fast convergence: if the window shrank since the last loss, release bandwidth for new flows.
    this.wMax = seg < this.wMax ? (seg * (1 + BETA)) / 2 : seg;
    this.ssthresh = Math.max(this.cwnd * BETA, 2 * this.mss);
    this.epochStart = -1;
  }
}
