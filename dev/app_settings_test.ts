/**
 * applyAppSettings against a migrated database: env values reach public.settings, the sign-up
 * trigger uses them, unset values fall back to the defaults, bad values change nothing.
 */
import assert from "node:assert/strict";
import { freshDatabase, type Sql } from "../tests/harness/db.ts";
import { applyAppSettings } from "./app_settings.ts";

async function signUp(sql: Sql, anonymous: boolean): Promise<number> {
  const id = crypto.randomUUID();
  await sql`insert into auth.users (id, is_anonymous) values (${id}, ${anonymous})`;
  const [row] = await sql<{ available: number }[]>`
    select available from public.credit_accounts where user_id = ${id}`;
  return row?.available ?? -1;
}

Deno.test("FREE_CREDITS_ANON and FREE_CREDITS_USER decide what new users get", async () => {
  await using db = await freshDatabase();
  const applied = await applyAppSettings(db.sql, {
    FREE_CREDITS_ANON: "5",
    FREE_CREDITS_USER: " 250 ",
  });
  assert.deepEqual(applied, { set: { free_credits_anon: 5, free_credits_user: 250 }, removed: [] });
  assert.equal(await signUp(db.sql, true), 5);
  assert.equal(await signUp(db.sql, false), 250);
});

Deno.test("unset variables remove the setting so the defaults (20 / 100) apply", async () => {
  await using db = await freshDatabase();
  await applyAppSettings(db.sql, { FREE_CREDITS_ANON: "1", FREE_CREDITS_USER: "2" });
  const applied = await applyAppSettings(db.sql, { FREE_CREDITS_USER: "" });
  assert.deepEqual(applied.removed.sort(), ["free_credits_anon", "free_credits_user"]);
  assert.equal(await signUp(db.sql, true), 20);
  assert.equal(await signUp(db.sql, false), 100);
});

Deno.test("an invalid value throws and writes nothing", async () => {
  await using db = await freshDatabase();
  await applyAppSettings(db.sql, { FREE_CREDITS_ANON: "7" });
  for (const bad of ["-1", "ten", "1.5", "99999999999"]) {
    await assert.rejects(
      applyAppSettings(db.sql, { FREE_CREDITS_ANON: "8", FREE_CREDITS_USER: bad }),
      /FREE_CREDITS_USER must be a whole number/,
    );
  }
  assert.equal(await signUp(db.sql, true), 7);
});
