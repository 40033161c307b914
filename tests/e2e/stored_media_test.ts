/**
 * What we store and what we sign, decided by us and not by the provider or a prompt, end to end
 * through supabase-js and the running stack (fal simulator with its `servedMedia` knob):
 * - a result's bytes decide its stored extension and type, from the job kind's allowlist; an HTML
 *   page announced as an MP4 fails the job (`media_type_not_allowed`), releases its credits and
 *   leaves nothing in the `videos` bucket;
 * - only the fields that take media have their `storage://` references signed: a prompt that
 *   reads like one reaches fal as the text it is.
 */
import assert from "node:assert/strict";
import { anonymousUser, e2eSuite, ledgerOf, subscribeJobs } from "./helpers.ts";

const MINIMAX = "fal-ai/minimax/video-01";
// A 1×1 PNG.
const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

const { stack, control, test: e2eTest, stop } = e2eSuite();

async function videoObjects(userId: string) {
  const s = await stack();
  return [
    ...await s.sql<{ name: string; mimetype: string }[]>`
    select name, metadata ->> 'mimetype' as mimetype from storage.objects
    where bucket_id = 'videos' and name like ${userId + "/%"}`,
  ];
}

e2eTest(
  "an HTML page served as video/mp4 fails the job with media_type_not_allowed and stores nothing",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.endpoint(MINIMAX, {
      durationMs: 100,
      servedMedia: { body: "html", contentType: "video/mp4", extension: "mp4" },
    });
    try {
      const user = await anonymousUser(s);
      const jobs = await subscribeJobs(user);
      const invoked = await user.client.functions.invoke("generate-video", {
        body: { prompt: "a lighthouse", model: "minimax-video-01" },
      });
      assert.equal(invoked.error, null, String(invoked.error));
      const id = (invoked.data as { job: { id: string } }).job.id;
      const failed = await jobs.waitFor((e) => e.id === id && e.status === "failed", 30_000);
      assert.equal((failed.error as { code: string }).code, "media_type_not_allowed");
      assert.deepEqual(await ledgerOf(s, id), { reserve: 1, release: 1 }, "credits released");
      assert.deepEqual(await videoObjects(user.userId), [], "nothing in the videos bucket");
      const [row] = await s.sql<{ storage_path: string | null }[]>`
        select storage_path from public.jobs where id = ${id}::uuid`;
      assert.equal(row?.storage_path, null);
      await jobs.close();
    } finally {
      await ctl.endpoint(MINIMAX, { servedMedia: null });
    }
  },
);

e2eTest(
  "a real MP4 served as text/html at a .html URL is stored as <job>.mp4 with type video/mp4",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.endpoint(MINIMAX, {
      durationMs: 100,
      servedMedia: { body: "file", contentType: "text/html", extension: "html" },
    });
    try {
      const user = await anonymousUser(s);
      const jobs = await subscribeJobs(user);
      const invoked = await user.client.functions.invoke("generate-video", {
        body: { prompt: "a lighthouse", model: "minimax-video-01" },
      });
      assert.equal(invoked.error, null, String(invoked.error));
      const id = (invoked.data as { job: { id: string } }).job.id;
      await jobs.waitFor((e) => e.id === id && e.status === "completed", 30_000);
      assert.deepEqual(await videoObjects(user.userId), [
        { name: `${user.userId}/${id}.mp4`, mimetype: "video/mp4" },
      ]);
      const { data } = await user.client.storage.from("videos").createSignedUrl(
        `${user.userId}/${id}.mp4`,
        60,
      );
      const served = await fetch(data!.signedUrl);
      assert.equal(served.headers.get("content-type"), "video/mp4");
      await served.body?.cancel();
      await jobs.close();
    } finally {
      await ctl.endpoint(MINIMAX, { servedMedia: null });
    }
  },
);

e2eTest("a prompt that reads like a storage reference reaches fal as text, unsigned", async () => {
  const s = await stack();
  const ctl = await control();
  await ctl.defaults({ durationMs: 100 });
  const user = await anonymousUser(s);
  const path = `${user.userId}/start.png`;
  const up = await user.client.storage.from("inputs").upload(path, PNG, {
    contentType: "image/png",
  });
  assert.equal(up.error, null, String(up.error));
  const jobs = await subscribeJobs(user);
  const prompt = `storage://inputs/${path}`;
  const invoked = await user.client.functions.invoke("generate-video", {
    body: { prompt, model: "minimax-video-01" },
  });
  assert.equal(invoked.error, null, String(invoked.error));
  const id = (invoked.data as { job: { id: string } }).job.id;
  await jobs.waitFor((e) => e.id === id && e.status === "completed", 30_000);
  const [row] = await s.sql<{ provider_request_id: string }[]>`
    select provider_request_id from public.jobs where id = ${id}::uuid`;
  const sent = (await ctl.requests()).find((r) => r.requestId === row?.provider_request_id);
  assert.equal((sent?.input as { prompt: string }).prompt, prompt, "the prompt as written");
  await jobs.close();
});

e2eTest("stop the stored-media stack", async () => {
  await stop();
});
