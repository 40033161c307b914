/**
 * Supabase Auth through the gateway with the unmodified supabase-js, checked against GoTrue's
 * documented behaviour: anonymous and password sign-up/sign-in, refresh with rotation, getUser,
 * getClaims against the JWKS, anonymous → permanent with the same id, sign-out, error codes.
 */
import assert from "node:assert/strict";
import { AuthApiError, isAuthWeakPasswordError } from "@supabase/supabase-js";
import { startTestStack } from "../harness/stack.ts";

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split(".")[1]!;
  const b64 = payload.replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
}

function headerOf(token: string): Record<string, unknown> {
  const b64 = token.split(".")[0]!.replaceAll("-", "+").replaceAll("_", "/");
  return JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
}

Deno.test("auth behaves as Supabase Auth", async (t) => {
  await using stack = await startTestStack();
  const email = `user-${crypto.randomUUID().slice(0, 8)}@example.com`;

  await t.step("anonymous sign-in gives a session with Supabase's claims", async () => {
    const client = stack.client();
    const { data, error } = await client.auth.signInAnonymously();
    assert.equal(error, null);
    const { session, user } = data;
    assert.ok(session && user);
    assert.equal(user.is_anonymous, true);
    assert.equal(session.token_type, "bearer");
    assert.equal(session.expires_in, 3600);
    const claims = claimsOf(session.access_token);
    for (
      const key of [
        "iss",
        "aud",
        "exp",
        "iat",
        "sub",
        "role",
        "aal",
        "session_id",
        "email",
        "phone",
        "is_anonymous",
        "app_metadata",
        "user_metadata",
      ]
    ) {
      assert.ok(key in claims, `claim ${key}`);
    }
    assert.equal(claims.sub, user.id);
    assert.equal(claims.role, "authenticated");
    assert.equal(claims.aud, "authenticated");
    assert.equal(claims.is_anonymous, true);
    assert.equal(claims.iss, `${stack.info.supabaseUrl}/auth/v1`);
    assert.equal(headerOf(session.access_token).alg, "ES256");
  });

  await t.step("getClaims verifies the access token against the published JWKS", async () => {
    const client = stack.client();
    const { data: signIn } = await client.auth.signInAnonymously();
    const { data, error } = await client.auth.getClaims();
    assert.equal(error, null);
    assert.equal(data?.claims.sub, signIn.user!.id);
    const jwks = await (await fetch(`${stack.info.supabaseUrl}/auth/v1/.well-known/jwks.json`))
      .json();
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].kid, headerOf(signIn.session!.access_token).kid);
    assert.equal(jwks.keys[0].d, undefined);
  });

  let userId = "";
  await t.step("email sign-up is auto-confirmed and signs the user in", async () => {
    const { data, error } = await stack.client().auth.signUp({ email, password: "s3cret-pass" });
    assert.equal(error, null);
    assert.ok(data.session);
    assert.equal(data.user?.email, email);
    assert.ok(data.user?.email_confirmed_at);
    assert.equal(data.user?.is_anonymous, false);
    assert.equal(data.user?.app_metadata.provider, "email");
    assert.equal(data.user?.identities?.[0]?.provider, "email");
    userId = data.user!.id;
  });

  await t.step("password sign-in returns the same user; a wrong password is refused", async () => {
    const { data, error } = await stack.client().auth.signInWithPassword({
      email: email.toUpperCase(),
      password: "s3cret-pass",
    });
    assert.equal(error, null);
    assert.equal(data.user?.id, userId);
    const wrong = await stack.client().auth.signInWithPassword({ email, password: "nope-nope" });
    assert.ok(wrong.error instanceof AuthApiError);
    assert.equal(wrong.error.status, 400);
    assert.equal(wrong.error.code, "invalid_credentials");
    assert.equal(wrong.error.message, "Invalid login credentials");
  });

  await t.step("signing up twice or with a weak password gets Supabase's errors", async () => {
    const again = await stack.client().auth.signUp({ email, password: "another-pass" });
    assert.equal(again.error?.status, 422);
    assert.equal(again.error?.code, "user_already_exists");
    const weak = await stack.client().auth.signUp({
      email: `weak-${crypto.randomUUID().slice(0, 6)}@example.com`,
      password: "123",
    });
    assert.ok(isAuthWeakPasswordError(weak.error));
    assert.equal(weak.error.status, 422);
    assert.deepEqual(weak.error.reasons, ["length"]);
  });

  await t.step("refresh rotates the refresh token and keeps the session", async () => {
    const client = stack.client();
    const { data: first } = await client.auth.signInWithPassword({
      email,
      password: "s3cret-pass",
    });
    const { data, error } = await client.auth.refreshSession();
    assert.equal(error, null);
    assert.ok(data.session);
    assert.notEqual(data.session.refresh_token, first.session!.refresh_token);
    assert.equal(
      claimsOf(data.session.access_token).session_id,
      claimsOf(first.session!.access_token).session_id,
    );
    const unknown = await stack.client().auth.refreshSession({ refresh_token: "not-a-token" });
    assert.equal(unknown.error?.code, "refresh_token_not_found");
  });

  await t.step("getUser answers for the signed-in user and fails after sign-out", async () => {
    const client = stack.client();
    const { data: signIn } = await client.auth.signInWithPassword({
      email,
      password: "s3cret-pass",
    });
    const token = signIn.session!.access_token;
    const { data, error } = await client.auth.getUser();
    assert.equal(error, null);
    assert.equal(data.user?.id, userId);
    const out = await client.auth.signOut({ scope: "local" });
    assert.equal(out.error, null);
    const after = await stack.client().auth.getUser(token);
    assert.ok(after.error, "the session of a signed-out token is gone");
    const noToken = await fetch(`${stack.info.supabaseUrl}/auth/v1/user`, {
      headers: { apikey: stack.info.anonKey },
    });
    assert.equal(noToken.status, 401);
    assert.equal((await noToken.json()).error_code, "no_authorization");
  });

  await t.step(
    "an anonymous user who adds email and password becomes permanent, same id",
    async () => {
      const client = stack.client();
      const { data: anon } = await client.auth.signInAnonymously();
      const anonId = anon.user!.id;
      const permanentEmail = `conv-${crypto.randomUUID().slice(0, 8)}@example.com`;
      const { data, error } = await client.auth.updateUser({
        email: permanentEmail,
        password: "converted-pass",
      });
      assert.equal(error, null);
      assert.equal(data.user?.id, anonId);
      assert.equal(data.user?.is_anonymous, false);
      assert.equal(data.user?.email, permanentEmail);
      const { data: refreshed } = await client.auth.refreshSession();
      assert.equal(claimsOf(refreshed.session!.access_token).is_anonymous, false);
      const { data: signIn } = await stack.client().auth.signInWithPassword({
        email: permanentEmail,
        password: "converted-pass",
      });
      assert.equal(signIn.user?.id, anonId);
    },
  );

  await t.step("user metadata updates merge into the user", async () => {
    const client = stack.client();
    await client.auth.signInAnonymously({ options: { data: { plan: "free" } } });
    const { data, error } = await client.auth.updateUser({ data: { nickname: "vq" } });
    assert.equal(error, null);
    assert.deepEqual(data.user?.user_metadata, { plan: "free", nickname: "vq" });
  });

  await t.step(
    "clients without the 2024-01-01 API version get GoTrue's legacy error shape",
    async () => {
      const res = await fetch(`${stack.info.supabaseUrl}/auth/v1/token?grant_type=password`, {
        method: "POST",
        headers: { apikey: stack.info.anonKey, "content-type": "application/json" },
        body: JSON.stringify({ email, password: "wrong-wrong" }),
      });
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), {
        code: 400,
        error_code: "invalid_credentials",
        msg: "Invalid login credentials",
      });
      const noKey = await fetch(`${stack.info.supabaseUrl}/auth/v1/settings`);
      assert.equal(noKey.status, 401);
      await noKey.body?.cancel();
    },
  );
});
