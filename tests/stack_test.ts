/**
 * The local stack's database lifecycle: a restart keeps data, two stacks run side by side, and
 * stopping leaves no server behind.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { freeStackPort } from "../dev/ports.ts";
import { startStack } from "../dev/stack.ts";

async function tempLocalDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "vq-stack-" });
  if (Deno.uid() === 0) await Deno.chmod(dir, 0o755);
  return dir;
}

async function query<T>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end();
  }
}

Deno.test("a restarted stack keeps its data and its passwords", async () => {
  const localDir = await tempLocalDir();
  const stackPort = freeStackPort();
  try {
    const first = await startStack({ stackPort, localDir });
    try {
      await query(
        first.info.dbUrl,
        "create table public.kept (v text); insert into kept values ('x')",
      );
    } finally {
      await first.stop();
    }
    const second = await startStack({ stackPort, localDir });
    try {
      assert.equal(second.info.dbUrl, first.info.dbUrl);
      const rows = await query<{ v: string }>(second.info.dbUrl, "select v from public.kept");
      assert.deepEqual(rows.map((r) => r.v), ["x"]);
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(localDir, { recursive: true });
  }
});

Deno.test("two stacks with different STACK_PORT values run side by side", async () => {
  const dirs = [await tempLocalDir(), await tempLocalDir()];
  const a = await startStack({ stackPort: freeStackPort(), localDir: dirs[0] });
  try {
    const b = await startStack({ stackPort: freeStackPort(), localDir: dirs[1] });
    try {
      assert.notEqual(a.info.ports.postgres, b.info.ports.postgres);
      await query(a.info.dbUrl, "create table public.only_in_a (v int)");
      const inB = await query<{ n: number }>(
        b.info.dbUrl,
        "select count(*)::int as n from pg_tables where tablename = 'only_in_a'",
      );
      assert.equal(inB[0]?.n, 0);
      const info = JSON.parse(await Deno.readTextFile(`${dirs[1]}/stack.json`));
      assert.equal(info.dbUrl, b.info.dbUrl);
    } finally {
      await b.stop();
    }
  } finally {
    await a.stop();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stopping a stack stops its Postgres server", async () => {
  const localDir = await tempLocalDir();
  const stack = await startStack({ stackPort: freeStackPort(), localDir });
  await stack.stop();
  const sql = postgres(stack.info.dbUrl, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await assert.rejects(sql`select 1`);
  } finally {
    await sql.end();
    await Deno.remove(localDir, { recursive: true });
  }
});

/** Copies the checkout's files (tracked and new, not ignored ones) into `dest`. */
async function copyCheckout(dest: string): Promise<void> {
  const root = new URL("../", import.meta.url).pathname;
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: root,
    stdout: "piped",
  }).output();
  assert.equal(listed.code, 0, "git ls-files");
  for (const path of new TextDecoder().decode(listed.stdout).split("\0").filter(Boolean)) {
    const target = `${dest}/${path}`;
    await Deno.mkdir(target.replace(/\/[^/]+$/, ""), { recursive: true });
    try {
      await Deno.copyFile(`${root}${path}`, target);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // deleted but not yet committed
    }
  }
}

Deno.test("a stack starts from a checkout inside a 0700 directory, as in root's home", async () => {
  // A newcomer's `git clone` into /root (mode 700): the stack must not need the server's OS
  // user to reach the checkout. Run from a copy of this checkout, with its default .local/.
  const home = await Deno.makeTempDir({ prefix: "vq-home-" });
  await Deno.chmod(home, 0o700);
  const checkout = `${home}/vidqueue`;
  let dataDir: string | undefined;
  try {
    await copyCheckout(checkout);
    const script = `${home}/start.ts`;
    await Deno.writeTextFile(
      script,
      `import { startStack } from "${checkout}/dev/stack.ts";
const stack = await startStack({ stackPort: ${freeStackPort()} });
try {
  const res = await fetch(stack.info.supabaseUrl + "/functions/v1/video-jobs?models", {
    headers: { apikey: stack.info.publishableKey },
  });
  const models = await res.json();
  console.log(JSON.stringify({ dataDir: stack.cluster.dataDir, status: res.status, models }));
} finally {
  await stack.stop();
}
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", `${checkout}/deno.json`, script],
      cwd: checkout,
      env: { RECONCILE_INTERVAL_S: "0" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(240_000),
    }).output();
    const out = await child;
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, `${stdout}\n${new TextDecoder().decode(out.stderr)}`);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    dataDir = result.dataDir;
    assert.equal(result.status, 200, JSON.stringify(result.models));
    assert.ok(Array.isArray(result.models.models) && result.models.models.length > 0);
  } finally {
    await Deno.remove(home, { recursive: true });
    if (dataDir && !dataDir.startsWith(home)) await Deno.remove(dataDir, { recursive: true });
  }
});
