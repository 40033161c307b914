/**
 * Checks a function the way `supabase functions deploy` packages it: the import map the CLI would
 * pick for it (its own deno.json here) and nothing else — `deno info --no-config --import-map`
 * under the Edge Runtime's Deno, from outside the repository — then lists what would break on
 * the platform: imports the map lacks, modules that cannot load, files outside the functions
 * folder (the CLI uploads only that tree) or inside another function's folder (functions do not
 * import each other), map entries nobody uses, and pins that differ from the root deno.json
 * (which `deno task check` type-checks the functions with).
 */
import { edgeDeno } from "../../dev/gateway/functions/edge_deno.ts";
import { importMapOf } from "../../dev/gateway/functions/function_config.ts";
import { runChecked } from "../../dev/process.ts";

interface InfoDependency {
  specifier: string;
  code?: { specifier?: string; error?: string };
  type?: { specifier?: string; error?: string };
}

interface InfoModule {
  specifier: string;
  error?: string;
  dependencies?: InfoDependency[];
}

interface Info {
  modules: InfoModule[];
  redirects: Record<string, string>;
}

/** What one function's package looks like to the platform. */
export interface PackagingReport {
  importMap: string | null;
  /** Each problem as a readable line; empty when the function deploys as it runs here. */
  problems: string[];
  /** `file:` modules reached from the entry point, relative to the functions folder. */
  files: string[];
}

function relative(functionsDir: string, specifier: string): string {
  const path = decodeURIComponent(new URL(specifier).pathname);
  return path.startsWith(`${functionsDir}/`) ? path.slice(functionsDir.length + 1) : path;
}

/** Resolves `<functionsDir>/<name>/index.ts` as deployed and reports what would break. */
export async function checkPackaging(
  functionsDir: string,
  name: string,
  rootImports: Record<string, string> = {},
): Promise<PackagingReport> {
  const problems: string[] = [];
  const importMap = importMapOf(functionsDir, name);
  const args = ["info", "--no-lock", "--no-config", "--json"];
  let imports: Record<string, string> = {};
  if (importMap) {
    args.push("--import-map", importMap);
    imports = (JSON.parse(await Deno.readTextFile(importMap)) as {
      imports?: Record<string, string>;
    }).imports ?? {};
  }
  const { path } = await edgeDeno();
  const { stdout } = await runChecked(path, [...args, `${functionsDir}/${name}/index.ts`], {
    cwd: "/",
    env: {
      DENO_NO_PACKAGE_JSON: "1",
      NO_COLOR: "1",
      DENO_TLS_CA_STORE: Deno.env.get("DENO_TLS_CA_STORE") ?? "mozilla,system",
    },
  });
  const info = JSON.parse(stdout) as Info;
  const files: string[] = [];
  for (const mod of info.modules) {
    const where = mod.specifier.startsWith("file:")
      ? relative(functionsDir, mod.specifier)
      : mod.specifier;
    if (mod.error) problems.push(`${where}: ${mod.error}`);
    for (const dep of mod.dependencies ?? []) {
      for (const resolved of [dep.code, dep.type]) {
        if (resolved?.error) {
          problems.push(`${where} imports "${dep.specifier}": ${resolved.error}`);
        }
      }
    }
    if (!mod.specifier.startsWith("file:")) continue;
    files.push(where);
    if (where.startsWith("/")) {
      problems.push(`${where} is outside the functions folder (the CLI uploads only that tree)`);
      continue;
    }
    const owner = where.split("/")[0]!;
    if (owner !== name && !owner.startsWith("_")) {
      problems.push(`${where} belongs to function ${owner} (functions must not import each other)`);
    }
  }
  const reached = [...Object.keys(info.redirects), ...info.modules.map((m) => m.specifier)];
  for (const [key, target] of Object.entries(imports)) {
    if (!reached.some((s) => s.startsWith(target))) {
      problems.push(`import map entry "${key}" is never used`);
    }
    if (key in rootImports && rootImports[key] !== target) {
      problems.push(`"${key}" is ${target} here but ${rootImports[key]} in the root deno.json`);
    }
  }
  return { importMap, problems, files: files.sort() };
}
