/**
 * What must hold after every fault: waiting (event-driven, bounded) until a scenario's jobs are
 * terminal, and the SQL invariants over its users — captured = sum of costs of completed jobs,
 * nothing reserved for a terminal job, balances never negative and equal to grants - captures,
 * every completed job's object in Storage, no fal request without a job and no job pointing at a
 * request fal never saw — counted into the suite's table row.
 */
import type postgres from "postgres";
import type { RequestRecord } from "../../dev/fal_sim/control.ts";

const TERMINAL = ["completed", "failed", "canceled"];

/** One row of the suite's table. */
export interface ScenarioRow {
  scenario: string;
  jobs: number;
  lost: number;
  stuck: number;
  creditMismatches: number;
  /** Milliseconds from "faults stopped" until every job was terminal (null: never). */
  msToTerminal: number | null;
  problems: string[];
}

/**
 * Resolves once every job in `ids` is terminal, re-checking on each database change (each job
 * transition NOTIFYs `realtime_messages`), or at `deadlineMs` with the ones still running.
 */
export async function waitTerminal(
  sql: postgres.Sql,
  ids: string[],
  deadlineMs: number,
): Promise<{ stuck: string[]; ms: number }> {
  const began = performance.now();
  const open = async () => {
    if (ids.length === 0) return [];
    const rows = await sql<{ id: string }[]>`
      select id::text from public.jobs
      where id = any(${ids}::uuid[]) and status <> all(${TERMINAL}::text[])`;
    return rows.map((r) => r.id);
  };
  let stuck = await open();
  if (stuck.length === 0) return { stuck, ms: 0 };
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let checking: Promise<void> | null = null;
  let again = false;
  const recheck = () => {
    if (checking) {
      again = true;
      return;
    }
    checking = (async () => {
      do {
        again = false;
        try {
          stuck = await open();
        } catch {
          // The database may be restarting; the next change or the deadline decides.
        }
        if (stuck.length === 0) resolveDone();
      } while (again && stuck.length > 0);
    })().finally(() => (checking = null));
  };
  const listener = await sql.listen("realtime_messages", recheck);
  const timer = setTimeout(resolveDone, Math.max(0, deadlineMs - (performance.now() - began)));
  try {
    recheck();
    await done;
    await checking;
    return { stuck, ms: Math.round(performance.now() - began) };
  } finally {
    clearTimeout(timer);
    await listener.unlisten().catch(() => {});
  }
}

/** The job id a request's webhook URL names (`…/fal-webhook?job_id=<id>`), or null. */
export function jobIdOfRequest(r: RequestRecord): string | null {
  if (!r.webhook.url) return null;
  try {
    return new URL(r.webhook.url).searchParams.get("job_id");
  } catch {
    return null;
  }
}

