/**
 * Dispatch of 10 000 queued jobs under a 40-slot fal limit, through the whole loop: claim (SQL,
 * FOR UPDATE SKIP LOCKED) → fal submit → fal's signed webhook → result recorded → media copied
 * into Storage → credits captured → next claim. The simulator answers instantly, so this
 * measures Vidqueue's own overhead per job. Counted from the database afterwards: wall time,
 * jobs lost (left live, failed, or canceled without a release), double charges (more than one
 * capture, or a capture and a release,
 * for a job) and double submissions, slot utilisation (time each job held its slot, from
 * `claimed` to `finalizing`, over 40 × wall time), and the Realtime messages the run sent —
 * per job and per dispatch, with every other job still queued (queue positions are computed when
 * read, so a dispatch notifies only the dispatched job's owner).
 *
 * The 10 000 jobs are queued in SQL with the per-job broadcast trigger switched off for the
 * setup (creating a job computes its queue position, which costs O(queue) per job: measured
 * separately as `createWithQueueMs`). The phase has a time budget: jobs still queued when it runs
 * out are canceled (and released) and reported, so the whole benchmark stays bounded.
 */
import type { BenchStack, BenchUser } from "./bench_stack.ts";
import { FAL_SLOTS } from "./bench_stack.ts";
import { cpuPer, cpuSnapshot } from "./cpu_profile.ts";
import { round } from "./stats.ts";

export interface DispatchResult {
  jobs: number;
  /** Jobs that completed; the others were canceled when the time budget ran out. */
  completed: number;
  canceledAtBudget: number;
  /** One job_create (all triggers on) with the whole queue waiting. */
  createWithQueueMs: number;
  slots: number;
  wallSeconds: number;
  jobsPerSecond: number;
  lost: number;
  doubleCharges: number;
  doubleSubmits: number;
  falRequests: number;
  slotUtilisation: number;
  /** CPU ms per job through the whole loop, by part. */
  cpuMsPerJob: Record<string, number>;
  realtime: {
    jobMessages: number;
    jobMessagesPerJob: number;
    messagesPerDispatch: number;
    adminStatsMessages: number;
    adminStatsPerSecond: number;
    /** Postgres time to compute one admin:stats message with the whole queue waiting: the
     * live parts (every message), and with the 15-minute window's figures (every 10 s). */
    adminStatsComputeMs: number;
    adminStatsWindowedComputeMs: number;
    queuedJobsNotifiedPerDispatch: number;
  };
  command: string;
}

