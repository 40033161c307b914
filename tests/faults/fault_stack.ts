/**
 * The stack the fault-injection suite drives: the real dev stack (gateway, functions as their own
 * processes, Postgres) with its embedded fal simulator, compressed timings
 * (RECONCILE_INTERVAL_S=1, WEBHOOK_GRACE_S=2, millisecond fal durations, fal's own clocks sped
 * up), the reconcile timer, and the levers a fault needs: the simulator's control API and its
 * webhook signing key, killing a function's worker process, restarting Postgres, and gates that
 * hold a chosen job at a chosen transition.
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import postgres from "postgres";
import { createFalSimControl, type FalSimControl } from "../../dev/fal_sim/control.ts";
import { loadSigner, type WebhookSigner } from "../../dev/fal_sim/signing.ts";
import { startCluster } from "../../dev/postgres.ts";
import { startReconcileTimer } from "../../dev/reconcile_timer.ts";
import { startTestStack, type TestStack } from "../harness/stack.ts";

/** The compressed timings of the suite. */
export const TIMINGS = {
  RECONCILE_INTERVAL_S: 1,
  WEBHOOK_GRACE_S: 2,
  /** Divides fal's own clocks (webhook retries after 15 s, 30 s … become 0.25 s, 0.5 s …). */
  FAL_TIME_SCALE: 60,
  /** How long a job may take to end once faults stop: 3 × RECONCILE_INTERVAL_S. */
  TERMINAL_WITHIN_MS: 3 * 1000,
};

export const LIMITS = {
  FAL_MAX_CONCURRENCY: 4,
  USER_MAX_ACTIVE: 4,
  USER_MAX_QUEUED: 20,
  USER_SUBMITS_PER_MIN: 30,
};

/** Models the suite adds to the catalog (fal endpoints the simulator serves as video). */
export const MODELS = {
  /** Cost 5, timeout 30 s. */
  video: { id: "fault-video", endpoint: "fal-ai/fault/video" },
  /** Cost 7, timeout 3 s: for the timeout scenario. */
  slow: { id: "fault-slow", endpoint: "fal-ai/fault/slow" },
};

