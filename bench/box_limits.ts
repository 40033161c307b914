/**
 * The box's own limits, measured in the same run as everything else so results compare across
 * noisy machines: Postgres transactions per second with pgbench's simple-update script (`-N`),
 * on the stack's own cluster, and the request rate of a bare `Deno.serve` process driven by the
 * same load generator as the Vidqueue figures.
 */
import { PG_BIN } from "../dev/postgres.ts";
import { freePort } from "../dev/ports.ts";
import { closedLoop } from "./load.ts";
import { round, summary } from "./stats.ts";

export interface PgbenchResult {
  tps: number;
  clients: number;
  seconds: number;
  command: string;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** pgbench -N against a fresh `pgbench` database of the stack's cluster. */
export async function measurePgbench(opts: {
  superuserUrl: (db: string) => string;
  clients: number;
  seconds: number;
  scale: number;
}): Promise<PgbenchResult> {
  const pgbench = `${PG_BIN}/pgbench`;
  const psql = `${PG_BIN}/psql`;
  await run(psql, [opts.superuserUrl("postgres"), "-q", "-c", "drop database if exists pgbench"]);
  await run(psql, [opts.superuserUrl("postgres"), "-q", "-c", "create database pgbench"]);
  const url = opts.superuserUrl("pgbench");
  await run(pgbench, ["-i", "-q", "-s", String(opts.scale), url]);
  const args = [
    "-N",
    "-n",
    "-c",
    String(opts.clients),
    "-j",
    "2",
    "-T",
    String(opts.seconds),
    url,
  ];
  const text = await run(pgbench, args);
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(text) ??
    /tps = ([\d.]+)/.exec(text);
  if (!m) throw new Error(`no tps in pgbench output:\n${text}`);
  await run(psql, [opts.superuserUrl("postgres"), "-q", "-c", "drop database pgbench"]);
  return {
    tps: round(Number(m[1]), 0),
    clients: opts.clients,
    seconds: opts.seconds,
    command: `pgbench -i -s ${opts.scale} && pgbench ${args.slice(0, -1).join(" ")} <db>`,
  };
}

export interface BareServeResult {
  rate: number;
  concurrency: number;
  seconds: number;
  latencyMs: ReturnType<typeof summary>;
  command: string;
}

/** Closed-loop GETs against a bare Deno.serve in its own process. */
export async function measureBareServe(opts: {
  concurrency: number;
  seconds: number;
}): Promise<BareServeResult> {
  const port = freePort();
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./bare_server.ts", import.meta.url).pathname],
    env: { DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    await waitForPort(port, 30_000);
    const url = `http://127.0.0.1:${port}/`;
    // Warm-up: connections and JIT.
    await closedLoop({ concurrency: opts.concurrency, seconds: 1, make: () => new Request(url) });
    const r = await closedLoop({
      concurrency: opts.concurrency,
      seconds: opts.seconds,
      make: () => new Request(url),
    });
    return {
      rate: round(r.rate, 0),
      concurrency: opts.concurrency,
      seconds: round(r.seconds, 1),
      latencyMs: summary(r.latenciesMs),
      command: `deno run -A bench/bare_server.ts + ${opts.concurrency} closed-loop clients`,
    };
  } finally {
    proc.kill("SIGTERM");
    await proc.stderr.cancel();
    await proc.status;
  }
}

/** Resolves once something accepts TCP connections on `port` (bounded). */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
      // Boot probe of a child process, backing off; not a synchronisation sleep.
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
    }
  }
}
