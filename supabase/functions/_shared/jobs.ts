/**
 * The job store: typed calls to the SQL transition functions in schema `vidqueue` (the database
 * owns every state change and credit movement) and RLS-scoped reads for users. Transition calls
 * that the database treats as no-ops (stale or duplicate) return null.
 */
import type { AuthUser } from "./auth.ts";
import { asUser, type Sql } from "./db.ts";
import { AppError } from "./errors.ts";

/** The client contract's job object (built by SQL `vidqueue.job_public`). */
export type PublicJob = Record<string, unknown> & {
  id: string;
  status: JobStatus;
  video_url: string | null;
};

export type JobStatus =
  | "queued"
  | "submitted"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "failed"
  | "canceled";

/** The internal row (service side only). */
export interface JobRow {
  id: string;
  user_id: string;
  kind: string;
  model: string;
  input: Record<string, unknown>;
  status: JobStatus;
  version: number;
  attempts: number;
  max_attempts: number;
  /** Number of the latest claim for dispatch (names it in the webhook URL and token). */
  dispatch_seq: number;
  cost: number;
  provider_request_id: string | null;
  cancel_requested_at: string | null;
  /** When a queued job is due for its next dispatch (a retry), if it waits. */
  next_attempt_at?: string | null;
  storage_path: string | null;
  result: Record<string, unknown> | null;
  parent_id: string | null;
  created_at: string;
  submitted_at: string | null;
}

export interface CreateJobArgs {
  userId: string;
  kind: string;
  model: string;
  input: Record<string, unknown>;
  cost: number;
  priority: number;
  idempotencyKey: string | null;
  requestHash: string;
  limits: { max_queued: number; submits_per_min: number };
  parentId?: string | null;
  retryOf?: string | null;
}

export interface Credits {
  available: number;
  reserved: number;
}

/** Maps the SQLSTATEs our SQL functions raise to client errors. */
export function mapDbError(e: unknown): never {
  const err = e as { code?: string; message?: string; detail?: string; hint?: string };
  switch (err.code) {
    case "VQ402":
      throw new AppError("insufficient_credits", err.message ?? "Not enough credits for this job.");
    case "VQ409":
      throw new AppError(
        "conflict",
        // SQL marks conflicts whose message is written for the user (e.g. a finished batch).
        err.hint === "client_message" && err.message
          ? err.message
          : "This idempotency key was already used with a different request body.",
      );
    case "VQ429": {
      const seconds = Math.max(1, Math.ceil(Number(err.detail ?? "60") || 60));
      throw new AppError("rate_limited", err.message ?? "Too many requests; try again later.", {
        "retry-after": String(seconds),
      });
    }
    case "VQ404":
      throw new AppError("not_found", err.message ?? "No such job or model.");
    case "VQ400":
      throw new AppError("invalid_input", err.message ?? "Invalid request.");
    default:
      throw e;
  }
}

const present = <T extends { id: unknown }>(row: T | undefined): T | null =>
  row && row.id != null ? row : null;

