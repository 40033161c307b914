/**
 * Verifies fal's webhook signatures before anything trusts or even parses the body. fal signs
 * `request_id \n user_id \n timestamp \n hex(sha256(raw body))` with Ed25519 and sends the parts as
 * `X-Fal-Webhook-Request-Id`, `-User-Id`, `-Timestamp` (unix seconds) and `-Signature` (hex). We
 * accept a signature from any key of fal's JWKS (requests carry no key id), reject timestamps more
 * than 5 minutes from now, cache the JWKS for at most 24 h, and when no cached key verifies we
 * refetch the JWKS once (at most once a minute, so forged requests cannot make us hammer fal)
 * in case fal rotated its keys.
 */

export type WebhookVerifyFailure =
  | "missing_headers"
  | "invalid_timestamp"
  | "timestamp_out_of_range"
  | "invalid_signature_format"
  | "no_key_verifies"
  | "jwks_unavailable";

export type WebhookVerifyResult =
  | { ok: true; requestId: string; userId: string }
  | { ok: false; reason: WebhookVerifyFailure };

export interface WebhookVerifierOptions {
  /** fal's JWKS, e.g. `https://rest.fal.ai/.well-known/jwks.json` (or the simulator's). */
  jwksUrl: string;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  /** How long fetched keys are trusted; capped at 24 h. */
  cacheTtlMs?: number;
  /** Minimum time between refetches caused by signatures no cached key verifies. */
  refetchIntervalMs?: number;
}

export interface WebhookVerifier {
  /** Verifies one delivery over its exact raw body bytes. */
  verify(
    headers: Headers,
    rawBody: Uint8Array | ArrayBuffer | string,
  ): Promise<WebhookVerifyResult>;
}

const MAX_CACHE_MS = 24 * 60 * 60 * 1000;
const TOLERANCE_SECONDS = 5 * 60;
const JWKS_TIMEOUT_MS = 10_000;

interface KeySet {
  keys: CryptoKey[];
  fetchedAt: number;
}

/** Creates a verifier with its own JWKS cache (keep one per process). */
export function createWebhookVerifier(opts: WebhookVerifierOptions): WebhookVerifier {
  const doFetch = opts.fetch ?? fetch;
  const clock = opts.clock ?? Date.now;
  const ttl = Math.min(opts.cacheTtlMs ?? MAX_CACHE_MS, MAX_CACHE_MS);
  const refetchInterval = opts.refetchIntervalMs ?? 60_000;
  let cached: KeySet | undefined;
  let inFlight: Promise<KeySet> | undefined;
  let lastFetchStartedAt = -Infinity;

  /** One fetch at a time; concurrent callers share it. */
  function fetchKeys(): Promise<KeySet> {
    inFlight ??= (async () => {
      lastFetchStartedAt = clock();
      try {
        const res = await doFetch(opts.jwksUrl, {
          headers: { accept: "application/json" },
          signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
        });
        if (!res.ok) {
          await res.body?.cancel();
          throw new Error(`JWKS answered ${res.status}`);
        }
        const jwks = (await res.json()) as { keys?: { x?: unknown }[] };
        const keys: CryptoKey[] = [];
        // Every key counts: fal's requests carry no key id, so nothing may be filtered out.
        for (const k of Array.isArray(jwks.keys) ? jwks.keys : []) {
          const raw = typeof k.x === "string" ? fromBase64Url(k.x) : undefined;
          if (raw?.length !== 32) continue;
          keys.push(
            await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]),
          );
        }
        const set = { keys, fetchedAt: clock() };
        cached = set;
        return set;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  }

  async function currentKeys(): Promise<KeySet | undefined> {
    if (cached && clock() - cached.fetchedAt < ttl) return cached;
    return await fetchKeys().catch(() => undefined);
  }

  async function anyVerifies(
    keys: CryptoKey[],
    sig: Uint8Array<ArrayBuffer>,
    msg: Uint8Array<ArrayBuffer>,
  ) {
    for (const key of keys) {
      if (await crypto.subtle.verify("Ed25519", key, sig, msg)) return true;
    }
    return false;
  }

  return {
    async verify(headers, rawBody) {
      const requestId = headers.get("x-fal-webhook-request-id");
      const userId = headers.get("x-fal-webhook-user-id");
      const timestamp = headers.get("x-fal-webhook-timestamp");
      const signatureHex = headers.get("x-fal-webhook-signature");
      if (!requestId || !userId || !timestamp || !signatureHex) {
        return { ok: false, reason: "missing_headers" };
      }
      if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "invalid_timestamp" };
      if (Math.abs(clock() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
        return { ok: false, reason: "timestamp_out_of_range" };
      }
      const signature = fromHex(signatureHex);
      if (signature?.length !== 64) return { ok: false, reason: "invalid_signature_format" };

      const body = typeof rawBody === "string"
        ? new TextEncoder().encode(rawBody)
        : rawBody instanceof Uint8Array
        ? new Uint8Array(rawBody)
        : new Uint8Array(rawBody);
      const digest = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", body)));
      const message = new TextEncoder().encode([requestId, userId, timestamp, digest].join("\n"));

      const keys = await currentKeys();
      if (!keys) return { ok: false, reason: "jwks_unavailable" };
      if (await anyVerifies(keys.keys, signature, message)) return { ok: true, requestId, userId };
      // fal may have rotated its keys since we cached them: look again, but not too often.
      if (clock() - lastFetchStartedAt < refetchInterval) {
        return { ok: false, reason: "no_key_verifies" };
      }
      const fresh = await fetchKeys().catch(() => undefined);
      if (fresh && await anyVerifies(fresh.keys, signature, message)) {
        return { ok: true, requestId, userId };
      }
      return { ok: false, reason: "no_key_verifies" };
    },
  };
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromBase64Url(s: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
