import assert from "node:assert/strict";
import { FalError, type FalGateway, type FalQueueState } from "./fal.ts";
import type { JobRow } from "./jobs.ts";
import { createReconciler, type ReconcileConfig, resultVerdict } from "./reconcile.ts";
import type { DueJob, DueJobRow, ReconcileStore } from "./reconcile_store.ts";
import { fakeJobs, jobRow, silentLog } from "./testing/fakes.ts";

const NOW = Date.parse("2026-11-28T12:00:00Z");
const ENDPOINT = "fal-ai/minimax/video-01";
const CONFIG: ReconcileConfig = {
  graceS: 2,
  backoffS: null,
  batchSize: 50,
  deadlineMs: 10_000,
  retryBaseMs: 1_000,
  concurrency: 4,
  itemTimeoutMs: 5_000,
};

function due(over: Partial<DueJobRow> = {}, timedOut = false): DueJob {
  const job: DueJobRow = {
    ...jobRow(),
    dispatching_at: null,
    finalizing_at: null,
    updated_at: "2026-11-28T11:59:00Z",
    expected_seconds: 180,
    reconcile_checks: 1,
    ...over,
  };
  return { job, endpointId: ENDPOINT, timedOut };
}

interface FakeFal {
  status?: FalQueueState | Error;
  result?: Record<string, unknown> | Error;
}

function fakeFal(f: FakeFal) {
  const calls: string[] = [];
  const fal: FalGateway = {
    submit: () => Promise.reject(new Error("unexpected submit")),
    status: (e, r) => {
      calls.push(`status ${e} ${r}`);
      return f.status instanceof Error
        ? Promise.reject(f.status)
        : Promise.resolve(f.status ?? "IN_QUEUE");
    },
    result: (e, r) => {
      calls.push(`result ${e} ${r}`);
      return f.result instanceof Error ? Promise.reject(f.result) : Promise.resolve(f.result ?? {});
    },
    cancel: (e, r) => {
      calls.push(`cancel ${e} ${r}`);
      return Promise.resolve();
    },
  };
  return { fal, calls };
}

function fakeStore(batches: DueJob[][], over: Partial<ReconcileStore> = {}) {
  const calls: Record<string, unknown[][]> = {};
  const record = (name: string, args: unknown[]) => (calls[name] ??= []).push(args);
  const store: ReconcileStore = {
    claimDue: (o) => (record("claimDue", [o]), Promise.resolve(batches.shift() ?? [])),
    requeue: (...a) => (record("requeue", a), Promise.resolve(jobRow({ status: "queued" }))),
    providerFailed: (
      ...a
    ) => (record("providerFailed", a), Promise.resolve(jobRow({ status: "failed" }))),
    finalizing: (
      ...a
    ) => (record("finalizing", a), Promise.resolve(jobRow({ status: "finalizing" }))),
    dailyCap: () => Promise.resolve({ day: "2026-11-28", spent: 0, cap: null }),
    waitingCount: () => Promise.resolve(0),
    ...over,
  };
  return { store, calls };
}

function reconcilerWith(opts: {
  batches: DueJob[][];
  fal?: FakeFal;
  jobs?: Parameters<typeof fakeJobs>[0];
  store?: Partial<ReconcileStore>;
  finalize?: (job: JobRow) => Promise<void>;
  dispatch?: () => Promise<number>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  config?: Partial<ReconcileConfig>;
}) {
  const { fal, calls: falCalls } = fakeFal(opts.fal ?? {});
  const { jobs, calls: jobCalls } = fakeJobs(opts.jobs ?? {});
  const { store, calls: storeCalls } = fakeStore(opts.batches, opts.store);
  const finalized: JobRow[] = [];
  const reconcile = createReconciler({
    store,
    jobs,
    fal,
    finalize: opts.finalize ?? ((job) => (finalized.push(job), Promise.resolve())),
    dispatch: opts.dispatch ?? (() => Promise.resolve(0)),
    config: { ...CONFIG, ...opts.config },
    log: opts.log ?? silentLog,
    now: () => NOW,
    random: () => 0.5,
  });
  return { reconcile, falCalls, jobCalls, storeCalls, finalized };
}

Deno.test("a job whose webhook never came is completed from fal's status and result", async () => {
  const payload = { video: { url: "https://v3.fal.media/files/x.mp4" } };
  const r = reconcilerWith({
    batches: [[due({ status: "in_progress" })]],
    fal: { status: "COMPLETED", result: payload },
  });
  const report = await r.reconcile();
  assert.deepEqual(r.falCalls, [`status ${ENDPOINT} req-1`, `result ${ENDPOINT} req-1`]);
  assert.deepEqual(r.storeCalls.finalizing, [[jobRow().id, payload, "req-1"]]);
  assert.equal(r.finalized.length, 1, "the media copy runs");
  assert.equal(report.finalized, 1);
  assert.equal(report.checked, 1);
});

