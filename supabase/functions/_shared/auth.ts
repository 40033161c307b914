/**
 * Who is calling: every user-facing function verifies the bearer JWT itself (ES256 against the
 * project's JWKS, HS256 legacy secret as fallback) because Supabase's gateway `verify_jwt` does
 * not work with the new signing keys. Anonymous *users* are users; the anon *key* is refused.
 */
import { AppError } from "./errors.ts";
import type { JwtClaims } from "./jwt.ts";

/** A verified caller. */
export interface AuthUser {
  id: string;
  claims: JwtClaims;
  isAnonymous: boolean;
}

export type Authenticate = (req: Request) => Promise<AuthUser>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Bearer token of a request, or null. */
export function bearerToken(req: Request): string | null {
  const header = req.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

/** Builds `authenticate(req)` from a token verifier; throws `unauthorized` AppErrors. */
export function createAuthenticate(
  verify: (token: string) => Promise<JwtClaims | null>,
): Authenticate {
  return async (req) => {
    const token = bearerToken(req);
    if (!token) {
      throw new AppError("unauthorized", "Sign in first: a user access token is required.");
    }
    const claims = await verify(token);
    if (!claims) throw new AppError("unauthorized", "The access token is invalid or expired.");
    if (
      claims.role !== "authenticated" || typeof claims.sub !== "string" || !UUID.test(claims.sub)
    ) {
      throw new AppError("unauthorized", "A signed-in user's token is required, not an API key.");
    }
    return { id: claims.sub, claims, isAnonymous: claims.is_anonymous === true };
  };
}
