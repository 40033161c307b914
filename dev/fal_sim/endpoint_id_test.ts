/**
 * Endpoint ids: app roots as @fal-ai/client builds status URLs, kinds guessed from ids, and the
 * FAL_SIM_* environment knobs the dev stack passes in.
 */
import assert from "node:assert/strict";
import { applyPatch, defaultSettings, resolveEndpoint, settingsFromEnv } from "./config.ts";
import { appRoot, guessKind } from "./endpoint_id.ts";

Deno.test("app roots drop the sub-path but keep the workflows/comfy namespace", () => {
  assert.equal(appRoot("fal-ai/flux/dev"), "fal-ai/flux");
  assert.equal(appRoot("fal-ai/kling-video/v2.1/standard/image-to-video"), "fal-ai/kling-video");
  assert.equal(appRoot("fal-ai/veo3"), "fal-ai/veo3");
  assert.equal(appRoot("workflows/acme/my-flow/run"), "workflows/acme/my-flow");
  assert.equal(appRoot("lonely"), undefined);
});

Deno.test("kinds are guessed from ids: compose, image, audio, otherwise video", () => {
  const cases: [string, string][] = [
    ["fal-ai/ffmpeg-api/compose", "compose"],
    ["fal-ai/flux/dev", "image"],
    ["fal-ai/flux-pro/v1.1-ultra", "image"],
    ["fal-ai/imagen4/preview", "image"],
    ["fal-ai/bytedance/seedream/v4/text-to-image", "image"],
    ["fal-ai/kokoro/american-english", "audio"],
    ["fal-ai/elevenlabs/tts/multilingual-v2", "audio"],
    ["fal-ai/minimax/speech-02-hd", "audio"],
    ["fal-ai/playai/tts/v3", "audio"],
    ["fal-ai/kling-video/v2.1/standard/image-to-video", "video"],
    ["fal-ai/minimax/video-01", "video"],
    ["fal-ai/veo3", "video"],
  ];
  for (const [id, kind] of cases) assert.equal(guessKind(id), kind, id);
});

Deno.test("FAL_SIM_* variables become initial settings; bad values are refused", () => {
  const env = new Map(Object.entries({
    FAL_SIM_CONCURRENCY: "3",
    FAL_SIM_TIME_SCALE: "10",
    FAL_SIM_DURATION_MS: "250",
    FAL_SIM_ERROR_RATE: "0.5",
    FAL_SIM_WEBHOOK_DROP_RATE: "0.1",
    FAL_SIM_WEBHOOK_DELAY_MS: "20",
    FAL_SIM_WEBHOOK_DUPLICATES: "1",
  }));
  const s = applyPatch(defaultSettings(), settingsFromEnv(env));
  assert.equal(s.concurrency, 3);
  assert.equal(s.timeScale, 10);
  assert.deepEqual(resolveEndpoint(s, "fal-ai/veo3", "video"), {
    kind: "video",
    durationMs: 250,
    errorRate: 0.5,
    failureType: "runner_server_error",
    missingMedia: false,
    servedMedia: null,
    completeDespiteCancel: false,
  });
  assert.deepEqual(s.webhooks, { ...s.webhooks, dropRate: 0.1, delayMs: 20, duplicates: 1 });
  assert.throws(() => settingsFromEnv(new Map([["FAL_SIM_ERROR_RATE", "lots"]])), RangeError);
  assert.throws(() => applyPatch(s, { defaults: { errorRate: 2 } }), RangeError);
  assert.throws(() => applyPatch(s, { concurrency: 0 }), RangeError);
});
