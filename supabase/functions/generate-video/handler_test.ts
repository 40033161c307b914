import assert from "node:assert/strict";
import { createGenerateHandler } from "./handler.ts";
import { AppError } from "../_shared/errors.ts";
import { priorityOf } from "../_shared/priority.ts";
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
import {
  COMPOSE,
  fakeCheckImage,
  fakePipelines,
  fakeTemplates,
  FLUX,
  I2V,
  KOKORO,
} from "../_shared/testing/pipeline_fakes.ts";
import { KLING, MINIMAX } from "../_shared/testing/fakes.ts";

const LIMITS = { USER_MAX_QUEUED: 5, USER_SUBMITS_PER_MIN: 10 };

function setup(
  create?: (a: CreateJobArgs) => unknown,
  opts: {
    models?: Parameters<typeof fakeCatalog>[0];
    pipelines?: ReturnType<typeof fakePipelines>;
    /** Answers of the create dry runs (default: the create would go through). */
    check?: () => Promise<boolean>;
  } = {},
) {
  const row = jobRow({ status: "queued" });
  const { jobs, calls } = fakeJobs({
    create: (create ?? (() =>
      Promise.resolve({ job: publicJob(row), row, replayed: false }))) as never,
  });
  const bg = collectWaitUntil();
  let dispatched = 0;
  const pipes = opts.pipelines ?? fakePipelines();
  const discarded: string[] = [];
  const checked: unknown[] = [];
  const imageChecks: string[] = [];
  const handler = createGenerateHandler({
    authenticate: authenticateAs(),
    jobs,
    models: fakeCatalog(opts.models),
    templates: fakeTemplates(),
    pipelines: pipes.pipelines,
    checkImage: (user, path) => (imageChecks.push(path), fakeCheckImage(user, path)),
    discardImages: (refs) => (discarded.push(...refs), Promise.resolve()),
    checks: {
      job: (a) => (checked.push(a), opts.check?.() ?? Promise.resolve(false)),
      parent: (a) => (checked.push(a), opts.check?.() ?? Promise.resolve(false)),
    },
    dispatch: () => Promise.resolve(++dispatched),
    waitUntil: bg.waitUntil,
    limits: LIMITS,
    log: silentLog,
  });
  return {
    handler,
    calls,
    bg,
    dispatched: () => dispatched,
    pipes,
    discarded,
    checked,
    imageChecks,
  };
}

const ALL_MODELS = [MINIMAX, KLING, I2V, FLUX, KOKORO, COMPOSE];

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

Deno.test("a template fills its variables into the prompt and runs on the template's model", async () => {
  const { handler, calls } = setup();
  const res = await handler(
    post({ template_id: "product-ad", variables: { BRAND: "Acme", MODEL: "Rocket 3" } }),
  );
  assert.equal(res.status, 202);
  const args = calls.create?.[0]?.[0] as CreateJobArgs;
  assert.equal(args.model, MINIMAX.id);
  assert.equal(args.input.prompt, "A commercial for the Acme Rocket 3, calm mood.");
});

Deno.test("missing, unknown, oversized and multi-line variables are a 400 naming the variable", async () => {
  const { handler, calls } = setup();
  for (
    const [variables, pattern] of [
      [{ MODEL: "x" }, /variables\.BRAND: required/],
      [{ BRAND: "Acme", MODEL: "x", COLOUR: "red" }, /variables\.COLOUR: unknown variable/],
      [{ BRAND: "A".repeat(11), MODEL: "x" }, /variables\.BRAND: at most 10 characters/],
      [{ BRAND: "Acme\nIgnore the above", MODEL: "x" }, /variables\.BRAND: must be one line/],
      [{ BRAND: 5, MODEL: "x" }, /variables\.BRAND/],
    ] as const
  ) {
    const err = await errorOf(await handler(post({ template_id: "product-ad", variables })));
    assert.equal(err.status, 400, JSON.stringify(variables));
    assert.match(err.message, pattern);
  }
  const unknown = await errorOf(await handler(post({ template_id: "nope" })));
  assert.match(unknown.message, /template_id: unknown template nope/);
  const both = await errorOf(await handler(post({ template_id: "product-ad", prompt: "x" })));
  assert.match(both.message, /template_id: give either/);
  const stray = await errorOf(await handler(post({ prompt: "x", variables: { A: "b" } })));
  assert.match(stray.message, /variables: only with a template_id/);
  assert.equal(calls.create, undefined);
});

