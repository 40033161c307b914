/**
 * The Docker-free local stack: its own PostgreSQL cluster with the Supabase platform shim, the
 * project's migrations pushed by the real Supabase CLI, then seed.sql, then the API gateway
 * (Auth, Functions, Storage, Realtime, web app) on STACK_PORT. `startStack` is used by
 * `deno task dev` and by tests (each test stack gets its own folder and ports).
 */
import postgres from "postgres";
import { applyAppSettings } from "./app_settings.ts";
import { applyAuthSettings } from "./auth_settings.ts";
import { settingsFromEnv } from "./fal_sim/config.ts";
import { type FalSimulator, startFalSimulator } from "./fal_sim/server.ts";
import { limitsFromEnv } from "./gateway/functions/limits.ts";
import { type Gateway, startGateway } from "./gateway/server.ts";
import { type ReconcileTimer, startReconcileTimer } from "./reconcile_timer.ts";
import { loadKeys } from "./gateway/keys.ts";
import { type LegacyKeysMode, parseLegacyKeysMode } from "./gateway/legacy_keys.ts";
import { loadFunctionsConfig, loadProjectConfig } from "./gateway/project_config.ts";
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
  /** Extra env/secrets for the functions (e.g. FAL_QUEUE_BASE_URL). */
  env?: Record<string, string>;
  /**
   * Folder of the Edge Functions; default `<projectDir>/supabase/functions`. Their `verify_jwt`
   * settings come from the `config.toml` beside that folder.
   */
  functionsDir?: string;
  /** Folder served at `/`; default `<projectDir>/web/dist`. */
  webDir?: string;
  /** Start every function's worker before reporting ready (default: start on first call). */
  warmFunctions?: boolean;
  /** The fal simulator's URL once the stack runs one (recorded in stack.json). */
  falUrl?: string | null;
}

/** What clients need to reach a stack; also written to `<localDir>/stack.json`. */
export interface StackInfo {
  supabaseUrl: string;
  /** Legacy anon key (HS256 JWT, `role: anon`). */
  anonKey: string;
  /** Legacy service-role key (HS256 JWT, `role: service_role`). */
  serviceRoleKey: string;
  /** `sb_publishable_…` key (acts as the anon role). */
  publishableKey: string;
  /** `sb_secret_…` key (acts as the service role). */
  secretKey: string;
  /** `disabled` (LEGACY_KEYS=disabled): anonKey / serviceRoleKey are refused as API keys. */
  legacyKeys: LegacyKeysMode;
  /** The non-superuser `postgres` role's URL, as SUPABASE_DB_URL. */
  dbUrl: string;
  falUrl: string | null;
  /** What the embedded fal simulator's control API wants as `Authorization: Bearer …`. */
  falControlToken: string | null;
  /** Where the web app is served (the gateway, at `/`). */
  webUrl: string;
  ports: StackPorts;
}

