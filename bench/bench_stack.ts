/**
 * The stack the benchmark measures: the real local stack (gateway, one process per function,
 * Postgres, Realtime) with its embedded fal simulator answering instantly, 40 fal slots, limits
 * raised so that per-user fairness and rate limits do not cap the load, and enough credits.
 * Also: signed-in users, and waiting for the queue to drain (event-driven: each job transition
 * NOTIFYs `realtime_messages`; no polling loop).
 */
import type postgres from "postgres";
import { createFalSimControl, type FalSimControl } from "../dev/fal_sim/control.ts";
import { startTestStack, type TestStack } from "../tests/harness/stack.ts";

export const FAL_SLOTS = 40;

export interface BenchUser {
  id: string;
  token: string;
}

export interface BenchStack {
  stack: TestStack;
  control: FalSimControl;
  /** The stack's data folder (the simulator's signing key lives in `<localDir>/fal_sim`). */
  localDir: string;
  functionsUrl: string;
  users(n: number): Promise<BenchUser[]>;
  /** Resolves once no job is live (bounded by `timeoutMs`); returns the seconds it took. */
  drained(timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the benchmark stack in its own temporary folder. */
export async function startBenchStack(log: (line: string) => void): Promise<BenchStack> {
  const localDir = await Deno.makeTempDir({ prefix: "vq-bench-" });
  if (Deno.uid() === 0) await Deno.chmod(localDir, 0o755);
  let stack: TestStack;
  try {
    stack = await startTestStack({
      localDir,
      warmFunctions: true,
      log: Deno.env.get("VQ_STACK_LOG") ? (l) => log(`[stack] ${l}`) : undefined,
      env: {
        FAL_KEY: "",
        FAL_QUEUE_BASE_URL: "",
        FAL_SIM_DURATION_MS: "0",
        FAL_SIM_CONCURRENCY: String(FAL_SLOTS),
        FAL_MAX_CONCURRENCY: String(FAL_SLOTS),
        USER_MAX_ACTIVE: String(FAL_SLOTS),
        USER_MAX_QUEUED: "1000000",
        USER_SUBMITS_PER_MIN: "100000000",
        FREE_CREDITS_ANON: "2000000000",
      },
    });
  } catch (e) {
    await Deno.remove(localDir, { recursive: true }).catch(() => {});
    throw e;
  }
  // The benchmark sends far more than a day's default cap (daily_credit_cap 2000) to the simulator.
  await stack.sql`delete from public.settings where key = 'daily_credit_cap'`;
  const control = createFalSimControl(stack.stack.fal!);
  return {
    stack,
    control,
    localDir,
    functionsUrl: `${stack.info.supabaseUrl}/functions/v1`,
    async users(n) {
      return await Promise.all(Array.from({ length: n }, async () => {
        const { data, error } = await stack.client().auth.signInAnonymously();
        if (error || !data.session || !data.user) throw error ?? new Error("no session");
        return { id: data.user.id, token: data.session.access_token };
      }));
    },
    drained: (timeoutMs) => waitForDrain(stack.sql, timeoutMs),
    async stop() {
      try {
        await stack.stop();
      } finally {
        await Deno.remove(localDir, { recursive: true }).catch(() => {});
      }
    },
  };
}

/** Waits until no job is live, re-checking on each job notification (and at most every 250 ms). */
export async function waitForDrain(sql: postgres.Sql, timeoutMs: number): Promise<number> {
  const began = performance.now();
  const live = async () =>
    (await sql<{ n: number }[]>`
      select count(*)::int as n from public.jobs
      where status in ('queued', 'submitted', 'in_progress', 'finalizing')
        and kind not in ('batch', 'story')`)[0]!.n;
  const done = Promise.withResolvers<void>();
  let checking = false;
  let again = false;
  const check = async () => {
    if (checking) return void (again = true);
    checking = true;
    try {
      do {
        again = false;
        if (await live() === 0) done.resolve();
      } while (again);
    } finally {
      checking = false;
    }
  };
  // Notifications arrive thousands a second: check at most every 250 ms while they flow.
  let last = 0;
  let pending: ReturnType<typeof setTimeout> | undefined;
  const onNotify = () => {
    const wait = last + 250 - performance.now();
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      last = performance.now();
      void check();
    }, Math.max(0, wait));
  };
  const listener = await sql.listen("realtime_messages", onNotify);
  const timer = setTimeout(
    () => done.reject(new Error(`jobs still live after ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await check();
    await done.promise;
    return (performance.now() - began) / 1000;
  } finally {
    clearTimeout(timer);
    clearTimeout(pending);
    await listener.unlisten();
  }
}
