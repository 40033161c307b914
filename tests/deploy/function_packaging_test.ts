/**
 * The functions as `supabase functions deploy` packages them: each resolved with nothing but the
 * import map the CLI uploads with it, under the Deno of hosted Supabase's Edge Runtime; and the
 * gateway runs them with exactly that, so a function that cannot deploy cannot boot here either.
 */
import assert from "node:assert/strict";
import { EDGE_DENO_VERSION } from "../../dev/gateway/functions/edge_deno.ts";
import { PROJECT_ROOT } from "../../dev/supabase_cli.ts";
import { startTestStack } from "../harness/stack.ts";
import { checkPackaging } from "./packaging.ts";
import { writeFunctions } from "./temp_functions.ts";

const FUNCTIONS_DIR = `${PROJECT_ROOT}/supabase/functions`;
const ROOT_IMPORTS = (JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/deno.json`)) as {
  imports: Record<string, string>;
}).imports;

async function functionNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isDirectory || entry.name.startsWith("_")) continue;
    try {
      await Deno.stat(`${dir}/${entry.name}/index.ts`);
      names.push(entry.name);
    } catch { /* not a function */ }
  }
  return names.sort();
}

Deno.test("every function resolves with its own deno.json alone, as the CLI deploys it", async () => {
  const names = await functionNames(FUNCTIONS_DIR);
  assert.ok(names.length >= 6, `found ${names.join(", ")}`);
  for (const name of names) {
    const report = await checkPackaging(FUNCTIONS_DIR, name, ROOT_IMPORTS);
    assert.equal(report.importMap, `${FUNCTIONS_DIR}/${name}/deno.json`, name);
    assert.deepEqual(report.problems, [], `${name} would not deploy as it runs here`);
    assert.ok(report.files.includes(`${name}/index.ts`), name);
  }
});

Deno.test("the packaging check catches missing, cross-function and outside imports", async () => {
  await using project = await writeFunctions({
    "lacking/index.ts": 'import { z } from "zod";\nexport const s = z.string();\n',
    "lacking/deno.json": JSON.stringify({ imports: { postgres: "npm:postgres@3.4.9" } }),
    "unmapped/index.ts": 'import { z } from "zod";\nexport const s = z.string();\n',
    "borrower/index.ts": 'export { value } from "../lender/value.ts";\n',
    "lender/index.ts": 'export { value } from "./value.ts";\n',
    "lender/value.ts": "export const value = 1;\n",
    "stray/index.ts": `export { PROJECT_ROOT } from "${PROJECT_ROOT}/dev/supabase_cli.ts";\n`,
    "pinned/index.ts": 'import { z } from "zod";\nexport const s = z.string();\n',
    "pinned/deno.json": JSON.stringify({ imports: { zod: "npm:zod@4.0.0" } }),
  });
  const fns = project.functionsDir;
  const problems = async (name: string) =>
    (await checkPackaging(fns, name, ROOT_IMPORTS)).problems.join("\n");
  const unresolved = /imports "zod": Relative import path "zod" not prefixed/;
  assert.match(await problems("lacking"), unresolved);
  assert.match(await problems("lacking"), /"postgres" is never used/);
  assert.match(await problems("unmapped"), unresolved);
  assert.match(await problems("borrower"), /lender\/value\.ts belongs to function lender/);
  assert.match(await problems("stray"), /dev\/supabase_cli\.ts is outside the functions folder/);
  assert.match(await problems("pinned"), /"zod" is npm:zod@4\.0\.0 here but npm:zod@4\.6\.7/);
  assert.equal(await problems("lender"), "");
});

Deno.test("the gateway runs a function with its own configuration only, under the platform's Deno", async () => {
  // Inside the repository, where Deno would find the root deno.json (and its imports) if the
  // gateway let it look for a configuration.
  await using project = await writeFunctions({
    "no-map/index.ts":
      'import { z } from "zod";\nDeno.serve(() => new Response(z.string().parse("ok")));\n',
    "short-map/index.ts":
      'import { z } from "zod";\nDeno.serve(() => new Response(z.string().parse("ok")));\n',
    "short-map/deno.json": JSON.stringify({ imports: { postgres: "npm:postgres@3.4.9" } }),
    "full-map/index.ts": [
      'import { z } from "zod";',
      "Deno.serve(() => Response.json({",
      '  answer: z.string().parse("ok"),',
      "  deno: Deno.version.deno,",
      "  toBase64: typeof (Uint8Array.prototype as { toBase64?: unknown }).toBase64,",
      "}));",
    ].join("\n"),
    "full-map/deno.json": JSON.stringify({ imports: { zod: "npm:zod@4.6.7" } }),
  }, { parent: `${PROJECT_ROOT}/.local/tmp` });
  await using stack = await startTestStack({ functionsDir: project.functionsDir });
  const base = `${stack.info.supabaseUrl}/functions/v1`;

  for (const name of ["no-map", "short-map"]) {
    const res = await fetch(`${base}/${name}`);
    assert.equal(res.status, 503, `${name} must not boot`);
    assert.deepEqual(await res.json(), {
      code: "BOOT_ERROR",
      message: "Worker failed to boot (please check logs)",
    });
  }
  const ok = await fetch(`${base}/full-map`);
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), {
    answer: "ok",
    deno: EDGE_DENO_VERSION,
    // Newer Deno has Uint8Array.prototype.toBase64; the platform's does not, nor does the stack.
    toBase64: "undefined",
  });
});
