/**
 * Runs N transactions on N separate connections so that they really overlap: each one first
 * waits on a shared advisory lock that a gate connection holds, the gate waits until all N are
 * blocked on it (seen in pg_locks), then releases them at once. Used by the concurrency tests.
 */
import postgres from "postgres";

/** Options for startTogether. */
export interface StartTogetherOptions {
  /** Database URL (the `postgres` role, as the Edge Functions connect). */
  url: string;
  /** How many transactions, each on its own connection. */
  count: number;
  /** Give up waiting for the transactions to line up after this many ms (default 20 s). */
  timeoutMs?: number;
}

/**
 * Runs `work(tx, i)` for i in 0..count-1, each in its own transaction on its own connection,
 * all released together; resolves with every outcome (fulfilled or rejected) in order.
 */
export async function startTogether<T>(
  opts: StartTogetherOptions,
  work: (tx: postgres.TransactionSql, index: number) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const key = 1 + Math.floor(Math.random() * 2 ** 30);
  const gate = postgres(opts.url, { max: 1, onnotice: () => {} });
  const workers = postgres(opts.url, { max: opts.count, onnotice: () => {} });
  try {
    await gate`select pg_advisory_lock(${key}::bigint)`;
    const runs = Array.from(
      { length: opts.count },
      (_, i) =>
        workers.begin(async (tx) => {
          await tx`select pg_advisory_xact_lock_shared(${key}::bigint)`;
          return await work(tx, i);
        }) as Promise<T>,
    );
    const settled = Promise.allSettled(runs);
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    for (;;) {
      const [row] = await gate<{ waiting: number }[]>`
        select count(*)::int as waiting from pg_locks
        where locktype = 'advisory' and classid = 0 and objid = ${key} and not granted`;
      if ((row?.waiting ?? 0) >= opts.count) break;
      if (Date.now() > deadline) {
        throw new Error(`only ${row?.waiting} of ${opts.count} transactions lined up in time`);
      }
    }
    await gate`select pg_advisory_unlock(${key}::bigint)`;
    return await settled;
  } finally {
    await gate.end();
    await workers.end();
  }
}
