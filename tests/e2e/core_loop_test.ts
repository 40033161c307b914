/**
 * The core loop end to end through supabase-js and the running stack, with the fal simulator as
 * fal: generate-video → fal → signed fal-webhook → Storage → Realtime, plus what must be refused.
 */
import assert from "node:assert/strict";
import { type TestStack } from "../harness/stack.ts";
import { anonymousUser, call, e2eSuite, ledgerOf, probeMedia, subscribeJobs } from "./helpers.ts";

const { stack, control, test: e2eTest, stop } = e2eSuite();

async function requestIdOf(s: TestStack, jobId: string): Promise<string> {
  const rows = await s.sql<{ provider_request_id: string | null }[]>`
    select provider_request_id from public.jobs where id = ${jobId}::uuid`;
  const id = rows[0]?.provider_request_id;
  if (!id) throw new Error(`job ${jobId} has no fal request id`);
  return id;
}

e2eTest(
  "an anonymous user's video is generated, delivered live over Realtime and charged once",
  async () => {
    const s = await stack();
    await (await control()).defaults({ durationMs: 300 });
    const user = await anonymousUser(s);
    const jobs = await subscribeJobs(user);
    const before = (await call(s, "video-jobs", { method: "GET", token: user.token })).json as {
      credits: { available: number };
    };

    const invoked = await user.client.functions.invoke("generate-video", {
      body: { prompt: "a red fox running through snow", model: "minimax-video-01" },
    });
    assert.equal(invoked.error, null);
    assert.equal(invoked.response?.status, 202);
    const job = (invoked.data as { job: { id: string; status: string; credits_cost: number } }).job;
    assert.equal(job.status, "queued");

    const done = await jobs.waitFor((e) => e.id === job.id && e.status === "completed");
    assert.equal(done.video_url ?? null, null, "events carry no signed URL");
    const mine = jobs.events.filter((e) => e.id === job.id);
    const versions = mine.map((e) => e.version);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
      "events arrive in version order",
    );
    assert.ok(mine.some((e) => e.status === "submitted"), "saw the submit");
    assert.ok(mine.some((e) => e.status === "finalizing"), "saw the result arrive");

    const one = await call(s, "video-jobs", {
      method: "GET",
      token: user.token,
      query: `?id=${job.id}`,
    });
    assert.equal(one.status, 200);
    const url = (one.json.job as { video_url: string }).video_url;
    assert.match(url, /^http/);
    const { seconds, streams } = await probeMedia(url);
    assert.ok(streams.includes("video"), "has a video stream");
    assert.ok(seconds > 0.5, `a playable video of ${seconds}s`);

    const after = (await call(s, "video-jobs", { method: "GET", token: user.token })).json as {
      credits: { available: number; reserved: number };
    };
    assert.equal(after.credits.available, before.credits.available - job.credits_cost);
    assert.equal(after.credits.reserved, 0);
    assert.deepEqual(await ledgerOf(s, job.id), { reserve: 1, capture: 1 });
    await jobs.close();
  },
);

e2eTest("forged, tampered and stale webhooks are refused with 401 and change nothing", async () => {
  const s = await stack();
  const ctl = await control();
  await ctl.defaults({ durationMs: 200 });
  await ctl.webhookFaults({ delayMs: 60_000 });
  const user = await anonymousUser(s);
  const jobs = await subscribeJobs(user);
  const created = await call(s, "generate-video", {
    token: user.token,
    body: { prompt: "held webhook" },
  });
  assert.equal(created.status, 202);
  const jobId = (created.json.job as { id: string }).id;
  await jobs.waitFor((e) => e.id === jobId && e.status === "submitted");
  const requestId = await requestIdOf(s, jobId);
  const body = JSON.stringify({
    request_id: requestId,
    status: "OK",
    payload: { video: { url: "https://fal.media/x.mp4" } },
  });
  const now = Math.floor(Date.now() / 1000);
  const attempts = [
    { "x-fal-webhook-signature": "00".repeat(64), "x-fal-webhook-timestamp": String(now) },
    { "x-fal-webhook-signature": "zz", "x-fal-webhook-timestamp": String(now) },
    { "x-fal-webhook-signature": "00".repeat(64), "x-fal-webhook-timestamp": String(now - 600) },
  ];
  for (const sig of attempts) {
    const res = await call(s, `fal-webhook?job_id=${jobId}`, {
      body,
      headers: { "x-fal-webhook-request-id": requestId, "x-fal-webhook-user-id": "u", ...sig },
    });
    assert.equal(res.status, 401);
    assert.equal((res.json.error as { code: string }).code, "invalid_signature");
  }
  const [row] = await s.sql<{ status: string; version: number }[]>`
    select status, version from public.jobs where id = ${jobId}::uuid`;
  assert.ok(
    row && ["submitted", "in_progress"].includes(row.status),
    `still at fal, got ${row?.status}`,
  );
  await ctl.webhookFaults({ delayMs: 0 });
  await jobs.close();
});

