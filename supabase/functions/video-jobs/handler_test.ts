import assert from "node:assert/strict";
import { createVideoJobsHandler } from "./handler.ts";
import type { FalGateway } from "../_shared/fal.ts";
import type { StorageObject } from "../_shared/job_media.ts";
import type { StorageApi } from "../_shared/media_copy.ts";
import type { JobRow, PublicJob } from "../_shared/jobs.ts";
import {
  authenticateAs,
  collectWaitUntil,
  fakeCatalog,
  fakeJobs,
  jobRow,
  publicJob,
  silentLog,
} from "../_shared/testing/fakes.ts";

const JOB_ID = "10000000-0000-4000-8000-000000000001";

const retriedParents: string[] = [];

function setup(
  overrides: Parameters<typeof fakeJobs>[0],
  falCancels: string[] = [],
  unused: StorageObject[] = [],
) {
  const { jobs, calls } = fakeJobs(overrides);
  const removed: string[] = [];
  const order: string[] = [];
  const storage: StorageApi = {
    upload: () => Promise.resolve(),
    sign: (_b, paths) => Promise.resolve(paths.map((p) => `http://storage/signed/${p}?token=t`)),
    remove: (b, paths) => (removed.push(...paths), order.push(`remove ${b}`), Promise.resolve()),
    copy: () => Promise.reject(new Error("unused")),
  };
  const media = {
    unusedAfterDelete: (id: string) => (order.push(`asked ${id}`), Promise.resolve(unused)),
  };
  const fal: FalGateway = {
    submit: () => Promise.reject(new Error("unused")),
    status: () => Promise.reject(new Error("unused")),
    result: () => Promise.reject(new Error("unused")),
    cancel: (_e, requestId) => (falCancels.push(requestId), Promise.resolve()),
  };
  const bg = collectWaitUntil();
  const handler = createVideoJobsHandler({
    authenticate: authenticateAs(),
    jobs,
    models: fakeCatalog(),
    storage,
    media,
    fal,
    pipelines: {
      retry: (a) => {
        retriedParents.push(a.parentId);
        const parent = publicJob(
          jobRow({ id: "20000000-0000-4000-8000-000000000001", kind: "batch" }),
        );
        return Promise.resolve({ parent, jobs: [], replayed: false });
      },
      children: () => Promise.resolve([]),
    },
    dispatch: () => Promise.resolve(0),
    waitUntil: bg.waitUntil,
    limits: { USER_MAX_QUEUED: 5, USER_SUBMITS_PER_MIN: 10 },
    log: silentLog,
  });
  return { handler, calls, removed, bg, order };
}

const get = (query = "", auth = true) =>
  new Request(`http://fn/video-jobs${query}`, {
    headers: auth ? { authorization: "Bearer t" } : {},
  });
