/** Reading config.toml: the subset the gateway needs, with Supabase's defaults. */
import assert from "node:assert/strict";
import { parseSize, parseToml, projectConfigFrom } from "./project_config.ts";

Deno.test("verify_jwt is read per function and defaults to true", () => {
  const config = projectConfigFrom(`
    [functions.open-one]
    verify_jwt = false # comment after a value
    [functions."quoted"]
    verify_jwt = false
    [functions.closed]
    verify_jwt = true
  `);
  assert.equal(config.verifyJwt("open-one"), false);
  assert.equal(config.verifyJwt("quoted"), false);
  assert.equal(config.verifyJwt("closed"), true);
  assert.equal(config.verifyJwt("unlisted"), true);
});

Deno.test("auth and storage settings fall back to Supabase's defaults", () => {
  const empty = projectConfigFrom("");
  assert.equal(empty.auth.jwtExpiry, 3600);
  assert.equal(empty.storage.fileSizeLimit, 50 * 1024 * 1024);
  const set = projectConfigFrom(`
    [auth]
    jwt_expiry = 600
    enable_anonymous_sign_ins = true
    additional_redirect_urls = [
      "https://a", # multi-line array
      "https://b",
    ]
    [storage]
    file_size_limit = "5MiB"
  `);
  assert.equal(set.auth.jwtExpiry, 600);
  assert.equal(set.auth.enableAnonymousSignIns, true);
  assert.equal(set.storage.fileSizeLimit, 5 * 1024 * 1024);
  assert.deepEqual(parseToml(`[auth]\nx = ["a", "b#c"]`).get("auth")?.x, ["a", "b#c"]);
});

Deno.test("sizes parse like the Supabase CLI's", () => {
  assert.equal(parseSize("500KB", 0), 500 * 1024);
  assert.equal(parseSize("1GB", 0), 1024 ** 3);
  assert.equal(parseSize("3B", 0), 3);
  assert.equal(parseSize(42, 0), 42);
  assert.equal(parseSize("lots", 7), 7);
});
