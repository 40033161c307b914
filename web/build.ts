/**
 * `deno task build`: type-checks the web app and bundles it into `web/dist` with `deno bundle`
 * (esbuild inside Deno, resolving the `npm:` imports of web/deno.json; no node_modules).
 *
 * Output: `index.html`, `assets/app-<hash>.js` (+ source map) and `assets/styles-<hash>.css`
 * (content-hashed names, so static hosts may cache assets forever), and `build.json` recording a
 * hash of the sources so `ensureWebBuilt` can tell when a rebuild is due. No Supabase URL or key
 * is compiled in: the app reads `config.json` at runtime.
 *
 * The new dist is assembled beside the old one and swapped in with renames, so a server reading
 * web/dist never sees a half-written build.
 */

/** The web/ folder. */
export const WEB_DIR = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
/** The project root (where the root deno.json lives). */
const PROJECT_DIR = WEB_DIR.replace(/\/web$/, "");
/** Default output folder. */
export const DIST_DIR = `${WEB_DIR}/dist`;

export interface BuildOptions {
  /** Output folder (default web/dist). */
  outDir?: string;
  /** Type-check before bundling (default true). */
  check?: boolean;
  /** Progress lines go here (default: silent). */
  log?: (line: string) => void;
}

export interface BuildResult {
  outDir: string;
  script: string;
  styles: string;
  sourceHash: string;
}

async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function deno(args: string[], log: (line: string) => void): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: PROJECT_DIR,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`deno ${args.join(" ")} failed (exit ${out.code})\n${text}`);
  for (const line of text.split("\n")) {
    if (line.trim() && !line.includes("experimental")) log(line.trim());
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

/** The files a build depends on: sources, page template and web/deno.json. */
async function sourceFiles(): Promise<string[]> {
  const files = [`${WEB_DIR}/index.html`, `${WEB_DIR}/deno.json`, `${WEB_DIR}/build.ts`];
  for await (const path of walk(`${WEB_DIR}/src`)) {
    if (!/_test\.tsx?$/.test(path) && !path.endsWith("/test_jobs.ts")) files.push(path);
  }
  return files;
}

/** A hash of every source file's path and content: equal hash, equal build. */
export async function webSourceHash(): Promise<string> {
  const parts: string[] = [];
  for (const path of await sourceFiles()) {
    parts.push(`${path.slice(WEB_DIR.length)}:${await sha256Hex(await Deno.readFile(path))}`);
  }
  return await sha256Hex(parts.join("\n"));
}

/** True when `outDir` holds no build, or one made from other sources. */
export async function isWebBuildStale(outDir = DIST_DIR): Promise<boolean> {
  try {
    const info = JSON.parse(await Deno.readTextFile(`${outDir}/build.json`));
    return info.sourceHash !== await webSourceHash();
  } catch {
    return true;
  }
}

/** Builds the app into `outDir` (default web/dist). */
export async function buildWeb(opts: BuildOptions = {}): Promise<BuildResult> {
  const log = opts.log ?? (() => {});
  const outDir = opts.outDir ?? DIST_DIR;
  const config = `${WEB_DIR}/deno.json`;
  const entry = `${WEB_DIR}/src/main.tsx`;
  const sourceHash = await webSourceHash();
  if (opts.check ?? true) {
    log("type-checking web/src");
    await deno(["check", "--quiet", "--config", config, entry], log);
  }
  const staging = `${outDir}.building-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(`${staging}/assets`, { recursive: true });
  try {
    log("bundling web/src/main.tsx");
    const tmpScript = `${staging}/assets/app.js`;
    await deno([
      "bundle",
      "--quiet",
      "--config",
      config,
      "--platform",
      "browser",
      "--format",
      "esm",
      "--minify",
      "--sourcemap",
      "external",
      "--output",
      tmpScript,
      entry,
    ], log);
    const script = await Deno.readFile(tmpScript);
    const scriptName = `app-${(await sha256Hex(script)).slice(0, 12)}.js`;
    const map = await Deno.readTextFile(`${tmpScript}.map`).catch(() => null);
    const withMapLink =
      new TextDecoder().decode(script).replace(/\n\/\/# sourceMappingURL=.*\n?$/, "") +
      (map ? `\n//# sourceMappingURL=${scriptName}.map\n` : "\n");
    await Deno.writeTextFile(`${staging}/assets/${scriptName}`, withMapLink);
    if (map) await Deno.writeTextFile(`${staging}/assets/${scriptName}.map`, map);
    await Deno.remove(tmpScript);
    await Deno.remove(`${tmpScript}.map`).catch(() => {});

    const css = await Deno.readFile(`${WEB_DIR}/src/styles.css`);
    const stylesName = `styles-${(await sha256Hex(css)).slice(0, 12)}.css`;
    await Deno.writeFile(`${staging}/assets/${stylesName}`, css);

    const html = (await Deno.readTextFile(`${WEB_DIR}/index.html`))
      .replace("%SCRIPT%", `assets/${scriptName}`)
      .replace("%STYLES%", `assets/${stylesName}`);
    await Deno.writeTextFile(`${staging}/index.html`, html);
    await Deno.writeTextFile(
      `${staging}/build.json`,
      JSON.stringify({ sourceHash, script: scriptName, styles: stylesName }, null, 2) + "\n",
    );

    // Swap: old dist aside, new one in, old one removed.
    const old = `${outDir}.old-${crypto.randomUUID().slice(0, 8)}`;
    const hadOld = await Deno.rename(outDir, old).then(() => true, () => false);
    await Deno.rename(staging, outDir);
    if (hadOld) await Deno.remove(old, { recursive: true });
    log(`built ${outDir}: assets/${scriptName} (${script.length} bytes), assets/${stylesName}`);
    return { outDir, script: scriptName, styles: stylesName, sourceHash };
  } catch (e) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * Builds web/dist when its sources changed since the last build (for `deno task dev`); resolves
 * to whether it rebuilt.
 */
export async function ensureWebBuilt(opts: BuildOptions = {}): Promise<boolean> {
  if (!await isWebBuildStale(opts.outDir)) return false;
  await buildWeb(opts);
  return true;
}

/**
 * Rebuilds `outDir` whenever a source file changes, until `signal` aborts (for `deno task dev`).
 * Changes are coalesced for `debounceMs`; a failed build is logged and the old dist kept.
 */
export async function watchWeb(
  opts: BuildOptions & { signal: AbortSignal; debounceMs?: number },
): Promise<void> {
  const log = opts.log ?? (() => {});
  const watcher = Deno.watchFs([`${WEB_DIR}/src`, `${WEB_DIR}/index.html`]);
  opts.signal.addEventListener("abort", () => watcher.close(), { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let building = Promise.resolve();
  const rebuild = () => {
    building = building.then(async () => {
      try {
        if (await ensureWebBuilt(opts)) log("rebuilt after a source change");
      } catch (e) {
        log(`build failed (keeping the previous one): ${e instanceof Error ? e.message : e}`);
      }
    });
  };
  try {
    for await (const _event of watcher) {
      clearTimeout(timer);
      timer = setTimeout(rebuild, opts.debounceMs ?? 200);
    }
  } finally {
    clearTimeout(timer);
    await building;
  }
}

if (import.meta.main) {
  const started = performance.now();
  try {
    await buildWeb({ log: (line) => console.log(`[web] ${line}`) });
  } catch (e) {
    console.error(`[web] build failed: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
  console.log(`[web] done in ${((performance.now() - started) / 1000).toFixed(1)}s`);
}
