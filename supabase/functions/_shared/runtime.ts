/**
 * The real dependencies of a function instance, built once from the environment: config, the
 * Postgres pool (sized for hosted, see db.ts), the job store, the model catalog, fal, Storage, JWT auth and the dispatcher.
 * index.ts files only pass these to their handler factory.
 */
import { createAuthenticate } from "./auth.ts";
import { createSql } from "./db.ts";
import { createDispatcher } from "./dispatch.ts";
import { loadEnv } from "./env.ts";
import { createFalGateway } from "./fal.ts";
import { createInputResolver } from "./input_refs.ts";
import { createJobs } from "./jobs.ts";
import { authIssuer, createJwksSource, createJwtVerifier, USER_AUDIENCE } from "./jwt.ts";
import { createLogger } from "./log.ts";
import { createStorageApi } from "./media_copy.ts";
import { createModelCatalog } from "./models.ts";
import { withPublicSignedUrls } from "./public_url.ts";
import { createWebhookTokens } from "./webhook_token.ts";

type EdgeRuntimeLike = { waitUntil(p: Promise<unknown>): void };

/** `EdgeRuntime.waitUntil` where the runtime has it; otherwise the promise simply runs on. */
export function waitUntil(p: Promise<unknown>): void {
  const runtime = (globalThis as { EdgeRuntime?: EdgeRuntimeLike }).EdgeRuntime;
  if (runtime) runtime.waitUntil(p);
}

/** Builds every real dependency for the function named `fn`. */
export function createRuntime(fn: string) {
  const env = loadEnv();
  const log = createLogger(fn);
  const sql = createSql({
    url: env.dbUrl,
    pooled: env.dbPooled,
    applicationName: `vidqueue-${fn}`,
  });
  const jobs = createJobs(sql);
  const models = createModelCatalog(sql);
  const fal = createFalGateway({ falKey: env.FAL_KEY, queueBaseUrl: env.FAL_QUEUE_BASE_URL });
  const storage = createStorageApi({ url: env.SUPABASE_URL, serviceKey: env.serviceKey });
  const verifyJwt = createJwtVerifier({
    jwks: createJwksSource({
      inline: env.SUPABASE_JWKS,
      url: `${env.SUPABASE_URL.replace(/\/$/, "")}/auth/v1/.well-known/jwks.json`,
    }),
    legacySecret: env.LEGACY_JWT_SECRET,
    issuer: authIssuer(env.SUPABASE_URL),
    audience: USER_AUDIENCE,
  });
  const resolveInput = createInputResolver({ storage, env });
  const tokens = createWebhookTokens({
    secret: env.WEBHOOK_TOKEN_SECRET,
    serviceKey: env.serviceKey,
  });
  const dispatch = createDispatcher({ jobs, fal, models, tokens, env, log, resolveInput });
  return {
    env,
    log,
    sql,
    jobs,
    models,
    fal,
    storage,
    tokens,
    /** Storage whose signed URLs are handed to clients (on PUBLIC_URL when set). */
    clientStorage: withPublicSignedUrls(storage, env),
    authenticate: createAuthenticate(verifyJwt),
    dispatch,
    waitUntil,
  };
}