export interface SignedInUser {
  client: SupabaseClient;
  id: string;
  token: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

export interface FaultStack {
  ts: TestStack;
  /** The cluster's superuser (gates, locks, terminating backends). */
  admin: postgres.Sql;
  control: FalSimControl;
  /** Signs webhooks exactly as the simulator (fal) does. */
  signer: WebhookSigner;
  secret: string;
  /** A new anonymous user holding `credits` more credits. */
  newUser(credits?: number): Promise<SignedInUser>;
  /** Calls one of our functions through the gateway. */
  call(
    fn: string,
    opts?: {
      method?: string;
      token?: string;
      body?: unknown;
      headers?: Record<string, string>;
      query?: string;
    },
  ): Promise<CallResult>;
  /** One reconcile pass now (what pg_cron does every interval). */
  reconcileNow(): Promise<CallResult>;
  /** Stops the reconcile timer (while a fault needs the dispatchers to itself). */
  pauseTimer(): Promise<void>;
  resumeTimer(): void;
  /** SIGKILLs the worker processes of function `name`; resolves with their pids. */
  killWorker(name: string): Promise<number[]>;
  /** Stops Postgres (fast shutdown: sessions are cut) and starts it again on the same port. */
  restartPostgres(): Promise<void>;
  stop(): Promise<void>;
}

async function childPids(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // Field 4 (ppid) follows the command name, which is in parentheses and may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== Deno.pid) continue;
      const cmdline = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`)).split("\0");
      if (cmdline.some((arg) => arg.includes(needle))) pids.push(Number(entry.name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Starts the suite's stack; always `stop()` it. */
export async function startFaultStack(): Promise<FaultStack> {
  const localDir = await Deno.makeTempDir({ prefix: "vq-faults-" });
  if (Deno.uid() === 0) await Deno.chmod(localDir, 0o755);
  const secret = crypto.randomUUID() + crypto.randomUUID();
  let ts: TestStack | undefined;
  let timer: { stop(): Promise<void> } | undefined;
  let admin: postgres.Sql | undefined;
  try {
    ts = await startTestStack({
      localDir,
      warmFunctions: true,
      env: {
        RECONCILE_SECRET: secret,
        WEBHOOK_GRACE_S: String(TIMINGS.WEBHOOK_GRACE_S),
        RETRY_BASE_MS: "1",
        FAL_MAX_CONCURRENCY: String(LIMITS.FAL_MAX_CONCURRENCY),
        USER_MAX_ACTIVE: String(LIMITS.USER_MAX_ACTIVE),
        USER_MAX_QUEUED: String(LIMITS.USER_MAX_QUEUED),
        USER_SUBMITS_PER_MIN: String(LIMITS.USER_SUBMITS_PER_MIN),
        MEDIA_TIMEOUT_MS: "10000",
        FAL_SIM_TIME_SCALE: String(TIMINGS.FAL_TIME_SCALE),
      },
    });
    const stack = ts;
    const fal = stack.stack.fal;
    if (!fal) throw new Error("the fault suite needs the stack's embedded fal simulator");
    const control = createFalSimControl(fal);
    await control.patch({ timeScale: TIMINGS.FAL_TIME_SCALE });
    const signer = await loadSigner(`${localDir}/fal_sim`);
    await stack.sql`
      insert into public.models (id, endpoint_id, kind, title, cost_base, expected_seconds,
        timeout_seconds, input_schema, sort_order)
      values
        (${MODELS.video.id}, ${MODELS.video.endpoint}, 'video', 'Fault video', 5, 1, 30,
          '{"type":"object","properties":{"prompt":{"type":"string"}}}', 1000),
        (${MODELS.slow.id}, ${MODELS.slow.endpoint}, 'video', 'Fault slow', 7, 1, 3,
          '{"type":"object","properties":{"prompt":{"type":"string"}}}', 1001)
      on conflict (id) do nothing`;

    admin = postgres(stack.stack.superuserUrl(), { max: 4, onnotice: () => {} });
    const adminSql = admin;

    const base = stack.info.supabaseUrl;
    const reconcileUrl = `${base}/functions/v1/reconcile-jobs`;
    // The dev stack's stand-in for pg_cron (this suite runs its own, so it can pause it).
    const startTimer = () =>
      startReconcileTimer({
        url: reconcileUrl,
        secret,
        intervalS: TIMINGS.RECONCILE_INTERVAL_S,
        log: Deno.env.get("VQ_STACK_LOG") ? (l) => console.log(l) : undefined,
      });
    timer = startTimer();

    const call: FaultStack["call"] = async (fn, opts = {}) => {
      const headers: Record<string, string> = { apikey: stack.info.anonKey, ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.body !== undefined) headers["content-type"] ??= "application/json";
      const res = await fetch(`${base}/functions/v1/${fn}${opts.query ?? ""}`, {
        method: opts.method ?? "POST",
        headers,
        body: opts.body === undefined
          ? undefined
          : typeof opts.body === "string"
          ? opts.body
          : JSON.stringify(opts.body),
      });
      const text = await res.text();
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(text);
      } catch {
        json = { raw: text };
      }
      return { status: res.status, headers: res.headers, json };
    };

    const stopAll = async () => {
      try {
        await timer?.stop();
        await adminSql.end({ timeout: 5 });
        await stack.stop();
      } finally {
        await Deno.remove(localDir, { recursive: true }).catch(() => {});
      }
    };

    return {
      ts: stack,
      admin: adminSql,
      control,
      signer,
      secret,
      call,
      async newUser(credits = 0) {
        const client = stack.client();
        const { data, error } = await client.auth.signInAnonymously();
        if (error || !data.session || !data.user) throw error ?? new Error("no session");
        if (credits > 0) {
          await stack.sql`select vidqueue.grant_credits(${data.user.id}::uuid, ${credits}::int,
            'fault suite', ${"fault:" + crypto.randomUUID()})`;
        }
        return { client, id: data.user.id, token: data.session.access_token };
      },
      async pauseTimer() {
        await timer?.stop();
        timer = undefined;
      },
      resumeTimer() {
        timer ??= startTimer();
      },
      reconcileNow: () =>
        call("reconcile-jobs", { body: {}, headers: { "x-reconcile-secret": secret } }),
      async killWorker(name) {
        const pids = await childPids(`/${name}/index.ts`);
        for (const pid of pids) Deno.kill(pid, "SIGKILL");
        return pids;
      },
      async restartPostgres() {
        const cluster = stack.stack.cluster;
        // startCluster stops a running server (pg_ctl stop -m fast) and starts it again.
        await startCluster({ dataDir: cluster.dataDir, port: cluster.port, superuserPassword: "" });
      },
      stop: stopAll,
    };
  } catch (e) {
    await timer?.stop();
    await admin?.end({ timeout: 5 });
    await ts?.stop();
    await Deno.remove(localDir, { recursive: true }).catch(() => {});
    throw e;
  }
}
