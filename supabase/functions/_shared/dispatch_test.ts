import assert from "node:assert/strict";
import { createDispatcher } from "./dispatch.ts";
import { FalError, type FalGateway } from "./fal.ts";
import type { JobRow } from "./jobs.ts";
import { fakeCatalog, fakeJobs, jobRow, MINIMAX, silentLog } from "./testing/fakes.ts";
import { createWebhookTokens } from "./webhook_token.ts";

const ENV = {
  SUPABASE_URL: "http://127.0.0.1:54321",
  PUBLIC_URL: undefined,
  FAL_MAX_CONCURRENCY: 2,
  USER_MAX_ACTIVE: 2,
  RETRY_BASE_MS: 5_000,
  SUBMIT_REFUSAL_HORIZON_S: undefined,
};
const tokens = createWebhookTokens({ serviceKey: "service-key-for-tests" });

function falThat(
  submit: FalGateway["submit"],
  cancel: FalGateway["cancel"] = () => Promise.reject(new Error("unused")),
): FalGateway {
  const no = () => Promise.reject(new Error("unused"));
  return { submit, status: no, result: no, cancel };
}

function queue(rows: JobRow[]) {
  let served = false;
  return () => {
    const out = served ? [] : rows;
    served = true;
    return Promise.resolve(out);
  };
}

const queued = (over: Partial<JobRow> = {}) =>
  jobRow({ status: "queued", provider_request_id: null, dispatch_seq: 4, ...over });

Deno.test("claimed jobs are submitted with a webhook URL naming the job, its dispatch and our token", async () => {
  const job = queued();
  const { jobs, calls } = fakeJobs({
    claim: queue([job]),
    submitted: (id, rid) => Promise.resolve({ ...job, id, provider_request_id: rid }),
  });
  const seen: string[] = [];
  const dispatch = createDispatcher({
    jobs,
    fal: falThat((_e, _i, hook) => (seen.push(hook), Promise.resolve("req-9"))),
    models: fakeCatalog(),
    tokens,
    env: ENV,
    log: silentLog,
  });
  assert.equal(await dispatch(), 1);
  assert.deepEqual(calls.claim?.[0], [2, 2, 8]);
  const url = new URL(seen[0]!);
  assert.equal(url.origin + url.pathname, "http://127.0.0.1:54321/functions/v1/fal-webhook");
  assert.equal(url.searchParams.get("job_id"), job.id);
  assert.equal(url.searchParams.get("dispatch"), "4");
  assert.ok(await tokens.verify(job.id, 4, url.searchParams.get("token")), "our token");
  assert.equal(await tokens.verify(job.id, 3, url.searchParams.get("token")), false);
  assert.deepEqual(calls.submitted?.[0], [job.id, "req-9", 4], "recorded for this dispatch");
});

Deno.test("a refused submit (503, 429 with Retry-After, unreachable) goes back on the refusal budget; a rejection fails the job", async () => {
  const a = queued({ id: "10000000-0000-4000-8000-00000000000a", attempts: 2 });
  const b = queued({ id: "10000000-0000-4000-8000-00000000000b", input: { prompt: "b" } });
  const c = queued({ id: "10000000-0000-4000-8000-00000000000c", input: { prompt: "c" } });
  const d = queued({ id: "10000000-0000-4000-8000-00000000000d", input: { prompt: "d" } });
  const { jobs, calls } = fakeJobs({
    claim: queue([a, b, c, d]),
    submitRefused: () => Promise.resolve(null),
    dispatchFailed: () => Promise.resolve(null),
  });
  const errors = new Map<unknown, FalError>([
    [a.input, new FalError("fal answered 503", 503, true)],
    [b.input, new FalError("fal answered 429", 429, true, undefined, 7)],
    [c.input, new FalError("fal unreachable: connection refused", null, true)],
    [d.input, new FalError("prompt: field required", 422, false)],
  ]);
  const dispatch = createDispatcher({
    jobs,
    fal: falThat((_e, input) => Promise.reject(errors.get(input))),
    models: fakeCatalog(),
    tokens,
    env: { ...ENV, SUBMIT_REFUSAL_HORIZON_S: 600 },
    log: silentLog,
  });
  assert.equal(await dispatch(), 0);
  const refused = new Map((calls.submitRefused ?? []).map((call) => [call[0], call.slice(1)]));
  const budget = (retryAfterS: number | null) => ({ retryAfterS, baseMs: 5_000, horizonS: 600 });
  assert.deepEqual(refused.get(a.id), [
    4,
    "provider_unavailable",
    "fal answered 503",
    budget(null),
  ]);
  assert.deepEqual(refused.get(b.id), [4, "provider_rate_limited", "fal answered 429", budget(7)]);
  assert.equal(refused.get(c.id)?.[1], "provider_unavailable");
  assert.equal(refused.has(d.id), false);
  assert.deepEqual(calls.dispatchFailed, [
    [d.id, "provider_rejected", "prompt: field required", null, 4],
  ], "only the rejection is a failure, and it names the dispatch");
});

