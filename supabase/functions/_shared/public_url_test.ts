/** Signed URLs for clients move onto PUBLIC_URL; everything else stays where it is. */
import assert from "node:assert/strict";
import type { StorageApi } from "./media_copy.ts";
import { toPublicUrl, withPublicSignedUrls } from "./public_url.ts";

const DOCKER = { SUPABASE_URL: "http://kong:8000", PUBLIC_URL: "http://127.0.0.1:54321" };

Deno.test("a URL on SUPABASE_URL moves onto PUBLIC_URL, others do not", () => {
  assert.equal(
    toPublicUrl("http://kong:8000/storage/v1/object/sign/videos/u/a.mp4?token=t", DOCKER),
    "http://127.0.0.1:54321/storage/v1/object/sign/videos/u/a.mp4?token=t",
  );
  assert.equal(toPublicUrl("http://kong:80001/x", DOCKER), "http://kong:80001/x");
  assert.equal(toPublicUrl("https://cdn.example/x", DOCKER), "https://cdn.example/x");
  const hosted = { SUPABASE_URL: "https://abc.supabase.co", PUBLIC_URL: undefined };
  assert.equal(toPublicUrl("https://abc.supabase.co/x", hosted), "https://abc.supabase.co/x");
});

Deno.test("signed URLs for clients are on PUBLIC_URL, missing objects stay null", async () => {
  const storage = {
    sign: (_bucket: string, paths: string[]) =>
      Promise.resolve(paths.map((p) => p === "gone" ? null : `http://kong:8000/storage/v1/${p}`)),
  } as unknown as StorageApi;
  const signed = await withPublicSignedUrls(storage, DOCKER).sign("videos", ["a", "gone"], 60);
  assert.deepEqual(signed, ["http://127.0.0.1:54321/storage/v1/a", null]);
  assert.equal(withPublicSignedUrls(storage, { ...DOCKER, PUBLIC_URL: undefined }), storage);
});
