/** Unit tests of local progress estimation between Realtime events. */
import assert from "node:assert/strict";
import { elapsedSeconds, estimateProgress } from "./progress.ts";
import { makeJob } from "./test_jobs.ts";

const T0 = Date.parse("2025-01-01T12:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("progress grows with elapsed time since start against the expected seconds", () => {
  const job = makeJob({ status: "in_progress", started_at: iso(T0), expected_seconds: 100 });
  assert.ok(Math.abs(estimateProgress(job, T0) - 0.05) < 1e-9);
  assert.ok(Math.abs(estimateProgress(job, T0 + 50_000) - 0.475) < 1e-9);
  assert.ok(Math.abs(estimateProgress(job, T0 + 100_000) - 0.9) < 1e-9);
});

Deno.test("progress counts from submitted_at while the provider has not started", () => {
  const job = makeJob({ status: "submitted", submitted_at: iso(T0), expected_seconds: 10 });
  assert.ok(estimateProgress(job, T0 + 5000) > 0.4);
});

Deno.test("an overdue job creeps towards but never reaches 100 % before completion", () => {
  const job = makeJob({ status: "in_progress", started_at: iso(T0), expected_seconds: 10 });
  const a = estimateProgress(job, T0 + 20_000);
  const b = estimateProgress(job, T0 + 60_000);
  const c = estimateProgress(job, T0 + 3_600_000);
  assert.ok(a > 0.9 && b > a && c >= b, `${a} < ${b} <= ${c}`);
  assert.ok(c <= 0.99);
  assert.equal(estimateProgress({ ...job, status: "completed" }, T0 + 1), 1);
});

Deno.test("the estimate never shows less than the server reported", () => {
  const job = makeJob({
    status: "in_progress",
    started_at: iso(T0),
    expected_seconds: 100,
    progress: 70,
  });
  assert.equal(estimateProgress(job, T0 + 1000), 0.7);
});

Deno.test("queued and finished-without-success jobs do not move on the clock", () => {
  const queued = makeJob({ status: "queued", expected_seconds: 10 });
  assert.equal(estimateProgress(queued, Date.now() + 60_000), 0);
  const failed = makeJob({ status: "failed", started_at: iso(T0), progress: 30 });
  assert.equal(estimateProgress(failed, T0 + 999_000), 0.3);
  const finalizing = makeJob({ status: "finalizing", started_at: iso(T0) });
  assert.equal(estimateProgress(finalizing, T0), 0.95);
});

Deno.test("a local clock ahead of the server's does not inflate progress", () => {
  const job = makeJob({ status: "in_progress", started_at: iso(T0), expected_seconds: 100 });
  const skew = 30_000;
  assert.ok(Math.abs(estimateProgress(job, T0 + 10_000 + skew, skew) - 0.135) < 1e-9);
  assert.equal(elapsedSeconds(job, T0 - 5000), 0, "never negative");
});

Deno.test("elapsed time of a completed job stops at completion", () => {
  const job = makeJob({
    status: "completed",
    started_at: iso(T0),
    completed_at: iso(T0 + 42_000),
  });
  assert.equal(elapsedSeconds(job, T0 + 999_000), 42);
});
