/**
 * @fal-ai/client 1.10.1, unchanged, against the simulator: submit, status, result, cancel,
 * subscribe (polling and SSE streaming), validation errors and start timeouts — the calls our
 * functions make to fal, answered the way fal answers them.
 */
import assert from "node:assert/strict";
import { ApiError, ValidationError } from "@fal-ai/client";
import { startWebhookReceiver, withSimulator } from "./testing.ts";

const VIDEO = "fal-ai/kling-video/v2.1/standard/text-to-video";

Deno.test("submit answers IN_QUEUE with a request id and the three URLs under the app root", async () => {
  await withSimulator({}, async ({ sim, fal, control }) => {
    await control.endpoint(VIDEO, { durationMs: 50 });
    const submitted = await fal.queue.submit(VIDEO, { input: { prompt: "a red fox" } });
    assert.equal(submitted.status, "IN_QUEUE");
    assert.match(submitted.request_id, /^[0-9a-f-]{36}$/);
    const base = `${sim.url}/fal-ai/kling-video/requests/${submitted.request_id}`;
    assert.equal(submitted.response_url, base);
    assert.equal(submitted.status_url, `${base}/status`);
    assert.equal(submitted.cancel_url, `${base}/cancel`);
    assert.equal(submitted.queue_position, 0);
    const [rec] = await control.requests();
    assert.equal(rec?.endpointId, VIDEO);
    assert.equal(rec?.priority, "normal");
    assert.equal(rec?.authorized, true);
    assert.deepEqual(rec?.input, { prompt: "a red fox" });
  });
});

Deno.test("status: IN_QUEUE with position behind the concurrency limit, IN_PROGRESS with logs, COMPLETED (202, 202, 200)", async () => {
  await withSimulator({ settings: { concurrency: 1 } }, async ({ fal, control, sim }) => {
    await control.endpoint(VIDEO, { durationMs: 400 });
    const first = await fal.queue.submit(VIDEO, { input: { prompt: "one" } });
    const second = await fal.queue.submit(VIDEO, { input: { prompt: "two" } });
    const third = await fal.queue.submit(VIDEO, { input: { prompt: "three" } });
    assert.equal(third.queue_position, 1);

    const queued = await fal.queue.status(VIDEO, { requestId: second.request_id });
    assert.equal(queued.status, "IN_QUEUE");
    assert.equal(queued.status === "IN_QUEUE" && queued.queue_position, 0);
    const raw = await fetch(`${sim.url}/fal-ai/kling-video/requests/${second.request_id}/status`);
    assert.equal(raw.status, 202);
    await raw.body?.cancel();

    await control.waitFor(first.request_id, { until: "started" });
    const running = await fal.queue.status(VIDEO, { requestId: first.request_id, logs: true });
    assert.equal(running.status, "IN_PROGRESS");
    assert.ok(running.status === "IN_PROGRESS" && running.logs.length >= 1);
    assert.equal(running.logs[0]?.source, "USER");
    const noLogs = await fal.queue.status(VIDEO, { requestId: first.request_id });
    assert.equal((noLogs as { logs: unknown }).logs, null);

    await control.waitFor(first.request_id, { until: "completed" });
    const done = await fetch(`${sim.url}/fal-ai/kling-video/requests/${first.request_id}/status`);
    assert.equal(done.status, 200);
    const body = await done.json();
    assert.equal(body.status, "COMPLETED");
    assert.equal(typeof body.metrics.inference_time, "number");
    // The first finished, so the second left the queue and the third moved up.
    const moved = await fal.queue.status(VIDEO, { requestId: third.request_id });
    assert.equal(moved.status === "IN_QUEUE" && moved.queue_position, 0);
  });
});

Deno.test("result returns the model output and the request id from x-fal-request-id", async () => {
  await withSimulator({}, async ({ fal, control, sim }) => {
    await control.endpoint(VIDEO, { durationMs: 20 });
    const { request_id } = await fal.queue.submit(VIDEO, {
      input: { prompt: "waves", duration: "3" },
    });
    await control.waitFor(request_id, { until: "completed" });
    const result = await fal.queue.result(VIDEO, { requestId: request_id });
    assert.equal(result.requestId, request_id);
    const video = (result.data as { video: Record<string, unknown> }).video;
    assert.equal(video.content_type, "video/mp4");
    assert.equal(video.file_name, "video_3s.mp4");
    assert.ok(String(video.url).startsWith(`http://${sim.mediaHost}/media/`));
    const media = await fetch(String(video.url));
    assert.equal(media.status, 200);
    assert.equal(media.headers.get("content-type"), "video/mp4");
    assert.equal((await media.arrayBuffer()).byteLength, video.file_size);
  });
});

