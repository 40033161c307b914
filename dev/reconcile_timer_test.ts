import assert from "node:assert/strict";
import { startReconcileTimer } from "./reconcile_timer.ts";

/** A loopback server that records each call and resolves when `want` calls have arrived. */
function fakeFunction(want: number, answer: (n: number) => Response) {
  const seen: { secret: string | null; method: string }[] = [];
  let reached!: () => void;
  const enough = new Promise<void>((r) => (reached = r));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    seen.push({ secret: req.headers.get("x-reconcile-secret"), method: req.method });
    if (seen.length === want) reached();
    return answer(seen.length);
  });
  const url = `http://127.0.0.1:${server.addr.port}/functions/v1/reconcile-jobs`;
  return { seen, enough, url, server };
}

Deno.test("the timer calls reconcile-jobs repeatedly with the secret, and stops", async () => {
  const fn = fakeFunction(3, () => Response.json({ ok: true }));
  const timer = startReconcileTimer({ url: fn.url, secret: "s3cret", intervalS: 0.02 });
  try {
    await fn.enough;
    assert.ok(fn.seen.every((c) => c.secret === "s3cret" && c.method === "POST"));
  } finally {
    await timer.stop();
  }
  const after = fn.seen.length;
  // A call already scheduled would have been sent within one interval; stop() cancelled it.
  await fn.server.shutdown();
  assert.equal(fn.seen.length, after);
  assert.equal(timer.runs(), after);
});

Deno.test("a failing call is logged and the timer keeps going", async () => {
  const lines: string[] = [];
  const fn = fakeFunction(
    3,
    (n) => n === 1 ? new Response("boom", { status: 500 }) : Response.json({}),
  );
  const timer = startReconcileTimer({
    url: fn.url,
    secret: "s",
    intervalS: 0.02,
    log: (l) => lines.push(l),
  });
  try {
    await fn.enough;
  } finally {
    await timer.stop();
    await fn.server.shutdown();
  }
  assert.ok(lines.some((l) => l.includes("500")), lines.join("\n"));
});

Deno.test("an unreachable function does not stop the timer", async () => {
  const lines: string[] = [];
  const fn = fakeFunction(1, () => Response.json({}));
  const url = fn.url;
  await fn.server.shutdown();
  let logged!: () => void;
  const first = new Promise<void>((r) => (logged = r));
  const timer = startReconcileTimer({
    url,
    secret: "s",
    intervalS: 0.02,
    log: (l) => (lines.push(l), logged()),
  });
  try {
    await first;
  } finally {
    await timer.stop();
  }
  assert.match(lines[0] ?? "", /call failed/);
});

Deno.test("a non-positive interval is refused", () => {
  assert.throws(() =>
    startReconcileTimer({ url: "http://127.0.0.1:1", secret: "s", intervalS: 0 })
  );
});
