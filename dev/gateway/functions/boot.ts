/**
 * The first module of every Edge Function worker (run by the Edge Runtime's Deno, 2.1.4, with the
 * function's own deno.json): it provides what Supabase's runtime gives a function, then imports
 * the function's unmodified entry point. It imports nothing, so it needs no entry in any
 * function's import map.
 *
 * - `EdgeRuntime.waitUntil(promise)`: background work after the answer; failures are logged, not
 *   fatal. The gateway is told how many such promises are pending (it retires and terminates
 *   workers the way the platform does, and may drop a retired worker only once they settled).
 * - `Deno.serve`: like the runtime, which hands requests to the function's handler whatever
 *   address it asked for, the function's server listens where the gateway says.
 *
 * The gateway passes the entry's path as the argument and `{port}` as JSON in VQ_EDGE_BOOT (both
 * hidden from the function: no arguments, no such variable, as on the platform) and reads this
 * worker's reports from stdout lines starting with CONTROL_PREFIX.
 */

/** Lines on stdout that start with this are reports to the gateway, not function output. */
const CONTROL_PREFIX = "\u001evq-edge ";

type Handler = (req: Request, info: unknown) => Response | Promise<Response>;
type ServeOptions = Record<string, unknown> & { handler?: Handler };

const boot = JSON.parse(Deno.env.get("VQ_EDGE_BOOT") ?? "null") as { port: number } | null;
const entry = Deno.args[0];
if (!boot || !entry) {
  throw new Error("boot.ts is started by the gateway: VQ_EDGE_BOOT and an entry");
}
Deno.env.delete("VQ_EDGE_BOOT");
Object.defineProperty(Deno, "args", { value: Object.freeze([]), enumerable: true });

const encoder = new TextEncoder();
function report(event: Record<string, unknown>): void {
  const bytes = encoder.encode(`${CONTROL_PREFIX}${JSON.stringify(event)}\n`);
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

const pending = new Set<Promise<unknown>>();

const edgeRuntime = {
  waitUntil<T>(promise: Promise<T>): Promise<T> {
    const tracked: Promise<unknown> = Promise.resolve(promise).catch((e: unknown) => {
      console.error("EdgeRuntime.waitUntil task failed:", e);
    }).finally(() => {
      pending.delete(tracked);
      report({ event: "pending", count: pending.size });
    });
    pending.add(tracked);
    report({ event: "pending", count: pending.size });
    return promise;
  },
};

Object.defineProperty(globalThis, "EdgeRuntime", {
  value: edgeRuntime,
  writable: false,
  configurable: false,
});

const realServe = Deno.serve.bind(Deno) as (options: ServeOptions, handler?: Handler) => unknown;
let serving = false;

function serve(first: Handler | ServeOptions, second?: Handler | ServeOptions): unknown {
  let options: ServeOptions;
  let handler: Handler | undefined;
  if (typeof first === "function") {
    handler = first;
    options = (second as ServeOptions | undefined) ?? {};
  } else {
    options = first ?? {};
    handler = typeof second === "function" ? second : options.handler;
  }
  if (serving) throw new Error("Deno.serve was called twice: one server per function");
  serving = true;
  const { handler: _ignored, ...rest } = options;
  return realServe({
    ...rest,
    hostname: "127.0.0.1",
    port: boot!.port,
    onListen: () => report({ event: "ready" }),
  }, handler);
}

Object.defineProperty(Deno, "serve", { value: serve, writable: true, configurable: true });

// On SIGTERM (the stack stopping) let background work finish briefly before exiting. Limits are
// enforced with SIGKILL instead, which cuts everything at once as the platform does.
Deno.addSignalListener("SIGTERM", () => {
  const grace = new Promise((resolve) => setTimeout(resolve, 2000));
  Promise.race([Promise.allSettled([...pending]), grace]).finally(() => Deno.exit(0));
});

await import(new URL(`file://${entry}`).href);