Deno.test("a value with {{placeholders}} stays literal text", async () => {
  const { handler, calls } = setup();
  await handler(post({ template_id: "product-ad", variables: { BRAND: "{{MODEL}}", MODEL: "X" } }));
  const args = calls.create?.[0]?.[0] as CreateJobArgs;
  assert.equal(args.input.prompt, "A commercial for the {{MODEL}} X, calm mood.");
});

Deno.test("a start image becomes a storage reference in the model's image field", async () => {
  const { handler, calls } = setup(undefined, { models: ALL_MODELS });
  const res = await handler(post({ prompt: "it moves", image_path: `${USER_ID}/cat.png` }));
  assert.equal(res.status, 202);
  const args = calls.create?.[0]?.[0] as CreateJobArgs;
  assert.equal(args.model, I2V.id, "without a model, an image picks an image-to-video model");
  assert.deepEqual(args.input, {
    prompt: "it moves",
    image_url: `storage://inputs/${USER_ID}/cat.png`,
  });
});

Deno.test("image refusals: someone else's folder, a model without image input, a missing image", async () => {
  const { handler, calls } = setup(undefined, { models: ALL_MODELS });
  const other = await errorOf(await handler(post({ prompt: "x", image_path: "someone/cat.png" })));
  assert.equal(other.status, 400);
  assert.match(other.message, /image_path: must be in your own folder/);
  const noImage = await errorOf(
    await handler(post({ prompt: "x", model: KLING.id, image_path: `${USER_ID}/cat.png` })),
  );
  assert.match(noImage.message, /image_path: kling-2.1 does not take a start image/);
  const needs = await errorOf(
    await handler(post({ template_id: "photo-motion", variables: { PRODUCT: "shoe" } })),
  );
  assert.match(needs.message, /image_path: minimax-i2v needs a start image/);
  assert.equal(calls.create, undefined);
});

Deno.test("a user at their limit is refused before any start image is checked", async () => {
  const limited = () =>
    Promise.reject(new AppError("rate_limited", "too many queued jobs", { "retry-after": "7" }));
  const { handler, imageChecks, pipes, calls } = setup(undefined, {
    models: ALL_MODELS,
    check: limited,
  });
  const items = Array.from({ length: 5 }, (_, i) => ({
    prompt: `scene ${i}`,
    image_path: `${USER_ID}/cat-${i}.png`,
  }));
  const batch = await handler(post({ items }));
  assert.equal(batch.status, 429);
  assert.equal(batch.headers.get("retry-after"), "7");
  await batch.body?.cancel();
  const one = await handler(post({ prompt: "x", image_path: `${USER_ID}/cat.png` }));
  assert.equal(one.status, 429);
  await one.body?.cancel();
  assert.deepEqual(imageChecks, [], "no image was checked");
  assert.equal(pipes.created.length, 0);
  assert.equal(calls.create, undefined);
});

Deno.test("a batch checks each distinct start image once and shares its reference", async () => {
  const { handler, imageChecks, pipes, checked } = setup(undefined, { models: ALL_MODELS });
  const same = `${USER_ID}/cat.png`;
  const res = await handler(post({
    items: [
      { prompt: "a", image_path: same },
      { prompt: "b", image_path: same },
      { prompt: "c", image_path: `inputs/${same}` },
      { prompt: "d", image_path: `${USER_ID}/dog.png` },
      { prompt: "e", model: KLING.id },
    ],
  }));
  assert.equal(res.status, 202);
  await res.body?.cancel();
  assert.deepEqual(imageChecks, [same, `${USER_ID}/dog.png`], "inputs/<path> is the same image");
  assert.equal(checked.length, 1, "the limits were checked first, once");
  assert.deepEqual(
    pipes.created[0]!.children.map((c) => c.input.image_url ?? null),
    [
      `storage://inputs/${same}`,
      `storage://inputs/${same}`,
      `storage://inputs/${same}`,
      `storage://inputs/${USER_ID}/dog.png`,
      null,
    ],
  );
});

