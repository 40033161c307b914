/** Unit tests of hash routing. */
import assert from "node:assert/strict";
import { routeFromHash } from "./router.ts";

Deno.test("hashes map to pages, anything unknown to Generate", () => {
  assert.equal(routeFromHash("#/library"), "library");
  assert.equal(routeFromHash("#library"), "library");
  assert.equal(routeFromHash("#/account?x=1"), "account");
  assert.equal(routeFromHash(""), "generate");
  assert.equal(routeFromHash("#/nope"), "generate");
});
