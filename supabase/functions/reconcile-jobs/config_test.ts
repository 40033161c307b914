import assert from "node:assert/strict";
import { loadReconcileConfig } from "./config.ts";

const from = (env: Record<string, string>) => (name: string) => env[name];

Deno.test("without settings the grace period follows each model and retries start at 5 s", () => {
  const c = loadReconcileConfig(from({}));
  assert.equal(c.graceS, null);
  assert.equal(c.backoffS, null);
  assert.equal(c.retryBaseMs, 5_000);
  assert.equal(c.batchSize, 50);
});

Deno.test("compressed timings are read from the environment", () => {
  const c = loadReconcileConfig(
    from({ WEBHOOK_GRACE_S: "2", RETRY_BASE_MS: "1", RECONCILE_BATCH: "" }),
  );
  assert.equal(c.graceS, 2);
  assert.equal(c.retryBaseMs, 1);
  assert.equal(c.batchSize, 50, "an empty value means unset");
});

Deno.test("a bad value stops the function at start-up, naming the variable", () => {
  assert.throws(() => loadReconcileConfig(from({ WEBHOOK_GRACE_S: "soon" })), /WEBHOOK_GRACE_S/);
  assert.throws(() => loadReconcileConfig(from({ RECONCILE_BATCH: "0" })), /RECONCILE_BATCH/);
});
