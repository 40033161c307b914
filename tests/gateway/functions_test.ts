/**
 * Edge Functions through the gateway, called with the unmodified supabase-js and plain fetch,
 * checked against Supabase's documented behaviour: env vars, verify_jwt, CORS preflight left to
 * the function, raw bodies and headers passed through, EdgeRuntime.waitUntil, crash recovery.
 */
import assert from "node:assert/strict";
import { FunctionsHttpError } from "@supabase/supabase-js";
import { startTestStack } from "../harness/stack.ts";

const FUNCTIONS_DIR = decodeURIComponent(
  new URL("./fixtures/supabase/functions", import.meta.url).pathname,
);

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("edge functions behave as on Supabase", async (t) => {
  await using stack = await startTestStack({
    functionsDir: FUNCTIONS_DIR,
    env: { FIXTURE_OPTION_SECRET: "from-option" },
  });
  const base = `${stack.info.supabaseUrl}/functions/v1`;

  await t.step("a function sees Supabase's env vars, .env secrets and the env option", async () => {
    const { data, error } = await stack.client().functions.invoke("echo", { body: { hi: 1 } });
    assert.equal(error, null);
    const env = data.env as Record<string, string>;
    assert.equal(env.SUPABASE_URL, stack.info.supabaseUrl);
    assert.equal(env.SUPABASE_ANON_KEY, stack.info.anonKey);
    assert.equal(env.SUPABASE_SERVICE_ROLE_KEY, stack.info.serviceRoleKey);
    assert.equal(env.SUPABASE_DB_URL, stack.info.dbUrl);
    assert.deepEqual(JSON.parse(env.SUPABASE_PUBLISHABLE_KEYS!), {
      default: stack.info.publishableKey,
    });
    assert.deepEqual(JSON.parse(env.SUPABASE_SECRET_KEYS!), { default: stack.info.secretKey });
    const jwks = JSON.parse(env.SUPABASE_JWKS!);
    assert.equal(jwks.keys[0].alg, "ES256");
    assert.equal(jwks.keys[0].d, undefined, "only the public key is published");
    assert.equal(env.FIXTURE_DOTENV_SECRET, "from-dotenv");
    assert.equal(env.FIXTURE_OPTION_SECRET, "from-option");
    assert.equal(data.edgeRuntime, "object");
  });

  await t.step("functions.invoke with a user's session sends that user's JWT", async () => {
    const client = stack.client();
    const { data: auth } = await client.auth.signInAnonymously();
    const token = auth.session!.access_token;
    const { data, error } = await client.functions.invoke("echo", { body: { a: 1 } });
    assert.equal(error, null);
    assert.equal(data.headers.authorization, `Bearer ${token}`);
    assert.equal(data.method, "POST");
    assert.equal(data.path, "/echo");
  });

  await t.step("verify_jwt = false lets a call without any JWT through", async () => {
    const res = await fetch(`${base}/echo/sub/path?x=1&y=two`, { method: "GET" });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.path, "/echo/sub/path");
    assert.equal(body.search, "?x=1&y=two");
    assert.equal(body.headers.authorization, undefined);
  });

  await t.step("verify_jwt = true (the default) refuses calls without a valid JWT", async () => {
    const missing = await fetch(`${base}/guarded`, { method: "POST", body: "{}" });
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), { code: 401, message: "Missing authorization header" });
    const forged = await fetch(`${base}/guarded`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.info.anonKey.slice(0, -4)}AAAA` },
    });
    assert.equal(forged.status, 401);
    assert.deepEqual(await forged.json(), { code: 401, message: "Invalid JWT" });
    const opaque = await fetch(`${base}/guarded`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.info.publishableKey}` },
    });
    assert.equal(opaque.status, 401, "the legacy gate does not understand sb_ keys");
    await opaque.body?.cancel();
    // supabase-js sends the anon key as the bearer when nobody is signed in: a valid JWT.
    const { data, error } = await stack.client().functions.invoke("guarded");
    assert.equal(error, null);
    assert.equal(data.authorization, `Bearer ${stack.info.anonKey}`);
  });

  await t.step("a CORS preflight reaches the function without a JWT", async () => {
    const res = await fetch(`${base}/guarded`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  });

  await t.step("raw bodies and X-Fal-* headers arrive unchanged", async () => {
    const bytes = new Uint8Array(300_000);
    for (let i = 0; i < bytes.length; i += 65_536) {
      crypto.getRandomValues(bytes.subarray(i, i + 65_536));
    }
    const res = await fetch(`${base}/echo?job_id=42`, {
      method: "POST",
      headers: {
        "content-type": "application/octet-stream",
        "x-fal-webhook-request-id": "req-1",
        "x-fal-webhook-signature": "ab".repeat(64),
      },
      body: bytes,
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.bodyLength, bytes.length);
    assert.equal(body.bodySha256, await sha256Hex(bytes));
    assert.equal(body.headers["x-fal-webhook-request-id"], "req-1");
    assert.equal(body.headers["x-fal-webhook-signature"], "ab".repeat(64));
    assert.equal(body.search, "?job_id=42");
  });

  await t.step("EdgeRuntime.waitUntil work continues after the answer", async () => {
    const first = await fetch(`${base}/echo/background`, { method: "POST" });
    assert.equal(first.status, 202, "answered while the background work was still pending");
    await first.body?.cancel();
    const second = await fetch(`${base}/echo/background/release`, { method: "POST" });
    assert.deepEqual(await second.json(), {
      result: "background work finished after the answer",
    });
  });

  await t.step("a worker that dies mid-request answers 5xx JSON, then is restarted", async () => {
    const before = await (await fetch(`${base}/crashy`)).json();
    const crash = await fetch(`${base}/crashy/exit`, { method: "POST" });
    assert.ok(crash.status >= 500, `status ${crash.status}`);
    const body = await crash.json();
    assert.equal(body.code, "WORKER_ERROR");
    const { data, error } = await stack.client().functions.invoke("crashy", { method: "GET" });
    assert.equal(error, null);
    assert.notEqual(data.pid, before.pid, "a new worker process answers");
  });

  await t.step("a function that cannot boot answers 503 BOOT_ERROR", async () => {
    const res = await fetch(`${base}/broken`, {
      headers: { authorization: `Bearer ${stack.info.anonKey}` },
    });
    assert.equal(res.status, 503);
    assert.equal((await res.json()).code, "BOOT_ERROR");
  });

  await t.step("functions run under the Edge Runtime's Deno with their own deno.json", async () => {
    const { data, error } = await stack.client().functions.invoke("runtime");
    assert.equal(error, null);
    assert.deepEqual(data, { deno: "2.1.4", parsed: { a: 1 } });
  });

  await t.step("a bare import missing from the function's deno.json does not boot", async () => {
    // The repository's root deno.json maps "zod"; deploy never uploads it, nor may the gateway
    // fall back to it.
    const { error } = await stack.client().functions.invoke("unmapped");
    assert.ok(error instanceof FunctionsHttpError);
    assert.equal(error.context.status, 503);
    assert.equal((await error.context.json()).code, "BOOT_ERROR");
  });

  await t.step("unknown functions and _shared are not routes", async () => {
    for (const name of ["nope", "_shared"]) {
      const res = await fetch(`${base}/${name}`);
      assert.equal(res.status, 404);
      assert.equal((await res.json()).code, "NOT_FOUND");
    }
    const { error } = await stack.client().functions.invoke("nope");
    assert.ok(error instanceof FunctionsHttpError);
    assert.equal(error.context.status, 404);
    await error.context.body?.cancel();
  });

  await t.step("cold starts are measured", () => {
    const stats = stack.stack.gateway.functions.stats();
    const colds = Object.values(stats).flatMap((s) => s.coldStartsMs);
    assert.ok(colds.length >= 3);
    console.log(
      `cold starts (ms): ${JSON.stringify(stats, (k, v) => (k === "running" ? undefined : v))}`,
    );
  });
});
