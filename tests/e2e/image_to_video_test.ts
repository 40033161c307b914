/**
 * Image-to-video end to end through supabase-js and the running stack (fal simulator): the user
 * uploads a start image into their own folder of the `inputs` bucket, `generate-video` checks the
 * path (theirs, present, really an image) and the job hands fal a short-lived signed URL that the
 * simulator can fetch from the gateway; the job itself stores only a Storage reference.
 */
import assert from "node:assert/strict";
import { type TestStack } from "../harness/stack.ts";
import { anonymousUser, call, e2eSuite, type SignedIn, subscribeJobs } from "./helpers.ts";

const I2V = "fal-ai/minimax/video-01/image-to-video";
// A 1×1 PNG.
const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

const { stack, control, test: e2eTest, stop } = e2eSuite();

async function upload(user: SignedIn, name: string, bytes: Uint8Array, contentType: string) {
  const path = `${user.userId}/${name}`;
  const { error } = await user.client.storage.from("inputs").upload(path, bytes, {
    contentType,
    upsert: true,
  });
  return { path, error };
}

async function refusal(s: TestStack, user: SignedIn, body: Record<string, unknown>) {
  const res = await call(s, "generate-video", { token: user.token, body });
  assert.equal(res.status, 400, JSON.stringify({ body, answer: res.json }));
  return (res.json.error as { message: string }).message;
}

e2eTest(
  "an uploaded start image reaches fal as a signed URL and the video is delivered",
  async () => {
    const s = await stack();
    const ctl = await control();
    await ctl.defaults({ durationMs: 300 });
    const user = await anonymousUser(s);
    const { path, error } = await upload(user, "start.png", PNG, "image/png");
    assert.equal(error, null, String(error));
    const jobs = await subscribeJobs(user);

    const invoked = await user.client.functions.invoke("generate-video", {
      body: { prompt: "the pixel starts to dance", image_path: path },
    });
    assert.equal(invoked.error, null, String(invoked.error));
    const job = (invoked.data as { job: { id: string; model: string } }).job;
    assert.equal(job.model, "minimax-video-01-i2v", "an image picks an image-to-video model");
    await jobs.waitFor((e) => e.id === job.id && e.status === "completed", 30_000);

    const [row] = await s.sql<{ input: Record<string, string>; provider_request_id: string }[]>`
    select input, provider_request_id from public.jobs where id = ${job.id}::uuid`;
    // The reference is to the checked snapshot of the upload (input_images.ts).
    assert.match(
      row?.input.image_url ?? "",
      new RegExp(`^storage://inputs/${user.userId}/\\.snapshots/[0-9a-f-]{36}/start\\.png$`),
      "the job keeps a reference, no URL",
    );
    const sent = (await ctl.requests()).find((r) => r.requestId === row?.provider_request_id);
    assert.equal(sent?.endpointId, I2V);
    const url = (sent?.input as { image_url: string }).image_url;
    assert.match(url, /\/storage\/v1\/object\/sign\/inputs\/.+\?token=/);
    const fetched = await fetch(url);
    assert.equal(fetched.status, 200, "fal can fetch the image");
    assert.deepEqual(new Uint8Array(await fetched.arrayBuffer()), PNG);
    const tampered = await fetch(
      url.replace(/token=([^&]+)/, (_m, t: string) => `token=${t.slice(0, -2)}xx`),
    );
    assert.notEqual(tampered.status, 200, "the URL works only as signed");
    await tampered.body?.cancel();

    const motion = await call(s, "generate-video", {
      token: user.token,
      body: {
        template_id: "product-photo-motion",
        variables: { PRODUCT: "pixel" },
        image_path: path,
      },
    });
    assert.equal(motion.status, 202, "the photo template takes the same image");
    await jobs.close();
  },
);

e2eTest(
  "start images are checked: own folder, present, really an image, a model that takes one",
  async () => {
    const s = await stack();
    const owner = await anonymousUser(s);
    const stranger = await anonymousUser(s);
    const theirs = await upload(stranger, "secret.png", PNG, "image/png");
    assert.equal(theirs.error, null);
    assert.match(
      await refusal(s, owner, { prompt: "x", image_path: theirs.path }),
      /^image_path: must be in your own folder of the inputs bucket/,
    );
    assert.match(
      await refusal(s, owner, { prompt: "x", image_path: `${owner.userId}/missing.png` }),
      /^image_path: no such image in your inputs folder$/,
    );
    assert.match(
      await refusal(s, owner, {
        prompt: "x",
        image_path: `${owner.userId}/../${stranger.userId}/secret.png`,
      }),
      /^image_path: not a path in the inputs bucket$/,
    );
    const fake = await upload(
      owner,
      "fake.png",
      new TextEncoder().encode("not an image at all"),
      "image/png",
    );
    assert.equal(fake.error, null, "the bucket trusts the declared type");
    assert.match(
      await refusal(s, owner, { prompt: "x", image_path: fake.path }),
      /^image_path: the file is not a PNG, JPEG, WebP or GIF image$/,
    );
    const real = await upload(owner, "real.png", PNG, "image/png");
    assert.match(
      await refusal(s, owner, { prompt: "x", model: "minimax-video-01", image_path: real.path }),
      /^image_path: minimax-video-01 does not take a start image$/,
    );
    const text = await upload(owner, "notes.txt", new TextEncoder().encode("hi"), "text/plain");
    assert.ok(text.error, "the bucket itself refuses other types");
    const [row] = await s.sql<{ n: number }[]>`
    select count(*)::int as n from public.jobs where user_id = ${owner.userId}::uuid`;
    assert.equal(row?.n, 0, "nothing was written");
  },
);

e2eTest("stop the image-to-video stack", async () => {
  await stop();
});
