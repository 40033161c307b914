/**
 * Dispatch: claims queued jobs into free fal slots (race-free, in SQL) and submits each to fal
 * with its webhook URL. Every claim is a numbered dispatch (`dispatch_seq`); the URL carries the
 * job id, that number and our token over both (webhook_token.ts), so only callbacks of our own
 * requests can move the job. A claimed job is marked as being dispatched before we call fal, so a
 * crash between fal accepting and us storing the request id is healed by the webhook of that
 * dispatch or by the reconciler.
 *
 * What fal answers decides:
 *   - accepted: the request id is recorded for this dispatch only. When the job moved on
 *     meanwhile (canceled, timed out, re-dispatched) the answer is refused in SQL and we cancel
 *     that request at fal, so nothing runs orphaned;
 *   - refused (429, 5xx, unreachable — fal never started it, nothing is billed): back to the
 *     queue on the refusal budget (backoff honouring Retry-After, up to the horizon), not an
 *     attempt (vidqueue.job_submit_refused);
 *   - rejected (other 4xx): the job fails and its credits are released.
 * Storage references in a job's input (start images, a story's media) are signed just before each
 * submit (input_refs.ts); a file that is gone fails the job.
 */
import { retryDelayMs } from "./backoff.ts";
import { type Env, webhookUrl } from "./env.ts";
import { type FalError, type FalGateway, isSubmitRefusal, toFalError } from "./fal.ts";
import type { JobRow, Jobs } from "./jobs.ts";
import type { Logger } from "./log.ts";
import type { ModelCatalog } from "./models.ts";
import { InputRefError } from "./input_refs.ts";
import type { WebhookTokens } from "./webhook_token.ts";

export interface DispatchDeps {
  jobs: Jobs;
  fal: FalGateway;
  models: ModelCatalog;
  tokens: WebhookTokens;
  env: Pick<
    Env,
    | "PUBLIC_URL"
    | "SUPABASE_URL"
    | "FAL_MAX_CONCURRENCY"
    | "USER_MAX_ACTIVE"
    | "RETRY_BASE_MS"
    | "SUBMIT_REFUSAL_HORIZON_S"
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
  const retryAt = (job: JobRow) =>
    new Date(now() + retryDelayMs(job.attempts, deps.random, deps.env.RETRY_BASE_MS));

  /** fal did not take the submit: refused (own budget), unreadable (an attempt) or rejected. */
  async function submitFailed(job: JobRow, err: FalError): Promise<void> {
    const dispatch = job.dispatch_seq;
    const message = err.message.slice(0, 500);
    if (isSubmitRefusal(err)) {
      const after = await deps.jobs.submitRefused(
        job.id,
        dispatch,
        err.status === 429 ? "provider_rate_limited" : "provider_unavailable",
        message,
        {
          retryAfterS: err.retryAfterS,
          baseMs: deps.env.RETRY_BASE_MS,
          horizonS: deps.env.SUBMIT_REFUSAL_HORIZON_S ?? null,
        },
      );
      deps.log("fal refused the submit", {
        job_id: job.id,
        dispatch,
        status: err.status,
        retry_after_s: err.retryAfterS,
        job_status: after?.status ?? null,
        retry_at: after?.next_attempt_at ?? null,
      });
      return;
    }
    // A 2xx we could not read may still have been accepted: that costs an attempt.
    const accepted = err.status !== null && err.status < 300;
    const code = accepted ? "provider_unavailable" : "provider_rejected";
    const at = accepted ? retryAt(job) : null;
    deps.log("fal submit failed", {
      job_id: job.id,
      dispatch,
      status: err.status,
      retry_at: at?.toISOString() ?? null,
    });
    await deps.jobs.dispatchFailed(job.id, code, message, at, dispatch);
  }

  /** fal accepted a submit for a dispatch that is no longer in flight: stop that request. */
  async function orphaned(job: JobRow, endpointId: string, requestId: string): Promise<void> {
    const current = await deps.jobs.byId(job.id);
    // Its own webhook may have recorded it first (fal can be quicker than its submit answer).
    if (current?.provider_request_id === requestId) return;
    deps.log("fal accepted a submit for a job that moved on; canceling that request", {
      job_id: job.id,
      request_id: requestId,
      dispatch: job.dispatch_seq,
      job_status: current?.status ?? null,
      job_dispatch: current?.dispatch_seq ?? null,
    });
    await deps.fal.cancel(endpointId, requestId).catch((e) =>
      deps.log("fal cancel failed", { job_id: job.id, request_id: requestId, error: String(e) })
    );
  }

  async function submitOne(job: JobRow): Promise<boolean> {
    const model = await deps.models.get(job.model);
    if (!model) {
      await deps.jobs.dispatchFailed(
        job.id,
        "model_unavailable",
        `Model ${job.model} is not available.`,
        null,
        job.dispatch_seq,
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
          gone ? null : retryAt(job),
          job.dispatch_seq,
        );
        return false;
      }
    }
    const dispatch = job.dispatch_seq;
    const hook = webhookUrl(deps.env, {
      jobId: job.id,
      dispatch,
      token: await deps.tokens.mint(job.id, dispatch),
    });
    let requestId: string;
    try {
      requestId = await deps.fal.submit(model.endpoint_id, input, hook);
    } catch (e) {
      await submitFailed(job, toFalError(e));
      return false;
    }
    const after = await deps.jobs.submitted(job.id, requestId, dispatch);
    if (!after) {
      await orphaned(job, model.endpoint_id, requestId);
      return false;
    }
    deps.log("submitted to fal", {
      job_id: job.id,
      request_id: requestId,
      attempt: job.attempts,
      dispatch,
    });
    if (after.cancel_requested_at) {
      // The user canceled while we were submitting: ask fal to stop; its outcome decides.
      await deps.fal.cancel(model.endpoint_id, requestId).catch((e) =>
        deps.log("fal cancel failed", { job_id: job.id, error: String(e) })
      );
    }
    return true;
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
