/**
 * The stack's API gateway on one port (`STACK_PORT`), standing in for Supabase's Kong:
 * `/auth/v1`, `/functions/v1/<name>`, `/storage/v1`, `/realtime/v1/websocket` and
 * `/realtime/v1/api/broadcast`, `/health`, and the web app at `/`; other API paths (`/rest/v1`,
 * `/graphql/v1`, unknown routes) answer JSON errors. It knows nothing about the project's domain;
 * every service gets the keys and the database it needs from here.
 */
import postgres from "postgres";
import { hostAllowed, misdirected } from "../loopback_host.ts";
import { createAuthHandler } from "./auth/handler.ts";
import { createAuthStore } from "./auth/store.ts";
import { createFunctions, type FunctionsService } from "./functions/handler.ts";
import type { EdgeLimits } from "./functions/limits.ts";
import { isPreflight, json, preflight, withCors } from "./http.ts";
import type { StackKeys } from "./keys.ts";
import { dataApiNotServed, isApiPath, isDataApiPath, noRoute } from "./not_served.ts";
import { createLegacyKeyGate, type LegacyKeysMode } from "./legacy_keys.ts";
import type { ProjectConfig } from "./project_config.ts";
import { createRealtime, type Realtime } from "./realtime/server.ts";
import { createStatic } from "./static.ts";
import { createStorageHandler } from "./storage/handler.ts";

export interface GatewayOptions {
  port: number;
  /** Public URL of the gateway (what clients and functions use as SUPABASE_URL). */
  supabaseUrl: string;
  keys: StackKeys;
  config: ProjectConfig;
  /** `verify_jwt` per function (from the config.toml beside the functions folder). */
  verifyJwt(name: string): boolean;
  /** Superuser URL of the stack database (auth writes, storage RLS role switching, realtime). */
  superuserUrl: string;
  /** The non-superuser `postgres` URL functions get as SUPABASE_DB_URL. */
  dbUrl: string;
  functionsDir: string;
  webDir: string;
  storageDir: string;
  /** Extra env/secrets for functions. */
  env: Record<string, string>;
  /** The Edge Functions' runtime limits (default: the platform's). */
  functionLimits?: EdgeLimits;
  /**
   * Host names answered besides the loopback ones (a tunnel's); any other `Host` gets 421, so a
   * page on another site cannot reach the stack by rebinding its name to 127.0.0.1.
   */
  extraHosts?: string[];
  /** `disabled`: refuse the legacy anon / service_role keys as API keys, as the platform can. */
  legacyKeys?: LegacyKeysMode;
  log: (line: string) => void;
}

/** A running gateway. */
export interface Gateway {
  functions: FunctionsService;
  realtime: Realtime;
  /** Marks the stack ready: `/health` answers 200 from then on. */
  setReady(ready: boolean): void;
  /** Requests served so far per API (`auth`, `storage`, `functions`, `realtime`): for tests. */
  requestCount(api: "auth" | "storage" | "functions" | "realtime"): number;
  close(): Promise<void>;
}

