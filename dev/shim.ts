/**
 * Applies the platform shim as the bootstrap superuser: `shim/cluster/*.sql` once per cluster
 * (roles), `shim/database/*.sql` once per database (schemas auth, storage, realtime, vault,
 * extensions). What was applied is recorded in `supabase_shim.applied` of each database, so
 * restarts only run new files. The shim mirrors what hosted Supabase has before a project's
 * first migration.
 */
import postgres from "postgres";

const SHIM_DIR = new URL("./shim/", import.meta.url);

/** Lists one shim folder's SQL files in the order they apply, as `folder/name`. */
export async function shimFiles(folder: "cluster" | "database"): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(new URL(`${folder}/`, SHIM_DIR))) {
    if (entry.isFile && /^\d{4}_.+\.sql$/.test(entry.name)) names.push(`${folder}/${entry.name}`);
  }
  return names.sort();
}

async function applyFiles(url: string, files: string[]): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`
      create schema if not exists supabase_shim;
      revoke all on schema supabase_shim from public;
      create table if not exists supabase_shim.applied (
        name text primary key, applied_at timestamptz not null default now());`);
    const done = new Set(
      (await sql<{ name: string }[]>`select name from supabase_shim.applied`).map((r) => r.name),
    );
    for (const name of files) {
      if (done.has(name)) continue;
      const text = await Deno.readTextFile(new URL(name, SHIM_DIR));
      await sql.begin(async (tx) => {
        await tx.unsafe(text);
        await tx`insert into supabase_shim.applied (name) values (${name})`;
      });
    }
  } finally {
    await sql.end();
  }
}

/**
 * Applies the cluster-wide shim through the `postgres` database, then the per-database shim to
 * it, and sets the `postgres` role's password.
 */
export async function applyShim(superuserUrl: string, postgresPassword: string): Promise<void> {
  await applyFiles(superuserUrl, [
    ...(await shimFiles("cluster")),
    ...(await shimFiles("database")),
  ]);
  const sql = postgres(superuserUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`alter role postgres password '${postgresPassword.replaceAll("'", "''")}'`);
  } finally {
    await sql.end();
  }
}

/** Applies the per-database shim to another database of an already shimmed cluster. */
export async function applyDatabaseShim(superuserUrl: string): Promise<void> {
  await applyFiles(superuserUrl, await shimFiles("database"));
}
