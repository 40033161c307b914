/**
 * `reconcile-jobs`: runs one reconciler pass (see _shared/reconcile.ts) when called with the
 * shared secret. Called by pg_cron + pg_net in production (migration
 * 20250602000200_reconcile_schedule.sql), by dev/reconcile_timer.ts in the local stack, and on
 * demand by tests. The secret travels in `x-reconcile-secret` and is compared in constant time;
 * without a configured RECONCILE_SECRET the function refuses every call.
 */
import { AppError, toErrorResponse } from "../_shared/errors.ts";
import { json, readBytes } from "../_shared/http.ts";
import type { Logger } from "../_shared/log.ts";
import type { ReconcileReport } from "../_shared/reconcile.ts";
import { secretsMatch } from "../_shared/secret_compare.ts";

export interface ReconcileHandlerDeps {
  /** RECONCILE_SECRET; undefined refuses all calls. */
  secret: string | undefined;
  reconcile: () => Promise<ReconcileReport>;
  log: Logger;
}

/** The header pg_cron's request and the dev timer send. */
export const SECRET_HEADER = "x-reconcile-secret";

/** Builds the request handler. */
export function createReconcileHandler(
  deps: ReconcileHandlerDeps,
): (req: Request) => Promise<Response> {
  return async (req) => {
    try {
      if (req.method !== "POST") throw new AppError("method_not_allowed", "Use POST.");
      if (!deps.secret) {
        throw new AppError("unavailable", "reconcile-jobs is not configured.");
      }
      if (!(await secretsMatch(req.headers.get(SECRET_HEADER), deps.secret))) {
        throw new AppError("unauthorized", "A valid reconcile secret is required.");
      }
      // The body carries nothing we need (pg_net sends `{}`); read it so the connection is reusable.
      await readBytes(req, 64 * 1024);
      const began = performance.now();
      const report = await deps.reconcile();
      // A run that found nothing to do is the common case every 30 s: log only runs that acted.
      const acted = Object.values(report).some((v) => typeof v === "number" && v > 0);
      if (acted) {
        deps.log("reconcile run", { ...report, ms: Math.round(performance.now() - began) });
      }
      return json({ ok: true, report });
    } catch (e) {
      return toErrorResponse(e, deps.log);
    }
  };
}
