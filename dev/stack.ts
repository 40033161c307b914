/**
 * The Docker-free local stack: its own PostgreSQL cluster with the Supabase platform shim, the
 * project's migrations pushed by the real Supabase CLI, then seed.sql. `startStack` is used by
 * `deno task dev` and by tests (each test stack gets its own folder and ports).
 */
import { type Cluster, startCluster, usableDataDir } from "./postgres.ts";
import { type StackPorts, stackPorts } from "./ports.ts";
import { loadSecrets } from "./secrets.ts";
import { applyShim } from "./shim.ts";
import { dbPush, PROJECT_ROOT } from "./supabase_cli.ts";

export interface StackOptions {
  /** Gateway port; the others derive from it (see ports.ts). */
  stackPort: number;
  /** Folder for the stack's data and keys; default `<project>/.local`. */
  localDir?: string;
  /** Project folder whose `supabase/` is pushed; default this project. */
  projectDir?: string;
  /** Log progress lines here (default: silent). */
  log?: (line: string) => void;
}

/** What clients need to reach a stack; also written to `<localDir>/stack.json`. */
export interface StackInfo {
  supabaseUrl: string;
  dbUrl: string;
  ports: StackPorts;
}

export interface Stack {
  info: StackInfo;
  /** The bootstrap superuser's URL (shim, harness and tests only). */
  superuserUrl(database?: string): string;
  /** The `postgres` role's URL for another database of this stack's cluster. */
  postgresUrl(database: string): string;
  cluster: Cluster;
  stop(): Promise<void>;
}

/** Starts (first run: creates) a stack and resolves once its database is migrated and seeded. */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? (() => {});
  const localDir = opts.localDir ?? `${PROJECT_ROOT}/.local`;
  const ports = stackPorts(opts.stackPort);
  const secrets = await loadSecrets(localDir);
  const dataDir = await usableDataDir(`${localDir}/pg`);
  log(`postgres: ${dataDir} on 127.0.0.1:${ports.postgres}`);
  const cluster = await startCluster({
    dataDir,
    port: ports.postgres,
    superuserPassword: secrets.superuserPassword,
  });
  try {
    await applyShim(cluster.superuserUrl(), secrets.postgresPassword);
    const postgresUrl = (database: string) =>
      `postgresql://postgres:${secrets.postgresPassword}@127.0.0.1:${ports.postgres}/${database}`;
    const dbUrl = postgresUrl("postgres");
    log("migrations: supabase db push --include-seed");
    await dbPush(dbUrl, { workdir: opts.projectDir ?? PROJECT_ROOT });
    const info: StackInfo = {
      supabaseUrl: `http://127.0.0.1:${ports.gateway}`,
      dbUrl,
      ports,
    };
    await Deno.writeTextFile(`${localDir}/stack.json`, JSON.stringify(info, null, 2) + "\n");
    return {
      info,
      cluster,
      superuserUrl: cluster.superuserUrl,
      postgresUrl,
      stop: () => cluster.stop(),
    };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}
