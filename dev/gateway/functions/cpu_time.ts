/**
 * CPU time a worker process has used so far, from Linux's `/proc/<pid>/stat` (user + system time,
 * fields 14 and 15, in clock ticks of 1/100 s). The gateway takes the difference around a request
 * to see how much CPU it cost; elsewhere (no /proc) it measures nothing.
 */

const TICKS_PER_SECOND = 100;

/** Milliseconds of CPU the process has used, or null when that cannot be read. */
export async function processCpuMs(pid: number): Promise<number | null> {
  let stat: string;
  try {
    stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may contain spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  if (!Number.isFinite(user) || !Number.isFinite(system)) return null;
  return ((user + system) * 1000) / TICKS_PER_SECOND;
}
