/**
 * The one lock order under load: while dispatchers claim jobs and drive them through fal's
 * answers (claim -> submitted -> in_progress -> finalizing -> completed, or failed), other
 * connections cancel many jobs at once (vidqueue.jobs_cancel), cancel batches (the parent
 * cascade) and cancel single jobs as an admin. Postgres must report no deadlock, no call may
 * fail, and the credits must add up afterwards. Bounded: a fixed number of jobs, a deadline.
 */
import assert from "node:assert/strict";
import type postgres from "postgres";
import { freshDatabase, type Sql } from "../harness/db.ts";

const USERS = 4;
const SINGLES_EACH = 40;
const BATCHES_EACH = 3;
const BATCH_SIZE = 8;
const MAX_CONCURRENCY = 8;
const DEADLINE_MS = 90_000;
const TERMINAL = ["completed", "failed", "canceled"];

interface Failures {
  deadlocks: number;
  other: string[];
}

async function seed(sql: Sql): Promise<{ users: string[]; batches: string[] }> {
  await sql`insert into public.models (id, endpoint_id, kind, title)
    values ('t-video', 'fal-ai/test/video', 'video', 'Test video')`;
  const users = Array.from({ length: USERS }, () => crypto.randomUUID());
  const batches: string[] = [];
  for (const user of users) {
    await sql`insert into auth.users (id, email) values (${user}, ${user + "@example.com"})`;
    await sql`select vidqueue.grant_credits(${user}::uuid, 100000, 'load test', ${"load:" + user})`;
    for (let b = 0; b < BATCHES_EACH; b++) {
      const children = Array.from({ length: BATCH_SIZE }, (_, i) => ({
        kind: "video",
        model: "t-video",
        input: { prompt: `batch ${b} item ${i}` },
        cost: 1,
        item: i + 1,
      }));
      const [row] = await sql<{ id: string }[]>`
        select (r.job).id::text as id
        from vidqueue.parent_create(${user}::uuid, 'batch', ${sql.json({})}, ${
        sql.json(children)
      }, 0, null, null) r`;
      batches.push(row!.id);
    }
    for (let j = 0; j < SINGLES_EACH; j++) {
      await sql`select vidqueue.job_create(${user}::uuid, 'video', 't-video',
        ${sql.json({ prompt: `single ${j}` })}, 1, 0, null, null)`;
    }
  }
  return { users, batches };
}

/** Runs `step` until `done()`; counts deadlocks and any other error as failures. */
async function loop(
  name: string,
  failures: Failures,
  done: () => boolean,
  step: () => Promise<boolean>,
): Promise<void> {
  while (!done()) {
    let worked = false;
    try {
      worked = await step();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "40P01") {
        failures.deadlocks++;
        const { detail, where } = e as { detail?: string; where?: string };
        console.error(`deadlock in ${name}: ${detail}\n${where}`);
      } else failures.other.push(`${name}: ${code ?? "?"}: ${(e as Error).message}`);
    }
    // Nothing to do right now: yield to the others instead of spinning on the database.
    if (!worked) await new Promise((r) => setTimeout(r, 5));
  }
}

/** A uuid[] literal (one text parameter, whatever the connection's array type cache holds). */
const uuidArray = (ids: string[]) => `{${ids.join(",")}}`;

async function openJobs(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from public.jobs where status <> all(${TERMINAL}::text[])`;
  return row!.n;
}

async function deadlocksSoFar(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select deadlocks::int as n from pg_stat_database where datname = current_database()`;
  return row!.n;
}

/** One dispatcher round: claim a few jobs, then answer each as fal would, one transaction each. */
async function dispatchRound(sql: Sql, round: number): Promise<boolean> {
  const claimed = await sql<{ id: string }[]>`
    select c.id::text from vidqueue.job_claim(${MAX_CONCURRENCY}, null, 4) c`;
  for (const [i, { id }] of claimed.entries()) {
    await sql`select vidqueue.job_submitted(${id}::uuid, ${"req-" + id})`;
    await sql`select vidqueue.job_started(${id}::uuid)`;
    if ((round + i) % 7 === 0) {
      await sql`select vidqueue.job_provider_failed(${id}::uuid, 'provider_error', 'boom')`;
      continue;
    }
    await sql`select vidqueue.job_finalizing(${id}::uuid,
      ${sql.json({ video: { url: "https://v3.fal.media/x.mp4" } })})`;
    await sql`select vidqueue.job_completed(${id}::uuid, ${"u/" + id + ".mp4"})`;
  }
  return claimed.length > 0;
}

