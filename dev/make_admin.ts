/**
 * `deno task admin <email | user id> [--remove]`: makes a user an admin (sets
 * `app_metadata.role = "admin"`) or, with --remove, an ordinary user again, through the Auth
 * admin API (`auth.admin.updateUserById`), as one would on hosted Supabase. Talks to SUPABASE_URL
 * with SUPABASE_SECRET_KEY (or SUPABASE_SERVICE_ROLE_KEY) when set (e.g. a hosted project), else
 * to the running dev stack from `.local/stack.json`. The user's next access token (sign in again,
 * or wait for the next refresh) carries the role.
 *
 * The same in SQL (dashboard SQL editor of a hosted project):
 *   select vidqueue.set_admin((select id from auth.users where email = 'you@example.com'));
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { PROJECT_ROOT } from "./supabase_cli.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PER_PAGE = 200;

async function serviceClient(): Promise<SupabaseClient> {
  let url = Deno.env.get("SUPABASE_URL");
  let key = Deno.env.get("SUPABASE_SECRET_KEY") ?? Deno.env.get("SUPABASE_SERVICE_ROLE_KEY");
  if (!url || !key) {
    try {
      const info = JSON.parse(await Deno.readTextFile(`${PROJECT_ROOT}/.local/stack.json`));
      url = info.supabaseUrl as string;
      key = info.secretKey as string;
    } catch {
      throw new Error(
        "no SUPABASE_URL + SUPABASE_SECRET_KEY and no .local/stack.json: start `deno task dev` first",
      );
    }
  }
  return createClient(url, key, { auth: { persistSession: false, autoRefreshToken: false } });
}

async function findUserId(admin: SupabaseClient, who: string): Promise<string | null> {
  if (UUID.test(who)) {
    const { data, error } = await admin.auth.admin.getUserById(who);
    if (error && error.status !== 404) throw error;
    return data.user?.id ?? null;
  }
  const wanted = who.trim().toLowerCase();
  for (let page = 1;; page++) {
    const { data, error } = await admin.auth.admin.listUsers({ page, perPage: PER_PAGE });
    if (error) throw error;
    const hit = data.users.find((u) => u.email?.toLowerCase() === wanted);
    if (hit) return hit.id;
    if (data.users.length < PER_PAGE) return null;
  }
}

/** Promotes (or demotes) the user named by email or id through `admin`; returns the user's id. */
export async function setAdmin(
  admin: SupabaseClient,
  who: string,
  makeAdmin: boolean,
): Promise<string> {
  const id = await findUserId(admin, who);
  if (!id) throw new Error(`no user ${who}`);
  // GoTrue merges app_metadata key by key; null removes the key.
  const { error } = await admin.auth.admin.updateUserById(id, {
    app_metadata: { role: makeAdmin ? "admin" : null },
  });
  if (error) throw error;
  return id;
}

if (import.meta.main) {
  const args = Deno.args.filter((a) => a !== "--remove");
  const remove = Deno.args.includes("--remove");
  if (args.length !== 1) {
    console.error("usage: deno task admin <email | user id> [--remove]");
    Deno.exit(2);
  }
  try {
    const id = await setAdmin(await serviceClient(), args[0]!, !remove);
    console.log(
      `${args[0]} (${id}) is ${remove ? "no longer an admin" : "now an admin"}; ` +
        "sign in again (or refresh the session) so the new access token carries the role",
    );
  } catch (e) {
    console.error((e as Error).message);
    Deno.exitCode = 1;
  }
}
