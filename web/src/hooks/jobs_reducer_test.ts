/** Unit tests of the jobs reducer: ordering, stale events, snapshot merges and local credits. */
import assert from "node:assert/strict";
import {
  creditDelta,
  initialJobsState,
  type JobsAction,
  jobsReducer,
  type JobsState,
  selectJobs,
  selectRunningCount,
} from "./jobs_reducer.ts";
import { makeJob } from "./test_jobs.ts";

function run(actions: JobsAction[], from: JobsState = initialJobsState): JobsState {
  return actions.reduce(jobsReducer, from);
}

const credits = (available: number, reserved = 0) => ({ available, reserved });

function loaded(jobs: ReturnType<typeof makeJob>[], available = 100, reserved = 0): JobsState {
  return run([
    { type: "snapshot_requested" },
    { type: "snapshot_loaded", jobs, credits: credits(available, reserved), nextCursor: null },
  ]);
}

Deno.test("jobs are listed newest first, ties broken by id like the server", () => {
  const at = "2025-01-01T00:00:05.000Z";
  const old = makeJob({ created_at: "2025-01-01T00:00:01.000Z" });
  const a = makeJob({ id: "aaaaaaaa-0000-4000-8000-000000000000", created_at: at });
  const b = makeJob({ id: "bbbbbbbb-0000-4000-8000-000000000000", created_at: at });
  const newest = makeJob({ created_at: "2025-01-01T00:00:09.000Z" });
  const state = loaded([old, b, newest, a]);
  assert.deepEqual(selectJobs(state).map((j) => j.id), [newest.id, b.id, a.id, old.id]);
});

Deno.test("an event newer than the held version replaces the job", () => {
  const job = makeJob({ version: 1 });
  const state = run([{
    type: "job_event",
    job: { ...job, status: "in_progress", version: 3 },
  }], loaded([job]));
  assert.equal(state.jobs[job.id]?.status, "in_progress");
  assert.equal(state.jobs[job.id]?.version, 3);
});

Deno.test("events not newer than the held version are dropped, whatever order they arrive in", () => {
  const job = makeJob({ version: 1 });
  const completed = { ...job, status: "completed" as const, version: 5 };
  const lateStart = { ...job, status: "in_progress" as const, version: 3 };
  const duplicate = { ...completed, progress: 42 };
  const state = run([
    { type: "job_event", job: completed },
    { type: "job_event", job: lateStart },
    { type: "job_event", job: duplicate },
  ], loaded([job], 90, 10));
  assert.equal(state.jobs[job.id]?.status, "completed");
  assert.equal(state.jobs[job.id]?.progress, null);
  assert.deepEqual(state.credits, credits(90, 0), "capture applied once, stale events ignored");
});

Deno.test("an answer with the same version adds the signed URL an event could not carry", () => {
  const job = makeJob({ status: "completed", version: 4 });
  const withUrl = { ...job, video_url: "http://127.0.0.1/signed.mp4" };
  const state = run([
    { type: "job_event", job: withUrl }, // events never carry URLs; same version: dropped
    { type: "job_loaded", job: withUrl },
  ], loaded([job]));
  assert.equal(state.jobs[job.id]?.video_url, withUrl.video_url);
});

Deno.test("a later event without URL or queue position keeps the ones already held", () => {
  const job = makeJob({ status: "queued", version: 1, queue_position: 3 });
  let state = run([{ type: "job_event", job: { ...job, version: 2, progress: 0 } }], loaded([job]));
  assert.equal(state.jobs[job.id]?.queue_position, 3, "queued: position kept");
  state = run([{ type: "job_event", job: { ...job, status: "submitted", version: 3 } }], state);
  assert.equal(state.jobs[job.id]?.queue_position, null, "left the queue: position cleared");
  const done = { ...job, status: "completed" as const, version: 9, video_url: "http://x/v.mp4" };
  state = run([{ type: "job_loaded", job: done }], state);
  state = run([{ type: "job_event", job: { ...done, version: 10, video_url: null } }], state);
  assert.equal(state.jobs[job.id]?.video_url, "http://x/v.mp4");
});

