/**
 * The first module of every function worker: `deno run … boot.ts <entry>`. Gives the function
 * what Supabase's Edge Runtime gives it and plain Deno 2.1.4 (the runtime's Deno) lacks, then
 * imports the function's unmodified `index.ts`:
 * - the `EdgeRuntime` global: `waitUntil(promise)` keeps background work going after the answer
 *   and reports its failures in the function's log instead of crashing the worker;
 * - `Deno.serve` listening where the gateway says (`DENO_SERVE_ADDRESS=tcp:<host>:<port>`, which
 *   Deno only honours itself from 2.2 on), whatever options the function passes.
 * It imports nothing, so the function's own deno.json is the only import map in play.
 */

const pending = new Set<Promise<unknown>>();

Object.defineProperty(globalThis, "EdgeRuntime", {
  value: {
    waitUntil<T>(promise: Promise<T>): Promise<T> {
      const tracked = Promise.resolve(promise).catch((e: unknown) => {
        console.error("EdgeRuntime.waitUntil task failed:", e);
      }).finally(() => pending.delete(tracked));
      pending.add(tracked);
      return promise;
    },
  },
  writable: false,
  configurable: false,
});

const address = /^tcp:(.+):(\d+)$/.exec(Deno.env.get("DENO_SERVE_ADDRESS") ?? "");
if (address) {
  const [, hostname, port] = address;
  const serve = Deno.serve.bind(Deno) as (options: unknown, handler?: unknown) => Deno.HttpServer;
  const listenAt = { hostname, port: Number(port), onListen() {} };
  Object.defineProperty(Deno, "serve", {
    value: (first: unknown, second?: unknown) =>
      typeof first === "function"
        ? serve(listenAt, first)
        : serve({ ...(first as Record<string, unknown>), ...listenAt }, second),
    writable: true,
    configurable: true,
  });
}

// On SIGTERM (stack stop) let background tasks finish briefly before exiting, as Supabase lets
// a worker drain its waitUntil work before shutdown.
Deno.addSignalListener("SIGTERM", () => {
  const grace = new Promise((resolve) => setTimeout(resolve, 2000));
  Promise.race([Promise.allSettled([...pending]), grace]).finally(() => Deno.exit(0));
});

const entry = Deno.args[0];
if (!entry) throw new Error("boot.ts needs the function's entry module as its argument");
await import(new URL(entry, `file://${Deno.cwd()}/`).href);
