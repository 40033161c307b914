/**
 * The Deno that Supabase's hosted Edge Runtime embeds (2.1.4, `deno/Cargo.toml` of
 * supabase/edge-runtime), which runs every function in the local stack so that an API newer than
 * the platform's fails here first. It comes from npm's per-platform package (the binary is inside
 * the package; no install script, no download of its own), installed once into a cache folder.
 */
import { runChecked } from "../../process.ts";

/** The runtime's Deno version. */
export const EDGE_DENO_VERSION = "2.1.4";

function platformPackage(): string {
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  if (Deno.build.os === "linux") return `@deno/linux-${arch}-glibc`;
  if (Deno.build.os === "darwin") return `@deno/darwin-${arch}`;
  if (Deno.build.os === "windows") return `@deno/win32-${arch}`;
  throw new Error(`no Deno ${EDGE_DENO_VERSION} package for ${Deno.build.os}`);
}

function cacheDir(): string {
  const home = Deno.env.get("XDG_CACHE_HOME") ??
    `${Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? "/tmp"}/.cache`;
  return `${home}/vidqueue/edge-deno-${EDGE_DENO_VERSION}`;
}

let resolving: Promise<string> | null = null;

/** Path of the runtime's Deno binary, installed from npm on first use. */
export function edgeDeno(): Promise<string> {
  resolving ??= (async () => {
    const dir = cacheDir();
    const pkg = platformPackage();
    const bin = `${dir}/node_modules/${pkg}/deno${Deno.build.os === "windows" ? ".exe" : ""}`;
    try {
      await Deno.stat(bin);
      return bin;
    } catch {
      // Not installed yet.
    }
    await Deno.mkdir(dir, { recursive: true });
    await runChecked("npm", [
      "install",
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--prefix",
      dir,
      `${pkg}@${EDGE_DENO_VERSION}`,
    ]);
    await Deno.stat(bin);
    return bin;
  })().catch((e) => {
    resolving = null;
    throw e;
  });
  return resolving;
}

/**
 * Environment the runtime's Deno needs beside the function's own: it trusts the machine's CA
 * store as well as its bundled roots (Deno 2.1.4 reads only the bundled ones by default, so behind
 * a TLS-inspecting proxy it could not fetch the functions' npm packages at boot).
 */
export function edgeDenoEnv(): Record<string, string> {
  return { DENO_TLS_CA_STORE: Deno.env.get("DENO_TLS_CA_STORE") ?? "mozilla,system" };
}
