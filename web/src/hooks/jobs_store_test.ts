/**
 * Unit tests of the jobs store with a fake API and a fake Realtime source: which reads happen
 * (snapshot per (re)subscribe, one signed-URL fetch per completed job, nothing else) and how
 * `generate` reports back.
 */
import assert from "node:assert/strict";
import { ApiError, type VidqueueApi } from "../api.ts";
import type { Credits, GenerateOptions, Job, JobsPage, Model } from "../types.ts";
import { createJobsStore } from "./jobs_store.ts";
import type { JobEventHandlers, JobEventSource } from "./realtime_jobs.ts";
import { makeJob } from "./test_jobs.ts";

/** A fake API that records every call and answers from what the test put in. */
function fakeApi(init: { jobs?: Job[]; credits?: Credits } = {}) {
  const calls: string[] = [];
  const pending: Promise<unknown>[] = [];
  const server = {
    jobs: new Map((init.jobs ?? []).map((j) => [j.id, j])),
    credits: init.credits ?? { available: 100, reserved: 0 },
    generateError: null as ApiError | null,
    signedUrl: (id: string) => `http://127.0.0.1/signed/${id}.mp4?token=${calls.length}`,
  };
  const track = <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    calls.push(name);
    const p = Promise.resolve().then(fn);
    pending.push(p.catch(() => {}));
    return p;
  };
  const api: VidqueueApi = {
    generate: (options: GenerateOptions) =>
      track("generate", () => {
        if (server.generateError) throw server.generateError;
        const job = makeJob({ prompt: options.prompt });
        server.jobs.set(job.id, job);
        return job;
      }),
    listJobs: (cursor?: string) =>
      track(cursor ? `list ${cursor}` : "list", (): JobsPage => ({
        jobs: [...server.jobs.values()],
        credits: server.credits,
        next_cursor: null,
      })),
    getJob: (id: string) =>
      track(`get ${id}`, () => {
        const job = server.jobs.get(id);
        if (!job) throw new ApiError("not_found", "No such job.", 404);
        return job.status === "completed" ? { ...job, video_url: server.signedUrl(id) } : job;
      }),
    act: (action, id) =>
      track(`${action} ${id}`, () => {
        const job = server.jobs.get(id)!;
        return { ...job, status: "canceled" as const, version: job.version + 1 };
      }),
    listModels: () => track("models", (): Model[] => []),
  };
  /** Waits until every request made so far has been answered and handled. */
  async function settle() {
    while (pending.length) {
      await pending.shift();
      await new Promise<void>((resolve) => queueMicrotask(resolve));
    }
  }
  return { api, calls, server, settle };
}

function fakeEvents() {
  let handlers: JobEventHandlers | null = null;
  let subscribedUser: string | null = null;
  let left = false;
  const source: JobEventSource = {
    subscribe(userId, h) {
      subscribedUser = userId;
      handlers = h;
      return () => {
        left = true;
      };
    },
  };
  return {
    source,
    get user() {
      return subscribedUser;
    },
    get left() {
      return left;
    },
    status: (s: Parameters<JobEventHandlers["onStatus"]>[0]) => handlers!.onStatus(s),
    job: (j: Job) => handlers!.onJob(j),
  };
}

