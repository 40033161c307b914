/**
 * Platform paths the stack does not serve answer JSON errors in the platform's own shape, never
 * the web app's HTML page: the Data API (`/rest/v1`, `/graphql/v1`) answers PostgREST's
 * `{code, details, hint, message}` so postgrest-js reports a readable error, and unknown routes
 * under the other API prefixes answer as Supabase's gateway or the service would. Pages outside
 * the API prefixes still fall back to the app shell.
 */
import assert from "node:assert/strict";
import { startTestStack } from "../harness/stack.ts";

const WEB_DIR = decodeURIComponent(new URL("./fixtures/web_dist", import.meta.url).pathname);

Deno.test("platform paths the stack does not serve answer JSON errors", async (t) => {
  await using stack = await startTestStack({ webDir: WEB_DIR });
  const url = stack.info.supabaseUrl;
  const apikey = { apikey: stack.info.anonKey };

  await t.step("supabase.from() gets PostgREST's error saying PostgREST is not local", async () => {
    const { data, error, status } = await stack.client().from("jobs").select("*");
    assert.equal(data, null);
    assert.equal(status, 404);
    assert.equal(error?.code, "PGRST125");
    assert.match(error?.message ?? "", /PostgREST.*not part of the local stack/);
    assert.match(error?.hint ?? "", /docs\/data-api-local\.md/);
    assert.match(error?.details ?? "", /GET \/rest\/v1\/jobs/);
  });

  await t.step("supabase.rpc() gets the same error, not retried", async () => {
    const { error, status } = await stack.client().rpc("anything", { x: 1 });
    assert.equal(status, 404);
    assert.equal(error?.code, "PGRST125");
    assert.match(error?.details ?? "", /POST \/rest\/v1\/rpc\/anything/);
  });

  await t.step("/rest/v1 and /graphql/v1 answer JSON with CORS, never the app shell", async () => {
    for (const path of ["/rest/v1", "/rest/v1/", "/rest/v1/jobs?select=id", "/graphql/v1"]) {
      const res = await fetch(`${url}${path}`, { headers: apikey });
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get("content-type"), "application/json", path);
      assert.equal(res.headers.get("access-control-allow-origin"), "*", path);
      const body = await res.json();
      assert.deepEqual(Object.keys(body).sort(), ["code", "details", "hint", "message"], path);
    }
    const gql = await fetch(`${url}/graphql/v1`, {
      method: "POST",
      headers: { ...apikey, "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    assert.equal(gql.status, 404);
    assert.equal((await gql.json()).code, "PGRST125");
  });

  await t.step(
    "a browser's preflight to /rest/v1 is answered like Supabase's gateway",
    async () => {
      const res = await fetch(`${url}/rest/v1/jobs`, {
        method: "OPTIONS",
        headers: {
          origin: "http://localhost:5173",
          "access-control-request-method": "GET",
          "access-control-request-headers": "apikey, authorization",
        },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      await res.body?.cancel();
    },
  );

  await t.step("unknown Storage routes answer Storage's own 404", async () => {
    const res = await fetch(`${url}/storage/v1/nowhere/at/all?x=1`, { headers: apikey });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      statusCode: "404",
      code: "InvalidRequest",
      error: "Not Found",
      message: "Route GET:/nowhere/at/all?x=1 not found",
    });
  });

  await t.step("unknown Auth, Functions and Realtime paths answer JSON", async () => {
    for (
      const path of [
        "/auth/v1/nowhere",
        "/functions/v1",
        "/functions/v1/",
        "/realtime/v1",
        "/realtime/v1/nowhere",
      ]
    ) {
      const res = await fetch(`${url}${path}`, { headers: apikey });
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/, path);
      const body = await res.json();
      assert.equal(typeof (body.message ?? body.msg), "string", path);
    }
  });

  await t.step("pages outside the API prefixes still get the app shell", async () => {
    for (const path of ["/jobs/123", "/rest", "/restv1/x", "/storage/v2/x"]) {
      const res = await fetch(`${url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type") ?? "", /text\/html/, path);
      assert.match(await res.text(), /fixture app shell/, path);
    }
  });
});
