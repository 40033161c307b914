/**
 * Postgres through postgres.js: a small pool per function instance, `prepare: false` so it also
 * works behind Supabase's transaction pooler. Reads on behalf of a user run as `vidqueue_reader` (a
 * role PostgREST can never take) with the user's claims, so RLS (not hand-written filters) decides
 * what they see.
 */
import postgres from "postgres";
import type { AuthUser } from "./auth.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/** How one function instance's pool is sized. */
export interface PoolSettings {
  /** Connections this instance may hold at once. */
  max: number;
  /** Seconds a connection may sit unused before it is closed. */
  idleTimeoutS: number;
}

/**
 * Pool sizes for hosted Supabase, where every isolate of every function opens its own pool.
 *
 * Direct connection (SUPABASE_DB_URL, port 5432): the smallest computes (Nano, Micro) allow 60
 * connections in all, and Supabase's own services (PostgREST, Auth, Storage, Realtime, the
 * pooler, pg_cron/pg_net) hold a good share of them. Vidqueue has six functions and the platform
 * runs several isolates of a busy one, so each isolate gets 2: six functions with two isolates
 * each stay at 24. Two are enough for one isolate: its transactions are a few short statements
 * that never wait on fal or Storage while they hold a connection, and further queries queue
 * inside postgres.js instead of opening connections.
 *
 * Transaction pooler (VIDQUEUE_DB_URL, port 6543): a client connection to the pooler only holds
 * a database connection for the length of a transaction, and the pooler accepts 200 clients on
 * the smallest computes, so an isolate may keep 4.
 *
 * Either way connections idle for 10 s are closed: an isolate lives on for minutes after its
 * last request (150 s / 400 s wall clock) and would otherwise keep them all that time, while
 * reopening one costs a few milliseconds when traffic resumes.
 */
export function poolSettings(pooled: boolean): PoolSettings {
  return pooled ? { max: 4, idleTimeoutS: 10 } : { max: 2, idleTimeoutS: 10 };
}

/** Where a pool connects and what it is called in `pg_stat_activity`. */
export interface SqlOptions {
  url: string;
  /** True for the transaction pooler (VIDQUEUE_DB_URL); sizes the pool (see poolSettings). */
  pooled?: boolean;
  /** `application_name`, e.g. `vidqueue-generate-video`, so operators see who holds what. */
  applicationName?: string;
}

/** A pool for one function instance. */
export function createSql(opts: SqlOptions): Sql {
  const pool = poolSettings(opts.pooled ?? false);
  return postgres(opts.url, {
    prepare: false,
    max: pool.max,
    idle_timeout: pool.idleTimeoutS,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? "vidqueue-function" },
  });
}

/**
 * Who a user's read runs as: `vidqueue_reader` (Vidqueue's tables; the Data API roles hold
 * nothing on them) or `authenticated` (platform tables whose policies the platform evaluates as
 * that role, i.e. storage.objects, which vidqueue_reader can never be granted).
 */
export type ReadRole = "vidqueue_reader" | "authenticated";

/**
 * Runs `fn` in a transaction as `role` (default `vidqueue_reader`) with the user's JWT claims in
 * `request.jwt.claims`, so RLS decides which rows the user's read returns.
 */
export function asUser<T>(
  sql: Sql,
  user: AuthUser,
  fn: (tx: Tx) => Promise<T>,
  opts: { role?: ReadRole } = {},
): Promise<T> {
  const role = opts.role ?? "vidqueue_reader";
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`;
    await tx.unsafe(
      role === "authenticated" ? "set local role authenticated" : "set local role vidqueue_reader",
    );
    return await fn(tx);
  }) as Promise<T>;
}