Deno.test("subscribe (polling) submits, follows the status and returns the result", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.endpoint("fal-ai/flux/dev", { durationMs: 100 });
    const updates: string[] = [];
    const result = await fal.subscribe("fal-ai/flux/dev", {
      input: { prompt: "a lighthouse", num_images: 2 },
      mode: "polling",
      pollInterval: 20,
      logs: true,
      onQueueUpdate: (u) => updates.push(u.status),
    });
    const images = (result.data as { images: { url: string; width: number }[] }).images;
    assert.equal(images.length, 2);
    assert.equal(images[0]?.width, 1024);
    assert.equal(updates.at(-1), "COMPLETED");
    assert.ok(updates.includes("IN_PROGRESS"));
  });
});

Deno.test("subscribe (streaming) follows the SSE status stream until COMPLETED", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    const SPEECH = "fal-ai/kokoro/american-english";
    await control.endpoint(SPEECH, { durationMs: 150 });
    const updates: string[] = [];
    const result = await fal.subscribe(SPEECH, {
      input: { prompt: "Once upon a time there was a fox who lived by the sea" },
      mode: "streaming",
      logs: true,
      onQueueUpdate: (u) => updates.push(u.status),
    });
    const audio = (result.data as { audio: { content_type: string; file_name: string } }).audio;
    assert.equal(audio.content_type, "audio/wav");
    assert.equal(audio.file_name, "speech_6s.wav"); // 13 words at 2.5 words a second
    assert.equal(updates.at(-1), "COMPLETED");
    assert.ok(updates.includes("IN_PROGRESS"));
  });
});

Deno.test("the raw SSE stream sends data lines and closes after COMPLETED", async () => {
  await withSimulator({}, async ({ fal, control, sim }) => {
    await control.endpoint(VIDEO, { durationMs: 100 });
    const { request_id } = await fal.queue.submit(VIDEO, { input: { prompt: "x" } });
    const res = await fetch(
      `${sim.url}/fal-ai/kling-video/requests/${request_id}/status/stream?logs=1`,
    );
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const text = await res.text(); // ends only because the server closes the stream
    const events = text.split("\n\n").filter((e) => e.startsWith("data: "))
      .map((e) => JSON.parse(e.slice(6)));
    assert.equal(events.at(-1).status, "COMPLETED");
    assert.ok(events.some((e) => e.status === "IN_PROGRESS" && e.logs.length > 0));
  });
});

Deno.test("cancel of a queued request: CANCELLATION_REQUESTED, then its result is a 499 client_cancelled", async () => {
  await withSimulator({ settings: { concurrency: 1 } }, async ({ fal, control, sim }) => {
    await control.endpoint(VIDEO, { durationMs: 300 });
    const hook = startWebhookReceiver();
    try {
      await fal.queue.submit(VIDEO, { input: { prompt: "busy" } });
      const queued = await fal.queue.submit(VIDEO, {
        input: { prompt: "waiting" },
        webhookUrl: hook.url,
      });
      const res = await fetch(
        `${sim.url}/fal-ai/kling-video/requests/${queued.request_id}/cancel`,
        { method: "PUT" },
      );
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), { status: "CANCELLATION_REQUESTED" });
      const status = await fal.queue.status(VIDEO, { requestId: queued.request_id });
      assert.equal(status.status, "COMPLETED");
      const err = await fal.queue.result(VIDEO, { requestId: queued.request_id }).then(
        () => assert.fail("result of a cancelled request must fail"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 499);
      const [webhook] = await hook.waitFor(1);
      assert.equal(webhook?.body.status, "ERROR");
      assert.equal(
        (webhook?.body.payload as { error_type: string }).error_type,
        "client_cancelled",
      );
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("cancel through the client stops a running request; cancelling a completed one is 400 ALREADY_COMPLETED", async () => {
  await withSimulator({}, async ({ fal, control, sim }) => {
    await control.endpoint(VIDEO, { durationMs: 5_000 });
    const running = await fal.queue.submit(VIDEO, { input: { prompt: "long" } });
    await control.waitFor(running.request_id, { until: "started" });
    await fal.queue.cancel(VIDEO, { requestId: running.request_id });
    const rec = await control.waitFor(running.request_id, { until: "completed" });
    assert.equal(rec.outcome?.ok, false);
    assert.equal(rec.cancelRequested, true);

    const again = await fetch(
      `${sim.url}/fal-ai/kling-video/requests/${running.request_id}/cancel`,
      { method: "PUT" },
    );
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), { status: "ALREADY_COMPLETED" });
    const err = await fal.queue.cancel(VIDEO, { requestId: running.request_id }).catch((e) => e);
    assert.ok(err instanceof ApiError && err.status === 400);
  });
});

Deno.test("a missing prompt fails at the runner: result is a 422 ValidationError with fal's detail", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    const hook = startWebhookReceiver();
    try {
      const { request_id } = await fal.queue.submit(VIDEO, {
        input: { negative_prompt: "blur" } as never,
        webhookUrl: hook.url,
      });
      await control.waitFor(request_id, { until: "completed" });
      const err = await fal.queue.result(VIDEO, { requestId: request_id }).catch((e) => e);
      assert.ok(err instanceof ValidationError);
      assert.equal(err.status, 422);
      assert.deepEqual(err.fieldErrors, [
        { loc: ["body", "prompt"], msg: "Field required", type: "missing" },
      ]);
      const [webhook] = await hook.waitFor(1);
      assert.equal(webhook?.body.status, "ERROR");
      assert.equal(webhook?.body.error, "Invalid status code: 422");
      assert.deepEqual(webhook?.body.payload, { detail: err.fieldErrors });
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("image-to-video needs image_url; speech needs text or prompt; compose needs tracks", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["fal-ai/kling-video/v2.1/standard/image-to-video", { prompt: "p" }, "image_url"],
      ["fal-ai/elevenlabs/tts/multilingual-v2", {}, "text"],
      ["fal-ai/kokoro/american-english", { voice: "af_heart" }, "prompt"],
      ["fal-ai/ffmpeg-api/compose", {}, "tracks"],
      ["fal-ai/flux/schnell", { prompt: "" }, "prompt"],
    ];
    for (const [endpoint, input, field] of cases) {
      await control.endpoint(endpoint, { durationMs: 10 });
      const { request_id } = await fal.queue.submit(endpoint, { input: input as never });
      await control.waitFor(request_id, { until: "completed" });
      const err = await fal.queue.result(endpoint, { requestId: request_id }).catch((e) => e);
      assert.ok(err instanceof ValidationError, `${endpoint} should fail validation`);
      assert.deepEqual(err.fieldErrors.map((f) => f.loc), [["body", field]], endpoint);
    }
  });
});

