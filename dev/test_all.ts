/**
 * `deno task test`: installs what the tests need, starts one throw-away PostgreSQL cluster with
 * the shim and the project's migrations (a migrated template database the tests clone), runs
 * pgTAP (dev/shim/tests and supabase/tests/database), `supabase db lint`, then every Deno test.
 * Extra arguments are passed to `deno test` (e.g. a file to run alone).
 */
import { installDeps } from "./install_deps.ts";
import { freeStackPort } from "./ports.ts";
import { startStack } from "./stack.ts";
import { dbLint, PROJECT_ROOT } from "./supabase_cli.ts";
import { createTemplate, TEMPLATE_DB } from "../tests/harness/db.ts";

const started = performance.now();
await installDeps((line) => console.log(`[deps] ${line}`));

const localDir = await Deno.makeTempDir({ prefix: "vidqueue-test-" });
if (Deno.uid() === 0) await Deno.chmod(localDir, 0o755);
const stack = await startStack({
  stackPort: freeStackPort(),
  localDir,
  // This stack only hosts the template database and pgTAP; tests start their own stacks.
  env: { RECONCILE_INTERVAL_S: "0" },
  log: (line) => console.log(`[test-db] ${line}`),
});

let failed = 0;
let passed = 0;
try {
  await createTemplate(stack);
  const env = {
    VQ_TEST_SUPERUSER_URL: stack.superuserUrl(TEMPLATE_DB),
    VQ_TEST_POSTGRES_URL: stack.postgresUrl(TEMPLATE_DB),
  };
  const pgtapDirs = ["dev/shim/tests", "supabase/tests/database"];
  const pgtap = await runStep("pgTAP", "pg_prove", [
    "--dbname",
    stack.superuserUrl("postgres"),
    "--ext",
    ".sql",
    "-r",
    ...pgtapDirs,
  ]);
  const lint = await dbLint(stack.info.dbUrl, ["public", "vidqueue"]).then(
    () => (console.log("== supabase db lint: clean"), true),
    (e: unknown) => (console.error(`== supabase db lint failed\n${e}`), false),
  );
  lint ? passed++ : failed++;
  const deno = await runStep("deno test", Deno.execPath(), [
    "test",
    "-A",
    "--permit-no-files",
    ...Deno.args,
  ], env);
  for (const step of [pgtap, deno]) step ? passed++ : failed++;
} finally {
  await stack.stop();
  await Deno.remove(localDir, { recursive: true }).catch(() => {});
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`suite time: ${seconds}s`);
console.log(`suites: ${passed} passed, ${failed} failed`);
Deno.exit(failed ? 1 : 0);

async function runStep(
  name: string,
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<boolean> {
  console.log(`== ${name}`);
  const child = new Deno.Command(cmd, {
    args,
    cwd: PROJECT_ROOT,
    env,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const { code } = await child.status;
  console.log(`== ${name}: ${code === 0 ? "ok" : `failed (exit ${code})`}`);
  return code === 0;
}
