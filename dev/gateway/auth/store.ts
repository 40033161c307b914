/**
 * Auth's tables (`auth.users`, `auth.identities`, `auth.sessions`, `auth.refresh_tokens`) read and
 * written the way GoTrue does: writes run as `supabase_auth_admin` (with `search_path = auth`),
 * so project triggers on `auth.users` behave as on hosted Supabase (a trigger function that is
 * not `security definer` fails here as it would there). Passwords are bcrypt hashes (pgcrypto).
 */
import type postgres from "postgres";

export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  phone: string | null;
  phone_confirmed_at: Date | null;
  confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown>;
  raw_user_meta_data: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  banned_until: Date | null;
  is_anonymous: boolean;
  invited_at: Date | null;
  deleted_at: Date | null;
}

export interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  last_sign_in_at: Date | null;
  created_at: Date | null;
  updated_at: Date | null;
  email: string | null;
}

/** The outcome of presenting a refresh token. */
export type RefreshOutcome =
  | { ok: true; user: UserRow; sessionId: string; refreshToken: string; sessionCreatedAt: Date }
  | { ok: false; reason: "not_found" | "already_used" | "banned" };

type Tx = postgres.TransactionSql;

const USER_COLUMNS = `id, aud, role, email, encrypted_password, email_confirmed_at, phone,
  phone_confirmed_at, confirmed_at, last_sign_in_at, raw_app_meta_data, raw_user_meta_data,
  created_at, updated_at, banned_until, is_anonymous, invited_at, deleted_at`;

function refreshTokenValue(): string {
  // GoTrue's refresh tokens are short random strings; uniqueness is enforced by the table.
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const out: string[] = [];
  while (out.length < 12) {
    for (const b of crypto.getRandomValues(new Uint8Array(16))) {
      if (b < 252 && out.length < 12) out.push(alphabet[b % 36]!);
    }
  }
  return out.join("");
}

/** Access to auth's tables through a superuser connection pool. */
export interface AuthStore {
  hashPassword(password: string): Promise<string>;
  checkPassword(user: UserRow, password: string): Promise<boolean>;
  findUserById(id: string): Promise<UserRow | null>;
  findUserByEmail(email: string): Promise<UserRow | null>;
  identities(userId: string): Promise<IdentityRow[]>;
  /** Inserts a user (and its email identity when it has an email) and opens a session. */
  createUserWithSession(input: {
    email: string | null;
    passwordHash: string | null;
    isAnonymous: boolean;
    userMetadata: Record<string, unknown>;
    provider: "email" | "anonymous";
    userAgent: string | null;
  }): Promise<{ user: UserRow; sessionId: string; refreshToken: string }>;
  /** Opens a session for an existing user (password sign-in). */
  createSession(
    userId: string,
    userAgent: string | null,
  ): Promise<{ user: UserRow; sessionId: string; refreshToken: string }>;
  /** Rotates a refresh token (GoTrue's rotation with a reuse interval, in seconds). */
  refresh(token: string, reuseIntervalSeconds: number, rotate: boolean): Promise<RefreshOutcome>;
  sessionExists(sessionId: string, userId: string): Promise<boolean>;
  /** Applies changes to a user; `email` (when set) also becomes its confirmed email identity. */
  updateUser(id: string, change: {
    email?: string;
    passwordHash?: string;
    userMetadata?: Record<string, unknown>;
    makePermanent?: boolean;
  }): Promise<UserRow>;
  /** Ends sessions: `local` the given one, `others` all but it, `global` all of the user's. */
  logout(userId: string, sessionId: string, scope: "global" | "local" | "others"): Promise<void>;
  /** A user by id, soft-deleted ones included (GoTrue's admin API finds those too). */
  findAnyUserById(id: string): Promise<UserRow | null>;
  /** One page of all users, newest first (GoTrue's offset pagination), and the total count. */
  listUsers(page: number, perPage: number): Promise<{ users: UserRow[]; total: number }>;
  /** Identities of several users at once, by user id. */
  identitiesOf(userIds: string[]): Promise<Map<string, IdentityRow[]>>;
  /** GoTrue's admin user creation (user, its email identity, role and metadata in one go). */
  adminCreateUser(input: AdminCreateInput): Promise<UserRow>;
  /** GoTrue's admin user update; metadata patches merge, a null value removes its key. */
  adminUpdateUser(id: string, change: AdminUpdateChange): Promise<UserRow>;
  /** GoTrue's hard delete: `delete from auth.users` as supabase_auth_admin (cascades). */
  deleteUser(id: string): Promise<void>;
  /**
   * GoTrue's soft delete: email and phone replaced by hashes, password, tokens and metadata
   * cleared, identities emptied and renamed, sessions ended, `deleted_at` set; the row stays.
   */
  softDeleteUser(id: string): Promise<void>;
}

