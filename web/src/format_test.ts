/** Unit tests of the app's text formatting. */
import assert from "node:assert/strict";
import { ago, clock, credits, queueReasonText, roughDuration, statusLabel } from "./format.ts";

Deno.test("clock shows minutes and seconds, hours only when needed", () => {
  assert.equal(clock(0), "0:00");
  assert.equal(clock(75.9), "1:15");
  assert.equal(clock(3725), "1:02:05");
  assert.equal(clock(-4), "0:00");
});

Deno.test("rough durations switch units at sensible points", () => {
  assert.equal(roughDuration(45), "about 45 s");
  assert.equal(roughDuration(120), "about 2 min");
  assert.equal(roughDuration(7200), "about 2 h");
});

Deno.test("relative times read naturally", () => {
  const now = Date.parse("2025-03-01T12:00:00Z");
  assert.equal(ago("2025-03-01T11:59:50Z", now), "just now");
  assert.equal(ago("2025-03-01T11:55:00Z", now), "5 min ago");
  assert.equal(ago("2025-03-01T09:00:00Z", now), "3 h ago");
  assert.equal(ago("not a date", now), "");
});

Deno.test("credit amounts and statuses are worded for people", () => {
  assert.equal(credits(1), "1 credit");
  assert.equal(credits(12), "12 credits");
  assert.equal(statusLabel({ status: "queued", queue_position: 3 }), "Queued · #3 in line");
  assert.equal(statusLabel({ status: "queued", queue_position: null }), "Queued");
  assert.equal(statusLabel({ status: "in_progress", queue_position: null }), "Generating");
});

Deno.test("a refused submit reads as a wait with the provider's answer and when it is retried", () => {
  const now = Date.parse("2026-12-07T12:00:00Z");
  const reason = {
    code: "provider_unavailable",
    message: "fal answered 503",
    retry_at: "2026-12-07T12:00:12Z",
  };
  assert.equal(
    queueReasonText(reason, now),
    "The provider is not taking new work right now (fal answered 503). Trying again in 12 s; your credits stay reserved.",
  );
  assert.match(
    queueReasonText(
      { ...reason, code: "provider_rate_limited", retry_at: "2026-12-07T12:02:05Z" },
      now,
    ),
    /^The provider is rate limiting new work .*Trying again in 2:05;/,
  );
  assert.match(
    queueReasonText({ ...reason, retry_at: "2026-12-07T11:59:00Z" }, now),
    /Trying again now;/,
  );
  assert.match(queueReasonText({ ...reason, retry_at: null }, now), /Trying again soon;/);
});
