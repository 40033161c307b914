/**
 * Tells the database what the project's Auth does about confirmations, from
 * `supabase/config.toml` `[auth.email] enable_confirmations`: the setting
 * `signup_credits_need_confirmation` (20251207200300_signup_credits_confirmed.sql) is 1 when
 * sign-ups must confirm before they get their free credits, 0 when Auth does not ask for it. On
 * hosted Supabase the row is absent and means 1, which is right whatever Auth's setting: Auth
 * confirms users at sign-up when confirmations are off, which grants the credits then.
 */
import type postgres from "postgres";
import { parseToml } from "./gateway/project_config.ts";

/** Whether `config.toml` text turns email confirmations on (the CLI's default: off). */
export function emailConfirmationsOn(configToml: string): boolean {
  return parseToml(configToml).get("auth.email")?.enable_confirmations === true;
}

/** Upserts `signup_credits_need_confirmation` from `<projectDir>/supabase/config.toml`. */
export async function applyAuthSettings(sql: postgres.Sql, projectDir: string): Promise<number> {
  const text = await Deno.readTextFile(`${projectDir}/supabase/config.toml`).catch(() => "");
  const value = emailConfirmationsOn(text) ? 1 : 0;
  await sql`
    insert into public.settings (key, value, updated_at)
    values ('signup_credits_need_confirmation', to_jsonb(${value}::int), now())
    on conflict (key) do update set value = excluded.value, updated_at = now()`;
  return value;
}
