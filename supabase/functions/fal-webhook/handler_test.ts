import assert from "node:assert/strict";
import { createWebhookHandler, type VerifyWebhook } from "./handler.ts";
import type { JobRow } from "../_shared/jobs.ts";
import { collectWaitUntil, fakeJobs, jobRow, silentLog } from "../_shared/testing/fakes.ts";

const acceptAll: VerifyWebhook = (headers) =>
  Promise.resolve({ ok: true, requestId: headers.get("x-fal-webhook-request-id") ?? "" });
const rejectAll: VerifyWebhook = () => Promise.resolve({ ok: false, reason: "no key verifies" });

function webhook(body: unknown, opts: { requestId?: string; jobId?: string } = {}) {
  const requestId = opts.requestId ?? (body as { request_id?: string }).request_id ?? "req-1";
  const url = `http://fn/fal-webhook${opts.jobId ? `?job_id=${opts.jobId}` : ""}`;
  return new Request(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-fal-webhook-request-id": requestId },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function setup(verify: VerifyWebhook, overrides: Parameters<typeof fakeJobs>[0]) {
  const { jobs, calls } = fakeJobs(overrides);
  const finalized: JobRow[] = [];
  const bg = collectWaitUntil();
  let dispatched = 0;
  const handler = createWebhookHandler({
    verify,
    jobs,
    finalize: (job) => (finalized.push(job), Promise.resolve()),
    dispatch: () => Promise.resolve(++dispatched),
    waitUntil: bg.waitUntil,
    log: silentLog,
  });
  return { handler, calls, finalized, bg, dispatched: () => dispatched };
}

const OK = {
  request_id: "req-1",
  status: "OK",
  payload: { video: { url: "https://v3.fal.media/a.mp4" } },
};

Deno.test("a webhook whose signature does not verify is a 401 and touches no job", async () => {
  const { handler, calls } = setup(rejectAll, {});
  const res = await handler(webhook(OK));
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.code, "invalid_signature");
  assert.deepEqual(calls, {});
});

Deno.test("a signed body that is not a fal payload is a 400", async () => {
  const { handler, calls } = setup(acceptAll, {});
  for (const body of ["{nope", JSON.stringify({ request_id: "req-1", status: "MAYBE" })]) {
    const res = await handler(webhook(body, { requestId: "req-1" }));
    assert.equal(res.status, 400);
  }
  assert.deepEqual(calls, {});
});

Deno.test("a body whose request id differs from the signed header is refused", async () => {
  const { handler } = setup(acceptAll, {});
  const res = await handler(webhook(OK, { requestId: "req-other" }));
  assert.equal(res.status, 401);
});

Deno.test("OK moves the job to finalizing, answers, then copies media and dispatches the next job", async () => {
  const job = jobRow();
  const { handler, calls, finalized, bg, dispatched } = setup(acceptAll, {
    byRequest: () => Promise.resolve(job),
    finalizing: (_id, result) =>
      Promise.resolve({ ...job, status: "finalizing", result } as JobRow),
  });
  const res = await handler(webhook(OK));
  assert.equal(res.status, 200);
  assert.deepEqual(calls.finalizing?.[0], [job.id, OK.payload, "req-1"]);
  await bg.settle();
  assert.equal(finalized.length, 1);
  assert.equal(dispatched(), 1);
});

Deno.test("a duplicate OK is a 200 no-op: no second copy, no second capture", async () => {
  const job = jobRow({ status: "finalizing" });
  const { handler, finalized, bg } = setup(acceptAll, {
    byRequest: () => Promise.resolve(job),
    finalizing: () => Promise.resolve(null),
  });
  assert.equal((await handler(webhook(OK))).status, 200);
  await bg.settle();
  assert.equal(finalized.length, 0);
});

Deno.test("ERROR fails the job with fal's error type and message", async () => {
  const job = jobRow();
  const { handler, calls } = setup(acceptAll, {
    byRequest: () => Promise.resolve(job),
    providerFailed: () => Promise.resolve({ ...job, status: "failed" } as JobRow),
  });
  const body = {
    request_id: "req-1",
    status: "ERROR",
    error: "Invalid status code: 422",
    payload: {
      detail: [{ loc: ["body", "prompt"], msg: "field required", type: "value_error.missing" }],
    },
  };
  assert.equal((await handler(webhook(body))).status, 200);
  const [id, code, message] = calls.providerFailed?.[0] as [string, string, string];
  assert.equal(id, job.id);
  assert.equal(code, "provider_invalid_input");
  assert.match(message, /body\.prompt: field required/);
});

Deno.test("an infrastructure failure carries fal's detail and error type, not only the status", async () => {
  const job = jobRow();
  const { handler, calls } = setup(acceptAll, {
    byRequest: () => Promise.resolve(job),
    providerFailed: () => Promise.resolve({ ...job, status: "failed" } as JobRow),
  });
  const body = {
    request_id: "req-1",
    status: "ERROR",
    error: "Invalid status code: 500",
    payload: { detail: "Internal server error", error_type: "internal_error" },
  };
  assert.equal((await handler(webhook(body))).status, 200);
  const [, code, message] = calls.providerFailed?.[0] as [string, string, string];
  assert.equal(code, "internal_error");
  assert.equal(message, "Internal server error");
});

Deno.test("a job without a stored request id is matched by job_id and healed", async () => {
  const job = jobRow({ status: "queued", provider_request_id: null });
  const { handler, calls } = setup(acceptAll, {
    byRequest: () => Promise.resolve(null),
    byId: () => Promise.resolve(job),
    submitted: (id, requestId) =>
      Promise.resolve(
        { ...job, id, status: "submitted", provider_request_id: requestId } as JobRow,
      ),
    finalizing: () => Promise.resolve({ ...job, status: "finalizing" } as JobRow),
  });
  const res = await handler(webhook(OK, { jobId: job.id }));
  assert.equal(res.status, 200);
  assert.deepEqual(calls.submitted?.[0], [job.id, "req-1"]);
  assert.equal(calls.finalizing?.length, 1);
});

Deno.test("a webhook for a request we do not know is a 404", async () => {
  const { handler } = setup(acceptAll, {
    byRequest: () => Promise.resolve(null),
    byId: () => Promise.resolve(null),
  });
  const res = await handler(webhook(OK, { jobId: "10000000-0000-4000-8000-00000000dead" }));
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error.code, "not_found");
});
