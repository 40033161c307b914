// The dashboard history: samples from stats documents, in time order, bounded, as uPlot series.
import assert from "node:assert/strict";
import {
  addSample,
  depthSeries,
  latencySeries,
  MAX_SAMPLES,
  mergeLive,
  type Sample,
  sampleOf,
} from "./stats_history.ts";
import type { QueueStats, StatsMessage } from "./stats_types.ts";

function stats(at: string, over: Partial<QueueStats> = {}): QueueStats {
  return {
    generated_at: at,
    window_seconds: 900,
    depth: [],
    totals: {
      queued: 5,
      retrying: 2,
      waiting: 1,
      dispatching: 1,
      submitted: 3,
      in_progress: 4,
      finalizing: 0,
      live: 16,
    },
    slots: { in_use: 8, total: 40 },
    models: [{
      model: "kling",
      completed: 3,
      failed: 1,
      canceled: 0,
      failure_rate: 0.25,
      queue_p50_ms: 100,
      queue_p95_ms: 200,
      total_p50_ms: 30_000,
      total_p95_ms: 45_500,
    }],
    failures: { finished: 4, completed: 3, failed: 1, canceled: 0, rate: 0.25, top_errors: [] },
    credits: { reserved_now: 10, reserved: 20, captured: 5, released: 5 },
    stuck: { count: 0, jobs: [] },
    ...over,
  };
}

Deno.test("a sample counts waiting-to-run jobs as queued and converts p95 to seconds", () => {
  const s = sampleOf(stats("2026-11-28T10:00:00Z"), 40);
  assert.deepEqual(s, {
    t: Date.parse("2026-11-28T10:00:00Z") / 1000,
    queued: 7,
    inFlight: 8,
    limit: 40,
    p95: { kling: 45.5 },
  });
});

Deno.test("samples stay in time order and bounded", () => {
  let h: Sample[] = [];
  h = addSample(h, sampleOf(stats("2026-11-28T10:00:01Z"), 40));
  const same = addSample(h, sampleOf(stats("2026-11-28T10:00:00Z"), 40));
  assert.equal(same, h, "an older sample (a late snapshot) is dropped");
  for (let i = 0; i < MAX_SAMPLES + 5; i++) {
    h = addSample(h, { t: 2e9 + i, queued: i, inFlight: 0, limit: null, p95: {} });
  }
  assert.equal(h.length, MAX_SAMPLES);
  assert.equal(h.at(-1)?.queued, MAX_SAMPLES + 4);
});

Deno.test("series line up by time, with a gap where a model had no data", () => {
  const h: Sample[] = [
    { t: 1, queued: 3, inFlight: 2, limit: 40, p95: { a: 10 } },
    { t: 2, queued: 1, inFlight: 2, limit: 40, p95: { a: 12, b: 5 } },
  ];
  assert.deepEqual(depthSeries(h), [[1, 2], [3, 1], [2, 2], [40, 40]]);
  assert.deepEqual(latencySeries(h), { models: ["a", "b"], data: [[1, 2], [10, 12], [null, 5]] });
});

Deno.test("a live message updates the live parts and keeps the chosen window's figures", () => {
  const hourly = stats("2026-11-28T10:00:00Z", {
    window_seconds: 3600,
    slots: { in_use: 1, total: 40, limit: 40 },
  });
  const live = stats("2026-11-28T10:00:05Z", {
    totals: { ...hourly.totals, queued: 99 },
    slots: { in_use: 7, total: 40 },
    models: [],
    credits: { reserved_now: 77, reserved: 1, captured: 1, released: 1 },
  });
  const merged = mergeLive(hourly, live)!;
  assert.equal(merged.window_seconds, 3600);
  assert.equal(merged.totals.queued, 99);
  assert.deepEqual(merged.slots, { in_use: 7, total: 40, limit: 40 });
  assert.deepEqual(merged.models, hourly.models, "per-model figures stay the hour's");
  assert.deepEqual(merged.credits, { ...hourly.credits, reserved_now: 77 });
  assert.equal(merged.generated_at, live.generated_at);
  const sameWindow = mergeLive(
    stats("2026-11-28T10:00:00Z", { slots: { in_use: 0, total: 40, limit: 40 } }),
    live,
  )!;
  assert.deepEqual(sameWindow.models, [], "in the same window everything is live");
  assert.equal(sameWindow.slots.limit, 40, "and the limit is kept");
});

Deno.test("a live-only message keeps the last window figures, and waits for a first snapshot", () => {
  const full = stats("2026-11-28T10:00:00Z", { slots: { in_use: 1, total: 40, limit: 40 } });
  const { models: _m, failures: _f, ...rest } = stats("2026-11-28T10:00:02Z", {
    totals: { ...full.totals, queued: 42 },
  });
  const liveOnly: StatsMessage = { ...rest, windowed: false, credits: { reserved_now: 3 } };
  assert.equal(mergeLive(null, liveOnly), null);
  const merged = mergeLive(full, liveOnly)!;
  assert.equal(merged.totals.queued, 42);
  assert.deepEqual(merged.models, full.models);
  assert.deepEqual(merged.credits, { ...full.credits, reserved_now: 3 });
  assert.equal(merged.slots.limit, 40);
});
