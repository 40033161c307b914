/**
 * `fal-webhook`: fal's signed completion callback. Verifies the signature over the raw body before
 * parsing, matches the job by request id (or by our `job_id` while the job has no request id yet),
 * records the outcome through the idempotent SQL transitions, answers at once, and only then
 * copies the media into Storage, captures the credits and dispatches the next queued job.
 * Duplicates and out-of-order deliveries are 200 no-ops so fal stops retrying.
 */
import { AppError, toErrorResponse } from "../_shared/errors.ts";
import { json, readBytes } from "../_shared/http.ts";
import type { JobRow, Jobs } from "../_shared/jobs.ts";
import type { Logger } from "../_shared/log.ts";
import { falFailure } from "../_shared/fal_result.ts";
import { FalWebhookBody } from "./schema.ts";

export type VerifyWebhook = (
  headers: Headers,
  rawBody: Uint8Array,
) => Promise<{ ok: true; requestId: string } | { ok: false; reason: string }>;

export interface WebhookDeps {
  verify: VerifyWebhook;
  jobs: Jobs;
  /** Copies a finalizing job's media into Storage and completes it (see finalize.ts). */
  finalize: (job: JobRow) => Promise<void>;
  dispatch: () => Promise<number>;
  waitUntil: (p: Promise<unknown>) => void;
  log: Logger;
}

const MAX_BODY = 5 * 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function findJob(jobs: Jobs, requestId: string, jobIdParam: string | null, log: Logger) {
  const byRequest = await jobs.byRequest(requestId);
  if (byRequest) return byRequest;
  if (!jobIdParam || !UUID.test(jobIdParam)) return null;
  const job = await jobs.byId(jobIdParam);
  if (!job) return null;
  if (job.provider_request_id && job.provider_request_id !== requestId) {
    // A second fal request for one job (e.g. a retried submit whose first answer was lost).
    log("webhook for an extra fal request of a job", {
      job_id: job.id,
      request_id: requestId,
      recorded_request_id: job.provider_request_id,
    });
    return { ...job, extra: true as const };
  }
  // fal accepted the submit but we never stored the request id: heal it now.
  return (await jobs.submitted(job.id, requestId)) ?? (await jobs.byId(job.id));
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
      const raw = await readBytes(req, MAX_BODY);
      const verdict = await deps.verify(req.headers, raw);
      if (!verdict.ok) {
        deps.log("webhook signature rejected", { reason: verdict.reason });
        throw new AppError("invalid_signature", "The webhook signature could not be verified.");
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
      const jobIdParam = new URL(req.url).searchParams.get("job_id");
      const job = await findJob(deps.jobs, body.request_id, jobIdParam, deps.log);
      const fields = { request_id: body.request_id, job_id: job?.id ?? jobIdParam };
      if (!job) {
        deps.log("webhook for an unknown request", fields);
        throw new AppError("not_found", "No job is waiting for this request.");
      }
      if ("extra" in job) return json({ ok: true, ignored: "extra_request" });

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
