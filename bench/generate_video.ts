/**
 * `generate-video` under load, with the simulator answering instantly: saturation throughput
 * (closed loop), then latency at about half that rate (open loop), through the gateway and the
 * function's own process, each 202 also dispatching to fal in the background as in production.
 * Afterwards the queue the load left behind is canceled (SQL) so the next phase starts clean.
 * The profile measures the parts on their own: the gateway → worker hop without the database
 * (GET video-jobs?models=1, answered from the function's catalog cache), the SQL of one
 * submission (vidqueue.job_create) straight from postgres.js, and ES256 token verification.
 */
import postgres from "postgres";
import type { BenchStack, BenchUser } from "./bench_stack.ts";
import { cpuPer, cpuSnapshot } from "./cpu_profile.ts";
import { closedLoop, type LoadResult, openLoop } from "./load.ts";
import { round, summary } from "./stats.ts";

export interface GenerateResult {
  closed: { concurrency: number; seconds: number; rate: number; statuses: Record<string, number> };
  open: {
    rate: number;
    seconds: number;
    latencyMs: ReturnType<typeof summary>;
    statuses: Record<string, number>;
  };
  profile: {
    /** Closed loop while fal holds every job (nothing completes): the function's own ceiling. */
    acceptOnlyRate: number;
    /** CPU ms per accepted job in the closed loop with the instant simulator, by part. */
    cpuMsPerJob: Record<string, number>;
    /** The same while fal holds every job. */
    acceptOnlyCpuMsPerJob: Record<string, number>;
    gatewayHopRate: number;
    gatewayHopLatencyMs: ReturnType<typeof summary>;
    sqlJobCreateRate: number;
    sqlJobCreateLatencyMs: ReturnType<typeof summary>;
    es256VerifyUs: number;
  };
  command: string;
}

