/**
 * The reconciler's calls into Postgres: leasing the jobs that are due for a check
 * (vidqueue.reconcile_claim, FOR UPDATE SKIP LOCKED), the transitions it needs beyond the job
 * store's (job_requeue for a transient failure at fal, job_provider_failed for fal's own verdict,
 * job_finalizing with the request id), and the daily cap's status. Every transition is the
 * idempotent SQL function; a no-op returns null.
 */
import type { Sql } from "./db.ts";
import type { JobRow } from "./jobs.ts";

/** A job row as the reconciler sees it (the columns it decides on). */
export interface DueJobRow extends JobRow {
  dispatching_at: string | null;
  finalizing_at: string | null;
  updated_at: string;
  expected_seconds: number | null;
  reconcile_checks: number;
}

/** One leased job: the row, its model's fal endpoint, and whether it ran past its timeout. */
export interface DueJob {
  job: DueJobRow;
  endpointId: string | null;
  timedOut: boolean;
}

export interface DailyCapStatus {
  day: string;
  spent: number;
  cap: number | null;
}

export interface ClaimDueOptions {
  /** WEBHOOK_GRACE_S; null: expected_seconds + 60 for jobs at fal, 60 s for copies. */
  graceS: number | null;
  /** Base of the backoff between later checks; null: graceS, else 30 s. */
  backoffS: number | null;
  limit: number;
}

/** The reconciler's store over a postgres.js pool connected as `postgres`. */
export function createReconcileStore(sql: Sql) {
  const one = (rows: readonly { row: JobRow | null }[]): JobRow | null => {
    const row = rows[0]?.row;
    return row && row.id != null ? row : null;
  };
  return {
    /** Leases up to `limit` due jobs (see vidqueue.reconcile_claim). */
    async claimDue(o: ClaimDueOptions): Promise<DueJob[]> {
      const rows = await sql<{ job: DueJobRow; endpoint_id: string | null; timed_out: boolean }[]>`
        select job, endpoint_id, timed_out
        from vidqueue.reconcile_claim(${o.graceS}::int, ${o.backoffS}::int, ${o.limit}::int)`;
      return rows.map((r) => ({ job: r.job, endpointId: r.endpoint_id, timedOut: r.timed_out }));
    },
    /** At fal → back to the queue for another attempt at `retryAt` (or failed when none is left). */
    async requeue(
      id: string,
      code: string,
      message: string,
      retryAt: Date,
    ): Promise<JobRow | null> {
      return one(
        await sql<{ row: JobRow | null }[]>`
        select to_jsonb(r) as row
        from vidqueue.job_requeue(${id}::uuid, ${code}, ${message}, ${retryAt}::timestamptz) r`,
      );
    },
    /** fal's own failure verdict; a no-op once the job has left fal (e.g. OK came first). */
    async providerFailed(id: string, code: string, message: string): Promise<JobRow | null> {
      return one(
        await sql<{ row: JobRow | null }[]>`
        select to_jsonb(r) as row
        from vidqueue.job_provider_failed(${id}::uuid, ${code}, ${message}) r`,
      );
    },
    /** fal's result arrived: → finalizing (stores the result; frees the slot). */
    async finalizing(id: string, result: unknown, requestId: string): Promise<JobRow | null> {
      return one(
        await sql<{ row: JobRow | null }[]>`
        select to_jsonb(r) as row
        from vidqueue.job_finalizing(${id}::uuid, ${sql.json(result as never)}::jsonb,
          ${requestId}) r`,
      );
    },
    /** Today's credits sent to fal and the daily cap (null: none). */
    async dailyCap(): Promise<DailyCapStatus> {
      const rows = await sql<DailyCapStatus[]>`
        select day::text as day, spent, cap from vidqueue.daily_cap_status()`;
      return rows[0] ?? { day: "", spent: 0, cap: null };
    },
    /** How many jobs wait queued for dispatch (not parents, not already dispatching). */
    async waitingCount(): Promise<number> {
      const rows = await sql<{ n: number }[]>`
        select count(*)::int as n from public.jobs
        where status = 'queued' and dispatching_at is null
          and kind in ('video', 'image', 'audio', 'compose')`;
      return rows[0]?.n ?? 0;
    },
  };
}

export type ReconcileStore = ReturnType<typeof createReconcileStore>;
