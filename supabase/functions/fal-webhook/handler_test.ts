import assert from "node:assert/strict";
import { createWebhookHandler, type VerifyWebhook } from "./handler.ts";
import type { JobRow } from "../_shared/jobs.ts";
import { collectWaitUntil, fakeJobs, jobRow, silentLog } from "../_shared/testing/fakes.ts";
import { createWebhookTokens } from "../_shared/webhook_token.ts";

const tokens = createWebhookTokens({ serviceKey: "service-key-for-tests" });
const JOB_ID = jobRow().id;
const OTHER_JOB = "10000000-0000-4000-8000-00000000beef";

const acceptAll: VerifyWebhook = (headers) =>
  Promise.resolve({
    ok: true,
    requestId: headers.get("x-fal-webhook-request-id") ?? "",
    userId: headers.get("x-fal-webhook-user-id") ?? "fal-user",
  });
const rejectAll: VerifyWebhook = () => Promise.resolve({ ok: false, reason: "no key verifies" });

interface Hook {
  jobId?: string;
  dispatch?: number | string;
  /** A token to send instead of the right one (null: none). */
  token?: string | null;
  /** Mint the token for this job and dispatch instead. */
  tokenFor?: [string, number];
}

async function webhook(
  body: unknown,
  opts: { requestId?: string; userId?: string; hook?: Hook } = {},
) {
  const requestId = opts.requestId ?? (body as { request_id?: string }).request_id ?? "req-1";
  const hook = opts.hook ?? {};
  const jobId = hook.jobId ?? JOB_ID;
  const dispatch = hook.dispatch ?? 1;
  const token = hook.token !== undefined
    ? hook.token
    : await tokens.mint(...(hook.tokenFor ?? [jobId, Number(dispatch)]));
  const q = new URLSearchParams({ job_id: jobId, dispatch: String(dispatch) });
  if (token !== null) q.set("token", token);
  return new Request(`http://fn/fal-webhook?${q}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-fal-webhook-request-id": requestId,
      "x-fal-webhook-user-id": opts.userId ?? "fal-user",
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function setup(
  verify: VerifyWebhook,
  overrides: Parameters<typeof fakeJobs>[0],
  falUserId?: string,
) {
  const { jobs, calls } = fakeJobs(overrides);
  const finalized: JobRow[] = [];
  const bg = collectWaitUntil();
  let dispatched = 0;
  let verified = 0;
  const handler = createWebhookHandler({
    verify: (h, raw) => (verified++, verify(h, raw)),
    tokens,
    falUserId,
    jobs,
    finalize: (job) => (finalized.push(job), Promise.resolve()),
    dispatch: () => Promise.resolve(++dispatched),
    waitUntil: bg.waitUntil,
    log: silentLog,
  });
  return { handler, calls, finalized, bg, dispatched: () => dispatched, verified: () => verified };
}

const OK = {
  request_id: "req-1",
  status: "OK",
  payload: { video: { url: "https://v3.fal.media/a.mp4" } },
};

Deno.test("a webhook whose signature does not verify is a 401 and touches no job", async () => {
  const { handler, calls } = setup(rejectAll, {});
  const res = await handler(await webhook(OK));
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.code, "invalid_signature");
  assert.deepEqual(calls, {});
});

Deno.test("a missing, forged or misapplied URL token is a 401 before any job or signature is looked at", async () => {
  const { handler, calls, verified } = setup(acceptAll, {});
  const cases: Hook[] = [
    { token: null },
    { token: "" },
    { token: "A".repeat(43) },
    { token: "not base64 !" },
    { tokenFor: [OTHER_JOB, 1] },
    { tokenFor: [JOB_ID, 2] },
    { dispatch: "0", tokenFor: [JOB_ID, 0] },
    { dispatch: "x" },
    { jobId: "not-a-uuid" },
  ];
  for (const hook of cases) {
    const res = await handler(await webhook(OK, { hook }));
    assert.equal(res.status, 401, JSON.stringify(hook));
    assert.equal((await res.json()).error.code, "invalid_signature");
  }
  const bare = await handler(
    new Request(`http://fn/fal-webhook?job_id=${JOB_ID}`, {
      method: "POST",
      body: JSON.stringify(OK),
    }),
  );
  assert.equal(bare.status, 401, "the old URL form without a token");
  assert.deepEqual(calls, {});
  assert.equal(verified(), 0);
});

