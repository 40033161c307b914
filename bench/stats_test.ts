// Percentiles by nearest rank, as the benchmark reports them.
import assert from "node:assert/strict";
import { percentile, round, summary } from "./stats.ts";

Deno.test("nearest-rank percentiles of 1..100", () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile(values, 100), 100);
  assert.equal(percentile([], 50), null);
  assert.equal(percentile([7], 99), 7);
});

Deno.test("summary rounds to 0.1 ms", () => {
  assert.deepEqual(summary([1.04, 2.06, 3]), { n: 3, p50: 2.1, p95: 3, p99: 3, max: 3 });
  assert.equal(round(1234.5678, 2), 1234.57);
});

Deno.test("summary copes with a million values", () => {
  const many = Array.from({ length: 1_000_000 }, (_, i) => i % 1000);
  assert.equal(summary(many).max, 999);
  assert.equal(summary(many).p50, 499);
});