Deno.test("startTimeout (X-Fal-Request-Timeout) expires in the queue: 504 with timeout type user", async () => {
  // timeScale 100: a 2 s start timeout is 20 ms of simulated fal time.
  await withSimulator(
    { timeScale: 100, settings: { concurrency: 1 } },
    async ({ fal, control }) => {
      await control.endpoint(VIDEO, { durationMs: 2_000 });
      await fal.queue.submit(VIDEO, { input: { prompt: "hog the slot" } });
      const waiting = await fal.queue.submit(VIDEO, { input: { prompt: "late" }, startTimeout: 2 });
      const rec = await control.waitFor(waiting.request_id, { until: "completed" });
      assert.equal(rec.startTimeoutSeconds, 2);
      assert.equal(rec.attempts, 0);
      const err = await fal.queue.result(VIDEO, { requestId: waiting.request_id }).catch((e) => e);
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 504);
      assert.equal(err.isUserTimeout, true);
    },
  );
});

Deno.test("low priority waits behind normal priority; runner hint and no-retry are recorded", async () => {
  await withSimulator({ settings: { concurrency: 1 } }, async ({ fal, control }) => {
    await control.endpoint(VIDEO, { durationMs: 200 });
    await fal.queue.submit(VIDEO, { input: { prompt: "running" } });
    const low = await fal.queue.submit(VIDEO, { input: { prompt: "low" }, priority: "low" });
    const normal = await fal.queue.submit(VIDEO, {
      input: { prompt: "normal" },
      hint: "runner-7",
      headers: { "X-Fal-No-Retry": "1" },
    });
    const lowStatus = await fal.queue.status(VIDEO, { requestId: low.request_id });
    const normalStatus = await fal.queue.status(VIDEO, { requestId: normal.request_id });
    assert.equal(lowStatus.status === "IN_QUEUE" && lowStatus.queue_position, 1);
    assert.equal(normalStatus.status === "IN_QUEUE" && normalStatus.queue_position, 0);
    const recs = await control.requests();
    const n = recs.find((r) => r.requestId === normal.request_id);
    assert.equal(n?.runnerHint, "runner-7");
    assert.equal(n?.noRetry, true);
    assert.equal(recs.find((r) => r.requestId === low.request_id)?.priority, "low");
  });
});

Deno.test("the client retries a submit answered 429 and the request is created once", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.failNextSubmits([{ status: 429 }]);
    const submitted = await fal.queue.submit(VIDEO, { input: { prompt: "retry me" } });
    const submits = await control.submits();
    assert.deepEqual(submits.map((s) => s.answered), [429, 200]);
    assert.equal(submits[1]?.requestId, submitted.request_id);
    assert.equal((await control.requests()).length, 1);
  });
});