/** A user created through the admin API. */
export interface AdminCreateInput {
  id?: string;
  email: string;
  passwordHash: string;
  emailConfirm: boolean;
  role: string;
  userMetadata: Record<string, unknown>;
  appMetadata: Record<string, unknown> | null;
  /** Ban length in milliseconds (0: none). */
  banMs: number | null;
  invited?: boolean;
}

/** Changes of an admin user update (absent: left as is). */
export interface AdminUpdateChange {
  email?: string;
  emailConfirm?: boolean;
  passwordHash?: string;
  role?: string;
  appMetadata?: Record<string, unknown>;
  userMetadata?: Record<string, unknown>;
  /** Ban length in milliseconds from now; 0 lifts the ban. */
  banMs?: number;
}

/** GoTrue's merge of a metadata patch: null removes a key, anything else sets it. */
export function mergeMetadata(
  current: Record<string, unknown> | null,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** GoTrue's obfuscation of a soft-deleted user's values: base64url(sha256(id + value)). */
async function obfuscate(id: string, value: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id + value)),
  );
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** Creates the store over `sql`, a pool connected as the cluster's superuser. */
export function createAuthStore(sql: postgres.Sql): AuthStore {
  const asAuthAdmin = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> =>
    sql.begin(async (tx) => {
      await tx.unsafe("set local role supabase_auth_admin; set local search_path = auth");
      return await fn(tx);
    }) as Promise<T>;

  const findUser = async (tx: Tx | postgres.Sql, id: string): Promise<UserRow | null> => {
    const rows = await tx.unsafe<UserRow[]>(
      `select ${USER_COLUMNS} from auth.users where id = $1 and deleted_at is null`,
      [id],
    );
    return rows[0] ?? null;
  };

  const openSession = async (tx: Tx, userId: string, userAgent: string | null) => {
    const sessionId = crypto.randomUUID();
    const refreshToken = refreshTokenValue();
    await tx`insert into auth.sessions (id, user_id, aal, user_agent, refreshed_at)
      values (${sessionId}, ${userId}, 'aal1', ${userAgent}, now() at time zone 'utc')`;
    await tx`insert into auth.refresh_tokens (token, user_id, revoked, session_id)
      values (${refreshToken}, ${userId}, false, ${sessionId})`;
    await tx`update auth.users set last_sign_in_at = now(), updated_at = now() where id = ${userId}`;
    return { sessionId, refreshToken };
  };

  const addEmailIdentity = async (tx: Tx, userId: string, email: string) => {
    const data = { sub: userId, email, email_verified: true, phone_verified: false };
    await tx`insert into auth.identities
        (provider_id, user_id, identity_data, provider, last_sign_in_at)
      values (${userId}, ${userId}, ${tx.json(data)}, 'email', now())
      on conflict (provider_id, provider) do update
        set identity_data = excluded.identity_data, updated_at = now()`;
  };

  return {
    async hashPassword(password) {
      const [row] = await sql<{ hash: string }[]>`
        select extensions.crypt(${password}, extensions.gen_salt('bf', 10)) as hash`;
      return row!.hash;
    },
    async checkPassword(user, password) {
      if (!user.encrypted_password) return false;
      const [row] = await sql<{ ok: boolean }[]>`
        select extensions.crypt(${password}, ${user.encrypted_password}) = ${user.encrypted_password}
          as ok`;
      return row!.ok;
    },
    findUserById: (id) => findUser(sql, id),
    async findUserByEmail(email) {
      const rows = await sql.unsafe<UserRow[]>(
        `select ${USER_COLUMNS} from auth.users
         where lower(email) = lower($1) and deleted_at is null and is_sso_user = false`,
        [email],
      );
      return rows[0] ?? null;
    },
    identities: (userId) =>
      sql<IdentityRow[]>`
        select id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at,
          updated_at, email
        from auth.identities where user_id = ${userId} order by created_at`,
    createUserWithSession(input) {
      return asAuthAdmin(async (tx) => {
        const id = crypto.randomUUID();
        const appMetadata = { provider: input.provider, providers: [input.provider] };
        const userMetadata = input.email
          ? {
            ...input.userMetadata,
            sub: id,
            email: input.email,
            email_verified: true,
            phone_verified: false,
          }
          : input.userMetadata;
        await tx`insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
            email_confirmed_at, raw_app_meta_data, raw_user_meta_data, is_anonymous,
            confirmation_token, recovery_token, email_change)
          values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated',
            ${input.email}, ${input.passwordHash ?? ""},
            ${input.email ? new Date() : null}, ${tx.json(appMetadata)},
            ${tx.json(userMetadata as postgres.JSONValue)}, ${input.isAnonymous}, '', '', '')`;
        if (input.email) await addEmailIdentity(tx, id, input.email);
        const session = await openSession(tx, id, input.userAgent);
        return { user: (await findUser(tx, id))!, ...session };
      });
    },
    createSession(userId, userAgent) {
      return asAuthAdmin(async (tx) => {
        const session = await openSession(tx, userId, userAgent);
        return { user: (await findUser(tx, userId))!, ...session };
      });
    },
    refresh(token, reuseIntervalSeconds, rotate) {
      return asAuthAdmin(async (tx): Promise<RefreshOutcome> => {
        const [row] = await tx<
          {
            id: string;
            revoked: boolean;
            user_id: string;
            session_id: string | null;
            revoked_recently: boolean;
            session_created_at: Date | null;
          }[]
        >`
          select rt.id, rt.revoked, rt.user_id, rt.session_id, s.created_at as session_created_at,
            rt.updated_at > now() - make_interval(secs => ${reuseIntervalSeconds}) as revoked_recently
          from auth.refresh_tokens rt left join auth.sessions s on s.id = rt.session_id
          where rt.token = ${token}
          for update of rt`;
        if (!row || !row.session_id || !row.session_created_at) {
          return { ok: false, reason: "not_found" };
        }
        const user = await findUser(tx, row.user_id);
        if (!user) return { ok: false, reason: "not_found" };
        // GoTrue refuses a banned user's refresh before it rotates anything.
        if (user.banned_until && user.banned_until.getTime() > Date.now()) {
          return { ok: false, reason: "banned" };
        }
        const sessionId = row.session_id;
        const base = {
          ok: true as const,
          user,
          sessionId,
          sessionCreatedAt: row.session_created_at,
        };
        if (row.revoked) {
          const [active] = await tx<{ token: string }[]>`
            select token from auth.refresh_tokens
            where session_id = ${sessionId} and revoked = false order by id desc limit 1`;
          if (row.revoked_recently && active) return { ...base, refreshToken: active.token };
          // Reuse outside the interval looks like a stolen token: end the whole session.
          await tx`update auth.refresh_tokens set revoked = true, updated_at = now()
            where session_id = ${sessionId} and revoked = false`;
          return { ok: false, reason: "already_used" };
        }
        await tx`update auth.sessions set refreshed_at = now() at time zone 'utc',
          updated_at = now() where id = ${sessionId}`;
        if (!rotate) return { ...base, refreshToken: token };
        const next = refreshTokenValue();
        await tx`update auth.refresh_tokens set revoked = true, updated_at = now()
          where id = ${row.id}`;
        await tx`insert into auth.refresh_tokens (token, user_id, revoked, parent, session_id)
          values (${next}, ${row.user_id}, false, ${token}, ${sessionId})`;
        return { ...base, refreshToken: next };
      });
    },
    async sessionExists(sessionId, userId) {
      const rows = await sql`select 1 from auth.sessions
        where id = ${sessionId} and user_id = ${userId}`;
      return rows.length > 0;
    },
    updateUser(id, change) {
      return asAuthAdmin(async (tx) => {
        if (change.userMetadata) {
          await tx`update auth.users set raw_user_meta_data = ${
            tx.json(change.userMetadata as postgres.JSONValue)
          }, updated_at = now() where id = ${id}`;
        }
        if (change.passwordHash) {
          await tx`update auth.users set encrypted_password = ${change.passwordHash},
            updated_at = now() where id = ${id}`;
        }
        if (change.email) {
          await tx`update auth.users set email = ${change.email},
            email_confirmed_at = coalesce(email_confirmed_at, now()),
            raw_user_meta_data = raw_user_meta_data || ${
            tx.json({ email: change.email, email_verified: true, sub: id })
          }, updated_at = now() where id = ${id}`;
          await addEmailIdentity(tx, id, change.email);
        }
        if (change.makePermanent) {
          await tx`update auth.users set is_anonymous = false,
            raw_app_meta_data = raw_app_meta_data || ${
            tx.json({ provider: "email", providers: ["email"] })
          }, updated_at = now() where id = ${id}`;
        }
        return (await findUser(tx, id))!;
      });
    },
    logout(userId, sessionId, scope) {
      return asAuthAdmin(async (tx) => {
        if (scope === "local") {
          await tx`delete from auth.sessions where id = ${sessionId}`;
        } else if (scope === "others") {
          await tx`delete from auth.sessions where user_id = ${userId} and id <> ${sessionId}`;
        } else {
          await tx`delete from auth.sessions where user_id = ${userId}`;
        }
      });
    },
    findAnyUserById: async (id) => {
      const rows = await sql.unsafe<UserRow[]>(
        `select ${USER_COLUMNS} from auth.users where id = $1`,
        [id],
      );
      return rows[0] ?? null;
    },
    async listUsers(page, perPage) {
      const [count] = await sql<{ n: number }[]>`
        select count(*)::int as n from auth.users where aud = 'authenticated'`;
      const users = await sql.unsafe<UserRow[]>(
        `select ${USER_COLUMNS} from auth.users where aud = 'authenticated'
         order by created_at desc, id limit $1 offset $2`,
        [perPage, Math.max(page - 1, 0) * perPage],
      );
      return { users, total: count!.n };
    },
    async identitiesOf(userIds) {
      const out = new Map<string, IdentityRow[]>(userIds.map((id) => [id, []]));
      if (userIds.length === 0) return out;
      const rows = await sql<IdentityRow[]>`
        select id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at,
          updated_at, email
        from auth.identities where user_id = any(${userIds}::uuid[]) order by created_at`;
      for (const row of rows) out.get(row.user_id)?.push(row);
      return out;
    },
    adminCreateUser(input) {
      return asAuthAdmin(async (tx) => {
        const id = input.id ?? crypto.randomUUID();
        const appMetadata = mergeMetadata(
          { provider: "email", providers: ["email"] },
          input.appMetadata ?? {},
        );
        const bannedUntil = input.banMs ? new Date(Date.now() + input.banMs) : null;
        await tx`insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
            email_confirmed_at, invited_at, raw_app_meta_data, raw_user_meta_data, banned_until,
            is_anonymous, confirmation_token, recovery_token, email_change)
          values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', ${input.role},
            ${input.email}, ${input.passwordHash}, ${input.emailConfirm ? new Date() : null},
            ${input.invited ? new Date() : null}, ${tx.json(appMetadata as postgres.JSONValue)},
            ${tx.json(input.userMetadata as postgres.JSONValue)}, ${bannedUntil}, false,
            '', '', '')`;
        const data = { sub: id, email: input.email, email_verified: false, phone_verified: false };
        await tx`insert into auth.identities
            (provider_id, user_id, identity_data, provider, last_sign_in_at)
          values (${id}, ${id}, ${tx.json(data)}, 'email', now())`;
        return (await findUser(tx, id))!;
      });
    },
    adminUpdateUser(id, change) {
      return asAuthAdmin(async (tx) => {
        const [row] = await tx<
          {
            raw_app_meta_data: Record<string, unknown>;
            raw_user_meta_data: Record<string, unknown>;
          }[]
        >`select raw_app_meta_data, raw_user_meta_data from auth.users where id = ${id} for update`;
        if (!row) throw new Error(`no user ${id}`);
        if (change.role) await tx`update auth.users set role = ${change.role} where id = ${id}`;
        if (change.emailConfirm) {
          await tx`update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now())
            where id = ${id}`;
        }
        if (change.passwordHash) {
          await tx`update auth.users set encrypted_password = ${change.passwordHash}
            where id = ${id}`;
        }
        if (change.email) {
          const verified = change.emailConfirm === true;
          const updated = await tx`update auth.identities
            set identity_data = identity_data || ${
            tx.json({ email: change.email, email_verified: verified })
          }, updated_at = now()
            where user_id = ${id} and provider = 'email'`;
          if (updated.count === 0) {
            const data = { sub: id, email: change.email, email_verified: verified };
            await tx`insert into auth.identities
                (provider_id, user_id, identity_data, provider, last_sign_in_at)
              values (${id}, ${id}, ${tx.json(data)}, 'email', now())`;
          }
          await tx`update auth.users set email = ${change.email},
            is_anonymous = is_anonymous and not ${verified} where id = ${id}`;
        }
        if (change.appMetadata) {
          const merged = mergeMetadata(row.raw_app_meta_data, change.appMetadata);
          await tx`update auth.users set raw_app_meta_data = ${
            tx.json(merged as postgres.JSONValue)
          } where id = ${id}`;
        }
        if (change.userMetadata) {
          const merged = mergeMetadata(row.raw_user_meta_data, change.userMetadata);
          await tx`update auth.users set raw_user_meta_data = ${
            tx.json(merged as postgres.JSONValue)
          } where id = ${id}`;
        }
        if (change.banMs !== undefined) {
          const until = change.banMs ? new Date(Date.now() + change.banMs) : null;
          await tx`update auth.users set banned_until = ${until} where id = ${id}`;
        }
        await tx`update auth.users set updated_at = now() where id = ${id}`;
        const rows = await tx.unsafe<UserRow[]>(
          `select ${USER_COLUMNS} from auth.users where id = $1`,
          [id],
        );
        return rows[0]!;
      });
    },
    deleteUser(id) {
      return asAuthAdmin(async (tx) => {
        await tx`delete from auth.users where id = ${id}`;
      });
    },
    softDeleteUser(id) {
      return asAuthAdmin(async (tx) => {
        const [row] = await tx<{ email: string | null; phone: string | null; deleted: boolean }[]>`
          select email, phone, deleted_at is not null as deleted from auth.users
          where id = ${id} for update`;
        if (!row || row.deleted) return;
        const email = await obfuscate(id, row.email ?? "");
        const phone = (await obfuscate(id, row.phone ?? "")).slice(0, 15);
        await tx`update auth.users set email = ${email}, phone = ${phone},
            encrypted_password = null, confirmation_token = '', recovery_token = '',
            email_change = '', raw_user_meta_data = '{}', raw_app_meta_data = '{}',
            deleted_at = now(), updated_at = now()
          where id = ${id}`;
        const identities = await tx<{ id: string; provider: string; provider_id: string }[]>`
          select id, provider, provider_id from auth.identities where user_id = ${id}`;
        for (const identity of identities) {
          const providerId = await obfuscate(id, `${identity.provider}:${identity.provider_id}`);
          await tx`update auth.identities set identity_data = '{}', provider_id = ${providerId},
            updated_at = now() where id = ${identity.id}`;
        }
        await tx`delete from auth.sessions where user_id = ${id}`;
      });
    },
  };
}
