/** The EDGE_* settings of the dev stack's Edge Function limits. */
import assert from "node:assert/strict";
import { limitsFromEnv, PLATFORM_LIMITS } from "./limits.ts";

Deno.test("without EDGE_* settings functions get the hosted platform's limits", () => {
  assert.deepEqual(limitsFromEnv({}), {
    wallClockMs: 400_000,
    memoryMb: 256,
    maxBodyBytes: 20 * 1024 * 1024,
    cpuWarnMs: 2000,
  });
  assert.deepEqual(limitsFromEnv({ EDGE_WALL_CLOCK_S: "" }), PLATFORM_LIMITS);
});

Deno.test("EDGE_* settings change the limits; nonsense is refused by name", () => {
  assert.deepEqual(
    limitsFromEnv({
      EDGE_WALL_CLOCK_S: "150",
      EDGE_MEMORY_MB: "64",
      EDGE_MAX_BODY_BYTES: "1000",
      EDGE_CPU_WARN_MS: "50",
    }),
    { wallClockMs: 150_000, memoryMb: 64, maxBodyBytes: 1000, cpuWarnMs: 50 },
  );
  assert.throws(() => limitsFromEnv({ EDGE_WALL_CLOCK_S: "0" }), /EDGE_WALL_CLOCK_S/);
  assert.throws(() => limitsFromEnv({ EDGE_MEMORY_MB: "lots" }), /EDGE_MEMORY_MB/);
});
