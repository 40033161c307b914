/**
 * The reconciler: what makes every job end, whatever fal, the network or our own processes did.
 * One run leases the jobs that are due (no news within the grace period, then with backoff; or
 * past their model's timeout), and for each:
 *   - at fal: asks fal's status (and result); IN_PROGRESS → started, COMPLETED → the result goes
 *     through the same idempotent transitions as a webhook (finalizing, copy, completed; or fal's
 *     failure: validation → failed at once, infrastructure → back to the queue with backoff while
 *     attempts are left, reusing the reservation); a request fal no longer knows is resubmitted;
 *     a pending cancel is sent to fal again;
 *   - being dispatched but never given its request id (the process died around the submit): back
 *     to the queue for a new submit (the webhook of that dispatch would have healed it sooner; a
 *     late webhook or submit answer of it cannot touch the next dispatch);
 *   - finalizing: the Storage copy is tried again;
 *   - past its timeout: one last look at fal, then canceled at fal, failed and released.
 * Then it dispatches queued jobs into free slots (and warns when the daily cap holds them back).
 * Safe to run concurrently with itself and with webhooks: leases are row locks taken with SKIP
 * LOCKED, and every transition is guarded in SQL.
 */
import { retryDelayMs } from "./backoff.ts";
import { type FalGateway, toFalError } from "./fal.ts";
import { falFailure } from "./fal_result.ts";
import type { JobRow, Jobs } from "./jobs.ts";
import type { Logger } from "./log.ts";
import type { DueJob, ReconcileStore } from "./reconcile_store.ts";

export interface ReconcileConfig {
  /** WEBHOOK_GRACE_S (null: the model's expected seconds + 60). */
  graceS: number | null;
  /** Base of the backoff between later checks of one job (null: graceS, else 30 s). */
  backoffS: number | null;
  /** Jobs leased per batch. */
  batchSize: number;
  /** A run stops leasing new batches after this long (pg_net and the gateway time out). */
  deadlineMs: number;
  /** Base of the retry backoff when fal failed a request transiently (RETRY_BASE_MS). */
  retryBaseMs: number;
  /** Jobs handled at once. */
  concurrency: number;
  /**
   * One job's handling is given up (counted `unreachable`; its lease brings it back later) after
   * this long: @fal-ai/client retries status calls for up to ~30 s when fal is failing.
   */
  itemTimeoutMs: number;
}

export interface ReconcileDeps {
  store: ReconcileStore;
  jobs: Jobs;
  fal: FalGateway;
  /** Copies a finalizing job's media into Storage and completes it (finalize.ts). */
  finalize: (job: JobRow) => Promise<void>;
  /** Claims queued jobs into free slots and submits them (dispatch.ts). */
  dispatch: () => Promise<number>;
  /** Unset fields take the defaults (grace from the model, batches of 50, 25 s deadline …). */
  config: Partial<ReconcileConfig>;
  log: Logger;
  now?: () => number;
  random?: () => number;
}

/** What one run did, by outcome. */
export interface ReconcileReport {
  checked: number;
  started: number;
  finalized: number;
  failed: number;
  requeued: number;
  healed: number;
  copies_retried: number;
  timed_out: number;
  waiting: number;
  unreachable: number;
  errors: number;
  /** Leased but left for a later run because this one reached its deadline. */
  deferred: number;
  dispatched: number;
  daily_cap: { spent: number; cap: number } | null;
}

type Outcome = Exclude<
  keyof ReconcileReport,
  "checked" | "deferred" | "dispatched" | "daily_cap"
>;

const AT_FAL = new Set(["submitted", "in_progress"]);
const DEFAULTS: ReconcileConfig = {
  graceS: null,
  backoffS: null,
  batchSize: 50,
  deadlineMs: 25_000,
  retryBaseMs: 5_000,
  concurrency: 8,
  itemTimeoutMs: 20_000,
};

/** What fal's answer to a result request means for the job. */
export type ResultVerdict =
  | { kind: "fail"; code: string; message: string }
  | { kind: "retry"; code: string; message: string }
  | { kind: "later"; message: string };