/** The job store over a postgres.js pool connected as the `postgres` role. */
export function createJobs(sql: Sql) {
  // Rows travel as jsonb so timestamps keep one representation (ISO strings) everywhere.
  const rows = async (query: PromiseLike<readonly unknown[]>) =>
    (await query as { row: JobRow }[]).map((r) => r.row);
  const one = async (query: Promise<JobRow[]>) => present((await query)[0]);
  return {
    /** Reserves credits and inserts a job (or returns the idempotent original). */
    async create(a: CreateJobArgs): Promise<{ job: PublicJob; row: JobRow; replayed: boolean }> {
      try {
        const rows = await sql<{ row: JobRow; public: PublicJob; replayed: boolean }[]>`
          select to_jsonb(r.job) as row, vidqueue.job_public(r.job) as public, r.replayed
          from vidqueue.job_create(
            ${a.userId}::uuid, ${a.kind}, ${a.model}, ${sql.json(a.input as never)}::jsonb,
            ${a.cost}::int, ${a.priority}::int, ${a.idempotencyKey}, ${a.requestHash},
            ${sql.json(a.limits)}::jsonb, ${a.parentId ?? null}::uuid, ${a.retryOf ?? null}::uuid
          ) r`;
        const r = rows[0];
        if (!r) throw new Error("job_create returned nothing");
        return { job: r.public, row: r.row, replayed: r.replayed };
      } catch (e) {
        mapDbError(e);
      }
    },
    /** Claims up to `limit` queued jobs into free fal slots. */
    claim(maxConcurrency: number, userMaxActive: number, limit: number): Promise<JobRow[]> {
      return rows(sql`
        select to_jsonb(r) as row from vidqueue.job_claim(${maxConcurrency}::int, ${userMaxActive}::int, ${limit}::int) r`);
    },
    /** fal accepted dispatch `dispatch` (null: whichever is in flight); null when it moved on. */
    submitted: (id: string, requestId: string, dispatch: number | null = null) =>
      one(rows(sql`
        select to_jsonb(r) as row
        from vidqueue.job_submitted(${id}::uuid, ${requestId}, ${dispatch}::int) r`)),
    dispatchFailed: (
      id: string,
      code: string,
      message: string,
      retryAt: Date | null,
      dispatch: number | null = null,
    ) =>
      one(rows(sql`
        select to_jsonb(r) as row from vidqueue.job_dispatch_failed(${id}::uuid, ${code}, ${message}, ${retryAt}::timestamptz, ${dispatch}::int) r`)),
    /** fal refused dispatch `dispatch`'s submit: back to the queue on the refusal budget. */
    submitRefused: (
      id: string,
      dispatch: number,
      code: string,
      message: string,
      o: { retryAfterS: number | null; baseMs: number; horizonS: number | null },
    ) =>
      one(rows(sql`
        select to_jsonb(r) as row
        from vidqueue.job_submit_refused(${id}::uuid, ${dispatch}::int, ${code}, ${message},
          ${o.retryAfterS}::float8, ${o.baseMs}::int, ${o.horizonS}::int) r`)),
    started: (id: string) =>
      one(rows(sql`select to_jsonb(r) as row from vidqueue.job_started(${id}::uuid) r`)),
    /** Records fal's result (submitted|in_progress → finalizing); heals a missing request id. */
    finalizing: (id: string, result: unknown, requestId: string | null = null) =>
      one(rows(sql`
        select to_jsonb(r) as row
        from vidqueue.job_finalizing(${id}::uuid, ${
        sql.json(result as never)
      }::jsonb, ${requestId}) r`)),
    /** Records facts about a finalizing job's stored media (e.g. `{duration_ms}`); no transition. */
    recordMedia: (id: string, media: Record<string, unknown>) =>
      one(rows(sql`
        select to_jsonb(r) as row from vidqueue.job_media(${id}::uuid, ${
        sql.json(media as never)
      }::jsonb) r`)),
    completed: (id: string, storagePath: string) =>
      one(
        rows(
          sql`select to_jsonb(r) as row from vidqueue.job_completed(${id}::uuid, ${storagePath}) r`,
        ),
      ),
    failed: (id: string, code: string, message: string) =>
      one(
        rows(
          sql`select to_jsonb(r) as row from vidqueue.job_failed(${id}::uuid, ${code}, ${message}) r`,
        ),
      ),
    /** fal reported a failure: a no-op once the result is in (an ERROR after OK changes nothing). */
    providerFailed: (id: string, code: string, message: string, requestId: string | null = null) =>
      one(rows(sql`
        select to_jsonb(r) as row
        from vidqueue.job_provider_failed(${id}::uuid, ${code}, ${message}, ${requestId}) r`)),
    cancel: (id: string, userId: string) =>
      one(
        rows(
          sql`select to_jsonb(r) as row from vidqueue.job_cancel(${id}::uuid, ${userId}::uuid) r`,
        ),
      ),
    remove: (id: string, userId: string) =>
      one(
        rows(
          sql`select to_jsonb(r) as row from vidqueue.job_delete(${id}::uuid, ${userId}::uuid) r`,
        ),
      ),
    /** A parent's children that are at fal with a cancel requested (to ask fal to stop them). */
    childrenAtFal: (parentId: string) =>
      rows(sql`
        select to_jsonb(c) as row from public.jobs c
        where c.parent_id = ${parentId}::uuid and c.cancel_requested_at is not null
          and c.provider_request_id is not null and c.status in ('submitted', 'in_progress')`),
    byRequest: (requestId: string) =>
      one(rows(sql`select to_jsonb(r) as row from vidqueue.job_by_request(${requestId}) r`)),
    byId: (id: string) =>
      one(rows(sql`select to_jsonb(j) as row from public.jobs j where j.id = ${id}::uuid`)),
    /** The public form of a job, as its owner would read it. */
    async publicJob(id: string): Promise<PublicJob | null> {
      const rows = await sql<{ j: PublicJob }[]>`
        select vidqueue.job_public(j) as j from public.jobs j where j.id = ${id}::uuid`;
      return rows[0]?.j ?? null;
    },
    /** The user's visible jobs, newest first, with keyset pagination. */
    listForUser(
      user: AuthUser,
      opts: { limit: number; before?: { createdAt: string; id: string } },
    ): Promise<{ job: PublicJob; storagePath: string | null }[]> {
      return asUser(sql, user, async (tx) => {
        const after = opts.before
          ? tx`and (j.created_at, j.id) < (${opts.before.createdAt}::timestamptz, ${opts.before.id}::uuid)`
          : tx``;
        const rows = await tx<{ j: PublicJob; storage_path: string | null }[]>`
          select vidqueue.job_public(j) as j, j.storage_path from public.jobs j
          where j.deleted_at is null ${after}
          order by j.created_at desc, j.id desc limit ${opts.limit}`;
        return rows.map((r) => ({ job: r.j, storagePath: r.storage_path }));
      });
    },
    /** One job of the user's (RLS decides), or null. */
    getForUser(user: AuthUser, id: string): Promise<{ job: PublicJob; row: JobRow } | null> {
      return asUser(sql, user, async (tx) => {
        const rows = await tx<{ j: PublicJob; row: JobRow }[]>`
          select vidqueue.job_public(j) as j, to_jsonb(j) as row from public.jobs j
          where j.id = ${id}::uuid and j.deleted_at is null`;
        const r = rows[0];
        return r ? { job: r.j, row: r.row } : null;
      });
    },
    /** The user's credit balance (RLS decides). */
    creditsForUser(user: AuthUser): Promise<Credits> {
      return asUser(sql, user, async (tx) => {
        const rows = await tx<Credits[]>`
          select available, reserved from public.credit_accounts where user_id = ${user.id}::uuid`;
        return rows[0] ?? { available: 0, reserved: 0 };
      });
    },
  };
}

export type Jobs = ReturnType<typeof createJobs>;
