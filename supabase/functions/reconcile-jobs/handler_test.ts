import assert from "node:assert/strict";
import type { ReconcileReport } from "../_shared/reconcile.ts";
import { createReconcileHandler, SECRET_HEADER } from "./handler.ts";

const SECRET = "a-reconcile-secret-of-some-length";
const REPORT = { checked: 2, dispatched: 1 } as unknown as ReconcileReport;

function handlerWith(opts: { secret?: string; fail?: boolean } = {}) {
  let runs = 0;
  const logs: string[] = [];
  const handler = createReconcileHandler({
    secret: "secret" in opts ? opts.secret : SECRET,
    reconcile: () => {
      runs++;
      return opts.fail
        ? Promise.reject(new Error("SELECT secret FROM boom"))
        : Promise.resolve(REPORT);
    },
    log: (msg, fields) => logs.push(`${msg} ${JSON.stringify(fields ?? {})}`),
  });
  return { handler, runs: () => runs, logs };
}

const post = (headers: Record<string, string> = {}, body = "{}") =>
  new Request("http://127.0.0.1/reconcile-jobs", { method: "POST", headers, body });

Deno.test("the right secret runs one reconcile pass and answers its report", async () => {
  const h = handlerWith();
  const res = await h.handler(post({ [SECRET_HEADER]: SECRET }));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true, report: REPORT });
  assert.equal(h.runs(), 1);
});

Deno.test("a missing or wrong secret is refused with 401 and runs nothing", async () => {
  const h = handlerWith();
  const attempts: Record<string, string>[] = [
    {},
    { [SECRET_HEADER]: "wrong" },
    { authorization: `Bearer ${SECRET}` },
  ];
  for (const headers of attempts) {
    const res = await h.handler(post(headers));
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, "unauthorized");
  }
  assert.equal(h.runs(), 0);
});

Deno.test("without a configured secret every call is refused", async () => {
  const h = handlerWith({ secret: undefined });
  const res = await h.handler(post({ [SECRET_HEADER]: "" }));
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error.code, "unavailable");
  assert.equal(h.runs(), 0);
});

Deno.test("only POST is accepted", async () => {
  const h = handlerWith();
  const res = await h.handler(
    new Request("http://127.0.0.1/reconcile-jobs", {
      headers: { [SECRET_HEADER]: SECRET },
    }),
  );
  assert.equal(res.status, 405);
  assert.equal(h.runs(), 0);
});

Deno.test("an oversized body is refused with 413 before any work", async () => {
  const h = handlerWith();
  const res = await h.handler(post({ [SECRET_HEADER]: SECRET }, "x".repeat(70_000)));
  assert.equal(res.status, 413);
  assert.equal(h.runs(), 0);
});

Deno.test("a failing run answers a generic 500 that leaks nothing, and logs the cause", async () => {
  const h = handlerWith({ fail: true });
  const res = await h.handler(post({ [SECRET_HEADER]: SECRET }));
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.doesNotMatch(text, /SELECT|boom|secret/i);
  assert.ok(h.logs.some((l) => l.includes("boom")));
});
