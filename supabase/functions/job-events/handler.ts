/**
 * `job-events`: one job's timeline (public.job_events, oldest first) for its owner or an admin.
 * The read runs as the caller through RLS (owners read their own events, admins every job's), so
 * SQL, not this code, decides who sees what; a job the caller may not see answers 404 like a job
 * that does not exist. Owners get the user-facing details of each event (error code and message,
 * attempt, retry time, cost); admins also get the internal ones (fal request id, slot, storage
 * path, the admin who acted).
 */
import { isAdminClaims, requestIdOf } from "../_shared/admin.ts";
import type { Authenticate, AuthUser } from "../_shared/auth.ts";
import { asUser, type Sql } from "../_shared/db.ts";
import { AppError, toErrorResponse } from "../_shared/errors.ts";
import { json, withCors } from "../_shared/http.ts";
import type { Logger } from "../_shared/log.ts";

/** One entry of the timeline. */
export interface JobEvent {
  id: number;
  kind: string;
  from_status: string | null;
  to_status: string | null;
  at: string;
  detail: Record<string, unknown>;
}

export interface JobEventsDeps {
  authenticate: Authenticate;
  /** The job's events as the user may see them (RLS), oldest first, at most `limit`. */
  eventsFor(user: AuthUser, jobId: string, limit: number): Promise<JobEvent[]>;
  log: Logger;
}

/** Detail keys an owner sees; admins see every key. */
export const OWNER_DETAIL_KEYS = ["code", "message", "attempt", "retry_at", "cost", "reason"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_EVENTS = 500;

/** The RLS-scoped read over a postgres.js pool. */
export function createEventsReader(sql: Sql): JobEventsDeps["eventsFor"] {
  return (user, jobId, limit) =>
    asUser(sql, user, async (tx) => {
      const rows = await tx<JobEvent[]>`
        select e.id::int as id, e.kind, e.from_status, e.to_status, e.created_at as at, e.detail
        from public.job_events e
        where e.job_id = ${jobId}::uuid
        order by e.id
        limit ${limit}`;
      return [...rows];
    });
}

/** Keeps only the detail an owner may see. */
export function ownerView(event: JobEvent): JobEvent {
  const detail: Record<string, unknown> = {};
  for (const key of OWNER_DETAIL_KEYS) {
    if (event.detail?.[key] !== undefined && event.detail[key] !== null) {
      detail[key] = event.detail[key];
    }
  }
  return { ...event, detail };
}

/** Builds the request handler. */
export function createJobEventsHandler(deps: JobEventsDeps): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method === "OPTIONS") return json("ok");
    const reqId = requestIdOf(req);
    const log: Logger = (msg, fields = {}) => deps.log(msg, { req_id: reqId, ...fields });
    try {
      if (req.method !== "GET") throw new AppError("method_not_allowed", "Use GET.");
      const user = await deps.authenticate(req);
      const id = new URL(req.url).searchParams.get("id") ?? "";
      if (!UUID.test(id)) throw new AppError("invalid_input", "id: a job id is required");
      const events = await deps.eventsFor(user, id, MAX_EVENTS);
      // Every job has at least its `created` event: none visible = no such job for this caller.
      if (events.length === 0) throw new AppError("not_found", "No such job.");
      const admin = isAdminClaims(user.claims);
      log("timeline read", { job_id: id, events: events.length, admin });
      return json({ events: admin ? events : events.map(ownerView) });
    } catch (e) {
      return withCors(toErrorResponse(e, log));
    }
  };
}
