/**
 * `admin-queue`: the operators' view of the queue. GET answers the statistics of
 * vidqueue.admin_stats (depth by stage and model, slots in use vs FAL_MAX_CONCURRENCY, latency
 * percentiles and failures per model over `?window=`, credit movements, stuck jobs); POST
 * `{action: "redispatch" | "cancel", id, reason?}` acts on a stuck job and dispatches. Both ask
 * fal to stop the request the job had (when we know its id), so nothing runs on at our cost: the
 * ERROR webhook fal then sends names the old dispatch in its URL token, and fal-webhook records a
 * request only for the dispatch in flight, so it cannot touch the next one. Admins only
 * (app_metadata.role = "admin"), checked here
 * and again in SQL. Live updates come from the Realtime topic `admin:stats`, not from calling
 * this in a loop.
 */
import { requestIdOf, requireAdmin } from "../_shared/admin.ts";
import type { Authenticate } from "../_shared/auth.ts";
import { AppError, toErrorResponse } from "../_shared/errors.ts";
import type { FalGateway } from "../_shared/fal.ts";
import { json, readJsonObject, withCors } from "../_shared/http.ts";
import type { Logger } from "../_shared/log.ts";
import type { ModelCatalog } from "../_shared/models.ts";
import { describeIssue } from "../_shared/zod_issue.ts";
import { AdminAction, parseWindow } from "./schema.ts";
import type { AdminStore } from "./store.ts";

export interface AdminQueueDeps {
  authenticate: Authenticate;
  admin: AdminStore;
  models: ModelCatalog;
  fal: FalGateway;
  dispatch: () => Promise<number>;
  waitUntil: (p: Promise<unknown>) => void;
  limits: { FAL_MAX_CONCURRENCY: number };
  log: Logger;
}

/** Stuck jobs listed in a GET answer (the Realtime message carries the first 20). */
const STUCK_LIMIT = 100;

/** Builds the request handler. */
export function createAdminQueueHandler(deps: AdminQueueDeps): (req: Request) => Promise<Response> {
  async function stats(req: Request, log: Logger, user: Parameters<AdminStore["stats"]>[0]) {
    const window = parseWindow(new URL(req.url).searchParams.get("window"));
    if (window === null) {
      throw new AppError(
        "invalid_input",
        "window: seconds between 60 and 604800, or 15m, 1h, 24h, 7d",
      );
    }
    const began = performance.now();
    const stats = await deps.admin.stats(user, window, STUCK_LIMIT);
    log("stats read", { window_s: window, ms: Math.round(performance.now() - began) });
    return json({
      stats: {
        ...stats,
        slots: { ...stats.slots, limit: deps.limits.FAL_MAX_CONCURRENCY },
      },
    });
  }

  async function act(req: Request, log: Logger, user: Parameters<AdminStore["stats"]>[0]) {
    const parsed = AdminAction.safeParse(await readJsonObject(req));
    if (!parsed.success) throw new AppError("invalid_input", describeIssue(parsed.error));
    const { action, id, reason } = parsed.data;
    const outcome = action === "redispatch"
      ? await deps.admin.requeue(user, id)
      : await deps.admin.cancel(user, id, reason ?? null);
    if (!outcome.before) throw new AppError("not_found", "No such job.");
    if (!outcome.after) {
      throw new AppError(
        "conflict",
        action === "redispatch"
          ? `A ${outcome.before.status} job cannot be re-dispatched.`
          : `The job is already ${outcome.before.status}.`,
      );
    }
    const fields = {
      job_id: id,
      request_id: outcome.before.provider_request_id,
      admin_id: user.id,
      action,
    };
    log(`job ${action === "redispatch" ? "re-dispatched" : "canceled"} by an admin`, fields);
    // The request the job had should not run on at our cost: ask fal to stop it (best effort;
    // its webhook is then a no-op, see the header).
    const old = outcome.before.provider_request_id;
    if (old) {
      const model = await deps.models.get(outcome.before.model);
      if (model) {
        await deps.fal.cancel(model.endpoint_id, old).catch((e) =>
          log("fal cancel failed", { ...fields, error: String(e) })
        );
      }
    }
    deps.waitUntil(
      deps.dispatch().catch((e) => log("dispatch failed", { ...fields, error: String(e) })),
    );
    return json({ job: outcome.after.job });
  }

  return async (req) => {
    if (req.method === "OPTIONS") return json("ok");
    const reqId = requestIdOf(req);
    const log: Logger = (msg, fields = {}) => deps.log(msg, { req_id: reqId, ...fields });
    try {
      const user = await deps.authenticate(req);
      requireAdmin(user);
      if (req.method === "GET") return await stats(req, log, user);
      if (req.method === "POST") return await act(req, log, user);
      throw new AppError("method_not_allowed", "Use GET or POST.");
    } catch (e) {
      if (e instanceof AppError && e.code === "forbidden") {
        log("refused a non-admin", { reason: e.message });
      }
      return withCors(toErrorResponse(e, log));
    }
  };
}
