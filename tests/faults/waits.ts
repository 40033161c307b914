/**
 * Waiting without sleeping: re-check a database condition on every job change (each transition
 * NOTIFYs `realtime_messages`), and wait for a backend to block on a lock (pg_locks, re-queried
 * back to back, as tests/sql/start_together.ts does). Both are bounded by a timeout.
 */
import type postgres from "postgres";

/** Resolves once `check()` is true, re-checking on each job change; rejects after `timeoutMs`. */
export async function waitUntilDb(
  sql: postgres.Sql,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  if (await check()) return;
  let settle!: (ok: boolean) => void;
  const done = new Promise<boolean>((r) => (settle = r));
  let running = false;
  let again = false;
  const recheck = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        if (await check().catch(() => false)) settle(true);
      } while (again);
    } finally {
      running = false;
    }
  };
  const listener = await sql.listen("realtime_messages", () => void recheck());
  const timer = setTimeout(() => settle(false), timeoutMs);
  try {
    void recheck();
    if (!(await done)) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
  } finally {
    clearTimeout(timer);
    await listener.unlisten().catch(() => {});
  }
}

/** Resolves with the pids `waiting()` reports once there are some (e.g. slotWaiters). */
export async function waitForBlocked(
  what: string,
  waiting: () => Promise<number[]>,
  timeoutMs = 10_000,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await waiting();
    if (pids.length > 0) return pids;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for a backend blocked on ${what}`);
    }
  }
}

/** Backends waiting for a lock on `vidqueue.slots`. */
export const slotWaiters = (sql: postgres.Sql) => async () =>
  (await sql<{ pid: number }[]>`
    select pid from pg_locks
    where relation = 'vidqueue.slots'::regclass and not granted`).map((r) => r.pid);

/** Backends waiting for the advisory lock `key`. */
export const advisoryWaiters = (sql: postgres.Sql, key: number) => async () =>
  (await sql<{ pid: number }[]>`
    select pid from pg_locks
    where locktype = 'advisory' and classid = 0 and objid = ${key} and not granted`).map((r) =>
    r.pid
  );
