// Unit tests of the admin-queue handler with fakes: who may call it, the stats answer, and the
// stuck-job actions (fal asked to stop the old request, dispatch afterwards, clear errors).
import assert from "node:assert/strict";
import type { Authenticate } from "../_shared/auth.ts";
import { AppError } from "../_shared/errors.ts";
import type { FalGateway } from "../_shared/fal.ts";
import {
  collectWaitUntil,
  fakeCatalog,
  jobRow,
  MINIMAX,
  publicJob,
  silentLog,
  USER_ID,
} from "../_shared/testing/fakes.ts";
import { createAdminQueueHandler } from "./handler.ts";
import { parseWindow } from "./schema.ts";
import type { ActionOutcome, AdminStats, AdminStore } from "./store.ts";

const JOB_ID = "10000000-0000-4000-8000-000000000001";

const as = (appMetadata: Record<string, unknown>): Authenticate => (req) =>
  req.headers.get("authorization")
    ? Promise.resolve({
      id: USER_ID,
      claims: { sub: USER_ID, role: "authenticated", app_metadata: appMetadata },
      isAnonymous: false,
    })
    : Promise.reject(new AppError("unauthorized", "Sign in first."));

const STATS: AdminStats = { slots: { in_use: 3, total: 40 }, totals: { queued: 7 } };

function setup(opts: { admin?: boolean; outcome?: ActionOutcome } = {}) {
  const calls: string[] = [];
  const store: AdminStore = {
    stats: (_u, window, limit) => {
      calls.push(`stats ${window} ${limit}`);
      return Promise.resolve(STATS);
    },
    requeue: (_u, id) => {
      calls.push(`requeue ${id}`);
      return Promise.resolve(opts.outcome ?? { before: null, after: null });
    },
    cancel: (_u, id, reason) => {
      calls.push(`cancel ${id} ${reason}`);
      return Promise.resolve(opts.outcome ?? { before: null, after: null });
    },
  };
  const fal: FalGateway = {
    submit: () => Promise.reject(new Error("unexpected submit")),
    status: () => Promise.reject(new Error("unexpected status")),
    result: () => Promise.reject(new Error("unexpected result")),
    cancel: (endpoint, requestId) => {
      calls.push(`fal cancel ${endpoint} ${requestId}`);
      return Promise.resolve();
    },
  };
  const bg = collectWaitUntil();
  const handler = createAdminQueueHandler({
    authenticate: as(opts.admin === false ? { plan: "pro" } : { role: "admin" }),
    admin: store,
    models: fakeCatalog(),
    fal,
    dispatch: () => {
      calls.push("dispatch");
      return Promise.resolve(0);
    },
    waitUntil: bg.waitUntil,
    limits: { FAL_MAX_CONCURRENCY: 40 },
    log: silentLog,
  });
  return { handler, calls, bg };
}

const get = (query = "", auth = true) =>
  new Request(`http://x/admin-queue${query}`, {
    headers: auth ? { authorization: "Bearer t" } : {},
  });
const post = (body: unknown) =>
  new Request("http://x/admin-queue", {
    method: "POST",
    headers: { authorization: "Bearer t", "content-type": "application/json" },
    body: JSON.stringify(body),
  });

Deno.test("a signed-out caller gets 401 and a non-admin 403, before any SQL runs", async () => {
  const { handler, calls } = setup({ admin: false });
  assert.equal((await handler(get("", false))).status, 401);
  const res = await handler(get());
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error.code, "forbidden");
  assert.equal((await handler(post({ action: "cancel", id: JOB_ID }))).status, 403);
  assert.deepEqual(calls, []);
});

Deno.test("GET answers the stats with the configured slot limit", async () => {
  const { handler, calls } = setup();
  const res = await handler(get("?window=1h"));
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).stats, {
    ...STATS,
    slots: { in_use: 3, total: 40, limit: 40 },
  });
  assert.deepEqual(calls, ["stats 3600 100"]);
});

