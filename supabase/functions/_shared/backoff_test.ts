import assert from "node:assert/strict";
import { parseRetryAfter, retryDelayMs } from "./backoff.ts";

Deno.test("Retry-After is read as delay-seconds or as an HTTP date", () => {
  const now = Date.parse("2026-12-07T10:00:00Z");
  assert.equal(parseRetryAfter("120", now), 120);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Mon, 07 Dec 2026 10:00:30 GMT", now), 30);
  assert.equal(parseRetryAfter("Mon, 07 Dec 2026 09:59:00 GMT", now), 0, "a past date: now");
  assert.equal(parseRetryAfter("999999999", now), 86_400, "capped at a day");
  for (const bad of [null, undefined, "", "-5", "1.5", "soon", "12abc"]) {
    assert.equal(parseRetryAfter(bad, now), null, String(bad));
  }
});

Deno.test("retry delays double from the base with ±20 % jitter, capped at 5 min", () => {
  assert.equal(retryDelayMs(1, () => 0.5), 5_000);
  assert.equal(retryDelayMs(3, () => 0.5), 20_000);
  assert.equal(retryDelayMs(20, () => 0.5), 300_000);
  assert.equal(retryDelayMs(1, () => 0), 4_000);
  assert.equal(retryDelayMs(1, () => 1), 6_000);
});
