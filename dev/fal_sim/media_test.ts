/**
 * The simulator's media are real: playable H.264/AAC MP4s, PNGs and WAVs made with ffmpeg, served
 * with byte ranges, and `fal-ai/ffmpeg-api/compose` really renders its tracks, so a story's length
 * is the sum of its scenes.
 */
import assert from "node:assert/strict";
import { ffprobe } from "./ffmpeg.ts";
import { withSimulator } from "./testing.ts";

const COMPOSE = "fal-ai/ffmpeg-api/compose";

async function probeUrl(url: string) {
  const dir = await Deno.makeTempDir({ prefix: "fal-sim-probe-" });
  try {
    const res = await fetch(url);
    assert.equal(res.status, 200, url);
    const path = `${dir}/file`;
    await Deno.writeFile(path, new Uint8Array(await res.arrayBuffer()));
    return await ffprobe(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("video, image and speech outputs are playable media of the promised kind and length", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.defaults({ durationMs: 10 });
    const video = await fal.subscribe("acme/any-video-model", {
      input: { prompt: "a train", duration: 4 },
      pollInterval: 10,
    });
    const v = await probeUrl((video.data as { video: { url: string } }).video.url);
    assert.ok(Math.abs(v.durationSeconds - 4) < 0.2, `video lasts ${v.durationSeconds}`);
    const vs = v.streams.find((s) => s.codec_type === "video");
    assert.equal(vs?.codec_name, "h264");
    assert.equal(vs?.width, 640);
    assert.ok(v.streams.some((s) => s.codec_type === "audio" && s.codec_name === "aac"));

    const image = await fal.subscribe("fal-ai/imagen4/preview", {
      input: { prompt: "a cat" },
      pollInterval: 10,
    });
    const i = await probeUrl((image.data as { images: { url: string }[] }).images[0]!.url);
    assert.equal(i.streams[0]?.codec_name, "png");
    assert.equal(i.streams[0]?.width, 1024);

    const speech = await fal.subscribe("fal-ai/elevenlabs/tts/multilingual-v2", {
      input: { text: "one two three four five" },
      pollInterval: 10,
    });
    const a = await probeUrl((speech.data as { audio: { url: string } }).audio.url);
    assert.equal(a.streams[0]?.codec_name, "pcm_s16le");
    assert.ok(Math.abs(a.durationSeconds - 2) < 0.05, `speech lasts ${a.durationSeconds}`);
  });
});

Deno.test("media are served with byte ranges (206) and HEAD", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.defaults({ durationMs: 5 });
    const out = await fal.subscribe("fal-ai/veo3", { input: { prompt: "x" }, pollInterval: 10 });
    const { url, file_size } = (out.data as { video: { url: string; file_size: number } }).video;
    const part = await fetch(url, { headers: { range: "bytes=10-19" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 10-19/${file_size}`);
    assert.equal((await part.arrayBuffer()).byteLength, 10);
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), String(file_size));
    await head.body?.cancel();
  });
});

Deno.test("compose concatenates image scenes with their narration: the duration is the sum of the scenes", async () => {
  await withSimulator({}, async ({ fal, control }) => {
    await control.defaults({ durationMs: 5 });
    const image = await fal.subscribe("fal-ai/flux/schnell", {
      input: { prompt: "scene" },
      pollInterval: 10,
    });
    const imageUrl = (image.data as { images: { url: string }[] }).images[0]!.url;
    const speech = await fal.subscribe("fal-ai/kokoro/american-english", {
      input: { prompt: "hello there" },
      pollInterval: 10,
    });
    const audioUrl = (speech.data as { audio: { url: string } }).audio.url;
    const clip = await fal.subscribe("fal-ai/kling-video/v2.1/standard/text-to-video", {
      input: { prompt: "clip", duration: "2" },
      pollInterval: 10,
    });
    const clipUrl = (clip.data as { video: { url: string } }).video.url;

    // Scenes of 1.2 s, 0.8 s and a 1.5 s cut of a 2 s video clip, back to back: 3.5 s.
    const scenes = [1200, 800, 1500];
    let t = 0;
    const visual = scenes.map((duration, i) => {
      const kf = { url: i === 2 ? clipUrl : imageUrl, timestamp: t, duration };
      t += duration;
      return kf;
    });
    t = 0;
    const narration = scenes.map((duration) => {
      const kf = { url: audioUrl, timestamp: t, duration };
      t += duration;
      return kf;
    });
    const composed = await fal.subscribe(COMPOSE, {
      input: {
        tracks: [
          { id: "visual", type: "video", keyframes: visual },
          { id: "voice", type: "audio", keyframes: narration },
        ],
      },
      pollInterval: 10,
    });
    const data = composed.data as { video_url: string; thumbnail_url: string };
    const probe = await probeUrl(data.video_url);
    assert.ok(Math.abs(probe.durationSeconds - 3.5) < 0.1, `composed ${probe.durationSeconds}s`);
    assert.equal(probe.streams.find((s) => s.codec_type === "video")?.codec_name, "h264");
    assert.ok(probe.streams.some((s) => s.codec_type === "audio"));
    const thumb = await probeUrl(data.thumbnail_url);
    assert.equal(thumb.streams[0]?.codec_name, "png");
  });
});

Deno.test("compose with a keyframe URL that cannot be downloaded fails with a 422 file_download_error", async () => {
  await withSimulator({}, async ({ fal, control, sim }) => {
    await control.endpoint(COMPOSE, { durationMs: 5 });
    const { request_id } = await fal.queue.submit(COMPOSE, {
      input: {
        tracks: [{
          id: "v",
          type: "image",
          keyframes: [{ url: `${sim.url}/media/missing/x/image.png`, timestamp: 0, duration: 500 }],
        }],
      },
    });
    const rec = await control.waitFor(request_id, { until: "completed" });
    assert.equal(rec.outcome?.ok, false);
    assert.equal(rec.outcome?.ok === false && rec.outcome.httpStatus, 422);
    assert.deepEqual(
      (rec.outcome as { body: { detail: { loc: unknown[]; type: string }[] } }).body.detail.map(
        (d) => [d.loc, d.type],
      ),
      [[["body", "tracks", 0, "keyframes", 0, "url"], "file_download_error"]],
    );
  });
});

Deno.test("media are generated once into dataDir and reused by the next start", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fal-sim-cache-" });
  try {
    await withSimulator({ dataDir }, () => Promise.resolve());
    const first = await Deno.stat(`${dataDir}/media/video_5s.mp4`);
    const keys = await Deno.readTextFile(`${dataDir}/webhook_keys.json`);
    await withSimulator({ dataDir }, async ({ sim }) => {
      const jwks = await (await fetch(sim.jwksUrl)).json();
      assert.equal(jwks.keys[0].x, JSON.parse(keys).keys[0].jwk.x);
    });
    const second = await Deno.stat(`${dataDir}/media/video_5s.mp4`);
    assert.equal(second.mtime?.getTime(), first.mtime?.getTime());
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