Deno.test("credits follow reserve, capture and release locally", () => {
  assert.deepEqual(creditDelta(null, "queued", 10), credits(-10, 10));
  assert.deepEqual(creditDelta("queued", "in_progress", 10), credits(0, 0));
  assert.deepEqual(creditDelta("in_progress", "completed", 10), credits(0, -10));
  assert.deepEqual(creditDelta("submitted", "failed", 10), credits(10, -10));
  assert.deepEqual(creditDelta("failed", "failed", 10), credits(0, 0));

  const job = makeJob({ credits_cost: 25 });
  let state = loaded([], 100);
  state = run([{ type: "job_loaded", job }], state); // generate answered 202
  assert.deepEqual(state.credits, credits(75, 25));
  state = run([{ type: "job_event", job: { ...job, status: "completed", version: 2 } }], state);
  assert.deepEqual(state.credits, credits(75, 0));
  const other = makeJob({ credits_cost: 5 });
  state = run([
    { type: "job_loaded", job: other },
    { type: "job_event", job: { ...other, status: "failed", version: 2 } },
  ], state);
  assert.deepEqual(state.credits, credits(75, 0), "a failed job gives its reservation back");
});

Deno.test("a snapshot replaces what it covers and removes jobs deleted while away", () => {
  const kept = makeJob({ status: "in_progress", version: 2 });
  const deleted = makeJob({ status: "completed", version: 4 });
  let state = loaded([kept, deleted], 50, 10);
  state = run([
    { type: "snapshot_requested" },
    {
      type: "snapshot_loaded",
      jobs: [{ ...kept, status: "completed", version: 5, video_url: "http://x/k.mp4" }],
      credits: credits(50, 0),
      nextCursor: null,
    },
  ], state);
  assert.deepEqual(Object.keys(state.jobs), [kept.id]);
  assert.equal(state.jobs[kept.id]?.status, "completed");
  assert.deepEqual(state.credits, credits(50, 0));
  assert.equal(state.loaded, true);
  assert.equal(state.pendingSnapshot, null);
});

Deno.test("reconnect snapshot keeps a job an event already moved past it, with its credit effect", () => {
  const job = makeJob({ status: "in_progress", version: 3, credits_cost: 10 });
  let state = loaded([job], 90, 10);
  state = run([
    { type: "snapshot_requested" },
    // The event overtakes the snapshot answer, which was read before the job completed.
    { type: "job_event", job: { ...job, status: "completed", version: 4 } },
    { type: "snapshot_loaded", jobs: [job], credits: credits(90, 10), nextCursor: null },
  ], state);
  assert.equal(state.jobs[job.id]?.status, "completed");
  assert.equal(state.jobs[job.id]?.version, 4);
  assert.deepEqual(state.credits, credits(90, 0), "the capture the snapshot missed is kept");
});

Deno.test("reconnect snapshot keeps a job created while it was in flight", () => {
  const old = makeJob({ status: "completed", version: 4 });
  let state = loaded([old], 100);
  const fresh = makeJob({ credits_cost: 30 });
  state = run([
    { type: "snapshot_requested" },
    { type: "job_loaded", job: fresh }, // generate answered before the snapshot did
    { type: "snapshot_loaded", jobs: [old], credits: credits(100, 0), nextCursor: null },
  ], state);
  assert.deepEqual(selectJobs(state).map((j) => j.id), [fresh.id, old.id]);
  assert.deepEqual(state.credits, credits(70, 30));
});

Deno.test("a snapshot that saw the event already does not count its credits twice", () => {
  const job = makeJob({ status: "in_progress", version: 3, credits_cost: 10 });
  let state = loaded([job], 90, 10);
  const done = { ...job, status: "completed" as const, version: 4 };
  state = run([
    { type: "snapshot_requested" },
    { type: "job_event", job: done },
    { type: "snapshot_loaded", jobs: [done], credits: credits(90, 0), nextCursor: null },
  ], state);
  assert.deepEqual(state.credits, credits(90, 0));
});

Deno.test("a paged snapshot does not drop older jobs beyond its page", () => {
  const ancient = makeJob({ created_at: "2020-01-01T00:00:00.000Z", status: "completed" });
  const recent = makeJob({ created_at: "2025-06-01T00:00:00.000Z" });
  let state = loaded([recent], 100);
  state = run([{ type: "page_loaded", jobs: [ancient], nextCursor: null }], state);
  state = run([
    { type: "snapshot_requested" },
    { type: "snapshot_loaded", jobs: [recent], credits: credits(100), nextCursor: "c1" },
  ], state);
  assert.ok(state.jobs[ancient.id], "beyond the page: kept");
  assert.equal(state.nextCursor, "c1");
});

