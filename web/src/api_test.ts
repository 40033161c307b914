/** Unit tests of the API wrapper: answers, and every kind of failure as one ApiError. */
import assert from "node:assert/strict";
import { ApiError, createApi, type FunctionsInvoker, toApiError } from "./api.ts";

/** What supabase-js reports for a non-2xx answer: a FunctionsHttpError with the Response. */
function httpError(status: number, body: unknown, headers: Record<string, string> = {}) {
  const response = new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
  return Object.assign(new Error("Edge Function returned a non-2xx status code"), {
    context: response,
  });
}

function invoker(answer: Awaited<ReturnType<FunctionsInvoker["invoke"]>>) {
  const calls: { name: string; options: unknown }[] = [];
  const functions: FunctionsInvoker = {
    invoke(name, options) {
      calls.push({ name, options });
      return Promise.resolve(answer);
    },
  };
  return { functions, calls };
}

Deno.test("error bodies keep their stable code, message, status and Retry-After", async () => {
  const e = await toApiError(
    httpError(429, { error: { code: "rate_limited", message: "Slow down." } }, {
      "retry-after": "12",
    }),
  );
  assert.ok(e instanceof ApiError);
  assert.deepEqual([e.code, e.message, e.status, e.retryAfterSeconds], [
    "rate_limited",
    "Slow down.",
    429,
    12,
  ]);
});

Deno.test("a non-JSON error page still maps to a code from its status", async () => {
  const e = await toApiError(httpError(402, "<html>Payment Required</html>"));
  assert.equal(e.code, "insufficient_credits");
  assert.equal(e.status, 402);
});

Deno.test("no answer at all is a network error with status 0", async () => {
  const e = await toApiError(new TypeError("Failed to fetch"));
  assert.equal(e.code, "network");
  assert.equal(e.status, 0);
  assert.match(e.message, /Failed to fetch/);
});

Deno.test("generate posts the options with an Idempotency-Key header and returns the job", async () => {
  const job = { id: "j1" };
  const { functions, calls } = invoker({ data: { job }, error: null });
  const api = createApi(functions);
  assert.deepEqual(await api.generate({ prompt: "p", idempotency_key: "k1" }), job);
  assert.equal(calls[0]?.name, "generate-video");
  assert.deepEqual(calls[0]?.options, {
    method: "POST",
    body: { prompt: "p", idempotency_key: "k1" },
    headers: { "Idempotency-Key": "k1" },
  });
});

Deno.test("reads go to video-jobs with the query the contract names", async () => {
  const { functions, calls } = invoker({
    data: { jobs: [], credits: { available: 1, reserved: 0 }, job: { id: "x" }, models: [] },
    error: null,
  });
  const api = createApi(functions);
  await api.listJobs();
  await api.listJobs("c/1");
  await api.getJob("a b");
  await api.listModels();
  assert.deepEqual(calls.map((c) => c.name), [
    "video-jobs",
    "video-jobs?cursor=c%2F1",
    "video-jobs?id=a%20b",
    "video-jobs?models=1",
  ]);
});

Deno.test("a failed call rejects with the ApiError", async () => {
  const { functions } = invoker({
    data: null,
    error: httpError(404, { error: { code: "not_found", message: "No such job." } }),
  });
  await assert.rejects(createApi(functions).getJob("nope"), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, "not_found");
    return true;
  });
});

Deno.test("retrying a batch or story returns the new parent from its {parent, jobs} answer", async () => {
  const parent = { id: "p2", kind: "story", status: "queued", version: 1 };
  const { functions } = invoker({ data: { parent, jobs: [] }, error: null } as never);
  const api = createApi(functions);
  assert.deepEqual(await api.act("retry", "p1"), parent);
});
