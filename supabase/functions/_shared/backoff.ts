/**
 * Waiting before automatic retries: exponential backoff with jitter for transient provider
 * failures, and reading a provider's `Retry-After` (the backoff of refused submits itself is
 * computed in SQL by vidqueue.job_submit_refused, which honours what this returns).
 */

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

/** Longest wait a Retry-After may ask for (longer answers are treated as this). */
const MAX_RETRY_AFTER_S = 24 * 60 * 60;

/**
 * Seconds a `Retry-After` header asks us to wait — delay-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`, relative to `now` in ms) — or null when absent or unreadable.
 * A date in the past means 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Math.min(Number(text), MAX_RETRY_AFTER_S);
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, (at - now) / 1000), MAX_RETRY_AFTER_S);
}
