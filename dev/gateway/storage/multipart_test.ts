/** The multipart reader keeps the empty-named file part that storage-js sends. */
import assert from "node:assert/strict";
import { BodyTooLargeError, boundaryOf, parseMultipart, readBounded } from "./multipart.ts";

Deno.test('storage-js\'s form (file part named "") is parsed byte for byte', async () => {
  const form = new FormData();
  form.append("cacheControl", "3600");
  const bytes = new Uint8Array([0, 13, 10, 45, 45, 255, 1]);
  form.append("", new Blob([bytes], { type: "image/png" }));
  const req = new Request("http://x/", { method: "POST", body: form });
  const boundary = boundaryOf(req.headers.get("content-type")!);
  assert.ok(boundary);
  const parts = parseMultipart(await readBounded(req.body, 1 << 20), boundary);
  assert.equal(parts.length, 2);
  assert.equal(new TextDecoder().decode(parts[0]!.data), "3600");
  assert.equal(parts[1]!.name, "");
  assert.equal(parts[1]!.filename, "blob");
  assert.equal(parts[1]!.contentType, "image/png");
  assert.deepEqual([...parts[1]!.data], [...bytes]);
});

Deno.test("readBounded refuses bodies over the limit", async () => {
  const body = new Blob([new Uint8Array(100)]).stream();
  await assert.rejects(readBounded(body, 99), BodyTooLargeError);
});
