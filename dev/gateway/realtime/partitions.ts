/**
 * The dev Realtime's janitor for `realtime.messages` partitions. On hosted Supabase,
 * `realtime.messages` has one partition per UTC day and Realtime itself creates them (yesterday to
 * three days ahead) when a tenant connects and again from its periodic janitor, dropping those
 * older than 72 hours; a message for a day without a partition is lost (realtime.send warns). The
 * shim applies the same upkeep once (dev/shim/database/0008_realtime_platform.sql); this keeps it
 * going for a stack that runs for days: once when Realtime starts, then every hour.
 */
import type postgres from "postgres";

/** The running janitor. */
export interface PartitionJanitor {
  stop(): void;
}

const HOUR_MS = 60 * 60 * 1000;

/** Runs the shim's partition upkeep once; resolves with the partitions it created. */
export async function maintainMessagePartitions(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql<{ made: string[] }[]>`
    select supabase_shim.realtime_maintain_partitions() as made`;
  return rows[0]?.made ?? [];
}

/**
 * Runs the upkeep now (resolving once it has run, so messages sent right after start have a
 * partition) and then every `intervalMs` (default one hour) until stopped. Failures are logged,
 * never thrown: like Realtime, a failed run is retried by the next one.
 */
export async function startPartitionJanitor(opts: {
  sql: postgres.Sql;
  log?: (line: string) => void;
  intervalMs?: number;
}): Promise<PartitionJanitor> {
  const log = opts.log ?? (() => {});
  const run = async () => {
    try {
      const made = await maintainMessagePartitions(opts.sql);
      if (made.length > 0) log(`realtime: created partitions ${made.join(", ")}`);
    } catch (e) {
      log(`realtime: partition upkeep failed: ${e}`);
    }
  };
  await run();
  const timer = setInterval(run, opts.intervalMs ?? HOUR_MS);
  Deno.unrefTimer(timer);
  return { stop: () => clearInterval(timer) };
}
