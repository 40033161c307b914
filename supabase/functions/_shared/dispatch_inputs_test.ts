import assert from "node:assert/strict";
import { createDispatcher } from "./dispatch.ts";
import type { FalGateway } from "./fal.ts";
import { InputRefError } from "./input_refs.ts";
import type { JobRow } from "./jobs.ts";
import { fakeCatalog, fakeJobs, jobRow, silentLog } from "./testing/fakes.ts";
import { createWebhookTokens } from "./webhook_token.ts";

const ENV = {
  SUPABASE_URL: "http://127.0.0.1:54321",
  PUBLIC_URL: undefined,
  FAL_MAX_CONCURRENCY: 2,
  USER_MAX_ACTIVE: 2,
  RETRY_BASE_MS: 5_000,
  SUBMIT_REFUSAL_HORIZON_S: undefined,
};

function setup(resolveInput: (job: JobRow) => Promise<Record<string, unknown>>) {
  const job = jobRow({
    status: "queued",
    input: { prompt: "p", image_url: "storage://inputs/u/a.png" },
  });
  let served = false;
  const { jobs, calls } = fakeJobs({
    claim: () => Promise.resolve(served ? [] : (served = true, [job])),
    submitted: (id, rid) => Promise.resolve({ ...job, id, provider_request_id: rid }),
    dispatchFailed: () => Promise.resolve(null),
  });
  const submittedInputs: Record<string, unknown>[] = [];
  const no = () => Promise.reject(new Error("unused"));
  const fal: FalGateway = {
    submit: (_e, input) => (submittedInputs.push(input), Promise.resolve("req-1")),
    status: no,
    result: no,
    cancel: no,
  };
  const dispatch = createDispatcher({
    jobs,
    fal,
    models: fakeCatalog(),
    tokens: createWebhookTokens({ serviceKey: "k" }),
    env: ENV,
    log: silentLog,
    resolveInput,
    now: () => 1_000_000,
    random: () => 0.5,
  });
  return { job, calls, dispatch, submittedInputs };
}

Deno.test("fal receives the input with its storage references signed; the job keeps the references", async () => {
  const { job, dispatch, submittedInputs } = setup((j) =>
    Promise.resolve({ ...j.input, image_url: "https://signed.test/a.png" })
  );
  assert.equal(await dispatch(), 1);
  assert.deepEqual(submittedInputs, [{ prompt: "p", image_url: "https://signed.test/a.png" }]);
  assert.equal(job.input.image_url, "storage://inputs/u/a.png");
});

Deno.test("an input file that is gone fails the job without calling fal", async () => {
  const { job, calls, dispatch, submittedInputs } = setup(() =>
    Promise.reject(new InputRefError("the file inputs/u/a.png is no longer in Storage"))
  );
  assert.equal(await dispatch(), 0);
  assert.equal(submittedInputs.length, 0);
  const [id, code, , retryAt] = calls.dispatchFailed?.[0] ?? [];
  assert.deepEqual([id, code, retryAt], [job.id, "input_unavailable", null]);
});

Deno.test("Storage being unreachable re-queues the job with backoff", async () => {
  const { calls, dispatch, submittedInputs } = setup(() =>
    Promise.reject(new Error("storage sign answered 503"))
  );
  assert.equal(await dispatch(), 0);
  assert.equal(submittedInputs.length, 0);
  const [, code, , retryAt] = calls.dispatchFailed?.[0] ?? [];
  assert.equal(code, "storage_unavailable");
  assert.ok(retryAt instanceof Date && retryAt.getTime() > 1_000_000, "retried later");
});
