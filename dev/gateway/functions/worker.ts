/**
 * One Edge Function's worker: its unmodified `index.ts` in its own process, run as
 * `supabase functions deploy` packages it — under the Edge Runtime's Deno (2.1.4, edge_deno.ts),
 * with the function's own `deno.json` as its only configuration and import map (no discovery of
 * the repository's root deno.json), started through boot.ts — listening where
 * `DENO_SERVE_ADDRESS` says. Started on demand (or warmed at boot), restarted after it
 * dies, stopped with the stack. Requests and answers stream through unchanged; a worker that dies
 * mid-request answers 500 `WORKER_ERROR`, one that cannot boot 503 `BOOT_ERROR`, one that sends
 * no answer within the idle timeout 504 — never a hang.
 */
import { freePort } from "../../ports.ts";
import { json } from "../http.ts";
import { edgeDeno } from "./edge_deno.ts";
import { configFlags } from "./import_map.ts";

export interface WorkerOptions {
  name: string;
  /** Absolute path of the function's `index.ts`. */
  entry: string;
  /** Builds the worker's environment at each (re)start (so `.env` edits apply on restart). */
  env(): Promise<Record<string, string>>;
  log: (line: string) => void;
  bootTimeoutMs?: number;
  /** Supabase answers 504 after 150 s without a response. */
  idleTimeoutMs?: number;
}

/** Boot and crash statistics of a worker. */
export interface WorkerStats {
  starts: number;
  /** Milliseconds from spawn to accepting connections, per start. */
  coldStartsMs: number[];
  running: boolean;
}

export interface FunctionWorker {
  /** Starts the process if needed; resolves with its port once it accepts connections. */
  ensureStarted(): Promise<number>;
  /** Proxies a request to `/<name><rest>` on the worker. */
  forward(req: Request, rest: string, search: string): Promise<Response>;
  stats(): WorkerStats;
  stop(): Promise<void>;
}

class BootError extends Error {}

const BOOT = decodeURIComponent(new URL("./boot.ts", import.meta.url).pathname);

async function pipeLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        onLine(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    }
  } catch {
    // The process went away; nothing more to read.
  }
  if (buffer) onLine(buffer);
}

async function waitForPort(port: number, exited: Promise<unknown>, deadline: number) {
  let delay = 5;
  let gone = false;
  exited.then(() => (gone = true));
  while (!gone) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      if (Date.now() > deadline) throw new BootError("worker did not start listening in time");
      // A boot probe, not test synchronisation: back off gently while the process starts.
      await Promise.race([new Promise((r) => setTimeout(r, delay)), exited]);
      delay = Math.min(delay * 2, 50);
    }
  }
  throw new BootError("worker exited during boot");
}

/** Creates the (not yet started) worker of one function. */
export function createWorker(opts: WorkerOptions): FunctionWorker {
  const bootTimeoutMs = opts.bootTimeoutMs ?? 60_000;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 150_000;
  let child: Deno.ChildProcess | null = null;
  let port: number | null = null;
  let starting: Promise<number> | null = null;
  let stopped = false;
  let pipes: Promise<void>[] = [];
  const stats: WorkerStats = { starts: 0, coldStartsMs: [], running: false };
  const recent: string[] = [];
  const remember = (stream: string) => (line: string) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    opts.log(`[fn:${opts.name}${stream}] ${line}`);
  };

  const start = async (): Promise<number> => {
    const chosen = freePort();
    const env = await opts.env();
    env.DENO_SERVE_ADDRESS = `tcp:127.0.0.1:${chosen}`;
    const began = performance.now();
    const dir = opts.entry.replace(/\/[^/]+$/, "");
    const config = await configFlags(dir.replace(/\/[^/]+$/, ""), opts.name);
    const proc = new Deno.Command(await edgeDeno(), {
      // `--no-lock`: the deployed function has no lockfile either (the platform resolves the
      // pinned versions of its deno.json); a lock written next to it would be a stray file.
      args: [
        "run",
        "-A",
        "--no-prompt",
        "--no-lock",
        ...config,
        BOOT,
        opts.entry,
      ],
      cwd: dir,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    child = proc;
    stats.starts++;
    pipes = [pipeLines(proc.stdout, remember("")), pipeLines(proc.stderr, remember(":err"))];
    const exited = proc.status.then((status) => {
      if (child === proc) {
        child = null;
        port = null;
        stats.running = false;
        if (!stopped) opts.log(`[fn:${opts.name}] worker exited (code ${status.code})`);
      }
    });
    try {
      await waitForPort(chosen, exited, Date.now() + bootTimeoutMs);
    } catch (e) {
      try {
        proc.kill("SIGKILL");
      } catch { /* already gone */ }
      throw new BootError(`${(e as Error).message}\n${recent.join("\n")}`);
    }
    const ms = Math.round(performance.now() - began);
    stats.coldStartsMs.push(ms);
    stats.running = true;
    opts.log(`[fn:${opts.name}] worker ready on port ${chosen} in ${ms} ms`);
    port = chosen;
    return chosen;
  };

  const ensureStarted = (): Promise<number> => {
    if (stopped) return Promise.reject(new BootError("stack is stopping"));
    if (port !== null && child) return Promise.resolve(port);
    starting ??= start().finally(() => (starting = null));
    return starting;
  };

  return {
    ensureStarted,
    stats: () => ({ ...stats, coldStartsMs: [...stats.coldStartsMs] }),
    async forward(req, rest, search) {
      let target: number;
      try {
        target = await ensureStarted();
      } catch (e) {
        opts.log(`[fn:${opts.name}] boot failed: ${(e as Error).message}`);
        return json({
          code: "BOOT_ERROR",
          message: "Worker failed to boot (please check logs)",
        }, 503);
      }
      const headers = new Headers(req.headers);
      headers.delete("host");
      // The gateway compresses for the client itself; a compressed hop would be decoded twice.
      headers.set("accept-encoding", "identity");
      const idle = new AbortController();
      const timer = setTimeout(() => idle.abort(), idleTimeoutMs);
      try {
        const res = await fetch(`http://127.0.0.1:${target}/${opts.name}${rest}${search}`, {
          method: req.method,
          headers,
          body: req.body,
          redirect: "manual",
          // Not req.signal: a client that goes away cancels the answer's body stream, which
          // closes this hop too.
          signal: idle.signal,
        });
        return new Response(res.body, {
          status: res.status,
          statusText: res.statusText,
          headers: res.headers,
        });
      } catch (e) {
        if (idle.signal.aborted) {
          return json({
            code: "IDLE_TIMEOUT",
            message: "Function timed out waiting for a response",
          }, 504);
        }
        opts.log(`[fn:${opts.name}] request failed: ${(e as Error).message}`);
        // The worker could not answer on loopback: treat it as dead now rather than when its exit
        // is noticed, so the next request starts a fresh one instead of hitting the same port.
        const proc = child;
        if (proc && port === target) {
          child = null;
          port = null;
          stats.running = false;
          try {
            proc.kill("SIGKILL");
          } catch { /* already gone */ }
        }
        return json({
          code: "WORKER_ERROR",
          message: "Function exited due to an error (please check logs)",
        }, 500);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {
      stopped = true;
      await starting?.catch(() => {});
      const proc = child;
      if (!proc) return;
      try {
        proc.kill("SIGTERM");
      } catch { /* already gone */ }
      const killer = setTimeout(() => {
        try {
          proc.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 3000);
      await proc.status;
      clearTimeout(killer);
      await Promise.all(pipes);
    },
  };
}
