/**
 * The hosted platform's runtime limits, enforced by the dev stack on tiny test functions (one
 * stack with the limits turned down): a worker's wall clock (retired at half, terminated at the
 * end with its `waitUntil` work, then replaced; an idle retired worker dropped early), its memory
 * (546 as the platform answers it), request bodies (413) and CPU time per request (a warning).
 */
import assert from "node:assert/strict";
import { startTestStack } from "../harness/stack.ts";
import { logWatcher } from "./log_watcher.ts";
import { writeFunctions } from "./temp_functions.ts";

const LIMITS = {
  EDGE_WALL_CLOCK_S: "6",
  EDGE_MEMORY_MB: "64",
  EDGE_MAX_BODY_BYTES: "1000",
  EDGE_CPU_WARN_MS: "100",
};

const RESOURCE_LIMIT = {
  code: "WORKER_RESOURCE_LIMIT",
  message: "Function failed due to not having enough compute resources (please check logs)",
};

const FUNCTIONS = {
  // Background work that never ends, a request that never answers, and the worker's pid.
  "lingerer/index.ts": `
declare const EdgeRuntime: { waitUntil(p: Promise<unknown>): void };
Deno.serve(async (req) => {
  const path = new URL(req.url).pathname;
  if (path === "/lingerer/start") {
    EdgeRuntime.waitUntil(new Promise(() => {}));
    return Response.json({ pid: Deno.pid }, { status: 202 });
  }
  if (path === "/lingerer/hang") await new Promise(() => {});
  return Response.json({ pid: Deno.pid });
});`,
  // Allocates until the heap limit on /hog/eat; otherwise its pid.
  "hog/index.ts": `
Deno.serve((req) => {
  if (new URL(req.url).pathname === "/hog/eat") {
    const keep: number[][] = [];
    for (;;) keep.push(new Array(100_000).fill(Math.random()));
  }
  return Response.json({ pid: Deno.pid });
});`,
  // Takes longer to boot than half of the wall clock.
  "sleepy/index.ts": `
await new Promise((resolve) => setTimeout(resolve, 3500));
Deno.serve(() => Response.json({ pid: Deno.pid }));`,
  // Answers the size of the body it read.
  "sizer/index.ts": `
Deno.serve(async (req) => Response.json({ bytes: (await req.arrayBuffer()).byteLength }));`,
  // Spends CPU on /burner/burn (a fixed amount of work), nothing otherwise.
  "burner/index.ts": `
Deno.serve((req) => {
  let x = 0;
  if (new URL(req.url).pathname === "/burner/burn") {
    for (let i = 0; i < 60_000_000; i++) x = (x + i) % 1_000_003;
  }
  return Response.json({ x });
});`,
};

Deno.test({
  name: "functions run under the platform's wall clock, memory, body and CPU limits",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await using project = await writeFunctions(FUNCTIONS);
    const logs = logWatcher();
    await using stack = await startTestStack({
      functionsDir: project.functionsDir,
      env: LIMITS,
      log: logs.log,
    });
    const base = `${stack.info.supabaseUrl}/functions/v1`;
    const functions = stack.stack.gateway.functions;

    await t.step(
      "a function over its memory dies with 546, and a new worker answers next",
      async () => {
        const before = await (await fetch(`${base}/hog`)).json();
        const res = await fetch(`${base}/hog/eat`);
        assert.equal(res.status, 546);
        assert.deepEqual(await res.json(), RESOURCE_LIMIT);
        await logs.next(/\[fn:hog\] Memory limit exceeded/);
        assert.equal(functions.stats().hog?.shutdowns.Memory, 1);
        const after = await (await fetch(`${base}/hog`)).json();
        assert.notEqual(after.pid, before.pid, "a fresh worker serves the next request");
      },
    );

    await t.step(
      "a body over the limit is refused with 413 before the function sees it",
      async () => {
        const exact = await fetch(`${base}/sizer`, { method: "POST", body: new Uint8Array(1000) });
        assert.deepEqual(await exact.json(), { bytes: 1000 });
        const declared = await fetch(`${base}/sizer`, {
          method: "POST",
          body: new Uint8Array(1001),
        });
        assert.equal(declared.status, 413);
        assert.equal((await declared.json()).code, "PAYLOAD_TOO_LARGE");
        // No Content-Length: counted while it streams through.
        const chunks = [new Uint8Array(600), new Uint8Array(600)];
        const streamed = await fetch(`${base}/sizer`, {
          method: "POST",
          body: new ReadableStream({
            pull(controller) {
              const next = chunks.shift();
              if (next) controller.enqueue(next);
              else controller.close();
            },
          }),
        });
        assert.equal(streamed.status, 413);
        assert.equal((await streamed.json()).code, "PAYLOAD_TOO_LARGE");
      },
    );

    await t.step("CPU time over the threshold is logged, not enforced", async () => {
      const cheap = await fetch(`${base}/burner`);
      assert.equal(cheap.status, 200);
      await cheap.body?.cancel();
      const burn = await fetch(`${base}/burner/burn`);
      assert.equal(burn.status, 200, "the request is not stopped");
      await burn.json();
      const [line] = await logs.next(/\[fn:burner\] CPU time per request over 100 ms: \d+ ms/);
      assert.ok(line);
      assert.equal(
        logs.lines.filter((l) => l.includes("[fn:burner] CPU time per request")).length,
        1,
        "only the expensive request is reported",
      );
    });

    await t.step(
      "a worker retired while booting still serves the request that waited",
      async () => {
        const res = await fetch(`${base}/sleepy`);
        assert.equal(res.status, 200);
        const { pid } = await res.json();
        await logs.next(new RegExp(`\\[fn:sleepy\\] wall clock duration warning: worker ${pid}`));
        await logs.next(new RegExp(`\\[fn:sleepy\\] shutdown: EarlyDrop \\(worker ${pid},`));
      },
    );

    await t.step(
      "the wall clock retires a worker, then cuts its waitUntil work and its requests",
      async () => {
        const started = await fetch(`${base}/lingerer/start`);
        assert.equal(started.status, 202);
        const first = (await started.json()).pid as number;
        const hanging = fetch(`${base}/lingerer/hang`);
        // Half of the wall clock: the worker takes no new requests; a new one serves them.
        await logs.next(
          new RegExp(`\\[fn:lingerer\\] wall clock duration warning: worker ${first}`),
        );
        const second = (await (await fetch(`${base}/lingerer`)).json()).pid as number;
        assert.notEqual(second, first);
        // The end of the wall clock: background work and the request in flight are cut.
        const [reached] = await logs.next(
          new RegExp(`\\[fn:lingerer\\] wall clock duration reached: worker ${first} .*`),
        );
        assert.match(reached!, /in_flight_req_exists = true, pending waitUntil = 1/);
        const cut = await hanging;
        assert.equal(cut.status, 546);
        assert.deepEqual(await cut.json(), RESOURCE_LIMIT);
        // The second worker had nothing left to do when it retired: dropped at once.
        await logs.next(
          new RegExp(`\\[fn:lingerer\\] early termination has been triggered: worker ${second}`),
        );
        await logs.next(new RegExp(`\\[fn:lingerer\\] shutdown: EarlyDrop \\(worker ${second},`));
        const shutdowns = functions.stats().lingerer?.shutdowns ?? {};
        assert.equal(shutdowns.WallClockTime, 1);
        assert.equal(shutdowns.EarlyDrop, 1);
        const third = (await (await fetch(`${base}/lingerer`)).json()).pid as number;
        assert.ok(![first, second].includes(third), "a new worker serves the next request");
      },
    );
  },
});
