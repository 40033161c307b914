/** A function's import map and Deno flags, chosen in the Supabase CLI's order. */
import assert from "node:assert/strict";
import { functionConfig, importMapOf } from "./function_config.ts";

async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "vq-fnconfig-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${path.replace(/\/[^/]+$/, "")}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${path}`, text);
  }
  return root;
}

Deno.test("the import map is chosen as supabase functions deploy chooses it", async () => {
  const root = await tree({
    "supabase/config.toml": '[functions.configured]\nimport_map = "./maps/custom.json"\n',
    "supabase/maps/custom.json": "{}",
    "supabase/functions/configured/index.ts": "",
    "supabase/functions/configured/deno.json": "{}",
    "supabase/functions/own/index.ts": "",
    "supabase/functions/own/deno.json": "{}",
    "supabase/functions/own/deno.jsonc": "{}",
    "supabase/functions/jsonc/index.ts": "",
    "supabase/functions/jsonc/deno.jsonc": "{}",
    "supabase/functions/legacy/index.ts": "",
    "supabase/functions/legacy/import_map.json": "{}",
    "supabase/functions/fallback/index.ts": "",
    "supabase/functions/import_map.json": "{}",
  });
  try {
    const fns = `${root}/supabase/functions`;
    assert.equal(importMapOf(fns, "configured"), `${root}/supabase/maps/custom.json`);
    assert.equal(importMapOf(fns, "own"), `${fns}/own/deno.json`);
    assert.equal(importMapOf(fns, "jsonc"), `${fns}/jsonc/deno.jsonc`);
    assert.equal(importMapOf(fns, "legacy"), `${fns}/legacy/import_map.json`);
    assert.equal(importMapOf(fns, "fallback"), `${fns}/import_map.json`);

    assert.deepEqual(functionConfig(fns, "own").denoArgs, ["--config", `${fns}/own/deno.json`]);
    assert.deepEqual(functionConfig(`${fns}/`, "jsonc").denoArgs, [
      "--config",
      `${fns}/jsonc/deno.jsonc`,
    ]);
    assert.deepEqual(functionConfig(fns, "legacy").denoArgs, [
      "--no-config",
      "--import-map",
      `${fns}/legacy/import_map.json`,
    ]);
    assert.deepEqual(functionConfig(fns, "configured").denoArgs, [
      "--no-config",
      "--import-map",
      `${root}/supabase/maps/custom.json`,
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a function without any import map runs with no config at all", async () => {
  const root = await tree({ "supabase/functions/bare/index.ts": "" });
  try {
    const config = functionConfig(`${root}/supabase/functions`, "bare");
    assert.equal(config.importMap, null);
    assert.deepEqual(config.denoArgs, ["--no-config"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
