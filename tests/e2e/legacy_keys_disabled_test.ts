/**
 * A stack run as a hosted project that disabled its legacy API keys (LEGACY_KEYS=disabled): the
 * gateway refuses the anon / service_role JWTs as API keys the way the platform does, the
 * functions still find the old JWT in SUPABASE_SERVICE_ROLE_KEY, and the core loop must work
 * anyway with publishable / secret keys. Also what a function instance does to the database's
 * connection budget on hosted: a small pool that empties when the instance is idle.
 */
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import type { TestStack } from "../harness/stack.ts";
import { e2eSuite, probeMedia, type SignedIn, subscribeJobs } from "./helpers.ts";

const { stack, control, test, stop } = e2eSuite({
  warmFunctions: true,
  env: { LEGACY_KEYS: "disabled" },
});

/** A fresh anonymous user on a client holding only the publishable key. */
async function publishableUser(s: TestStack): Promise<SignedIn> {
  const client = createClient(s.info.supabaseUrl, s.info.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  const { data, error } = await client.auth.signInAnonymously();
  if (error || !data.session || !data.user) throw error ?? new Error("no session");
  return { client, userId: data.user.id, token: data.session.access_token };
}

async function functionCall(
  s: TestStack,
  path: string,
  init: { token: string; method?: string; body?: unknown },
) {
  const res = await fetch(`${s.info.supabaseUrl}/functions/v1/${path}`, {
    method: init.method ?? "POST",
    headers: {
      apikey: s.info.publishableKey,
      authorization: `Bearer ${init.token}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, json: await res.json() as Record<string, unknown> };
}

test("the legacy anon and service_role keys are refused as API keys with the platform's 401", async () => {
  const s = await stack();
  assert.equal(s.info.legacyKeys, "disabled");
  const base = s.info.supabaseUrl;
  const attempts: [string, RequestInit][] = [
    [`${base}/auth/v1/settings`, { headers: { apikey: s.info.anonKey } }],
    [`${base}/auth/v1/signup`, {
      method: "POST",
      headers: { apikey: s.info.anonKey, "content-type": "application/json" },
      body: "{}",
    }],
    [`${base}/storage/v1/bucket`, {
      headers: {
        apikey: s.info.serviceRoleKey,
        authorization: `Bearer ${s.info.serviceRoleKey}`,
      },
    }],
    [`${base}/storage/v1/bucket`, {
      headers: { authorization: `Bearer ${s.info.serviceRoleKey}` },
    }],
    [`${base}/functions/v1/video-jobs?models`, { headers: { apikey: s.info.anonKey } }],
    [`${base}/realtime/v1/api/broadcast`, {
      method: "POST",
      headers: { apikey: s.info.serviceRoleKey, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ topic: "t", event: "e", payload: {} }] }),
    }],
    [`${base}/realtime/v1/websocket?apikey=${s.info.anonKey}&vsn=2.0.0`, {}],
  ];
  for (const [url, init] of attempts) {
    const res = await fetch(url, init);
    const body = await res.json() as { message?: string; hint?: string };
    assert.equal(res.status, 401, `${init.method ?? "GET"} ${url}`);
    assert.equal(body.message, "Legacy API keys are disabled", url);
    assert.match(body.hint ?? "", /^Your legacy API keys \(anon, service_role\) were disabled on /);
  }
  // The new keys work on the same routes.
  const settings = await fetch(`${base}/auth/v1/settings`, {
    headers: { apikey: s.info.publishableKey },
  });
  assert.equal(settings.status, 200);
  await settings.body?.cancel();
  const buckets = await fetch(`${base}/storage/v1/bucket`, {
    headers: { apikey: s.info.secretKey, authorization: `Bearer ${s.info.secretKey}` },
  });
  assert.equal(buckets.status, 200);
  await buckets.body?.cancel();
});

test("with legacy keys disabled a video is generated, stored and served by signed URL", async () => {
  const s = await stack();
  await (await control()).defaults({ durationMs: 200 });
  const user = await publishableUser(s);
  const jobs = await subscribeJobs(user);

  const invoked = await user.client.functions.invoke("generate-video", {
    body: { prompt: "a heron over a still lake", model: "minimax-video-01" },
  });
  assert.equal(invoked.error, null);
  assert.equal(invoked.response?.status, 202);
  const job = (invoked.data as { job: { id: string } }).job;

  const done = await jobs.waitFor((e) =>
    e.id === job.id && ["completed", "failed"].includes(e.status)
  );
  assert.equal(done.status, "completed", `job ended ${done.status}: ${JSON.stringify(done.error)}`);
  const one = await functionCall(s, `video-jobs?id=${job.id}`, {
    token: user.token,
    method: "GET",
  });
  assert.equal(one.status, 200);
  const url = (one.json.job as { video_url: string }).video_url;
  assert.match(url, /\/storage\/v1\/object\/sign\//);
  const { streams } = await probeMedia(url);
  assert.ok(streams.includes("video"), "the signed URL serves the stored video");
  await jobs.close();
});

async function connectionsOf(s: TestStack, fn: string): Promise<number> {
  const [row] = await s.superSql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity where application_name = ${`vidqueue-${fn}`}`;
  return row?.n ?? 0;
}

test("a function instance holds at most 2 connections and closes them when idle", async () => {
  const s = await stack();
  const user = await publishableUser(s);
  const burst = await Promise.all(
    Array.from(
      { length: 16 },
      () => functionCall(s, "video-jobs", { token: user.token, method: "GET" }),
    ),
  );
  assert.deepEqual(burst.map((r) => r.status), burst.map(() => 200));
  // Right after the burst the pool's connections are still open (idle, not yet timed out).
  const held = await connectionsOf(s, "video-jobs");
  assert.ok(held >= 1 && held <= 2, `video-jobs holds ${held} connections`);
  // Idle: the pool gives them back. Bounded wait for that to happen, not a timed assertion of
  // how fast (the idle timeout is 10 s).
  const deadline = Date.now() + 60_000;
  while (await connectionsOf(s, "video-jobs") > 0) {
    if (Date.now() > deadline) assert.fail("video-jobs kept its connections while idle");
    await new Promise((r) => setTimeout(r, 500));
  }
});

test("stop the stack", stop);
