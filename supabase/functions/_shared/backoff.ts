/** Exponential backoff with jitter for automatic retries of transient provider failures. */

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): `baseMs` (5 s), then doubling
 * (10 s, 20 s …), capped at 5 min, ±20 %.
 */
export function retryDelayMs(
  attempt: number,
  random: () => number = Math.random,
  baseMs = 5_000,
): number {
  const base = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 300_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}
