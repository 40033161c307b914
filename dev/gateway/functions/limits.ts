/**
 * The hosted platform's Edge Function limits as the dev stack enforces them, with the settings
 * that change them (dev stack only; see the README's configuration table):
 *
 * - EDGE_WALL_CLOCK_S (400, paid plans; free plans have 150): a worker's whole life, background
 *   `waitUntil` work included. Past half of it the worker is retired (new requests start a new
 *   worker); at the end it is terminated, cutting whatever it still runs.
 * - EDGE_MEMORY_MB (256): the worker's V8 heap; over it the worker dies and an in-flight request
 *   gets 546.
 * - EDGE_MAX_BODY_BYTES (20 MiB): request bodies above it are refused with 413 before they reach
 *   the function. Supabase publishes no figure for this (a documented one was withdrawn as wrong);
 *   a body a 256 MB worker may buffer has to be bounded, and this one is far above anything our
 *   functions accept (they cap their own bodies at 256 KiB).
 * - EDGE_CPU_WARN_MS (2000): CPU time per request above which the gateway logs a warning (the
 *   platform stops such a request; here it is measured, not enforced).
 */

/** The limits every function worker runs under. */
export interface EdgeLimits {
  wallClockMs: number;
  memoryMb: number;
  maxBodyBytes: number;
  cpuWarnMs: number;
}

/** The platform's limits (paid plan). */
export const PLATFORM_LIMITS: EdgeLimits = {
  wallClockMs: 400_000,
  memoryMb: 256,
  maxBodyBytes: 20 * 1024 * 1024,
  cpuWarnMs: 2000,
};

function positive(env: Record<string, string | undefined>, name: string, fallback: number) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads the EDGE_* settings (missing ones keep the platform's values). */
export function limitsFromEnv(env: Record<string, string | undefined>): EdgeLimits {
  return {
    wallClockMs: Math.round(
      positive(env, "EDGE_WALL_CLOCK_S", PLATFORM_LIMITS.wallClockMs / 1000) * 1000,
    ),
    memoryMb: Math.round(positive(env, "EDGE_MEMORY_MB", PLATFORM_LIMITS.memoryMb)),
    maxBodyBytes: Math.round(positive(env, "EDGE_MAX_BODY_BYTES", PLATFORM_LIMITS.maxBodyBytes)),
    cpuWarnMs: positive(env, "EDGE_CPU_WARN_MS", PLATFORM_LIMITS.cpuWarnMs),
  };
}
