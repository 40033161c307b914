/**
 * Checks the token a channel joins or refreshes with, and words refusals the way Supabase
 * Realtime does ("InvalidJWTToken: Token has expired 12 seconds ago", …). Signature checking
 * itself belongs to the gateway (`verifyToken`); this file only adds Realtime's own rules.
 */

/** JWT claims as the gateway's verifier returns them. */
export type Claims = Record<string, unknown>;

/** Verifies a JWT or API key; the claims when valid, else `null`. */
export type VerifyToken = (token: string) => Promise<Claims | null>;

/** Result of checking a token for a channel. */
export type TokenCheck =
  | { ok: true; claims: Claims; role: string; exp: number | null }
  | { ok: false; code: string; message: string };

/** Reads a JWT's claims without verifying it (only to explain why a token was refused). */
export function peekClaims(token: string): Claims | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const base64 = part.replaceAll("-", "+").replaceAll("_", "/");
    const padded = base64 + "=".repeat((4 - base64.length % 4) % 4);
    const json = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(json);
    return claims && typeof claims === "object" && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

function expired(exp: number, nowSeconds: number): TokenCheck {
  return {
    ok: false,
    code: "InvalidJWTToken",
    message: `Token has expired ${Math.max(0, Math.floor(nowSeconds - exp))} seconds ago`,
  };
}

/**
 * Verifies `token` and applies Realtime's rules: a `role` claim is required and an `exp` claim,
 * when present, must lie in the future. (Supabase requires `exp` too; the local gateway's API keys
 * may be opaque keys whose claims have none, so its absence is accepted here.)
 */
export async function checkToken(
  token: string,
  verifyToken: VerifyToken,
  nowSeconds: number,
): Promise<TokenCheck> {
  const claims = await verifyToken(token);
  if (!claims) {
    const exp = peekClaims(token)?.exp;
    if (typeof exp === "number" && exp <= nowSeconds) return expired(exp, nowSeconds);
    return { ok: false, code: "JwtSignatureError", message: "Failed to validate JWT signature" };
  }
  const role = claims.role;
  if (typeof role !== "string" || role === "") {
    return {
      ok: false,
      code: "InvalidJWTToken",
      message: "Fields `role` and `exp` are required in JWT",
    };
  }
  const exp = typeof claims.exp === "number" ? claims.exp : null;
  if (exp !== null && exp <= nowSeconds) return expired(exp, nowSeconds);
  return { ok: true, claims, role, exp };
}
