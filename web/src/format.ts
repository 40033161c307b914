/** Human-readable text for durations, times, statuses and credit amounts shown in the app. */
import type { Job, JobStatus, QueueReason } from "./types.ts";

/** `75` → `"1:15"`, `3725` → `"1:02:05"`. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A rough spoken duration: `"about 45 s"`, `"about 2 min"`. */
export function roughDuration(seconds: number): string {
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `about ${Math.round(seconds / 60)} min`;
  return `about ${Math.round(seconds / 3600)} h`;
}

/** `"just now"`, `"5 min ago"`, `"3 h ago"`, else a date. */
export function ago(iso: string, nowMs: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "";
  const s = Math.max(0, (nowMs - t) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(t).toLocaleDateString(undefined, { day: "numeric", month: "short" });
}

/** `1` → `"1 credit"`, `12` → `"12 credits"`. */
export function credits(n: number): string {
  return `${n} credit${n === 1 ? "" : "s"}`;
}

const STATUS_LABELS: Record<JobStatus, string> = {
  queued: "Queued",
  submitted: "Starting",
  in_progress: "Generating",
  finalizing: "Saving",
  completed: "Ready",
  failed: "Failed",
  canceled: "Canceled",
};

/** The short status word for a job, with its place in line while queued. */
export function statusLabel(job: Pick<Job, "status" | "queue_position">): string {
  const label = STATUS_LABELS[job.status] ?? job.status;
  if (job.status === "queued" && job.queue_position != null && job.queue_position > 0) {
    return `${label} · #${job.queue_position} in line`;
  }
  return label;
}

/**
 * Why a queued job is waiting, for people: the provider's refusal (`queue_reason`) and when it is
 * tried again, relative to `nowMs`. Credits stay reserved meanwhile; a refusal is not a failure.
 */
export function queueReasonText(reason: QueueReason, nowMs: number): string {
  const what = reason.code === "provider_rate_limited"
    ? "The provider is rate limiting new work"
    : "The provider is not taking new work right now";
  const at = reason.retry_at ? Date.parse(reason.retry_at) : NaN;
  const wait = Number.isFinite(at) ? Math.max(0, Math.round((at - nowMs) / 1000)) : null;
  const when = wait === null
    ? "Trying again soon"
    : wait <= 1
    ? "Trying again now"
    : `Trying again in ${wait < 60 ? `${wait} s` : clock(wait)}`;
  return `${what} (${reason.message}). ${when}; your credits stay reserved.`;
}
