/**
 * Installs what the tests need when it is missing: Debian packages (PostgreSQL 15 with pgTAP,
 * plpgsql_check and pg_cron, pg_prove, ffmpeg, Chromium) when we are root, and into npx's cache
 * the pinned Supabase CLI and the Deno that hosted Edge Functions run on (the functions' workers
 * use that one). Prints what it does; does nothing when all is there.
 */
import { EDGE_DENO_VERSION, locateEdgeDeno } from "./gateway/functions/edge_deno.ts";
import { PG_BIN } from "./postgres.ts";
import { run, runChecked } from "./process.ts";
import { SUPABASE_CLI } from "./supabase_cli.ts";

interface Need {
  /** A file whose presence shows the package is installed. */
  file: string;
  apt: string;
}

const NEEDS: Need[] = [
  { file: `${PG_BIN}/postgres`, apt: "postgresql-15" },
  { file: "/usr/share/postgresql/15/extension/pgtap.control", apt: "postgresql-15-pgtap" },
  {
    file: "/usr/share/postgresql/15/extension/plpgsql_check.control",
    apt: "postgresql-15-plpgsql-check",
  },
  { file: "/usr/share/postgresql/15/extension/pg_cron.control", apt: "postgresql-15-cron" },
  { file: "/usr/bin/pg_prove", apt: "libtap-parser-sourcehandler-pgtap-perl" },
  { file: "/usr/bin/ffmpeg", apt: "ffmpeg" },
  { file: "/usr/bin/ffprobe", apt: "ffmpeg" },
  { file: "/usr/bin/chromium", apt: "chromium" },
];

function present(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Installs missing Debian packages (root only) and warms the Supabase CLI and Edge Deno. */
export async function installDeps(log: (line: string) => void = console.log): Promise<void> {
  const missing = [...new Set(NEEDS.filter((n) => !present(n.file)).map((n) => n.apt))];
  if (missing.length) {
    if (Deno.uid() !== 0) {
      throw new Error(`missing Debian packages (install them as root): ${missing.join(" ")}`);
    }
    log(`apt-get install ${missing.join(" ")}`);
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    await runChecked("apt-get", ["update", "-q"], { env });
    await runChecked("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], {
      env,
    });
    // Debian's postgresql package creates and starts a "main" cluster on 5432; we use our own.
    await run("pg_dropcluster", ["--stop", "15", "main"]);
  }
  await runChecked("npx", ["-y", SUPABASE_CLI, "--version"]);
  const edge = await locateEdgeDeno();
  log(`edge functions run on Deno ${EDGE_DENO_VERSION}: ${edge.path}`);
}

if (import.meta.main) await installDeps();
