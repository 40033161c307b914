/**
 * Every function resolves the way `supabase functions deploy` packages it: its entry point, the
 * files it reaches and its own deno.json as the only import map (the repository's root deno.json
 * is never uploaded), under the Deno the hosted Edge Runtime embeds. Fails on a bare import the
 * map lacks, on a module outside `supabase/functions/`, and on one inside another function's
 * folder (functions never import each other; what they share lives in `_shared/`).
 */
import assert from "node:assert/strict";
import { edgeDeno, edgeDenoEnv } from "../../dev/gateway/functions/edge_deno.ts";
import { configFlags } from "../../dev/gateway/functions/import_map.ts";

const FUNCTIONS = decodeURIComponent(new URL("../../supabase/functions", import.meta.url).pathname);

interface GraphModule {
  specifier: string;
  error?: string;
  dependencies?: { specifier: string; code?: { error?: string } }[];
}

async function functionNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(FUNCTIONS)) {
    if (!e.isDirectory || e.name.startsWith("_")) continue;
    try {
      await Deno.stat(`${FUNCTIONS}/${e.name}/index.ts`);
      names.push(e.name);
    } catch { /* not a function */ }
  }
  return names.sort();
}

/** Problems with one function's package, as the CLI would resolve it. */
async function packagingProblems(functionsDir: string, name: string): Promise<string[]> {
  const out = await new Deno.Command(await edgeDeno(), {
    args: [
      "info",
      "--json",
      "--no-lock",
      ...await configFlags(functionsDir, name),
      `${functionsDir}/${name}/index.ts`,
    ],
    cwd: "/",
    env: edgeDenoEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) return [`deno info failed: ${stderr.trim()}`];
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: GraphModule[] };
  const problems: string[] = [];
  const root = `file://${functionsDir}/`;
  for (const m of graph.modules) {
    if (m.error) problems.push(`${m.specifier}: ${m.error}`);
    for (const d of m.dependencies ?? []) {
      if (d.code?.error) problems.push(`${m.specifier} imports ${d.specifier}: ${d.code.error}`);
    }
    if (!m.specifier.startsWith("file:")) continue;
    if (!m.specifier.startsWith(root)) {
      problems.push(`${m.specifier} is outside ${functionsDir} (not uploaded)`);
      continue;
    }
    const folder = m.specifier.slice(root.length).split("/")[0];
    if (folder !== name && folder !== "_shared") {
      problems.push(`${m.specifier} belongs to the function ${folder}`);
    }
  }
  return problems;
}

Deno.test("every function resolves from its own deno.json alone, as deploy packages it", async () => {
  const names = await functionNames();
  assert.ok(names.length >= 6, `found ${names.join(", ")}`);
  for (const name of names) {
    const flags = await configFlags(FUNCTIONS, name);
    assert.deepEqual(flags, ["--config", `${FUNCTIONS}/${name}/deno.json`], name);
    assert.deepEqual(await packagingProblems(FUNCTIONS, name), [], name);
  }
});

Deno.test("the packaging check fails on an unmapped import and on another function's file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vq-packaging-" });
  try {
    const write = async (path: string, text: string) => {
      await Deno.mkdir(`${dir}/${path.replace(/\/[^/]+$/, "")}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/${path}`, text);
    };
    await write("other/schema.ts", "export const x = 1;\n");
    await write("bad/deno.json", '{ "imports": {} }\n');
    await write(
      "bad/index.ts",
      'import { z } from "zod";\nimport { x } from "../other/schema.ts";\nconsole.log(z, x);\n',
    );
    const problems = await packagingProblems(dir, "bad");
    assert.ok(problems.some((p) => p.includes('"zod"') || p.includes("zod")), problems.join("\n"));
    await write("bad/index.ts", 'import { x } from "../other/schema.ts";\nconsole.log(x);\n');
    const crossing = await packagingProblems(dir, "bad");
    assert.ok(crossing.some((p) => p.includes("belongs to the function other")), crossing.join());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every function pins the same versions as the repository's tools", async () => {
  const root = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  ) as { imports: Record<string, string> };
  for (const name of await functionNames()) {
    const own = JSON.parse(await Deno.readTextFile(`${FUNCTIONS}/${name}/deno.json`)) as {
      imports: Record<string, string>;
    };
    for (const [bare, target] of Object.entries(own.imports)) {
      assert.equal(target, root.imports[bare], `${name}: ${bare}`);
    }
  }
});