Deno.test("a result that another path already applied is not copied twice", async () => {
  const r = reconcilerWith({
    batches: [[due()]],
    fal: { status: "COMPLETED", result: { video: { url: "https://fal.media/a.mp4" } } },
    store: { finalizing: () => Promise.resolve(null) },
  });
  const report = await r.reconcile();
  assert.equal(r.finalized.length, 0);
  assert.equal(report.waiting, 1);
});

Deno.test("IN_PROGRESS at fal marks a submitted job started", async () => {
  const r = reconcilerWith({
    batches: [[due({ status: "submitted" })]],
    fal: { status: "IN_PROGRESS" },
    jobs: { started: () => Promise.resolve(jobRow({ status: "in_progress" })) },
  });
  const report = await r.reconcile();
  assert.deepEqual(r.jobCalls.started, [[jobRow().id]]);
  assert.equal(report.started, 1);
});

Deno.test("a validation error at fal fails the job at once with a clear code", async () => {
  const detail = [{ loc: ["body", "prompt"], msg: "Field required", type: "missing" }];
  const r = reconcilerWith({
    batches: [[due()]],
    fal: { status: "COMPLETED", result: new FalError("Unprocessable Entity", 422, false, detail) },
  });
  const report = await r.reconcile();
  const [call] = r.storeCalls.providerFailed ?? [];
  assert.equal(call?.[1], "provider_invalid_input");
  assert.match(String(call?.[2]), /body\.prompt: Field required/);
  assert.equal(r.storeCalls.requeue, undefined, "no retry for invalid input");
  assert.equal(report.failed, 1);
});

Deno.test("an infrastructure failure at fal is retried with backoff, reusing the job", async () => {
  const r = reconcilerWith({
    batches: [[due({ attempts: 2 })]],
    fal: { status: "COMPLETED", result: new FalError("runner disconnected", 503, true) },
  });
  const report = await r.reconcile();
  const [call] = r.storeCalls.requeue ?? [];
  assert.equal(call?.[1], "provider_error");
  // attempt 2 → base 1 s doubled, jitter 0.5 → exactly 2 s.
  assert.equal((call?.[3] as Date).getTime(), NOW + 2_000);
  assert.equal(report.requeued, 1);
});

Deno.test("a request fal no longer knows is submitted again", async () => {
  const r = reconcilerWith({
    batches: [[due()]],
    fal: { status: new FalError("Not Found", 404, false) },
  });
  await r.reconcile();
  assert.equal(r.storeCalls.requeue?.[0]?.[1], "provider_lost");
});

Deno.test("when fal cannot be reached the job is left for a later check", async () => {
  const r = reconcilerWith({
    batches: [[due()]],
    fal: { status: new TypeError("connection refused") },
  });
  const report = await r.reconcile();
  assert.equal(report.unreachable, 1);
  assert.equal(r.storeCalls.requeue, undefined);
  assert.equal(r.storeCalls.providerFailed, undefined);
});

Deno.test("a dispatch that never stored its request id goes back to the queue at once", async () => {
  const r = reconcilerWith({
    batches: [[due({
      status: "queued",
      provider_request_id: null,
      dispatching_at: "2026-11-28T11:59:50Z",
    })]],
    jobs: { dispatchFailed: () => Promise.resolve(jobRow({ status: "queued" })) },
  });
  const report = await r.reconcile();
  const [call] = r.jobCalls.dispatchFailed ?? [];
  assert.equal(call?.[1], "dispatch_interrupted");
  assert.equal((call?.[3] as Date).getTime(), NOW, "retried now: the grace period has passed");
  assert.equal(call?.[4], 1, "only the dispatch that was leased is ended");
  assert.equal(r.falCalls.length, 0, "fal is not asked: there is no request id to ask about");
  assert.equal(report.healed, 1);
});

Deno.test("a job stuck finalizing gets its Storage copy tried again", async () => {
  const r = reconcilerWith({ batches: [[due({ status: "finalizing" })]] });
  const report = await r.reconcile();
  assert.equal(r.finalized.length, 1);
  assert.equal(report.copies_retried, 1);
});

Deno.test("a job past its timeout is canceled at fal, failed and its credits released", async () => {
  const r = reconcilerWith({
    batches: [[due({ status: "in_progress" }, true)]],
    fal: { status: "IN_PROGRESS" },
    jobs: {
      started: () => Promise.resolve(null),
      failed: () => Promise.resolve(jobRow({ status: "failed" })),
    },
  });
  const report = await r.reconcile();
  assert.deepEqual(r.falCalls, [`status ${ENDPOINT} req-1`, `cancel ${ENDPOINT} req-1`]);
  assert.equal(r.jobCalls.failed?.[0]?.[1], "timeout");
  assert.equal(report.timed_out, 1);
});

Deno.test("a timed-out job whose result is ready at fal completes instead", async () => {
  const r = reconcilerWith({
    batches: [[due({ status: "in_progress" }, true)]],
    fal: { status: "COMPLETED", result: { video: { url: "https://fal.media/v.mp4" } } },
  });
  const report = await r.reconcile();
  assert.equal(report.finalized, 1);
  assert.equal(r.jobCalls.failed, undefined);
});

