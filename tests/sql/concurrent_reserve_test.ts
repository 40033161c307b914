/**
 * Credits under concurrency: 50 job_create calls from one user on 50 connections, released at
 * once, never overdraw the account; idempotent submits racing with the same key make one job.
 */
import assert from "node:assert/strict";
import { freshDatabase, type Sql } from "../harness/db.ts";
import { startTogether } from "./start_together.ts";

async function setUp(sql: Sql): Promise<string> {
  const user = crypto.randomUUID();
  await sql`insert into public.settings (key, value) values ('free_credits_user', '100')
    on conflict (key) do update set value = excluded.value`;
  await sql`insert into public.models (id, endpoint_id, kind, title)
    values ('t-video', 'fal-ai/test/video', 'video', 'Test video')`;
  await sql`insert into auth.users (id, email) values (${user}, ${user + "@example.com"})`;
  return user;
}

Deno.test("50 concurrent reserves never overdraw: 14 of 7 credits fit in 100", async () => {
  await using db = await freshDatabase();
  const user = await setUp(db.sql);

  const outcomes = await startTogether({ url: db.url, count: 50 }, async (tx, i) => {
    const [row] = await tx<{ id: string }[]>`
      select (c.job).id from vidqueue.job_create(${user}, 'video', 't-video',
        ${tx.json({ prompt: `clip ${i}` })}, 7, 0, null, null) c`;
    return row?.id;
  });

  const accepted = outcomes.filter((o) => o.status === "fulfilled");
  const refused = outcomes.filter((o) => o.status === "rejected");
  assert.equal(accepted.length, 14);
  assert.equal(refused.length, 36);
  for (const r of refused) {
    assert.equal((r as PromiseRejectedResult).reason?.code, "VQ402");
  }
  const [account] = await db.sql<{ available: number; reserved: number }[]>`
    select available, reserved from public.credit_accounts where user_id = ${user}`;
  assert.deepEqual({ ...account }, { available: 2, reserved: 98 });
  const [counts] = await db.sql<{ jobs: number; reserves: number }[]>`
    select (select count(*)::int from public.jobs where user_id = ${user}) as jobs,
      (select count(*)::int from public.credit_ledger
        where user_id = ${user} and kind = 'reserve') as reserves`;
  assert.deepEqual({ ...counts }, { jobs: 14, reserves: 14 });
});

Deno.test("20 concurrent submits with one idempotency key create one job, charged once", async () => {
  await using db = await freshDatabase();
  const user = await setUp(db.sql);

  const outcomes = await startTogether({ url: db.url, count: 20 }, async (tx) => {
    const [row] = await tx<{ id: string; replayed: boolean }[]>`
      select (c.job).id, c.replayed from vidqueue.job_create(${user}, 'video', 't-video',
        ${tx.json({ prompt: "same" })}, 10, 0, 'key-1', 'hash-1') c`;
    return row;
  });

  const rows = outcomes.map((o) => {
    assert.equal(o.status, "fulfilled");
    return (o as PromiseFulfilledResult<{ id: string; replayed: boolean } | undefined>).value;
  });
  assert.equal(new Set(rows.map((r) => r?.id)).size, 1);
  assert.equal(rows.filter((r) => r?.replayed === false).length, 1);
  const [account] = await db.sql<{ available: number }[]>`
    select available from public.credit_accounts where user_id = ${user}`;
  assert.equal(account?.available, 90);
});
