/**
 * HTTP load generators for the benchmarks, in this process with `fetch` (keep-alive):
 *   closedLoop  C workers each send the next request as soon as the previous one answered, for
 *               a duration or until the requests run out: saturation throughput;
 *   openLoop    requests start on a fixed schedule (rate R) whatever the answers do; latency is
 *               measured from the scheduled start, so a stall counts fully (no coordinated
 *               omission).
 * The generator runs on the same 2 cores as the system under test, like the bare Deno.serve
 * baseline it is compared with.
 */

/** Builds the i-th request (i from 0); return null when there are no more. */
export type MakeRequest = (i: number) => Request | null;

export interface LoadResult {
  /** Requests answered (any status). */
  sent: number;
  /** Answers with a status accepted by `ok`. */
  ok: number;
  /** Count per HTTP status (0 = network error). */
  statuses: Record<string, number>;
  seconds: number;
  /** ok answers per second. */
  rate: number;
  /** Latency of each answered request, ms. */
  latenciesMs: number[];
}

async function once(
  req: Request,
  ok: (status: number) => boolean,
): Promise<{ status: number; ok: boolean }> {
  try {
    const res = await fetch(req);
    await res.body?.cancel();
    return { status: res.status, ok: ok(res.status) };
  } catch {
    return { status: 0, ok: false };
  }
}

function tally(
  results: { status: number; ok: boolean; ms: number }[],
  seconds: number,
): LoadResult {
  const statuses: Record<string, number> = {};
  let ok = 0;
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.ok) ok++;
  }
  return {
    sent: results.length,
    ok,
    statuses,
    seconds,
    rate: ok / seconds,
    latenciesMs: results.map((r) => r.ms),
  };
}

/** C concurrent workers for `seconds` (or until `make` returns null). */
export async function closedLoop(opts: {
  concurrency: number;
  seconds: number;
  make: MakeRequest;
  ok?: (status: number) => boolean;
}): Promise<LoadResult> {
  const ok = opts.ok ?? ((s) => s >= 200 && s < 300);
  const results: { status: number; ok: boolean; ms: number }[] = [];
  let next = 0;
  const began = performance.now();
  const deadline = began + opts.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const req = opts.make(next++);
      if (!req) return;
      const t0 = performance.now();
      const r = await once(req, ok);
      results.push({ ...r, ms: performance.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return tally(results, (performance.now() - began) / 1000);
}

/** Requests started at `rate` per second for `seconds`; latency from each scheduled start. */
export async function openLoop(opts: {
  rate: number;
  seconds: number;
  make: MakeRequest;
  ok?: (status: number) => boolean;
}): Promise<LoadResult> {
  const ok = opts.ok ?? ((s) => s >= 200 && s < 300);
  const total = Math.max(1, Math.round(opts.rate * opts.seconds));
  const interval = 1000 / opts.rate;
  const results: { status: number; ok: boolean; ms: number }[] = [];
  const inFlight: Promise<void>[] = [];
  const began = performance.now();
  for (let i = 0; i < total; i++) {
    const due = began + i * interval;
    const wait = due - performance.now();
    // The schedule itself: the next request's start time (this is the load, not a sync sleep).
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const req = opts.make(i);
    if (!req) break;
    inFlight.push(
      once(req, ok).then((r) => void results.push({ ...r, ms: performance.now() - due })),
    );
  }
  await Promise.all(inFlight);
  return tally(results, (performance.now() - began) / 1000);
}
