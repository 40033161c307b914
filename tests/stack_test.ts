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
