/** Percentiles of samples and of merged latency histograms. */

/** A histogram: value (e.g. µs) → count (or weight; fractions allowed). */
export type Histogram = Map<number, number>;

/** Adds `[value, count]` pairs into `into`. */
export function addBuckets(
  into: Histogram,
  buckets: [number, number][],
): Histogram {
  for (const [value, count] of buckets) {
    into.set(value, (into.get(value) ?? 0) + count);
  }
  return into;
}

/** The `p`-th percentile (0–100) of a histogram, nearest rank; NaN if empty. */
export function histogramPercentile(histogram: Histogram, p: number): number {
  const values = [...histogram.keys()].sort((a, b) => a - b);
  let total = 0;
  for (const value of values) total += histogram.get(value)!;
  if (total === 0) return NaN;
  const rank = (p / 100) * total;
  let seen = 0;
  for (const value of values) {
    seen += histogram.get(value)!;
    if (seen >= rank - 1e-9) return value;
  }
  return values[values.length - 1];
}

/** The `p`-th percentile (0–100) of samples, nearest rank; NaN if empty. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** The median of samples; NaN if empty. */
export function median(samples: number[]): number {
  return percentile(samples, 50);
}

/** Rounds for display and JSON: `digits` decimals. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The largest sample, or 0 when there is none (safe for huge arrays). */
export function maximum(samples: number[]): number {
  let max = 0;
  for (const sample of samples) if (sample > max) max = sample;
  return max;
}
