import assert from "node:assert/strict";
import { createAuthenticate } from "./auth.ts";
import { authIssuer, createJwtVerifier } from "./jwt.ts";

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const part = (obj: unknown) => b64url(enc.encode(JSON.stringify(obj)));

const ISS = "https://abcdefghijklmnopqrst.supabase.co/auth/v1";
/** What Supabase Auth puts in every user token besides the test's own claims. */
const registered = (claims: Record<string, unknown>) => ({
  iss: ISS,
  aud: "authenticated",
  ...claims,
});
const OPTS = { issuer: ISS, audience: "authenticated" };

async function es256Key() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const jwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid: "k1" };
  const sign = async (claims: Record<string, unknown>, kid = "k1") => {
    const head = `${part({ alg: "ES256", typ: "JWT", kid })}.${part(registered(claims))}`;
    const sig = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      pair.privateKey,
      enc.encode(head),
    );
    return `${head}.${b64url(new Uint8Array(sig))}`;
  };
  return { jwk, sign };
}

async function hs256(secret: string, claims: Record<string, unknown>) {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const head = `${part({ alg: "HS256", typ: "JWT" })}.${part(registered(claims))}`;
  return `${head}.${
    b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(head))))
  }`;
}

const NOW = 1_800_000_000;
const USER = "6f1c1a52-1111-4a4a-8888-000000000001";

Deno.test("an ES256 user token from the project's JWKS authenticates its user", async () => {
  const { jwk, sign } = await es256Key();
  const verify = createJwtVerifier({
    ...OPTS,
    jwks: () => Promise.resolve([jwk]),
    now: () => NOW,
  });
  const auth = createAuthenticate(verify);
  const token = await sign({ sub: USER, role: "authenticated", exp: NOW + 60, is_anonymous: true });
  const user = await auth(
    new Request("http://x", { headers: { authorization: `Bearer ${token}` } }),
  );
  assert.equal(user.id, USER);
  assert.equal(user.isAnonymous, true);
});

Deno.test("expired, tampered, foreign-key and anon-key tokens are refused", async () => {
  const { jwk, sign } = await es256Key();
  const other = await es256Key();
  const verify = createJwtVerifier({
    ...OPTS,
    jwks: () => Promise.resolve([jwk]),
    now: () => NOW,
    legacySecret: "legacy-secret-0123456789",
  });
  const auth = createAuthenticate(verify);
  const good = await sign({ sub: USER, role: "authenticated", exp: NOW + 60 });
  const tokens = [
    await sign({ sub: USER, role: "authenticated", exp: NOW - 1 }),
    good.slice(0, -4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA"),
    await other.sign({ sub: USER, role: "authenticated", exp: NOW + 60 }),
    await hs256("legacy-secret-0123456789", { role: "anon", exp: NOW + 60, iss: "supabase" }),
    "not-a-jwt",
  ];
  for (const token of tokens) {
    await assert.rejects(
      auth(new Request("http://x", { headers: { authorization: `Bearer ${token}` } })),
      (e: unknown) => (e as { code?: string }).code === "unauthorized",
    );
  }
  await assert.rejects(auth(new Request("http://x")), /Sign in/);
});

Deno.test("legacy HS256 user tokens verify with the legacy secret only", async () => {
  const verify = createJwtVerifier({
    ...OPTS,
    jwks: () => Promise.resolve([]),
    now: () => NOW,
    legacySecret: "legacy-secret-0123456789",
  });
  const claims = { sub: USER, role: "authenticated", exp: NOW + 60 };
  assert.equal((await verify(await hs256("legacy-secret-0123456789", claims)))?.sub, USER);
  assert.equal(await verify(await hs256("another-secret-0123456789", claims)), null);
});

Deno.test("a token signed by a rotated-in key verifies after one JWKS refresh", async () => {
  const old = await es256Key();
  const fresh = await es256Key();
  let refreshes = 0;
  const verify = createJwtVerifier({
    ...OPTS,
    jwks: ({ refresh }) => {
      if (refresh) refreshes++;
      return Promise.resolve(refresh ? [{ ...fresh.jwk, kid: "k2" }] : [old.jwk]);
    },
    now: () => NOW,
  });
  const token = await fresh.sign({ sub: USER, role: "authenticated", exp: NOW + 60 }, "k2");
  assert.equal((await verify(token))?.sub, USER);
  assert.equal(refreshes, 1);
});

Deno.test("a token for another issuer or audience is refused, even signed with our key", async () => {
  const { jwk, sign } = await es256Key();
  const verify = createJwtVerifier({
    ...OPTS,
    jwks: () => Promise.resolve([jwk]),
    now: () => NOW,
    legacySecret: "legacy-secret-0123456789",
  });
  const user = { sub: USER, role: "authenticated", exp: NOW + 60 };
  assert.equal((await verify(await sign(user)))?.sub, USER);
  assert.equal(
    (await verify(await sign({ ...user, aud: ["other", "authenticated"] })))?.sub,
    USER,
    "an audience list that names us",
  );
  for (
    const claims of [
      { ...user, iss: "https://other.supabase.co/auth/v1" },
      { ...user, iss: `${ISS}/` },
      { ...user, iss: undefined },
      { ...user, aud: "anon" },
      { ...user, aud: ["other"] },
      { ...user, aud: undefined },
    ]
  ) {
    assert.equal(await verify(await sign(claims)), null, JSON.stringify(claims));
    assert.equal(await verify(await hs256("legacy-secret-0123456789", claims)), null);
  }
});

Deno.test("the issuer is the project's Auth URL", () => {
  assert.equal(authIssuer("https://ref.supabase.co"), "https://ref.supabase.co/auth/v1");
  assert.equal(authIssuer("http://127.0.0.1:54321/"), "http://127.0.0.1:54321/auth/v1");
});
