/**
 * Helpers for end-to-end tests through supabase-js: sign a user in, subscribe to their private
 * jobs channel and wait for events (never by sleeping), call our functions and read errors.
 */
import assert from "node:assert/strict";
import type { SupabaseClient } from "@supabase/supabase-js";
import { createFalSimControl, type FalSimControl } from "../../dev/fal_sim/control.ts";
import { startTestStack, type TestStack, type TestStackOptions } from "../harness/stack.ts";

/**
 * One stack shared by the tests of a file: `stack()` starts it on first use, `control()` is its
 * fal simulator's control client, `test` registers a test (sanitizers off: the shared stack's
 * connections outlive each test), and `stop()` ends it (call it from the file's last test).
 */
export function e2eSuite(opts: TestStackOptions = { warmFunctions: true }) {
  let started: Promise<TestStack> | undefined;
  const stack = () => started ??= startTestStack(opts);
  return {
    stack,
    async control(): Promise<FalSimControl> {
      const fal = (await stack()).stack.fal;
      if (!fal) throw new Error("the test stack runs no fal simulator");
      return createFalSimControl(fal);
    },
    test(name: string, fn: () => Promise<void>) {
      Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
    },
    async stop() {
      if (started) await (await started).stop();
    },
  };
}

/** ffprobe's view of a media URL: its duration and the types of its streams. */
export async function probeMedia(url: string): Promise<{ seconds: number; streams: string[] }> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, new Uint8Array(await res.arrayBuffer()));
    const out = await new Deno.Command("ffprobe", {
      args: [
        "-v",
        "error",
        "-show_entries",
        "format=duration:stream=codec_type",
        "-of",
        "json",
        path,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout));
    return {
      seconds: Number(info.format.duration),
      streams: info.streams.map((st: { codec_type: string }) => st.codec_type),
    };
  } finally {
    await Deno.remove(path);
  }
}

export interface SignedIn {
  client: SupabaseClient;
  userId: string;
  token: string;
}

/** A fresh anonymous user with its own client. */
export async function anonymousUser(stack: TestStack): Promise<SignedIn> {
  const client = stack.client();
  const { data, error } = await client.auth.signInAnonymously();
  if (error || !data.session || !data.user) throw error ?? new Error("no session");
  return { client, userId: data.user.id, token: data.session.access_token };
}

export type JobEvent = { id: string; status: string; version: number } & Record<string, unknown>;

/** Subscribes to `jobs:<uid>` (private) and collects `job_updated` events. */
export async function subscribeJobs(user: SignedIn) {
  const events: JobEvent[] = [];
  const waiters: { test: (e: JobEvent) => boolean; resolve: (e: JobEvent) => void }[] = [];
  await user.client.realtime.setAuth(user.token);
  const channel = user.client.channel(`jobs:${user.userId}`, { config: { private: true } });
  channel.on("broadcast", { event: "job_updated" }, (msg) => {
    const job = (msg.payload as { job: JobEvent }).job;
    events.push(job);
    for (const w of [...waiters]) {
      if (w.test(job)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(job);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("subscribe timed out")), 10_000);
    channel.subscribe((status, err) => {
      if (status === "SUBSCRIBED") {
        clearTimeout(timer);
        resolve();
      } else if (status === "CHANNEL_ERROR" || status === "TIMED_OUT") {
        clearTimeout(timer);
        reject(err ?? new Error(status));
      }
    });
  });
  return {
    events,
    /** Resolves with the first event (already received or future) that passes `test`. */
    waitFor(test: (e: JobEvent) => boolean, timeoutMs = 20_000): Promise<JobEvent> {
      const seen = events.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("event did not arrive in time")),
          timeoutMs,
        );
        waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
    close: () => user.client.removeChannel(channel),
  };
}

/** Calls a function with raw fetch and returns status, headers and parsed JSON. */
export async function call(
  stack: TestStack,
  fn: string,
  opts: {
    method?: string;
    token?: string | null;
    body?: unknown;
    headers?: Record<string, string>;
    query?: string;
  } = {},
) {
  const headers: Record<string, string> = { apikey: stack.info.anonKey, ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${stack.info.supabaseUrl}/functions/v1/${fn}${opts.query ?? ""}`, {
    method: opts.method ?? "POST",
    headers,
    body: opts.body === undefined
      ? undefined
      : typeof opts.body === "string"
      ? opts.body
      : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, headers: res.headers, json };
}

/** Ledger movements of one job, by kind. */
export async function ledgerOf(stack: TestStack, jobId: string): Promise<Record<string, number>> {
  const rows = await stack.sql<{ kind: string; n: number; amount: number }[]>`
    select kind, count(*)::int as n, sum(amount)::int as amount
    from public.credit_ledger where job_id = ${jobId}::uuid group by kind`;
  return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
}
