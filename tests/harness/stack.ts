/**
 * A whole running stack for end-to-end tests: its own Postgres (migrated and seeded), the
 * gateway on a free port, in a temporary folder that `stop()` removes. Share one per test file
 * (`await using stack = await startTestStack()` in a top-level test, or start it once and stop
 * it in the last test). Set `VQ_STACK_LOG=1` to see the stack's and functions' logs.
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import postgres from "postgres";
import { freeStackPort } from "../../dev/ports.ts";
import { type Stack, type StackInfo, startStack } from "../../dev/stack.ts";

export interface TestStackOptions {
  /** Extra env/secrets for the functions. */
  env?: Record<string, string>;
  /** Functions folder (default the project's `supabase/functions`). */
  functionsDir?: string;
  /** Start every function's worker before returning (default: on first call). */
  warmFunctions?: boolean;
  /** Folder served at `/` (default the project's `web/dist`). */
  webDir?: string;
  /** Use this folder for the stack's data (kept on stop) instead of a fresh temporary one. */
  localDir?: string;
  /** Project folder whose `supabase/` (config.toml, migrations) the stack uses; default this one. */
  projectDir?: string;
  log?: (line: string) => void;
}

export interface TestStack {
  info: StackInfo;
  stack: Stack;
  /** A new supabase-js client with the anon key and no session persistence. */
  client(): SupabaseClient;
  /** A new supabase-js client with the service-role key. */
  serviceClient(): SupabaseClient;
  /** postgres.js connected as the non-superuser `postgres` role. */
  sql: postgres.Sql;
  /** postgres.js connected as the cluster's superuser (for what only the platform may do). */
  superSql: postgres.Sql;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function newClient(url: string, key: string): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

/** Starts a throw-away stack; always `stop()` it (or use `await using`). */
export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const ownDir = !opts.localDir;
  const localDir = opts.localDir ?? await Deno.makeTempDir({ prefix: "vq-e2e-" });
  // The server runs as the `postgres` OS user when we are root; it must reach its data folder.
  if (Deno.uid() === 0) await Deno.chmod(localDir, 0o755);
  const log = opts.log ??
    (Deno.env.get("VQ_STACK_LOG") ? (line: string) => console.log(`[stack] ${line}`) : () => {});
  let stack: Stack;
  try {
    stack = await startStack({
      stackPort: freeStackPort(),
      localDir,
      log,
      env: opts.env,
      functionsDir: opts.functionsDir,
      warmFunctions: opts.warmFunctions,
      webDir: opts.webDir,
      projectDir: opts.projectDir,
    });
  } catch (e) {
    if (ownDir) await Deno.remove(localDir, { recursive: true }).catch(() => {});
    throw e;
  }
  const sql = postgres(stack.info.dbUrl, { max: 4, onnotice: () => {} });
  const superSql = postgres(stack.superuserUrl(), { max: 2, onnotice: () => {} });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        await sql.end({ timeout: 5 });
        await superSql.end({ timeout: 5 });
        await stack.stop();
      } finally {
        if (ownDir) await Deno.remove(localDir, { recursive: true }).catch(() => {});
      }
    })();
  return {
    info: stack.info,
    stack,
    client: () => newClient(stack.info.supabaseUrl, stack.info.anonKey),
    serviceClient: () => newClient(stack.info.supabaseUrl, stack.info.serviceRoleKey),
    sql,
    superSql,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
