/**
 * Postgres through postgres.js over SUPABASE_DB_URL: `prepare: false` and a small pool, so it works
 * behind Supabase's transaction pooler. Reads on behalf of a user run as `authenticated` with the
 * user's claims, so RLS (not hand-written filters) decides what they see.
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

/** Runs `fn` in a transaction as the API role `authenticated` with the user's JWT claims. */
export function asUser<T>(sql: Sql, user: AuthUser, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(user.claims)}, true)`;
    await tx`set local role authenticated`;
    return await fn(tx);
  }) as Promise<T>;
}
