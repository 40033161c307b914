import assert from "node:assert/strict";
import { bucketSizeLimit, isValidBucketName, isValidKey, parseFileSizeToBytes } from "./limits.ts";

Deno.test("bucket size strings are decimal units with three significant digits", () => {
  assert.equal(parseFileSizeToBytes("20mb"), 20_000_000);
  assert.equal(parseFileSizeToBytes("1.5GB"), 1_500_000_000);
  assert.equal(parseFileSizeToBytes("30KB"), 30_000);
  assert.equal(parseFileSizeToBytes("3B"), 3);
  assert.equal(parseFileSizeToBytes("1234MB"), 1_230_000_000);
  assert.throws(() => parseFileSizeToBytes("20MiB"), /Invalid file size format/);
});

Deno.test("a bucket limit is bytes, a size string or null, and never above the project's", () => {
  assert.equal(bucketSizeLimit(undefined, 100), undefined);
  assert.equal(bucketSizeLimit(null, 100), null);
  assert.equal(bucketSizeLimit(100, 100), 100);
  assert.equal(bucketSizeLimit("0.1kb", 100), 100);
  assert.throws(() => bucketSizeLimit(101, 100), /exceeded the maximum allowed size/);
  assert.throws(() => bucketSizeLimit(-1, 100), /body\/file_size_limit must be >= 0/);
  assert.throws(() => bucketSizeLimit("5 MB", 1e9), /must match pattern/);
});

Deno.test("keys and bucket names use Storage's character sets", () => {
  assert.ok(isValidKey("user/folder (1)/a+b=c@d;e:f,g?h&i$j!k*l'm.txt"));
  assert.ok(!isValidKey("caf\u00e9.txt"));
  assert.ok(!isValidKey("a#b"));
  assert.ok(!isValidKey("a/../b"));
  assert.ok(isValidBucketName("my bucket!"));
  assert.ok(!isValidBucketName("a/b"));
  assert.ok(!isValidBucketName("x".repeat(101)));
});
