/** The web build: hashed assets that index.html links, and no backend address compiled in. */
import assert from "node:assert/strict";
import { buildWeb, isWebBuildStale, watchWeb } from "./build.ts";

Deno.test("the build links its hashed assets and compiles in no Supabase URL or key", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "vq-web-build-" });
  try {
    const result = await buildWeb({ outDir, check: false });
    const html = await Deno.readTextFile(`${outDir}/index.html`);
    assert.ok(html.includes(`src="assets/${result.script}"`));
    assert.ok(html.includes(`href="assets/${result.styles}"`));
    assert.match(result.script, /^app-[0-9a-f]{12}\.js$/);
    const script = await Deno.readTextFile(`${outDir}/assets/${result.script}`);
    assert.ok(script.includes("config.json"), "the app reads config.json at runtime");
    // (Not `assert.match`: its failure message would print half a megabyte of bundle.)
    assert.ok(!/https?:\/\/127\.0\.0\.1:\d+/.test(script), "no local stack URL compiled in");
    assert.ok(!/eyJhbGciOi[\w-]+\.[\w-]+\.[\w-]+/.test(script), "no JWT (anon key) compiled in");
    assert.ok(!/process\.env/.test(script), "no Node globals left for the browser");
    await Deno.stat(`${outDir}/assets/${result.styles}`);
    assert.equal(await isWebBuildStale(outDir), false, "a fresh build is not stale");
    assert.equal(await isWebBuildStale(`${outDir}/nothing-here`), true);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});

// Deno's resource sanitizer fails this test if the file watcher outlives the abort.
Deno.test("watchWeb releases its file watcher when aborted", async () => {
  const controller = new AbortController();
  const watching = watchWeb({ signal: controller.signal, outDir: "/nonexistent/never-built" });
  controller.abort();
  await watching;
});
