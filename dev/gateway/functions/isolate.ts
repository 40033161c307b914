/**
 * One worker process of one function (the platform's "isolate"): the Edge Runtime's Deno running
 * `boot.ts`, which imports the function's entry with the function's own configuration and a V8
 * heap limit. Reports when it listens and how many `waitUntil` promises are pending, and why it
 * ended (the platform's shutdown reasons: WallClockTime, Memory, EarlyDrop, ...).
 */
import { freePort } from "../../ports.ts";

/** Why a worker ended, named as the platform's ShutdownEvent names it. */
export type ShutdownReason =
  | "EventLoopCompleted"
  | "WallClockTime"
  | "CPUTime"
  | "Memory"
  | "EarlyDrop"
  | "TerminationRequested";

/** How the process ended. */
export interface IsolateExit {
  code: number;
  signal: string | null;
  /** Null when it died of something else (an exception, `Deno.exit`, a crash). */
  reason: ShutdownReason | null;
}

export interface IsolateOptions {
  name: string;
  /** Absolute path of the function's entry (`index.ts`). */
  entry: string;
  /** The Edge Runtime's Deno binary. */
  denoPath: string;
  /** `--config …` / `--no-config …` (see function_config.ts). */
  denoArgs: string[];
  env: Record<string, string>;
  memoryMb: number;
  bootTimeoutMs: number;
  /** A line the function printed (`stream` is "" for stdout, ":err" for stderr). */
  output(line: string, stream: "" | ":err"): void;
}

export interface Isolate {
  readonly pid: number;
  readonly port: number;
  /** `performance.now()` at spawn: the wall clock counts from here. */
  readonly spawnedAt: number;
  /** Resolves once the function's server listens; rejects with BootError otherwise. */
  readonly ready: Promise<void>;
  /** Resolves once the process is gone and its output read. */
  readonly exited: Promise<IsolateExit>;
  readonly alive: boolean;
  /** `EdgeRuntime.waitUntil` promises not settled yet. */
  readonly pending: number;
  /** Aborted when the gateway ends this worker (requests to it stop at once). */
  readonly ending: AbortSignal;
  /** The reason given to `end`, if any. */
  readonly endReason: ShutdownReason | null;
  /** Called whenever `pending` changes. */
  onPending: (() => void) | null;
  /** Ends the worker now (SIGKILL), cutting all it runs, as the platform terminates an isolate. */
  end(reason: ShutdownReason): void;
  /** Asks it to stop (SIGTERM: a short drain), SIGKILL after `graceMs`; resolves when gone. */
  terminate(graceMs: number): Promise<IsolateExit>;
}

/** The worker could not start serving. */
export class BootError extends Error {
  override name = "BootError";
}

const BOOT = decodeURIComponent(new URL("./boot.ts", import.meta.url).pathname);
const CONTROL_PREFIX = "\u001evq-edge ";
const OUT_OF_MEMORY = /Fatal JavaScript out of memory|JavaScript heap out of memory/;

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

/** Spawns a worker; watch `ready` and `exited`. */
export function spawnIsolate(opts: IsolateOptions): Isolate {
  const port = freePort();
  const ending = new AbortController();
  let endReason: ShutdownReason | null = null;
  let outOfMemory = false;
  let pending = 0;
  let alive = true;
  let markReady: () => void = () => {};
  const listening = new Promise<void>((resolve) => (markReady = resolve));

  const proc = new Deno.Command(opts.denoPath, {
    args: [
      "run",
      "-A",
      "--no-prompt",
      // The CLI uploads no lockfile, so the platform resolves without one; the functions' deno.json
      // pin exact versions. (Deno 2.1.4 could not read the repository's v5 deno.lock anyway.)
      "--no-lock",
      ...opts.denoArgs,
      `--v8-flags=--max-old-space-size=${opts.memoryMb}`,
      BOOT,
      // In the command line too, so the process list shows which function a worker runs.
      opts.entry,
    ],
    cwd: opts.entry.replace(/\/[^/]+$/, ""),
    env: {
      ...opts.env,
      // The bundler ignores package.json unless a function has one and no import map.
      DENO_NO_PACKAGE_JSON: "1",
      // Trust the machine's CA store besides Deno's bundled roots: Deno 2.1.4 reads only the
      // bundled ones by default, so behind a TLS-inspecting proxy it cannot fetch the
      // functions' npm packages on a fresh cache.
      DENO_TLS_CA_STORE: opts.env.DENO_TLS_CA_STORE ?? "mozilla,system",
      VQ_EDGE_BOOT: JSON.stringify({ port }),
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const spawnedAt = performance.now();

  let onPending: (() => void) | null = null;
  const onStdout = (line: string) => {
    if (!line.startsWith(CONTROL_PREFIX)) return opts.output(line, "");
    const event = JSON.parse(line.slice(CONTROL_PREFIX.length)) as {
      event: string;
      count?: number;
    };
    if (event.event === "ready") markReady();
    if (event.event === "pending") {
      pending = event.count ?? 0;
      onPending?.();
    }
  };
  const onStderr = (line: string) => {
    if (OUT_OF_MEMORY.test(line)) outOfMemory = true;
    opts.output(line, ":err");
  };
  const pipes = Promise.all([pipeLines(proc.stdout, onStdout), pipeLines(proc.stderr, onStderr)]);

  const exited = (async (): Promise<IsolateExit> => {
    const status = await proc.status;
    await pipes;
    alive = false;
    ending.abort();
    const reason: ShutdownReason | null = outOfMemory
      ? "Memory"
      : endReason ?? (status.success ? "EventLoopCompleted" : null);
    return { code: status.code, signal: status.signal, reason };
  })();

  const end = (reason: ShutdownReason) => {
    if (!alive) return;
    endReason ??= reason;
    ending.abort();
    try {
      proc.kill("SIGKILL");
    } catch { /* already gone */ }
  };

  const ready = (async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      listening.then(() => "ready" as const),
      exited.then(() => "exited" as const),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), opts.bootTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === "ready") return;
    end("TerminationRequested");
    throw new BootError(
      outcome === "exited" ? "worker exited during boot" : "worker did not start listening in time",
    );
  })();

  const isolate: Isolate = {
    pid: proc.pid,
    port,
    spawnedAt,
    ready,
    exited,
    get alive() {
      return alive;
    },
    get pending() {
      return pending;
    },
    ending: ending.signal,
    get endReason() {
      return endReason;
    },
    get onPending() {
      return onPending;
    },
    set onPending(fn) {
      onPending = fn;
    },
    end,
    async terminate(graceMs) {
      if (alive) {
        endReason ??= "TerminationRequested";
        try {
          proc.kill("SIGTERM");
        } catch { /* already gone */ }
        const killer = setTimeout(() => end("TerminationRequested"), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(killer);
        }
      }
      return await exited;
    },
  };
  // Callers that never await `ready` must not see an unhandled rejection.
  isolate.ready.catch(() => {});
  return isolate;
}
