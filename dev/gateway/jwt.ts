/**
 * Compact JWS (JWT) signing and verification with WebCrypto: ES256 for user access tokens and
 * HS256 for the legacy keys and Storage's signed URLs. Only what the gateway needs; no `none`,
 * no other algorithms, so a token can never choose a weaker check than the one we expect.
 */

/** A JWT's claims: any JSON object. */
export type Claims = Record<string, unknown>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Base64url without padding, as JWS uses. */
export function base64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
  let binary = "";
  for (const b of raw) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Decodes base64url (padding optional); throws on malformed input. */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The parts of a JWT, decoded but NOT verified. Null when it is not a well-formed JWS. */
export function decodeJwt(
  token: string,
):
  | { header: Claims; claims: Claims; signingInput: string; signature: Uint8Array<ArrayBuffer> }
  | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(decoder.decode(fromBase64url(h)));
    const claims = JSON.parse(decoder.decode(fromBase64url(p)));
    if (!isObject(header) || !isObject(claims)) return null;
    return { header, claims, signingInput: `${h}.${p}`, signature: fromBase64url(s) };
  } catch {
    return null;
  }
}

function isObject(v: unknown): v is Claims {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An HMAC-SHA256 key for HS256 from a shared secret string. */
export function hs256Key(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** Signs `claims` as an HS256 JWT. */
export async function signHs256(claims: Claims, key: CryptoKey): Promise<string> {
  const input = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${
    base64url(JSON.stringify(claims))
  }`;
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(input)));
  return `${input}.${base64url(sig)}`;
}

/** Signs `claims` as an ES256 JWT with `kid` in the header (WebCrypto's ECDSA output is JWS's r||s). */
export async function signEs256(claims: Claims, key: CryptoKey, kid: string): Promise<string> {
  const input = `${base64url(JSON.stringify({ alg: "ES256", kid, typ: "JWT" }))}.${
    base64url(JSON.stringify(claims))
  }`;
  const sig = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, encoder.encode(input)),
  );
  return `${input}.${base64url(sig)}`;
}

/** Verifies an HS256 signature over the decoded token. */
export function verifyHs256(
  decoded: { signingInput: string; signature: Uint8Array<ArrayBuffer> },
  key: CryptoKey,
): Promise<boolean> {
  return crypto.subtle.verify("HMAC", key, decoded.signature, encoder.encode(decoded.signingInput));
}

/** Verifies an ES256 signature over the decoded token. */
export function verifyEs256(
  decoded: { signingInput: string; signature: Uint8Array<ArrayBuffer> },
  key: CryptoKey,
): Promise<boolean> {
  if (decoded.signature.length !== 64) return Promise.resolve(false);
  return crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    decoded.signature,
    encoder.encode(decoded.signingInput),
  );
}

/** True when `exp`/`nbf` (seconds) allow the token at `nowSeconds`. */
export function isCurrent(claims: Claims, nowSeconds: number): boolean {
  if (typeof claims.exp === "number" && claims.exp <= nowSeconds) return false;
  if (typeof claims.nbf === "number" && claims.nbf > nowSeconds + 30) return false;
  return true;
}
