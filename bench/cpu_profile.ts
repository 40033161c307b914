/**
 * Where the CPU goes during a phase: CPU seconds (user + system, from /proc) of each part of the
 * benchmark's own stack between two snapshots — its Postgres cluster (the postmaster, whose
 * reaped children's time is included, and its live backends), each Edge Function worker this
 * process started, and this process (which hosts the gateway, Realtime, Storage and the fal
 * simulator as well as the load generator). Other processes on the machine are left out. Linux
 * only; elsewhere the profile is empty.
 */

/** CPU seconds per part at one moment. */
export type CpuSnapshot = Map<string, number>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
export const BENCH_LABEL = "bench process (gateway, Realtime, Storage, fal simulator, load)";

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
  /** utime, stime, cutime, cstime in seconds. */
  times: [number, number, number, number];
}

async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    try {
      const cmdline = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).replaceAll("\0", " ");
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      // Fields after the command name (which may contain spaces) start after the last ')'.
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
      out.push({
        pid,
        ppid: f[1]!,
        cmdline,
        times: [f[11]!, f[12]!, f[13]!, f[14]!].map((t) => t / TICKS_PER_SECOND) as Proc["times"],
      });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** Reads the CPU time of the parts of the stack whose data lives in `localDir`. */
export async function cpuSnapshot(localDir: string): Promise<CpuSnapshot> {
  const out: CpuSnapshot = new Map();
  const add = (label: string, seconds: number) => out.set(label, (out.get(label) ?? 0) + seconds);
  let procs: Proc[];
  try {
    procs = await processes();
  } catch {
    return out; // no /proc: not Linux
  }
  const postmaster = procs.find((p) =>
    p.cmdline.includes("/postgres ") && p.cmdline.includes(localDir)
  );
  for (const p of procs) {
    const [user, system, childUser, childSystem] = p.times;
    if (p.pid === Deno.pid) add(BENCH_LABEL, user + system);
    else if (postmaster && p.pid === postmaster.pid) {
      add("Postgres", user + system + childUser + childSystem);
    } else if (postmaster && p.ppid === postmaster.pid) add("Postgres", user + system);
    else if (p.ppid === Deno.pid) {
      const fn = /supabase\/functions\/([^/ ]+)\/index\.ts/.exec(p.cmdline);
      if (fn) add(`function ${fn[1]}`, user + system);
    }
  }
  return out;
}

/** CPU milliseconds per unit of work (e.g. per job) of each part between two snapshots. */
export function cpuPer(before: CpuSnapshot, after: CpuSnapshot, units: number) {
  const rows: Record<string, number> = {};
  let total = 0;
  for (const [label, seconds] of after) {
    const used = seconds - (before.get(label) ?? 0);
    if (used <= 0) continue;
    rows[label] = Math.round((used * 1000 / Math.max(1, units)) * 100) / 100;
    total += used;
  }
  rows.total = Math.round((total * 1000 / Math.max(1, units)) * 100) / 100;
  return rows;
}
