import assert from "node:assert/strict";
import { normalizeInputPath, snapshotPaths, sniffImageType } from "./input_images.ts";
import { AppError } from "./errors.ts";

Deno.test("image types are recognised by their first bytes, not by their name", () => {
  const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
  assert.equal(
    sniffImageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    "image/png",
  );
  assert.equal(sniffImageType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), "image/jpeg");
  assert.equal(sniffImageType(new Uint8Array(ascii("GIF89a"))), "image/gif");
  assert.equal(
    sniffImageType(new Uint8Array([...ascii("RIFF"), 0, 0, 0, 0, ...ascii("WEBP")])),
    "image/webp",
  );
  assert.equal(
    sniffImageType(new Uint8Array([...ascii("RIFF"), 0, 0, 0, 0, ...ascii("WAVE")])),
    null,
  );
  assert.equal(sniffImageType(new TextEncoder().encode("<svg xmlns=")), null);
});

Deno.test("image paths stay inside the bucket", () => {
  assert.equal(normalizeInputPath("inputs/u/a.png"), "u/a.png");
  assert.equal(normalizeInputPath(" u/a.png "), "u/a.png");
  for (const bad of ["", "/u/a.png", "u/../v/a.png", "u//a.png", "u\\a.png", "./a.png"]) {
    assert.throws(() => normalizeInputPath(bad), AppError, bad);
  }
});

Deno.test("only snapshot references are discarded, never a user's upload or a template image", () => {
  assert.deepEqual(
    snapshotPaths([
      "storage://inputs/u1/.snapshots/s/a.png",
      "storage://inputs/u1/a.png",
      "storage://inputs/templates/shoe.png",
      "storage://videos/u1/.snapshots/x.mp4",
      "storage://inputs/u1/x/.snapshots/b.png",
    ]),
    ["u1/.snapshots/s/a.png"],
  );
});
