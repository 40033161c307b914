/**
 * Throw-away Supabase project folders for tests that need functions of their own: a
 * `supabase/functions/<name>/…` tree plus the `config.toml` beside it (every function gets
 * `verify_jwt = false`). Created under `parent` (a
 * temporary folder by default; a folder inside the repository when a test must prove that the
 * repository's own deno.json is not used).
 */

/** A project folder on disk; `remove()` (or `await using`) deletes it. */
export interface TempProject {
  root: string;
  functionsDir: string;
  remove(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Writes `files` (paths relative to `supabase/functions/`) and a config.toml. */
export async function writeFunctions(
  files: Record<string, string>,
  opts: { parent?: string } = {},
): Promise<TempProject> {
  if (opts.parent) await Deno.mkdir(opts.parent, { recursive: true });
  const root = await Deno.makeTempDir({ dir: opts.parent, prefix: "vq-fns-" });
  const functionsDir = `${root}/supabase/functions`;
  const names = new Set<string>();
  for (const [path, text] of Object.entries(files)) {
    const full = `${functionsDir}/${path}`;
    await Deno.mkdir(full.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(full, text);
    const top = path.split("/")[0]!;
    if (path.includes("/") && !top.startsWith("_")) names.add(top);
  }
  const toml = [...names].map((n) => `[functions.${n}]\nverify_jwt = false\n`).join("\n");
  await Deno.writeTextFile(`${root}/supabase/config.toml`, toml);
  const remove = () => Deno.remove(root, { recursive: true }).catch(() => {});
  return { root, functionsDir, remove, [Symbol.asyncDispose]: remove };
}
