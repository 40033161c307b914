/**
 * `deno task admin <email | user id> [--remove]`: makes a user of the dev stack an admin (sets
 * `app_metadata.role = "admin"` with vidqueue.set_admin) or, with --remove, an ordinary user
 * again. Connects to SUPABASE_DB_URL when set (e.g. a hosted project's connection string), else
 * to the running dev stack's database from `.local/stack.json`. The user's next access token
 * (sign in again, or wait for the next refresh) carries the role.
 *
 * The same in SQL (dashboard SQL editor of a hosted project):
 *   select vidqueue.set_admin((select id from auth.users where email = 'you@example.com'));
 */
import postgres from "postgres";
import { PROJECT_ROOT } from "./supabase_cli.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function dbUrl(): Promise<string> {
  const fromEnv = Deno.env.get("SUPABASE_DB_URL");
  if (fromEnv) return fromEnv;
  try {
    const info = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/.local/stack.json`));
    return info.dbUrl as string;
  } catch {
    throw new Error("no SUPABASE_DB_URL and no .local/stack.json: start `deno task dev` first");
  }
}

/** Promotes (or demotes) the user named by email or id; returns the user's id. */
export async function setAdmin(sql: postgres.Sql, who: string, admin: boolean): Promise<string> {
  const rows = UUID.test(who)
    ? await sql<{ id: string }[]>`select id::text from auth.users where id = ${who}::uuid`
    : await sql<
      { id: string }[]
    >`select id::text from auth.users where lower(email) = lower(${who})`;
  const id = rows[0]?.id;
  if (!id) throw new Error(`no user ${who}`);
  await sql`select vidqueue.set_admin(${id}::uuid, ${admin})`;
  return id;
}

if (import.meta.main) {
  const args = Deno.args.filter((a) => a !== "--remove");
  const remove = Deno.args.includes("--remove");
  if (args.length !== 1) {
    console.error("usage: deno task admin <email | user id> [--remove]");
    Deno.exit(2);
  }
  const sql = postgres(await dbUrl(), { max: 1, onnotice: () => {} });
  try {
    const id = await setAdmin(sql, args[0]!, !remove);
    console.log(
      `${args[0]} (${id}) is ${remove ? "no longer an admin" : "now an admin"}; ` +
        "sign in again (or refresh the session) so the new access token carries the role",
    );
  } catch (e) {
    console.error((e as Error).message);
    Deno.exitCode = 1;
  } finally {
    await sql.end();
  }
}
