import assert from "node:assert/strict";
import { createInputResolver, InputRefError } from "./input_refs.ts";
import { memoryStorage } from "./testing/pipeline_fakes.ts";
import { USER_ID } from "./testing/fakes.ts";

const ENV = { SUPABASE_URL: "https://storage.test", PUBLIC_URL: undefined };
const bytes = new Uint8Array([1, 2, 3]);

Deno.test("storage references in the media fields become signed URLs, one signing per bucket", async () => {
  const mem = memoryStorage({
    [`inputs/${USER_ID}/a.png`]: bytes,
    [`videos/${USER_ID}/i.png`]: bytes,
    [`videos/${USER_ID}/n.wav`]: bytes,
  });
  const resolve = createInputResolver({ storage: mem.storage, env: ENV, seconds: 600 });
  const video = { prompt: "storage is a word", image_url: `storage://inputs/${USER_ID}/a.png` };
  assert.deepEqual(await resolve({ user_id: USER_ID, kind: "video", input: video }), {
    prompt: "storage is a word",
    image_url: `https://storage.test/inputs/${USER_ID}/a.png`,
  });
  const compose = {
    tracks: [
      { keyframes: [{ url: `storage://videos/${USER_ID}/i.png`, timestamp: 0 }] },
      { keyframes: [{ url: `storage://videos/${USER_ID}/n.wav`, timestamp: 0 }] },
    ],
  };
  assert.deepEqual(await resolve({ user_id: USER_ID, kind: "compose", input: compose }), {
    tracks: [
      { keyframes: [{ url: `https://storage.test/videos/${USER_ID}/i.png`, timestamp: 0 }] },
      { keyframes: [{ url: `https://storage.test/videos/${USER_ID}/n.wav`, timestamp: 0 }] },
    ],
  });
  assert.deepEqual(mem.signed.map((s) => [s.bucket, s.paths.length, s.expiresIn]), [
    ["inputs", 1, 600],
    ["videos", 2, 600],
  ]);
  assert.equal(
    video.image_url,
    `storage://inputs/${USER_ID}/a.png`,
    "the job's input is not changed",
  );
});

Deno.test("a storage reference outside the media fields is sent as text and nothing is signed", async () => {
  const mem = memoryStorage({
    [`inputs/${USER_ID}/a.png`]: bytes,
    "inputs/templates/secret.png": bytes,
  });
  const resolve = createInputResolver({ storage: mem.storage, env: ENV });
  const ref = `storage://inputs/${USER_ID}/a.png`;
  const inputs: [string, Record<string, unknown>][] = [
    ["video", { prompt: ref, negative_prompt: "storage://inputs/templates/secret.png" }],
    ["image", { prompt: ref, image_url: ref }],
    ["audio", { text: ref }],
    ["compose", { tracks: [{ id: ref, keyframes: [{ url: "https://x.test/a.png" }] }] }],
  ];
  for (const [kind, input] of inputs) {
    assert.deepEqual(await resolve({ user_id: USER_ID, kind, input }), input, kind);
  }
  assert.equal(mem.signed.length, 0);
});

Deno.test("a reference outside the owner's folder is refused for good, before anything is signed", async () => {
  const mem = memoryStorage({ "videos/someone-else/x.mp4": bytes });
  const resolve = createInputResolver({ storage: mem.storage, env: ENV });
  for (
    const ref of ["storage://videos/someone-else/x.mp4", `storage://inputs/${USER_ID}/../x/y.png`]
  ) {
    await assert.rejects(
      resolve({ user_id: USER_ID, kind: "video", input: { image_url: ref } }),
      InputRefError,
    );
  }
  assert.equal(mem.signed.length, 0);
});

Deno.test("template images are shared; a file that is gone is refused for good", async () => {
  const mem = memoryStorage({ "inputs/templates/shoe.png": bytes });
  const resolve = createInputResolver({ storage: mem.storage, env: ENV });
  const ok = await resolve({
    user_id: USER_ID,
    kind: "video",
    input: { image_url: "storage://inputs/templates/shoe.png" },
  });
  assert.equal(ok.image_url, "https://storage.test/inputs/templates/shoe.png");
  await assert.rejects(
    resolve({
      user_id: USER_ID,
      kind: "video",
      input: { image_url: `storage://inputs/${USER_ID}/gone.png` },
    }),
    (e: Error) => e instanceof InputRefError && /no longer in Storage/.test(e.message),
  );
});

Deno.test("with PUBLIC_URL (a tunnel), fal gets URLs it can reach", async () => {
  const mem = memoryStorage({ [`inputs/${USER_ID}/a.png`]: bytes });
  const resolve = createInputResolver({
    storage: mem.storage,
    env: { SUPABASE_URL: "https://storage.test", PUBLIC_URL: "https://tunnel.example" },
  });
  const out = await resolve({
    user_id: USER_ID,
    kind: "video",
    input: { image_url: `storage://inputs/${USER_ID}/a.png` },
  });
  assert.equal(out.image_url, `https://tunnel.example/inputs/${USER_ID}/a.png`);
});
