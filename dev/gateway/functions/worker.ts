/**
 * One Edge Function's workers, run the way the hosted platform's supervisor runs them
 * (supabase/edge-runtime, `worker/supervisor/strategy_per_worker.rs`):
 *
 * - A worker (see isolate.ts) starts on the first request (or at warm-up) and serves requests
 *   until half of its wall clock is gone; then it is retired ("wall clock duration warning"):
 *   the next request starts a fresh worker. A retired worker with no request in flight and no
 *   pending `waitUntil` is dropped at once (EarlyDrop); otherwise it is terminated when its wall
 *   clock runs out ("wall clock duration reached", WallClockTime), cutting whatever it still runs,
 *   `waitUntil` work included; a request still in flight then gets 546.
 * - Over its V8 heap a worker dies ("Memory limit exceeded", Memory): 546 for the request.
 * - Request bodies over the bound get 413; CPU time per request over the threshold is logged.
 * - A worker that dies otherwise answers 500 `WORKER_ERROR`, one that cannot boot 503
 *   `BOOT_ERROR`, one that sends no answer within the idle timeout 504 — never a hang. Requests
 *   and answers stream through unchanged.
 */
import { bootError, idleTimeout, payloadTooLarge, resourceLimit, workerError } from "./answers.ts";
import { processCpuMs } from "./cpu_time.ts";
import { BootError, type Isolate, type ShutdownReason, spawnIsolate } from "./isolate.ts";
import type { EdgeLimits } from "./limits.ts";
import { limitBody, whenDone } from "./streams.ts";

/** How to start a worker: the Edge Runtime's Deno and the function's configuration flags. */
export interface WorkerCommand {
  denoPath: string;
  denoArgs: string[];
}

export interface WorkerOptions {
  name: string;
  /** Absolute path of the function's `index.ts`. */
  entry: string;
  /** Resolved at each (re)start, so config edits apply to the next worker. */
  command(): Promise<WorkerCommand>;
  /** Builds the worker's environment at each (re)start (so `.env` edits apply on restart). */
  env(): Promise<Record<string, string>>;
  limits: EdgeLimits;
  log: (line: string) => void;
  bootTimeoutMs?: number;
  /** Supabase answers 504 after 150 s without a response. */
  idleTimeoutMs?: number;
}

/** Boot, crash and shutdown statistics of a function's workers. */
export interface WorkerStats {
  starts: number;
  /** Milliseconds from spawn to accepting connections, per start. */
  coldStartsMs: number[];
  running: boolean;
  /** Workers ended per platform shutdown reason (and "crash" for any other death). */
  shutdowns: Record<string, number>;
}

export interface FunctionWorker {
  /** Makes sure a worker accepts requests; resolves with its port. */
  ensureStarted(): Promise<number>;
  /** Proxies a request to `/<name><rest>` on the current worker. */
  forward(req: Request, rest: string, search: string): Promise<Response>;
  stats(): WorkerStats;
  stop(): Promise<void>;
}

interface Live {
  isolate: Isolate;
  /** Listening (a worker still booting is never dropped: requests are waiting for it). */
  booted: boolean;
  inFlight: number;
  retired: boolean;
  timers: ReturnType<typeof setTimeout>[];
}

const LIMIT_REASONS: ReadonlySet<ShutdownReason> = new Set(["WallClockTime", "Memory", "CPUTime"]);

