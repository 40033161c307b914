/**
 * The dev stack's stand-in for pg_cron + pg_net: calls the `reconcile-jobs` function every
 * RECONCILE_INTERVAL_S with the stack's RECONCILE_SECRET. Runs never overlap (the next call is
 * scheduled when the previous one has answered), a failing call is logged and the timer goes on,
 * and `stop()` ends the timer and any call in flight. It chases jobs whose webhook never came; it
 * is not a client polling job state.
 */

export interface ReconcileTimerOptions {
  /** `<SUPABASE_URL>/functions/v1/reconcile-jobs`. */
  url: string;
  /** Sent as `x-reconcile-secret`. */
  secret: string;
  /** Seconds between runs (fractions allowed; tests use short ones). */
  intervalS: number;
  log?: (line: string) => void;
  /** Aborts a call that has not answered after this long (default 60 s). */
  timeoutMs?: number;
}

export interface ReconcileTimer {
  /** Runs started so far. */
  runs(): number;
  stop(): Promise<void>;
}

/** Starts the timer; the first call happens after one interval. */
export function startReconcileTimer(opts: ReconcileTimerOptions): ReconcileTimer {
  if (!(opts.intervalS > 0)) throw new RangeError("intervalS must be > 0");
  const log = opts.log ?? (() => {});
  const intervalMs = opts.intervalS * 1000;
  const stopping = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let runs = 0;
  let failing = false;

  const callOnce = async () => {
    runs++;
    const signal = AbortSignal.any([
      stopping.signal,
      AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    ]);
    try {
      const res = await fetch(opts.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-reconcile-secret": opts.secret },
        body: "{}",
        signal,
      });
      const text = await res.text();
      if (!res.ok) {
        log(`[reconcile] ${res.status}: ${text.slice(0, 200)}`);
        failing = true;
      } else if (failing) {
        log("[reconcile] answering again");
        failing = false;
      }
    } catch (e) {
      if (stopping.signal.aborted) return;
      if (!failing) log(`[reconcile] call failed: ${(e as Error).message}`);
      failing = true;
    }
  };

  const schedule = (delayMs: number) => {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => {
      const began = performance.now();
      inFlight = callOnce().finally(() =>
        schedule(Math.max(0, intervalMs - (performance.now() - began)))
      );
    }, delayMs);
  };
  schedule(intervalMs);

  return {
    runs: () => runs,
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await inFlight.catch(() => {});
    },
  };
}
