/**
 * Dispatch slots under concurrency: many job_claim calls on separate connections, released at
 * once (and mixed with jobs leaving fal), never hand out more than FAL_MAX_CONCURRENCY slots,
 * more than USER_MAX_ACTIVE per user, or the same job twice.
 */
import assert from "node:assert/strict";
import { freshDatabase, type Sql } from "../harness/db.ts";
import { startTogether } from "./start_together.ts";

const MAX_CONCURRENCY = 4;
const USER_MAX_ACTIVE = 2;

interface Limits {
  maxConcurrency: number;
  userMaxActive: number;
}

interface Slots {
  held: number;
  active: number;
  maxPerUser: number;
}

async function slotState(sql: Sql): Promise<Slots> {
  const [row] = await sql<Slots[]>`
    with active as (
      select j.* from public.jobs j
      where j.dispatching_at is not null or j.status in ('submitted', 'in_progress'))
    select
      (select count(*)::int from vidqueue.slots where job_id is not null) as held,
      (select count(*)::int from active) as active,
      coalesce((select max(n)::int from (select count(*) as n from active group by user_id) u), 0)
        as "maxPerUser"`;
  assert.ok(row);
  return { ...row };
}

function assertLimits(
  state: Slots,
  limits: Limits = { maxConcurrency: MAX_CONCURRENCY, userMaxActive: USER_MAX_ACTIVE },
): void {
  assert.equal(state.held, state.active, "every job at fal holds exactly one slot");
  assert.ok(state.held <= limits.maxConcurrency, `held ${state.held} > ${limits.maxConcurrency}`);
  assert.ok(state.maxPerUser <= limits.userMaxActive, `a user holds ${state.maxPerUser} slots`);
}

/** Queues jobs round-robin over the users, so concurrent claimers meet the same users. */
async function seedQueue(sql: Sql, users: number, jobsEach: number): Promise<void> {
  await sql`insert into public.models (id, endpoint_id, kind, title)
    values ('t-video', 'fal-ai/test/video', 'video', 'Test video')`;
  const ids = Array.from({ length: users }, () => crypto.randomUUID());
  for (const user of ids) {
    await sql`insert into auth.users (id, email) values (${user}, ${user + "@example.com"})`;
  }
  for (let j = 0; j < jobsEach; j++) {
    for (const [u, user] of ids.entries()) {
      await sql`select vidqueue.job_create(${user}, 'video', 't-video',
        ${sql.json({ prompt: `u${u} j${j}` })}, 1, 0, null, null)`;
    }
  }
}

function claimedIds(outcomes: PromiseSettledResult<string[]>[]): string[] {
  return outcomes.flatMap((o) => {
    assert.equal(o.status, "fulfilled", o.status === "rejected" ? String(o.reason) : "");
    return (o as PromiseFulfilledResult<string[]>).value;
  });
}

Deno.test("20 concurrent claimers respect the global and per-user slot limits", async () => {
  await using db = await freshDatabase();
  await seedQueue(db.sql, 3, 10);

  const outcomes = await startTogether({ url: db.url, count: 20 }, async (tx) => {
    const rows = await tx<{ id: string }[]>`
      select id from vidqueue.job_claim(${MAX_CONCURRENCY}, ${USER_MAX_ACTIVE}, 3)`;
    return rows.map((r) => r.id);
  });
  const ids = claimedIds(outcomes);
  assert.equal(new Set(ids).size, ids.length, "no job is claimed twice");
  assert.ok(ids.length >= 1 && ids.length <= MAX_CONCURRENCY, `claimed ${ids.length}`);
  assertLimits(await slotState(db.sql));

  // Whatever concurrent claimers skipped, one more claim fills the free slots.
  await db.sql`select vidqueue.job_claim(${MAX_CONCURRENCY}, ${USER_MAX_ACTIVE}, 10)`;
  const full = await slotState(db.sql);
  assertLimits(full);
  assert.equal(full.held, MAX_CONCURRENCY);
});

Deno.test("20 concurrent claimers never give one user more than USER_MAX_ACTIVE", async () => {
  await using db = await freshDatabase();
  await seedQueue(db.sql, 4, 6);
  // Plenty of slots, one per user: only the per-user cap limits the claimers.
  const limits = { maxConcurrency: 16, userMaxActive: 1 };
  const outcomes = await startTogether({ url: db.url, count: 20 }, async (tx) => {
    const rows = await tx<{ id: string }[]>`
      select id from vidqueue.job_claim(${limits.maxConcurrency}, ${limits.userMaxActive}, 2)`;
    return rows.map((r) => r.id);
  });
  const ids = claimedIds(outcomes);
  assert.equal(new Set(ids).size, ids.length, "no job is claimed twice");
  assertLimits(await slotState(db.sql), limits);
  await db.sql`select vidqueue.job_claim(${limits.maxConcurrency}, ${limits.userMaxActive}, 16)`;
  const full = await slotState(db.sql);
  assertLimits(full, limits);
  assert.equal(full.held, 4, "each of the 4 users has one job at fal");
});

Deno.test("claims racing with jobs leaving fal never exceed the limits", async () => {
  await using db = await freshDatabase();
  await seedQueue(db.sql, 4, 8);
  const everClaimed = new Set<string>();
  const fill = async () => {
    const rows = await db.sql<{ id: string }[]>`
      select id from vidqueue.job_claim(${MAX_CONCURRENCY}, ${USER_MAX_ACTIVE}, 10)`;
    for (const { id } of rows) {
      assert.ok(!everClaimed.has(id), `job ${id} claimed twice`);
      everClaimed.add(id);
    }
  };
  await fill();
  assert.equal(everClaimed.size, MAX_CONCURRENCY);

  for (let round = 0; round < 6; round++) {
    const leaving = (await db.sql<{ job_id: string }[]>`
      select job_id from vidqueue.slots where job_id is not null order by slot limit 2`)
      .map((r) => r.job_id);
    const outcomes = await startTogether({ url: db.url, count: 12 }, async (tx, i) => {
      const job = leaving[i];
      if (job) {
        // Half of the leavers finish, half fail: both free the slot.
        if (round % 2) await tx`select vidqueue.job_finalizing(${job}, '{}'::jsonb)`;
        else await tx`select vidqueue.job_failed(${job}, 'e', 'm')`;
        return [];
      }
      const rows = await tx<{ id: string }[]>`
        select id from vidqueue.job_claim(${MAX_CONCURRENCY}, ${USER_MAX_ACTIVE}, 2)`;
      return rows.map((r) => r.id);
    });
    for (const id of claimedIds(outcomes)) {
      assert.ok(!everClaimed.has(id), `job ${id} claimed twice`);
      everClaimed.add(id);
    }
    assertLimits(await slotState(db.sql));
    // Claimers that raced the leavers may have found no free slot yet; the next claim does.
    await fill();
    const state = await slotState(db.sql);
    assertLimits(state);
    assert.equal(state.held, MAX_CONCURRENCY);
  }
  // Every freed slot was handed out exactly once: 4 at the start + 2 per round.
  assert.equal(everClaimed.size, MAX_CONCURRENCY + 2 * 6);
});