/** Starts the gateway; resolves once it is listening and its services are up. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const sql = postgres(opts.superuserUrl, {
    max: 10,
    idle_timeout: 30,
    onnotice: () => {},
    connection: { application_name: "vidqueue_gateway" },
  });
  const { keys } = opts;
  const auth = createAuthHandler({
    store: createAuthStore(sql),
    keys,
    config: opts.config.auth,
    supabaseUrl: opts.supabaseUrl,
    log: opts.log,
  });
  const storage = createStorageHandler({
    sql,
    keys,
    storageDir: opts.storageDir,
    fileSizeLimit: opts.config.storage.fileSizeLimit,
    imageTransformation: opts.config.storage.imageTransformation,
    log: opts.log,
  });
  const functions = createFunctions({
    functionsDir: opts.functionsDir,
    keys,
    verifyJwt: opts.verifyJwt,
    env: opts.env,
    limits: opts.functionLimits,
    log: opts.log,
    platformEnv: {
      SUPABASE_URL: opts.supabaseUrl,
      SUPABASE_ANON_KEY: keys.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
      SUPABASE_DB_URL: opts.dbUrl,
      SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: keys.publishableKey }),
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: keys.secretKey }),
      SUPABASE_JWKS: JSON.stringify(keys.jwks),
    },
  });
  const legacyKeys = opts.legacyKeys ?? "enabled";
  const legacyGate = createLegacyKeyGate({
    mode: legacyKeys,
    legacyKeys: [keys.anonKey, keys.serviceRoleKey],
    disabledAt: new Date(),
  });
  const web = createStatic({
    webDir: opts.webDir,
    config: {
      supabaseUrl: opts.supabaseUrl,
      anonKey: legacyKeys === "disabled" ? keys.publishableKey : keys.anonKey,
    },
  });
  let realtime: Realtime;
  try {
    realtime = await createRealtime({
      dbUrl: opts.superuserUrl,
      verifyToken: keys.verifyToken,
      log: opts.log,
    });
  } catch (e) {
    await sql.end({ timeout: 1 });
    throw e;
  }
  let ready = false;

  const extraHosts = opts.extraHosts ?? [];
  const counts = new Map<string, number>();
  const route = async (req: Request): Promise<Response> => {
    if (!hostAllowed(req, extraHosts)) return misdirected(req);
    const url = new URL(req.url);
    const path = url.pathname;
    const counted = /^\/(auth|storage|functions|realtime)\/v1(?:\/|$)/.exec(path)?.[1];
    if (counted) counts.set(counted, (counts.get(counted) ?? 0) + 1);
    if (path === "/health") {
      return ready ? json({ status: "ok" }) : json({ status: "starting" }, 503);
    }
    const service = path.startsWith("/functions/v1/")
      ? "functions"
      : /^\/(auth|storage|realtime)\/v1(\/|$)/.exec(path)?.[1] as "auth" | "storage" | "realtime";
    const refused = service && !isPreflight(req) ? legacyGate(req, url, service) : null;
    if (refused) return withCors(refused);
    if (path.startsWith("/functions/v1/")) {
      const rest = path.slice("/functions/v1/".length);
      const slash = rest.indexOf("/");
      const name = slash >= 0 ? rest.slice(0, slash) : rest;
      return await functions.handle(req, name, slash >= 0 ? rest.slice(slash) : "", url);
    }
    if (path === "/realtime/v1/websocket") return realtime.handleWebSocket(req);
    const api = /^\/(auth|storage|realtime)\/v1(\/.*)?$/.exec(path);
    if (api) {
      if (isPreflight(req)) return preflight(req);
      const sub = api[2] ?? "/";
      let res: Response;
      if (api[1] === "auth") res = await auth(req, sub, url);
      else if (api[1] === "storage") res = await storage(req, sub, url);
      else if (sub === "/api/broadcast" || sub.startsWith("/api/broadcast/")) {
        res = await realtime.handleBroadcast(req);
      } else res = noRoute();
      return withCors(res);
    }
    // Platform paths the stack does not serve answer JSON errors, never the web app's page.
    if (isApiPath(path)) {
      if (isPreflight(req)) return preflight(req);
      return withCors(isDataApiPath(path) ? dataApiNotServed(req, url) : noRoute());
    }
    return (await web(req, url)) ?? noRoute();
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port,
    onListen: () => {},
    onError: (e) => {
      opts.log(`[gateway] unhandled error: ${e instanceof Error ? e.stack : e}`);
      return json({ message: "An invalid response was received from the upstream server" }, 502);
    },
  }, route);

  return {
    functions,
    realtime,
    setReady: (r) => (ready = r),
    requestCount: (api) => counts.get(api) ?? 0,
    async close() {
      ready = false;
      const t0 = performance.now();
      await functions.close();
      await realtime.close();
      await storage.close();
      const t1 = performance.now();
      await server.shutdown();
      const t2 = performance.now();
      await sql.end({ timeout: 5 });
      opts.log(
        `[gateway] closed: services ${Math.round(t1 - t0)} ms, http ${Math.round(t2 - t1)} ms, db ${
          Math.round(performance.now() - t2)
        } ms`,
      );
    },
  };
}
