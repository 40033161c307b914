/**
 * Loaded with `deno run --preload` before a function's unmodified `index.ts`: provides the
 * `EdgeRuntime` global that Supabase's edge runtime gives functions. `waitUntil(promise)` keeps
 * background work going after the answer (our worker process lives on, so nothing is cut short)
 * and reports its failures in the function's log instead of crashing the worker.
 */

const pending = new Set<Promise<unknown>>();

const edgeRuntime = {
  waitUntil<T>(promise: Promise<T>): Promise<T> {
    const tracked = Promise.resolve(promise).catch((e: unknown) => {
      console.error("EdgeRuntime.waitUntil task failed:", e);
    }).finally(() => pending.delete(tracked));
    pending.add(tracked);
    return promise;
  },
};

Object.defineProperty(globalThis, "EdgeRuntime", {
  value: edgeRuntime,
  writable: false,
  configurable: false,
});

// On SIGTERM (stack stop) let background tasks finish briefly before exiting, as Supabase lets
// a worker drain its waitUntil work before shutdown.
Deno.addSignalListener("SIGTERM", () => {
  const grace = new Promise((resolve) => setTimeout(resolve, 2000));
  Promise.race([Promise.allSettled([...pending]), grace]).finally(() => Deno.exit(0));
});
