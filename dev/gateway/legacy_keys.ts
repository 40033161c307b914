/**
 * A hosted project can disable its legacy API keys (the `anon` and `service_role` JWTs) and keep
 * only `sb_publishable_…` / `sb_secret_…` keys. The platform's gateway then refuses a legacy key
 * presented as the project API key with 401
 * `{"message":"Legacy API keys are disabled","hint":"Your legacy API keys (anon, service_role)
 * were disabled on <time>. Re-enable them …"}` on every API, while Edge Functions still find the
 * old JWTs in SUPABASE_ANON_KEY / SUPABASE_SERVICE_ROLE_KEY. The dev stack can run the same way
 * (`LEGACY_KEYS=disabled`), so code that still sends those variables fails here first.
 */
import { bearerToken, json } from "./http.ts";

/** Whether the stack accepts its legacy anon / service_role keys as API keys. */
export type LegacyKeysMode = "enabled" | "disabled";

/** Reads `LEGACY_KEYS` (unset: enabled); anything but enabled/disabled is a start-up error. */
export function parseLegacyKeysMode(value: string | undefined): LegacyKeysMode {
  if (value === undefined || value === "") return "enabled";
  if (value === "enabled" || value === "disabled") return value;
  throw new Error(`LEGACY_KEYS must be "enabled" or "disabled", got ${JSON.stringify(value)}`);
}

/** The API a request is for; the functions route only ever reads the `apikey` itself. */
export type ApiService = "auth" | "storage" | "realtime" | "functions";

/** Checks one request; null when it may go on, else the platform's refusal. */
export type LegacyKeyGate = (req: Request, url: URL, service: ApiService) => Response | null;

/** The key a caller presents to the project: `apikey` header or query parameter. */
function presentedKey(req: Request, url: URL, service: ApiService): string | null {
  const key = req.headers.get("apikey") ?? req.headers.get("x-api-key") ??
    url.searchParams.get("apikey");
  if (key) return key;
  // Auth, Storage and Realtime here take a bare `Authorization: Bearer <key>` as the key too;
  // a legacy key sent that way must not slip past the gate. A user's JWT is never a legacy key.
  return service === "functions" ? null : bearerToken(req);
}

/** Builds the gate for a stack whose legacy keys are `legacyKeys` (anon, service_role). */
export function createLegacyKeyGate(opts: {
  mode: LegacyKeysMode;
  legacyKeys: string[];
  /** When the keys were disabled (the platform names the time in its hint). */
  disabledAt: Date;
}): LegacyKeyGate {
  if (opts.mode === "enabled") return () => null;
  const legacy = new Set(opts.legacyKeys);
  const hint =
    `Your legacy API keys (anon, service_role) were disabled on ${opts.disabledAt.toISOString()}. Re-enable them in the Supabase dashboard, or use the new publishable and secret API keys.`;
  return (req, url, service) => {
    const key = presentedKey(req, url, service);
    if (key === null || !legacy.has(key)) return null;
    return json({ message: "Legacy API keys are disabled", hint }, 401);
  };
}
