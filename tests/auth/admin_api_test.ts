/**
 * The Auth admin API through supabase-js's `auth.admin` against the running stack, answered as
 * GoTrue answers it: who may call it, user creation, paging, updates (metadata merge, email
 * confirmation, password, bans in Go's duration syntax), soft and hard delete, and the invite
 * refused while no mail can be sent.
 */
import assert from "node:assert/strict";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { startTestStack, type TestStack } from "../harness/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
let started: Promise<TestStack> | undefined;
const stack = () => started ??= startTestStack();

function clientWith(s: TestStack, key: string): SupabaseClient {
  return createClient(s.info.supabaseUrl, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

const email = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}@example.com`;

Deno.test(
  "only service-role and secret keys may call the admin API (GoTrue's not_admin)",
  opts,
  async () => {
    const s = await stack();
    for (const key of [s.info.anonKey, s.info.publishableKey]) {
      const { data, error } = await clientWith(s, key).auth.admin.listUsers();
      assert.equal(error?.status, 403);
      assert.equal(error?.code, "not_admin");
      assert.equal(error?.message, "User not allowed");
      assert.deepEqual(data.users, []);
    }
    const user = s.client();
    const signed = await user.auth.signInAnonymously();
    assert.ifError(signed.error);
    const res = await fetch(`${s.info.supabaseUrl}/auth/v1/admin/users`, {
      headers: {
        apikey: s.info.anonKey,
        authorization: `Bearer ${signed.data.session!.access_token}`,
        "x-supabase-api-version": "2024-01-01",
      },
    });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { code: "not_admin", message: "User not allowed" });
    for (const key of [s.info.secretKey, s.info.serviceRoleKey]) {
      const { error } = await clientWith(s, key).auth.admin.listUsers();
      assert.equal(error, null);
    }
  },
);

Deno.test(
  "createUser and getUserById answer GoTrue's user; duplicates get email_exists",
  opts,
  async () => {
    const s = await stack();
    const admin = s.serviceClient();
    const address = email("created");
    const { data, error } = await admin.auth.admin.createUser({
      email: address.toUpperCase(),
      password: "a fine password",
      email_confirm: true,
      user_metadata: { name: "Ada" },
      app_metadata: { plan: "pro" },
    });
    assert.ifError(error);
    const user = data.user!;
    assert.equal(user.email, address);
    assert.ok(user.email_confirmed_at);
    assert.deepEqual(user.user_metadata, { name: "Ada" });
    assert.deepEqual(user.app_metadata, { provider: "email", providers: ["email"], plan: "pro" });
    assert.equal(user.identities?.[0]?.provider, "email");

    const got = await admin.auth.admin.getUserById(user.id);
    assert.equal(got.data.user?.id, user.id);
    const missing = await admin.auth.admin.getUserById(crypto.randomUUID());
    assert.equal(missing.error?.status, 404);
    assert.equal(missing.error?.code, "user_not_found");

    const again = await admin.auth.admin.createUser({ email: address, password: "another one" });
    assert.equal(again.error?.status, 422);
    assert.equal(again.error?.code, "email_exists");
    const none = await admin.auth.admin.createUser({ password: "no address" });
    assert.equal(none.error?.status, 400);
    assert.equal(none.error?.message, "Cannot create a user without either an email or phone");

    const signIn = await s.client().auth.signInWithPassword({
      email: address,
      password: "a fine password",
    });
    assert.ifError(signIn.error);
  },
);

Deno.test("listUsers pages newest first with GoTrue's Link and X-Total-Count", opts, async () => {
  const s = await stack();
  const admin = s.serviceClient();
  const before = await admin.auth.admin.listUsers({ page: 1, perPage: 1 });
  assert.ifError(before.error);
  const baseline = before.data.total;
  for (let i = 0; i < 5; i++) {
    const { error } = await admin.auth.admin.createUser({ email: email(`page${i}`) });
    assert.ifError(error);
  }
  const total = baseline + 5;
  const first = await admin.auth.admin.listUsers({ page: 1, perPage: 2 });
  assert.ifError(first.error);
  assert.equal(first.data.users.length, 2);
  assert.equal(first.data.aud, "authenticated");
  assert.equal(first.data.total, total);
  assert.equal(first.data.nextPage, 2);
  assert.equal(first.data.lastPage, Math.ceil(total / 2));
  const createdAt = first.data.users.map((u) => Date.parse(u.created_at));
  assert.ok(createdAt[0]! >= createdAt[1]!, "newest first");

  const res = await fetch(`${s.info.supabaseUrl}/auth/v1/admin/users?per_page=2&page=1`, {
    headers: { apikey: s.info.secretKey, authorization: `Bearer ${s.info.secretKey}` },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-total-count"), String(total));
  assert.equal(
    res.headers.get("link"),
    `</admin/users?page=2&per_page=2>; rel="next", </admin/users?page=${
      Math.ceil(total / 2)
    }&per_page=2>; rel="last"`,
  );
  await res.body?.cancel();

  const last = await admin.auth.admin.listUsers({ page: Math.ceil(total / 2), perPage: 2 });
  assert.ifError(last.error);
  assert.equal(last.data.nextPage, null, "no next page on the last one");
  assert.equal(last.data.users.length, total % 2 === 0 ? 2 : 1);
});

Deno.test(
  "updateUserById merges metadata, confirms the email and sets the password",
  opts,
  async () => {
    const s = await stack();
    const admin = s.serviceClient();
    const address = email("update");
    const created = await admin.auth.admin.createUser({
      email: address,
      password: "first password",
      user_metadata: { keep: 1, drop: 2 },
    });
    assert.ifError(created.error);
    const id = created.data.user!.id;

    const unconfirmed = await s.client().auth.signInWithPassword({
      email: address,
      password: "first password",
    });
    assert.equal(unconfirmed.error?.code, "email_not_confirmed");

    const { data, error } = await admin.auth.admin.updateUserById(id, {
      app_metadata: { role: "admin", provider: "email" },
      user_metadata: { drop: null, added: "yes" },
      email_confirm: true,
      password: "second password",
    });
    assert.ifError(error);
    assert.deepEqual(data.user!.user_metadata, { keep: 1, added: "yes" });
    assert.equal(data.user!.app_metadata.role, "admin");
    assert.deepEqual(data.user!.app_metadata.providers, ["email"]);
    assert.ok(data.user!.email_confirmed_at);

    const removed = await admin.auth.admin.updateUserById(id, { app_metadata: { role: null } });
    assert.equal(removed.data.user!.app_metadata.role, undefined, "null removes the key");

    const old = await s.client().auth.signInWithPassword({
      email: address,
      password: "first password",
    });
    assert.equal(old.error?.code, "invalid_credentials");
    const fresh = await s.client().auth.signInWithPassword({
      email: address,
      password: "second password",
    });
    assert.ifError(fresh.error);
    assert.equal(fresh.data.session!.user.app_metadata.role, undefined);
  },
);

Deno.test(
  "a banned user cannot sign in, refresh or use their token; none unbans",
  opts,
  async () => {
    const s = await stack();
    const admin = s.serviceClient();
    const address = email("banned");
    const created = await admin.auth.admin.createUser({
      email: address,
      password: "ban me please",
      email_confirm: true,
    });
    assert.ifError(created.error);
    const id = created.data.user!.id;
    const user = s.client();
    const session = await user.auth.signInWithPassword({
      email: address,
      password: "ban me please",
    });
    assert.ifError(session.error);

    const bad = await admin.auth.admin.updateUserById(id, { ban_duration: "ten days" });
    assert.equal(bad.error?.status, 400);
    assert.equal(
      bad.error?.message,
      'invalid format for ban duration: time: invalid duration "ten days"',
    );

    const banned = await admin.auth.admin.updateUserById(id, { ban_duration: "1h30m" });
    assert.ifError(banned.error);
    const until = Date.parse(banned.data.user!.banned_until!);
    assert.ok(until > Date.now() + 80 * 60_000 && until <= Date.now() + 91 * 60_000);

    const signIn = await s.client().auth.signInWithPassword({
      email: address,
      password: "ban me please",
    });
    assert.equal(signIn.error?.code, "user_banned");
    assert.equal(signIn.error?.status, 400);
    const refreshed = await user.auth.refreshSession();
    assert.equal(refreshed.error?.code, "user_banned");
    assert.equal(refreshed.error?.message, "Invalid Refresh Token: User Banned");
    const me = await user.auth.getUser(session.data.session!.access_token);
    assert.equal(me.error?.code, "user_banned");
    assert.equal(me.error?.status, 403);

    const lifted = await admin.auth.admin.updateUserById(id, { ban_duration: "none" });
    assert.ifError(lifted.error);
    assert.equal(lifted.data.user!.banned_until, undefined);
    // The refused refresh spent nothing: the same refresh token works once the ban is lifted
    // (a new client: supabase-js dropped the session it could not refresh).
    const back = await s.client().auth.refreshSession({
      refresh_token: session.data.session!.refresh_token,
    });
    assert.ifError(back.error);
  },
);

Deno.test(
  "soft delete keeps the row: deleted_at, obfuscated email, no identities data, no sessions",
  opts,
  async () => {
    const s = await stack();
    const admin = s.serviceClient();
    const address = email("soft");
    const created = await admin.auth.admin.createUser({
      email: address,
      password: "soft delete me",
      email_confirm: true,
      user_metadata: { name: "Soft" },
    });
    const id = created.data.user!.id;
    const user = s.client();
    const session = await user.auth.signInWithPassword({
      email: address,
      password: "soft delete me",
    });
    assert.ifError(session.error);

    const { error } = await admin.auth.admin.deleteUser(id, true);
    assert.ifError(error);
    const rows = await s.superSql<
      { email: string; deleted_at: Date | null; raw_user_meta_data: Record<string, unknown> }[]
    >`select email, deleted_at, raw_user_meta_data from auth.users where id = ${id}::uuid`;
    assert.equal(rows.length, 1, "the row stays");
    assert.ok(rows[0]!.deleted_at);
    assert.notEqual(rows[0]!.email, address);
    assert.match(rows[0]!.email, /^[A-Za-z0-9_-]{43}$/, "GoTrue's base64url sha256");
    assert.deepEqual(rows[0]!.raw_user_meta_data, {});
    const identities = await s.superSql<{ identity_data: Record<string, unknown> }[]>`
    select identity_data from auth.identities where user_id = ${id}::uuid`;
    assert.ok(identities.every((i) => Object.keys(i.identity_data).length === 0));
    const sessions = await s.superSql`select 1 from auth.sessions where user_id = ${id}::uuid`;
    assert.equal(sessions.length, 0);

    const signIn = await s.client().auth.signInWithPassword({
      email: address,
      password: "soft delete me",
    });
    assert.equal(signIn.error?.code, "invalid_credentials");
    const refreshed = await user.auth.refreshSession();
    assert.equal(refreshed.error?.code, "refresh_token_not_found");
    const got = await admin.auth.admin.getUserById(id);
    assert.ok(got.data.user?.deleted_at, "the admin API still finds it, marked deleted");

    const hard = await admin.auth.admin.deleteUser(id);
    assert.ifError(hard.error);
    const gone = await s.superSql`select 1 from auth.users where id = ${id}::uuid`;
    assert.equal(gone.length, 0);
  },
);

Deno.test("inviteUserByEmail answers GoTrue's error while no mail can be sent", opts, async () => {
  const s = await stack();
  const address = email("invited");
  const { error } = await s.serviceClient().auth.admin.inviteUserByEmail(address);
  assert.equal(error?.status, 500);
  assert.equal(error?.message, "Error sending invite email");
  const rows = await s.superSql`select 1 from auth.users where email = ${address}`;
  assert.equal(rows.length, 0, "nothing was created");
  await (await stack()).stop();
});
