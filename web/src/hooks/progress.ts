/**
 * Local progress estimation. Realtime events arrive only on status changes, so between them the
 * bar moves on a clock: elapsed time since `coalesce(started_at, submitted_at)` against the model's
 * `expected_seconds`. No network is involved; the caller passes the current time.
 */
import type { Job } from "../types.ts";

/** Where the bar starts once the job is at the provider (the server reports 5 % for submitted). */
const STARTED = 0.05;
/** Share of the bar reached when the expected time has fully elapsed. */
const LINEAR_UNTIL = 0.9;
/** The estimate never claims more than this before the server says "completed". */
const CEILING = 0.99;
/** How far the bar stands once the provider is done and we are copying the video. */
const FINALIZING_FLOOR = 0.95;

/** Server progress (percent) as a 0–1 fraction, or 0 when absent. */
function serverFraction(job: Job): number {
  if (job.progress == null || !Number.isFinite(job.progress)) return 0;
  return Math.min(1, Math.max(0, job.progress / 100));
}

/** When the provider started work on the job (ms since epoch), if it has. */
export function workStartedAt(job: Job): number | null {
  const at = job.started_at ?? job.submitted_at;
  if (!at) return null;
  const ms = Date.parse(at);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Seconds the job has been running (or waiting, while queued) at `nowMs`, never negative.
 * `clockOffsetMs` is how far the local clock runs ahead of the server's.
 */
export function elapsedSeconds(job: Job, nowMs: number, clockOffsetMs = 0): number {
  const serverNow = nowMs - clockOffsetMs;
  const end = job.completed_at ? Date.parse(job.completed_at) : serverNow;
  const start = workStartedAt(job) ?? Date.parse(job.created_at);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return 0;
  return Math.max(0, (end - start) / 1000);
}

/**
 * The fraction (0–1) to show for a job at `nowMs`: from 5 % at submission, linear in
 * elapsed/expected time up to 90 %, then creeping towards 99 % so a slow job still shows life;
 * never below what the server reported and only 100 % when completed. (fal's webhooks report only
 * the end, so a job often goes from `submitted` straight to `completed`: the clock is all we have.)
 */
export function estimateProgress(job: Job, nowMs: number, clockOffsetMs = 0): number {
  const reported = serverFraction(job);
  switch (job.status) {
    case "completed":
      return 1;
    case "queued":
    case "failed":
    case "canceled":
      return reported;
    case "finalizing":
      return Math.max(FINALIZING_FLOOR, reported);
    case "submitted":
    case "in_progress": {
      const expected = job.expected_seconds ?? 0;
      if (workStartedAt(job) == null || expected <= 0) return Math.min(CEILING, reported);
      const ratio = elapsedSeconds(job, nowMs, clockOffsetMs) / expected;
      const estimate = ratio <= 1
        ? STARTED + ratio * (LINEAR_UNTIL - STARTED)
        : LINEAR_UNTIL + (CEILING - LINEAR_UNTIL) * (1 - Math.exp(-(ratio - 1)));
      return Math.min(CEILING, Math.max(reported, estimate));
    }
  }
}
