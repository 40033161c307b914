/**
 * `fal-webhook`: fal's signed completion callback. fal's signature only proves that fal sent the
 * body for *some* request of *some* fal account, so before anything looks at a job we check our
 * own token in the URL (webhook_token.ts: the job id and dispatch it was minted for), then fal's
 * signature over the raw body (and, when FAL_WEBHOOK_USER_ID is set, the signed fal user id);
 * any of these failing is a 401 `invalid_signature` that touches nothing.
 *
 * The job is then matched by request id, and must be the job the token names. A request id we
 * have not stored yet is recorded only for the dispatch the token names and only while that
 * dispatch is still in flight (fal answered the submit but we never stored its id): never during
 * a later re-dispatch or after a requeue. A webhook for a request that fits no job of ours is
 * answered 200 and changes nothing, so fal stops retrying. Otherwise the outcome goes through the
 * idempotent SQL transitions; we answer at once and only then copy the media into Storage,
 * capture the credits and dispatch the next queued job. Duplicates and out-of-order deliveries
 * are 200 no-ops.
 */
import { AppError, toErrorResponse } from "../_shared/errors.ts";
import { json, readBytes } from "../_shared/http.ts";
import type { JobRow, Jobs } from "../_shared/jobs.ts";
import type { Logger } from "../_shared/log.ts";
import { falFailure } from "../_shared/fal_result.ts";
import type { WebhookTokens } from "../_shared/webhook_token.ts";
import { FalWebhookBody } from "./schema.ts";

export type VerifyWebhook = (
  headers: Headers,
  rawBody: Uint8Array,
) => Promise<{ ok: true; requestId: string; userId: string } | { ok: false; reason: string }>;

export interface WebhookDeps {
  verify: VerifyWebhook;
  tokens: WebhookTokens;
  /** FAL_WEBHOOK_USER_ID: when set, the signed `X-Fal-Webhook-User-Id` must equal it. */
  falUserId?: string;
  jobs: Jobs;
  /** Copies a finalizing job's media into Storage and completes it (see finalize.ts). */
  finalize: (job: JobRow) => Promise<void>;
  dispatch: () => Promise<number>;
  waitUntil: (p: Promise<unknown>) => void;
  log: Logger;
}

/** The dispatch a callback URL was made for, once its token checked out. */
interface Hook {
  jobId: string;
  dispatch: number;
}

const MAX_BODY = 5 * 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Why one stable code for a bad token, signature or fal account: to fal (the only legitimate
 * caller) each means "this delivery is not authenticated for us", and a caller replaying a
 * genuine body learns nothing about which check stopped it. The log says which one.
 */
const unauthenticated = () =>
  new AppError("invalid_signature", "The webhook signature could not be verified.");

async function authenticateHook(url: URL, tokens: WebhookTokens, log: Logger): Promise<Hook> {
  const jobId = url.searchParams.get("job_id") ?? "";
  const dispatchText = url.searchParams.get("dispatch") ?? "";
  const token = url.searchParams.get("token");
  const dispatch = /^[1-9]\d{0,8}$/.test(dispatchText) ? Number(dispatchText) : 0;
  if (!UUID.test(jobId) || dispatch === 0 || !await tokens.verify(jobId, dispatch, token)) {
    log("webhook token rejected", { job_id: UUID.test(jobId) ? jobId : null });
    throw unauthenticated();
  }
  return { jobId, dispatch };
}

async function findJob(
  jobs: Jobs,
  requestId: string,
  hook: Hook,
  log: Logger,
): Promise<JobRow | null> {
  const fields = { job_id: hook.jobId, request_id: requestId, dispatch: hook.dispatch };
  const byRequest = await jobs.byRequest(requestId);
  if (byRequest) {
    if (byRequest.id === hook.jobId) return byRequest;
    log("webhook token names another job than the request's", {
      ...fields,
      request_job_id: byRequest.id,
    });
    return null;
  }
  // fal accepted this dispatch's submit but we have not stored the request id: record it now,
  // for this dispatch only and only while it is in flight.
  const healed = await jobs.submitted(hook.jobId, requestId, hook.dispatch);
  if (healed) {
    log("request id recorded from its webhook", fields);
    return healed;
  }
  // The dispatcher may have recorded it an instant ago.
  const recorded = await jobs.byRequest(requestId);
  if (recorded?.id === hook.jobId) return recorded;
  log("webhook for a request no dispatch of ours is waiting for", fields);
  return null;
}

/** Builds the webhook handler. */
export function createWebhookHandler(deps: WebhookDeps): (req: Request) => Promise<Response> {
  const background = (job: JobRow | null, work: Promise<unknown>) =>
    deps.waitUntil(
      work.catch((e) =>
        deps.log("webhook background work failed", { job_id: job?.id, error: String(e) })
      ).finally(() => deps.dispatch().catch(() => {})),
    );
  return async (req) => {
    try {
      if (req.method !== "POST") throw new AppError("method_not_allowed", "Use POST.");
      const hook = await authenticateHook(new URL(req.url), deps.tokens, deps.log);
      const raw = await readBytes(req, MAX_BODY);
      const verdict = await deps.verify(req.headers, raw);
      if (!verdict.ok) {
        deps.log("webhook signature rejected", { job_id: hook.jobId, reason: verdict.reason });
        throw unauthenticated();
      }
      if (deps.falUserId && verdict.userId !== deps.falUserId) {
        deps.log("webhook from another fal account rejected", {
          job_id: hook.jobId,
          request_id: verdict.requestId,
          fal_user_id: verdict.userId,
        });
        throw unauthenticated();
      }
      let body: FalWebhookBody;
      try {
        const parsed = FalWebhookBody.safeParse(JSON.parse(new TextDecoder().decode(raw)));
        if (!parsed.success) throw parsed.error;
        body = parsed.data;
      } catch {
        throw new AppError("invalid_input", "The webhook body is not a fal webhook payload.");
      }
      if (body.request_id !== verdict.requestId) {
        throw new AppError("invalid_signature", "The signed request id does not match the body.");
      }
      const job = await findJob(deps.jobs, body.request_id, hook, deps.log);
      if (!job) return json({ ok: true, ignored: "unknown_request" });
      const fields = { request_id: body.request_id, job_id: job.id, dispatch: hook.dispatch };
      if (body.status === "OK" && body.payload != null) {
        const finalizing = await deps.jobs.finalizing(job.id, body.payload, body.request_id);
        deps.log(finalizing ? "result received" : "duplicate or late result ignored", fields);
        if (finalizing) background(finalizing, deps.finalize(finalizing));
        return json({ ok: true });
      }
      const failure = body.status === "OK"
        ? { code: "provider_payload_error", message: body.payload_error ?? "fal sent no result" }
        : falFailure(body.error, body.payload);
      const failed = await deps.jobs.providerFailed(
        job.id,
        failure.code,
        failure.message,
        body.request_id,
      );
      deps.log(failed ? `job ${failed.status}` : "duplicate or late failure ignored", {
        ...fields,
        code: failure.code,
      });
      if (failed) background(failed, Promise.resolve());
      return json({ ok: true });
    } catch (e) {
      return toErrorResponse(e, deps.log);
    }
  };
}