/** Queues `jobs` jobs spread over `users`, starts dispatch with one API call, waits for all. */
export async function measureDispatch(
  b: BenchStack,
  users: BenchUser[],
  opts: { jobs: number; budgetSeconds: number; log: (line: string) => void },
): Promise<DispatchResult> {
  const { sql } = b.stack;
  await b.control.defaults({ durationMs: 0 });
  const per = Math.ceil((opts.jobs - 1) / users.length);
  const tag = `dispatch-${crypto.randomUUID().slice(0, 8)}`;
  const queuedStarted = performance.now();
  const superSql = b.stack.superSql;
  await superSql`alter table public.jobs disable trigger vidqueue_broadcast_job`;
  try {
    for (const u of users) {
      await sql`
        select 1
        from generate_series(1, ${per}) g,
          lateral vidqueue.job_create(${u.id}::uuid, 'video', 'minimax-video-01',
            jsonb_build_object('prompt', ${tag} || ' ' || g),
            vidqueue.model_cost('minimax-video-01'), 0, null, null,
            '{"max_queued":1000000,"submits_per_min":100000000}'::jsonb) c`;
    }
  } finally {
    await superSql`alter table public.jobs enable trigger vidqueue_broadcast_job`;
  }
  opts.log(
    `dispatch: ${per * users.length} jobs queued in ${
      round((performance.now() - queuedStarted) / 1000, 1)
    } s`,
  );
  // One more creation behind the whole queue, as generate-video makes it (the admin:stats
  // publisher off, so its once-a-second work does not land in this one sample); canceled.
  await superSql`alter table public.jobs disable trigger vidqueue_admin_stats`;
  let createMs: number;
  let probe: { id: string } | undefined;
  try {
    const createStarted = performance.now();
    [probe] = await sql<{ id: string }[]>`
      select (c.job).id::text as id from vidqueue.job_create(${users[0]!.id}::uuid, 'video',
        'minimax-video-01', ${sql.json({ prompt: "probe behind the queue" })}::jsonb, 0, 0, null,
        null, '{"max_queued":1000000,"submits_per_min":100000000}'::jsonb) c`;
    createMs = performance.now() - createStarted;
  } finally {
    await superSql`alter table public.jobs enable trigger vidqueue_admin_stats`;
  }
  await sql`select vidqueue.job_cancel(${probe!.id}::uuid, ${users[0]!.id}::uuid)`;
  let statsStarted = performance.now();
  await sql`select vidqueue.queue_stats(900, 20, false)`;
  const statsMs = performance.now() - statsStarted;
  statsStarted = performance.now();
  await sql`select vidqueue.queue_stats(900, 20, true)`;
  const statsWindowedMs = performance.now() - statsStarted;
  const [mark] = await sql<{ at: Date }[]>`select clock_timestamp() as at`;

  // One ordinary submission starts the chain: its 202 dispatches, each webhook dispatches more.
  const cpu0 = await cpuSnapshot(b.localDir);
  const u = users[0]!;
  const res = await fetch(`${b.functionsUrl}/generate-video`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${u.token}`,
      apikey: b.stack.info.anonKey,
      "content-type": "application/json",
    },
    body: JSON.stringify({ prompt: `${tag} kick`, model: "minimax-video-01" }),
  });
  if (res.status !== 202) throw new Error(`generate-video ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
  let canceledAtBudget = 0;
  try {
    const drainedIn = await b.drained(opts.budgetSeconds * 1000);
    opts.log(`dispatch: queue drained in ${round(drainedIn, 1)} s`);
  } catch {
    // Out of time: cancel what still waits (released, not lost), let the rest finish.
    // One call that locks every job before it releases any credits (the one lock order):
    // cancelling row by row in one statement deadlocked with the webhooks still completing.
    const canceled = await sql`
      select c.id from vidqueue.jobs_cancel(array(
        select j.id from public.jobs j
        where j.status = 'queued' and j.dispatching_at is null
          and j.input ->> 'prompt' like ${`${tag} %`})) c`;
    canceledAtBudget = canceled.length;
    opts.log(`dispatch: budget of ${opts.budgetSeconds} s used; canceled ${canceledAtBudget}`);
    await b.drained(120_000);
  }
  const cpu1 = await cpuSnapshot(b.localDir);

  const ids = (await sql<{ id: string }[]>`
    select id::text from public.jobs where input ->> 'prompt' like ${`${tag} %`}`).map((r) => r.id);
  const [counts] = await sql<{ completed: number }[]>`
    select count(*) filter (where status = 'completed')::int as completed from public.jobs
    where id = any(${ids}::uuid[])`;
  const [facts] = await sql<{
    lost: number;
    first_claim: Date;
    last_done: Date;
    held_s: number;
    double_submits: number;
  }[]>`
    with ev as (
      select e.job_id, e.kind, e.created_at from public.job_events e
      where e.job_id = any(${ids}::uuid[])
    ),
    holds as (
      select c.job_id, min(f.created_at) - c.created_at as held
      from ev c join ev f on f.job_id = c.job_id and f.kind in ('finalizing', 'failed', 'canceled',
        'dispatch_failed', 'requeued') and f.created_at >= c.created_at
      where c.kind = 'claimed'
      group by c.job_id, c.created_at
    )
    select
      (select count(*)::int from public.jobs j where j.id = any(${ids}::uuid[])
        and (j.status in ('queued', 'submitted', 'in_progress', 'finalizing')
          or (j.status = 'failed')
          or (j.status = 'canceled' and not exists (select 1 from public.credit_ledger l
            where l.job_id = j.id and l.kind = 'release')))) as lost,
      (select min(created_at) from ev where kind = 'claimed') as first_claim,
      (select max(created_at) from ev where kind = 'completed') as last_done,
      (select coalesce(extract(epoch from sum(held)), 0)::float8 from holds) as held_s,
      (select count(*)::int from (select job_id from ev where kind = 'submitted'
        group by job_id having count(*) > 1) d) as double_submits`;
  const [charges] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select job_id from public.credit_ledger
      where job_id = any(${ids}::uuid[]) and kind in ('capture', 'release')
      group by job_id
      having count(*) filter (where kind = 'capture') > 1
        or (count(*) filter (where kind = 'capture') > 0
          and count(*) filter (where kind = 'release') > 0)) d`;
  const [messages] = await sql<{ jobs: number; admin: number; dispatch: number }[]>`
    select
      count(*) filter (where topic like 'jobs:%')::int as jobs,
      count(*) filter (where topic = 'admin:stats')::int as admin,
      count(*) filter (where topic like 'jobs:%' and (payload -> 'job' ->> 'status' = 'submitted'
        or (payload -> 'job' ->> 'status' = 'queued'
          and payload -> 'job' ->> 'queue_position' = '0')))::int as dispatch
    from realtime.messages
    where inserted_at >= ${mark!.at}::timestamptz::timestamp`;
  const requests =
    (await b.control.requests()).filter((r) =>
      typeof (r.input as { prompt?: string })?.prompt === "string" &&
      (r.input as { prompt: string }).prompt.startsWith(`${tag} `)
    ).length;
  const wall = (facts!.last_done.getTime() - facts!.first_claim.getTime()) / 1000;
  return {
    jobs: ids.length,
    completed: counts!.completed,
    canceledAtBudget,
    createWithQueueMs: round(createMs, 1),
    slots: FAL_SLOTS,
    wallSeconds: round(wall, 1),
    jobsPerSecond: round(counts!.completed / wall, 0),
    lost: facts!.lost,
    doubleCharges: charges!.n,
    doubleSubmits: facts!.double_submits,
    falRequests: requests,
    slotUtilisation: round(facts!.held_s / (FAL_SLOTS * wall), 3),
    cpuMsPerJob: cpuPer(cpu0, cpu1, ids.length),
    realtime: {
      jobMessages: messages!.jobs,
      jobMessagesPerJob: round(messages!.jobs / ids.length, 2),
      messagesPerDispatch: round(messages!.dispatch / ids.length, 2),
      adminStatsMessages: messages!.admin,
      adminStatsPerSecond: round(messages!.admin / wall, 2),
      adminStatsComputeMs: round(statsMs, 1),
      adminStatsWindowedComputeMs: round(statsWindowedMs, 1),
      queuedJobsNotifiedPerDispatch: 0,
    },
    command: "deno task bench -- --only dispatch",
  };
}
