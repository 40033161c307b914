import assert from "node:assert/strict";
import { createGenerateHandler, priorityOf } from "./handler.ts";
import { type CreateJobArgs, mapDbError } from "../_shared/jobs.ts";
import {
  authenticateAs,
  collectWaitUntil,
  fakeCatalog,
  fakeJobs,
  jobRow,
  publicJob,
  silentLog,
  USER_ID,
} from "../_shared/testing/fakes.ts";

const LIMITS = { USER_MAX_QUEUED: 5, USER_SUBMITS_PER_MIN: 10 };

function setup(create?: (a: CreateJobArgs) => unknown) {
  const row = jobRow({ status: "queued" });
  const { jobs, calls } = fakeJobs({
    create: (create ?? (() =>
      Promise.resolve({ job: publicJob(row), row, replayed: false }))) as never,
  });
  const bg = collectWaitUntil();
  let dispatched = 0;
  const handler = createGenerateHandler({
    authenticate: authenticateAs(),
    jobs,
    models: fakeCatalog(),
    dispatch: () => Promise.resolve(++dispatched),
    waitUntil: bg.waitUntil,
    limits: LIMITS,
    log: silentLog,
  });
  return { handler, calls, bg, dispatched: () => dispatched };
}

const post = (body: unknown, headers: Record<string, string> = { authorization: "Bearer t" }) =>
  new Request("http://fn/generate-video", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function errorOf(res: Response) {
  const body = await res.json();
  return { status: res.status, code: body.error?.code, message: body.error?.message as string };
}

Deno.test("a valid prompt is accepted with 202, reserved at the model's cost and dispatched in the background", async () => {
  const { handler, calls, bg, dispatched } = setup();
  const res = await handler(post({ prompt: "a cat surfing", model: "kling-2.1", duration: 10 }));
  assert.equal(res.status, 202);
  assert.equal((await res.json()).job.status, "queued");
  const args = calls.create?.[0]?.[0] as CreateJobArgs;
  assert.equal(args.userId, USER_ID);
  assert.equal(args.cost, 30);
  assert.deepEqual(args.input, { prompt: "a cat surfing", duration: "10" });
  assert.equal(args.limits.max_queued, 5);
  await bg.settle();
  assert.equal(dispatched(), 1);
});

Deno.test("a request without a user token is refused with 401 and nothing is written", async () => {
  const { handler, calls } = setup();
  const res = await handler(post({ prompt: "x" }, {}));
  assert.deepEqual((await errorOf(res)).code, "unauthorized");
  assert.equal(res.status, 401);
  assert.equal(calls.create, undefined);
});

Deno.test("invalid input is a 400 naming the field, before any credit moves", async () => {
  const { handler, calls } = setup();
  for (
    const [body, field] of [
      [{ prompt: "" }, "prompt"],
      [{ prompt: 5 }, "prompt"],
      [{ prompt: "ok", duration: "ten" }, "duration"],
      [{ prompt: "ok", model: "nope" }, "model"],
      [{ prompt: "ok", model: "kling-2.1", duration: 7 }, "duration"],
      [{ prompt: "ok", model: "kling-2.1", aspect_ratio: "4:3" }, "aspect_ratio"],
      [{ prompt: "ok", image_path: "u/x.png" }, "image_path"],
      [{ prompt: "ok", colour: "red" }, "colour"],
    ] as const
  ) {
    const err = await errorOf(await handler(post(body)));
    assert.equal(err.status, 400, JSON.stringify(body));
    assert.equal(err.code, "invalid_input");
    assert.match(err.message, new RegExp(field), JSON.stringify(body));
  }
  for (const raw of ["{not json", "[1,2]", ""]) {
    const err = await errorOf(await handler(post(raw)));
    assert.equal(err.status, 400);
  }
  assert.equal(calls.create, undefined);
});

Deno.test("an idempotent replay answers the same job and dispatches nothing", async () => {
  const row = jobRow({ status: "submitted" });
  const { handler, bg, dispatched } = setup(() =>
    Promise.resolve({ job: publicJob(row), row, replayed: true })
  );
  const res = await handler(
    post({ prompt: "a cat" }, { authorization: "Bearer t", "idempotency-key": "k1" }),
  );
  assert.equal(res.status, 202);
  assert.equal(res.headers.get("idempotent-replayed"), "true");
  await bg.settle();
  assert.equal(dispatched(), 0);
});

Deno.test("the idempotency key from the header and the body hash reach the store", async () => {
  const { handler, calls } = setup();
  await handler(
    post({ prompt: "a cat" }, { authorization: "Bearer t", "idempotency-key": "key-9" }),
  );
  await handler(
    post({ model: "minimax-video-01", prompt: "a cat" }, { authorization: "Bearer t" }),
  );
  const [a, b] = (calls.create ?? []).map((c) => c[0] as CreateJobArgs);
  assert.equal(a?.idempotencyKey, "key-9");
  assert.equal(b?.idempotencyKey, null);
  assert.equal(a?.requestHash, b?.requestHash, "same request, same hash, whatever the key order");
});

Deno.test("database refusals become 402, 409 and 429 with Retry-After", async () => {
  for (
    const [code, status, detail] of [["VQ402", 402, undefined], ["VQ409", 409, undefined], [
      "VQ429",
      429,
      "17",
    ]] as const
  ) {
    // The real store maps the SQLSTATEs its SQL functions raise with mapDbError.
    const { handler } = setup(() =>
      Promise.resolve().then(() =>
        mapDbError(Object.assign(new Error("refused"), { code, detail }))
      )
    );
    const res = await handler(post({ prompt: "a cat" }));
    assert.equal(res.status, status);
    if (status === 429) assert.equal(res.headers.get("retry-after"), "17");
  }
});

Deno.test("only POST is accepted and OPTIONS answers CORS", async () => {
  const { handler } = setup();
  assert.equal((await handler(new Request("http://fn/", { method: "GET" }))).status, 405);
  const pre = await handler(new Request("http://fn/", { method: "OPTIONS" }));
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
});

Deno.test("priority comes from app_metadata, never from the request", () => {
  assert.equal(priorityOf({ app_metadata: { plan: "pro" } }), 10);
  assert.equal(priorityOf({ app_metadata: { priority: 500 } }), 100);
  assert.equal(priorityOf({ priority: 50 }), 0);
});
