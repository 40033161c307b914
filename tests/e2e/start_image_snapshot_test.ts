/**
 * Start images end to end through supabase-js and the running stack (fal simulator): what
 * generate-video checked is what fal gets, and a refused request costs no Storage work.
 * - The upload is snapshotted into `<uid>/.snapshots/…` (users cannot write there) and the job
 *   refers to the snapshot, so replacing the upload while the job waits for a slot changes
 *   nothing: fal fetches the original bytes.
 * - A user at their limit submitting a batch with start images is refused (429) before any
 *   Storage request; a batch whose items share one image checks it once.
 * The stack has one fal slot; a long job of another user holds it, so dispatch waits (and makes
 * no Storage request) until the test cancels that job.
 */
import assert from "node:assert/strict";
import type { TestStack } from "../harness/stack.ts";
import { anonymousUser, call, e2eSuite, type SignedIn, subscribeJobs } from "./helpers.ts";

const KLING = "fal-ai/kling-video/v1.6/pro/text-to-video";
const I2V = "fal-ai/minimax/video-01/image-to-video";
const png = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
// Two different 1×1 PNGs (a black and a white pixel).
const ORIGINAL = png(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
);
const REPLACEMENT = png(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==",
);

const { stack, control, test: e2eTest, stop } = e2eSuite({
  warmFunctions: true,
  env: { FAL_MAX_CONCURRENCY: "1", USER_MAX_ACTIVE: "1", USER_SUBMITS_PER_MIN: "3" },
});

async function upload(user: SignedIn, name: string, bytes: Uint8Array) {
  const path = `${user.userId}/${name}`;
  const { error } = await user.client.storage.from("inputs").upload(path, bytes, {
    contentType: "image/png",
    upsert: true,
  });
  assert.equal(error, null, String(error));
  return path;
}