/** Checks the invariants for `users` and the jobs accepted for them; returns the problems. */
export async function checkInvariants(
  sql: postgres.Sql,
  opts: { users: string[]; accepted: string[]; falRequests: RequestRecord[] },
): Promise<{ lost: number; creditMismatches: number; problems: string[] }> {
  const problems: string[] = [];
  const users = opts.users;

  const present = await sql<{ id: string }[]>`
    select id::text from public.jobs where id = any(${opts.accepted}::uuid[])`;
  const presentIds = new Set(present.map((r) => r.id));
  const missing = opts.accepted.filter((id) => !presentIds.has(id));
  for (const id of missing) problems.push(`accepted job ${id} is not in the database`);

  const noObject = await sql<{ id: string; storage_path: string | null }[]>`
    select j.id::text, j.storage_path from public.jobs j
    where j.user_id = any(${users}::uuid[]) and j.status = 'completed'
      and not exists (select 1 from storage.objects o
        where o.bucket_id = 'videos' and o.name = j.storage_path)`;
  for (const j of noObject) {
    problems.push(`completed job ${j.id} has no object in Storage (${j.storage_path})`);
  }

  const accounts = await sql<
    {
      user_id: string;
      available: number;
      reserved: number;
      granted: number;
      captured: number;
      completed_cost: number;
      open_reserved: number;
    }[]
  >`
    select a.user_id::text, a.available, a.reserved,
      coalesce((select sum(l.amount) from public.credit_ledger l
        where l.user_id = a.user_id and l.kind = 'grant'), 0)::int as granted,
      coalesce((select sum(l.amount) from public.credit_ledger l
        where l.user_id = a.user_id and l.kind = 'capture'), 0)::int as captured,
      coalesce((select sum(j.cost) from public.jobs j
        where j.user_id = a.user_id and j.status = 'completed'), 0)::int as completed_cost,
      coalesce((select sum(r.amount) from public.credit_ledger r
        where r.user_id = a.user_id and r.kind = 'reserve'
          and not exists (select 1 from public.credit_ledger s
            where s.job_id = r.job_id and s.kind in ('capture', 'release'))), 0)::int
        as open_reserved
    from public.credit_accounts a
    where a.user_id = any(${users}::uuid[])`;
  const badUsers = new Set<string>();
  for (const a of accounts) {
    const bad = (
      why: string,
    ) => (badUsers.add(a.user_id), problems.push(`user ${a.user_id}: ${why}`));
    if (a.captured !== a.completed_cost) {
      bad(`captured ${a.captured} ≠ cost of completed jobs ${a.completed_cost}`);
    }
    if (a.available < 0 || a.reserved < 0) bad(`negative balance ${a.available}/${a.reserved}`);
    if (a.available + a.reserved !== a.granted - a.captured) {
      bad(
        `available ${a.available} + reserved ${a.reserved} ≠ granted ${a.granted} - captured ${a.captured}`,
      );
    }
    if (a.reserved !== a.open_reserved) {
      bad(`reserved ${a.reserved} ≠ open reservations ${a.open_reserved}`);
    }
  }

  const settlement = await sql<{ id: string; status: string; settled: string | null; n: number }[]>`
    select j.id::text, j.status, min(s.kind) as settled, count(s.id)::int as n
    from public.jobs j
    join public.credit_ledger r on r.job_id = j.id and r.kind = 'reserve'
    left join public.credit_ledger s on s.job_id = j.id and s.kind in ('capture', 'release')
    where j.user_id = any(${users}::uuid[]) and j.status = any(${TERMINAL}::text[])
    group by j.id, j.status`;
  for (const j of settlement) {
    const want = j.status === "completed" ? "capture" : "release";
    if (j.n !== 1 || j.settled !== want) {
      badUsers.add(j.id);
      problems.push(`${j.status} job ${j.id}: ${j.n} settlements (${j.settled}), want one ${want}`);
    }
  }

  const jobIds = new Set(
    (await sql<{ id: string }[]>`select id::text from public.jobs`).map((r) => r.id),
  );
  const requestIds = new Set(opts.falRequests.map((r) => r.requestId));
  for (const r of opts.falRequests) {
    const jobId = jobIdOfRequest(r);
    if (!jobId || !jobIds.has(jobId)) {
      problems.push(`fal request ${r.requestId} belongs to no job (${r.webhook.url})`);
    }
  }
  const pointing = await sql<{ id: string; provider_request_id: string }[]>`
    select id::text, provider_request_id from public.jobs
    where user_id = any(${users}::uuid[]) and provider_request_id is not null`;
  for (const j of pointing) {
    if (!requestIds.has(j.provider_request_id)) {
      problems.push(`job ${j.id} names fal request ${j.provider_request_id}, unknown to fal`);
    }
  }

  return { lost: missing.length + noObject.length, creditMismatches: badUsers.size, problems };
}

/** Prints the suite's table (markdown). */
export function formatTable(rows: ScenarioRow[]): string {
  const lines = [
    "| scenario | jobs | lost | stuck | credit mismatches | ms to terminal |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.scenario} | ${r.jobs} | ${r.lost} | ${r.stuck} | ${r.creditMismatches} | ${
        r.msToTerminal ?? "—"
      } |`
    ),
  ];
  return lines.join("\n");
}
