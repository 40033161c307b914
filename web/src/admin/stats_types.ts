/**
 * The queue statistics document of `admin-queue` GET and of the `admin:stats` Realtime topic
 * (SQL vidqueue.queue_stats; see supabase/migrations/20250604000100_queue_stats.sql).
 */

/** Live stages of a job, in pipeline order. */
export const STAGES = [
  "queued",
  "retrying",
  "waiting",
  "dispatching",
  "submitted",
  "in_progress",
  "finalizing",
] as const;
export type Stage = typeof STAGES[number];

export interface ModelStats {
  model: string;
  completed: number;
  failed: number;
  canceled: number;
  failure_rate: number | null;
  queue_p50_ms: number | null;
  queue_p95_ms: number | null;
  total_p50_ms: number | null;
  total_p95_ms: number | null;
}

export interface StuckJob {
  id: string;
  user_id: string;
  kind: string;
  model: string | null;
  status: string;
  reason: "dispatch_stalled" | "overdue_at_fal" | "copy_stalled" | string;
  since: string;
  attempts: number;
  provider_request_id: string | null;
}

export interface QueueStats {
  generated_at: string;
  window_seconds: number;
  /** False in Realtime messages that carry only the live parts (see StatsMessage). */
  windowed?: boolean;
  depth: { stage: Stage; model: string | null; count: number }[];
  totals: Record<Stage, number> & { live: number };
  /** `limit` (FAL_MAX_CONCURRENCY) only in GET answers; Realtime messages carry the rest. */
  slots: { in_use: number; total: number; limit?: number };
  models: ModelStats[];
  failures: {
    finished: number;
    completed: number;
    failed: number;
    canceled: number;
    rate: number | null;
    top_errors: { code: string; count: number }[];
  };
  credits: { reserved_now: number; reserved: number; captured: number; released: number };
  stuck: { count: number; jobs: StuckJob[] };
}

/**
 * What an `admin:stats` message carries: every message has the live parts; the 15-minute
 * window's figures (`models`, `failures`, credit movements) only when `windowed` is true (at
 * most every 10 seconds, because they cost more to compute).
 */
export type StatsMessage =
  & Omit<QueueStats, "models" | "failures" | "credits">
  & Partial<Pick<QueueStats, "models" | "failures">>
  & { credits: Partial<QueueStats["credits"]> & { reserved_now: number } };

/** True when `value` looks like a stats message (Realtime payloads are not trusted blindly). */
export function isStatsMessage(value: unknown): value is StatsMessage {
  const s = value as Partial<StatsMessage> | null;
  return !!s && typeof s.generated_at === "string" && typeof s.window_seconds === "number" &&
    !!s.totals && !!s.slots && Array.isArray(s.depth) && !!s.credits &&
    typeof s.credits.reserved_now === "number" && !!s.stuck;
}

/** True when a message is a complete document (it carries the window's figures). */
export function isComplete(s: StatsMessage): s is QueueStats {
  return s.windowed !== false && Array.isArray(s.models) && !!s.failures &&
    typeof s.credits.captured === "number";
}
