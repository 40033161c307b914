/**
 * `/functions/v1/<name>`: routes each call to the worker of `<functionsDir>/<name>/index.ts`
 * (folders starting with `_`, like `_shared`, are not functions). Honours `verify_jwt` from
 * config.toml (default true) the way Supabase's legacy gate does — a valid JWT (ES256 user token
 * or HS256 legacy key) in `Authorization`, never checked for `OPTIONS` — and otherwise leaves
 * CORS to the function, as Supabase does. Gives each worker Supabase's env vars, runs it under
 * the Edge Runtime's Deno with exactly the configuration the CLI would deploy it with, and under
 * the platform's limits (see worker.ts).
 */
import { bearerToken, json } from "../http.ts";
import { decodeJwt } from "../jwt.ts";
import type { StackKeys } from "../keys.ts";
import { type EdgeDeno, edgeDeno } from "./edge_deno.ts";
import { readEnvFile } from "./env_file.ts";
import { functionConfig } from "./function_config.ts";
import { type EdgeLimits, PLATFORM_LIMITS } from "./limits.ts";
import { createWorker, type FunctionWorker, type WorkerStats } from "./worker.ts";

export interface FunctionsDeps {
  functionsDir: string;
  keys: StackKeys;
  verifyJwt(name: string): boolean;
  /** SUPABASE_URL, SUPABASE_DB_URL and the other platform variables for every worker. */
  platformEnv: Record<string, string>;
  /** Extra env/secrets (after `<functionsDir>/.env`, before the platform variables). */
  env: Record<string, string>;
  log: (line: string) => void;
  /** The platform's limits unless given (the dev stack reads them from EDGE_* settings). */
  limits?: EdgeLimits;
  /** Locates the Edge Runtime's Deno (default: the pinned version through npx). */
  runtime?: () => Promise<EdgeDeno>;
}

export interface FunctionsService {
  handle(req: Request, name: string, rest: string, url: URL): Promise<Response>;
  /** Names of the functions found in the functions folder. */
  list(): Promise<string[]>;
  /** Starts every function's worker (resolves when all are up or failed to boot). */
  warm(): Promise<void>;
  stats(): Record<string, WorkerStats>;
  close(): Promise<void>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Variables from the gateway's own environment that a function must not inherit. */
function inheritedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (k.startsWith("SUPABASE_") || k.startsWith("DENO_SERVE_") || k.startsWith("VQ_TEST_")) {
      continue;
    }
    out[k] = v;
  }
  return out;
}

/** Creates the Edge Functions service. */
export function createFunctions(deps: FunctionsDeps): FunctionsService {
  const workers = new Map<string, FunctionWorker>();
  const limits = deps.limits ?? PLATFORM_LIMITS;
  const runtime = deps.runtime ?? edgeDeno;
  let closed = false;

  const workerFor = (name: string): FunctionWorker => {
    let worker = workers.get(name);
    if (!worker) {
      worker = createWorker({
        name,
        entry: `${deps.functionsDir}/${name}/index.ts`,
        command: async () => ({
          denoPath: (await runtime()).path,
          denoArgs: functionConfig(deps.functionsDir, name).denoArgs,
        }),
        limits,
        log: deps.log,
        env: async () => ({
          ...inheritedEnv(),
          NO_COLOR: "1",
          ...(await readEnvFile(`${deps.functionsDir}/.env`)),
          ...deps.env,
          ...deps.platformEnv,
        }),
      });
      workers.set(name, worker);
    }
    return worker;
  };

  const exists = (name: string) =>
    NAME.test(name) && !name.startsWith("_") && isFile(`${deps.functionsDir}/${name}/index.ts`);

  const list = async () => {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(deps.functionsDir)) {
        if (entry.isDirectory && (await exists(entry.name))) names.push(entry.name);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return names.sort();
  };

  return {
    list,
    async handle(req, name, rest, url) {
      if (closed || !(await exists(name))) {
        return json({ code: "NOT_FOUND", message: "Requested function was not found" }, 404);
      }
      if (req.method !== "OPTIONS" && deps.verifyJwt(name)) {
        if (!req.headers.get("authorization")) {
          return json({ code: 401, message: "Missing authorization header" }, 401);
        }
        const token = bearerToken(req);
        // The legacy gate only understands JWTs, not sb_publishable_/sb_secret_ keys.
        const valid = token && decodeJwt(token) && (await deps.keys.verifyToken(token));
        if (!valid) return json({ code: 401, message: "Invalid JWT" }, 401);
      }
      return await workerFor(name).forward(req, rest, url.search);
    },
    async warm() {
      const names = await list();
      await Promise.all(names.map((n) =>
        workerFor(n).ensureStarted().catch((e: unknown) => {
          deps.log(`[fn:${n}] warm-up failed: ${(e as Error).message}`);
        })
      ));
    },
    stats() {
      return Object.fromEntries([...workers].map(([n, w]) => [n, w.stats()]));
    },
    async close() {
      closed = true;
      await Promise.all([...workers.values()].map((w) => w.stop()));
    },
  };
}
