/**
 * Which database URL and which service key the functions pick from what the platform injects:
 * the choices that decide whether Vidqueue works on a hosted project with legacy keys disabled
 * and behind the transaction pooler.
 */
import assert from "node:assert/strict";
import { EnvError, loadEnv } from "./env.ts";
import { poolSettings } from "./db.ts";

const LEGACY_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.sig";
const SECRET = "sb_secret_AAAAAAAAAAAAAAAAAAAAAA_abcd";

function envOf(vars: Record<string, string>) {
  const all: Record<string, string> = {
    SUPABASE_URL: "https://abc.supabase.co",
    SUPABASE_DB_URL: "postgresql://postgres:pw@db.abc.supabase.co:5432/postgres",
    ...vars,
  };
  return loadEnv((name) => all[name]);
}

Deno.test("a key from SUPABASE_SECRET_KEYS wins over the legacy SUPABASE_SERVICE_ROLE_KEY", () => {
  const env = envOf({
    SUPABASE_SERVICE_ROLE_KEY: LEGACY_JWT,
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET }),
  });
  assert.equal(env.serviceKey, SECRET);
});

Deno.test("the default secret key is chosen among several, else the first one", () => {
  const named = envOf({
    SUPABASE_SECRET_KEYS: JSON.stringify({ ci: "sb_secret_ci", default: SECRET }),
  });
  assert.equal(named.serviceKey, SECRET);
  const unnamed = envOf({ SUPABASE_SECRET_KEYS: JSON.stringify({ backend: "sb_secret_b" }) });
  assert.equal(unnamed.serviceKey, "sb_secret_b");
});

Deno.test("without secret keys the legacy service_role key is still used", () => {
  assert.equal(envOf({ SUPABASE_SERVICE_ROLE_KEY: LEGACY_JWT }).serviceKey, LEGACY_JWT);
  assert.equal(
    envOf({ SUPABASE_SERVICE_ROLE_KEY: LEGACY_JWT, SUPABASE_SECRET_KEYS: "{}" }).serviceKey,
    LEGACY_JWT,
  );
});

Deno.test("no service key at all, or secret keys that are not a JSON object, fail at start-up", () => {
  assert.throws(() => envOf({}), EnvError);
  assert.throws(() => envOf({ SUPABASE_SECRET_KEYS: "sb_secret_x" }), /not a JSON object/);
  assert.throws(() => envOf({ SUPABASE_SECRET_KEYS: '["sb_secret_x"]' }), /not a JSON object/);
});

Deno.test("VIDQUEUE_DB_URL (the transaction pooler) wins over the direct SUPABASE_DB_URL", () => {
  const pooler =
    "postgresql://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres";
  const direct = envOf({ SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET }) });
  assert.equal(direct.dbUrl, direct.SUPABASE_DB_URL);
  assert.equal(direct.dbPooled, false);
  const pooled = envOf({
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET }),
    VIDQUEUE_DB_URL: pooler,
  });
  assert.equal(pooled.dbUrl, pooler);
  assert.equal(pooled.dbPooled, true);
  const empty = envOf({
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET }),
    VIDQUEUE_DB_URL: "",
  });
  assert.equal(empty.dbPooled, false, "an empty secret counts as unset");
});

Deno.test("pools are small on the direct connection and close idle connections", () => {
  const direct = poolSettings(false);
  const pooled = poolSettings(true);
  assert.equal(direct.max, 2);
  assert.equal(pooled.max, 4);
  assert.ok(direct.idleTimeoutS > 0 && direct.idleTimeoutS <= 30);
  assert.ok(pooled.idleTimeoutS > 0 && pooled.idleTimeoutS <= 30);
});
