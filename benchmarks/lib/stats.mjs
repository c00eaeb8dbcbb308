// Summary statistics of round-trip samples (nanoseconds).

/** Nearest-rank percentile of sorted samples, p in (0, 1]. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

export function summarize(samplesNs) {
  const sorted = Float64Array.from(samplesNs).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  const mean = sum / sorted.length;
  return {
    samples: sorted.length,
    p50Ns: percentile(sorted, 0.5),
    p99Ns: percentile(sorted, 0.99),
    p999Ns: percentile(sorted, 0.999),
    meanNs: mean,
    // One message each way per round trip: round trips per second.
    roundTripsPerSec: 1e9 / mean,
  };
}
