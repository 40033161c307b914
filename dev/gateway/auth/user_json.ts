/**
 * GoTrue's JSON shapes: the user object (`GET /user`, sign-up, sessions) and the claims of the
 * access tokens it issues.
 */
import type { IdentityRow, UserRow } from "./store.ts";

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);

/** The user as GoTrue serialises it (null timestamps omitted, identities included). */
export function userJson(user: UserRow, identities: IdentityRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: user.id,
    aud: user.aud ?? "authenticated",
    role: user.role ?? "authenticated",
    email: user.email ?? "",
    email_confirmed_at: iso(user.email_confirmed_at),
    invited_at: iso(user.invited_at),
    phone: user.phone ?? "",
    phone_confirmed_at: iso(user.phone_confirmed_at),
    confirmed_at: iso(user.confirmed_at ?? user.email_confirmed_at),
    last_sign_in_at: iso(user.last_sign_in_at),
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    identities: identities.map((i) => ({
      identity_id: i.id,
      id: i.provider_id,
      user_id: i.user_id,
      identity_data: i.identity_data,
      provider: i.provider,
      last_sign_in_at: iso(i.last_sign_in_at),
      created_at: iso(i.created_at),
      updated_at: iso(i.updated_at),
      email: i.email ?? undefined,
    })),
    created_at: user.created_at.toISOString(),
    updated_at: user.updated_at.toISOString(),
    banned_until: iso(user.banned_until),
    deleted_at: iso(user.deleted_at),
    is_anonymous: user.is_anonymous,
  };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

/** The claims of a user access token as GoTrue issues them. */
export function accessTokenClaims(input: {
  user: UserRow;
  sessionId: string;
  issuer: string;
  expiresIn: number;
  method: string;
  authenticatedAt: Date;
  now: number;
}): Record<string, unknown> {
  const { user } = input;
  return {
    iss: input.issuer,
    sub: user.id,
    aud: user.aud ?? "authenticated",
    exp: input.now + input.expiresIn,
    iat: input.now,
    email: user.email ?? "",
    phone: user.phone ?? "",
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    role: user.role ?? "authenticated",
    aal: "aal1",
    amr: [{ method: input.method, timestamp: Math.floor(input.authenticatedAt.getTime() / 1000) }],
    session_id: input.sessionId,
    is_anonymous: user.is_anonymous,
  };
}
