/**
 * The benchmark's outputs: `bench/results/latest.json` (everything measured, with the machine
 * and the command of each figure) and `bench/results/latest.md` (the table README shows, then
 * where the time goes).
 */
import type { BareServeResult, PgbenchResult } from "./box_limits.ts";
import type { DispatchResult } from "./dispatch.ts";
import type { FanoutResult } from "./fanout.ts";
import type { FreshnessResult } from "./freshness.ts";
import type { GenerateResult } from "./generate_video.ts";
import type { WebhookResult } from "./webhook.ts";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  deno: string;
  postgres: string;
}

export interface BenchResults {
  measuredAt: string;
  totalSeconds: number;
  /** 1-minute load average of the machine when each phase ended (other work on the box). */
  loadAverage: Record<string, number>;
  machine: Machine;
  box: { pgbench?: PgbenchResult; bareServe?: BareServeResult };
  freshness?: FreshnessResult;
  generateVideo?: GenerateResult;
  webhook?: WebhookResult;
  dispatch?: DispatchResult;
  fanout?: FanoutResult;
  notes: string[];
}

/** The machine's 1-minute load average now (0 where /proc is missing). */
export async function loadAverage(): Promise<number> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "0");
  return Number(text.split(" ")[0]) || 0;
}

/** Facts about this machine. */
export async function describeMachine(postgresVersion: string): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const osRelease = await Deno.readTextFile("/etc/os-release").catch(() => "");
  const kb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  return {
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    cores: navigator.hardwareConcurrency,
    memoryGb: Math.round(kb / 1024 / 1024),
    os: /PRETTY_NAME="([^"]+)"/.exec(osRelease)?.[1] ?? Deno.build.os,
    deno: Deno.version.deno,
    postgres: postgresVersion,
  };
}

const ms = (v: number | null | undefined) => (v == null ? "—" : `${v} ms`);
const pct = (v: number) => `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`;
const frac = (v: number, of: number | undefined) => (of ? pct(v / of) : "—");
const pass = (ok: boolean) => (ok ? "✅" : "❌");

