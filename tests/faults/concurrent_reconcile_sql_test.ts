/**
 * The reconciler's SQL under concurrency, on separate connections released at once: concurrent
 * vidqueue.reconcile_claim calls (overlapping pg_cron runs, the dev timer, a manual call) never
 * lease the same job twice, and concurrent dispatchers never push today's spend past the daily
 * credit cap by more than the one job the soft cap allows.
 */
import assert from "node:assert/strict";
import { freshDatabase, type Sql } from "../harness/db.ts";
import { startTogether } from "../sql/start_together.ts";

async function seedUser(sql: Sql): Promise<string> {
  const user = crypto.randomUUID();
  await sql`insert into public.settings (key, value) values ('free_credits_user', '100000')
    on conflict (key) do update set value = excluded.value`;
  await sql`insert into auth.users (id, email) values (${user}, ${user + "@example.com"})`;
  await sql`insert into public.models (id, endpoint_id, kind, title, expected_seconds)
    values ('t-video', 'fal-ai/test/video', 'video', 'Test video', 10) on conflict do nothing`;
  return user;
}

async function queue(sql: Sql, user: string, n: number, cost: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await sql`select vidqueue.job_create(${user}::uuid, 'video', 't-video',
      ${sql.json({ prompt: `j${i}` })}, ${cost}::int, 0, null, null)`;
  }
}

Deno.test("concurrent reconcile runs never lease the same job twice", async () => {
  await using db = await freshDatabase();
  const user = await seedUser(db.sql);
  await queue(db.sql, user, 40, 1);
  // 40 jobs at fal whose news is older than any grace period.
  await db.sql`select vidqueue.job_claim(100, 100, 100)`;
  await db.sql`
    select vidqueue.job_submitted(id, 'req-' || id::text) from public.jobs
    where dispatching_at is not null`;
  await db.sql`update public.jobs set updated_at = now() - interval '1 hour'`;

  const outcomes = await startTogether({ url: db.url, count: 12 }, async (tx) => {
    const rows = await tx<{ id: string }[]>`
      select job ->> 'id' as id from vidqueue.reconcile_claim(2, 2, 10)`;
    return rows.map((r) => r.id);
  });
  const leased = outcomes.flatMap((o) => {
    assert.equal(o.status, "fulfilled", o.status === "rejected" ? String(o.reason) : "");
    return (o as PromiseFulfilledResult<string[]>).value;
  });
  assert.equal(new Set(leased).size, leased.length, "no job is leased twice");
  assert.ok(leased.length > 0, "jobs were leased");
  const [counts] = await db.sql<{ leased: number; checks: number }[]>`
    select count(*) filter (where reconcile_checks > 0)::int as leased,
      coalesce(max(reconcile_checks), 0)::int as checks from public.jobs`;
  assert.deepEqual(counts, { leased: leased.length, checks: 1 });

  // Once leased, a job is not handed out again until its backoff has passed.
  const again = await db.sql`select 1 from vidqueue.reconcile_claim(2, 2, 100) r
    where r.job ->> 'id' = any(${leased}::text[])`;
  assert.equal(again.length, 0);
});

Deno.test("concurrent dispatchers stop at the daily credit cap (soft by one job)", async () => {
  await using db = await freshDatabase();
  const user = await seedUser(db.sql);
  await queue(db.sql, user, 30, 10);
  await db.sql`insert into public.settings (key, value) values ('daily_credit_cap', '95')
    on conflict (key) do update set value = excluded.value`;

  const outcomes = await startTogether({ url: db.url, count: 10 }, async (tx) => {
    const rows = await tx<{ id: string }[]>`select id from vidqueue.job_claim(100, null, 3)`;
    return rows.map((r) => r.id);
  });
  const claimed = outcomes.flatMap((o) => {
    assert.equal(o.status, "fulfilled", o.status === "rejected" ? String(o.reason) : "");
    return (o as PromiseFulfilledResult<string[]>).value;
  });
  assert.equal(new Set(claimed).size, claimed.length, "no job is claimed twice");
  assert.equal(claimed.length, 10, "claims go on while below 95 credits: 10 jobs of 10");
  const [status] = await db.sql<{ spent: number; cap: number }[]>`
    select spent, cap from vidqueue.daily_cap_status()`;
  assert.deepEqual(status, { spent: 100, cap: 95 });
  const [waiting] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from public.jobs where status = 'queued' and dispatching_at is null`;
  assert.equal(waiting?.n, 20, "the rest wait queued");
});
