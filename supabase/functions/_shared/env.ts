/**
 * Configuration from environment variables, parsed once at start-up with clear errors: the ones
 * Supabase injects into every function and Vidqueue's own secrets (README "Configuration").
 * Two choices are made here once, for every function: which database URL to connect to
 * (`VIDQUEUE_DB_URL`, the transaction pooler, wins over the injected direct `SUPABASE_DB_URL`)
 * and which service key to send to Storage (a `SUPABASE_SECRET_KEYS` key wins over the legacy
 * `SUPABASE_SERVICE_ROLE_KEY`, which a project with legacy keys disabled still injects and
 * Storage then refuses).
 */
import { z } from "zod";

const intVar = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

const EnvSchema = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_DB_URL: z.string().min(1),
  /** Optional secret: the transaction pooler's URL (port 6543); wins over SUPABASE_DB_URL. */
  VIDQUEUE_DB_URL: z.string().min(1).optional(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1).optional(),
  SUPABASE_SECRET_KEYS: z.string().optional(),
  SUPABASE_JWKS: z.string().optional(),
  LEGACY_JWT_SECRET: z.string().min(16).optional(),
  PUBLIC_URL: z.url().optional(),
  FAL_KEY: z.string().optional(),
  FAL_QUEUE_BASE_URL: z.url().optional(),
  FAL_JWKS_URL: z.url().default("https://rest.fal.ai/.well-known/jwks.json"),
  FAL_MEDIA_HOSTS: z.string().default(".fal.media,fal.media"),
  /** fal's limit for a new account is 2 requests at once. */
  FAL_MAX_CONCURRENCY: intVar(2, 1),
  /** Below the global limit, so one user (or one script) never holds every slot. */
  USER_MAX_ACTIVE: intVar(1, 1),
  USER_MAX_QUEUED: intVar(20, 1),
  USER_SUBMITS_PER_MIN: intVar(30, 1),
  /** Base of the backoff before an automatic retry (5 s, doubling); tests compress it. */
  RETRY_BASE_MS: intVar(5_000, 1),
  MEDIA_MAX_BYTES: intVar(200 * 1024 * 1024, 1),
  MEDIA_TIMEOUT_MS: intVar(120_000, 1),
  RECONCILE_SECRET: z.string().min(16).optional(),
  ALLOW_INSECURE_MEDIA: z.enum(["true", "false"]).default("false"),
  /** Key of our webhook URL tokens (webhook_token.ts); unset: derived from the service key. */
  WEBHOOK_TOKEN_SECRET: z.string().min(32).optional(),
  /** When set, webhooks whose signed X-Fal-Webhook-User-Id differs are refused. */
  FAL_WEBHOOK_USER_ID: z.string().min(1).optional(),
  /** How long fal may refuse a job's submits (429/5xx) before it fails; unset: model timeout. */
  SUBMIT_REFUSAL_HORIZON_S: z.coerce.number().int().min(0).optional(),
});

/** Vidqueue's configuration, typed. */
export type Env = z.infer<typeof EnvSchema> & {
  /** The service key for Storage: the default `sb_secret_` key, else the legacy service_role JWT. */
  serviceKey: string;
  /** The database the functions use: VIDQUEUE_DB_URL when set, else SUPABASE_DB_URL. */
  dbUrl: string;
  /** True when `dbUrl` is the transaction pooler (VIDQUEUE_DB_URL), false for the direct URL. */
  dbPooled: boolean;
};

/** Thrown at start-up when the environment is incomplete; names every bad variable. */
export class EnvError extends Error {
  override name = "EnvError";
}

/** Parses the environment (`get` defaults to Deno.env.get). */
export function loadEnv(get: (name: string) => string | undefined = (n) => Deno.env.get(n)): Env {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = get(key);
    raw[key] = value === "" ? undefined : value;
  }
  const parsed = EnvSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new EnvError(`invalid configuration: ${problems.join("; ")}`);
  }
  const serviceKey = defaultSecretKey(parsed.data.SUPABASE_SECRET_KEYS) ??
    parsed.data.SUPABASE_SERVICE_ROLE_KEY;
  if (!serviceKey) {
    throw new EnvError(
      "invalid configuration: SUPABASE_SERVICE_ROLE_KEY or SUPABASE_SECRET_KEYS is required",
    );
  }
  const pooled = parsed.data.VIDQUEUE_DB_URL;
  return {
    ...parsed.data,
    serviceKey,
    dbUrl: pooled ?? parsed.data.SUPABASE_DB_URL,
    dbPooled: pooled !== undefined,
  };
}

/** The `default` key of SUPABASE_SECRET_KEYS (`{"default":"sb_secret_…"}`), else its first. */
function defaultSecretKey(json: string | undefined): string | undefined {
  if (!json) return undefined;
  let keys: unknown;
  try {
    keys = JSON.parse(json);
  } catch {
    throw new EnvError("invalid configuration: SUPABASE_SECRET_KEYS is not a JSON object");
  }
  if (typeof keys !== "object" || keys === null || Array.isArray(keys)) {
    throw new EnvError("invalid configuration: SUPABASE_SECRET_KEYS is not a JSON object");
  }
  const named = keys as Record<string, unknown>;
  const value = named.default ?? Object.values(named)[0];
  return typeof value === "string" && value ? value : undefined;
}

/**
 * The URL fal calls back for one dispatch of a job (`PUBLIC_URL` wins, for tunnels to a laptop):
 * the job id, the dispatch number and our token over both (webhook_token.ts).
 */
export function webhookUrl(
  env: Pick<Env, "PUBLIC_URL" | "SUPABASE_URL">,
  hook: { jobId: string; dispatch: number; token: string },
): string {
  const base = (env.PUBLIC_URL ?? env.SUPABASE_URL).replace(/\/$/, "");
  const query = new URLSearchParams({
    job_id: hook.jobId,
    dispatch: String(hook.dispatch),
    token: hook.token,
  });
  return `${base}/functions/v1/fal-webhook?${query}`;
}
