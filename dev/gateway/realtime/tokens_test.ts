/** Realtime's token rules on top of the gateway's signature check, with Supabase's wording. */
import assert from "node:assert/strict";
import { checkToken, peekClaims } from "./tokens.ts";

const NOW = 1_000_000;

function unsigned(claims: Record<string, unknown>): string {
  const part = (v: unknown) => btoa(JSON.stringify(v)).replaceAll("=", "");
  return `${part({ alg: "none" })}.${part(claims)}.sig`;
}

Deno.test("a valid token yields its claims, role and expiry", async () => {
  const claims = { role: "authenticated", sub: "u", exp: NOW + 60 };
  const result = await checkToken("t", () => Promise.resolve(claims), NOW);
  assert.deepEqual(result, { ok: true, claims, role: "authenticated", exp: NOW + 60 });
});

Deno.test("refusals are worded as Supabase Realtime words them", async () => {
  const refuse = () => Promise.resolve(null);
  assert.deepEqual(await checkToken(unsigned({ exp: NOW - 12 }), refuse, NOW), {
    ok: false,
    code: "InvalidJWTToken",
    message: "Token has expired 12 seconds ago",
  });
  assert.deepEqual(await checkToken("garbage", refuse, NOW), {
    ok: false,
    code: "JwtSignatureError",
    message: "Failed to validate JWT signature",
  });
  const noRole = await checkToken("t", () => Promise.resolve({ sub: "u" }), NOW);
  assert.deepEqual(noRole, {
    ok: false,
    code: "InvalidJWTToken",
    message: "Fields `role` and `exp` are required in JWT",
  });
  const stale = await checkToken("t", () => Promise.resolve({ role: "anon", exp: NOW }), NOW);
  assert.equal(stale.ok, false);
});

Deno.test("claims can be read from an unverified token, and garbage reads as nothing", () => {
  assert.deepEqual(peekClaims(unsigned({ a: 1 })), { a: 1 });
  assert.equal(peekClaims("x.y.z"), null);
  assert.equal(peekClaims(""), null);
});