function setup(init: Parameters<typeof fakeApi>[0] = {}) {
  const fake = fakeApi(init);
  const events = fakeEvents();
  let clock = Date.parse("2025-01-01T12:00:00.000Z");
  const store = createJobsStore({
    api: fake.api,
    events: events.source,
    userId: "user-1",
    now: () => clock,
  });
  return {
    ...fake,
    events,
    store,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

Deno.test("the snapshot is fetched on SUBSCRIBED and again after every reconnect", async () => {
  const t = setup({ jobs: [makeJob()] });
  t.store.start();
  assert.equal(t.events.user, "user-1");
  assert.deepEqual(t.calls, [], "nothing is read before the channel is joined");
  t.events.status("SUBSCRIBED");
  await t.settle();
  assert.deepEqual(t.calls, ["list"]);
  assert.equal(t.store.getState().connection, "live");
  t.events.status("CHANNEL_ERROR");
  assert.equal(t.store.getState().connection, "reconnecting");
  t.events.status("SUBSCRIBED");
  await t.settle();
  t.events.status("TIMED_OUT");
  t.events.status("SUBSCRIBED");
  await t.settle();
  assert.deepEqual(t.calls, ["list", "list", "list"]);
});

Deno.test("a resubscribe during a snapshot fetches once more after it, not in parallel", async () => {
  const t = setup();
  t.store.start();
  t.events.status("SUBSCRIBED");
  t.events.status("SUBSCRIBED");
  t.events.status("SUBSCRIBED");
  assert.deepEqual(t.calls, ["list"]);
  await t.settle();
  assert.deepEqual(t.calls, ["list", "list"]);
});

Deno.test("events between snapshots update jobs without any request", async () => {
  const job = makeJob({ status: "queued", version: 1 });
  const t = setup({ jobs: [job], credits: { available: 90, reserved: 10 } });
  t.store.start();
  t.events.status("SUBSCRIBED");
  await t.settle();
  t.calls.length = 0;
  t.events.job({ ...job, status: "submitted", version: 2 });
  t.events.job({ ...job, status: "in_progress", version: 3 });
  t.events.job({ ...job, status: "submitted", version: 2 }); // stale duplicate
  await t.settle();
  assert.deepEqual(t.calls, []);
  assert.equal(t.store.getState().jobs.jobs[job.id]?.status, "in_progress");
});

Deno.test("a completed job's signed URL is fetched exactly once", async () => {
  const job = makeJob({ status: "in_progress", version: 3 });
  const t = setup({ jobs: [job], credits: { available: 90, reserved: 10 } });
  t.store.start();
  t.events.status("SUBSCRIBED");
  await t.settle();
  t.calls.length = 0;
  const done = { ...job, status: "completed" as const, version: 4 };
  t.server.jobs.set(job.id, done);
  t.events.job(done);
  t.events.job(done);
  await t.settle();
  assert.deepEqual(t.calls, [`get ${job.id}`]);
  const held = t.store.getState().jobs.jobs[job.id];
  assert.match(held?.video_url ?? "", /signed/);
  assert.deepEqual(t.store.getState().jobs.credits, { available: 90, reserved: 0 });
});

Deno.test("a broken video URL is refreshed, at most once a minute", async () => {
  const job = makeJob({ status: "completed", version: 4 });
  const t = setup({ jobs: [job] });
  t.store.start();
  t.events.status("SUBSCRIBED");
  await t.settle();
  const first = t.store.getState().jobs.jobs[job.id]!.video_url!;
  t.calls.length = 0;
  t.store.refreshVideoUrl(job.id, first);
  await t.settle();
  const second = t.store.getState().jobs.jobs[job.id]!.video_url!;
  assert.notEqual(second, first);
  t.store.refreshVideoUrl(job.id, second); // the new one fails at once too: no loop
  await t.settle();
  assert.equal(t.calls.length, 1);
  t.store.refreshVideoUrl(job.id, "http://127.0.0.1/some-older-url"); // not the held URL
  t.advance(61_000);
  t.store.refreshVideoUrl(job.id, second);
  await t.settle();
  assert.equal(t.calls.length, 2);
});

Deno.test("generate reports completion with the video URL, after the job's events", async () => {
  const t = setup();
  t.store.start();
  t.events.status("SUBSCRIBED");
  await t.settle();
  const completed: Job[] = [];
  const result = await t.store.generate({ prompt: "a fox" }, {
    onComplete: (job) => completed.push(job),
    onError: () => assert.fail("no error expected"),
  });
  assert.ok(result.ok);
  const job = result.job;
  assert.deepEqual(t.store.getState().jobs.credits, { available: 90, reserved: 10 });
  t.events.job({ ...job, status: "in_progress", version: 2 });
  assert.equal(completed.length, 0);
  const done = { ...job, status: "completed" as const, version: 3 };
  t.server.jobs.set(job.id, done);
  t.events.job(done);
  await t.settle();
  assert.equal(completed.length, 1);
  assert.match(completed[0]?.video_url ?? "", /signed/);
});

Deno.test("generate sends an idempotency key so a resent request cannot charge twice", async () => {
  const t = setup();
  let sent: GenerateOptions | null = null;
  const original = t.api.generate;
  t.api.generate = (options) => {
    sent = options;
    return original(options);
  };
  const store = createJobsStore({
    api: t.api,
    events: t.events.source,
    userId: "u",
    newKey: () => "key-1",
  });
  await store.generate({ prompt: "x" });
  assert.equal((sent as GenerateOptions | null)?.idempotency_key, "key-1");
});

Deno.test("402 goes to onInsufficientCredits, other refusals and failures to onError", async () => {
  const t = setup();
  t.store.start();
  t.events.status("SUBSCRIBED");
  await t.settle();
  const seen: string[] = [];
  t.server.generateError = new ApiError("insufficient_credits", "Not enough credits.", 402);
  const refused = await t.store.generate({ prompt: "x" }, {
    onInsufficientCredits: (e) => seen.push(`credits:${e.status}`),
    onError: (e) => seen.push(`error:${e.code}`),
  });
  assert.equal(refused.ok, false);
  await t.settle();
  assert.equal(t.calls.filter((c) => c === "list").length, 2, "402: the balance is re-read once");
  t.server.generateError = new ApiError("rate_limited", "Slow down.", 429, 30);
  await t.store.generate({ prompt: "x" }, { onError: (e) => seen.push(`error:${e.code}`) });
  t.server.generateError = null;
  const ok = await t.store.generate({ prompt: "x" }, {
    onError: (e, job) => seen.push(`failed:${e.code}:${job?.status}`),
  });
  assert.ok(ok.ok);
  t.events.job({
    ...ok.job,
    status: "failed",
    version: 2,
    error: { code: "provider_error", message: "boom" },
  });
  assert.deepEqual(seen, ["credits:402", "error:rate_limited", "failed:provider_error:failed"]);
  assert.equal(t.store.getState().submitting, 0);
});

Deno.test("transition listeners see each change once, and stop() leaves the channel", async () => {
  const job = makeJob({ status: "queued", version: 1 });
  const t = setup({ jobs: [job], credits: { available: 90, reserved: 10 } });
  const seen: string[] = [];
  t.store.onTransition((a, b) => seen.push(`${a?.status ?? "-"}>${b?.status ?? "-"}`));
  t.store.start();
  t.events.status("SUBSCRIBED");
  await t.settle();
  t.events.job({ ...job, status: "in_progress", version: 2 });
  t.events.job({ ...job, status: "in_progress", version: 2 });
  assert.deepEqual(seen, ["->queued", "queued>in_progress"]);
  t.store.stop();
  assert.equal(t.events.left, true);
  assert.equal(t.store.getState().connection, "stopped");
});

Deno.test("the model catalog is fetched once", async () => {
  const t = setup();
  await Promise.all([t.store.loadModels(), t.store.loadModels()]);
  await t.store.loadModels();
  assert.deepEqual(t.calls, ["models"]);
});
