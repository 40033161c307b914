/**
 * The admin side end to end: admin-queue refuses non-admins and answers admins with the queue
 * statistics; `admin:stats` is live over Realtime for admins only; the job-events timeline is
 * visible to its owner and to admins, nobody else; an admin re-dispatches a job stuck at fal
 * (sent to fal again with a new request; credits kept) and cancels it (fal asked to stop;
 * credits released once).
 */
import assert from "node:assert/strict";
import type { SupabaseClient } from "@supabase/supabase-js";
import { createFalSimControl } from "../../dev/fal_sim/control.ts";
import { setAdmin } from "../../dev/make_admin.ts";
import { startTestStack, type TestStack } from "../harness/stack.ts";
import { anonymousUser, call, ledgerOf, type SignedIn, subscribeJobs } from "./helpers.ts";

let stackPromise: Promise<TestStack> | undefined;
const stack = () => stackPromise ??= startTestStack({ warmFunctions: true });
const control = async () => createFalSimControl((await stack()).stack.fal!);

function e2eTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

/** An anonymous user promoted to admin, with a refreshed token that carries the role. */
async function adminUser(s: TestStack): Promise<SignedIn> {
  const user = await anonymousUser(s);
  await setAdmin(s.serviceClient(), user.userId, true);
  const { data, error } = await user.client.auth.refreshSession();
  if (error || !data.session) throw error ?? new Error("no refreshed session");
  assert.equal(data.session.user.app_metadata.role, "admin");
  return { ...user, token: data.session.access_token };
}

