/**
 * Webhook signing exactly as fal signs: Ed25519 over the header values joined by "\n" — request
 * id, user id, unix timestamp (seconds), lowercase hex SHA-256 of the raw body — sent as
 * `X-Fal-Webhook-*` headers with the signature in hex. The public keys are published as a JWKS
 * (`{keys:[{kty:"OKP", crv:"Ed25519", x}]}`, `x` base64url). The key pair is kept in
 * `dataDir/webhook_keys.json`, so receivers that cached the JWKS keep verifying after a restart.
 */

/** One published key. */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  use: "sig";
  alg: "EdDSA";
}

interface StoredKey {
  kid: string;
  /** Private JWK (has `d`). */
  jwk: JsonWebKey;
}

export interface WebhookSigner {
  /** The user id fal puts in `X-Fal-Webhook-User-Id`. */
  userId: string;
  jwks(): { keys: PublicJwk[] };
  /** The four signature headers for one delivery. */
  sign(
    requestId: string,
    body: Uint8Array<ArrayBuffer>,
    opts?: { wrongKey?: boolean; timestampSeconds?: number; userId?: string },
  ): Promise<Record<string, string>>;
  /** A new signing key; the old one stays published when `keepOld`. */
  rotate(keepOld: boolean): Promise<void>;
}

const USER_ID = "fal-sim-user";

/** Loads (first run: creates) the signing keys under `dataDir`. */
export async function loadSigner(dataDir: string): Promise<WebhookSigner> {
  const file = `${dataDir}/webhook_keys.json`;
  let stored: StoredKey[];
  try {
    stored = JSON.parse(await Deno.readTextFile(file)).keys as StoredKey[];
    if (!Array.isArray(stored) || stored.length === 0) throw new Error("no keys");
  } catch {
    stored = [await newKey()];
    await save();
  }
  let active = await importPrivate(stored[0]!.jwk);
  // The "wrong key" lives only in memory and is never published.
  const rogue = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;

  async function save() {
    await Deno.mkdir(dataDir, { recursive: true });
    const tmp = `${file}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify({ keys: stored }, null, 2), { mode: 0o600 });
    await Deno.rename(tmp, file);
  }

  return {
    userId: USER_ID,
    jwks() {
      return {
        keys: stored.map((k) => ({
          kty: "OKP",
          crv: "Ed25519",
          x: k.jwk.x!,
          kid: k.kid,
          use: "sig",
          alg: "EdDSA",
        })),
      };
    },
    async sign(requestId, body, opts = {}) {
      const timestamp = String(opts.timestampSeconds ?? Math.floor(Date.now() / 1000));
      const userId = opts.userId ?? USER_ID;
      const digest = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", body)));
      const message = new TextEncoder().encode(
        [requestId, userId, timestamp, digest].join("\n"),
      );
      const key = opts.wrongKey ? rogue.privateKey : active;
      const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", key, message));
      return {
        "x-fal-webhook-request-id": requestId,
        "x-fal-webhook-user-id": userId,
        "x-fal-webhook-timestamp": timestamp,
        "x-fal-webhook-signature": toHex(signature),
      };
    },
    async rotate(keepOld) {
      const key = await newKey();
      stored = keepOld ? [key, ...stored] : [key];
      active = await importPrivate(key.jwk);
      await save();
    },
  };
}

async function newKey(): Promise<StoredKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { kid: toHex(crypto.getRandomValues(new Uint8Array(8))), jwk };
}

function importPrivate(jwk: JsonWebKey): Promise<CryptoKey> {
  return crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["sign"]);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
