/**
 * The dashboard's recent history, built from the statistics it receives (each Realtime message
 * and each fetched snapshot is one sample), so the charts need no extra endpoint: queue depth
 * and slots over time, and each model's p95 time to complete over time. Pure, for tests.
 */
import { isComplete, type QueueStats, type StatsMessage } from "./stats_types.ts";

export interface Sample {
  /** Seconds since the epoch (uPlot's x unit). */
  t: number;
  queued: number;
  inFlight: number;
  limit: number | null;
  /** p95 time to complete per model, in seconds. */
  p95: Record<string, number | null>;
}

/** At most this many samples are kept (about 10 minutes at one message a second). */
export const MAX_SAMPLES = 600;

/** One sample of a stats document. */
export function sampleOf(stats: QueueStats, limit: number | null): Sample {
  const p95: Record<string, number | null> = {};
  for (const m of stats.models) {
    p95[m.model] = m.total_p95_ms === null ? null : m.total_p95_ms / 1000;
  }
  return {
    t: Date.parse(stats.generated_at) / 1000,
    queued: stats.totals.queued + stats.totals.retrying,
    inFlight: stats.slots.in_use,
    limit,
    p95,
  };
}

/** Appends a sample in time order (an older or equal one is dropped), keeping MAX_SAMPLES. */
export function addSample(history: readonly Sample[], sample: Sample): Sample[] {
  const last = history.at(-1);
  if (last && sample.t <= last.t) return history as Sample[];
  const next = [...history, sample];
  return next.length > MAX_SAMPLES ? next.slice(next.length - MAX_SAMPLES) : next;
}

/** uPlot data for "queue and slots": [t, queued, in flight, limit]. */
export function depthSeries(history: readonly Sample[]): (number | null)[][] {
  return [
    history.map((s) => s.t),
    history.map((s) => s.queued),
    history.map((s) => s.inFlight),
    history.map((s) => s.limit),
  ];
}

/** uPlot data for "p95 time to complete": [t, one series per model seen]; and the models. */
export function latencySeries(
  history: readonly Sample[],
): { models: string[]; data: (number | null)[][] } {
  const models = [...new Set(history.flatMap((s) => Object.keys(s.p95)))].sort();
  return {
    models,
    data: [history.map((s) => s.t), ...models.map((m) => history.map((s) => s.p95[m] ?? null))],
  };
}

/**
 * A Realtime message (always the 15-minute window) merged into the stats shown: the live parts
 * (depth, totals, slots, credits held now, stuck jobs) come from the message; the windowed parts
 * (per-model latency, failures, credit movements) too when the message has them and the same
 * window is shown, else they stay as last fetched for the chosen window. The slot limit (only in
 * fetched answers) is kept. Null when nothing complete has been shown yet and the message is
 * live-only.
 */
export function mergeLive(shown: QueueStats | null, live: StatsMessage): QueueStats | null {
  if (!shown) return isComplete(live) ? live : null;
  const limit = live.slots.limit ?? shown.slots.limit;
  const slots = limit === undefined ? live.slots : { ...live.slots, limit };
  if (isComplete(live) && shown.window_seconds === live.window_seconds) {
    return { ...live, slots };
  }
  return {
    ...shown,
    generated_at: live.generated_at,
    depth: live.depth,
    totals: live.totals,
    slots,
    credits: { ...shown.credits, reserved_now: live.credits.reserved_now },
    stuck: live.stuck,
  };
}