Deno.test("a pending cancel is sent to fal again before looking at the status", async () => {
  const r = reconcilerWith({
    batches: [[due({ cancel_requested_at: "2026-11-28T11:59:30Z" })]],
    fal: { status: "IN_QUEUE" },
  });
  await r.reconcile();
  assert.deepEqual(r.falCalls, [`cancel ${ENDPOINT} req-1`, `status ${ENDPOINT} req-1`]);
});

Deno.test("one job's failure does not stop the run, and dispatch runs after chasing", async () => {
  const order: string[] = [];
  const r = reconcilerWith({
    batches: [[due({ status: "finalizing", id: "a" }), due({ status: "finalizing", id: "b" })]],
    finalize: (job) => {
      order.push(`finalize ${job.id}`);
      return job.id === "a" ? Promise.reject(new Error("storage down")) : Promise.resolve();
    },
    dispatch: () => (order.push("dispatch"), Promise.resolve(3)),
  });
  const report = await r.reconcile();
  assert.equal(report.errors, 1);
  assert.equal(report.copies_retried, 1);
  assert.equal(report.dispatched, 3);
  assert.equal(order.at(-1), "dispatch");
});

Deno.test("full batches are followed by another, and the run is bounded", async () => {
  const full = () => [due({ status: "finalizing" }), due({ status: "finalizing" })];
  const endless = { claimDue: () => Promise.resolve(full()) };
  const r = reconcilerWith({ batches: [], store: endless, config: { batchSize: 2 } });
  const report = await r.reconcile();
  assert.equal(report.checked, 40, "20 batches at most");
  const two = reconcilerWith({
    batches: [full(), [due({ status: "finalizing" })]],
    config: { batchSize: 2 },
  });
  assert.equal((await two.reconcile()).checked, 3);
});

Deno.test("a reached daily cap with jobs waiting is logged as a warning", async () => {
  const lines: string[] = [];
  const r = reconcilerWith({
    batches: [],
    store: {
      dailyCap: () => Promise.resolve({ day: "2026-11-28", spent: 120, cap: 100 }),
      waitingCount: () => Promise.resolve(4),
    },
    log: (msg) => lines.push(msg),
  });
  const report = await r.reconcile();
  assert.deepEqual(report.daily_cap, { spent: 120, cap: 100 });
  assert.ok(lines.some((l) => l.startsWith("WARNING daily credit cap reached")), lines.join("\n"));
});

Deno.test("fal's failure verdicts: validation fails, infrastructure retries, unknown waits", () => {
  assert.equal(resultVerdict(new FalError("bad", 422, false, [])).kind, "fail");
  assert.equal(resultVerdict(new FalError("bad", 400, false)).kind, "fail");
  assert.equal(resultVerdict(new FalError("cancelled", 499, false)).kind, "fail");
  assert.equal(resultVerdict(new FalError("boom", 500, true)).kind, "retry");
  assert.equal(resultVerdict(new FalError("timeout", 504, true)).kind, "retry");
  assert.equal(resultVerdict(new FalError("gone", 404, false)).kind, "retry");
  assert.equal(resultVerdict(new FalError("slow down", 429, true)).kind, "later");
  assert.equal(resultVerdict(new TypeError("network")).kind, "later");
});

Deno.test("a batch or story parent is never chased or failed, even when handed out", async () => {
  const r = reconcilerWith({ batches: [[due({ kind: "story", status: "in_progress" }, true)]] });
  const report = await r.reconcile();
  assert.equal(report.waiting, 1);
  assert.deepEqual(r.falCalls, []);
  assert.deepEqual(r.jobCalls, {});
});

Deno.test("a job whose handling hangs is given up on, and the run still ends", async () => {
  let release!: () => void;
  const hang = new Promise<void>((r) => (release = r));
  const r = reconcilerWith({
    batches: [[
      due({ status: "finalizing", id: "stuck" }),
      due({ status: "finalizing", id: "ok" }),
    ]],
    finalize: (job) => job.id === "stuck" ? hang : Promise.resolve(),
    config: { itemTimeoutMs: 20 },
  });
  const report = await r.reconcile();
  release();
  assert.equal(report.unreachable, 1);
  assert.equal(report.copies_retried, 1);
});

Deno.test("jobs leased after the run's deadline are left for the next run", async () => {
  let clock = NOW;
  const { fal } = fakeFal({});
  const { jobs } = fakeJobs({});
  const { store } = fakeStore([[
    due({ status: "finalizing", id: "a" }),
    due({ status: "finalizing", id: "b" }),
    due({ status: "finalizing", id: "c" }),
  ]]);
  const reconcile = createReconciler({
    store,
    jobs,
    fal,
    finalize: () => (clock += 600, Promise.resolve()),
    dispatch: () => Promise.resolve(0),
    config: { ...CONFIG, concurrency: 1, deadlineMs: 1_000 },
    log: silentLog,
    now: () => clock,
  });
  const report = await reconcile();
  assert.equal(report.copies_retried, 2);
  assert.equal(report.deferred, 1);
});