Deno.test("with FAL_WEBHOOK_USER_ID set, a webhook signed for another fal user is a 401", async () => {
  const job = jobRow();
  const { handler, calls } = setup(acceptAll, {
    byRequest: () => Promise.resolve(job),
    finalizing: () => Promise.resolve({ ...job, status: "finalizing" } as JobRow),
  }, "our-fal-user");
  const foreign = await handler(await webhook(OK, { userId: "someone-else" }));
  assert.equal(foreign.status, 401);
  assert.deepEqual(calls, {});
  const ours = await handler(await webhook(OK, { userId: "our-fal-user" }));
  assert.equal(ours.status, 200);
  assert.equal(calls.finalizing?.length, 1);
});

Deno.test("a signed body that is not a fal payload is a 400", async () => {
  const { handler, calls } = setup(acceptAll, {});
  for (const body of ["{nope", JSON.stringify({ request_id: "req-1", status: "MAYBE" })]) {
    const res = await handler(await webhook(body, { requestId: "req-1" }));
    assert.equal(res.status, 400);
  }
  assert.deepEqual(calls, {});
});

Deno.test("a body whose request id differs from the signed header is refused", async () => {
  const { handler } = setup(acceptAll, {});
  const res = await handler(await webhook(OK, { requestId: "req-other" }));
  assert.equal(res.status, 401);
});

Deno.test("OK moves the job to finalizing, answers, then copies media and dispatches the next job", async () => {
  const job = jobRow();
  const { handler, calls, finalized, bg, dispatched } = setup(acceptAll, {
    byRequest: () => Promise.resolve(job),
    finalizing: (_id, result) =>
      Promise.resolve({ ...job, status: "finalizing", result } as JobRow),
  });
  const res = await handler(await webhook(OK));
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
  assert.equal((await handler(await webhook(OK))).status, 200);
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
  assert.equal((await handler(await webhook(body))).status, 200);
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
  assert.equal((await handler(await webhook(body))).status, 200);
  const [, code, message] = calls.providerFailed?.[0] as [string, string, string];
  assert.equal(code, "internal_error");
  assert.equal(message, "Internal server error");
});

Deno.test("a dispatch in flight whose request id was never stored is healed from the dispatch its token names", async () => {
  const job = jobRow({ status: "queued", provider_request_id: null, dispatch_seq: 3 });
  const { handler, calls } = setup(acceptAll, {
    byRequest: () => Promise.resolve(null),
    submitted: (id, requestId) =>
      Promise.resolve(
        { ...job, id, status: "submitted", provider_request_id: requestId } as JobRow,
      ),
    finalizing: () => Promise.resolve({ ...job, status: "finalizing" } as JobRow),
  });
  const res = await handler(await webhook(OK, { hook: { dispatch: 3 } }));
  assert.equal(res.status, 200);
  assert.deepEqual(calls.submitted?.[0], [job.id, "req-1", 3], "only for dispatch 3");
  assert.equal(calls.finalizing?.length, 1);
});

Deno.test("a webhook of an earlier dispatch (stale) or of a request we never made is a 200 that changes nothing", async () => {
  const { handler, calls } = setup(acceptAll, {
    byRequest: () => Promise.resolve(null),
    // SQL refuses: the dispatch the token names is not in flight (re-dispatched, requeued, ended).
    submitted: () => Promise.resolve(null),
  });
  const error = { request_id: "req-1", status: "ERROR", error: "Invalid status code: 422" };
  for (const body of [OK, error]) {
    const res = await handler(await webhook(body));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, ignored: "unknown_request" });
  }
  assert.equal(calls.finalizing, undefined);
  assert.equal(calls.providerFailed, undefined);
});

Deno.test("a valid token for one job cannot carry another job's request", async () => {
  const other = jobRow({ id: OTHER_JOB });
  const { handler, calls } = setup(acceptAll, { byRequest: () => Promise.resolve(other) });
  const res = await handler(await webhook(OK));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true, ignored: "unknown_request" });
  assert.deepEqual(Object.keys(calls), ["byRequest"]);
});

Deno.test("a webhook racing the dispatcher's own record of the request id is still applied", async () => {
  const job = jobRow({ provider_request_id: "req-1" });
  let lookups = 0;
  const { handler, calls } = setup(acceptAll, {
    byRequest: () => Promise.resolve(lookups++ === 0 ? null : job),
    submitted: () => Promise.resolve(null),
    finalizing: () => Promise.resolve({ ...job, status: "finalizing" } as JobRow),
  });
  assert.equal((await handler(await webhook(OK))).status, 200);
  assert.equal(calls.finalizing?.length, 1);
});
