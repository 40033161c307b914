/**
 * Minimal JWS verification with WebCrypto: ES256 against a JSON Web Key Set (Supabase's signing
 * keys) and HS256 against a shared secret (legacy projects), then the registered claims: `exp`,
 * `iss` (the project's Auth, `<SUPABASE_URL>/auth/v1`, as Supabase Auth sets it, custom domain or
 * not) and `aud` (`authenticated` for every signed-in user, anonymous ones included). A token
 * signed with a key we trust but issued for someone else (another issuer or audience) is refused.
 * Returns the claims or null; callers decide what a valid token may do.
 */

export type JwtClaims = Record<string, unknown> & { exp?: number; sub?: string; role?: string };

/** The `iss` Supabase Auth puts in a project's user tokens: `<project URL>/auth/v1`. */
export function authIssuer(supabaseUrl: string): string {
  return `${supabaseUrl.replace(/\/+$/, "")}/auth/v1`;
}

/** The `aud` of a signed-in user's access token (GoTrue's default JWT audience). */
export const USER_AUDIENCE = "authenticated";

interface Jwk extends JsonWebKey {
  kid?: string;
}

const enc = new TextEncoder();

function b64urlDecode(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(new TextDecoder().decode(b64urlDecode(part)));
    return typeof value === "object" && value !== null ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/** Splits a compact JWS; null when it is not one. */
export function parseJwt(
  token: string,
): {
  header: Record<string, unknown>;
  claims: JwtClaims;
  signed: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
} | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  const claims = decodeJson(p);
  if (!header || !claims) return null;
  try {
    return {
      header,
      claims: claims as JwtClaims,
      signed: enc.encode(`${h}.${p}`),
      signature: b64urlDecode(s),
    };
  } catch {
    return null;
  }
}

export interface JwtVerifierOptions {
  /** Current signing keys (ES256 public JWKs); called again once when no key matches. */
  jwks: (opts: { refresh: boolean }) => Promise<Jwk[]>;
  /** Legacy HS256 secret, when the project still accepts legacy tokens. */
  legacySecret?: string;
  /** The only accepted `iss` (see `authIssuer`). */
  issuer: string;
  /** The accepted `aud` (a string claim equal to it, or an array containing it). */
  audience: string;
  /** Seconds since the epoch (injected in tests). */
  now?: () => number;
}

/** Returns `verify(token) -> claims | null`, checking signature, expiry, issuer and audience. */
export function createJwtVerifier(opts: JwtVerifierOptions) {
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const keyCache = new Map<string, Promise<CryptoKey>>();
  let hmacKey: Promise<CryptoKey> | undefined;

  const ecKey = (jwk: Jwk) => {
    const id = jwk.kid ?? `${jwk.x}:${jwk.y}`;
    let key = keyCache.get(id);
    if (!key) {
      key = crypto.subtle.importKey(
        "jwk",
        { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["verify"],
      );
      keyCache.set(id, key);
    }
    return key;
  };

  async function verifyEs256(parsed: NonNullable<ReturnType<typeof parseJwt>>): Promise<boolean> {
    const kid = typeof parsed.header.kid === "string" ? parsed.header.kid : undefined;
    for (const refresh of [false, true]) {
      const keys = (await opts.jwks({ refresh })).filter((k) =>
        k.kty === "EC" && k.crv === "P-256" && (!kid || !k.kid || k.kid === kid)
      );
      for (const jwk of keys) {
        const ok = await crypto.subtle.verify(
          { name: "ECDSA", hash: "SHA-256" },
          await ecKey(jwk),
          parsed.signature,
          parsed.signed,
        ).catch(() => false);
        if (ok) return true;
      }
    }
    return false;
  }

  async function verifyHs256(parsed: NonNullable<ReturnType<typeof parseJwt>>): Promise<boolean> {
    if (!opts.legacySecret) return false;
    hmacKey ??= crypto.subtle.importKey(
      "raw",
      enc.encode(opts.legacySecret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    return await crypto.subtle.verify("HMAC", await hmacKey, parsed.signature, parsed.signed);
  }

  return async function verify(token: string): Promise<JwtClaims | null> {
    const parsed = parseJwt(token);
    if (!parsed) return null;
    const alg = parsed.header.alg;
    const ok = alg === "ES256"
      ? await verifyEs256(parsed)
      : alg === "HS256"
      ? await verifyHs256(parsed)
      : false;
    if (!ok) return null;
    const { exp, iss, aud } = parsed.claims;
    if (typeof exp !== "number" || exp <= now()) return null;
    if (iss !== opts.issuer) return null;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(opts.audience)) return null;
    return parsed.claims;
  };
}

/**
 * A JWKS source: inline keys (SUPABASE_JWKS) when given, else fetched from the project's
 * `/auth/v1/.well-known/jwks.json`, cached for 10 minutes, refetched at most every 30 s on demand.
 */
export function createJwksSource(opts: {
  inline?: string;
  url: string;
  fetch?: typeof fetch;
  nowMs?: () => number;
}): (o: { refresh: boolean }) => Promise<Jwk[]> {
  const doFetch = opts.fetch ?? fetch;
  const nowMs = opts.nowMs ?? Date.now;
  if (opts.inline) {
    const parsed = JSON.parse(opts.inline);
    const keys: Jwk[] = Array.isArray(parsed) ? parsed : parsed.keys ?? [];
    return () => Promise.resolve(keys);
  }
  let cached: { keys: Jwk[]; at: number } | undefined;
  let inflight: Promise<Jwk[]> | undefined;
  const load = async () => {
    const res = await doFetch(opts.url);
    if (!res.ok) throw new Error(`JWKS fetch failed: ${res.status}`);
    const body = await res.json() as { keys?: Jwk[] };
    cached = { keys: body.keys ?? [], at: nowMs() };
    return cached.keys;
  };
  return ({ refresh }) => {
    const age = cached ? nowMs() - cached.at : Infinity;
    if (cached && age < 600_000 && !(refresh && age > 30_000)) return Promise.resolve(cached.keys);
    inflight ??= load().finally(() => (inflight = undefined));
    return inflight;
  };
}