Deno.test("a window out of range is invalid input", async () => {
  const { handler, calls } = setup();
  for (const bad of ["?window=10", "?window=30d", "?window=abc"]) {
    assert.equal((await handler(get(bad))).status, 400, bad);
  }
  assert.deepEqual(calls, []);
});

Deno.test("window parsing accepts seconds and units, defaults to 15 minutes", () => {
  assert.equal(parseWindow(null), 900);
  assert.equal(parseWindow("600"), 600);
  assert.equal(parseWindow("15m"), 900);
  assert.equal(parseWindow("24h"), 86400);
  assert.equal(parseWindow("7d"), 604800);
  assert.equal(parseWindow("59"), null);
  assert.equal(parseWindow("8d"), null);
});

Deno.test("re-dispatch requeues, asks fal to stop the request it replaces, and dispatches", async () => {
  const before = jobRow({ id: JOB_ID, status: "in_progress", provider_request_id: "req-old" });
  const after = jobRow({ id: JOB_ID, status: "queued", provider_request_id: null, version: 5 });
  const { handler, calls, bg } = setup({
    outcome: { before, after: { row: after, job: publicJob(after) } },
  });
  const res = await handler(post({ action: "redispatch", id: JOB_ID }));
  assert.equal(res.status, 200);
  assert.equal((await res.json()).job.status, "queued");
  await bg.settle();
  assert.deepEqual(calls, [
    `requeue ${JOB_ID}`,
    `fal cancel ${MINIMAX.endpoint_id} req-old`,
    "dispatch",
  ]);
});

Deno.test("cancel passes the reason and asks fal to stop the job's request", async () => {
  const before = jobRow({ id: JOB_ID, status: "in_progress", provider_request_id: "req-old" });
  const after = jobRow({ id: JOB_ID, status: "canceled", provider_request_id: "req-old" });
  const { handler, calls, bg } = setup({
    outcome: { before, after: { row: after, job: publicJob(after) } },
  });
  const res = await handler(post({ action: "cancel", id: JOB_ID, reason: "stuck for hours" }));
  assert.equal(res.status, 200);
  await bg.settle();
  assert.deepEqual(calls, [
    `cancel ${JOB_ID} stuck for hours`,
    `fal cancel ${MINIMAX.endpoint_id} req-old`,
    "dispatch",
  ]);
});

Deno.test("canceling a job that never reached fal does not call fal", async () => {
  const before = jobRow({ id: JOB_ID, status: "queued", provider_request_id: null });
  const after = jobRow({ id: JOB_ID, status: "canceled", provider_request_id: null });
  const { handler, calls, bg } = setup({
    outcome: { before, after: { row: after, job: publicJob(after) } },
  });
  assert.equal((await handler(post({ action: "cancel", id: JOB_ID }))).status, 200);
  await bg.settle();
  assert.deepEqual(calls, [`cancel ${JOB_ID} null`, "dispatch"]);
});

Deno.test("an unknown job is 404 and an action that does not apply is 409", async () => {
  assert.equal((await setup().handler(post({ action: "cancel", id: JOB_ID }))).status, 404);
  const done = jobRow({ id: JOB_ID, status: "completed" });
  const { handler, calls } = setup({ outcome: { before: done, after: null } });
  const res = await handler(post({ action: "redispatch", id: JOB_ID }));
  assert.equal(res.status, 409);
  assert.match((await res.json()).error.message, /completed job cannot be re-dispatched/);
  assert.deepEqual(calls, [`requeue ${JOB_ID}`]);
});

Deno.test("a malformed action is invalid input", async () => {
  const { handler, calls } = setup();
  for (const body of [{ action: "delete", id: JOB_ID }, { action: "cancel", id: "x" }, {}]) {
    assert.equal((await handler(post(body))).status, 400, JSON.stringify(body));
  }
  assert.deepEqual(calls, []);
});
