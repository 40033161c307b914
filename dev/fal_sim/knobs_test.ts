/**
 * Every control knob of the simulator, each shown to change what a client or a webhook receiver
 * observes: durations, concurrency, error rates (with fal's retries and X-Fal-No-Retry), submit
 * faults (Retry-After, held answers), webhook drop/delay/duplicate/reorder/wrong key/payload
 * error/another user id, webhook retries on
 * errors and timeouts, 404 media, completing despite a cancel, kind overrides, key rotation, reset.
 */
import assert from "node:assert/strict";
import { createWebhookVerifier } from "../../supabase/functions/_shared/fal_webhook_verify.ts";
import { startWebhookReceiver, withSimulator } from "./testing.ts";

const VIDEO = "fal-ai/kling-video/v2.1/standard/text-to-video";
const OTHER = "fal-ai/minimax/video-01";

async function submitRaw(simUrl: string, endpoint: string, input: unknown, headers = {}) {
  const res = await fetch(`${simUrl}/${endpoint}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Key k", ...headers },
    body: JSON.stringify(input),
  });
  return { status: res.status, body: await res.text() };
}

Deno.test("knob durationMs: each endpoint runs for its own duration", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.endpoint(VIDEO, { durationMs: 600 });
    await control.endpoint(OTHER, { durationMs: 30 });
    const slow = await fal.queue.submit(VIDEO, { input: { prompt: "slow" } });
    const fast = await fal.queue.submit(OTHER, { input: { prompt: "fast" } });
    const f = await control.waitFor(fast.request_id, { until: "completed" });
    assert.equal(
      (await fal.queue.status(VIDEO, { requestId: slow.request_id })).status,
      "IN_PROGRESS",
    );
    const s = await control.waitFor(slow.request_id, { until: "completed" });
    assert.ok(s.completedAt! - s.startedAt! >= 600);
    assert.ok(f.completedAt! - f.startedAt! < 600);
  });
});

Deno.test("knob concurrency: with 1 slot the second request waits IN_QUEUE until the first ends", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.patch({ concurrency: 1 });
    await control.defaults({ durationMs: 100 });
    const a = await fal.queue.submit(VIDEO, { input: { prompt: "a" } });
    const b = await fal.queue.submit(VIDEO, { input: { prompt: "b" } });
    assert.equal((await fal.queue.status(VIDEO, { requestId: b.request_id })).status, "IN_QUEUE");
    const ra = await control.waitFor(a.request_id, { until: "completed" });
    const rb = await control.waitFor(b.request_id, { until: "started" });
    assert.ok(rb.startedAt! >= ra.completedAt!);
  });
});

Deno.test("knob concurrency: raising the limit starts queued requests at once", async () => {
  await withSimulator({ settings: { concurrency: 1 } }, async ({ fal, control }) => {
    await control.defaults({ durationMs: 5_000 });
    const a = await fal.queue.submit(VIDEO, { input: { prompt: "a" } });
    const b = await fal.queue.submit(VIDEO, { input: { prompt: "b" } });
    assert.equal((await fal.queue.status(VIDEO, { requestId: b.request_id })).status, "IN_QUEUE");
    await control.patch({ concurrency: 2 });
    await control.waitFor(b.request_id, { until: "started" });
    assert.equal(
      (await fal.queue.status(VIDEO, { requestId: a.request_id })).status,
      "IN_PROGRESS",
    );
  });
});

Deno.test("knob errorRate: a failing attempt ends COMPLETED with a 500 result and X-Fal-Error-Type", async () => {
  await withSimulator({}, async ({ fal, control, sim }) => {
    await control.endpoint(VIDEO, { durationMs: 5, errorRate: 1 });
    const hook = startWebhookReceiver();
    try {
      const { request_id } = await fal.queue.submit(VIDEO, {
        input: { prompt: "x" },
        webhookUrl: hook.url,
      });
      const rec = await control.waitFor(request_id, { until: "completed" });
      assert.equal(rec.attempts, 1); // a 500 is not retried by fal
      const res = await fetch(`${sim.url}/fal-ai/kling-video/requests/${request_id}`);
      assert.equal(res.status, 500);
      assert.equal(res.headers.get("x-fal-error-type"), "runner_server_error");
      assert.equal(res.headers.get("x-fal-request-id"), request_id);
      assert.deepEqual(await res.json(), {
        detail: "The runner encountered an internal server error.",
        error_type: "runner_server_error",
      });
      const status = await fal.queue.status(VIDEO, { requestId: request_id });
      assert.equal(status.status, "COMPLETED");
      const [webhook] = await hook.waitFor(1);
      assert.equal(webhook?.body.status, "ERROR");
      assert.equal(webhook?.body.error, "Invalid status code: 500");
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("knob failureType: retryable failures are retried 10 times with new gateway ids, once with X-Fal-No-Retry", async () => {
  await withSimulator({}, async ({ control, sim }) => {
    await control.endpoint(VIDEO, {
      durationMs: 1,
      errorRate: 1,
      failureType: "runner_disconnected",
    });
    const retried = JSON.parse((await submitRaw(sim.url, VIDEO, { prompt: "x" })).body);
    const noRetry = JSON.parse(
      (await submitRaw(sim.url, VIDEO, { prompt: "x" }, { "x-fal-no-retry": "1" })).body,
    );
    const r = await control.waitFor(retried.request_id, { until: "completed" });
    const n = await control.waitFor(noRetry.request_id, { until: "completed" });
    assert.equal(r.attempts, 10);
    assert.notEqual(r.gatewayRequestId, r.requestId);
    assert.equal(n.attempts, 1);
    assert.equal(n.gatewayRequestId, n.requestId);
    assert.equal(r.outcome?.ok === false && r.outcome.httpStatus, 503);
  });
});

Deno.test("fal's retries stop at the caller's start timeout: the request ends 504 with timeout type user", async () => {
  await withSimulator({ timeScale: 100 }, async ({ fal, control, sim }) => {
    await control.endpoint(VIDEO, {
      durationMs: 40,
      errorRate: 1,
      failureType: "runner_disconnected",
    });
    // A 2 s start timeout is 20 ms at timeScale 100: over before the first attempt ends.
    const { request_id } = await fal.queue.submit(VIDEO, {
      input: { prompt: "x" },
      startTimeout: 2,
    });
    const rec = await control.waitFor(request_id, { until: "completed" });
    assert.equal(rec.attempts, 1);
    const res = await fetch(`${sim.url}/fal-ai/kling-video/requests/${request_id}`);
    assert.equal(res.status, 504);
    assert.equal(res.headers.get("x-fal-request-timeout-type"), "user");
    await res.body?.cancel();
  });
});

Deno.test("knob submit faults: a 429 and a 503 burst refuse submits; an accepted 504 still creates the request", async () => {
  await withSimulator({}, async ({ control, sim }) => {
    await control.defaults({ durationMs: 5 });
    await control.failNextSubmits([{ status: 429 }, { status: 503 }, {
      status: 504,
      accepted: true,
    }]);
    const first = await submitRaw(sim.url, VIDEO, { prompt: "1" });
    const second = await submitRaw(sim.url, VIDEO, { prompt: "2" });
    const third = await submitRaw(sim.url, VIDEO, { prompt: "3" });
    const fourth = await submitRaw(sim.url, VIDEO, { prompt: "4" });
    assert.deepEqual([first.status, second.status, third.status, fourth.status], [
      429,
      503,
      504,
      200,
    ]);
    assert.match(second.body, /nginx/); // an ingress error page, as fal's load balancer answers
    const submits = await control.submits();
    assert.deepEqual(submits.map((s) => s.requestId !== null), [false, false, true, true]);
    const requests = await control.requests();
    assert.deepEqual(requests.map((r) => (r.input as { prompt: string }).prompt).sort(), [
      "3",
      "4",
    ]);
    // The request behind the lost 504 answer runs and completes like any other.
    const lost = submits[2]!.requestId!;
    assert.equal((await control.waitFor(lost, { until: "completed" })).outcome?.ok, true);
  });
});

Deno.test("knob submit faults: Retry-After is sent as set (429 defaults to 1 s)", async () => {
  await withSimulator({}, async ({ control, sim }) => {
    const date = new Date(Date.now() + 30_000).toUTCString();
    await control.failNextSubmits([
      { status: 429 },
      { status: 429, retryAfter: "9" },
      { status: 503, retryAfter: date },
    ]);
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${sim.url}/${VIDEO}`, { method: "POST", body: "{}" });
      await res.body?.cancel();
      answers.push([res.status, res.headers.get("retry-after")]);
    }
    assert.deepEqual(answers, [[429, "1"], [429, "9"], [503, date]]);
  });
});

