import assert from "node:assert/strict";
import { loadEnv } from "./env.ts";

const REQUIRED: Record<string, string> = {
  SUPABASE_URL: "https://ref.supabase.co",
  SUPABASE_DB_URL: "postgresql://postgres@db/postgres",
  SUPABASE_SERVICE_ROLE_KEY: "service-key",
};

Deno.test("by default one user holds fewer fal slots than there are", () => {
  const env = loadEnv((name) => REQUIRED[name]);
  assert.ok(
    env.USER_MAX_ACTIVE < env.FAL_MAX_CONCURRENCY,
    `USER_MAX_ACTIVE ${env.USER_MAX_ACTIVE} < FAL_MAX_CONCURRENCY ${env.FAL_MAX_CONCURRENCY}`,
  );
  assert.deepEqual([env.FAL_MAX_CONCURRENCY, env.USER_MAX_ACTIVE], [2, 1]);
});
