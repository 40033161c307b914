// Wires the real dependencies into the reconcile-jobs handler.
import { createFinalize } from "../_shared/finalize.ts";
import { createReconciler } from "../_shared/reconcile.ts";
import { createReconcileStore } from "../_shared/reconcile_store.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { loadReconcileConfig } from "./config.ts";
import { createReconcileHandler } from "./handler.ts";

const rt = createRuntime("reconcile-jobs");
Deno.serve(createReconcileHandler({
  secret: rt.env.RECONCILE_SECRET,
  log: rt.log,
  reconcile: createReconciler({
    ...rt,
    store: createReconcileStore(rt.sql),
    finalize: createFinalize(rt),
    config: loadReconcileConfig(),
  }),
}));
