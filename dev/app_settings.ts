/**
 * Copies the app settings the database reads (public.settings) from the environment, so the dev
 * stack behaves as configured: `FREE_CREDITS_ANON` and `FREE_CREDITS_USER` (the credits a new
 * anonymous / permanent user gets from the sign-up trigger). On hosted Supabase the same rows are
 * set once with SQL; the trigger falls back to 20 / 100 when a row is missing.
 */
import type postgres from "postgres";

/** Environment variable -> settings key. */
export const APP_SETTINGS: Readonly<Record<string, string>> = {
  FREE_CREDITS_ANON: "free_credits_anon",
  FREE_CREDITS_USER: "free_credits_user",
};

/** What applyAppSettings did: the keys it set (with their values) and the keys it removed. */
export interface AppliedSettings {
  set: Record<string, number>;
  removed: string[];
}

function parseCredits(name: string, raw: string): number {
  const text = raw.trim();
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) > 2 ** 31 - 1) {
    throw new Error(`${name} must be a whole number of credits (0 or more), got ${raw}`);
  }
  return Number(text);
}

/**
 * Upserts each setting whose env var is set (a non-negative integer; anything else throws before
 * anything is written) and deletes the ones whose env var is unset or empty, so the database's
 * defaults apply again. Runs in one transaction; connect as `postgres` (or a superuser).
 */
export async function applyAppSettings(
  sql: postgres.Sql,
  env: Readonly<Record<string, string | undefined>>,
): Promise<AppliedSettings> {
  const applied: AppliedSettings = { set: {}, removed: [] };
  for (const [name, key] of Object.entries(APP_SETTINGS)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") applied.removed.push(key);
    else applied.set[key] = parseCredits(name, raw);
  }
  await sql.begin(async (tx) => {
    for (const [key, value] of Object.entries(applied.set)) {
      await tx`
        insert into public.settings (key, value, updated_at)
        values (${key}, to_jsonb(${value}::int), now())
        on conflict (key) do update set value = excluded.value, updated_at = now()`;
    }
    if (applied.removed.length) {
      await tx`delete from public.settings where key = any(${applied.removed}::text[])`;
    }
  });
  return applied;
}
