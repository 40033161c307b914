/** Small statistics for the benchmarks: percentiles (nearest rank) and rounding for reports. */

/** The p-th percentile (0..100) of `values` by nearest rank; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** p50, p95, p99 and max of a list of milliseconds, rounded to 0.1 ms. */
export function summary(values: readonly number[]): {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
} {
  const r = (v: number | null) => (v === null ? null : round(v, 1));
  // Sorted once; no spreading (hundreds of thousands of values overflow the call stack).
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) =>
    sorted.length === 0
      ? null
      : sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
  return {
    n: values.length,
    p50: r(at(50)),
    p95: r(at(95)),
    p99: r(at(99)),
    max: r(sorted.length ? sorted[sorted.length - 1]! : null),
  };
}

/** `value` rounded to `digits` decimals. */
export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
