/**
 * A PostgreSQL 15 cluster owned by the dev stack: initialised on first start under a data
 * directory, started with `pg_ctl`, stopped cleanly. When run as root the server runs as the
 * `postgres` OS user, because initdb and postgres refuse to run as root; that user must then
 * reach the data directory, which a checkout in root's home (mode 700) does not allow, so such
 * stacks keep their cluster under SERVER_DATA_ROOT instead (see usableDataDir).
 */
import { run, runChecked } from "./process.ts";

/** Where Debian installs the PostgreSQL 15 server binaries. */
export const PG_BIN = Deno.env.get("PG_BIN") ?? "/usr/lib/postgresql/15/bin";

/** The bootstrap superuser; as on hosted Supabase, `postgres` itself is not a superuser. */
export const SUPERUSER = "supabase_admin";

export interface ClusterOptions {
  /** Directory holding the cluster's files (created on first start). */
  dataDir: string;
  port: number;
  /** Password of the bootstrap superuser, set at initdb time. */
  superuserPassword: string;
}

export interface Cluster {
  port: number;
  dataDir: string;
  /** URL for the bootstrap superuser (the shim and the test harness only). */
  superuserUrl(database?: string): string;
  stop(): Promise<void>;
}

/**
 * Where a stack run as root keeps clusters whose preferred place the `postgres` OS user cannot
 * reach: one directory per stack, named by a hash of the preferred path (so each checkout keeps
 * its own data across restarts). Owned by `postgres`, mode 0700.
 */
export const SERVER_DATA_ROOT = "/var/lib/vidqueue";

const isRoot = () => Deno.uid() === 0;

/** Runs a server binary, as the `postgres` OS user when we are root. */
function pgCommand(binary: string, args: string[]): [string, string[]] {
  const path = `${PG_BIN}/${binary}`;
  return isRoot() ? ["runuser", ["-u", "postgres", "--", path, ...args]] : [path, args];
}

/**
 * The server binaries run from the data directory's parent: the server user can always enter
 * it, unlike our working directory (a checkout in root's home), which initdb and pg_ctl try to
 * return to.
 */
function pgOptions(dataDir: string): { cwd: string } {
  return { cwd: dataDir.replace(/\/[^/]+\/?$/, "") || "/" };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function chownToPostgres(path: string): Promise<void> {
  if (isRoot()) await runChecked("chown", ["-R", "postgres:postgres", path]);
}

function preloadLibraries(): string[] {
  const libDir = PG_BIN.replace(/\/bin$/, "/lib");
  const wanted = ["pg_cron", "plpgsql_check"];
  return wanted.filter((lib) => {
    try {
      Deno.statSync(`${libDir}/${lib}.so`);
      return true;
    } catch {
      return false;
    }
  });
}

async function initCluster(opts: ClusterOptions): Promise<void> {
  await Deno.mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  const pwFile = `${opts.dataDir}.pwfile`;
  await Deno.writeTextFile(pwFile, opts.superuserPassword + "\n", { mode: 0o600 });
  await chownToPostgres(opts.dataDir);
  await chownToPostgres(pwFile);
  try {
    const [cmd, args] = pgCommand("initdb", [
      "-D",
      opts.dataDir,
      "-U",
      SUPERUSER,
      `--pwfile=${pwFile}`,
      "--auth-host=scram-sha-256",
      "--auth-local=reject",
      "--encoding=UTF8",
      "--locale=C.UTF-8",
    ]);
    await runChecked(cmd, args, pgOptions(opts.dataDir));
  } finally {
    await Deno.remove(pwFile);
  }
  const libs = preloadLibraries();
  const conf = [
    "# written by the Vidqueue dev stack",
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    "wal_level = logical",
    "max_connections = 200",
    "shared_buffers = 128MB",
    "fsync = on",
    "timezone = 'UTC'",
    libs.length ? `shared_preload_libraries = '${libs.join(",")}'` : "",
    libs.includes("pg_cron") ? "cron.database_name = 'postgres'" : "",
  ].join("\n");
  await Deno.writeTextFile(`${opts.dataDir}/postgresql.auto.conf`, conf + "\n", {
    append: true,
  });
}

async function isRunning(dataDir: string): Promise<boolean> {
  const [cmd, args] = pgCommand("pg_ctl", ["status", "-D", dataDir]);
  return (await run(cmd, args, pgOptions(dataDir))).code === 0;
}

/** Initialises the cluster when its directory is new, then starts it (or adopts a running one). */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  if (!(await exists(`${opts.dataDir}/PG_VERSION`))) await initCluster(opts);
  if (await isRunning(opts.dataDir)) await stopServer(opts.dataDir);
  const [cmd, args] = pgCommand("pg_ctl", [
    "start",
    "-w",
    "-t",
    "60",
    "-D",
    opts.dataDir,
    "-l",
    `${opts.dataDir}/server.log`,
    "-o",
    `-p ${opts.port}`,
  ]);
  await runChecked(cmd, args, pgOptions(opts.dataDir));
  let stopped: Promise<void> | undefined;
  return {
    port: opts.port,
    dataDir: opts.dataDir,
    superuserUrl: (database = "postgres") =>
      `postgresql://${SUPERUSER}:${
        encodeURIComponent(opts.superuserPassword)
      }@127.0.0.1:${opts.port}/${database}`,
    stop: () => stopped ??= stopServer(opts.dataDir),
  };
}

async function stopServer(dataDir: string): Promise<void> {
  const [cmd, args] = pgCommand("pg_ctl", ["stop", "-w", "-m", "fast", "-D", dataDir]);
  await run(cmd, args, pgOptions(dataDir));
}

/**
 * Returns a data directory the server user can use: `preferred` when the `postgres` OS user can
 * reach it, otherwise `SERVER_DATA_ROOT/<hash of preferred>`, with SERVER_DATA_ROOT created (or
 * repaired) as postgres-owned, mode 0700, so the server can enter it and nobody else can.
 */
export async function usableDataDir(preferred: string): Promise<string> {
  if (!isRoot()) return preferred;
  const parent = preferred.replace(/\/[^/]+$/, "");
  await Deno.mkdir(parent, { recursive: true });
  const probe = await run("runuser", ["-u", "postgres", "--", "test", "-x", parent], {
    cwd: "/",
  });
  if (probe.code === 0) return preferred;
  await Deno.mkdir(SERVER_DATA_ROOT, { recursive: true, mode: 0o700 });
  await runChecked("chown", ["postgres:postgres", SERVER_DATA_ROOT]);
  await Deno.chmod(SERVER_DATA_ROOT, 0o700);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(preferred));
  const key = Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `${SERVER_DATA_ROOT}/${key}`;
}
