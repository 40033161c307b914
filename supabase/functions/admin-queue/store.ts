/**
 * The admin-queue function's SQL: statistics and the two stuck-job actions, each run in a
 * transaction with the caller's claims set (`request.jwt.claims`), so the vidqueue.admin_*
 * functions check for themselves that the caller is an admin (42501 otherwise).
 */
import type { AuthUser } from "../_shared/auth.ts";
import type { Sql, Tx } from "../_shared/db.ts";
import { AppError } from "../_shared/errors.ts";
import type { JobRow, PublicJob } from "../_shared/jobs.ts";

/** What an action did: the job before and after (null after when the action did not apply). */
export interface ActionOutcome {
  before: JobRow | null;
  after: { row: JobRow; job: PublicJob } | null;
}

export interface AdminStore {
  /** vidqueue.admin_stats over the last `windowSeconds`. */
  stats(user: AuthUser, windowSeconds: number, stuckLimit: number): Promise<AdminStats>;
  requeue(user: AuthUser, id: string): Promise<ActionOutcome>;
  cancel(user: AuthUser, id: string, reason: string | null): Promise<ActionOutcome>;
}

/** vidqueue.queue_stats's document (see 20250604000100_queue_stats.sql). */
export type AdminStats = Record<string, unknown> & {
  slots: { in_use: number; total: number };
};

function asAdminTx<T>(sql: Sql, user: AuthUser, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return (sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`;
    return await fn(tx);
  }) as Promise<T>).catch((e: unknown) => {
    if ((e as { code?: string }).code === "42501") {
      throw new AppError("forbidden", "This needs an admin account.");
    }
    throw e;
  });
}

/** The store over a postgres.js pool connected as `postgres`. */
export function createAdminStore(sql: Sql): AdminStore {
  const act = (user: AuthUser, id: string, call: (tx: Tx) => PromiseLike<readonly unknown[]>) =>
    asAdminTx(sql, user, async (tx): Promise<ActionOutcome> => {
      const before = await tx<{ row: JobRow }[]>`
        select to_jsonb(j) as row from public.jobs j where j.id = ${id}::uuid`;
      if (!before[0]) return { before: null, after: null };
      const after = await call(tx) as { row: JobRow | null; job: PublicJob | null }[];
      const r = after[0];
      return {
        before: before[0].row,
        after: r?.row && r.job ? { row: r.row, job: r.job } : null,
      };
    });
  return {
    stats: (user, windowSeconds, stuckLimit) =>
      asAdminTx(sql, user, async (tx) => {
        const rows = await tx<{ stats: AdminStats }[]>`
          select vidqueue.admin_stats(${windowSeconds}::int, ${stuckLimit}::int) as stats`;
        return rows[0]!.stats;
      }),
    requeue: (user, id) =>
      act(user, id, (tx) =>
        tx`
        select case when r.id is null then null else to_jsonb(r) end as row,
          case when r.id is null then null else vidqueue.job_public(r) end as job
        from vidqueue.admin_requeue(${id}::uuid) r`),
    cancel: (user, id, reason) =>
      act(user, id, (tx) =>
        tx`
        select case when r.id is null then null else to_jsonb(r) end as row,
          case when r.id is null then null else vidqueue.job_public(r) end as job
        from vidqueue.admin_cancel(${id}::uuid, ${reason}) r`),
  };
}
