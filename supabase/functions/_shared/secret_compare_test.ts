import assert from "node:assert/strict";
import { secretsMatch } from "./secret_compare.ts";

Deno.test("the configured secret matches itself and nothing else", async () => {
  const secret = "s3cret-0123456789abcdef";
  assert.equal(await secretsMatch(secret, secret), true);
  assert.equal(await secretsMatch(secret + "x", secret), false);
  assert.equal(await secretsMatch(secret.slice(0, -1), secret), false);
  assert.equal(await secretsMatch(secret.toUpperCase(), secret), false);
  assert.equal(await secretsMatch(" " + secret, secret), false);
});

Deno.test("a missing or empty secret never matches, even an empty configured one", async () => {
  assert.equal(await secretsMatch(null, "configured-secret-value"), false);
  assert.equal(await secretsMatch(undefined, "configured-secret-value"), false);
  assert.equal(await secretsMatch("", "configured-secret-value"), false);
  assert.equal(await secretsMatch("", ""), false);
  assert.equal(await secretsMatch("anything", undefined), false);
});