/** Creates the (not yet started) workers of one function. */
export function createWorker(opts: WorkerOptions): FunctionWorker {
  const bootTimeoutMs = opts.bootTimeoutMs ?? 60_000;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 150_000;
  const { limits } = opts;
  const tag = `[fn:${opts.name}]`;
  const live = new Set<Live>();
  let current: Live | null = null;
  let starting: Promise<Live> | null = null;
  let stopped = false;
  const stats: WorkerStats = { starts: 0, coldStartsMs: [], running: false, shutdowns: {} };
  const recent: string[] = [];

  const output = (line: string, stream: "" | ":err") => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    opts.log(`[fn:${opts.name}${stream}] ${line}`);
  };

  const dropIfIdle = (w: Live) => {
    if (!w.booted || !w.retired || w.inFlight > 0 || w.isolate.pending > 0) return;
    if (!w.isolate.alive) return;
    opts.log(`${tag} early termination has been triggered: worker ${w.isolate.pid}`);
    w.isolate.end("EarlyDrop");
  };

  const retire = (w: Live) => {
    if (w.retired) return;
    w.retired = true;
    if (current === w) current = null;
    stats.running = current !== null;
    opts.log(`${tag} wall clock duration warning: worker ${w.isolate.pid} takes no new requests`);
    dropIfIdle(w);
  };

  const start = async (): Promise<Live> => {
    const command = await opts.command();
    const env = await opts.env();
    const isolate = spawnIsolate({
      name: opts.name,
      entry: opts.entry,
      denoPath: command.denoPath,
      denoArgs: command.denoArgs,
      env,
      memoryMb: limits.memoryMb,
      bootTimeoutMs,
      output,
    });
    stats.starts++;
    const w: Live = { isolate, booted: false, inFlight: 0, retired: false, timers: [] };
    live.add(w);
    isolate.onPending = () => dropIfIdle(w);
    w.timers.push(setTimeout(() => retire(w), limits.wallClockMs / 2));
    w.timers.push(setTimeout(() => {
      if (!isolate.alive) return;
      opts.log(
        `${tag} wall clock duration reached: worker ${isolate.pid} ` +
          `(in_flight_req_exists = ${w.inFlight > 0}, pending waitUntil = ${isolate.pending})`,
      );
      isolate.end("WallClockTime");
    }, limits.wallClockMs));
    isolate.exited.then((exit) => {
      for (const t of w.timers) clearTimeout(t);
      live.delete(w);
      if (current === w) current = null;
      stats.running = current !== null;
      const kind = exit.reason ?? "crash";
      stats.shutdowns[kind] = (stats.shutdowns[kind] ?? 0) + 1;
      if (exit.reason === "Memory") opts.log(`${tag} Memory limit exceeded`);
      if (exit.reason === "WallClockTime") opts.log(`${tag} wall clock time limit reached`);
      if (!stopped) {
        opts.log(
          `${tag} shutdown: ${exit.reason ?? "worker exited"} ` +
            `(worker ${isolate.pid}, code ${exit.code}${exit.signal ? `, ${exit.signal}` : ""})`,
        );
      }
    });
    try {
      await isolate.ready;
    } catch (e) {
      throw new BootError(`${(e as Error).message}\n${recent.join("\n")}`);
    }
    const ms = Math.round(performance.now() - isolate.spawnedAt);
    stats.coldStartsMs.push(ms);
    opts.log(`${tag} worker ${isolate.pid} ready on port ${isolate.port} in ${ms} ms`);
    w.booted = true;
    if (!w.retired && isolate.alive) {
      current = w;
      stats.running = true;
    } else {
      // Retired while booting: the requests that waited for it still run on it (they count as in
      // flight from the next microtask on); if none did, it goes now.
      w.timers.push(setTimeout(() => dropIfIdle(w), 0));
    }
    return w;
  };

  const acquire = async (): Promise<Live> => {
    if (stopped) throw new BootError("stack is stopping");
    if (current && current.isolate.alive && !current.retired) return current;
    starting ??= start().finally(() => (starting = null));
    return await starting;
  };

  /** After a failed hop: waits (briefly) for a dying worker's exit, to tell why it died. */
  const exitReason = async (w: Live): Promise<ShutdownReason | null> => {
    if (w.isolate.endReason && !w.isolate.alive) return (await w.isolate.exited).reason;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exit = await Promise.race([
      w.isolate.exited,
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 5000))),
    ]);
    clearTimeout(timer);
    return exit ? exit.reason : w.isolate.endReason;
  };

  const forward = async (req: Request, rest: string, search: string): Promise<Response> => {
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (declared > limits.maxBodyBytes) {
      await req.body?.cancel().catch(() => {});
      return payloadTooLarge(limits.maxBodyBytes);
    }
    let w: Live;
    try {
      w = await acquire();
    } catch (e) {
      opts.log(`${tag} boot failed: ${(e as Error).message}`);
      return bootError();
    }
    const { isolate } = w;
    w.inFlight++;
    const cpuBefore = await processCpuMs(isolate.pid);
    const finished = async () => {
      w.inFlight--;
      const cpuAfter = await processCpuMs(isolate.pid);
      // Process CPU around the request: concurrent requests of one worker share it.
      if (cpuBefore !== null && cpuAfter !== null && cpuAfter - cpuBefore > limits.cpuWarnMs) {
        opts.log(
          `${tag} CPU time per request over ${limits.cpuWarnMs} ms: ` +
            `${Math.round(cpuAfter - cpuBefore)} ms (the platform stops such a request: CPUTime)`,
        );
      }
      dropIfIdle(w);
    };
    let handedOver = false;
    let overLimit = false;
    const headers = new Headers(req.headers);
    headers.delete("host");
    // The gateway compresses for the client itself; a compressed hop would be decoded twice.
    headers.set("accept-encoding", "identity");
    const idle = new AbortController();
    const timer = setTimeout(() => idle.abort(), idleTimeoutMs);
    try {
      const res = await fetch(`http://127.0.0.1:${isolate.port}/${opts.name}${rest}${search}`, {
        method: req.method,
        headers,
        body: req.body ? limitBody(req.body, limits.maxBodyBytes, () => (overLimit = true)) : null,
        redirect: "manual",
        // Not req.signal: a client that goes away cancels the answer's body stream, which
        // closes this hop too.
        signal: AbortSignal.any([idle.signal, isolate.ending]),
      });
      if (overLimit) {
        await res.body?.cancel();
        return payloadTooLarge(limits.maxBodyBytes);
      }
      handedOver = true;
      return new Response(whenDone(res.body, () => void finished()), {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    } catch (e) {
      if (overLimit) return payloadTooLarge(limits.maxBodyBytes);
      if (idle.signal.aborted) return idleTimeout();
      const reason = await exitReason(w);
      if (reason && LIMIT_REASONS.has(reason)) return resourceLimit();
      opts.log(`${tag} request failed: ${(e as Error).message}`);
      // The worker could not answer on loopback: treat it as dead now rather than when its exit
      // is noticed, so the next request starts a fresh one instead of hitting the same port.
      if (current === w) current = null;
      isolate.end("TerminationRequested");
      return workerError();
    } finally {
      clearTimeout(timer);
      if (!handedOver) void finished();
    }
  };

  return {
    ensureStarted: async () => (await acquire()).isolate.port,
    forward,
    stats: () => ({
      ...stats,
      coldStartsMs: [...stats.coldStartsMs],
      shutdowns: { ...stats.shutdowns },
    }),
    async stop() {
      stopped = true;
      await starting?.catch(() => {});
      await Promise.all([...live].map(async (w) => {
        for (const t of w.timers) clearTimeout(t);
        await w.isolate.terminate(3000);
      }));
    },
  };
}
