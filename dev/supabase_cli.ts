/**
 * The real Supabase CLI (pinned), used exactly as a user would against a hosted project:
 * `db push` applies supabase/migrations and seed.sql, `db lint` runs plpgsql_check.
 */
import { runChecked, type RunResult } from "./process.ts";

/** The pinned CLI version; npx caches it after the first download. */
export const SUPABASE_CLI = "supabase@3.1.0";

/** Project root: the folder holding `supabase/`. */
export const PROJECT_ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** Runs the pinned CLI with `args` in `workdir` (`--workdir` added); throws on a non-zero exit. */
export function supabaseCli(args: string[], workdir: string = PROJECT_ROOT): Promise<RunResult> {
  return cli(args, workdir);
}

function cli(args: string[], workdir: string): Promise<RunResult> {
  return runChecked("npx", ["-y", SUPABASE_CLI, ...args, "--workdir", workdir], {
    cwd: workdir,
    env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
  });
}

function withSslDisabled(dbUrl: string): string {
  return dbUrl.includes("sslmode=")
    ? dbUrl
    : `${dbUrl}${dbUrl.includes("?") ? "&" : "?"}sslmode=disable`;
}

/** Pushes the migrations (and seed.sql when `seed`) in `workdir` to the database at `dbUrl`. */
export function dbPush(dbUrl: string, opts: { workdir?: string; seed?: boolean } = {}) {
  const args = ["db", "push", `--remote=${withSslDisabled(dbUrl)}`, "--yes"];
  if (opts.seed ?? true) args.push("--include-seed");
  return cli(args, opts.workdir ?? PROJECT_ROOT);
}

/** Runs plpgsql_check over the given schemas; fails on warnings as well as errors. */
export function dbLint(dbUrl: string, schemas = ["public"]) {
  return cli(
    [
      "db",
      "lint",
      `--remote=${withSslDisabled(dbUrl)}`,
      "--schema",
      schemas.join(","),
      "--level",
      "warning",
      "--fail-on",
      "warning",
    ],
    PROJECT_ROOT,
  );
}