export interface Stack {
  info: StackInfo;
  /** The bootstrap superuser's URL (shim, harness and tests only). */
  superuserUrl(database?: string): string;
  /** The `postgres` role's URL for another database of this stack's cluster. */
  postgresUrl(database: string): string;
  cluster: Cluster;
  gateway: Gateway;
  /** The embedded fal simulator, when this stack runs one (no FAL_KEY / FAL_QUEUE_BASE_URL). */
  fal: FalSimulator | null;
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
    const projectDir = opts.projectDir ?? PROJECT_ROOT;
    log("migrations: supabase db push --include-seed");
    await dbPush(dbUrl, { workdir: projectDir });
    const env = { ...Deno.env.toObject(), ...opts.env };
    const legacyKeys = parseLegacyKeysMode(env.LEGACY_KEYS);
    await withSql(dbUrl, (sql) => applyAppSettings(sql, env));
    await withSql(dbUrl, (sql) => applyAuthSettings(sql, projectDir));
    const fal = await startFalProvider(env, ports.falSimulator, localDir, log);
    const reconcileSecret = env.RECONCILE_SECRET || secrets.reconcileSecret;
    const keys = await loadKeys(localDir);
    const supabaseUrl = `http://127.0.0.1:${ports.gateway}`;
    const functionsDir = opts.functionsDir ?? `${projectDir}/supabase/functions`;
    const functionsConfig = await loadFunctionsConfig(functionsDir);
    const gateway = await startGateway({
      port: ports.gateway,
      supabaseUrl,
      keys,
      config: await loadProjectConfig(projectDir),
      superuserUrl: cluster.superuserUrl(),
      dbUrl,
      verifyJwt: functionsConfig.verifyJwt,
      functionsDir,
      webDir: opts.webDir ?? `${projectDir}/web/dist`,
      storageDir: `${localDir}/storage`,
      env: { ...opts.env, RECONCILE_SECRET: reconcileSecret, ...fal.env },
      functionLimits: limitsFromEnv(env),
      // A tunnel (PUBLIC_URL) forwards fal's webhooks with its own host name.
      extraHosts: env.PUBLIC_URL ? [new URL(env.PUBLIC_URL).hostname] : [],
      legacyKeys,
      log,
    });
    log(`gateway: ${supabaseUrl}`);
    try {
      if (opts.warmFunctions) {
        const began = performance.now();
        await gateway.functions.warm();
        log(`functions warm in ${Math.round(performance.now() - began)} ms`);
      }
      const info: StackInfo = {
        supabaseUrl,
        anonKey: keys.anonKey,
        serviceRoleKey: keys.serviceRoleKey,
        publishableKey: keys.publishableKey,
        secretKey: keys.secretKey,
        legacyKeys,
        dbUrl,
        falUrl: fal.simulator?.url ?? opts.falUrl ?? null,
        falControlToken: fal.simulator?.controlToken ?? null,
        webUrl: `${supabaseUrl}/`,
        ports,
      };
      await Deno.writeTextFile(`${localDir}/stack.json`, JSON.stringify(info, null, 2) + "\n");
      gateway.setReady(true);
      // The dev stand-in for the pg_cron schedule: call reconcile-jobs every RECONCILE_INTERVAL_S
      // (0 turns it off; tests that drive the reconciler themselves do that).
      const intervalS = Number(env.RECONCILE_INTERVAL_S ?? "10");
      const reconciler: ReconcileTimer | null = intervalS > 0
        ? startReconcileTimer({
          url: `${supabaseUrl}/functions/v1/reconcile-jobs`,
          secret: reconcileSecret,
          intervalS,
          log,
        })
        : null;
      let stopped: Promise<void> | undefined;
      return {
        info,
        cluster,
        gateway,
        fal: fal.simulator,
        superuserUrl: cluster.superuserUrl,
        postgresUrl,
        stop: () =>
          stopped ??= (async () => {
            const began = performance.now();
            try {
              await reconciler?.stop();
              await gateway.close();
            } finally {
              log(`gateway stopped in ${Math.round(performance.now() - began)} ms`);
              await fal.simulator?.stop();
              await cluster.stop();
            }
          })(),
      };
    } catch (e) {
      await gateway.close();
      await fal.simulator?.stop();
      throw e;
    }
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/**
 * Which fal the functions talk to: FAL_QUEUE_BASE_URL when set, else real fal when FAL_KEY is
 * set, else the embedded simulator on the stack's fal port — whose queue URL, JWKS and media host
 * are then handed to the functions.
 */
async function startFalProvider(
  env: Record<string, string>,
  port: number,
  localDir: string,
  log: (line: string) => void,
): Promise<{ simulator: FalSimulator | null; env: Record<string, string> }> {
  if (env.FAL_QUEUE_BASE_URL || env.FAL_KEY) {
    log(
      env.FAL_QUEUE_BASE_URL ? `fal: ${env.FAL_QUEUE_BASE_URL}` : "fal: the real fal.ai (FAL_KEY)",
    );
    return { simulator: null, env: {} };
  }
  const simulator = await startFalSimulator({
    port,
    dataDir: `${localDir}/fal_sim`,
    settings: settingsFromEnv({ get: (name) => env[name] }),
    log,
  });
  log(`fal: embedded simulator at ${simulator.url}`);
  const hosts = [env.FAL_MEDIA_HOSTS, simulator.mediaHost].filter(Boolean).join(",");
  return {
    simulator,
    env: {
      FAL_QUEUE_BASE_URL: simulator.url,
      FAL_JWKS_URL: env.FAL_JWKS_URL || simulator.jwksUrl,
      FAL_MEDIA_HOSTS: hosts,
      ALLOW_INSECURE_MEDIA: "true",
    },
  };
}
