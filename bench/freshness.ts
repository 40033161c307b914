/**
 * Freshness: how long after fal's webhook a client sees `completed`, for the same jobs watched
 * three ways at once on one stack:
 *   realtime   supabase-js subscribed to the private channel `jobs:<uid>` (Vidqueue's design);
 *   poll 3 s   GET video-jobs?id=<job> every 3 s per running job (the seed templates app);
 *   poll 10 s  the same every 10 s (the seed Vibelog design).
 * The webhook time is when the simulator started delivering it (its request record); clients and
 * simulator share this machine's clock. Job durations vary far more than the polling interval in
 * practice, so each poller's first tick is at a uniformly random phase. Also counted: status
 * requests per job, Realtime messages per job, and where the Realtime path spends its time
 * (webhook → result recorded → media copied and completed → event received).
 */
import { createClient } from "@supabase/supabase-js";
import type { BenchStack, BenchUser } from "./bench_stack.ts";
import { round, summary } from "./stats.ts";

export interface FreshnessResult {
  jobs: number;
  simDurationMs: number;
  realtime: { latencyMs: ReturnType<typeof summary>; statusRequestsPerJob: number };
  /** Webhook → the client's `finalizing` event (result received, before the media copy). */
  realtimeResultMs: ReturnType<typeof summary>;
  poll3s: { latencyMs: ReturnType<typeof summary>; statusRequestsPerJob: number };
  poll10s: { latencyMs: ReturnType<typeof summary>; statusRequestsPerJob: number };
  realtimeMessagesPerJob: number;
  /** p50/p95 of each segment of the Realtime path. */
  segmentsMs: Record<string, ReturnType<typeof summary>>;
  /** A completed job's result payload (reused by the webhook benchmark). */
  samplePayload: unknown;
  command: string;
}

interface Watch {
  submittedAt: number;
  realtimeAt?: number;
  finalizingAt?: number;
  poll3At?: number;
  poll10At?: number;
  polls3: number;
  polls10: number;
}