Deno.test("knob submit faults: a held answer waits for releaseSubmits while its request runs", async () => {
  await withSimulator({}, async ({ control, sim }) => {
    await control.defaults({ durationMs: 5 });
    await control.failNextSubmits([{ status: 200, hold: true }, { status: 503, hold: true }]);
    const first = fetch(`${sim.url}/${VIDEO}`, { method: "POST", body: '{"prompt":"a"}' });
    const second = fetch(`${sim.url}/${VIDEO}`, { method: "POST", body: '{"prompt":"b"}' });
    const held = await control.waitForSubmits(2);
    assert.deepEqual(held.map((s) => s.held), [true, true]);
    assert.deepEqual(held.map((s) => s.answered), [0, 0], "nothing answered yet");
    // The accepted one exists and runs while its answer is held.
    const rid = held[0]!.requestId!;
    assert.equal((await control.waitFor(rid, { until: "completed" })).outcome?.ok, true);
    assert.equal(await control.releaseSubmits(), 2);
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.status, 200);
    assert.equal((await a.json()).request_id, rid);
    assert.equal(b.status, 503);
    await b.body?.cancel();
    assert.deepEqual((await control.submits()).map((s) => [s.answered, s.held]), [
      [200, false],
      [503, false],
    ]);
  });
});

