/**
 * Jobs that share a Storage object, end to end through `video-jobs` delete and the running stack:
 * a batch retry takes over the finished items of the failed batch (same `storage_path`), and the
 * items of one request share their start-image snapshot. Deleting one job removes only what no
 * live job of the user still refers to; the last one to go takes the file with it.
 */
import assert from "node:assert/strict";
import type { TestStack } from "../harness/stack.ts";
import { anonymousUser, call, e2eSuite, type SignedIn, subscribeJobs } from "./helpers.ts";

const KLING = "fal-ai/kling-video/v1.6/pro/text-to-video";
const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

const { stack, control, test: e2eTest, stop } = e2eSuite();

type Job = { id: string; item: number | null; status: string };

async function remove(s: TestStack, user: SignedIn, id: string) {
  const res = await call(s, "video-jobs", { token: user.token, body: { action: "delete", id } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
}

async function stored(s: TestStack, bucket: string, name: string): Promise<boolean> {
  const rows = await s.sql<{ n: number }[]>`
    select count(*)::int as n from storage.objects where bucket_id = ${bucket} and name = ${name}`;
  return rows[0]?.n === 1;
}

/** The job's video as its owner gets it: status of fetching its fresh signed URL. */
async function videoStatus(s: TestStack, user: SignedIn, id: string): Promise<number> {
  const res = await call(s, "video-jobs", { method: "GET", token: user.token, query: `?id=${id}` });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const url = (res.json.job as { video_url: string | null }).video_url;
  if (!url) return 0;
  const got = await fetch(url);
  await got.body?.cancel();
  return got.status;
}

e2eTest(
  "deleting a batch item or its batch keeps the video a retry of the batch took over",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.defaults({ durationMs: 100 });
    await ctl.endpoint(KLING, { errorRate: 1, failureType: "runner_server_error" });
    const user = await anonymousUser(s);
    const jobs = await subscribeJobs(user);
    const created = await call(s, "generate-video", {
      token: user.token,
      body: {
        items: [{ prompt: "fine", model: "minimax-video-01" }, {
          prompt: "doomed",
          model: "kling-1.6-pro",
        }],
      },
    });
    assert.equal(created.status, 202, JSON.stringify(created.json));
    const old = created.json as { parent: Job; jobs: Job[] };
    await jobs.waitFor((e) => e.id === old.parent.id && e.status === "failed", 60_000);
    await ctl.endpoint(KLING, { errorRate: 0 });
    const retried = await call(s, "generate-video", {
      token: user.token,
      body: { retry_of: old.parent.id },
    });
    assert.equal(retried.status, 202, JSON.stringify(retried.json));
    const fresh = retried.json as { parent: Job; jobs: Job[] };
    await jobs.waitFor((e) => e.id === fresh.parent.id && e.status === "completed", 60_000);

    const first = old.jobs.find((j) => j.item === 1)!;
    const reused = fresh.jobs.find((j) => j.item === 1)!;
    const paths = await s.sql<{ id: string; storage_path: string }[]>`
    select id, storage_path from public.jobs where id in (${first.id}::uuid, ${reused.id}::uuid)`;
    assert.equal(paths.length, 2);
    assert.equal(paths[0]!.storage_path, paths[1]!.storage_path, "the two share one video");
    const path = paths[0]!.storage_path;

    await remove(s, user, first.id);
    assert.equal(await videoStatus(s, user, reused.id), 200, "the retry's item still plays");
    await remove(s, user, old.parent.id);
    assert.equal(await videoStatus(s, user, reused.id), 200, "also once the old batch is gone");
    assert.equal(await stored(s, "videos", path), true);

    await remove(s, user, fresh.parent.id);
    assert.equal(await stored(s, "videos", path), false, "the last one takes the file with it");
    const second = fresh.jobs.find((j) => j.item === 2)!;
    const [row] = await s.sql<{ storage_path: string }[]>`
    select storage_path from public.jobs where id = ${second.id}::uuid`;
    assert.equal(await stored(s, "videos", row!.storage_path), false, "and its other items' files");
    await jobs.close();
  },
);

e2eTest(
  "a start-image snapshot shared by two jobs goes with the last of them, the upload stays",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.defaults({ durationMs: 100 });
    const user = await anonymousUser(s);
    const upload = `${user.userId}/start.png`;
    const up = await user.client.storage.from("inputs").upload(upload, PNG, {
      contentType: "image/png",
    });
    assert.equal(up.error, null, String(up.error));
    const jobs = await subscribeJobs(user);
    const created = await call(s, "generate-video", {
      token: user.token,
      body: { items: [{ prompt: "a", image_path: upload }, { prompt: "b", image_path: upload }] },
    });
    assert.equal(created.status, 202, JSON.stringify(created.json));
    const batch = created.json as { parent: Job; jobs: Job[] };
    await jobs.waitFor((e) => e.id === batch.parent.id && e.status === "completed", 60_000);
    const [ref] = await s.sql<{ ref: string }[]>`
    select distinct input ->> 'image_url' as ref from public.jobs
    where parent_id = ${batch.parent.id}::uuid`;
    const snapshot = ref!.ref.replace("storage://inputs/", "");

    await remove(s, user, batch.jobs[0]!.id);
    assert.equal(await stored(s, "inputs", snapshot), true, "its batch still refers to it");
    await remove(s, user, batch.parent.id);
    assert.equal(await stored(s, "inputs", snapshot), false);
    assert.equal(await stored(s, "inputs", upload), true, "the user's own upload is theirs");
    await jobs.close();
  },
);

e2eTest("stop the shared-files stack", async () => {
  await stop();
});
