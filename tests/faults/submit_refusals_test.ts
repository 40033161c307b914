/**
 * Submit refusals are not failures, through the real stack: fal refuses a job's submit three
 * times with 503 and once with 429 + Retry-After (it never started the request, bills nothing),
 * then accepts. The job waits `queued` with the reason — seen by its owner over Realtime, `error`
 * staying null — keeps its reservation, is resubmitted no sooner than Retry-After asks, completes,
 * is charged once, and has used one attempt of its max_attempts.
 */
import assert from "node:assert/strict";
import { type JobEvent, subscribeJobs } from "../e2e/helpers.ts";
import { type FaultStack, MODELS, startFaultStack } from "./fault_stack.ts";
import { checkInvariants, jobIdOfRequest } from "./invariants.ts";

let stackPromise: Promise<FaultStack> | undefined;
const stack = () => stackPromise ??= startFaultStack();

function test(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

type QueueReason = { code: string; message: string; retry_at: string } | null;

test("fal refusing a submit 3×503 then 429 with Retry-After: queued with the reason, then completed and charged once", async () => {
  const s = await stack();
  await s.control.reset();
  await s.control.defaults({ durationMs: 100 });
  const user = await s.newUser(100);
  const jobs = await subscribeJobs({ client: user.client, userId: user.id, token: user.token });
  await s.control.failNextSubmits([
    { status: 503 },
    { status: 503 },
    { status: 503 },
    { status: 429, retryAfter: "2" },
  ]);
  const res = await s.call("generate-video", {
    token: user.token,
    body: { prompt: "refused, then accepted", model: MODELS.video.id },
  });
  assert.equal(res.status, 202, JSON.stringify(res.json));
  const job = res.json.job as { id: string; credits_cost: number };
  const reason = (e: JobEvent) => e.queue_reason as QueueReason;

  const unavailable = await jobs.waitFor((e) =>
    e.id === job.id && e.status === "queued" && reason(e)?.code === "provider_unavailable"
  );
  assert.equal(unavailable.error, null, "a refusal is not an error");
  assert.match(reason(unavailable)!.message, /503/);
  assert.ok(Date.parse(reason(unavailable)!.retry_at) > 0, "with when it is retried");
  const limited = await jobs.waitFor((e) =>
    e.id === job.id && e.status === "queued" && reason(e)?.code === "provider_rate_limited"
  );
  assert.equal(limited.error, null);
  const done = await jobs.waitFor((e) => e.id === job.id && e.status === "completed", 30_000);
  assert.equal(done.queue_reason, null, "no reason once it is running");

  const submits = (await s.control.submits()).filter((x) => x.endpointId === MODELS.video.endpoint);
  assert.deepEqual(submits.map((x) => x.answered), [503, 503, 503, 429, 200]);
  const ours = (await s.control.requests()).filter((r) => jobIdOfRequest(r) === job.id);
  assert.equal(ours.length, 1, "one request ran at fal");

  const [row] = await s.ts.sql<
    {
      status: string;
      attempts: number;
      max_attempts: number;
      error_code: string | null;
      submit_refusals: number;
    }[]
  >`select status, attempts, max_attempts, error_code, submit_refusals
    from public.jobs where id = ${job.id}::uuid`;
  assert.deepEqual(row, {
    status: "completed",
    attempts: 1,
    max_attempts: 3,
    error_code: null,
    submit_refusals: 0,
  });

  // The 429's Retry-After was honoured: its retry was scheduled at least 2 s later.
  const refusals = await s.ts.sql<{ code: string; wait_s: number }[]>`
    select detail ->> 'code' as code,
      extract(epoch from ((detail ->> 'retry_at')::timestamptz - created_at))::float8 as wait_s
    from public.job_events
    where job_id = ${job.id}::uuid and kind = 'dispatch_failed' and detail ->> 'refused' = 'true'
    order by id`;
  assert.deepEqual(refusals.map((r) => r.code), [
    "provider_unavailable",
    "provider_unavailable",
    "provider_unavailable",
    "provider_rate_limited",
  ]);
  assert.ok(refusals[3]!.wait_s >= 2, `Retry-After 2 s, waited ${refusals[3]!.wait_s} s`);

  const ledger = await s.ts.sql<{ kind: string; n: number }[]>`
    select kind, count(*)::int as n from public.credit_ledger
    where job_id = ${job.id}::uuid group by kind order by kind`;
  assert.deepEqual([...ledger], [{ kind: "capture", n: 1 }, { kind: "reserve", n: 1 }]);
  const inv = await checkInvariants(s.ts.sql, {
    users: [user.id],
    accepted: [job.id],
    falRequests: await s.control.requests(),
  });
  assert.deepEqual(inv.problems, []);
  await jobs.close();
});

Deno.test({
  name: "stop the refusal stack",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    if (stackPromise) await (await stackPromise).stop();
  },
});