Deno.test("knob webhooks.userId: webhooks are signed as another fal user", async () => {
  await withSimulator({}, async ({ fal, control, sim }) => {
    await control.defaults({ durationMs: 5 });
    await control.webhookFaults({ userId: "another-account" });
    const hook = startWebhookReceiver();
    const verifier = createWebhookVerifier({ jwksUrl: sim.jwksUrl });
    try {
      await fal.queue.submit(VIDEO, { input: { prompt: "x" }, webhookUrl: hook.url });
      const [w] = await hook.waitFor(1);
      assert.equal(w!.headers.get("x-fal-webhook-user-id"), "another-account");
      const verdict = await verifier.verify(w!.headers, w!.raw);
      assert.equal(verdict.ok && verdict.userId, "another-account", "still a valid signature");
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("knob webhooks.dropRate: a dropped webhook is never sent", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.defaults({ durationMs: 5 });
    await control.webhookFaults({ dropRate: 1 });
    const hook = startWebhookReceiver();
    try {
      const { request_id } = await fal.queue.submit(VIDEO, {
        input: { prompt: "x" },
        webhookUrl: hook.url,
      });
      const rec = await control.waitFor(request_id, { until: "webhook_settled" });
      assert.equal(rec.webhook.state, "dropped");
      assert.equal(rec.webhook.deliveries.length, 0);
      // A webhook that is sent after the dropped one arrives alone.
      await control.webhookFaults({ dropRate: 0 });
      const next = await fal.queue.submit(VIDEO, { input: { prompt: "y" }, webhookUrl: hook.url });
      const [only] = await hook.waitFor(1);
      assert.equal(only?.body.request_id, next.request_id);
      await control.waitFor(next.request_id, { until: "webhook_settled" });
      assert.equal(hook.received.length, 1);
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("knob webhooks.delayMs: the first delivery waits the delay after completion", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.defaults({ durationMs: 5 });
    await control.webhookFaults({ delayMs: 300 });
    const hook = startWebhookReceiver();
    try {
      const { request_id } = await fal.queue.submit(VIDEO, {
        input: { prompt: "x" },
        webhookUrl: hook.url,
      });
      const held = await control.waitFor(request_id, { until: "webhook_held" });
      assert.equal(held.status, "COMPLETED");
      const [webhook] = await hook.waitFor(1);
      assert.ok(webhook!.at - held.completedAt! >= 300, `${webhook!.at - held.completedAt!} ms`);
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("knob webhooks.duplicates: the same body is delivered twice, each copy signed", async () => {
  await withSimulator({}, async ({ fal, control, sim }) => {
    await control.defaults({ durationMs: 5 });
    await control.webhookFaults({ duplicates: 1 });
    const hook = startWebhookReceiver();
    const verifier = createWebhookVerifier({ jwksUrl: sim.jwksUrl });
    try {
      await fal.queue.submit(VIDEO, { input: { prompt: "x" }, webhookUrl: hook.url });
      const [a, b] = await hook.waitFor(2);
      assert.deepEqual(a!.raw, b!.raw);
      assert.equal((await verifier.verify(a!.headers, a!.raw)).ok, true);
      assert.equal((await verifier.verify(b!.headers, b!.raw)).ok, true);
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("knob webhooks.reorderWindow: two webhooks arrive in the opposite order of completion", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.webhookFaults({ reorderWindow: 2 });
    await control.endpoint(VIDEO, { durationMs: 10 });
    await control.endpoint(OTHER, { durationMs: 150 });
    const hook = startWebhookReceiver();
    try {
      const first = await fal.queue.submit(VIDEO, { input: { prompt: "a" }, webhookUrl: hook.url });
      const second = await fal.queue.submit(OTHER, {
        input: { prompt: "b" },
        webhookUrl: hook.url,
      });
      const a = await control.waitFor(first.request_id, { until: "completed" });
      const b = await control.waitFor(second.request_id, { until: "completed" });
      assert.ok(a.completedAt! <= b.completedAt!);
      const got = await hook.waitFor(2);
      assert.deepEqual(got.map((w) => w.body.request_id), [second.request_id, first.request_id]);
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("flushWebhooks releases a webhook held by the reorder window", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.webhookFaults({ reorderWindow: 5 });
    await control.defaults({ durationMs: 5 });
    const hook = startWebhookReceiver();
    try {
      const { request_id } = await fal.queue.submit(VIDEO, {
        input: { prompt: "a" },
        webhookUrl: hook.url,
      });
      await control.waitFor(request_id, { until: "webhook_held" });
      assert.equal(hook.received.length, 0);
      await control.flushWebhooks();
      const [w] = await hook.waitFor(1);
      assert.equal(w?.body.request_id, request_id);
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("knob webhooks.wrongKey: the signature does not verify against the JWKS", async () => {
  await withSimulator({}, async ({ fal, control, sim }) => {
    await control.defaults({ durationMs: 5 });
    const hook = startWebhookReceiver();
    const verifier = createWebhookVerifier({ jwksUrl: sim.jwksUrl });
    try {
      await fal.queue.submit(VIDEO, { input: { prompt: "good" }, webhookUrl: hook.url });
      const [good] = await hook.waitFor(1);
      await control.webhookFaults({ wrongKey: true });
      const bad = await fal.queue.submit(VIDEO, { input: { prompt: "bad" }, webhookUrl: hook.url });
      const [, forged] = await hook.waitFor(2);
      assert.equal(forged?.body.request_id, bad.request_id);
      assert.equal((await verifier.verify(good!.headers, good!.raw)).ok, true);
      assert.deepEqual(await verifier.verify(forged!.headers, forged!.raw), {
        ok: false,
        reason: "no_key_verifies",
      });
      const rec = await control.waitFor(bad.request_id, { until: "webhook_settled" });
      assert.equal(rec.webhook.deliveries[0]?.signedWithWrongKey, true);
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("knob webhooks.payloadError: payload is null and payload_error explains why", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.defaults({ durationMs: 5 });
    await control.webhookFaults({ payloadError: true });
    const hook = startWebhookReceiver();
    try {
      const { request_id } = await fal.queue.submit(VIDEO, {
        input: { prompt: "x" },
        webhookUrl: hook.url,
      });
      const [w] = await hook.waitFor(1);
      assert.equal(w?.body.status, "OK");
      assert.equal(w?.body.payload, null);
      assert.equal(typeof w?.body.payload_error, "string");
      // The result endpoint still has the payload.
      const result = await fal.queue.result(VIDEO, { requestId: request_id });
      assert.ok((result.data as { video?: unknown }).video);
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("webhook retries: non-2xx answers are retried on fal's backoff (scaled by timeScale)", async () => {
  await withSimulator({ timeScale: 1000 }, async ({ fal, control }) => {
    await control.defaults({ durationMs: 5 });
    const hook = startWebhookReceiver((n) => (n < 2 ? 500 : 200));
    try {
      const { request_id } = await fal.queue.submit(VIDEO, {
        input: { prompt: "x" },
        webhookUrl: hook.url,
      });
      const got = await hook.waitFor(3);
      // fal waits 15 s then 30 s: 15 ms and 30 ms at timeScale 1000.
      assert.ok(got[1]!.at - got[0]!.at >= 15);
      assert.ok(got[2]!.at - got[1]!.at >= 30);
      const rec = await control.waitFor(request_id, { until: "webhook_settled" });
      assert.equal(rec.webhook.state, "delivered");
      assert.deepEqual(rec.webhook.deliveries.map((d) => d.status), [500, 500, 200]);
      assert.deepEqual(got[0]!.raw, got[2]!.raw);
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("webhook retries: a receiver slower than the 15 s delivery timeout is retried; 10 retries then give up", async () => {
  // timeScale 5000: the 15 s timeout is 3 ms and fal's two hours of retries take 1.5 s.
  await withSimulator({ timeScale: 5000 }, async ({ fal, control }) => {
    await control.defaults({ durationMs: 5 });
    const hook = startWebhookReceiver(() => new Promise((r) => setTimeout(() => r(200), 100)));
    try {
      const { request_id } = await fal.queue.submit(VIDEO, {
        input: { prompt: "x" },
        webhookUrl: hook.url,
      });
      const rec = await control.waitFor(request_id, { until: "webhook_settled" });
      assert.equal(rec.webhook.state, "failed");
      assert.equal(rec.webhook.deliveries.length, 11);
      assert.ok(rec.webhook.deliveries.every((d) => d.status === null && /Timeout/.test(d.error!)));
      const at = rec.webhook.deliveries.map((d) => d.at);
      assert.ok(at.at(-1)! - at[0]! >= 7_305_000 / 5000, "retries follow fal's ~2 h schedule");
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("knob missingMedia: the result's media URLs answer 404", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.endpoint(VIDEO, { durationMs: 5, missingMedia: true });
    const result = await fal.subscribe(VIDEO, { input: { prompt: "x" }, pollInterval: 10 });
    const url = (result.data as { video: { url: string } }).video.url;
    const res = await fetch(url);
    assert.equal(res.status, 404);
    await res.body?.cancel();
    await control.endpoint(VIDEO, { missingMedia: false });
    const ok = await fal.subscribe(VIDEO, { input: { prompt: "x" }, pollInterval: 10 });
    const good = await fetch((ok.data as { video: { url: string } }).video.url);
    assert.equal(good.status, 200);
    await good.body?.cancel();
  });
});

Deno.test("knob servedMedia: the media URL serves an HTML page or the file under another type and extension", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.endpoint(VIDEO, {
      durationMs: 5,
      servedMedia: { body: "html", contentType: "video/mp4", extension: "mp4" },
    });
    const html = await fal.subscribe(VIDEO, { input: { prompt: "x" }, pollInterval: 10 });
    const video = (html.data as { video: { url: string; content_type: string } }).video;
    assert.match(new URL(video.url).pathname, /\.mp4$/);
    assert.equal(video.content_type, "video/mp4");
    const page = await fetch(video.url);
    assert.equal(page.headers.get("content-type"), "video/mp4");
    assert.match(await page.text(), /^<!doctype html>/);

    await control.endpoint(VIDEO, {
      servedMedia: { body: "file", contentType: "text/html", extension: "html" },
    });
    const real = await fal.subscribe(VIDEO, { input: { prompt: "x" }, pollInterval: 10 });
    const url = (real.data as { video: { url: string } }).video.url;
    assert.match(new URL(url).pathname, /\.html$/);
    const file = await fetch(url);
    assert.equal(file.headers.get("content-type"), "text/html");
    const head = new Uint8Array(await file.arrayBuffer()).subarray(4, 8);
    assert.equal(new TextDecoder().decode(head), "ftyp", "the real MP4 bytes");

    await control.endpoint(VIDEO, { servedMedia: null });
    const plain = await fal.subscribe(VIDEO, { input: { prompt: "x" }, pollInterval: 10 });
    assert.match((plain.data as { video: { url: string } }).video.url, /\/media\/files\//);
  });
});

Deno.test("knob completeDespiteCancel: a running request acknowledges the cancel but completes OK", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.endpoint(VIDEO, { durationMs: 200, completeDespiteCancel: true });
    const hook = startWebhookReceiver();
    try {
      const { request_id } = await fal.queue.submit(VIDEO, {
        input: { prompt: "x" },
        webhookUrl: hook.url,
      });
      await control.waitFor(request_id, { until: "started" });
      await fal.queue.cancel(VIDEO, { requestId: request_id });
      const rec = await control.waitFor(request_id, { until: "completed" });
      assert.equal(rec.cancelRequested, true);
      assert.equal(rec.outcome?.ok, true);
      const [w] = await hook.waitFor(1);
      assert.equal(w?.body.status, "OK");
    } finally {
      await hook.stop();
    }
  });
});

Deno.test("waitFor cancel_requested resolves once a request was asked to cancel", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.endpoint(VIDEO, { durationMs: 60_000 });
    const { request_id } = await fal.queue.submit(VIDEO, { input: { prompt: "x" } });
    await control.waitFor(request_id, { until: "started" });
    const waiting = control.waitFor(request_id, { until: "cancel_requested" });
    await fal.queue.cancel(VIDEO, { requestId: request_id });
    assert.equal((await waiting).cancelRequested, true);
  });
});

Deno.test("knob kind: an endpoint id can be made to produce another kind of output", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.endpoint("acme/custom-model", { durationMs: 5, kind: "image" });
    const result = await fal.subscribe("acme/custom-model", {
      input: { prompt: "x" },
      pollInterval: 10,
    });
    assert.ok(Array.isArray((result.data as { images?: unknown[] }).images));
  });
});

Deno.test("rotateKey replaces the published key; reset forgets requests, faults and settings", async () => {
  await withSimulator({}, async ({ sim, control }) => {
    const before = await (await fetch(sim.jwksUrl)).json();
    const rotated = await control.rotateKey();
    assert.equal(rotated.keys.length, 1);
    assert.notEqual(rotated.keys[0]!.x, before.keys[0].x);
    const kept = await control.rotateKey({ keepOld: true });
    assert.equal(kept.keys.length, 2);
    assert.deepEqual((await (await fetch(sim.jwksUrl)).json()).keys, kept.keys);

    await control.defaults({ durationMs: 60_000 });
    assert.equal((await submitRaw(sim.url, VIDEO, { prompt: "before reset" })).status, 200);
    await control.failNextSubmits([{ status: 429 }]);
    await control.reset();
    assert.deepEqual(await control.requests(), []);
    assert.deepEqual(await control.submits(), []);
    assert.deepEqual((await control.settings()).defaults, {});
    assert.equal((await submitRaw(sim.url, VIDEO, { prompt: "after reset" })).status, 200);
  });
});
