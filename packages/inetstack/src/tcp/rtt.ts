/**
 * Retransmission timeout per RFC 6298: smoothed RTT and variance from samples,
 * RTO = SRTT + max(G, 4 RTTVAR) clamped to [min, max], doubled per back-off.
 * Karn's rule is the caller's: samples come only from segments never retransmitted
 * (or from timestamps, which say which transmission was acknowledged).
 */
export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  #rto: number;
  hasSample = false;
  backoff = 0;

  constructor(
    readonly initialRto: number,
    readonly minRto: number,
    readonly maxRto: number,
    /** Clock granularity G in ms. */
    readonly granularity = 1,
  ) {
    this.#rto = Math.min(Math.max(initialRto, minRto), maxRto);
  }

  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.#rto = Math.min(
      Math.max(this.srtt + Math.max(this.granularity, 4 * this.rttvar), this.minRto),
      this.maxRto,
    );
  }

  /** The RTO with back-off applied. */
  get rto(): number {
    return Math.min(this.#rto * 2 ** this.backoff, this.maxRto);
  }

  /** The RTO before back-off. */
  get baseRto(): number {
    return this.#rto;
  }

  backOff(): void {
    if (this.backoff < 16) this.backoff++;
  }
}
