/**
 * Database helpers shared by the tests: a fresh database per test (cloned in milliseconds from
 * the migrated template that `deno task test` prepares) and running SQL as a given API user
 * (role + JWT claims), the way PostgREST, Realtime and our functions do, so RLS decides.
 */
import postgres from "postgres";
import { applyDatabaseShim } from "../../dev/shim.ts";
import { applyAuthSettings } from "../../dev/auth_settings.ts";
import { dbPush, PROJECT_ROOT } from "../../dev/supabase_cli.ts";

/** Name of the migrated template database that test databases are cloned from. */
export const TEMPLATE_DB = "vq_template";

/**
 * Creates the template database as a hosted project would look after `supabase db push`: the
 * per-database shim, then the project's migrations and seed through the real CLI. (The stack's own
 * `postgres` database cannot be the template: pg_cron stays connected to it.) Like the dev
 * stack's database it says what this project's Auth does about confirmations (config.toml), so a
 * user inserted here is treated like one the local Auth signed up.
 */
export async function createTemplate(
  cluster: { superuserUrl(db?: string): string; postgresUrl(db: string): string },
): Promise<void> {
  const sql = postgres(cluster.superuserUrl("template1"), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists ${TEMPLATE_DB}`);
    await sql.unsafe(`create database ${TEMPLATE_DB} owner postgres`);
  } finally {
    await sql.end();
  }
  await applyDatabaseShim(cluster.superuserUrl(TEMPLATE_DB));
  await dbPush(cluster.postgresUrl(TEMPLATE_DB));
  const db = postgres(cluster.postgresUrl(TEMPLATE_DB), { max: 1, onnotice: () => {} });
  try {
    await applyAuthSettings(db, PROJECT_ROOT);
  } finally {
    await db.end();
  }
}

// Database-level settings are not copied by CREATE DATABASE … TEMPLATE; Supabase's is this.
const SEARCH_PATH = `"$user", public, extensions`;

export type Sql = postgres.Sql;

export interface TestDatabase {
  name: string;
  /** URL for the non-superuser `postgres` role, as the project's functions connect. */
  url: string;
  /** URL for the bootstrap superuser. */
  superuserUrl: string;
  /** A client connected as `postgres`. */
  sql: Sql;
  /** Drops the database (closing the client first). */
  drop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function envUrl(name: string): string {
  const value = Deno.env.get(name);
  if (!value) {
    throw new Error(`${name} is not set: run the tests through \`deno task test\``);
  }
  return value;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Clones a fresh database from the migrated template. Use with `await using`. */
export async function freshDatabase(): Promise<TestDatabase> {
  const superTemplate = envUrl("VQ_TEST_SUPERUSER_URL");
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(withDatabase(superTemplate, "template1"), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${TEMPLATE_DB} owner postgres`);
    await admin.unsafe(`alter database ${name} set search_path = ${SEARCH_PATH}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(envUrl("VQ_TEST_POSTGRES_URL"), name);
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  const drop = async () => {
    await sql.end();
    const again = postgres(withDatabase(superTemplate, "template1"), {
      max: 1,
      onnotice: () => {},
    });
    try {
      await again.unsafe(`drop database if exists ${name} with (force)`);
    } finally {
      await again.end();
    }
  };
  return {
    name,
    url,
    superuserUrl: withDatabase(superTemplate, name),
    sql,
    drop,
    [Symbol.asyncDispose]: drop,
  };
}

/** JWT claims as Supabase issues them (only the fields policies usually read are required). */
export interface Claims {
  sub?: string;
  role: "anon" | "authenticated" | "service_role";
  [key: string]: unknown;
}

/**
 * Runs `fn` in a transaction as the API role in `claims.role`, with `request.jwt.claims` set,
 * then rolls back unless `commit` is set.
 */
export async function asUser<T>(
  sql: Sql,
  claims: Claims,
  fn: (tx: postgres.TransactionSql) => Promise<T>,
  opts: { commit?: boolean } = {},
): Promise<T> {
  let result: T | undefined;
  const rollback = new Error("rollback");
  try {
    await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
      await tx.unsafe(`set local role ${claims.role}`);
      result = await fn(tx);
      if (!opts.commit) throw rollback;
    });
  } catch (e) {
    if (e !== rollback) throw e;
  }
  return result as T;
}
