/**
 * The gateway as a whole: readiness, what `startStack` publishes (stack.json, keys), the web
 * app and its runtime config, legacy and new API keys, Realtime wired behind the same port,
 * and sessions surviving a restart of the stack.
 */
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { startTestStack } from "../harness/stack.ts";

const WEB_DIR = decodeURIComponent(new URL("./fixtures/web_dist", import.meta.url).pathname);

function claimsOf(token: string): Record<string, unknown> {
  const b64 = token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
}

/** Resolves with the first value `register` hands to its callback, or rejects after `ms`. */
function within<T>(ms: number, what: string, register: (done: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

Deno.test("the gateway serves the stack on one port", async (t) => {
  const localDir = await Deno.makeTempDir({ prefix: "vq-gw-" });
  if (Deno.uid() === 0) await Deno.chmod(localDir, 0o755);
  try {
    let session: { access_token: string; refresh_token: string; userId: string };
    {
      await using stack = await startTestStack({ localDir, webDir: WEB_DIR });
      const url = stack.info.supabaseUrl;

      await t.step("/health answers 200 and stack.json describes the stack", async () => {
        const res = await fetch(`${url}/health`);
        assert.equal(res.status, 200);
        await res.body?.cancel();
        const info = JSON.parse(await Deno.readTextFile(`${localDir}/stack.json`));
        assert.deepEqual(info, JSON.parse(JSON.stringify(stack.info)));
        for (
          const key of [
            "supabaseUrl",
            "anonKey",
            "serviceRoleKey",
            "dbUrl",
            "falUrl",
            "webUrl",
            "ports",
          ]
        ) {
          assert.ok(key in info, key);
        }
        assert.equal(info.webUrl, `${url}/`);
      });

      await t.step("the legacy keys are HS256 JWTs like hosted projects' keys", () => {
        const anon = claimsOf(stack.info.anonKey);
        const service = claimsOf(stack.info.serviceRoleKey);
        assert.equal(anon.iss, "supabase");
        assert.equal(anon.role, "anon");
        assert.equal(service.role, "service_role");
        assert.ok((anon.exp as number) > Date.now() / 1000 + 5 * 365 * 24 * 3600);
        assert.match(stack.info.publishableKey, /^sb_publishable_/);
        assert.match(stack.info.secretKey, /^sb_secret_/);
      });

      await t.step("the web app is served at / with an SPA fallback and /config.json", async () => {
        const index = await fetch(`${url}/`);
        assert.equal(index.status, 200);
        assert.match(index.headers.get("content-type") ?? "", /text\/html/);
        assert.match(await index.text(), /fixture app shell/);
        const asset = await fetch(`${url}/assets/app.js`);
        assert.match(asset.headers.get("content-type") ?? "", /javascript/);
        assert.equal(await asset.text(), 'console.log("fixture app");\n');
        const deep = await fetch(`${url}/jobs/123`);
        assert.match(await deep.text(), /fixture app shell/);
        const missing = await fetch(`${url}/assets/missing.js`);
        assert.equal(missing.status, 404);
        await missing.body?.cancel();
        const config = await (await fetch(`${url}/config.json`)).json();
        assert.deepEqual(config, { supabaseUrl: url, anonKey: stack.info.anonKey });
      });

      await t.step("a publishable key works as the anon key", async () => {
        const client = createClient(url, stack.info.publishableKey, {
          auth: { persistSession: false, autoRefreshToken: false },
        });
        const { data, error } = await client.auth.signInAnonymously();
        assert.equal(error, null);
        assert.ok(data.session);
      });

      await t.step("Auth answers CORS preflights like Supabase's gateway", async () => {
        const res = await fetch(`${url}/auth/v1/token?grant_type=password`, {
          method: "OPTIONS",
          headers: {
            origin: "http://localhost:5173",
            "access-control-request-method": "POST",
            "access-control-request-headers": "apikey, content-type, x-client-info",
          },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        assert.equal(
          res.headers.get("access-control-allow-headers"),
          "apikey, content-type, x-client-info",
        );
        await res.body?.cancel();
      });

      await t.step("Realtime is reachable through the gateway with user tokens", async () => {
        const client = stack.client();
        const { data } = await client.auth.signInAnonymously();
        client.realtime.setAuth(data.session!.access_token);
        const channel = client.channel("gw-wiring");
        try {
          const got = within<unknown>(5000, "a database broadcast", (done) => {
            channel.on("broadcast", { event: "ping" }, (msg) => done(msg.payload));
          });
          await within<void>(5000, "SUBSCRIBED", (done) => {
            channel.subscribe((status) => {
              if (status === "SUBSCRIBED") done();
            });
          });
          await stack.superSql`select realtime.send('{"n": 1}'::jsonb, 'ping', 'gw-wiring', false)`;
          const payload = await got as Record<string, unknown>;
          assert.equal(payload.n, 1);
        } finally {
          await client.removeAllChannels();
          client.realtime.disconnect();
        }
      });

      const client = stack.client();
      const { data } = await client.auth.signInAnonymously();
      session = {
        access_token: data.session!.access_token,
        refresh_token: data.session!.refresh_token,
        userId: data.user!.id,
      };
    }

    await t.step("keys and sessions survive a restart of the stack", async () => {
      await using again = await startTestStack({ localDir, webDir: WEB_DIR });
      const { data, error } = await again.client().auth.getUser(session.access_token);
      assert.equal(error, null);
      assert.equal(data.user?.id, session.userId);
      const refreshed = await again.client().auth.refreshSession({
        refresh_token: session.refresh_token,
      });
      assert.equal(refreshed.error, null);
      assert.equal(refreshed.data.user?.id, session.userId);
    });
  } finally {
    await Deno.remove(localDir, { recursive: true }).catch(() => {});
  }
});
