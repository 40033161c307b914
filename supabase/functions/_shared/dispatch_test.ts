import assert from "node:assert/strict";
import { createDispatcher } from "./dispatch.ts";
import { FalError, type FalGateway } from "./fal.ts";
import type { JobRow } from "./jobs.ts";
import { fakeCatalog, fakeJobs, jobRow, silentLog } from "./testing/fakes.ts";

const ENV = {
  SUPABASE_URL: "http://127.0.0.1:54321",
  PUBLIC_URL: undefined,
  FAL_MAX_CONCURRENCY: 2,
  USER_MAX_ACTIVE: 2,
  RETRY_BASE_MS: 5_000,
};

function falThat(submit: FalGateway["submit"]): FalGateway {
  const no = () => Promise.reject(new Error("unused"));
  return { submit, status: no, result: no, cancel: no };
}

function queue(rows: JobRow[]) {
  let served = false;
  return () => {
    const out = served ? [] : rows;
    served = true;
    return Promise.resolve(out);
  };
}

Deno.test("claimed jobs are submitted with a webhook URL carrying their job id", async () => {
  const job = jobRow({ status: "queued", provider_request_id: null });
  const { jobs, calls } = fakeJobs({
    claim: queue([job]),
    submitted: (id, rid) => Promise.resolve({ ...job, id, provider_request_id: rid }),
  });
  const seen: string[] = [];
  const dispatch = createDispatcher({
    jobs,
    fal: falThat((_e, _i, hook) => (seen.push(hook), Promise.resolve("req-9"))),
    models: fakeCatalog(),
    env: ENV,
    log: silentLog,
  });
  assert.equal(await dispatch(), 1);
  assert.deepEqual(calls.claim?.[0], [2, 2, 8]);
  assert.equal(seen[0], `http://127.0.0.1:54321/functions/v1/fal-webhook?job_id=${job.id}`);
  assert.deepEqual(calls.submitted?.[0], [job.id, "req-9"]);
});

Deno.test("a transient fal failure re-queues the job with backoff; a rejection fails it", async () => {
  const a = jobRow({ id: "10000000-0000-4000-8000-00000000000a", attempts: 2 });
  const b = jobRow({ id: "10000000-0000-4000-8000-00000000000b", attempts: 1 });
  const { jobs, calls } = fakeJobs({
    claim: queue([a, b]),
    dispatchFailed: () => Promise.resolve(null),
  });
  const dispatch = createDispatcher({
    jobs,
    fal: falThat((_e, input) =>
      Promise.reject(
        input === a.input
          ? new FalError("busy", 503, true)
          : new FalError("prompt: field required", 422, false),
      )
    ),
    models: fakeCatalog(),
    env: ENV,
    log: silentLog,
    now: () => 1_000_000,
    random: () => 0.5,
  });
  assert.equal(await dispatch(), 0);
  const byId = new Map((calls.dispatchFailed ?? []).map((c) => [c[0], c]));
  const [, codeA, , retryA] = byId.get(a.id) as [string, string, string, Date | null];
  assert.equal(codeA, "provider_unavailable");
  assert.equal(retryA?.getTime(), 1_000_000 + 10_000);
  const [, codeB, , retryB] = byId.get(b.id) as [string, string, string, Date | null];
  assert.equal(codeB, "provider_rejected");
  assert.equal(retryB, null);
});

Deno.test("a round in which fal refuses every submit ends the dispatch call", async () => {
  const job = jobRow({ status: "queued", provider_request_id: null });
  let claims = 0;
  const { jobs } = fakeJobs({
    claim: () => (claims++, Promise.resolve([job])),
    dispatchFailed: () => Promise.resolve(null),
  });
  const dispatch = createDispatcher({
    jobs,
    fal: falThat(() => Promise.reject(new FalError("busy", 503, true))),
    models: fakeCatalog(),
    env: ENV,
    log: silentLog,
  });
  assert.equal(await dispatch(), 0);
  assert.equal(claims, 1, "no second claim after a round of refusals");
});