e2eTest(
  "a duplicated webhook charges once; an ERROR result fails the job and releases its credits",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.reset();
    await ctl.defaults({ durationMs: 150 });
    await ctl.webhookFaults({ duplicates: 2 });
    const user = await anonymousUser(s);
    const jobs = await subscribeJobs(user);
    const ok = await call(s, "generate-video", {
      token: user.token,
      body: { prompt: "twice delivered" },
    });
    const okId = (ok.json.job as { id: string }).id;
    await jobs.waitFor((e) => e.id === okId && e.status === "completed");
    await ctl.waitFor(await requestIdOf(s, okId), { until: "webhook_settled", deliveries: 3 });
    assert.deepEqual(await ledgerOf(s, okId), { reserve: 1, capture: 1 });

    await ctl.webhookFaults({ duplicates: 0 });
    await ctl.defaults({ durationMs: 150, errorRate: 1 });
    const bad = await call(s, "generate-video", {
      token: user.token,
      body: { prompt: "this one fails" },
    });
    const badId = (bad.json.job as { id: string }).id;
    const failed = await jobs.waitFor((e) => e.id === badId && e.status === "failed");
    assert.ok((failed.error as { code: string } | null)?.code, "the failure carries an error code");
    assert.deepEqual(await ledgerOf(s, badId), { reserve: 1, release: 1 });
    await ctl.reset();
    await jobs.close();
  },
);

e2eTest("bad requests are refused with clear errors and write nothing", async () => {
  const s = await stack();
  const user = await anonymousUser(s);
  const count = async () =>
    (await s.sql<
      { n: number }[]
    >`select count(*)::int as n from public.jobs where user_id = ${user.userId}::uuid`)[0]?.n;

  const noJwt = await call(s, "generate-video", { body: { prompt: "x" } });
  assert.equal(noJwt.status, 401);
  assert.equal((noJwt.json.error as { code: string }).code, "unauthorized");

  const invalid = await call(s, "generate-video", {
    token: user.token,
    body: { prompt: "x", duration: "long" },
  });
  assert.equal(invalid.status, 400);
  assert.match((invalid.json.error as { message: string }).message, /duration/);

  await s.sql`update public.credit_accounts set available = 1 where user_id = ${user.userId}::uuid`;
  const poor = await call(s, "generate-video", {
    token: user.token,
    body: { prompt: "too expensive" },
  });
  assert.equal(poor.status, 402);
  assert.equal((poor.json.error as { code: string }).code, "insufficient_credits");
  assert.equal(await count(), 0);
});

e2eTest(
  "the same idempotency key replays the same job; with another body it is a 409",
  async () => {
    const s = await stack();
    const user = await anonymousUser(s);
    const headers = { "idempotency-key": "order-42" };
    const first = await call(s, "generate-video", {
      token: user.token,
      headers,
      body: { prompt: "same" },
    });
    const again = await call(s, "generate-video", {
      token: user.token,
      headers,
      body: { prompt: "same" },
    });
    assert.equal(first.status, 202);
    assert.equal((again.json.job as { id: string }).id, (first.json.job as { id: string }).id);
    const other = await call(s, "generate-video", {
      token: user.token,
      headers,
      body: { prompt: "different" },
    });
    assert.equal(other.status, 409);
    const reserves = await s.sql<{ n: number }[]>`
    select count(*)::int as n from public.credit_ledger where user_id = ${user.userId}::uuid and kind = 'reserve'`;
    assert.equal(reserves[0]?.n, 1);
  },
);

e2eTest("another user can neither read a job nor join its owner's channel", async () => {
  const s = await stack();
  const owner = await anonymousUser(s);
  const stranger = await anonymousUser(s);
  const created = await call(s, "generate-video", { token: owner.token, body: { prompt: "mine" } });
  const id = (created.json.job as { id: string }).id;
  const peek = await call(s, "video-jobs", {
    method: "GET",
    token: stranger.token,
    query: `?id=${id}`,
  });
  assert.equal(peek.status, 404);
  const list = await call(s, "video-jobs", { method: "GET", token: stranger.token });
  assert.deepEqual(list.json.jobs, []);

  await stranger.client.realtime.setAuth(stranger.token);
  const channel = stranger.client.channel(`jobs:${owner.userId}`, { config: { private: true } });
  const refused = await new Promise<string>((resolve) => {
    channel.subscribe((status, err) => {
      if (status === "CHANNEL_ERROR") resolve(err?.message ?? "");
    });
  });
  assert.match(refused, /Unauthorized/);
  await stranger.client.removeChannel(channel);
});

e2eTest("stop the core-loop stack", async () => {
  await stop();
});