/** Joins `admin:stats`; resolves with the join status and a way to wait for a stats message. */
async function joinStats(client: SupabaseClient, token: string) {
  await client.realtime.setAuth(token);
  const messages: Record<string, unknown>[] = [];
  const waiters: { test: (s: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  const channel = client.channel("admin:stats", { config: { private: true } });
  channel.on("broadcast", { event: "stats" }, (msg) => {
    const stats = (msg.payload as { stats: Record<string, unknown> }).stats;
    messages.push(stats);
    for (const w of [...waiters]) {
      if (w.test(stats)) waiters.splice(waiters.indexOf(w), 1), w.resolve();
    }
  });
  const status = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve("TIMED_OUT"), 10_000);
    channel.subscribe((st) => {
      if (st === "SUBSCRIBED" || st === "CHANNEL_ERROR") clearTimeout(timer), resolve(st);
    });
  });
  return {
    status,
    messages,
    waitFor(test: (s: Record<string, unknown>) => boolean, timeoutMs = 10_000) {
      if (messages.some(test)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no matching stats message")), timeoutMs);
        waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () => client.removeChannel(channel),
  };
}

e2eTest("admin-queue answers admins only, with the queue statistics", async () => {
  const s = await stack();
  const user = await anonymousUser(s);
  const refused = await call(s, "admin-queue", { method: "GET", token: user.token });
  assert.equal(refused.status, 403);
  assert.equal((refused.json.error as { code: string }).code, "forbidden");
  assert.equal((await call(s, "admin-queue", { method: "GET" })).status, 401);

  const admin = await adminUser(s);
  const res = await call(s, "admin-queue", {
    method: "GET",
    token: admin.token,
    query: "?window=1h",
  });
  assert.equal(res.status, 200);
  const stats = res.json.stats as Record<string, Record<string, unknown>>;
  assert.equal(stats.window_seconds, 3600);
  assert.equal(typeof stats.totals!.live, "number");
  assert.equal(stats.slots!.limit, 2, "FAL_MAX_CONCURRENCY of the stack (default 2)");
  for (const key of ["depth", "models", "failures", "credits", "stuck"]) assert.ok(key in stats);
});

e2eTest("admin:stats is live for admins and refused to users", async () => {
  const s = await stack();
  await (await control()).defaults({ durationMs: 100 });
  const admin = await adminUser(s);
  const live = await joinStats(admin.client, admin.token);
  assert.equal(live.status, "SUBSCRIBED");

  const user = await anonymousUser(s);
  const outsider = await joinStats(user.client, user.token);
  assert.equal(outsider.status, "CHANNEL_ERROR");

  // A job created now changes the statistics: a message follows (at most a second later).
  const created = await call(s, "generate-video", {
    token: user.token,
    body: { prompt: "a lighthouse at dawn" },
  });
  assert.equal(created.status, 202);
  await live.waitFor((st) => ((st.totals as { live: number }).live ?? 0) >= 1);
  assert.equal(outsider.messages.length, 0);
  await live.close();
  await outsider.close();
});

e2eTest("a job's timeline is visible to its owner and admins, nobody else", async () => {
  const s = await stack();
  await (await control()).defaults({ durationMs: 100 });
  const owner = await anonymousUser(s);
  const jobs = await subscribeJobs(owner);
  const created = await call(s, "generate-video", {
    token: owner.token,
    body: { prompt: "a paper boat on a river" },
  });
  const id = (created.json.job as { id: string }).id;
  await jobs.waitFor((e) => e.id === id && e.status === "completed");
  await jobs.close();

  const mine = await call(s, "job-events", {
    method: "GET",
    token: owner.token,
    query: `?id=${id}`,
  });
  assert.equal(mine.status, 200);
  const events = mine.json.events as { kind: string; detail: Record<string, unknown> }[];
  assert.deepEqual(events.map((e) => e.kind), [
    "created",
    "claimed",
    "submitted",
    "finalizing",
    "completed",
  ]);
  assert.ok(events.every((e) => !("request_id" in e.detail)), "owners see no internals");

  const stranger = await anonymousUser(s);
  const hidden = await call(s, "job-events", {
    method: "GET",
    token: stranger.token,
    query: `?id=${id}`,
  });
  assert.equal(hidden.status, 404);

  const admin = await adminUser(s);
  const all = await call(s, "job-events", {
    method: "GET",
    token: admin.token,
    query: `?id=${id}`,
  });
  assert.equal(all.status, 200);
  const submitted = (all.json.events as { kind: string; detail: Record<string, unknown> }[])
    .find((e) => e.kind === "submitted");
  assert.equal(typeof submitted?.detail.request_id, "string", "admins see the fal request id");
});

e2eTest("an admin re-dispatches a job stuck at fal, then cancels it", async () => {
  const s = await stack();
  const sim = await control();
  await sim.defaults({ durationMs: 120_000 });
  const owner = await anonymousUser(s);
  const jobs = await subscribeJobs(owner);
  const created = await call(s, "generate-video", {
    token: owner.token,
    body: { prompt: "a kite over the dunes" },
  });
  const id = (created.json.job as { id: string }).id;
  await jobs.waitFor((e) => e.id === id && e.status === "submitted");
  const [first] = await s.sql<{ provider_request_id: string }[]>`
    select provider_request_id from public.jobs where id = ${id}::uuid`;
  const admin = await adminUser(s);

  const user = await call(s, "admin-queue", { token: owner.token, body: { action: "cancel", id } });
  assert.equal(user.status, 403, "the owner is not an admin");

  const again = await call(s, "admin-queue", {
    token: admin.token,
    body: { action: "redispatch", id },
  });
  assert.equal(again.status, 200);
  assert.equal((again.json.job as { status: string }).status, "queued");
  await jobs.waitFor((e) => e.id === id && e.status === "submitted" && e.version > 3);
  const [second] = await s.sql<{ provider_request_id: string }[]>`
    select provider_request_id from public.jobs where id = ${id}::uuid`;
  assert.notEqual(second!.provider_request_id, first!.provider_request_id, "a new fal request");

  const canceled = await call(s, "admin-queue", {
    token: admin.token,
    body: { action: "cancel", id, reason: "stuck in the test" },
  });
  assert.equal(canceled.status, 200);
  assert.equal((canceled.json.job as { status: string }).status, "canceled");
  await jobs.waitFor((e) => e.id === id && e.status === "canceled");
  assert.deepEqual(await ledgerOf(s, id), { reserve: 1, release: 1 });
  const stopped = (await sim.requests()).find((r) => r.requestId === second!.provider_request_id);
  assert.equal(stopped?.cancelRequested, true, "fal was asked to stop the canceled job's request");
  const twice = await call(s, "admin-queue", {
    token: admin.token,
    body: { action: "cancel", id },
  });
  assert.equal(twice.status, 409);
  await jobs.close();
});

e2eTest("stop the admin stack", async () => {
  if (stackPromise) await (await stackPromise).stop();
});
