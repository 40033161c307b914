/**
 * The reconciler's own settings (beyond _shared/env.ts): the webhook grace period, the backoff
 * between checks, batch size, run deadline and the retry backoff base. Parsed once at start-up.
 */
import { z } from "zod";
import type { ReconcileConfig } from "../_shared/reconcile.ts";

const optionalSeconds = z.coerce.number().int().min(0).max(86_400).optional();

const ConfigSchema = z.object({
  WEBHOOK_GRACE_S: optionalSeconds,
  RECONCILE_BACKOFF_S: optionalSeconds,
  RECONCILE_BATCH: z.coerce.number().int().min(1).max(500).default(50),
  RECONCILE_DEADLINE_MS: z.coerce.number().int().min(100).max(140_000).default(25_000),
  RETRY_BASE_MS: z.coerce.number().int().min(1).max(300_000).default(5_000),
});

/** Parses the reconciler's settings (`get` defaults to Deno.env.get); throws on bad values. */
export function loadReconcileConfig(
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): ReconcileConfig {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = get(key);
    raw[key] = value === "" ? undefined : value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid reconcile-jobs configuration: ${problems.join("; ")}`);
  }
  const c = parsed.data;
  return {
    graceS: c.WEBHOOK_GRACE_S ?? null,
    backoffS: c.RECONCILE_BACKOFF_S ?? null,
    batchSize: c.RECONCILE_BATCH,
    deadlineMs: c.RECONCILE_DEADLINE_MS,
    retryBaseMs: c.RETRY_BASE_MS,
    concurrency: 8,
    itemTimeoutMs: 20_000,
  };
}
