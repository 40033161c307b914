/**
 * Postgres through postgres.js over SUPABASE_DB_URL: `prepare: false` and a small pool, so it works
 * behind Supabase's transaction pooler. Reads on behalf of a user run as `vidqueue_reader` (a role
 * PostgREST can never take) with the user's claims, so RLS (not hand-written filters) decides
 * what they see.
 */
import postgres from "postgres";
import type { AuthUser } from "./auth.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/** A pool for one function instance. */
export function createSql(url: string, max = 4): Sql {
  return postgres(url, {
    prepare: false,
    max,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: "vidqueue-function" },
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