/** Runs `jobs` jobs of `simDurationMs` and watches them with all three clients. */
export async function measureFreshness(
  b: BenchStack,
  user: BenchUser,
  opts: {
    jobs: number;
    simDurationMs: number;
    submitsPerSecond: number;
    log: (line: string) => void;
  },
): Promise<FreshnessResult> {
  const { stack } = b;
  await b.control.defaults({ durationMs: opts.simDurationMs });
  const watches = new Map<string, Watch>();
  const allSeen = Promise.withResolvers<void>();
  const check = () => {
    for (const w of watches.values()) {
      if (w.realtimeAt === undefined || w.poll3At === undefined || w.poll10At === undefined) return;
    }
    if (watches.size === opts.jobs) allSeen.resolve();
  };

  // The Realtime client, exactly as the web app subscribes.
  const client = createClient(stack.info.supabaseUrl, stack.info.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
  });
  await client.realtime.setAuth(user.token);
  const early = new Map<string, number>();
  const earlyResult = new Map<string, number>();
  const channel = client.channel(`jobs:${user.id}`, { config: { private: true } });
  channel.on("broadcast", { event: "job_updated" }, (msg) => {
    const job = (msg.payload as { job: { id: string; status: string } }).job;
    const at = Date.now();
    if (job.status === "finalizing") {
      const w = watches.get(job.id);
      if (w) w.finalizingAt ??= at;
      else earlyResult.set(job.id, at);
      return;
    }
    if (job.status !== "completed") return;
    const w = watches.get(job.id);
    if (w) {
      w.realtimeAt ??= at;
      check();
    } else early.set(job.id, at);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("subscribe timed out")), 15_000);
    channel.subscribe((status) => {
      if (status === "SUBSCRIBED") clearTimeout(timer), resolve();
    });
  });

  const statusUrl = (id: string) => `${b.functionsUrl}/video-jobs?id=${id}`;
  const headers = { authorization: `Bearer ${user.token}`, apikey: stack.info.anonKey };
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const poll = (id: string, w: Watch, intervalMs: number, key: "poll3At" | "poll10At") => {
    const tick = async () => {
      if (key === "poll3At") w.polls3++;
      else w.polls10++;
      try {
        const res = await fetch(statusUrl(id), { headers });
        const body = await res.json() as { job?: { status: string } };
        if (body.job?.status === "completed") {
          w[key] ??= Date.now();
          check();
          return;
        }
      } catch {
        // A failed poll is just a missed tick, as in a browser.
      }
      const t = setTimeout(() => (timers.delete(t), void tick()), intervalMs);
      timers.add(t);
    };
    // The polling schedule under test (random phase, then every interval), not synchronisation.
    const t = setTimeout(() => (timers.delete(t), void tick()), Math.random() * intervalMs);
    timers.add(t);
  };

  const before = (await stack.sql<{ n: number }[]>`
    select count(*)::int as n from realtime.messages where topic = ${`jobs:${user.id}`}`)[0]!.n;
  const began = performance.now();
  const ids: string[] = [];
  // Submissions at a steady rate (not one burst), so completions, and webhooks, are spread out.
  const submitted: Promise<void>[] = [];
  for (let i = 0; i < opts.jobs; i++) {
    // The submission schedule of the benchmark, not a synchronisation.
    if (i > 0) await new Promise((r) => setTimeout(r, 1000 / opts.submitsPerSecond));
    submitted.push(submitOne(i));
  }
  await Promise.all(submitted);
  async function submitOne(i: number) {
    const res = await fetch(`${b.functionsUrl}/generate-video`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ prompt: `freshness ${i}`, model: "minimax-video-01" }),
    });
    const body = await res.json() as { job?: { id: string } };
    if (res.status !== 202 || !body.job) throw new Error(`generate-video ${res.status}`);
    const w: Watch = { submittedAt: Date.now(), polls3: 0, polls10: 0 };
    w.realtimeAt = early.get(body.job.id);
    w.finalizingAt = earlyResult.get(body.job.id);
    watches.set(body.job.id, w);
    ids.push(body.job.id);
    poll(body.job.id, w, 3000, "poll3At");
    poll(body.job.id, w, 10_000, "poll10At");
  }
  const timeout = setTimeout(
    () => allSeen.reject(new Error("freshness: not every client saw every job in time")),
    opts.simDurationMs + (opts.jobs / opts.submitsPerSecond) * 1000 + 60_000,
  );
  try {
    await allSeen.promise;
  } finally {
    clearTimeout(timeout);
    for (const t of timers) clearTimeout(t);
    await client.removeChannel(channel);
    client.realtime.disconnect();
  }
  opts.log(
    `freshness: ${opts.jobs} jobs seen by all clients in ${
      round((performance.now() - began) / 1000, 1)
    } s`,
  );

  // When fal's webhook went out, per job, and the server-side milestones.
  const rows = await stack.sql<
    { id: string; request_id: string; finalizing: Date; completed: Date; result: unknown }[]
  >`
    select j.id::text, j.provider_request_id as request_id, j.result,
      (select e.created_at from public.job_events e where e.job_id = j.id and e.kind = 'finalizing'
       order by e.id limit 1) as finalizing,
      (select e.created_at from public.job_events e where e.job_id = j.id and e.kind = 'completed'
       order by e.id limit 1) as completed
    from public.jobs j where j.id = any(${ids}::uuid[])`;
  const records = new Map((await b.control.requests()).map((r) => [r.requestId, r]));
  const rt: number[] = [], p3: number[] = [], p10: number[] = [], result: number[] = [];
  const toResult: number[] = [], toCompleted: number[] = [], toClient: number[] = [];
  for (const row of rows) {
    const w = watches.get(row.id)!;
    const hook = records.get(row.request_id)?.webhook.deliveries[0]?.at;
    if (hook === undefined) throw new Error(`no webhook delivery recorded for job ${row.id}`);
    rt.push(w.realtimeAt! - hook);
    if (w.finalizingAt !== undefined) result.push(w.finalizingAt - hook);
    p3.push(w.poll3At! - hook);
    p10.push(w.poll10At! - hook);
    toResult.push(row.finalizing.getTime() - hook);
    toCompleted.push(row.completed.getTime() - row.finalizing.getTime());
    toClient.push(w.realtimeAt! - row.completed.getTime());
  }
  const after = (await stack.sql<{ n: number }[]>`
    select count(*)::int as n from realtime.messages where topic = ${`jobs:${user.id}`}`)[0]!.n;
  const perJob = (f: (w: Watch) => number) =>
    round([...watches.values()].reduce((a, w) => a + f(w), 0) / watches.size, 2);
  return {
    jobs: opts.jobs,
    simDurationMs: opts.simDurationMs,
    realtime: { latencyMs: summary(rt), statusRequestsPerJob: 0 },
    realtimeResultMs: summary(result),
    poll3s: { latencyMs: summary(p3), statusRequestsPerJob: perJob((w) => w.polls3) },
    poll10s: { latencyMs: summary(p10), statusRequestsPerJob: perJob((w) => w.polls10) },
    realtimeMessagesPerJob: round((after - before) / opts.jobs, 2),
    segmentsMs: {
      "webhook sent → result recorded (fal-webhook answered)": summary(toResult),
      "result recorded → completed (media copied to Storage)": summary(toCompleted),
      "completed → client event (NOTIFY → gateway → WebSocket)": summary(toClient),
    },
    samplePayload: rows[0]?.result ?? null,
    command: "deno task bench -- --only freshness",
  };
}
