/**
 * Reads the parts of `supabase/config.toml` the gateway honours: `[auth]` token and sign-up
 * settings, `[storage] file_size_limit`, and `verify_jwt` per `[functions.<name>]`. The parser
 * covers the TOML subset that file uses (tables, `key = value` with strings, booleans, numbers
 * and arrays); anything else is skipped rather than guessed.
 */

export type TomlValue = string | number | boolean | TomlValue[];
/** Table name (e.g. `auth.email`, `functions.my-fn`) → its keys. */
export type TomlTables = Map<string, Record<string, TomlValue>>;

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

function parseTableName(text: string): string {
  return text.split(".").map((p) => p.trim().replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1"))
    .join(".");
}

function parseValue(text: string): TomlValue | undefined {
  const t = text.trim();
  if (t.startsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return undefined;
    }
  }
  if (t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1);
  if (t === "true" || t === "false") return t === "true";
  if (/^[+-]?\d[\d_]*$/.test(t)) return Number(t.replaceAll("_", ""));
  if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (t.startsWith("[") && t.endsWith("]")) {
    const inner = t.slice(1, -1).trim();
    if (!inner) return [];
    const items: TomlValue[] = [];
    // Split on commas outside quotes; nested arrays are not used in config.toml.
    let depth = "";
    let start = 0;
    for (let i = 0; i <= inner.length; i++) {
      const c = inner[i];
      if (depth) {
        if (c === "\\" && depth === '"') i++;
        else if (c === depth) depth = "";
      } else if (c === '"' || c === "'") depth = c;
      else if (c === "," || i === inner.length) {
        const part = inner.slice(start, i).trim();
        if (part) {
          const v = parseValue(part);
          if (v === undefined) return undefined;
          items.push(v);
        }
        start = i + 1;
      }
    }
    return items;
  }
  return undefined;
}

/** Parses TOML text into its tables (top-level keys live in table ""). */
export function parseToml(text: string): TomlTables {
  const tables: TomlTables = new Map([["", {}]]);
  let current = tables.get("")!;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = stripComment(lines[i]!).trim();
    if (!line) continue;
    const header = /^\[([^\[\]]+)\]$/.exec(line);
    if (header) {
      const name = parseTableName(header[1]!);
      current = tables.get(name) ?? {};
      tables.set(name, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().replace(/^"(.*)"$/, "$1");
    let raw = line.slice(eq + 1).trim();
    // Multi-line arrays: keep reading until the brackets balance.
    while (raw.startsWith("[") && !raw.endsWith("]") && i + 1 < lines.length) {
      line = stripComment(lines[++i]!).trim();
      raw += " " + line;
    }
    const value = parseValue(raw.replace(/,\s*\]$/, "]"));
    if (value !== undefined) current[key] = value;
  }
  return tables;
}

/** The settings of config.toml that the gateway uses, with Supabase's defaults. */
export interface ProjectConfig {
  auth: {
    jwtExpiry: number;
    enableSignup: boolean;
    enableAnonymousSignIns: boolean;
    minimumPasswordLength: number;
    refreshTokenRotation: boolean;
    refreshTokenReuseInterval: number;
  };
  storage: {
    fileSizeLimit: number;
    /** `[storage.image_transformation] enabled` (off by default, as in the CLI's template). */
    imageTransformation: boolean;
  };
  /** `verify_jwt` of a function (default true, as on Supabase). */
  verifyJwt(functionName: string): boolean;
}

/** Parses sizes like "50MiB", "500KB", "1GB" (1024-based, as Supabase's CLI does) into bytes. */
export function parseSize(text: string | number | undefined, fallback: number): number {
  if (typeof text === "number") return text;
  if (!text) return fallback;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)?\s*$/i.exec(text);
  if (!m) return fallback;
  const unit = (m[2] ?? "").toUpperCase().replace("I", "").replace("B", "");
  const power = ["", "K", "M", "G", "T"].indexOf(unit);
  return Math.floor(Number(m[1]) * 1024 ** Math.max(power, 0));
}

/** Builds a ProjectConfig from config.toml's text (empty text gives Supabase's defaults). */
export function projectConfigFrom(text: string): ProjectConfig {
  const tables = parseToml(text);
  const auth = tables.get("auth") ?? {};
  const storage = tables.get("storage") ?? {};
  const num = (v: TomlValue | undefined, d: number) => (typeof v === "number" ? v : d);
  const bool = (v: TomlValue | undefined, d: boolean) => (typeof v === "boolean" ? v : d);
  return {
    auth: {
      jwtExpiry: num(auth.jwt_expiry, 3600),
      enableSignup: bool(auth.enable_signup, true),
      enableAnonymousSignIns: bool(auth.enable_anonymous_sign_ins, false),
      minimumPasswordLength: num(auth.minimum_password_length, 6),
      refreshTokenRotation: bool(auth.enable_refresh_token_rotation, true),
      refreshTokenReuseInterval: num(auth.refresh_token_reuse_interval, 10),
    },
    storage: {
      fileSizeLimit: parseSize(
        storage.file_size_limit as string | number | undefined,
        50 * 1024 * 1024,
      ),
      imageTransformation: bool(tables.get("storage.image_transformation")?.enabled, false),
    },
    verifyJwt: (name) => bool(tables.get(`functions.${name}`)?.verify_jwt, true),
  };
}

/** Reads a config.toml file (missing file: Supabase's defaults). */
export async function loadConfigFile(path: string): Promise<ProjectConfig> {
  try {
    return projectConfigFrom(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return projectConfigFrom("");
    throw e;
  }
}

/** Reads `<projectDir>/supabase/config.toml`. */
export function loadProjectConfig(projectDir: string): Promise<ProjectConfig> {
  return loadConfigFile(`${projectDir}/supabase/config.toml`);
}

/**
 * The config.toml that governs a functions folder: the one beside it (`<dir>/../config.toml`),
 * as the Supabase CLI finds `supabase/config.toml` next to `supabase/functions`.
 */
export function loadFunctionsConfig(functionsDir: string): Promise<ProjectConfig> {
  return loadConfigFile(`${functionsDir.replace(/\/+$/, "").replace(/\/[^/]+$/, "")}/config.toml`);
}
