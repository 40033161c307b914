/**
 * Which configuration a function runs with, chosen as `supabase functions deploy` chooses the
 * import map it uploads (CLI `internal/functions/deploy`): `<function>/deno.json`, else
 * `<function>/deno.jsonc`, else `<functions>/import_map.json`, else none. Nothing else is read:
 * never the repository's root deno.json, which the CLI does not upload.
 * (`[functions.<name>].import_map` in config.toml comes first for the CLI; Vidqueue does not use
 * it and the gateway does not read it — docs/hosted-parity.md.)
 */

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The `deno run` flags that give a function exactly its deployed configuration. */
export async function configFlags(functionsDir: string, name: string): Promise<string[]> {
  for (const file of ["deno.json", "deno.jsonc"]) {
    const path = `${functionsDir}/${name}/${file}`;
    if (await isFile(path)) return ["--config", path];
  }
  const fallback = `${functionsDir}/import_map.json`;
  if (await isFile(fallback)) return ["--no-config", "--import-map", fallback];
  return ["--no-config"];
}
