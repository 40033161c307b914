/**
 * The Deno that runs Edge Functions in the local stack: the version hosted Supabase's Edge Runtime
 * embeds (supabase/edge-runtime's `deno/Cargo.toml`), not the newer Deno that runs the tooling,
 * so a function using an API the platform lacks fails here first. The binary comes from npm's
 * `deno` package through npx (which installs it on first use, on any machine where `npx` works)
 * and is located by asking that Deno for its own `Deno.execPath()`.
 */
import { runChecked } from "../../process.ts";

/** The Deno version of hosted Supabase's Edge Runtime. */
export const EDGE_DENO_VERSION = "2.1.4";

/** The npx package spec of that Deno. */
export const EDGE_DENO_PACKAGE = `deno@${EDGE_DENO_VERSION}`;

/** Where the Edge Runtime's Deno lives on this machine. */
export interface EdgeDeno {
  path: string;
  version: string;
}

/**
 * Asks npx for the pinned Deno (installing it into npx's cache when missing) and returns the path
 * of the real binary, so workers run it directly (no node wrapper between us and the process
 * whose CPU time and exit we observe).
 */
export async function locateEdgeDeno(): Promise<EdgeDeno> {
  const { stdout } = await runChecked("npx", [
    "-y",
    EDGE_DENO_PACKAGE,
    "eval",
    "--no-config",
    "console.log(JSON.stringify({ path: Deno.execPath(), version: Deno.version.deno }))",
  ], { cwd: "/" });
  const line = stdout.trim().split("\n").pop() ?? "";
  const found = JSON.parse(line) as EdgeDeno;
  if (found.version !== EDGE_DENO_VERSION) {
    throw new Error(`npx ${EDGE_DENO_PACKAGE} runs Deno ${found.version}`);
  }
  return found;
}

let located: Promise<EdgeDeno> | null = null;

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * `locateEdgeDeno()` once per process (every stack a test file starts shares the answer), looked
 * up again when the look-up failed or npx's cache lost the binary since.
 */
export async function edgeDeno(): Promise<EdgeDeno> {
  if (located) {
    const known = await located.catch(() => null);
    if (known && exists(known.path)) return known;
  }
  located = locateEdgeDeno();
  return await located;
}
