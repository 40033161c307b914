/**
 * The README's configuration table and the settings the functions read are the same set: every
 * name in `_shared/env.ts`'s schema, in any other env schema of a file that reads `Deno.env`, and
 * in any literal `Deno.env.get("…")` under supabase/functions (SUPABASE_* are the platform's and
 * excluded) has a row, and every row names one of them, except the rows under "Dev stack only",
 * which must name something the dev stack (dev/) reads instead.
 */
import assert from "node:assert/strict";
import { readme, ROOT, section, tableRows } from "./readme.ts";

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield path;
  }
}

/** UPPER_CASE keys of every `z.object({…})` in `text`. */
function schemaKeys(text: string): string[] {
  const keys: string[] = [];
  for (const m of text.matchAll(/z\.object\(\{([\s\S]*?)\n\}\)/g)) {
    for (const k of m[1]!.matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)) keys.push(k[1]!);
  }
  return keys;
}

/** What the functions read from their environment, SUPABASE_* left out. */
async function functionSettings(): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const path of sourceFiles(`${ROOT}supabase/functions`)) {
    const text = await Deno.readTextFile(path);
    if (!text.includes("Deno.env")) continue;
    for (const m of text.matchAll(/Deno\.env\.get\(\s*["'`]([A-Z0-9_]+)["'`]\s*\)/g)) {
      names.add(m[1]!);
    }
    // A file that reads Deno.env by computed name reads the keys of its schema.
    if (/Deno\.env\.get\(\s*[a-z]/.test(text)) {
      const keys = schemaKeys(text);
      assert.ok(keys.length > 0, `${path} reads Deno.env by name but has no env schema`);
      for (const k of keys) names.add(k);
    }
    assert.ok(!/Deno\.env\.toObject\(\)/.test(text), `${path} reads the whole environment`);
  }
  return new Set([...names].filter((n) => !n.startsWith("SUPABASE_")));
}

/** The backticked names of the first cell of each configuration row, by table. */
async function documented(): Promise<{ functions: Set<string>; dev: Set<string> }> {
  const rows = tableRows(section(await readme(), "Configuration"));
  const functions = new Set<string>();
  const dev = new Set<string>();
  for (const row of rows) {
    const names = [...row.cells[0]!.matchAll(/`([A-Z][A-Z0-9_]*\*?)`/g)].map((m) => m[1]!);
    assert.ok(names.length > 0, `a configuration row names no variable: ${row.cells.join(" | ")}`);
    for (const n of names) (/dev stack only/i.test(row.heading) ? dev : functions).add(n);
  }
  return { functions, dev };
}

Deno.test("every setting the functions read is in the README's configuration table", async () => {
  const read = await functionSettings();
  const { functions } = await documented();
  // Sanity: the parser found the schema (these are read today).
  for (const n of ["FAL_KEY", "ALLOW_INSECURE_MEDIA", "WEBHOOK_GRACE_S", "RECONCILE_BATCH"]) {
    assert.ok(read.has(n), `the parser found ${n}`);
  }
  const missing = [...read].filter((n) => !functions.has(n)).sort();
  assert.deepEqual(missing, [], `read by the functions but not in the README: ${missing}`);
});

Deno.test("every row of the configuration table is read by the functions (or is dev-only)", async () => {
  const read = await functionSettings();
  const { functions, dev } = await documented();
  const stale = [...functions].filter((n) => !read.has(n)).sort();
  assert.deepEqual(stale, [], `in the README but read by no function: ${stale}`);
  const devSources: string[] = [];
  for await (const path of sourceFiles(`${ROOT}dev`)) {
    devSources.push(await Deno.readTextFile(path));
  }
  const all = devSources.join("\n");
  for (const n of dev) {
    assert.ok(!read.has(n), `${n} is read by the functions: it belongs in the main table`);
    const needle = n.endsWith("*") ? n.slice(0, -1) : n;
    assert.ok(all.includes(needle), `dev-only ${n} is read nowhere under dev/`);
  }
});