/** Cancels jobs that still wait in the queue, so they do not take the slot from later tests. */
async function cancelAll(s: TestStack, user: SignedIn, ids: string[]) {
  for (const id of ids) {
    const res = await call(s, "video-jobs", { token: user.token, body: { action: "cancel", id } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
  }
}

async function grant(s: TestStack, user: SignedIn, amount: number) {
  await s.sql`select vidqueue.grant_credits(${user.userId}::uuid, ${amount}, 'test',
    ${"test:" + crypto.randomUUID()})`;
}

/** Starts a long job of a fresh user that holds the only fal slot; resolves to its cancel. */
async function holdTheSlot(s: TestStack): Promise<() => Promise<void>> {
  const ctl = await control();
  await ctl.endpoint(KLING, { durationMs: 600_000 });
  const blocker = await anonymousUser(s);
  const jobs = await subscribeJobs(blocker);
  const res = await call(s, "generate-video", {
    token: blocker.token,
    body: { prompt: "a very long take", model: "kling-1.6-pro" },
  });
  assert.equal(res.status, 202, JSON.stringify(res.json));
  const id = (res.json.job as { id: string }).id;
  await jobs.waitFor((e) => e.id === id && e.status === "submitted");
  return async () => {
    const canceled = await call(s, "video-jobs", {
      token: blocker.token,
      body: { action: "cancel", id },
    });
    assert.equal(canceled.status, 200, JSON.stringify(canceled.json));
    await jobs.waitFor((e) => e.id === id && e.status === "canceled", 30_000);
    await jobs.close();
  };
}

e2eTest("a user at their limit is refused with 429 before any Storage request", async () => {
  const s = await stack();
  const release = await holdTheSlot(s);
  const user = await anonymousUser(s);
  const queued: string[] = [];
  try {
    await grant(s, user, 100);
    const path = await upload(user, "start.png", ORIGINAL);
    // Real images, so that only the limit can refuse the batch.
    for (const i of [0, 2, 4]) await upload(user, `other-${i}.png`, ORIGINAL);
    for (let i = 0; i < 3; i++) {
      const res = await call(s, "generate-video", {
        token: user.token,
        body: { prompt: `plain ${i}`, model: "minimax-video-01" },
      });
      assert.equal(res.status, 202, JSON.stringify(res.json));
      queued.push((res.json.job as { id: string }).id);
    }
    const before = s.stack.gateway.requestCount("storage");
    const items = Array.from({ length: 5 }, (_, i) => ({
      prompt: `scene ${i}`,
      image_path: i % 2 ? path : `${user.userId}/other-${i}.png`,
    }));
    const refused = await call(s, "generate-video", { token: user.token, body: { items } });
    assert.equal(refused.status, 429, JSON.stringify(refused.json));
    assert.equal((refused.json.error as { code: string }).code, "rate_limited");
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    const single = await call(s, "generate-video", {
      token: user.token,
      body: { prompt: "one more", image_path: path },
    });
    assert.equal(single.status, 429);
    assert.equal(s.stack.gateway.requestCount("storage") - before, 0, "no Storage request");
    const [snapshots] = await s.sql<{ n: number }[]>`
      select count(*)::int as n from storage.objects
      where bucket_id = 'inputs' and name like ${user.userId + "/.snapshots/%"}`;
    assert.equal(snapshots?.n, 0);
  } finally {
    await cancelAll(s, user, queued);
    await release();
  }
});

e2eTest("a batch whose items share one start image checks it once", async () => {
  const s = await stack();
  const release = await holdTheSlot(s);
  const user = await anonymousUser(s);
  const queued: string[] = [];
  try {
    await grant(s, user, 100);
    const path = await upload(user, "shared.png", ORIGINAL);
    const before = s.stack.gateway.requestCount("storage");
    const items = Array.from({ length: 4 }, (_, i) => ({ prompt: `scene ${i}`, image_path: path }));
    const res = await call(s, "generate-video", { token: user.token, body: { items } });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    queued.push((res.json.parent as { id: string }).id);
    // One snapshot copy, one signing call and one ranged download; the slot is held, so the
    // background dispatch claims nothing and signs nothing.
    assert.equal(s.stack.gateway.requestCount("storage") - before, 3);
    const refs = await s.sql<{ image_url: string }[]>`
      select distinct input ->> 'image_url' as image_url from public.jobs
      where user_id = ${user.userId}::uuid and kind = 'video'`;
    assert.equal(refs.length, 1, "all four items refer to the same snapshot");
  } finally {
    await cancelAll(s, user, queued);
    await release();
  }
});

e2eTest(
  "replacing the upload while the job waits for a slot does not change what fal gets",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.endpoint(I2V, { durationMs: 100 });
    const release = await holdTheSlot(s);
    let released = false;
    try {
      const user = await anonymousUser(s);
      const jobs = await subscribeJobs(user);
      const path = await upload(user, "start.png", ORIGINAL);
      const res = await call(s, "generate-video", {
        token: user.token,
        body: { prompt: "the pixel dances", image_path: path },
      });
      assert.equal(res.status, 202, JSON.stringify(res.json));
      const id = (res.json.job as { id: string }).id;
      const [row] = await s.sql<{ ref: string; dispatching: boolean }[]>`
        select input ->> 'image_url' as ref, dispatching_at is not null as dispatching
        from public.jobs where id = ${id}::uuid`;
      assert.equal(row?.dispatching, false, "the job waits for the slot");
      const snapshot = row!.ref.replace("storage://inputs/", "");
      assert.match(snapshot, new RegExp(`^${user.userId}/\\.snapshots/[0-9a-f-]{36}/start\\.png$`));

      await upload(user, "start.png", REPLACEMENT);
      const inputs = user.client.storage.from("inputs");
      const overwrite = await inputs.upload(snapshot, REPLACEMENT, {
        contentType: "image/png",
        upsert: true,
      });
      assert.ok(overwrite.error, "the user cannot overwrite the snapshot");
      const moved = await inputs.move(`${user.userId}/start.png`, snapshot);
      assert.ok(moved.error, "nor move a file onto it");
      const removed = await inputs.remove([snapshot]);
      assert.equal(removed.error, null);
      const still = await s.sql<{ n: number }[]>`
        select count(*)::int as n from storage.objects
        where bucket_id = 'inputs' and name = ${snapshot}`;
      assert.equal(still[0]?.n, 1, "nor delete it");

      await release();
      released = true;
      await jobs.waitFor((e) => e.id === id && e.status === "completed", 30_000);
      const [sent] = await s.sql<{ provider_request_id: string }[]>`
        select provider_request_id from public.jobs where id = ${id}::uuid`;
      const request = (await ctl.requests()).find((r) => r.requestId === sent?.provider_request_id);
      const url = (request?.input as { image_url: string }).image_url;
      const fetched = await fetch(url);
      assert.equal(fetched.status, 200);
      assert.deepEqual(new Uint8Array(await fetched.arrayBuffer()), ORIGINAL, "the checked bytes");
      const { data } = await inputs.download(`${user.userId}/start.png`);
      assert.deepEqual(new Uint8Array(await data!.arrayBuffer()), REPLACEMENT, "upload replaced");
      await jobs.close();
    } finally {
      if (!released) await release();
    }
  },
);

e2eTest("stop the start-image stack", async () => {
  await stop();
});