/** Classifies a failed result fetch of a request fal reports COMPLETED. */
export function resultVerdict(e: unknown): ResultVerdict {
  const err = toFalError(e);
  const status = err.status;
  if (status === null || status === 429 || status === 401 || status === 403) {
    // fal unreachable, rate limited or refusing our key: the outcome is unknown; look again.
    return { kind: "later", message: err.message };
  }
  if (status === 404 || status === 410) {
    return {
      kind: "retry",
      code: "provider_lost",
      message: "The provider no longer knows this request.",
    };
  }
  if (status === 499) {
    return {
      kind: "fail",
      code: "provider_canceled",
      message: "The provider canceled the request.",
    };
  }
  if (status >= 500 || status === 408) {
    return { kind: "retry", code: "provider_error", message: err.message.slice(0, 500) };
  }
  const failure = falFailure(err.message, { detail: err.detail });
  return { kind: "fail", code: failure.code, message: failure.message };
}

/** Returns `reconcile()`, one bounded run. */
export function createReconciler(deps: ReconcileDeps): () => Promise<ReconcileReport> {
  const config: ReconcileConfig = { ...DEFAULTS, ...deps.config };
  const now = deps.now ?? Date.now;
  const log = deps.log;

  const retryAt = (job: JobRow) =>
    new Date(now() + retryDelayMs(job.attempts, deps.random, config.retryBaseMs));

  async function applyVerdict(job: JobRow, verdict: ResultVerdict): Promise<Outcome> {
    if (verdict.kind === "later") {
      log("fal result unavailable, will look again", { job_id: job.id, error: verdict.message });
      return "unreachable";
    }
    if (verdict.kind === "retry") {
      const after = await deps.store.requeue(job.id, verdict.code, verdict.message, retryAt(job));
      log(after ? `job ${after.status} after a provider failure` : "requeue was a no-op", {
        job_id: job.id,
        request_id: job.provider_request_id,
        code: verdict.code,
      });
      return after?.status === "queued" ? "requeued" : after ? "failed" : "waiting";
    }
    const after = await deps.store.providerFailed(job.id, verdict.code, verdict.message);
    log(after ? `job ${after.status}` : "failure was a no-op", {
      job_id: job.id,
      request_id: job.provider_request_id,
      code: verdict.code,
    });
    return after ? "failed" : "waiting";
  }

  /** fal's status and, when done, its result, applied through the idempotent transitions. */
  async function chase(item: DueJob): Promise<Outcome> {
    const { job, endpointId } = item;
    const requestId = job.provider_request_id;
    if (!endpointId || !requestId) {
      const after = await deps.jobs.failed(
        job.id,
        "model_unavailable",
        "The job's model is no longer in the catalog.",
      );
      return after ? "failed" : "waiting";
    }
    if (job.cancel_requested_at) {
      // The user's cancel may not have reached fal; asking again is harmless.
      await deps.fal.cancel(endpointId, requestId).catch((e) =>
        log("fal cancel failed", { job_id: job.id, error: toFalError(e).message })
      );
    }
    let state;
    try {
      state = await deps.fal.status(endpointId, requestId);
    } catch (e) {
      const err = toFalError(e);
      if (err.status === 404) return applyVerdict(job, resultVerdict(e));
      log("fal status unavailable, will look again", { job_id: job.id, error: err.message });
      return "unreachable";
    }
    if (state === "IN_QUEUE") return "waiting";
    if (state === "IN_PROGRESS") {
      return (await deps.jobs.started(job.id)) ? "started" : "waiting";
    }
    let payload: Record<string, unknown>;
    try {
      payload = await deps.fal.result(endpointId, requestId);
    } catch (e) {
      return applyVerdict(job, resultVerdict(e));
    }
    const finalizing = await deps.store.finalizing(job.id, payload, requestId);
    if (!finalizing) return "waiting";
    log("result fetched from fal", { job_id: job.id, request_id: requestId });
    await deps.finalize(finalizing);
    return "finalized";
  }

  /**
   * A dispatch that never stored fal's request id (its process died): submit again. Only this
   * dispatch is ended; should its submit still be answered, the answer no longer fits a dispatch
   * in flight, and the dispatcher cancels that request at fal (dispatch.ts).
   */
  async function heal(job: JobRow): Promise<Outcome> {
    const after = await deps.jobs.dispatchFailed(
      job.id,
      "dispatch_interrupted",
      "The submit to the provider was interrupted.",
      new Date(now()),
      job.dispatch_seq,
    );
    log(after ? `interrupted dispatch: job ${after.status}` : "heal was a no-op", {
      job_id: job.id,
      attempt: job.attempts,
    });
    return after?.status === "queued" ? "healed" : after ? "failed" : "waiting";
  }

  async function timeOut(item: DueJob): Promise<Outcome> {
    const { job, endpointId } = item;
    if (AT_FAL.has(job.status)) {
      // One last look: fal may have finished and only its webhook got lost.
      const outcome = await chase(item).catch(() => "unreachable" as const);
      if (outcome !== "waiting" && outcome !== "started" && outcome !== "unreachable") {
        return outcome;
      }
      if (endpointId && job.provider_request_id) {
        await deps.fal.cancel(endpointId, job.provider_request_id).catch(() => {});
      }
    }
    const after = await deps.jobs.failed(
      job.id,
      "timeout",
      job.status === "finalizing"
        ? "Copying the result into storage did not finish in time."
        : "The provider did not finish the job in time.",
    );
    log(after ? `job ${after.status} after its timeout` : "timeout was a no-op", {
      job_id: job.id,
      status: job.status,
    });
    return after ? "timed_out" : "waiting";
  }

  async function handle(item: DueJob): Promise<Outcome> {
    const { job } = item;
    // Parents follow their children (SQL never leases them; this is belt and braces).
    if (job.kind === "batch" || job.kind === "story") return "waiting";
    if (item.timedOut) return timeOut(item);
    if (job.status === "finalizing") {
      await deps.finalize(job);
      return "copies_retried";
    }
    if (job.status === "queued") return heal(job);
    return chase(item);
  }

  return async function reconcile(): Promise<ReconcileReport> {
    const began = now();
    const report: ReconcileReport = {
      checked: 0,
      started: 0,
      finalized: 0,
      failed: 0,
      requeued: 0,
      healed: 0,
      copies_retried: 0,
      timed_out: 0,
      waiting: 0,
      unreachable: 0,
      errors: 0,
      deferred: 0,
      dispatched: 0,
      daily_cap: null,
    };
    const bounded = (item: DueJob): Promise<Outcome> => {
      const work = handle(item).catch((e) => {
        log("reconcile of a job failed", {
          job_id: item.job.id,
          error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        });
        return "errors" as const;
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cap = new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => {
          log("reconcile of a job is taking too long; left for a later run", {
            job_id: item.job.id,
          });
          resolve("unreachable");
        }, config.itemTimeoutMs);
      });
      return Promise.race([work, cap]).finally(() => clearTimeout(timer));
    };
    // Bounded: at most 20 batches, and none started after the deadline.
    for (let round = 0; round < 20 && now() - began < config.deadlineMs; round++) {
      const due = await deps.store.claimDue({
        graceS: config.graceS,
        backoffS: config.backoffS,
        limit: config.batchSize,
      });
      report.checked += due.length;
      for (let i = 0; i < due.length; i += config.concurrency) {
        if (now() - began >= config.deadlineMs) {
          report.deferred += due.length - i;
          break;
        }
        const outcomes = await Promise.all(due.slice(i, i + config.concurrency).map(bounded));
        for (const o of outcomes) report[o]++;
      }
      if (due.length < config.batchSize) break;
    }
    report.dispatched = await deps.dispatch();
    const cap = await deps.store.dailyCap();
    if (cap.cap !== null) {
      report.daily_cap = { spent: cap.spent, cap: cap.cap };
      if (cap.spent >= cap.cap) {
        const waiting = await deps.store.waitingCount();
        if (waiting > 0) {
          log("WARNING daily credit cap reached: jobs wait queued until tomorrow (UTC)", {
            spent: cap.spent,
            cap: cap.cap,
            waiting,
          });
        }
      }
    }
    return report;
  };
}