function generateRequest(b: BenchStack, users: BenchUser[]) {
  const url = `${b.functionsUrl}/generate-video`;
  return (i: number) => {
    const u = users[i % users.length]!;
    return new Request(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${u.token}`,
        apikey: b.stack.info.anonKey,
        "content-type": "application/json",
      },
      body: JSON.stringify({ prompt: `load ${i}`, model: "minimax-video-01" }),
    });
  };
}

/** Cancels every job still waiting (SQL, as the owners would), then waits for the rest. */
export async function clearQueue(b: BenchStack, timeoutMs = 120_000): Promise<void> {
  await b.stack.sql`
    select vidqueue.job_cancel(j.id, j.user_id) from public.jobs j
    where j.status = 'queued' and j.dispatching_at is null`;
  await b.drained(timeoutMs);
}

/** Ends everything at fal too: the simulator forgets its requests, the jobs fail (SQL). */
async function clearAll(b: BenchStack): Promise<void> {
  await b.control.reset();
  await b.stack.sql`
    select vidqueue.job_failed(j.id, 'bench_reset', 'cleared between benchmark phases')
    from public.jobs j
    where j.status in ('queued', 'submitted', 'in_progress', 'finalizing')
      and j.kind not in ('batch', 'story')`;
  await b.drained(60_000);
}

const only202 = (s: number) => s === 202;
const brief = (r: LoadResult) => ({ rate: round(r.rate, 0), statuses: r.statuses });

/** Runs the closed loop, the open loop and the profile. */
export async function measureGenerateVideo(
  b: BenchStack,
  users: BenchUser[],
  opts: { concurrency: number; seconds: number; log: (line: string) => void },
): Promise<GenerateResult> {
  const make = generateRequest(b, users);
  // Warm-up: connections, JIT, the catalog and JWKS caches of the function.
  await b.control.defaults({ durationMs: 0 });
  await closedLoop({ concurrency: opts.concurrency, seconds: 1.5, make, ok: only202 });
  await clearQueue(b);

  // The function's own ceiling: fal holds every job, so nothing completes during the run.
  await b.control.defaults({ durationMs: 3_600_000 });
  let cpu0 = await cpuSnapshot(b.localDir);
  const acceptOnly = await closedLoop({
    concurrency: opts.concurrency,
    seconds: Math.min(5, opts.seconds),
    make,
    ok: only202,
  });
  const acceptOnlyCpu = cpuPer(cpu0, await cpuSnapshot(b.localDir), acceptOnly.ok);
  opts.log(`generate-video while fal holds every job: ${brief(acceptOnly).rate}/s`);
  await clearAll(b);

  await b.control.defaults({ durationMs: 0 });
  cpu0 = await cpuSnapshot(b.localDir);
  const closed = await closedLoop({
    concurrency: opts.concurrency,
    seconds: opts.seconds,
    make,
    ok: only202,
  });
  const closedCpu = cpuPer(cpu0, await cpuSnapshot(b.localDir), closed.ok);
  opts.log(
    `generate-video closed loop: ${brief(closed).rate}/s ${JSON.stringify(closed.statuses)}`,
  );
  await clearQueue(b);

  const openRate = Math.max(5, Math.round(closed.rate / 2));
  const open = await openLoop({ rate: openRate, seconds: opts.seconds, make, ok: only202 });
  opts.log(`generate-video open loop at ${openRate}/s: p99 ${summary(open.latenciesMs).p99} ms`);
  await clearQueue(b);

  // Profile 1: the HTTP path alone (gateway → function process → answer from memory).
  const modelsUrl = `${b.functionsUrl}/video-jobs?models=1`;
  const hop = await closedLoop({
    concurrency: opts.concurrency,
    seconds: Math.min(5, opts.seconds),
    make: () => new Request(modelsUrl, { headers: { apikey: b.stack.info.anonKey } }),
  });
  // Profile 2: one submission's SQL, from a pool like a function's, at the same concurrency.
  const sql = postgres(b.stack.info.dbUrl, { max: 8, prepare: false, onnotice: () => {} });
  let sqlRate = 0;
  const sqlLatency: number[] = [];
  try {
    const [cost] = await sql<{ c: number }[]>`select vidqueue.model_cost('minimax-video-01') as c`;
    const deadline = performance.now() + Math.min(5, opts.seconds) * 1000;
    const began = performance.now();
    let n = 0;
    await Promise.all(Array.from({ length: opts.concurrency }, async (_, w) => {
      for (let i = w; performance.now() < deadline; i += opts.concurrency) {
        const u = users[i % users.length]!;
        const t0 = performance.now();
        await sql`
          select c.replayed from vidqueue.job_create(${u.id}::uuid, 'video', 'minimax-video-01',
            ${sql.json({ prompt: `sql ${i}` })}::jsonb, ${cost!.c}::int, 0, null, ${`h${i}`},
            '{"max_queued":1000000,"submits_per_min":100000000}'::jsonb) c`;
        sqlLatency.push(performance.now() - t0);
        n++;
      }
    }));
    sqlRate = n / ((performance.now() - began) / 1000);
  } finally {
    await sql.end();
  }
  await clearQueue(b);

  return {
    closed: {
      concurrency: opts.concurrency,
      seconds: round(closed.seconds, 1),
      ...brief(closed),
    },
    open: {
      rate: openRate,
      seconds: round(open.seconds, 1),
      latencyMs: summary(open.latenciesMs),
      statuses: open.statuses,
    },
    profile: {
      acceptOnlyRate: round(acceptOnly.rate, 0),
      cpuMsPerJob: closedCpu,
      acceptOnlyCpuMsPerJob: acceptOnlyCpu,
      gatewayHopRate: round(hop.rate, 0),
      gatewayHopLatencyMs: summary(hop.latenciesMs),
      sqlJobCreateRate: round(sqlRate, 0),
      sqlJobCreateLatencyMs: summary(sqlLatency),
      es256VerifyUs: await es256VerifyMicros(users[0]!.token, b.stack.info.supabaseUrl),
    },
    command: "deno task bench -- --only generate",
  };
}

/** Microseconds per ES256 verification of a real access token against the stack's JWKS. */
async function es256VerifyMicros(token: string, supabaseUrl: string): Promise<number> {
  const jwks = await (await fetch(`${supabaseUrl}/auth/v1/.well-known/jwks.json`)).json() as {
    keys: JsonWebKey[];
  };
  const key = await crypto.subtle.importKey(
    "jwk",
    jwks.keys[0]!,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const [h, p, s] = token.split(".");
  const b64 = (x: string) =>
    Uint8Array.from(atob(x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const data = new TextEncoder().encode(`${h}.${p}`);
  const sig = b64(s!);
  const n = 2000;
  const began = performance.now();
  for (let i = 0; i < n; i++) {
    await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, sig, data);
  }
  return round(((performance.now() - began) * 1000) / n, 0);
}
