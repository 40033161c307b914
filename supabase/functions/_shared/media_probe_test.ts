import assert from "node:assert/strict";
import { audioInfo, probeStoredAudio } from "./media_probe.ts";
import { memoryStorage } from "./testing/pipeline_fakes.ts";

/** A PCM WAV header (+ an extra chunk before `data`) for `ms` of audio. */
function wav(ms: number, opts: { rate?: number; channels?: number; streamed?: boolean } = {}) {
  const rate = opts.rate ?? 24000;
  const channels = opts.channels ?? 1;
  const byteRate = rate * channels * 2;
  const dataBytes = Math.round((byteRate * ms) / 1000);
  const out = new Uint8Array(12 + 24 + 12 + 8 + dataBytes);
  const view = new DataView(out.buffer);
  const text = (at: number, s: string) => [...s].forEach((c, i) => (out[at + i] = c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, out.length - 8, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, byteRate, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  text(36, "LIST");
  view.setUint32(40, 4, true);
  text(44, "INFO");
  text(48, "data");
  view.setUint32(52, opts.streamed ? 0xffffffff : dataBytes, true);
  return out;
}

Deno.test("a WAV's duration comes from its byte rate and data size", () => {
  assert.deepEqual(audioInfo(wav(4120), wav(4120).length), {
    duration_ms: 4120,
    format: "wav",
  });
  const stereo = wav(2500, { rate: 44100, channels: 2 });
  assert.equal(audioInfo(stereo, stereo.length)?.duration_ms, 2500);
});

Deno.test("a streamed WAV without a data size is measured by the file size", () => {
  const file = wav(3000, { streamed: true });
  assert.equal(audioInfo(file.subarray(0, 64), file.length)?.duration_ms, 3000);
});

Deno.test("an MP3 is timed by its Xing frame count, else estimated from its bitrate", () => {
  // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo; a 10-byte ID3 tag first.
  const frame = [0xff, 0xfb, 0x90, 0x00];
  const cbr = new Uint8Array([
    0x49,
    0x44,
    0x33,
    4,
    0,
    0,
    0,
    0,
    0,
    0,
    ...frame,
    ...new Array(60).fill(0),
  ]);
  const info = audioInfo(cbr, 10 + 16000);
  assert.deepEqual(info, { duration_ms: 1000, format: "mp3", estimated: true });
  const xing = new Uint8Array(4 + 32 + 16);
  xing.set(frame, 0);
  xing.set([0x58, 0x69, 0x6e, 0x67, 0, 0, 0, 1, 0, 0, 0, 100], 36);
  assert.deepEqual(audioInfo(xing, 99999), {
    duration_ms: Math.round((100 * 1152 * 1000) / 44100),
    format: "mp3",
  });
});

Deno.test("other data is not guessed at", () => {
  assert.equal(audioInfo(new TextEncoder().encode("OggS not supported"), 1000), null);
  assert.equal(audioInfo(new Uint8Array(0), 0), null);
});

Deno.test("a stored narration is probed with a ranged read of its first bytes", async () => {
  const file = wav(6000, { rate: 48000 });
  const mem = memoryStorage({ "videos/u/n.wav": file });
  const seen: string[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    seen.push(new Headers(init?.headers).get("range") ?? "");
    return mem.fetch(input, init);
  };
  assert.deepEqual(await probeStoredAudio(mem.storage, "videos", "u/n.wav", fetch), {
    duration_ms: 6000,
    format: "wav",
  });
  assert.deepEqual(seen, ["bytes=0-65535"]);
  assert.equal(await probeStoredAudio(mem.storage, "videos", "u/missing.wav", fetch), null);
});
