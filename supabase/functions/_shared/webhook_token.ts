/**
 * Our own token in the webhook URL we give fal. fal's signature proves that fal sent a body for
 * some request of some fal account — fal signs every customer's webhooks with the same keys, and
 * the signature does not cover the URL — so it cannot tell our requests from anyone else's. The
 * token can: `HMAC-SHA256(key, "<job id>:<dispatch>")`, base64url, minted when we submit and
 * checked (in constant time) before fal-webhook looks at any job. It binds a callback to the job
 * and the dispatch (`jobs.dispatch_seq`) it was made for.
 *
 * The key comes from `WEBHOOK_TOKEN_SECRET` when set, else it is derived (HKDF-SHA256 with a
 * fixed label) from the service key every function already has, so it works with zero
 * configuration. Either way, changing the secret (or rotating the service key it derives from)
 * invalidates the tokens of requests still in flight: their webhooks are refused with 401, fal
 * retries them for a while, and the reconciler fetches those jobs' results from fal by request id
 * instead (a dispatch whose request id was never stored is submitted again).
 */

/** Mints and checks webhook tokens; one per process. */
export interface WebhookTokens {
  /** The token for dispatch `dispatch` of job `jobId`. */
  mint(jobId: string, dispatch: number): Promise<string>;
  /** True when `token` is the one minted for (`jobId`, `dispatch`); constant time. */
  verify(jobId: string, dispatch: number, token: string | null | undefined): Promise<boolean>;
}

const LABEL = "vidqueue fal-webhook token v1";
const encoder = new TextEncoder();

/**
 * Tokens under `secret` (WEBHOOK_TOKEN_SECRET) when given, else under a key derived from
 * `serviceKey`.
 */
export function createWebhookTokens(
  opts: { secret?: string | null; serviceKey: string },
): WebhookTokens {
  const material = opts.secret || opts.serviceKey;
  if (!material) throw new Error("webhook tokens need a secret or the service key");
  let key: Promise<CryptoKey> | undefined;
  const hmacKey = () =>
    key ??= (async () => {
      const ikm = await crypto.subtle.importKey("raw", encoder.encode(material), "HKDF", false, [
        "deriveKey",
      ]);
      return await crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(LABEL) },
        ikm,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
    })();
  const mac = async (jobId: string, dispatch: number) =>
    new Uint8Array(
      await crypto.subtle.sign("HMAC", await hmacKey(), encoder.encode(`${jobId}:${dispatch}`)),
    );
  return {
    async mint(jobId, dispatch) {
      return toBase64Url(await mac(jobId, dispatch));
    },
    async verify(jobId, dispatch, token) {
      const expected = await mac(jobId, dispatch);
      const presented = token ? fromBase64Url(token) : undefined;
      // The length of a token is public (always 32 bytes); its content is compared in full.
      if (!presented || presented.length !== expected.length) return false;
      let diff = 0;
      for (let i = 0; i < expected.length; i++) diff |= expected[i]! ^ presented[i]!;
      return diff === 0;
    },
  };
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

function fromBase64Url(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(s)) return undefined;
  try {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