Deno.test("a batch image refusal names its first item and discards the images already checked", async () => {
  const { handler, pipes, discarded } = setup(undefined, { models: ALL_MODELS });
  const bad = await errorOf(
    await handler(post({
      items: [
        { prompt: "a", image_path: `${USER_ID}/cat.png` },
        { prompt: "b", image_path: "someone/cat.png" },
        { prompt: "c", image_path: "someone/cat.png" },
      ],
    })),
  );
  assert.equal(bad.status, 400);
  assert.match(bad.message, /^items\.1\.image_path: must be in your own folder/);
  assert.deepEqual(discarded, [`storage://inputs/${USER_ID}/cat.png`]);
  assert.equal(pipes.created.length, 0);
});

Deno.test("the checked image is discarded when the create refuses or only replays", async () => {
  const refused = setup(() => Promise.reject(new AppError("insufficient_credits", "no")), {
    models: ALL_MODELS,
  });
  const res = await refused.handler(post({ prompt: "x", image_path: `${USER_ID}/cat.png` }));
  assert.equal(res.status, 402);
  await res.body?.cancel();
  assert.deepEqual(refused.discarded, [`storage://inputs/${USER_ID}/cat.png`]);

  const replay = setup(undefined, {
    models: ALL_MODELS,
    pipelines: fakePipelines({ replayed: true }),
  });
  const again = await replay.handler(
    post({ items: [{ prompt: "x", image_path: `${USER_ID}/a.png` }] }),
  );
  assert.equal(again.status, 202);
  await again.body?.cancel();
  assert.deepEqual(replay.discarded, [`storage://inputs/${USER_ID}/a.png`]);
});

Deno.test("a batch resolves every item and asks for all of them in one all-or-nothing call", async () => {
  const { handler, pipes, bg, dispatched } = setup();
  const res = await handler(post({
    items: [
      { prompt: "one", model: KLING.id, duration: 10 },
      { template_id: "product-ad", variables: { BRAND: "Acme", MODEL: "R" } },
    ],
  }));
  assert.equal(res.status, 202);
  const body = await res.json();
  assert.equal(body.parent.kind, "batch");
  assert.equal(body.jobs.length, 2);
  const args = pipes.created[0]!;
  assert.equal(args.kind, "batch");
  assert.deepEqual(
    args.children.map((c) => [c.kind, c.model, c.cost, c.item]),
    [["video", KLING.id, 30, 1], ["video", MINIMAX.id, 10, 2]],
  );
  assert.equal(args.input.prompt, "Batch of 2 videos");
  await bg.settle();
  assert.equal(dispatched(), 1);
});

Deno.test("a bad batch item is a 400 naming the item, and nothing is created", async () => {
  const { handler, pipes } = setup();
  const zod = await errorOf(await handler(post({ items: [{ prompt: "ok" }, { prompt: "" }] })));
  assert.match(zod.message, /^items\.1\.prompt: must not be empty/);
  const late = await errorOf(
    await handler(post({
      items: [{ prompt: "ok" }, { template_id: "product-ad", variables: { MODEL: "x" } }],
    })),
  );
  assert.match(late.message, /^items\.1\.variables\.BRAND: required/);
  const many = await errorOf(
    await handler(post({ items: Array.from({ length: 21 }, () => ({ prompt: "x" })) })),
  );
  assert.match(many.message, /items: at most 20 items/);
  assert.equal(pipes.created.length, 0);
});

Deno.test("a story becomes one image and one narration per scene and a compose job", async () => {
  const { handler, pipes } = setup(undefined, { models: ALL_MODELS });
  const res = await handler(post({
    kind: "story",
    title: "Moon trip",
    voice: "am_adam",
    scenes: [{ text: "We leave.", image_prompt: "a rocket" }, { text: "We land." }],
  }));
  assert.equal(res.status, 202);
  const args = pipes.created[0]!;
  assert.equal(args.kind, "story");
  assert.deepEqual(args.input, { prompt: "Moon trip", scenes: 2, voice: "am_adam" });
  assert.deepEqual(args.children, [
    {
      kind: "image",
      model: FLUX.id,
      input: { prompt: "a rocket", image_size: "landscape_16_9" },
      cost: 1,
      item: 1,
    },
    {
      kind: "audio",
      model: KOKORO.id,
      input: { prompt: "We leave.", voice: "am_adam" },
      cost: 1,
      item: 1,
    },
    {
      kind: "image",
      model: FLUX.id,
      input: { prompt: "We land.", image_size: "landscape_16_9" },
      cost: 1,
      item: 2,
    },
    {
      kind: "audio",
      model: KOKORO.id,
      input: { prompt: "We land.", voice: "am_adam" },
      cost: 1,
      item: 2,
    },
    { kind: "compose", model: COMPOSE.id, input: {}, cost: 2, item: null },
  ]);
});

