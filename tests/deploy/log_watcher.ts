/**
 * A stack's log kept in memory, with a way to wait for a line (the event) instead of sleeping.
 * Pass `log` to `startTestStack`; `VQ_STACK_LOG=1` also prints the lines.
 */

/** A log sink plus `next(re)`: the first line matching `re`, already logged or still to come. */
export function logWatcher() {
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  return {
    lines,
    log(line: string) {
      lines.push(line);
      if (Deno.env.get("VQ_STACK_LOG")) console.log(`[stack] ${line}`);
      for (const w of [...waiters]) {
        const m = line.match(w.re);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    },
    /** The first line matching `re` (already logged or still to come). */
    next(re: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
      for (const line of lines) {
        const m = line.match(re);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line ${re} in time`)), timeoutMs);
        waiters.push({
          re,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}
