/**
 * Runtime configuration. The Supabase URL and anon (publishable) key are read from `config.json`
 * next to `index.html` when the page loads, never compiled in, so one `web/dist` works against the
 * local stack (which serves `/config.json`) and any hosted project (which gets its own file).
 */

export interface AppConfig {
  supabaseUrl: string;
  anonKey: string;
}

/** Raised when config.json is missing or malformed; the message says how to fix it. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Validates the parsed `config.json`. */
export function parseConfig(value: unknown): AppConfig {
  const v = value as Partial<Record<keyof AppConfig, unknown>> | null;
  const url = typeof v?.supabaseUrl === "string" ? v.supabaseUrl.trim() : "";
  const key = typeof v?.anonKey === "string" ? v.anonKey.trim() : "";
  if (!url || !key) {
    throw new ConfigError('config.json must contain {"supabaseUrl": "…", "anonKey": "…"}.');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`config.json: supabaseUrl is not a URL: ${url}`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new ConfigError(`config.json: supabaseUrl must be http(s), got ${parsed.protocol}`);
  }
  return { supabaseUrl: url.replace(/\/+$/, ""), anonKey: key };
}

/** Fetches and validates `config.json` relative to the page. */
export async function loadConfig(
  fetchFn: typeof fetch = fetch,
  url = "config.json",
): Promise<AppConfig> {
  let res: Response;
  try {
    res = await fetchFn(url, { cache: "no-store" });
  } catch (e) {
    throw new ConfigError(`Could not load ${url}: ${e instanceof Error ? e.message : e}`);
  }
  if (!res.ok) {
    throw new ConfigError(
      `Could not load ${url} (HTTP ${res.status}). Put a config.json with your project's URL and ` +
        "anon key next to index.html.",
    );
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new ConfigError(`${url} is not valid JSON.`);
  }
  return parseConfig(body);
}