/** The Markdown report. */
export function markdown(r: BenchResults): string {
  const bare = r.box.bareServe?.rate;
  const tps = r.box.pgbench?.tps;
  const rows: string[][] = [];
  if (r.box.pgbench) {
    rows.push([
      "Box: Postgres TPS (pgbench `-N`, " + `${r.box.pgbench.clients} clients)`,
      `${r.box.pgbench.tps} tx/s`,
      "baseline",
      "—",
      `\`${r.box.pgbench.command}\``,
    ]);
  }
  if (r.box.bareServe) {
    rows.push([
      `Box: bare \`Deno.serve\` (${r.box.bareServe.concurrency} clients)`,
      `${r.box.bareServe.rate} req/s, p99 ${ms(r.box.bareServe.latencyMs.p99)}`,
      "baseline",
      "—",
      `\`${r.box.bareServe.command}\``,
    ]);
  }
  const f = r.freshness;
  if (f) {
    const line = (name: string, x: FreshnessResult["realtime"], target: string) => [
      `Freshness, webhook → client \`completed\`: ${name}`,
      `p50 ${ms(x.latencyMs.p50)} · p95 ${ms(x.latencyMs.p95)} · p99 ${ms(x.latencyMs.p99)}; ` +
      `${x.statusRequestsPerJob} status requests/job`,
      target,
      "—",
      `\`${f.command}\``,
    ];
    const rt = f.realtime.latencyMs.p99;
    rows.push(
      line("Realtime push (Vidqueue)", f.realtime, `p99 < 50 ms ${pass((rt ?? 1e9) < 50)}`),
    );
    rows.push([
      "Freshness, webhook → client sees `finalizing` (result received, before the media copy)",
      `p50 ${ms(f.realtimeResultMs.p50)} · p95 ${ms(f.realtimeResultMs.p95)} · p99 ` +
      `${ms(f.realtimeResultMs.p99)}`,
      `p99 < 50 ms ${pass((f.realtimeResultMs.p99 ?? 1e9) < 50)}`,
      "—",
      `\`${f.command}\``,
    ]);
    rows.push(line("polling every 3 s (seed design)", f.poll3s, "baseline"));
    rows.push(line("polling every 10 s (seed design)", f.poll10s, "baseline"));
    rows.push([
      "Realtime messages per job (whole life)",
      String(f.realtimeMessagesPerJob),
      "one per transition",
      "—",
      `\`${f.command}\``,
    ]);
  }
  const g = r.generateVideo;
  if (g) {
    rows.push([
      `\`generate-video\` throughput, closed loop (${g.closed.concurrency} clients)`,
      `${g.closed.rate} jobs/s`,
      `≥ 1000/s ${pass(g.closed.rate >= 1000)}`,
      `${frac(g.closed.rate, bare)} of Deno.serve · ${frac(g.closed.rate, tps)} of pgbench`,
      `\`${g.command}\``,
    ]);
    rows.push([
      `\`generate-video\` latency, open loop at ${g.open.rate}/s`,
      `p50 ${ms(g.open.latencyMs.p50)} · p99 ${ms(g.open.latencyMs.p99)}`,
      `p99 < 20 ms ${pass((g.open.latencyMs.p99 ?? 1e9) < 20)}`,
      `bare Deno.serve p99 ${ms(r.box.bareServe?.latencyMs.p99)} (closed loop)`,
      `\`${g.command}\``,
    ]);
  }
  const w = r.webhook;
  if (w) {
    rows.push([
      `\`fal-webhook\` verified webhooks (${w.concurrency} clients)`,
      `${w.rate}/s, p99 ${ms(w.latencyMs.p99)}; completed in Storage ${w.completedPerSecond}/s`,
      `≥ 1500/s ${pass(w.rate >= 1500)}`,
      `${frac(w.rate, bare)} of Deno.serve · ${frac(w.rate, tps)} of pgbench`,
      `\`${w.command}\``,
    ]);
  }
  const d = r.dispatch;
  if (d) {
    rows.push([
      `Dispatch ${d.jobs} queued jobs, ${d.slots} fal slots`,
      `${d.completed} completed` +
      (d.canceledAtBudget ? ` (${d.canceledAtBudget} canceled when the time budget ran out)` : "") +
      ` in ${d.wallSeconds} s (${d.jobsPerSecond} jobs/s), lost ${d.lost}, double charges ` +
      `${d.doubleCharges}, double submits ${d.doubleSubmits}, slot utilisation ` +
      `${pct(d.slotUtilisation)}`,
      `lost 0 ${pass(d.lost === 0)} · double charges 0 ${pass(d.doubleCharges === 0)}`,
      `${frac(d.jobsPerSecond, tps)} of pgbench`,
      `\`${d.command}\``,
    ]);
    rows.push([
      `Realtime messages with ${d.jobs} queued`,
      `${d.realtime.jobMessagesPerJob} per job, ${d.realtime.messagesPerDispatch} per dispatch, ` +
      `${d.realtime.queuedJobsNotifiedPerDispatch} to waiting jobs; admin:stats ` +
      `${d.realtime.adminStatsPerSecond}/s`,
      "never one per queued job; admin:stats ≤ 1/s " +
      pass(d.realtime.adminStatsPerSecond <= 1.01),
      "—",
      `\`${d.command}\``,
    ]);
  }
  const o = r.fanout;
  if (o) {
    rows.push([
      `Realtime fan-out, ${o.clients} clients × ${o.messages} messages`,
      `p50 ${ms(o.latencyMs.p50)} · p99 ${ms(o.latencyMs.p99)} (${o.delivered}/${o.expected} ` +
      "delivered)",
      "—",
      "—",
      `\`${o.command}\``,
    ]);
  }
  const m = r.machine;
  const lines = [
    "The box's own limits (first two rows) are measured in the same run; other work on the " +
    "machine moves every figure, so compare shares of those limits across runs and machines.",
    "",
    `Measured ${r.measuredAt} in one run of \`deno task bench\` (${r.totalSeconds} s) on ` +
    `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}; Deno ${m.deno}, ${m.postgres}; ` +
    "everything on 127.0.0.1, the fal simulator answering instantly. 1-minute load average " +
    "after each phase: " +
    Object.entries(r.loadAverage).map(([k, v]) => `${k} ${v}`).join(", ") + ".",
    "",
    "| Measure | Result | Target / baseline | Share of the box's limits | Command |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((c) => `| ${c.join(" | ")} |`),
  ];
  const prof: string[] = [];
  if (g) {
    prof.push(
      `- \`generate-video\`: the HTTP path alone (gateway → function process → answer from ` +
        `memory, \`GET video-jobs?models=1\`) does ${g.profile.gatewayHopRate} req/s ` +
        `(p99 ${ms(g.profile.gatewayHopLatencyMs.p99)}); one submission's SQL ` +
        `(\`vidqueue.job_create\`, straight from postgres.js, ${g.closed.concurrency} at once) ` +
        `${g.profile.sqlJobCreateRate}/s (p99 ${ms(g.profile.sqlJobCreateLatencyMs.p99)}); ` +
        `ES256 token verification ${g.profile.es256VerifyUs} µs.`,
    );
  }
  const cpu = (rows: Record<string, number>) =>
    Object.entries(rows).filter(([k]) => k !== "total").sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`).join(", ") + ` (total ${rows.total} ms)`;
  if (g) {
    prof.push(
      `- \`generate-video\` while fal holds every job (no completions competing): ` +
        `${g.profile.acceptOnlyRate} jobs/s; CPU ms per job: ${
          cpu(g.profile.acceptOnlyCpuMsPerJob)
        }.`,
      `- \`generate-video\` with the instant simulator, CPU ms per accepted job (its dispatch, ` +
        `webhook and copy included as they ran during the loop): ${cpu(g.profile.cpuMsPerJob)}.`,
    );
  }
  if (w) {
    prof.push(`- \`fal-webhook\`, CPU ms per webhook until copied: ${cpu(w.cpuMsPerWebhook)}.`);
  }
  if (d) {
    prof.push(
      `- Dispatch loop, CPU ms per job: ${cpu(d.cpuMsPerJob)}.`,
      `- Creating one job behind ${d.jobs} queued ones takes ${d.createWithQueueMs} ms ` +
        "(its broadcast computes the queue position by counting the jobs ahead); one admin:stats " +
        `message takes ${d.realtime.adminStatsComputeMs} ms of Postgres (live figures, every ` +
        `message) or ${d.realtime.adminStatsWindowedComputeMs} ms (with the 15-minute window's ` +
        "figures, every 10 s).",
    );
  }
  if (f) {
    for (const [k, v] of Object.entries(f.segmentsMs)) {
      prof.push(`- Freshness, ${k}: p50 ${ms(v.p50)} · p95 ${ms(v.p95)} · p99 ${ms(v.p99)}`);
    }
  }
  if (prof.length) lines.push("", "Where the time goes:", "", ...prof);
  if (r.notes.length) lines.push("", ...r.notes.map((n) => `- ${n}`));
  return lines.join("\n") + "\n";
}
