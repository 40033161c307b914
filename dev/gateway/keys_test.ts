/** The stack's keys: persisted, verifiable, and strict about what they accept. */
import assert from "node:assert/strict";
import { base64url, decodeJwt, hs256Key, signHs256 } from "./jwt.ts";
import { loadKeys } from "./keys.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "vq-keys-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("keys are generated once and reloaded unchanged", () =>
  withDir(async (dir) => {
    const first = await loadKeys(dir);
    const second = await loadKeys(dir);
    assert.equal(second.anonKey, first.anonKey);
    assert.equal(second.kid, first.kid);
    const token = await first.signAccessToken({ sub: "u1", role: "authenticated" });
    assert.deepEqual(await second.verifyToken(token), { sub: "u1", role: "authenticated" });
    assert.equal((await Deno.stat(`${dir}/keys.json`)).mode! & 0o077, 0);
  }));

Deno.test("verifyToken accepts our ES256 tokens and HS256 keys, nothing else", () =>
  withDir(async (dir) => {
    const keys = await loadKeys(dir);
    assert.equal((await keys.verifyToken(keys.anonKey))?.role, "anon");
    assert.equal((await keys.verifyToken(keys.serviceRoleKey))?.role, "service_role");
    assert.deepEqual(await keys.verifyToken(keys.publishableKey), { role: "anon" });
    assert.deepEqual(await keys.verifyToken(keys.secretKey), { role: "service_role" });

    const good = await keys.signAccessToken({ sub: "u", exp: Math.floor(Date.now() / 1000) + 60 });
    const [h, p, s] = good.split(".");
    const tampered = `${h}.${base64url(JSON.stringify({ sub: "admin" }))}.${s}`;
    assert.equal(await keys.verifyToken(tampered), null);
    assert.equal(await keys.verifyToken(`${base64url('{"alg":"none"}')}.${p}.`), null);
    const otherSecret = await signHs256({ role: "service_role" }, await hs256Key("not ours"));
    assert.equal(await keys.verifyToken(otherSecret), null);
    const expired = await keys.signAccessToken({
      sub: "u",
      exp: Math.floor(Date.now() / 1000) - 1,
    });
    assert.equal(await keys.verifyToken(expired), null);
    assert.equal(await keys.verifyToken("garbage"), null);
    // HS256 tokens are not user tokens for verifyWithSecret's callers either way round.
    assert.equal(await keys.verifyWithSecret(good), null);
  }));

Deno.test("the JWKS publishes only the public half with Supabase's fields", () =>
  withDir(async (dir) => {
    const keys = await loadKeys(dir);
    const [jwk] = keys.jwks.keys;
    assert.equal(jwk?.alg, "ES256");
    assert.equal(jwk?.kid, keys.kid);
    assert.equal(jwk?.use, "sig");
    assert.equal(jwk?.d, undefined);
    const token = await keys.signAccessToken({ sub: "x" });
    assert.equal(decodeJwt(token)?.header.kid, keys.kid);
  }));
