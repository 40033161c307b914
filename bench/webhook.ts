/**
 * `fal-webhook` throughput: fal's signed completion callbacks for jobs that are at fal, sent as
 * fast as the function answers them (closed loop). Each is verified (Ed25519 over the raw body,
 * against the simulator's JWKS), matched to its job and recorded; the media copy into Storage,
 * the capture and the next dispatch run after the answer, as in production, on the same cores.
 * The jobs are created at fal directly in SQL (one transaction, so no dispatcher sees them
 * queued), and the bodies are signed before the clock starts with the simulator's own key.
 */
import { loadSigner } from "../dev/fal_sim/signing.ts";
import { createWebhookTokens } from "../supabase/functions/_shared/webhook_token.ts";
import type { BenchStack, BenchUser } from "./bench_stack.ts";
import { cpuPer, cpuSnapshot } from "./cpu_profile.ts";
import { closedLoop } from "./load.ts";
import { round, summary } from "./stats.ts";

export interface WebhookResult {
  prepared: number;
  concurrency: number;
  seconds: number;
  rate: number;
  statuses: Record<string, number>;
  latencyMs: ReturnType<typeof summary>;
  /** Webhook accepted → job completed (media in Storage, credits captured), per second. */
  completedPerSecond: number;
  /** CPU ms per webhook, by part, until every copy was done (background work included). */
  cpuMsPerWebhook: Record<string, number>;
  command: string;
}

/** Prepares `count` jobs at fal, signs their webhooks, and sends them for `seconds`. */
export async function measureWebhooks(
  b: BenchStack,
  user: BenchUser,
  opts: {
    count: number;
    concurrency: number;
    seconds: number;
    payload: unknown;
    log: (line: string) => void;
  },
): Promise<WebhookResult> {
  const { sql } = b.stack;
  const tag = crypto.randomUUID().slice(0, 8);
  const rows = await sql.begin(async (tx) => {
    // The prompt depends on g, so the planner cannot run job_create once for all rows.
    const created = await tx<{ id: string }[]>`
      select (c.job).id::text as id
      from generate_series(1, ${opts.count}) g,
        lateral vidqueue.job_create(${user.id}::uuid, 'video', 'minimax-video-01',
          jsonb_build_object('prompt', 'webhook bench ' || g), 1, 0, null, null,
          '{"max_queued":1000000,"submits_per_min":100000000}'::jsonb) c`;
    const ids = created.map((r) => r.id);
    // Straight to `submitted` with a request id, as if dispatched (bench fixture only).
    await tx`
      update public.jobs j
      set status = 'submitted', provider_request_id = 'bench-' || ${tag} || '-' || x.n,
        submitted_at = now(), attempts = 1, dispatch_seq = 1, version = version + 1,
        updated_at = now()
      from unnest(${ids}::uuid[]) with ordinality as x(id, n)
      where j.id = x.id`;
    return await tx<{ id: string; request_id: string }[]>`
      select id::text, provider_request_id as request_id from public.jobs
      where id = any(${ids}::uuid[]) order by provider_request_id`;
  });
  const signer = await loadSigner(`${b.localDir}/fal_sim`);
  // The URL token the dispatcher would have put in each job's webhook URL (dispatch 1; the
  // functions derive the key from the service key, as no WEBHOOK_TOKEN_SECRET is set).
  const tokens = createWebhookTokens({ serviceKey: b.stack.info.serviceRoleKey });
  const enc = new TextEncoder();
  const prepared = await Promise.all(rows.map(async (r) => {
    const body = enc.encode(JSON.stringify({
      request_id: r.request_id,
      gateway_request_id: r.request_id,
      status: "OK",
      payload: opts.payload,
    }));
    const query = new URLSearchParams({
      job_id: r.id,
      dispatch: "1",
      token: await tokens.mint(r.id, 1),
    });
    return { ...r, body, query, headers: await signer.sign(r.request_id, body) };
  }));
  opts.log(`webhooks: ${prepared.length} jobs at fal, bodies signed`);

  const url = `${b.functionsUrl}/fal-webhook`;
  const startedAt = Date.now();
  const cpu0 = await cpuSnapshot(b.localDir);
  const result = await closedLoop({
    concurrency: opts.concurrency,
    seconds: opts.seconds,
    make: (i) => {
      const p = prepared[i];
      if (!p) return null;
      return new Request(`${url}?${p.query}`, {
        method: "POST",
        headers: { ...p.headers, "content-type": "application/json" },
        body: p.body,
      });
    },
  });
  opts.log(`fal-webhook: ${round(result.rate, 0)}/s ${JSON.stringify(result.statuses)}`);
  // Jobs whose webhook was never sent (the run ended first) are failed, so the queue drains.
  await sql`
    select vidqueue.job_failed(j.id, 'bench_unused', 'webhook not sent in the benchmark')
    from public.jobs j
    where j.provider_request_id like ${`bench-${tag}-%`} and j.status = 'submitted'`;
  await b.drained(180_000);
  const cpu = cpuPer(cpu0, await cpuSnapshot(b.localDir), result.ok);
  const [done] = await sql<{ n: number; last: Date | null }[]>`
    select count(*)::int as n, max(completed_at) as last from public.jobs
    where provider_request_id like ${`bench-${tag}-%`} and status = 'completed'`;
  const completedSeconds = done?.last ? (done.last.getTime() - startedAt) / 1000 : 0;
  return {
    prepared: prepared.length,
    concurrency: opts.concurrency,
    seconds: round(result.seconds, 1),
    rate: round(result.rate, 0),
    statuses: result.statuses,
    latencyMs: summary(result.latenciesMs),
    completedPerSecond: completedSeconds > 0 ? round((done?.n ?? 0) / completedSeconds, 0) : 0,
    cpuMsPerWebhook: cpu,
    command: "deno task bench -- --only webhook",
  };
}