/**
 * Cancels a random handful of one user's open jobs (single ones and batch items) in one call, as
 * an operator's script would.
 */
async function bulkCancel(sql: Sql, users: string[], round: number): Promise<boolean> {
  const user = users[round % users.length]!;
  const ids = await sql<{ id: string }[]>`
    select id::text from public.jobs
    where user_id = ${user}::uuid and kind = 'video'
      and status <> all(${TERMINAL}::text[])
    order by random() limit 12`;
  if (ids.length === 0) return false;
  await sql`select count(*) from vidqueue.jobs_cancel(${uuidArray(ids.map((r) => r.id))}::uuid[])`;
  return true;
}

async function cancelBatch(sql: Sql, batches: string[], round: number): Promise<boolean> {
  const id = batches[round % batches.length]!;
  await sql`select vidqueue.job_cancel(j.id, j.user_id) from public.jobs j where j.id = ${id}::uuid`;
  return round < batches.length;
}

async function adminCancel(
  sql: Sql,
  admin: string,
  round: number,
): Promise<boolean> {
  const [job] = await sql<{ id: string }[]>`
    select id::text from public.jobs
    where kind = 'video' and status in ('queued', 'submitted', 'in_progress')
    order by (hashtext(id::text || ${round}::text)) limit 1`;
  if (!job) return false;
  await sql.begin(async (tx: postgres.TransactionSql) => {
    await tx`select set_config('request.jwt.claims', ${
      JSON.stringify({ sub: admin, role: "authenticated", app_metadata: { role: "admin" } })
    }, true)`;
    await tx`select vidqueue.admin_cancel(${job.id}::uuid, 'load test')`;
  });
  return true;
}

Deno.test("bulk, parent and admin cancels during a running dispatch never deadlock and keep credits consistent", async () => {
  await using db = await freshDatabase();
  const { users, batches } = await seed(db.sql);
  const admin = users[0]!;
  const before = await deadlocksSoFar(db.sql);
  const failures: Failures = { deadlocks: 0, other: [] };
  const began = Date.now();
  let finished = false;
  const done = () => finished || Date.now() - began > DEADLINE_MS;

  const { default: postgres } = await import("postgres");
  const conns = Array.from(
    { length: 6 },
    () => postgres(db.url, { max: 1, onnotice: () => {} }),
  );
  const counters = [0, 0, 0, 0, 0, 0];
  const next = (i: number) => counters[i]!++;
  try {
    const watcher = (async () => {
      while (!done()) {
        if (await openJobs(db.sql) === 0) finished = true;
        else await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await Promise.all([
      loop("dispatch", failures, done, () => dispatchRound(conns[0]!, next(0))),
      loop("dispatch", failures, done, () => dispatchRound(conns[1]!, next(1))),
      loop("dispatch", failures, done, () => dispatchRound(conns[2]!, next(2))),
      loop("bulk cancel", failures, done, () => bulkCancel(conns[3]!, users, next(3))),
      loop("batch cancel", failures, done, () => cancelBatch(conns[4]!, batches, next(4))),
      loop("admin cancel", failures, done, () => adminCancel(conns[5]!, admin, next(5))),
      watcher,
    ]);
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }

  assert.deepEqual(failures.other.slice(0, 5), [], "no call failed for another reason");
  assert.equal(failures.deadlocks, 0, "no call failed with a deadlock");
  assert.equal(await deadlocksSoFar(db.sql) - before, 0, "Postgres counted no deadlock");
  assert.equal(await openJobs(db.sql), 0, "every job ended before the deadline");

  const mismatches = await db.sql`
    select a.user_id from public.credit_accounts a
    where a.user_id = any(${users}::uuid[])
      and (a.reserved <> 0 or a.available + a.reserved <> (
        select coalesce(sum(case l.kind when 'grant' then l.amount when 'capture' then -l.amount
          else 0 end), 0)
        from public.credit_ledger l where l.user_id = a.user_id))`;
  assert.equal(mismatches.length, 0, "nothing stays reserved; balances = grants - captures");
  const [charged] = await db.sql<{ wrong: number }[]>`
    select count(*)::int as wrong from public.jobs j
    where j.kind = 'video' and (j.status = 'completed') <> exists (
      select 1 from public.credit_ledger l where l.job_id = j.id and l.kind = 'capture')`;
  assert.equal(charged!.wrong, 0, "exactly the completed jobs were charged");
});
