/**
 * Dispatch: claims queued jobs into free fal slots (race-free, in SQL) and submits each to fal
 * with its webhook URL. A claimed job is marked as being dispatched before we call fal, so a crash
 * between fal accepting and us storing the request id is healed by the webhook's `job_id` or by
 * the reconciler. Transient failures go back to the queue with backoff; rejections fail the job
 * and release its credits. Storage references in a job's input (start images, a story's media)
 * are signed just before each submit (input_refs.ts); a file that is gone fails the job.
 */
import { retryDelayMs } from "./backoff.ts";
import { type Env, webhookUrl } from "./env.ts";
import { type FalGateway, toFalError } from "./fal.ts";
import type { JobRow, Jobs } from "./jobs.ts";
import type { Logger } from "./log.ts";
import type { ModelCatalog } from "./models.ts";
import { InputRefError } from "./input_refs.ts";

export interface DispatchDeps {
  jobs: Jobs;
  fal: FalGateway;
  models: ModelCatalog;
  env: Pick<
    Env,
    "PUBLIC_URL" | "SUPABASE_URL" | "FAL_MAX_CONCURRENCY" | "USER_MAX_ACTIVE" | "RETRY_BASE_MS"
  >;
  log: Logger;
  /** The input to submit, with its `storage://` references signed (default: the input as is). */
  resolveInput?: (job: JobRow) => Promise<Record<string, unknown>>;
  now?: () => number;
  random?: () => number;
}

/** Returns `dispatch()`: fills free slots until none or no queued job is left; resolves to the count submitted. */
export function createDispatcher(deps: DispatchDeps): () => Promise<number> {
  const now = deps.now ?? Date.now;

  async function submitOne(job: JobRow): Promise<boolean> {
    const model = await deps.models.get(job.model);
    if (!model) {
      await deps.jobs.dispatchFailed(
        job.id,
        "model_unavailable",
        `Model ${job.model} is not available.`,
        null,
      );
      return false;
    }
    let input = job.input;
    if (deps.resolveInput) {
      try {
        input = await deps.resolveInput(job);
      } catch (e) {
        const gone = e instanceof InputRefError;
        deps.log("job input could not be prepared", { job_id: job.id, error: String(e) });
        await deps.jobs.dispatchFailed(
          job.id,
          gone ? "input_unavailable" : "storage_unavailable",
          (e as Error).message.slice(0, 500),
          gone
            ? null
            : new Date(now() + retryDelayMs(job.attempts, deps.random, deps.env.RETRY_BASE_MS)),
        );
        return false;
      }
    }
    try {
      const requestId = await deps.fal.submit(
        model.endpoint_id,
        input,
        webhookUrl(deps.env, job.id),
      );
      const after = await deps.jobs.submitted(job.id, requestId);
      deps.log("submitted to fal", {
        job_id: job.id,
        request_id: requestId,
        attempt: job.attempts,
      });
      if (after?.cancel_requested_at) {
        // The user canceled while we were submitting: ask fal to stop; its outcome decides.
        await deps.fal.cancel(model.endpoint_id, requestId).catch((e) =>
          deps.log("fal cancel failed", { job_id: job.id, error: String(e) })
        );
      }
      return true;
    } catch (e) {
      const err = toFalError(e);
      const retryAt = err.transient
        ? new Date(now() + retryDelayMs(job.attempts, deps.random, deps.env.RETRY_BASE_MS))
        : null;
      const code = err.transient ? "provider_unavailable" : "provider_rejected";
      deps.log("fal submit failed", {
        job_id: job.id,
        status: err.status,
        transient: err.transient,
        retry_at: retryAt?.toISOString() ?? null,
      });
      await deps.jobs.dispatchFailed(job.id, code, err.message.slice(0, 500), retryAt);
      return false;
    }
  }

  return async function dispatch(): Promise<number> {
    let submitted = 0;
    // Bounded: one call never loops forever, whatever the queue holds.
    for (let round = 0; round < 20; round++) {
      const claimed = await deps.jobs.claim(
        deps.env.FAL_MAX_CONCURRENCY,
        deps.env.USER_MAX_ACTIVE,
        8,
      );
      if (claimed.length === 0) break;
      const results = await Promise.all(claimed.map(submitOne));
      submitted += results.filter(Boolean).length;
      // fal refused every submit of this round: stop here rather than hammer it (or re-claim a
      // job whose short backoff already passed); the next dispatch or the reconciler goes on.
      if (!results.some(Boolean)) break;
    }
    return submitted;
  };
}
