/**
 * Which configuration a function runs with: the import map `supabase functions deploy` would
 * upload with it, chosen as the CLI chooses it (`internal/functions/deploy` GetFunctionConfig,
 * `pkg/config` for config.toml paths):
 *
 *   1. `[functions.<name>] import_map` in config.toml (relative to config.toml's folder),
 *   2. `<function>/deno.json`, then `<function>/deno.jsonc`,
 *   3. `<function>/import_map.json` (deprecated),
 *   4. `<functionsDir>/import_map.json` (the deprecated global fallback),
 *   5. none.
 *
 * A deno.json(c) beside the entry point is the function's Deno config (the bundler discovers it
 * there: `ShouldUseDenoJsonDiscovery`), so the worker gets `--config` with it; any other map is
 * passed as `--import-map` with `--no-config`. Either way Deno never looks for a config, a
 * lockfile or a package.json from the working directory up, so the repository's root deno.json is
 * invisible to functions, as it is to the platform.
 */
import { parseToml } from "../project_config.ts";

/** How one function is resolved. */
export interface FunctionConfig {
  /** The file the CLI would upload as the function's import map, if any. */
  importMap: string | null;
  /** `--config <deno.json>` or `--no-config [--import-map <map>]`. */
  denoArgs: string[];
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function parentDir(path: string): string {
  return path.replace(/\/+$/, "").replace(/\/[^/]+$/, "") || "/";
}

function readConfigToml(functionsDir: string): string {
  try {
    return Deno.readTextFileSync(`${parentDir(functionsDir)}/config.toml`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  }
}

/** The import map the CLI picks for `<functionsDir>/<name>`, or null. */
export function importMapOf(functionsDir: string, name: string): string | null {
  functionsDir = functionsDir.replace(/\/+$/, "");
  const supabaseDir = parentDir(functionsDir);
  const configured = parseToml(readConfigToml(functionsDir)).get(`functions.${name}`)?.import_map;
  if (typeof configured === "string" && configured) {
    return configured.startsWith("/")
      ? configured
      : `${supabaseDir}/${configured.replace(/^(\.\/)+/, "")}`;
  }
  const dir = `${functionsDir}/${name}`;
  for (const candidate of ["deno.json", "deno.jsonc", "import_map.json"]) {
    if (isFile(`${dir}/${candidate}`)) return `${dir}/${candidate}`;
  }
  const fallback = `${functionsDir}/import_map.json`;
  return isFile(fallback) ? fallback : null;
}

/** Resolves the configuration `<functionsDir>/<name>/index.ts` runs with. */
export function functionConfig(functionsDir: string, name: string): FunctionConfig {
  functionsDir = functionsDir.replace(/\/+$/, "");
  const importMap = importMapOf(functionsDir, name);
  if (!importMap) return { importMap, denoArgs: ["--no-config"] };
  const isDenoJson = /\/deno\.jsonc?$/.test(importMap) &&
    parentDir(importMap) === `${functionsDir}/${name}`;
  return {
    importMap,
    denoArgs: isDenoJson ? ["--config", importMap] : ["--no-config", "--import-map", importMap],
  };
}