const post = (body: unknown) =>
  new Request("http://fn/video-jobs", {
    method: "POST",
    headers: { authorization: "Bearer t", "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const found = (row: JobRow) => Promise.resolve({ job: publicJob(row), row });

Deno.test("the list is the user's jobs with signed URLs only for completed ones, plus credits", async () => {
  const done = jobRow({ id: JOB_ID, status: "completed", storage_path: "u/j.mp4" });
  const running = jobRow({ id: "10000000-0000-4000-8000-000000000002", status: "in_progress" });
  const { handler } = setup({
    listForUser: () =>
      Promise.resolve([
        { job: publicJob(done), storagePath: "u/j.mp4" },
        { job: publicJob(running), storagePath: null },
      ]),
    creditsForUser: () => Promise.resolve({ available: 7, reserved: 10 }),
  });
  const res = await handler(get());
  assert.equal(res.status, 200);
  const body = await res.json() as { jobs: PublicJob[]; credits: unknown; next_cursor: unknown };
  assert.equal(body.jobs[0]?.video_url, "http://storage/signed/u/j.mp4?token=t");
  assert.equal(body.jobs[1]?.video_url, null);
  assert.deepEqual(body.credits, { available: 7, reserved: 10 });
  assert.equal(body.next_cursor, null);
});

Deno.test("a job that is missing or someone else's is a 404", async () => {
  const { handler } = setup({ getForUser: () => Promise.resolve(null) });
  const res = await handler(get(`?id=${JOB_ID}`));
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error.code, "not_found");
});

Deno.test("reads need a signed-in user, except the model catalog", async () => {
  const { handler } = setup({});
  assert.equal((await handler(get("", false))).status, 401);
  const models = await handler(get("?models=1", false));
  assert.equal(models.status, 200);
  const body = await models.json() as { models: { id: string; credits: number }[] };
  assert.deepEqual(body.models.map((m) => [m.id, m.credits]), [["minimax-video-01", 10], [
    "kling-2.1",
    15,
  ]]);
});

Deno.test("a bad cursor or action is a 400", async () => {
  const { handler } = setup({});
  assert.equal((await handler(get("?cursor=bogus"))).status, 400);
  assert.equal((await handler(post({ action: "explode", id: JOB_ID }))).status, 400);
  assert.equal((await handler(post({ action: "cancel", id: "not-a-uuid" }))).status, 400);
});

Deno.test("canceling a job at fal asks fal to cancel it; a finished job cannot be canceled", async () => {
  const atFal = jobRow({ id: JOB_ID, status: "in_progress", provider_request_id: "req-7" });
  const falCancels: string[] = [];
  const { handler } = setup({
    getForUser: () => found(atFal),
    cancel: () => Promise.resolve({ ...atFal, cancel_requested_at: "2026-11-28T00:00:02Z" }),
    publicJob: () => Promise.resolve(publicJob(atFal)),
  }, falCancels);
  assert.equal((await handler(post({ action: "cancel", id: JOB_ID }))).status, 200);
  assert.deepEqual(falCancels, ["req-7"]);

  const finished = setup({ getForUser: () => found(jobRow({ status: "completed" })) });
  const res = await finished.handler(post({ action: "cancel", id: JOB_ID }));
  assert.equal(res.status, 409);
});

Deno.test("retry of a failed job creates a new job with its own reservation, once", async () => {
  const failedRow = jobRow({ id: JOB_ID, status: "failed" });
  const { handler, calls } = setup({
    getForUser: () => found(failedRow),
    create: () => {
      const row = jobRow({ id: "10000000-0000-4000-8000-0000000000ff", status: "queued" });
      return Promise.resolve({ job: publicJob(row), row, replayed: false });
    },
  });
  const res = await handler(post({ action: "retry", id: JOB_ID }));
  assert.equal(res.status, 202);
  const args = calls.create?.[0]?.[0] as { retryOf: string; idempotencyKey: string; cost: number };
  assert.equal(args.retryOf, JOB_ID);
  assert.equal(args.idempotencyKey, `retry:${JOB_ID}`, "a double click retries once");
  assert.equal(args.cost, failedRow.cost);

  const running = setup({ getForUser: () => found(jobRow({ status: "submitted" })) });
  assert.equal((await running.handler(post({ action: "retry", id: JOB_ID }))).status, 409);
});

Deno.test("delete hides a finished job and removes its video", async () => {
  const done = jobRow({ id: JOB_ID, status: "completed", storage_path: "u/j.mp4" });
  const { handler, removed } = setup(
    {
      getForUser: () => found(done),
      remove: () => Promise.resolve(done),
      publicJob: () => Promise.resolve(publicJob(done)),
    },
    [],
    [{ bucket: "videos", name: "u/j.mp4" }],
  );
  assert.equal((await handler(post({ action: "delete", id: JOB_ID }))).status, 200);
  assert.deepEqual(removed, ["u/j.mp4"]);
});

Deno.test("delete removes only what no live job still uses, asked after the delete, per bucket", async () => {
  const done = jobRow({ id: JOB_ID, status: "completed", storage_path: "u/shared.mp4" });
  const shared = setup({
    getForUser: () => found(done),
    remove: () => Promise.resolve(done),
    publicJob: () => Promise.resolve(publicJob(done)),
  });
  assert.equal((await shared.handler(post({ action: "delete", id: JOB_ID }))).status, 200);
  assert.deepEqual(shared.removed, [], "another job shows this video: it stays");
  assert.deepEqual(shared.order, [`asked ${JOB_ID}`]);

  const last = setup(
    {
      getForUser: () => found(done),
      remove: () => Promise.resolve(done),
      publicJob: () => Promise.resolve(publicJob(done)),
    },
    [],
    [
      { bucket: "videos", name: "u/shared.mp4" },
      { bucket: "inputs", name: "u/.snapshots/s/a.png" },
      { bucket: "videos", name: "u/child.png" },
    ],
  );
  assert.equal((await last.handler(post({ action: "delete", id: JOB_ID }))).status, 200);
  assert.deepEqual(last.removed, ["u/shared.mp4", "u/child.png", "u/.snapshots/s/a.png"]);
  assert.deepEqual(last.order, [`asked ${JOB_ID}`, "remove videos", "remove inputs"]);
});

Deno.test("an id that is not a UUID is a 404, not a server error", async () => {
  const { handler } = setup({});
  for (const id of ["%2500", "1", "x'; drop table jobs;--"]) {
    const res = await handler(get(`?id=${encodeURIComponent(id)}`));
    assert.equal(res.status, 404, id);
  }
});

Deno.test("retrying a failed batch makes a new parent that redoes only unfinished children", async () => {
  const parent = jobRow({ id: JOB_ID, kind: "batch", status: "failed", model: null as never });
  const { handler } = setup({ getForUser: () => found(parent) });
  const res = await handler(post({ action: "retry", id: JOB_ID }));
  assert.equal(res.status, 202);
  assert.equal((await res.json()).parent.id, "20000000-0000-4000-8000-000000000001");
  assert.ok(retriedParents.includes(JOB_ID));
});

Deno.test("canceling a story asks fal to stop each of its children at fal", async () => {
  const story = jobRow({
    id: JOB_ID,
    kind: "story",
    status: "in_progress",
    provider_request_id: null,
  });
  const child = (n: number) =>
    jobRow({
      id: `30000000-0000-4000-8000-00000000000${n}`,
      parent_id: JOB_ID,
      status: "submitted",
      provider_request_id: `req-c${n}`,
      cancel_requested_at: "2026-11-28T00:00:02Z",
    });
  const falCancels: string[] = [];
  const { handler } = setup({
    getForUser: () => found(story),
    cancel: () => Promise.resolve({ ...story, status: "canceled" }),
    childrenAtFal: () => Promise.resolve([child(1), child(2)]),
    publicJob: () => Promise.resolve(publicJob(story)),
  }, falCancels);
  assert.equal((await handler(post({ action: "cancel", id: JOB_ID }))).status, 200);
  assert.deepEqual(falCancels.sort(), ["req-c1", "req-c2"]);
});
