/**
 * `deno task bench`: Vidqueue's side-by-side benchmarks, all in one run on one stack on
 * 127.0.0.1, bounded to a few minutes on 2 cores. Writes bench/results/latest.json and
 * bench/results/latest.md (the table README shows). Nothing here asserts anything about speed.
 *
 *   deno task bench                      everything
 *   deno task bench -- --only a,b        some phases: box, freshness, generate, webhook,
 *                                        dispatch, fanout (box limits are always measured)
 *   deno task bench -- --quick           smaller sizes, for a smoke run
 *   deno task bench -- --out <dir>       write the results elsewhere (default bench/results)
 */
import { measureBareServe, measurePgbench } from "./box_limits.ts";
import { startBenchStack } from "./bench_stack.ts";
import { measureDispatch } from "./dispatch.ts";
import { measureFanout } from "./fanout.ts";
import { measureFreshness } from "./freshness.ts";
import { clearQueue, measureGenerateVideo } from "./generate_video.ts";
import { type BenchResults, describeMachine, loadAverage, markdown } from "./report.ts";
import { round } from "./stats.ts";
import { measureWebhooks } from "./webhook.ts";

const PHASES = ["freshness", "generate", "webhook", "dispatch", "fanout"] as const;
type Phase = typeof PHASES[number];

function parseArgs(args: string[]) {
  const at = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const only = at("--only")?.split(",").map((s) => s.trim()).filter(Boolean);
  for (const p of only ?? []) {
    if (p !== "box" && !(PHASES as readonly string[]).includes(p)) {
      throw new Error(`unknown phase ${p}; phases: box, ${PHASES.join(", ")}`);
    }
  }
  return {
    phases: new Set<Phase>((only ?? PHASES).filter((p): p is Phase => p !== "box")),
    quick: args.includes("--quick"),
    out: at("--out") ?? new URL("./results", import.meta.url).pathname,
  };
}

const SIZES = {
  full: {
    concurrency: 32,
    seconds: 8,
    freshnessJobs: 80,
    freshnessSimMs: 2000,
    freshnessRate: 10,
    webhookJobs: 1500,
    dispatchJobs: 10_000,
    dispatchUsers: 20,
    fanoutClients: 500,
    fanoutMessages: 20,
    pgbenchSeconds: 10,
  },
  quick: {
    concurrency: 16,
    seconds: 3,
    freshnessJobs: 20,
    freshnessSimMs: 1000,
    freshnessRate: 10,
    webhookJobs: 300,
    dispatchJobs: 500,
    dispatchUsers: 5,
    fanoutClients: 50,
    fanoutMessages: 5,
    pgbenchSeconds: 3,
  },
};

async function main() {
  const opts = parseArgs(Deno.args);
  const size = opts.quick ? SIZES.quick : SIZES.full;
  const began = performance.now();
  const log = (line: string) =>
    console.log(`[bench ${((performance.now() - began) / 1000).toFixed(0).padStart(3)} s] ${line}`);
  const results: BenchResults = {
    measuredAt: new Date().toISOString(),
    totalSeconds: 0,
    loadAverage: {},
    machine: await describeMachine("PostgreSQL"),
    box: {},
    notes: [],
  };

  log("starting the stack (Postgres, migrations, gateway, functions, fal simulator)");
  const b = await startBenchStack(log);
  // Interrupted: stop the stack (its Postgres, function workers, temporary folder) first.
  const onSignal = () => {
    log("interrupted: stopping the stack");
    b.stop().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const [row] = await b.stack.sql<{ v: string }[]>`select version() as v`;
    const v = row?.v ?? "PostgreSQL";
    results.machine = await describeMachine(/PostgreSQL [\d.]+/.exec(v)?.[0] ?? v);
    log("box limits: pgbench -N");
    results.box.pgbench = await measurePgbench({
      superuserUrl: (db) => b.stack.stack.superuserUrl(db),
      clients: 8,
      seconds: size.pgbenchSeconds,
      scale: 10,
    });
    log(`pgbench: ${results.box.pgbench.tps} tps`);
    log("box limits: bare Deno.serve");
    results.box.bareServe = await measureBareServe({
      concurrency: size.concurrency,
      seconds: Math.min(size.seconds, 5),
    });
    log(`bare Deno.serve: ${results.box.bareServe.rate} req/s`);
    results.loadAverage.box = await loadAverage();

    const users = await b.users(Math.max(size.dispatchUsers, 40));
    let payload: unknown = null;
    // A failing phase is reported, and the others still run.
    const phase = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
        results.loadAverage[name] = await loadAverage();
      } catch (e) {
        log(`${name} failed: ${e instanceof Error ? e.message : e}`);
        results.notes.push(`The ${name} phase failed: ${e instanceof Error ? e.message : e}`);
        await clearQueue(b).catch(() => {});
      }
    };
    await phase("freshness", async () => {
      if (!opts.phases.has("freshness") && !opts.phases.has("webhook")) return;
      log(`freshness: ${size.freshnessJobs} jobs of ${size.freshnessSimMs} ms`);
      const fresh = await measureFreshness(b, users[0]!, {
        jobs: size.freshnessJobs,
        simDurationMs: size.freshnessSimMs,
        submitsPerSecond: size.freshnessRate,
        log,
      });
      payload = fresh.samplePayload;
      if (opts.phases.has("freshness")) results.freshness = fresh;
      await b.drained(60_000);
    });
    await phase("generate", async () => {
      if (!opts.phases.has("generate")) return;
      log("generate-video: closed loop, open loop, profile");
      results.generateVideo = await measureGenerateVideo(b, users, {
        concurrency: size.concurrency,
        seconds: size.seconds,
        log,
      });
    });
    await phase("webhook", async () => {
      if (!opts.phases.has("webhook")) return;
      log("fal-webhook: verified webhooks per second");
      results.webhook = await measureWebhooks(b, users[1]!, {
        count: size.webhookJobs,
        concurrency: size.concurrency,
        seconds: size.seconds,
        payload,
        log,
      });
    });
    await phase("dispatch", async () => {
      if (!opts.phases.has("dispatch")) return;
      // What is left of the 10-minute budget, less a minute for fan-out and the report.
      const budgetSeconds = Math.max(60, 600 - 60 - (performance.now() - began) / 1000);
      log(`dispatch: ${size.dispatchJobs} queued jobs, 40 slots, ${round(budgetSeconds)} s budget`);
      results.dispatch = await measureDispatch(b, users.slice(0, size.dispatchUsers), {
        jobs: size.dispatchJobs,
        budgetSeconds,
        log,
      });
    });
    await phase("fanout", async () => {
      if (!opts.phases.has("fanout")) return;
      log(`fan-out: ${size.fanoutClients} clients`);
      results.fanout = await measureFanout(b, {
        clients: size.fanoutClients,
        messages: size.fanoutMessages,
        gapMs: 100,
        log,
      });
    });
    await clearQueue(b).catch(() => {});
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await b.stop();
  }
  results.totalSeconds = round((performance.now() - began) / 1000, 0);
  if (opts.quick) results.notes.push("Quick run (--quick): smaller sizes, not for comparison.");
  await Deno.mkdir(opts.out, { recursive: true });
  await Deno.writeTextFile(`${opts.out}/latest.json`, JSON.stringify(results, null, 2) + "\n");
  const md = markdown(results);
  await Deno.writeTextFile(`${opts.out}/latest.md`, md);
  console.log(`\n${md}`);
  log(`wrote ${opts.out}/latest.json and latest.md`);
}

if (import.meta.main) await main();
