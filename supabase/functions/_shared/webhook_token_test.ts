import assert from "node:assert/strict";
import { createWebhookTokens } from "./webhook_token.ts";

const JOB = "10000000-0000-4000-8000-000000000001";

Deno.test("a token verifies for its job and dispatch only", async () => {
  const tokens = createWebhookTokens({ serviceKey: "service-key" });
  const t = await tokens.mint(JOB, 2);
  assert.match(t, /^[A-Za-z0-9_-]{43}$/, "32 bytes, base64url");
  assert.equal(await tokens.verify(JOB, 2, t), true);
  assert.equal(await tokens.verify(JOB, 1, t), false);
  assert.equal(await tokens.verify("10000000-0000-4000-8000-000000000002", 2, t), false);
  for (const bad of [null, undefined, "", t.slice(1), t + "A", "=".repeat(43), "ü".repeat(43)]) {
    assert.equal(await tokens.verify(JOB, 2, bad), false, String(bad));
  }
});

Deno.test("tokens are keyed: a different service key or WEBHOOK_TOKEN_SECRET mints different ones", async () => {
  const derived = createWebhookTokens({ serviceKey: "service-key" });
  const t = await derived.mint(JOB, 1);
  assert.equal(await createWebhookTokens({ serviceKey: "service-key" }).verify(JOB, 1, t), true);
  assert.equal(await createWebhookTokens({ serviceKey: "rotated" }).verify(JOB, 1, t), false);
  const dedicated = createWebhookTokens({ secret: "x".repeat(32), serviceKey: "service-key" });
  assert.notEqual(
    await dedicated.mint(JOB, 1),
    t,
    "the dedicated secret wins over the service key",
  );
  assert.equal(
    await createWebhookTokens({ secret: "x".repeat(32), serviceKey: "other" }).verify(
      JOB,
      1,
      await dedicated.mint(JOB, 1),
    ),
    true,
    "with a dedicated secret the service key does not matter",
  );
});

Deno.test("the derived key is not the service key itself (a plain HMAC under it differs)", async () => {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode("service-key"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const plain = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${JOB}:1`)),
  );
  const plainB64 = btoa(String.fromCharCode(...plain)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
  assert.notEqual(await createWebhookTokens({ serviceKey: "service-key" }).mint(JOB, 1), plainB64);
});