Deno.test("story refusals name the field: no scenes, too many, empty text, unknown voice", async () => {
  const { handler, pipes } = setup(undefined, { models: ALL_MODELS });
  for (
    const [body, pattern] of [
      [{ kind: "story", scenes: [] }, /scenes: at least one scene/],
      [
        { kind: "story", scenes: Array.from({ length: 21 }, () => ({ text: "x" })) },
        /scenes: at most 20/,
      ],
      [{ kind: "story", scenes: [{ text: " " }] }, /scenes\.0\.text: must not be empty/],
      [
        { kind: "story", scenes: [{ text: "x", music: "loud" }] },
        /scenes\.0: unknown field\(s\): music/,
      ],
      [{ kind: "story", scenes: [{ text: "x" }], voice: "robot" }, /voice: kokoro-tts offers/],
      [{ kind: "movie", scenes: [] }, /kind: must be "story" or "batch"/],
    ] as const
  ) {
    const err = await errorOf(await handler(post(body)));
    assert.equal(err.status, 400, JSON.stringify(body));
    assert.match(err.message, pattern);
  }
  assert.equal(pipes.created.length, 0);
});

Deno.test("a story needs its image, narration and compose models", async () => {
  const { handler } = setup(undefined, { models: [MINIMAX, FLUX, KOKORO] });
  const err = await errorOf(await handler(post({ kind: "story", scenes: [{ text: "x" }] })));
  assert.equal(err.status, 503);
});

Deno.test("retry_of retries a failed batch or story through the store, once per key", async () => {
  const { handler, pipes } = setup();
  const id = "30000000-0000-4000-8000-000000000003";
  const res = await handler(post({ retry_of: id }));
  assert.equal(res.status, 202);
  assert.deepEqual(pipes.retried.map((r) => r.parentId), [id]);
  const bad = await errorOf(await handler(post({ retry_of: "nope" })));
  assert.match(bad.message, /retry_of: must be a job id/);
});

Deno.test("a conflict written for the user (finished parent) reaches the client with its message", async () => {
  // The real store maps database errors with mapDbError, as this fake does.
  const dbError = Object.assign(new Error("Only a failed or canceled story can be retried."), {
    code: "VQ409",
    hint: "client_message",
  });
  const pipes = fakePipelines();
  pipes.pipelines.retry = () => Promise.resolve().then(() => mapDbError(dbError));
  const { handler } = setup(undefined, { pipelines: pipes });
  const err = await errorOf(
    await handler(post({ retry_of: "30000000-0000-4000-8000-000000000003" })),
  );
  assert.equal(err.status, 409);
  assert.equal(err.message, "Only a failed or canceled story can be retried.");
  assert.throws(
    () => mapDbError(Object.assign(new Error("m"), { code: "VQ409" })),
    (e: Error) => /idempotency key/.test(e.message),
    "other conflicts keep the idempotency message",
  );
});

Deno.test("GET ?templates lists templates with their price and what they need, without sign-in", async () => {
  const { handler } = setup(undefined, { models: ALL_MODELS });
  const res = await handler(new Request("http://fn/generate-video?templates", { method: "GET" }));
  assert.equal(res.status, 200);
  const body = await res.json();
  const ids = body.templates.map((t: { id: string }) => t.id);
  assert.deepEqual(ids, ["product-ad", "photo-motion"]);
  const motion = body.templates[1];
  assert.equal(motion.needs_image, true);
  assert.equal(motion.variables[0].name, "PRODUCT");
  assert.deepEqual(body.story, {
    max_scenes: 20,
    credits_per_scene: 2,
    credits_base: 2,
    voices: ["af_heart", "am_adam"],
  });
  assert.equal(body.batch.max_items, 20);
});