Deno.test("jobs from an older page do not change the balance", () => {
  let state = loaded([makeJob()], 100, 10);
  state = run([{
    type: "page_loaded",
    jobs: [makeJob({ status: "completed", created_at: "2020-01-01T00:00:00.000Z" })],
    nextCursor: null,
  }], state);
  assert.deepEqual(state.credits, credits(100, 10));
  assert.equal(state.nextCursor, null);
});

Deno.test("events before the first snapshot are held and merged, credits wait for the snapshot", () => {
  const job = makeJob({ status: "submitted", version: 2 });
  let state = run([
    { type: "snapshot_requested" },
    { type: "job_event", job },
  ]);
  assert.equal(state.credits, null);
  state = run([
    {
      type: "snapshot_loaded",
      jobs: [{ ...job, version: 1, status: "queued" }],
      credits: credits(90, 10),
      nextCursor: null,
    },
  ], state);
  assert.equal(state.jobs[job.id]?.status, "submitted");
  assert.deepEqual(state.credits, credits(90, 10));
});

Deno.test("removing a job drops it and counts running jobs correctly", () => {
  const done = makeJob({ status: "completed" });
  const running = makeJob({ status: "in_progress" });
  const queued = makeJob({ status: "queued" });
  let state = loaded([done, running, queued]);
  assert.equal(selectRunningCount(state), 2);
  state = run([{ type: "job_removed", id: done.id }], state);
  assert.equal(state.jobs[done.id], undefined);
  assert.equal(Object.keys(state.jobs).length, 2);
});

Deno.test("the clock offset is the smallest delay seen between server time and arrival", () => {
  const job = makeJob({ version: 1 });
  const at = Date.parse("2025-01-01T12:00:00.000Z");
  const state = run([
    {
      type: "job_event",
      job: { ...job, version: 2, updated_at: new Date(at).toISOString() },
      receivedAt: at + 900,
    },
    {
      type: "job_event",
      job: { ...job, version: 3, updated_at: new Date(at + 5000).toISOString() },
      receivedAt: at + 5000 + 150,
    },
  ], loaded([job]));
  assert.equal(state.clockOffsetMs, 150);
});

Deno.test("a deletion event removes the job and older news cannot bring it back", () => {
  const job = makeJob({ status: "completed", version: 4 });
  let state = loaded([job], 90, 0);
  state = run([
    { type: "job_event", job: { ...job, version: 5, deleted_at: "2025-01-01T13:00:00Z" } },
    { type: "job_event", job: { ...job, version: 4 } },
    { type: "job_loaded", job: { ...job, version: 5 } },
  ], state);
  assert.equal(state.jobs[job.id], undefined);
  state = run([
    { type: "snapshot_requested" },
    { type: "snapshot_loaded", jobs: [job], credits: credits(90), nextCursor: null },
  ], state);
  assert.equal(state.jobs[job.id], undefined, "a snapshot read before the deletion");
  assert.deepEqual(state.credits, credits(90));
});

Deno.test("a local delete drops the job; the deletion event that follows is ignored", () => {
  const job = makeJob({ status: "failed", version: 3 });
  let state = loaded([job]);
  state = run([{ type: "job_removed", id: job.id, version: 4 }], state);
  state = run([{ type: "job_event", job: { ...job, version: 4, deleted_at: "x" } }], state);
  assert.equal(state.jobs[job.id], undefined);
  assert.deepEqual(Object.keys(state.removed), [job.id]);
});

Deno.test("a newly signed URL for the same video does not replace the held one, a refresh does", () => {
  const job = makeJob({
    status: "completed",
    version: 4,
    video_url: "http://127.0.0.1/storage/v1/object/sign/videos/u/j.mp4?token=first",
  });
  let state = loaded([job]);
  const resigned = { ...job, video_url: job.video_url!.replace("first", "second") };
  state = run([
    { type: "snapshot_requested" },
    { type: "snapshot_loaded", jobs: [resigned], credits: credits(90), nextCursor: null },
  ], state);
  assert.equal(state.jobs[job.id]?.video_url, job.video_url, "the player keeps its src");
  state = run([{ type: "job_loaded", job: resigned, freshUrl: true }], state);
  assert.equal(state.jobs[job.id]?.video_url, resigned.video_url, "a refresh after an error");
});
