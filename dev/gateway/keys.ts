/**
 * The stack's signing keys and API keys, generated at first start and kept in
 * `<localDir>/keys.json` so tokens and sessions survive restarts:
 * - an ES256 key pair (with a `kid`) that signs user access tokens, published as the JWKS;
 * - the legacy HS256 JWT secret, which signs the legacy `anon` / `service_role` keys (JWTs with
 *   `iss: "supabase"`, a project `ref` and a ten-year expiry, like hosted projects' keys) and
 *   Storage's signed URLs;
 * - `sb_publishable_…` / `sb_secret_…` keys, which the gateway treats as the anon / service role.
 */
import {
  type Claims,
  decodeJwt,
  hs256Key,
  isCurrent,
  signEs256,
  signHs256,
  verifyEs256,
  verifyHs256,
} from "./jwt.ts";

/** What `<localDir>/keys.json` holds. */
interface KeysFile {
  ref: string;
  kid: string;
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
}

/** A public JWK as Supabase publishes it at `/auth/v1/.well-known/jwks.json`. */
export type PublicJwk = JsonWebKey & { kid: string; alg: string; use: string };

/** The keys of one stack and the operations on them. */
export interface StackKeys {
  /** A project-ref-like id (20 lowercase letters) carried in the legacy keys. */
  ref: string;
  kid: string;
  jwks: { keys: PublicJwk[] };
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
  /** Signs user access-token claims with the ES256 key. */
  signAccessToken(claims: Claims): Promise<string>;
  /** Signs claims with the legacy HS256 secret (Storage signed URLs). */
  signWithSecret(claims: Claims): Promise<string>;
  /**
   * Claims of a valid, unexpired token: an ES256 token of ours, an HS256 token signed with the
   * legacy secret (the anon / service-role keys), or an `sb_publishable_` / `sb_secret_` key
   * (mapped to `{role: "anon"}` / `{role: "service_role"}`). Null otherwise.
   */
  verifyToken(token: string): Promise<Claims | null>;
  /** Claims of a valid HS256 token signed with the legacy secret only (signed URLs). */
  verifyWithSecret(token: string): Promise<Claims | null>;
}

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomFrom(alphabet: string, length: number): string {
  // Rejection sampling keeps every character equally likely.
  const out: string[] = [];
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < limit && out.length < length) out.push(alphabet[b % alphabet.length]!);
    }
  }
  return out.join("");
}

async function checksum(text: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return Array.from(digest.slice(0, 4), (b) => BASE62[b % 62]).join("");
}

/** `sb_publishable_<random>_<checksum>` / `sb_secret_<random>_<checksum>`. */
async function opaqueKey(prefix: "sb_publishable_" | "sb_secret_"): Promise<string> {
  const body = `${prefix}${randomFrom(BASE62, 22)}`;
  return `${body}_${await checksum(body)}`;
}

async function generate(): Promise<KeysFile> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const privateJwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const publicJwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const jwtSecret = randomFrom(BASE62, 64);
  const ref = randomFrom(LETTERS, 20);
  const secret = await hs256Key(jwtSecret);
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + 10 * 365 * 24 * 3600;
  return {
    ref,
    kid: crypto.randomUUID(),
    privateJwk,
    publicJwk,
    jwtSecret,
    anonKey: await signHs256({ iss: "supabase", ref, role: "anon", iat, exp }, secret),
    serviceRoleKey: await signHs256(
      { iss: "supabase", ref, role: "service_role", iat, exp },
      secret,
    ),
    publishableKey: await opaqueKey("sb_publishable_"),
    secretKey: await opaqueKey("sb_secret_"),
  };
}

async function readOrCreate(localDir: string): Promise<KeysFile> {
  const path = `${localDir}/keys.json`;
  try {
    return JSON.parse(await Deno.readTextFile(path)) as KeysFile;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const file = await generate();
  await Deno.mkdir(localDir, { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  return file;
}

/** Loads the stack's keys from `<localDir>/keys.json`, generating them on first use. */
export async function loadKeys(localDir: string): Promise<StackKeys> {
  const file = await readOrCreate(localDir);
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    file.privateJwk,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const { x, y, crv, kty } = file.publicJwk;
  const publicJwk: PublicJwk = {
    alg: "ES256",
    crv,
    ext: true,
    key_ops: ["verify"],
    kid: file.kid,
    kty,
    use: "sig",
    x,
    y,
  };
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { kty, crv, x, y },
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const secret = await hs256Key(file.jwtSecret);
  const now = () => Math.floor(Date.now() / 1000);

  const verifyWithSecret = async (token: string): Promise<Claims | null> => {
    const decoded = decodeJwt(token);
    if (!decoded || decoded.header.alg !== "HS256") return null;
    if (!(await verifyHs256(decoded, secret))) return null;
    return isCurrent(decoded.claims, now()) ? decoded.claims : null;
  };

  return {
    ref: file.ref,
    kid: file.kid,
    jwks: { keys: [publicJwk] },
    jwtSecret: file.jwtSecret,
    anonKey: file.anonKey,
    serviceRoleKey: file.serviceRoleKey,
    publishableKey: file.publishableKey,
    secretKey: file.secretKey,
    signAccessToken: (claims) => signEs256(claims, privateKey, file.kid),
    signWithSecret: (claims) => signHs256(claims, secret),
    verifyWithSecret,
    async verifyToken(token) {
      if (token === file.publishableKey) return { role: "anon" };
      if (token === file.secretKey) return { role: "service_role" };
      const decoded = decodeJwt(token);
      if (!decoded) return null;
      if (decoded.header.alg === "HS256") return await verifyWithSecret(token);
      if (decoded.header.alg !== "ES256") return null;
      if (decoded.header.kid !== undefined && decoded.header.kid !== file.kid) return null;
      if (!(await verifyEs256(decoded, publicKey))) return null;
      return isCurrent(decoded.claims, now()) ? decoded.claims : null;
    },
  };
}