Deno.test("a 2xx answer without a request id costs an attempt (fal may have accepted it)", async () => {
  const job = queued({ attempts: 1 });
  const { jobs, calls } = fakeJobs({
    claim: queue([job]),
    dispatchFailed: () => Promise.resolve(null),
  });
  const dispatch = createDispatcher({
    jobs,
    fal: falThat(() => Promise.reject(new FalError("no request_id", 200, true))),
    models: fakeCatalog(),
    tokens,
    env: ENV,
    log: silentLog,
    now: () => 1_000_000,
    random: () => 0.5,
  });
  await dispatch();
  const [id, code, , retryAt, dispatchSeq] = calls.dispatchFailed?.[0] as [
    string,
    string,
    string,
    Date,
    number,
  ];
  assert.deepEqual([id, code, retryAt.getTime(), dispatchSeq], [
    job.id,
    "provider_unavailable",
    1_000_000 + 5_000,
    4,
  ]);
});

Deno.test("a round in which fal refuses every submit ends the dispatch call", async () => {
  const job = queued();
  let claims = 0;
  const { jobs } = fakeJobs({
    claim: () => (claims++, Promise.resolve([job])),
    submitRefused: () => Promise.resolve(null),
  });
  const dispatch = createDispatcher({
    jobs,
    fal: falThat(() => Promise.reject(new FalError("busy", 503, true))),
    models: fakeCatalog(),
    tokens,
    env: ENV,
    log: silentLog,
  });
  assert.equal(await dispatch(), 0);
  assert.equal(claims, 1, "no second claim after a round of refusals");
});

Deno.test("an accepted submit for a job that moved on is canceled at fal and logged", async () => {
  const job = queued();
  const lines: [string, Record<string, unknown> | undefined][] = [];
  const { jobs } = fakeJobs({
    claim: queue([job]),
    submitted: () => Promise.resolve(null),
    byId: () => Promise.resolve({ ...job, status: "canceled", dispatch_seq: 4 }),
  });
  const canceled: string[] = [];
  const dispatch = createDispatcher({
    jobs,
    fal: falThat(
      () => Promise.resolve("req-orphan"),
      (endpoint, rid) => (canceled.push(`${endpoint} ${rid}`), Promise.resolve()),
    ),
    models: fakeCatalog(),
    tokens,
    env: ENV,
    log: (msg, fields) => lines.push([msg, fields]),
  });
  assert.equal(await dispatch(), 0);
  assert.deepEqual(canceled, [`${MINIMAX.endpoint_id} req-orphan`]);
  const logged = lines.find(([msg]) => msg.includes("moved on"))?.[1];
  assert.equal(logged?.job_id, job.id);
  assert.equal(logged?.request_id, "req-orphan");
});

Deno.test("an answer the job's own webhook recorded first is not canceled", async () => {
  const job = queued();
  const { jobs } = fakeJobs({
    claim: queue([job]),
    submitted: () => Promise.resolve(null),
    byId: () => Promise.resolve({ ...job, status: "finalizing", provider_request_id: "req-1" }),
  });
  const canceled: string[] = [];
  const dispatch = createDispatcher({
    jobs,
    fal: falThat(
      () => Promise.resolve("req-1"),
      (_e, rid) => (canceled.push(rid), Promise.resolve()),
    ),
    models: fakeCatalog(),
    tokens,
    env: ENV,
    log: silentLog,
  });
  await dispatch();
  assert.deepEqual(canceled, []);
});
