/** Unit tests of runtime config loading. */
import assert from "node:assert/strict";
import { ConfigError, loadConfig, parseConfig } from "./config.ts";

Deno.test("config.json gives the Supabase URL (trailing slash removed) and anon key", () => {
  assert.deepEqual(
    parseConfig({ supabaseUrl: "https://abc.supabase.co/", anonKey: "key", extra: 1 }),
    { supabaseUrl: "https://abc.supabase.co", anonKey: "key" },
  );
});

Deno.test("a config without URL or key, or with a non-http URL, is refused with a fix", () => {
  assert.throws(() => parseConfig({ supabaseUrl: "https://x" }), ConfigError);
  assert.throws(() => parseConfig(null), /supabaseUrl/);
  assert.throws(() => parseConfig({ supabaseUrl: "ftp://x", anonKey: "k" }), /http/);
});

Deno.test("a missing config.json explains where to put one", async () => {
  const notFound = () => Promise.resolve(new Response("nope", { status: 404 }));
  await assert.rejects(loadConfig(notFound), /HTTP 404.*config\.json/s);
  const ok = () =>
    Promise.resolve(Response.json({ supabaseUrl: "http://127.0.0.1:54321", anonKey: "a" }));
  assert.equal((await loadConfig(ok)).supabaseUrl, "http://127.0.0.1:54321");
});
